// Browser tier: the embedding example (demo/embed.html), an <ei-simulation> element and a mount() side by side. Builds
// the demo, serves it on 127.0.0.1 and drives headless Chromium (WebGPU on SwiftShader): both run to their summary and
// figure, Stop and Reset end a long run, a bad attribute shows the engine's error naming it, and removal / dispose()
// frees them.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { afterAll, describe, expect, it } from 'vitest';
import type { EmbedState, SimulationElement } from '../src/browser.ts';
import { BrowserSession, beforeAllOrFail, requireChromium, testOutputDir as outputDir } from './helpers/browser.ts';

// The page's sizes (hybrid n = 2000 for 1500 steps, binary n = 400 for 5000 steps) end in seconds on wasm; 2 busy cores get room.
const runTimeoutMs = 45_000;

type Which = 'element' | 'mounted';

/** The state of the <ei-simulation> element or of the mount() handle. */
const readState = (p: Page, which: Which) =>
  p.evaluate((w: Which) => (w === 'element' ? (document.querySelector('ei-simulation') as SimulationElement).state! : window.__eiEmbed!.mounted.state), which) as Promise<EmbedState>;

/** Clicks a button inside the view's shadow root. */
const click = (p: Page, which: Which, action: string) =>
  p.evaluate(
    (w: Which, a: string) => {
      const host = w === 'element' ? document.querySelector('ei-simulation')! : document.querySelector('#binary > .ei-simulation')!;
      (host.shadowRoot!.querySelector(`button[data-action=${a}]`) as HTMLButtonElement).click();
    },
    which,
    action,
  );

/** Text and visibility of an element of the view (by data-role). */
const shown = (p: Page, which: Which, role: string) =>
  p.evaluate(
    (w: Which, r: string) => {
      const host = w === 'element' ? document.querySelector('ei-simulation')! : document.querySelector('#binary > .ei-simulation')!;
      const e = host.shadowRoot!.querySelector(`[data-role=${r}]`) as HTMLElement;
      return { text: e.textContent ?? '', hidden: e.hidden || e.closest('[hidden]') !== null };
    },
    which,
    role,
  );

/** How many elements of the view match `selector`. */
const count = (p: Page, which: Which, selector: string) =>
  p.evaluate(
    (w: Which, sel: string) => {
      const host = w === 'element' ? document.querySelector('ei-simulation')! : document.querySelector('#binary > .ei-simulation')!;
      return host.shadowRoot!.querySelectorAll(sel).length;
    },
    which,
    selector,
  );

async function waitForStatus(p: Page, which: Which, statuses: readonly string[], timeout: number): Promise<EmbedState> {
  await p.waitForFunction(
    (w: Which, want: readonly string[]) => {
      const s = w === 'element' ? (document.querySelector('ei-simulation') as SimulationElement | null)?.state : window.__eiEmbed?.mounted.state;
      return !!s && want.includes(s.status);
    },
    { timeout, polling: 100 },
    which,
    statuses,
  );
  return readState(p, which);
}

