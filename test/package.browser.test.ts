// Browser tier of the package test: a Vite page built in the scratch project against the packed, installed
// 'ei-engine' (test/helpers/packed-project.ts, shared with test/package.test.ts), and the page of examples/browser,
// served on 127.0.0.1 and opened in headless Chromium (WebGPU on SwiftShader): models run through createEngine with
// progress and the page exposes what it got.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { createLogger } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { BrowserSession, beforeAllOrFail, capturePageErrors, requireChromium } from './helpers/browser.ts';
import { usePackedProject, type PackedProject } from './helpers/packed-project.ts';

/** The test's own page: written like a user's, against the installed package. */
const pageHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>ei-engine package test</title></head>
<body><p id="status">loading</p><script type="module" src="./main.js"></script></body></html>
`;
const pageJs = `import { createEngine, modelIds, engineVersion, EiError } from 'ei-engine';

const state = (window.__eiPackage = { status: 'running', modelIds, engineVersion, error: null });
try {
  const notices = [];
  const engine = await createEngine({ onNotice: (m) => notices.push(m) });
  const progress = [];
  const request = { n: 200, T: 1, seed: 3, params: { variant: 'B1', burnin: 0.5 } };
  const sim = await engine.simulate('hybrid', { ...request, onProgress: (done, total) => progress.push([done, total]) });
  const out = await sim.outputs();
  const gpuState = Array.from(await sim.readState());
  const rateProgress = [];
  const rate = await engine.simulate('rate', { seed: 1, onProgress: (done, total) => rateProgress.push([done, total]) });
  const rateOut = await rate.outputs();
  // The same request on the CPU reference, in the same page.
  const cpu = await createEngine({ backend: 'cpu' });
  const cpuSim = await cpu.simulate('hybrid', request);
  const cpuOut = await cpuSim.outputs();
  const cpuState = Array.from(await cpuSim.readState());
  let typedError = null;
  try { await engine.simulate('hybrid', { n: -4 }); } catch (e) { typedError = { name: e.name, ei: e instanceof EiError, message: e.message }; }
  Object.assign(state, {
    backend: engine.backend, adapter: engine.adapter, notices, progress, steps: sim.resolved.steps, summary: out.summary,
    files: out.files.map((f) => f.name), rateProgress, rateSteps: rate.resolved.steps, rate: rateOut.summary,
    cpuSummary: cpuOut.summary, statesEqual: gpuState.length > 0 && gpuState.length === cpuState.length && gpuState.every((x, i) => Object.is(x, cpuState[i])),
    stateLength: gpuState.length, typedError,
  });
  engine.dispose();
  cpu.dispose();
  state.status = 'done';
} catch (e) {
  state.error = String(e && e.stack || e);
  state.status = 'error';
}
document.getElementById('status').textContent = state.status;
`;

describe('the packed package in a Vite page (headless Chromium, WebGPU on SwiftShader)', () => {
  const session = new BrowserSession();
  let release: (() => Promise<void>) | null = null;
  const warnings: string[] = [];
  const pageErrors: string[] = [];
  const ready = beforeAllOrFail(async (): Promise<PackedProject> => {
    requireChromium();
    const packed = await usePackedProject();
    release = packed.release;
    const dir = packed.project.dir;
    mkdirSync(join(dir, 'page'), { recursive: true });
    writeFileSync(join(dir, 'page/index.html'), pageHtml);
    writeFileSync(join(dir, 'page/main.js'), pageJs);
    // Vite from the repository, building pages of the scratch project: 'ei-engine' resolves to its node_modules.
    const logger = createLogger('warn');
    const warn = logger.warn.bind(logger);
    logger.warn = (msg, o) => {
      warnings.push(msg);
      warn(msg, o);
    };
    await session.buildAndServe(
      {
        configFile: false,
        root: dir,
        base: './',
        logLevel: 'warn',
        customLogger: logger,
        build: { outDir: join(dir, 'site'), emptyOutDir: true, rollupOptions: { input: { page: join(dir, 'page/index.html'), example: join(dir, 'examples/browser/index.html') } } },
      },
      120_000,
      'vite build of the scratch pages',
    );
    await session.launch('ei-package-profile-');
    return packed.project;
  }, 480_000);

  afterAll(async () => {
    await session.close();
    await release?.();
  }, 30_000);

  async function open(path: string, global: string): Promise<{ page: Page; state: any }> {
    const page = await session.browser!.newPage();
    capturePageErrors(page, pageErrors);
    await page.goto(`${session.baseUrl}${path}`, { waitUntil: 'load', timeout: 30_000 });
    await page.waitForFunction((g: string) => ['done', 'error'].includes((window as any)[g]?.status), { timeout: 120_000, polling: 250 }, global);
    return { page, state: await page.evaluate((g: string) => (window as any)[g], global) };
  }

  it('bundles the browser entry: no Dawn, no node: module', () => {
    const p = ready();
    expect(warnings.filter((w) => /externalized|node:|webgpu/i.test(w))).toEqual([]);
    const assets = join(p.dir, 'site/assets');
    const js = readdirSync(assets).filter((f) => f.endsWith('.js')).map((f) => readFileSync(join(assets, f), 'utf8')).join('\n');
    expect(js).toContain('navigator');
    expect(js).not.toMatch(/dawn\.node|node:fs|requestNodeAdapter|vk_swiftshader_icd/);
  });

  it('runs a hybrid network and a rate circuit through createEngine in the page, with progress', async () => {
    ready();
    const { page, state: s } = await open('/page/index.html', '__eiPackage');
    try {
      expect(s.error).toBeNull();
      expect(s.status).toBe('done');
      expect(s.modelIds).toEqual(expect.arrayContaining(['hybrid', 'rate']));
      // WebGPU through navigator.gpu: Chromium's SwiftShader.
      expect(s.backend).toBe('webgpu');
      expect(s.adapter.runtime).toBe('browser');
      expect(`${s.adapter.vendor} ${s.adapter.architecture} ${s.adapter.description}`).toMatch(/swiftshader/i);
      expect(s.progress.at(-1)).toEqual([s.steps, s.steps]);
      expect(s.summary.blowup).toBeNull();
      for (const k of ['mE', 'mI', 'vE', 'vI', 'X']) {
        expect(Number.isFinite(s.summary.sim[k]), k).toBe(true);
        expect(Math.abs(s.summary.sim[k] - s.summary.limit[k]), k).toBeLessThan(1);
      }
      expect(s.files).toContain('timeseries.csv');
      // The CPU reference in the same page consumes the same random bits: the same network, bit for bit.
      expect(s.stateLength).toBeGreaterThanOrEqual(400);
      expect(s.statesEqual).toBe(true);
      for (const k of ['mE', 'mI', 'vE', 'vI']) expect(s.cpuSummary.sim[k], k).toBeCloseTo(s.summary.sim[k], 4);
      expect(s.rateProgress.at(-1)).toEqual([s.rateSteps, s.rateSteps]);
      expect(s.rate.circuit).toBe('wilson-cowan');
      expect(s.rate.equilibrium[0]).toBeCloseTo(1.2, 6);
      expect(s.typedError).toMatchObject({ ei: true });
      expect(s.typedError.message).toMatch(/\bn\b/);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);

  it('runs the page of examples/browser', async () => {
    ready();
    const { page, state: s } = await open('/examples/browser/index.html?n=200&T=1', '__eiExample');
    try {
      expect(s.error).toBeNull();
      expect(s.status).toBe('done');
      expect(s.backend).toBe('webgpu');
      expect(s.progress[0]).toBe(s.progress[1]);
      expect(s.progress[1]).toBeGreaterThan(0);
      expect(Number.isFinite(s.summary.sim.mE)).toBe(true);
      expect(await page.$$eval('#table tbody tr', (rows) => rows.length)).toBe(7);
      expect(await page.$eval('#status', (e) => e.textContent ?? '')).toMatch(/^hybrid: /);
      expect(pageErrors).toEqual([]);
    } finally {
      await page.close();
    }
  }, 180_000);
});
