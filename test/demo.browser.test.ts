// Browser tier: builds the demo, serves it on 127.0.0.1 and drives headless Chromium (WebGPU on SwiftShader) through a run and its CPU check.
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type ConsoleMessage, type Page } from 'puppeteer';
import { build } from 'vite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { chromiumArgs as baseChromiumArgs, chromiumPath, serveDirectory, withTimeout } from './helpers/browser.ts';

const repoRoot = fileURLToPath(new URL('..', import.meta.url));
const outputDir = join(repoRoot, 'test-output');

// SwiftShader on two cores: a run of n * steps = 4e5 neuron-steps plus its CPU check takes seconds, not minutes.
const runTimeoutMs = 90_000;
const chromiumArgs = [
  ...baseChromiumArgs,
  // A non-secure origin for the same server: there navigator.gpu is missing, as in a browser without WebGPU.
  '--host-resolver-rules=MAP ei-insecure.test 127.0.0.1',
];


/** The slice of window.__eiDemo the assertions read. */
interface DemoState {
  status: string;
  message: string;
  runs: number;
  error: string | null;
  adapter: { vendor: string; architecture: string; description: string; isSoftware: boolean; runtime: string } | null;
  config: { n: number; T: number; seed: number } | null;
  gpuCounts: number[] | null;
  cpuCounts: number[] | null;
  identical: boolean | null;
  summary: { steps: number; n: number; rateHz: number; rateHzTheory: number; totalSpikes: number; rasterSpikes: number; rasterIdentical: boolean | null; firstMismatchStep: number | null } | null;
  pageErrors: string[];
}

async function waitForRun(page: Page, runs: number): Promise<DemoState> {
  await page.waitForFunction(
    (want: number) => {
      const s = (window as unknown as { __eiDemo?: { status: string; runs: number } }).__eiDemo;
      return !!s && (s.status === 'error' || s.status === 'unavailable' || (s.status === 'done' && s.runs >= want));
    },
    { timeout: runTimeoutMs, polling: 250 },
    runs,
  );
  return (await page.evaluate(() => (window as unknown as { __eiDemo: unknown }).__eiDemo)) as DemoState;
}

