// Browser tier: the models page (demo/models.html), which finds every model through the registry. Builds the demo,
// serves it on 127.0.0.1 and drives headless Chromium (WebGPU on SwiftShader): the picker, two runs with the form's
// defaults, a bad value shown at its field, and Stop.
import { mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, describe, expect, it } from 'vitest';
import { modelList } from '../src/models/index.ts';
import type { ModelsPageState } from '../demo/models.ts';
import { BrowserSession, beforeAllOrFail, repoRoot, requireChromium, testOutputDir as outputDir } from './helpers/browser.ts';
const ids = modelList.map((m) => m.id);
// The form's small defaults (n <= 500, <= 1500 steps) end in seconds on SwiftShader; 2 busy cores get room.
const runTimeoutMs = 45_000;

const readState = (p: Page) => p.evaluate(() => window.__eiModels!) as Promise<ModelsPageState>;

/** Waits until the page leaves 'running' (or 'loading') with a state accepted by `settled`. */
async function waitForSettled(p: Page, runsBefore: number, timeout = runTimeoutMs): Promise<ModelsPageState> {
  await p.waitForFunction(
    (before: number) => {
      const s = window.__eiModels;
      return !!s && (s.status === 'error' || s.status === 'stopped' || (s.status === 'done' && s.runs > before));
    },
    { timeout, polling: 200 },
    runsBefore,
  );
  return readState(p);
}

async function selectModel(p: Page, id: string): Promise<void> {
  await p.select('select[data-role=model]', id);
  await p.waitForFunction((want: string) => window.__eiModels?.model === want && window.__eiModels.status === 'ready', { timeout: 10_000, polling: 100 }, id);
}

