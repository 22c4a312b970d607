// Browser tier: builds the demo, serves it on 127.0.0.1 and drives headless Chromium (WebGPU on SwiftShader) through a run and its CPU check.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, describe, expect, it } from 'vitest';
import { BrowserSession, beforeAllOrFail, chromiumArgs as baseChromiumArgs, requireChromium, testOutputDir as outputDir } from './helpers/browser.ts';

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
  const session = new BrowserSession();
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const ready = beforeAllOrFail(async (): Promise<Page> => {
    requireChromium();
    mkdirSync(outputDir, { recursive: true });
    await session.buildAndServeDemo('ei-demo-build-');
    await session.launch('ei-demo-profile-', chromiumArgs);
    return session.newPage(pageErrors, consoleErrors);
  }, 120_000);

  afterAll(() => session.close(), 30_000);

  it('autoruns from URL parameters on SwiftShader and matches the CPU reference spike for spike', async () => {
    const page = ready();
    const n = 2000;
    const steps = 200;
    await page.goto(`${session.baseUrl}/?n=${n}&steps=${steps}&seed=5&u0=2&autorun=1`, { waitUntil: 'load', timeout: 30_000 });
    const s = await waitForRun(page, 1);
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
    const plots = await page.$$eval('.ei-plot', (figs) =>
      figs.map((f) => ({ name: f.getAttribute('data-plot'), svgs: f.querySelectorAll('svg').length, marks: f.querySelectorAll('svg path.series, svg circle').length, w: f.getBoundingClientRect().width })),
    );
    expect(plots.map((p) => p.name)).toEqual(['rate', 'mean-u', 'raster']);
    for (const p of plots) {
      expect(p.svgs, `${p.name} has an SVG`).toBe(1);
      expect(p.marks, `${p.name} draws data`).toBeGreaterThan(0);
      expect(p.w).toBeGreaterThan(300);
    }
    const verdict = await page.$eval('.ei-verdict', (e) => ({ text: e.textContent ?? '', hidden: (e as HTMLElement).hidden }));
    expect(verdict.hidden).toBe(false);
    expect(verdict.text).toMatch(/identical/i);
    expect(await page.$eval('.ei-adapter', (e) => e.textContent ?? '')).toMatch(/swiftshader/i);

    await page.screenshot({ path: join(outputDir, 'demo-screenshot.png'), fullPage: true });
    expect(s.pageErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 150_000);

  it('runs from a real click on the Run button with values typed into the form', async () => {
    const p = ready();
    // A fresh page without autorun, so this test does not depend on the previous one.
    await p.goto(`${session.baseUrl}/`, { waitUntil: 'load', timeout: 30_000 });
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
    const p = await session.browser!.newPage();
    try {
      const insecure = session.baseUrl.replace('127.0.0.1', 'ei-insecure.test');
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