describe('browser demo (headless Chromium, WebGPU on SwiftShader)', () => {
  let buildDir = '';
  let profileDir = '';
  let server: http.Server | null = null;
  let baseUrl = '';
  let browser: Browser | null = null;
  let page: Page | null = null;
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  // A setup failure (no Chromium, a broken build) is rethrown by every test, so each one fails rather than being reported as skipped.
  let setupError: unknown = null;
  const ready = (): Page => {
    if (setupError) throw setupError;
    return page!;
  };

  beforeAll(async () => {
    try {
      await setUp();
    } catch (e) {
      setupError = e;
    }
  }, 120_000);

  async function setUp(): Promise<void> {
    if (!existsSync(chromiumPath)) {
      throw new Error(
        `Chromium not found at ${chromiumPath}: the browser tests need Debian's chromium (it also ships SwiftShader). ` +
          'Run `npm run setup` (scripts/setup.sh) or `sudo apt-get install chromium`, or set EI_CHROMIUM to a Chromium binary.',
      );
    }
    mkdirSync(outputDir, { recursive: true });
    buildDir = mkdtempSync(join(tmpdir(), 'ei-demo-build-'));
    profileDir = mkdtempSync(join(tmpdir(), 'ei-demo-profile-'));
    // A production build served statically: no HMR socket or dependency optimiser that could reload the page mid-run.
    await withTimeout(
      build({ configFile: join(repoRoot, 'vite.config.ts'), logLevel: 'warn', build: { outDir: buildDir, emptyOutDir: true, sourcemap: false } }),
      60_000,
      'vite build of demo/',
    );
    const served = await serveDirectory(resolve(buildDir));
    server = served.server;
    baseUrl = served.url;
    browser = await puppeteer.launch({
      executablePath: chromiumPath,
      headless: true, // adds --headless=new
      args: chromiumArgs,
      userDataDir: profileDir,
      timeout: 30_000,
      protocolTimeout: 120_000,
      env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() },
    });
    page = await browser.newPage();
    page.setDefaultTimeout(30_000);
    await page.setViewport({ width: 1280, height: 900 });
    page.on('console', (m: ConsoleMessage) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    page.on('pageerror', (e) => pageErrors.push(e instanceof Error ? e.message : String(e)));
  }

  afterAll(async () => {
    const b = browser;
    browser = null;
    if (b) {
      await withTimeout(b.close(), 15_000, 'closing Chromium').catch(() => b.process()?.kill('SIGKILL'));
    }
    if (server) {
      const s = server;
      server = null;
      s.closeAllConnections();
      await new Promise<void>((ok) => s.close(() => ok()));
    }
    for (const d of [buildDir, profileDir]) if (d) rmSync(d, { recursive: true, force: true });
  }, 30_000);

  it('autoruns from URL parameters on SwiftShader and matches the CPU reference spike for spike', async () => {
    ready();
    const n = 2000;
    const steps = 200;
    await page!.goto(`${baseUrl}/?n=${n}&steps=${steps}&seed=5&u0=2&autorun=1`, { waitUntil: 'load', timeout: 30_000 });
    const s = await waitForRun(page!, 1);
    expect(s.status, `demo ended with: ${s.message}`).toBe('done');
    expect(s.error).toBeNull();

    // The adapter is Chromium's SwiftShader, reached through navigator.gpu.
    expect(s.adapter).not.toBeNull();
    expect(s.adapter!.runtime).toBe('browser');
    expect(`${s.adapter!.vendor} ${s.adapter!.architecture} ${s.adapter!.description}`).toMatch(/swiftshader/i);
    expect(s.adapter!.isSoftware).toBe(true);

    // The URL parameters reached the run.
    expect(s.config).toMatchObject({ n, seed: 5 });
    expect(s.summary!.steps).toBe(steps);
    expect(s.gpuCounts).toHaveLength(steps);

    // Integer spike counts are identical on both backends for the same seed.
    expect(s.cpuCounts).toHaveLength(steps);
    expect(s.gpuCounts).toEqual(s.cpuCounts);
    expect(s.summary!.firstMismatchStep).toBe(-1);
    expect(s.summary!.rasterIdentical).toBe(true);
    expect(s.identical).toBe(true);
    expect(s.gpuCounts!.every((c) => Number.isInteger(c) && c >= 0 && c <= n)).toBe(true);

    // u0 = 2 = rIn w tau starts u at its stationary mean, at theta: neurons fire at a rate near theory.
    expect(s.summary!.totalSpikes).toBeGreaterThan(0);
    expect(Number.isFinite(s.summary!.rateHz)).toBe(true);
    expect(s.summary!.rateHz).toBeGreaterThan(0);
    expect(s.summary!.rateHz).toBeLessThan(100);
    expect(Math.abs(s.summary!.rateHz - s.summary!.rateHzTheory)).toBeLessThan(0.5 * s.summary!.rateHzTheory);
    expect(s.summary!.rasterSpikes).toBeGreaterThan(0);

    // Three rendered figures with drawn data, and the verdict shown to the user.
    const plots = await page!.$$eval('.ei-plot', (figs) =>
      figs.map((f) => ({ name: f.getAttribute('data-plot'), svgs: f.querySelectorAll('svg').length, marks: f.querySelectorAll('svg path.series, svg circle').length, w: f.getBoundingClientRect().width })),
    );
    expect(plots.map((p) => p.name)).toEqual(['rate', 'mean-u', 'raster']);
    for (const p of plots) {
      expect(p.svgs, `${p.name} has an SVG`).toBe(1);
      expect(p.marks, `${p.name} draws data`).toBeGreaterThan(0);
      expect(p.w).toBeGreaterThan(300);
    }
    const verdict = await page!.$eval('.ei-verdict', (e) => ({ text: e.textContent ?? '', hidden: (e as HTMLElement).hidden }));
    expect(verdict.hidden).toBe(false);
    expect(verdict.text).toMatch(/identical/i);
    expect(await page!.$eval('.ei-adapter', (e) => e.textContent ?? '')).toMatch(/swiftshader/i);

    await page!.screenshot({ path: join(outputDir, 'demo-screenshot.png'), fullPage: true });
    expect(s.pageErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 150_000);

  it('runs from a real click on the Run button with values typed into the form', async () => {
    const p = ready();
    // A fresh page without autorun, so this test does not depend on the previous one.
    await p.goto(`${baseUrl}/`, { waitUntil: 'load', timeout: 30_000 });
    await p.waitForFunction(() => (window as unknown as { __eiDemo?: { status: string } }).__eiDemo?.status === 'idle', { timeout: 30_000, polling: 100 });
    await p.locator('input[name=n]').fill('1000');
    await p.locator('input[name=T]').fill('0.01');
    await p.locator('input[name=seed]').fill('7');
    await p.click('button[data-action=run]');
    const s = await waitForRun(p, 1);
    expect(s.status, `demo ended with: ${s.message}`).toBe('done');
    expect(s.runs).toBe(1);
    expect(s.config).toMatchObject({ n: 1000, T: 0.01, seed: 7 });
    expect(s.gpuCounts).toHaveLength(100);
    expect(s.gpuCounts).toEqual(s.cpuCounts);
    expect(s.identical).toBe(true);
    expect(await p.$eval('button[data-action=run]', (b) => (b as HTMLButtonElement).disabled)).toBe(false);
    expect(await p.$$eval('.ei-plot svg', (l) => l.length)).toBe(3);

    // The separate "Check against CPU" button reruns the reference for the last GPU run.
    await p.click('button[data-action=check]');
    await p.waitForFunction(
      () => {
        const d = (window as unknown as { __eiDemo?: { status: string; message: string } }).__eiDemo;
        return d?.status === 'error' || (d?.status === 'done' && d.message.startsWith('Check done'));
      },
      { timeout: runTimeoutMs, polling: 250 },
    );
    const c = (await p.evaluate(() => (window as unknown as { __eiDemo: unknown }).__eiDemo)) as DemoState;
    expect(c.message).toMatch(/identical/);
    expect(c.cpuCounts).toEqual(s.gpuCounts);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 150_000);

  it('says clearly that WebGPU is unavailable where navigator.gpu is missing', async () => {
    ready();
    const p = await browser!.newPage();
    try {
      const insecure = baseUrl.replace('127.0.0.1', 'ei-insecure.test');
      await p.goto(`${insecure}/?n=100&steps=10&autorun=1`, { waitUntil: 'load', timeout: 30_000 });
      expect(await p.evaluate(() => window.isSecureContext)).toBe(false);
      await p.waitForFunction(() => (window as unknown as { __eiDemo?: { status: string } }).__eiDemo?.status === 'unavailable', { timeout: 30_000, polling: 100 });
      const status = await p.$eval('.ei-status', (e) => e.textContent ?? '');
      expect(status).toMatch(/WebGPU unavailable/);
      expect(status).toMatch(/Chrome/);
      expect(status).toMatch(/command line|CLI/);
      expect(await p.$eval('button[data-action=run]', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
      expect(await p.$$eval('.ei-plot svg', (l) => l.length)).toBe(0);
    } finally {
      await p.close();
    }
  }, 60_000);
});