describe('models page (headless Chromium, WebGPU on SwiftShader)', () => {
  const session = new BrowserSession();
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const ready = beforeAllOrFail(async (): Promise<Page> => {
    requireChromium();
    await session.buildAndServeDemo('ei-models-build-');
    await session.launch('ei-models-profile-');
    const page = await session.newPage(pageErrors, consoleErrors);
    await page.goto(`${session.baseUrl}/models.html`, { waitUntil: 'load', timeout: 30_000 });
    await page.waitForFunction(() => window.__eiModels?.status === 'ready' || window.__eiModels?.status === 'error', { timeout: 30_000, polling: 100 });
    return page;
  }, 120_000);

  afterAll(() => session.close(), 30_000);

  it('names no model in its source', () => {
    for (const file of ['demo/models.ts', 'demo/models.html']) {
      const text = readFileSync(join(repoRoot, file), 'utf8');
      for (const id of ids) {
        expect(text, `${file} must not contain the model id '${id}' as a literal`).not.toMatch(new RegExp(`['"\`]${id}['"\`]`));
      }
    }
  });

  it('lists every registered model and shows the WebGPU adapter', async () => {
    const p = ready();
    const s = await readState(p);
    expect(s.status, s.message).toBe('ready');
    expect(s.models).toEqual(ids);
    expect(await p.$$eval('select[data-role=model] option', (os) => os.map((o) => (o as HTMLOptionElement).value))).toEqual(ids);
    expect(s.engineBackend).toBe('webgpu');
    expect(await p.$eval('[data-role=backend]', (e) => e.textContent ?? '')).toMatch(/WebGPU.*swiftshader/i);
  });

  it('runs the first two models to completion with the form defaults', async () => {
    const p = ready();
    for (const id of ids.slice(0, 2)) {
      await selectModel(p, id);
      const model = modelList.find((m) => m.id === id)!;
      // The form was generated from the model: one field per parameter that applies, one per run option it takes.
      const keys = await p.$$eval('[data-field]', (es) => es.map((e) => e.getAttribute('data-field')!));
      for (const spec of model.parameters) expect(keys).toContain(`param:${spec.name}`);
      for (const o of model.options.takes) expect(keys).toContain(`option:${o}`);
      expect(keys.filter((k) => k.startsWith('option:')).sort()).toEqual([...model.options.takes.map((o) => `option:${o}`), 'option:seed'].sort());
      // A parameter whose appliesWhen the default choices break is hidden.
      for (const spec of model.parameters.filter((q) => q.appliesWhen)) {
        const applies = Object.entries(spec.appliesWhen!).every(([k, allowed]) => allowed.includes(String(model.parameters.find((q) => q.name === k)!.default)));
        expect(await p.$eval(`[data-field-wrap="param:${spec.name}"]`, (e) => (e as HTMLElement).hidden), `${id}.${spec.name} hidden`).toBe(!applies);
      }

      const before = (await readState(p)).runs;
      const t0 = Date.now();
      await p.click('button[data-action=run]');
      const s = await waitForSettled(p, before);
      const seconds = (Date.now() - t0) / 1000;
      expect(s.status, `${id}: ${s.message} ${s.error ?? ''} ${JSON.stringify(s.fieldErrors)}`).toBe('done');
      console.log(`models page: ${id} ran in ${seconds.toFixed(1)} s on ${s.runBackend}`);
      expect(s.progress.done).toBe(s.progress.total);
      expect(s.line).toBeTruthy();
      expect(await p.$eval('[data-role=line]', (e) => e.textContent)).toBe(s.line);
      expect(s.figures.length).toBeGreaterThan(0);
      await p.waitForFunction(() => Array.from(document.querySelectorAll<HTMLImageElement>('[data-figure] img')).every((i) => i.complete), { timeout: 10_000 });
      const imgs = await p.$$eval('[data-figure] img', (is) => is.map((i) => ({ w: (i as HTMLImageElement).naturalWidth, shown: i.getBoundingClientRect().width })));
      expect(imgs.length).toBe(s.figures.length);
      for (const i of imgs) {
        expect(i.w).toBeGreaterThan(0);
        expect(i.shown).toBeGreaterThan(200);
      }
      expect(await p.$$eval('[data-role=summary] tr[data-summary-field]', (r) => r.length)).toBeGreaterThan(3);
      expect(s.downloads).toEqual(expect.arrayContaining(['config.json', 'summary.json']));
      expect(s.downloads.some((d) => d.endsWith('.csv'))).toBe(true);
      // The summary.json link holds the run's summary.
      const summary = (await p.$eval('a[data-download="summary.json"]', (a) => fetch((a as HTMLAnchorElement).href).then((r) => r.json()))) as Record<string, unknown>;
      expect(summary.model).toBe(id);
      expect(summary.backend).toBe(s.runBackend);
    }
    mkdirSync(outputDir, { recursive: true });
    await p.screenshot({ path: join(outputDir, 'models-page-screenshot.png'), fullPage: true });
  }, 150_000);

  it('shows a bad value next to the parameter it names, without running', async () => {
    const p = ready();
    await selectModel(p, ids[0]);
    const field = await p.$$eval('[data-field][data-min]', (es) => es.find((e) => !(e.closest('[data-field-wrap]') as HTMLElement).hidden)?.getAttribute('data-field') ?? null);
    expect(field).not.toBeNull();
    const name = field!.slice('param:'.length);
    await p.locator(`[data-field="${field}"]`).fill('-7');
    const before = (await readState(p)).runs;
    await p.click('button[data-action=run]');
    await p.waitForFunction(() => window.__eiModels?.status === 'error', { timeout: 15_000, polling: 100 });
    const s = await readState(p);
    expect(s.runs).toBe(before);
    expect(Object.keys(s.fieldErrors)).toEqual([field]);
    const shown = await p.$eval(`[data-field-error="${field}"]`, (e) => ({ text: e.textContent ?? '', hidden: (e as HTMLElement).hidden }));
    expect(shown.hidden).toBe(false);
    expect(shown.text).toContain(name);
    expect(shown.text).toContain('-7');
    expect(s.error).toBeNull();
  }, 30_000);

  it('leaves the poisson page (the second Vite input) built and loading', async () => {
    ready();
    const p = await session.browser!.newPage();
    try {
      await p.goto(`${session.baseUrl}/index.html`, { waitUntil: 'load', timeout: 30_000 });
      await p.waitForFunction(() => (window as unknown as { __eiDemo?: { status: string } }).__eiDemo?.status === 'idle', { timeout: 15_000, polling: 100 });
      expect(await p.$$eval('button[data-action=run]', (b) => b.length)).toBe(1);
    } finally {
      await p.close();
    }
  }, 30_000);

  it('stops a long run with the Stop button', async () => {
    const p = ready();
    await selectModel(p, ids[0]);
    await p.click('button[data-action=reset]');
    // Fifty times the form's duration: far longer than the test waits.
    const durationKey = (await p.$('[data-field="option:T"]')) ? 'option:T' : 'option:steps';
    const value = Number(await p.$eval(`[data-field="${durationKey}"]`, (e) => (e as HTMLInputElement).value));
    expect(value).toBeGreaterThan(0);
    await p.locator(`[data-field="${durationKey}"]`).fill(String(durationKey === 'option:T' ? Number((value * 50).toPrecision(12)) : value * 50));
    const before = (await readState(p)).runs;
    await p.click('button[data-action=run]');
    await p.waitForFunction(() => (window.__eiModels?.progress.done ?? 0) > 0, { timeout: 30_000, polling: 50 });
    const t0 = Date.now();
    await p.click('button[data-action=stop]');
    const s = await waitForSettled(p, before, 20_000);
    console.log(`models page: Stop took effect after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(s.status, s.message).toBe('stopped');
    expect(s.runs).toBe(before);
    expect(s.progress.done).toBeLessThan(s.progress.total);
    expect(await p.$eval('[data-role=status]', (e) => e.textContent ?? '')).toMatch(/Stopped/);
    expect(await p.$eval('button[data-action=run]', (b) => (b as HTMLButtonElement).disabled)).toBe(false);
    expect(await p.$eval('button[data-action=stop]', (b) => (b as HTMLButtonElement).disabled)).toBe(true);
    expect(s.pageErrors).toEqual([]);
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 60_000);
});
