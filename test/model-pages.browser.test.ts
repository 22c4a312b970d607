// Browser tier: the live model pages (demo/poisson.html ... demo/rate.html). Builds the demo, serves it on 127.0.0.1
// and drives headless Chromium (WebGPU on SwiftShader): every page runs a few hundred steps with its plots redrawn
// while the run goes, and what it keeps of the run (spike counts, active counts, binary states; rate: final states)
// equals a CPU runner in Node given the same request; a bad value is refused at its field; pause and resume give the
// same result; the raster's frames per second at 1e5 points are measured; a screenshot of each page is saved.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, describe, expect, it } from 'vitest';
import { modelList } from '../src/models/index.ts';
import { runChecks } from '../demo/live/checks.ts';
import type { LivePageState } from '../demo/live/live-page.ts';
import { BrowserSession, beforeAllOrFail, chromiumArgs, requireChromium, testOutputDir as outputDir } from './helpers/browser.ts';

/** Each page with a request of a few hundred steps in slices of at most 50 (binary: its own 25), so plots update mid-run. */
const cases = [
  { id: 'poisson', query: 'n=2000&T=0.04&slice=50', raster: true },
  { id: 'hybrid', query: 'n=300&T=0.8&slice=50', raster: false },
  { id: 'binary', query: 'n=300&steps=600&burnin=100', raster: true },
  { id: 'minimax', query: 'T=0.04&slice=50', raster: true },
  // The decoder and the memory tasks of the same page, each with its own measure in the note.
  { id: 'minimax', name: 'minimax-readout', query: 'network=readout&T=0.3&slice=50', raster: true, text: /Readout H r_E reconstructs input vector 0: relative error \d/ },
  { id: 'minimax', name: 'minimax-memory', query: 'network=memory&pattern=1&T=0.3&slice=50', raster: true, text: /Pattern 1 \(support [\d ]+; cue [\d ]+\)/ },
  { id: 'rate', query: 'T=4&slice=50', raster: false },
] as { id: string; name?: string; query: string; raster: boolean; text?: RegExp }[];
const runTimeoutMs = 60_000;

const readState = (p: Page) => p.evaluate(() => window.__eiLive!) as Promise<LivePageState>;

async function openPage(session: BrowserSession, pageErrors: string[], path: string): Promise<Page> {
  const page = await session.newPage(pageErrors);
  await page.goto(`${session.baseUrl}/${path}`, { waitUntil: 'load', timeout: 30_000 });
  await page.waitForFunction(() => ['ready', 'error'].includes(window.__eiLive?.status ?? ''), { timeout: 60_000, polling: 100 });
  return page;
}

async function waitDone(p: Page): Promise<LivePageState> {
  await p.waitForFunction(() => ['done', 'error'].includes(window.__eiLive?.status ?? ''), { timeout: runTimeoutMs, polling: 100 });
  return readState(p);
}

/** What a CPU runner in Node keeps of the same request, collected as the page collects it. */
async function cpuCheck(id: string, request: NonNullable<LivePageState['request']>): Promise<number[]> {
  const def = modelList.find((m) => m.id === id)!;
  const r = def.resolve(request);
  const runner = await def.createRunner(r, { backend: 'cpu' });
  try {
    const check = runChecks[id]();
    await runner.run(r.steps, { onChunk: (c) => check.onChunk(c) });
    await check.finish(runner);
    return check.values;
  } finally {
    runner.dispose();
  }
}

function expectSameResult(page: LivePageState, cpu: number[]): void {
  expect(page.check, page.message).not.toBeNull();
  const values = page.check!.values;
  expect(values.length).toBe(cpu.length);
  expect(values.length).toBeGreaterThan(0);
  // Integers are equal on every backend; rate's floats are equal on wasm (bit-identical) and close on WebGPU.
  if (page.check!.exact || page.backend !== 'webgpu') expect(values).toEqual(cpu);
  else values.forEach((v, i) => expect(Math.abs(v - cpu[i])).toBeLessThanOrEqual(1e-4 * Math.max(1, Math.abs(cpu[i]))));
}