describe('embedding example (headless Chromium, WebGPU on SwiftShader)', () => {
  const session = new BrowserSession();
  const consoleErrors: string[] = [];
  const pageErrors: string[] = [];
  const ready = beforeAllOrFail(async (): Promise<Page> => {
    requireChromium();
    await session.buildAndServeDemo('ei-embed-build-');
    await session.launch('ei-embed-profile-');
    const page = await session.newPage(pageErrors, consoleErrors);
    await page.goto(`${session.baseUrl}/embed.html`, { waitUntil: 'load', timeout: 30_000 });
    for (const w of ['element', 'mounted'] as const) await waitForStatus(page, w, ['ready', 'error'], 30_000);
    return page;
  }, 120_000);

  afterAll(() => session.close(), 30_000);

  it('runs both simulations to their summary and first SVG figure', async () => {
    const p = ready();
    const t0 = Date.now();
    for (const w of ['element', 'mounted'] as const) {
      const s = await readState(p, w);
      expect(s.status, `${w}: ${s.message} ${s.error ?? ''}`).toBe('ready');
      expect(s.engineBackend).toBe('webgpu');
      expect((await shown(p, w, 'adapter')).text).toMatch(/adapter: .*swiftshader/i);
      await click(p, w, 'start');
    }
    const states: EmbedState[] = [];
    for (const w of ['element', 'mounted'] as const) {
      const s = await waitForStatus(p, w, ['done', 'error', 'stopped'], runTimeoutMs);
      expect(s.status, `${w}: ${s.message} ${s.error ?? ''}`).toBe('done');
      console.log(`embed: ${s.model} done on ${s.runBackend} after ${((Date.now() - t0) / 1000).toFixed(1)} s`);
      expect(s.runs).toBe(1);
      expect(s.progress.total).toBeGreaterThan(0);
      expect(s.progress.done).toBe(s.progress.total);
      expect(s.runBackend).toBeTruthy();
      expect((await shown(p, w, 'backend')).text).toContain(s.runBackend!);
      expect((await shown(p, w, 'model')).text).toContain(s.model!);
      expect(s.line).toBeTruthy();
      expect((await shown(p, w, 'line')).text).toBe(s.line);
      expect(s.summary.length).toBeGreaterThan(3);
      expect(s.figure).toMatch(/\.svg$/);
      expect(s.error).toBeNull();
      expect(await count(p, w, '[data-summary-field]')).toBe(s.summary.length);
      // The figure is an image of the SVG, rendered at a readable width.
      const img = await p.waitForFunction(
        (x: Which) => {
          const host = x === 'element' ? document.querySelector('ei-simulation')! : document.querySelector('#binary > .ei-simulation')!;
          const i = host.shadowRoot!.querySelector('[data-role=figure] img') as HTMLImageElement;
          return i.complete && i.naturalWidth > 0 ? { src: i.src.slice(0, 40), width: i.getBoundingClientRect().width } : null;
        },
        { timeout: 10_000, polling: 100 },
        w,
      );
      const v = (await img.jsonValue()) as { src: string; width: number };
      expect(v.src).toMatch(/^data:image\/svg\+xml/);
      expect(v.width).toBeGreaterThan(200);
      states.push(s);
    }
    expect(states.map((s) => s.model)).toEqual(['hybrid', 'binary']);
    mkdirSync(outputDir, { recursive: true });
    await p.screenshot({ path: join(outputDir, 'embed-screenshot.png'), fullPage: true });
  }, 90_000);

  it('stops a long run with Stop, and Reset clears it (mount handle, options updated while idle)', async () => {
    const p = ready();
    // Forty times the page's duration: far longer than the test waits.
    await p.evaluate(() => window.__eiEmbed!.mounted.update({ model: 'binary', n: 400, steps: 200_000, seed: 1 }));
    await click(p, 'mounted', 'start');
    await p.waitForFunction(() => (window.__eiEmbed?.mounted.state.progress.done ?? 0) > 0, { timeout: 30_000, polling: 50 });
    await click(p, 'mounted', 'stop');
    let s = await waitForStatus(p, 'mounted', ['stopped', 'done', 'error'], 20_000);
    expect(s.status, s.message).toBe('stopped');
    expect(s.progress.total).toBe(200_000);
    expect(s.progress.done).toBeLessThan(s.progress.total);
    expect(s.runs).toBe(1);
    expect((await shown(p, 'mounted', 'status')).text).toMatch(/Stopped at step \d+ of 200000/);
    await click(p, 'mounted', 'reset');
    s = await waitForStatus(p, 'mounted', ['ready'], 5_000);
    expect(s.progress).toEqual({ done: 0, total: 0 });
    expect(s.line).toBeNull();
    expect((await shown(p, 'mounted', 'results')).hidden).toBe(true);
  }, 60_000);

  it('shows a bad attribute as the error naming it, never a silent default', async () => {
    const p = ready();
    // Malformed: refused as soon as it is set.
    await p.evaluate(() => document.querySelector('ei-simulation')!.setAttribute('n', 'many'));
    let s = await waitForStatus(p, 'element', ['error'], 5_000);
    expect(s.error).toMatch(/invalid n: 'many' is not a decimal number/);
    expect(await p.evaluate(() => (document.querySelector('ei-simulation')!.shadowRoot!.querySelector('button[data-action=start]') as HTMLButtonElement).disabled)).toBe(true);
    // A number the model refuses: the engine's ParameterError, shown at Start.
    await p.evaluate(() => document.querySelector('ei-simulation')!.setAttribute('n', '-4'));
    s = await waitForStatus(p, 'element', ['ready'], 5_000);
    expect(s.error).toBeNull();
    await click(p, 'element', 'start');
    s = await waitForStatus(p, 'element', ['error', 'done'], 15_000);
    expect(s.status).toBe('error');
    // In the element's words: the attribute, not the CLI flag.
    expect(s.error).toMatch(/invalid n: -4 is not an integer >= 1/);
    expect(s.error).not.toMatch(/--n\b/);
    const box = await shown(p, 'element', 'error');
    expect(box.hidden).toBe(false);
    expect(box.text).toContain('-4');
    expect(box.text).toMatch(/fix: .*n/);
    expect(s.runs).toBe(1);
    // An unknown model names the model attribute and the valid ids.
    await p.evaluate(() => document.querySelector('ei-simulation')!.setAttribute('model', 'nosuch'));
    s = await waitForStatus(p, 'element', ['error'], 5_000);
    expect(s.error).toMatch(/invalid model: unknown model 'nosuch'[\s\S]*hybrid/);
  }, 30_000);

  it('disposes a removed element and a mounted view (idempotently), with no page or console error', async () => {
    const p = ready();
    const element = await p.evaluate(() => {
      const e = document.querySelector('ei-simulation') as SimulationElement;
      const seen: string[] = [];
      e.addEventListener('ei-simulation-state', (ev) => seen.push((ev as CustomEvent<EmbedState>).detail.status));
      const before = e.disposed;
      e.remove();
      e.remove();
      return { before, after: e.disposed, status: e.state!.status, seen };
    });
    expect(element).toEqual({ before: false, after: true, status: 'disposed', seen: ['disposed'] });
    const mounted = await p.evaluate(() => {
      const h = window.__eiEmbed!.mounted;
      const before = h.disposed;
      h.dispose();
      h.dispose();
      return { before, after: h.disposed, status: h.state.status, left: document.getElementById('binary')!.childElementCount };
    });
    expect(mounted).toEqual({ before: false, after: true, status: 'disposed', left: 0 });
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);
  }, 20_000);
});