describe('live model pages (headless Chromium, WebGPU on SwiftShader)', () => {
  const session = new BrowserSession();
  const pageErrors: string[] = [];
  const ready = beforeAllOrFail(async () => {
    requireChromium();
    mkdirSync(outputDir, { recursive: true });
    await session.buildAndServeDemo('ei-live-build-');
    // ANGLE on SwiftShader too: without it headless Chromium cannot present a WebGPU canvas, and every GPU wait after a
    // frame fails with "A valid external Instance reference no longer exists".
    await session.launch('ei-live-profile-', [...chromiumArgs, '--use-angle=swiftshader']);
    return session;
  }, 120_000);

  afterAll(() => session.close(), 30_000);

  for (const c of cases) {
    it(`${c.name ?? c.id}: runs with plots updating during the run, and equals the CPU runner`, async () => {
      ready();
      const p = await openPage(session, pageErrors, `${c.id}.html?${c.query}`);
      try {
        let s = await readState(p);
        expect(s.status, s.message).toBe('ready');
        // The warm-up measured this backend and said what size it chose.
        expect(s.warmup?.text).toMatch(/steps of \d+ neurons in \d+ ms on (wasm|webgpu|cpu)/);
        expect(await p.$eval('[data-role=backend]', (e) => e.textContent ?? '')).toMatch(/^Simulation: (WebGPU|wasm|the CPU reference)/);
        if (s.backend !== 'webgpu') expect(s.backendReason).toBeTruthy();
        if (c.raster) expect(s.raster?.kind).toBe('webgpu');
        await p.click('button[data-action=start]');
        s = await waitDone(p);
        expect(s.status, `${s.message} ${s.error ?? ''} ${JSON.stringify(s.fieldErrors)}`).toBe('done');
        // Redrawn after slices that ended before the last step: the plots moved while it ran.
        expect(s.updates.filter((u) => u.step < u.total).length).toBeGreaterThanOrEqual(3);
        expect(s.stepsDone).toBe(s.stepsTotal);
        expectSameResult(s, await cpuCheck(c.id, s.request!));
        if (c.text) expect(await p.evaluate(() => document.body.innerText)).toMatch(c.text);
        await p.screenshot({ path: join(outputDir, `model-page-${c.name ?? c.id}.png`), fullPage: true });
      } finally {
        await p.close();
      }
      expect(pageErrors).toEqual([]);
    }, 120_000);
  }

  it('minimax: choosing the memory task sets the length it needs and says so', async () => {
    ready();
    const p = await openPage(session, pageErrors, 'minimax.html');
    try {
      await p.select('#live-network', 'memory');
      expect(await p.$eval('#live-T', (e) => (e as HTMLInputElement).value)).toBe('6');
      const s = await readState(p);
      expect(s.notices.at(-1)).toMatch(/^T = 6 s for the memory task/);
      expect(s.fieldErrors).toEqual({});
    } finally {
      await p.close();
    }
  }, 60_000);

  it('poisson on WebGPU (SwiftShader): the same spike counts as the CPU runner', async () => {
    ready();
    const p = await openPage(session, pageErrors, 'poisson.html?n=2000&T=0.03&slice=50&backend=webgpu');
    try {
      await p.click('button[data-action=start]');
      const s = await waitDone(p);
      expect(s.status, `${s.message} ${s.error ?? ''}`).toBe('done');
      expect(s.backend).toBe('webgpu');
      expect(s.adapter).toMatch(/swiftshader/i);
      expectSameResult(s, await cpuCheck('poisson', s.request!));
    } finally {
      await p.close();
    }
  }, 120_000);

  it('hybrid: pause holds the run, resume finishes it with the same result', async () => {
    ready();
    const p = await openPage(session, pageErrors, 'hybrid.html?n=300&T=2&slice=25');
    try {
      await p.click('button[data-action=start]');
      await p.waitForFunction(() => (window.__eiLive?.stepsDone ?? 0) > 0, { timeout: runTimeoutMs, polling: 20 });
      await p.click('button[data-action=pause]');
      await p.waitForFunction(() => window.__eiLive?.status === 'paused', { timeout: 10_000, polling: 20 });
      const held = (await readState(p)).stepsDone;
      await new Promise((ok) => setTimeout(ok, 600));
      const still = await readState(p);
      expect(still.status).toBe('paused');
      expect(still.stepsDone).toBe(held);
      expect(held).toBeLessThan(still.stepsTotal);
      await p.click('button[data-action=start]');
      const s = await waitDone(p);
      expect(s.status).toBe('done');
      expectSameResult(s, await cpuCheck('hybrid', s.request!));
    } finally {
      await p.close();
    }
  }, 120_000);

  it("binary: a bad value is refused with the model's ParameterError at its field", async () => {
    ready();
    const p = await openPage(session, pageErrors, 'binary.html?n=300&steps=600&burnin=100');
    try {
      await p.$eval('[data-field=k]', (e) => {
        (e as HTMLInputElement).value = '400';
        e.dispatchEvent(new Event('change'));
      });
      const s = await readState(p);
      expect(s.fieldErrors.k).toMatch(/invalid binary\.k: k = 400 must be below N = 300/);
      expect(await p.$eval('[data-field-error=k]', (e) => (e as HTMLElement).hidden)).toBe(false);
      expect(s.status).toBe('error');
    } finally {
      await p.close();
    }
  }, 60_000);

  it('raster: frames per second at 1e5 points (WebGPU on SwiftShader), and the 2D fallback announced', async () => {
    ready();
    const p = await openPage(session, pageErrors, 'poisson.html?n=1000&T=0.01');
    let gpu: { fps: number; points: number; kind: string; adapter: string };
    try {
      gpu = await p.evaluate(() => window.__eiRasterFps!(1e5, 5));
    } finally {
      await p.close();
    }
    expect(gpu.kind).toBe('webgpu');
    expect(gpu.points).toBe(1e5);
    expect(gpu.fps).toBeGreaterThan(0);
    const q = await openPage(session, pageErrors, 'poisson.html?n=1000&T=0.01&raster=2d');
    let flat: { fps: number; points: number; kind: string };
    try {
      expect(await q.$eval('[data-role=raster-backend]', (e) => e.textContent ?? '')).toMatch(/2D canvas fallback, because/);
      flat = await q.evaluate(() => window.__eiRasterFps!(1e5, 5));
    } finally {
      await q.close();
    }
    expect(flat.kind).toBe('2d');
    const line = { points: 1e5, webgpu: { fps: gpu.fps, adapter: gpu.adapter }, canvas2d: { fps: flat.fps } };
    console.log(`raster at 1e5 points: WebGPU ${gpu.fps.toFixed(2)} fps on ${gpu.adapter}, 2D canvas ${flat.fps.toFixed(2)} fps`);
    writeFileSync(join(outputDir, 'raster-fps.json'), JSON.stringify(line, null, 2) + '\n');
    expect(pageErrors).toEqual([]);
  }, 120_000);
});
