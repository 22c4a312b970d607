// Browser tier: the wasm backend on Web Workers. The demo's Vite dev server, `vite preview` and its built _headers send
// the cross-origin isolation headers; served with them the models page is cross-origin isolated and runs wasm on 2
// threads, and a page of this test gets the same per-step records, CSV tables and state bits from hybrid and poisson
// on 2 wasm threads as from the cpu backend. Served without them, 2 threads is an error naming the headers, and 1
// thread runs (with a notice saying why one).
import { mkdirSync, writeFileSync } from 'node:fs';
import type http from 'node:http';
import { join } from 'node:path';
import type { Page } from 'puppeteer';
import { build, createServer, preview, type PreviewServer } from 'vite';
import { afterAll, describe, expect, it } from 'vitest';
import { crossOriginIsolationHeaders } from '../vite.config.ts';
import { modelList } from '../src/models/index.ts';
import type { ModelsPageState } from '../demo/models.ts';
import { BrowserSession, beforeAllOrFail, readHeadersFile, repoRoot, requireChromium, serveDirectory, withTimeout } from './helpers/browser.ts';

/** The models that split one instance's neurons over the threads (the page's sizes and default-thread checks are theirs). */
const wasmModels = ['hybrid', 'poisson'];
/** Every other model with wasm kernels: they give the threads whole instances; the page checks their results on 2 threads. */
const otherWasmModels = modelList.filter((m) => m.wasm && !wasmModels.includes(m.id)).map((m) => m.id);

/** The test's page: the same requests on the wasm backend (threads from ?threads=) and on the cpu backend, compared exactly. */
const pageHtml = `<!doctype html>
<html lang="en"><head><meta charset="utf-8" /><title>ei-engine wasm threads</title></head>
<body><script type="module" src="./main.js"></script></body></html>
`;
const pageJs = `import { createEngine, ParameterError } from 'ei-engine';

const q = new URLSearchParams(location.search);
const threads = q.has('threads') ? Number(q.get('threads')) : undefined;
const state = (window.__eiThreads = { status: 'running', crossOriginIsolated: self.crossOriginIsolated === true, cores: navigator.hardwareConcurrency, error: null, notices: [], runs: {} });
// ?big: sizes at which the default thread count is more than one (two per 2 x 10000 neurons), with few steps.
const big = q.has('big');
const requests = {
  hybrid: { n: big ? 40000 : 3000, steps: big ? 8 : 40, batch: 2, seed: 5, params: { variant: 'B1', burnin: 0 } },
  poisson: { n: big ? 40000 : 20000, steps: big ? 8 : 60, batch: 2, seed: 7, params: { burnin: 0.0005 } },
};
// Sizes that keep both threads busy: rate integrates groups of sixteen circuits, one group per thread (40 initial
// states make three); minimax runs whole instances per thread (its 40-neuron network is not split).
const sized = { rate: { seed: 3, params: { initial: 40 } }, minimax: { seed: 4, batch: 2, T: 1 } };
async function runOn(engine, model) {
  const chunks = [];
  const sim = await engine.simulate(model, { ...(requests[model] ?? sized[model]), onChunk: (c) => chunks.push(c) });
  const out = await sim.outputs();
  const stateBits = Array.from(new Uint32Array((await sim.readState()).buffer));
  const csv = Object.fromEntries(out.files.filter((f) => f.name.endsWith('.csv')).map((f) => [f.name, f.content]));
  const r = { backend: sim.backend, threads: sim.threads, threadsNote: sim.threadsNote, configThreads: out.config.threads ?? null, configNote: out.config.threadsNote ?? null, chunks: JSON.stringify(chunks), csv, stateBits };
  sim.dispose();
  return r;
}
try {
  const wasm = await createEngine({ backend: 'wasm', threads, onNotice: (m) => state.notices.push(m) });
  const cpu = await createEngine({ backend: 'cpu' });
  for (const model of (q.get('models') ?? '').split(',')) {
    const w = await runOn(wasm, model);
    const c = await runOn(cpu, model);
    state.runs[model] = {
      backend: w.backend, threads: w.threads, threadsNote: w.threadsNote, configThreads: w.configThreads, configNote: w.configNote,
      stateLength: w.stateBits.length, stateEqual: w.stateBits.length === c.stateBits.length && w.stateBits.every((x, i) => x === c.stateBits[i]),
      // Per-step records where both backends chunk alike (hybrid, poisson); every model: state bits and tables.
      chunksLength: w.chunks.length, chunksEqual: requests[model] ? w.chunks === c.chunks : null,
      csvFiles: Object.keys(w.csv), csvEqual: Object.keys(w.csv).length > 0 && JSON.stringify(w.csv) === JSON.stringify(c.csv),
      cpuBackend: c.backend,
    };
  }
  wasm.dispose();
  cpu.dispose();
  state.status = 'done';
} catch (e) {
  state.error = { parameterError: e instanceof ParameterError, message: String(e && e.message), field: e && e.field, stack: String(e && e.stack) };
  state.status = 'error';
}
`;

interface ThreadsPageState {
  status: string;
  crossOriginIsolated: boolean;
  cores: number;
  error: { parameterError: boolean; message: string; field?: string; stack: string } | null;
  notices: string[];
  runs: Record<string, { backend: string; threads: number | null; threadsNote: string | null; configThreads: number | null; configNote: string | null; stateLength: number; stateEqual: boolean; chunksLength: number; chunksEqual: boolean | null; csvFiles: string[]; csvEqual: boolean; cpuBackend: string }>;
}

const readModels = (p: Page) => p.evaluate(() => window.__eiModels!) as Promise<ModelsPageState>;

describe('the wasm backend on Web Workers (headless Chromium)', () => {
  const session = new BrowserSession();
  const servers: http.Server[] = [];
  let previewServer: PreviewServer | null = null;
  const pageErrors: string[] = [];
  const serve = async (dir: string, headers: Record<string, string>) => {
    const s = await serveDirectory(dir, headers);
    servers.push(s.server);
    return s.url;
  };
  const ready = beforeAllOrFail(async () => {
    requireChromium();
    const demoDir = session.tempDir('ei-threads-demo-');
    await withTimeout(build({ configFile: join(repoRoot, 'vite.config.ts'), logLevel: 'warn', build: { outDir: demoDir, emptyOutDir: true, sourcemap: false } }), 90_000, 'vite build of demo/');
    const pageRoot = session.tempDir('ei-threads-page-');
    mkdirSync(join(pageRoot, 'page'));
    writeFileSync(join(pageRoot, 'page/index.html'), pageHtml);
    writeFileSync(join(pageRoot, 'page/main.js'), pageJs);
    const pageOut = join(pageRoot, 'site');
    await withTimeout(
      build({ configFile: false, root: pageRoot, base: './', logLevel: 'warn', resolve: { alias: { 'ei-engine': join(repoRoot, 'src/browser.ts') } }, build: { outDir: pageOut, emptyOutDir: true, target: 'es2022', rolldownOptions: { input: join(pageRoot, 'page/index.html') } } }),
      90_000,
      'vite build of the test page',
    );
    previewServer = await preview({ configFile: join(repoRoot, 'vite.config.ts'), logLevel: 'warn', build: { outDir: demoDir }, preview: { port: 0, strictPort: false } });
    const urls = {
      demoDir,
      preview: previewServer.resolvedUrls!.local[0].replace(/\/$/, ''),
      // A static host: the headers of the build's _headers file, or none at all.
      demoStaticHeaders: await serve(demoDir, readHeadersFile(demoDir)),
      demoPlain: await serve(demoDir, {}),
      pageIsolated: await serve(pageOut, { ...crossOriginIsolationHeaders }),
      pagePlain: await serve(pageOut, {}),
    };
    await session.launch('ei-threads-profile-');
    return urls;
  }, 240_000);

  afterAll(async () => {
    await previewServer?.close();
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((ok) => s.close(() => ok()));
    }
    await session.close();
  }, 30_000);

  async function open(url: string, global: string, until: (g: string) => boolean = () => true): Promise<Page> {
    const page = await session.newPage(pageErrors);
    await page.goto(url, { waitUntil: 'load', timeout: 30_000 });
    await page.waitForFunction(until, { timeout: 120_000, polling: 200 }, global);
    return page;
  }
  const openThreadsPage = async (url: string): Promise<ThreadsPageState> => {
    const page = await open(url, '__eiThreads', (g) => ['done', 'error'].includes((window as any)[g]?.status));
    try {
      return (await page.evaluate(() => (window as any).__eiThreads)) as ThreadsPageState;
    } finally {
      await page.close();
    }
  };
  const openModelsPage = (url: string) => open(url, '__eiModels', () => ['ready', 'error'].includes(window.__eiModels?.status ?? ''));
  /** Picks a wasm model and runs it with the form's defaults; waits for the outcome. */
  async function runModel(p: Page, id: string): Promise<ModelsPageState> {
    await p.select('select[data-role=model]', id);
    await p.waitForFunction((want: string) => window.__eiModels?.model === want && window.__eiModels.status === 'ready', { timeout: 10_000, polling: 100 }, id);
    const before = (await readModels(p)).runs;
    await p.click('button[data-action=run]');
    await p.waitForFunction((b: number) => ['error', 'stopped'].includes(window.__eiModels!.status) || (window.__eiModels!.status === 'done' && window.__eiModels!.runs > b), { timeout: 60_000, polling: 200 }, before);
    return readModels(p);
  }

  it('the dev server, vite preview and the built _headers send both cross-origin isolation headers', async () => {
    const u = ready();
    const want = { 'cross-origin-opener-policy': 'same-origin', 'cross-origin-embedder-policy': 'require-corp' };
    expect(Object.fromEntries(Object.entries(readHeadersFile(u.demoDir)).map(([k, v]) => [k.toLowerCase(), v]))).toEqual(want);
    const got = (r: Response) => Object.fromEntries(Object.keys(want).map((k) => [k, r.headers.get(k)]));
    expect(got(await fetch(`${u.preview}/models.html`))).toEqual(want);
    const dev = await createServer({ configFile: join(repoRoot, 'vite.config.ts'), logLevel: 'warn', server: { port: 0, strictPort: false, hmr: false }, optimizeDeps: { noDiscovery: true, include: [] } });
    try {
      await dev.listen();
      expect(got(await fetch(`${dev.resolvedUrls!.local[0].replace(/\/$/, '')}/models.html`))).toEqual(want);
    } finally {
      await dev.close();
    }
  }, 60_000);

  it('hybrid and poisson on 2 wasm threads give the cpu backend\'s records, tables and state bits (isolated page)', async () => {
    const u = ready();
    const s = await openThreadsPage(`${u.pageIsolated}/page/index.html?threads=2&models=${wasmModels}`);
    expect(s.error, s.error?.stack).toBeNull();
    expect(s.crossOriginIsolated).toBe(true);
    expect(Object.keys(s.runs)).toEqual(wasmModels);
    expect(wasmModels).toEqual(expect.arrayContaining(['hybrid', 'poisson']));
    for (const [model, r] of Object.entries(s.runs)) {
      expect([r.backend, r.threads, r.configThreads, r.threadsNote, r.configNote, r.cpuBackend], model).toEqual(['wasm', 2, 2, null, null, 'cpu']);
      expect(r.stateLength, model).toBeGreaterThan(10_000);
      expect(r.chunksLength, model).toBeGreaterThan(100);
      expect(r.csvFiles.length, model).toBeGreaterThan(0);
      expect([r.stateEqual, r.chunksEqual, r.csvEqual], model).toEqual([true, true, true]);
    }
    expect(s.notices.filter((m) => /thread/.test(m))).toEqual([]);
    // The default at sizes that take two threads per instance: navigator.hardwareConcurrency cores, at most two.
    const auto = await openThreadsPage(`${u.pageIsolated}/page/index.html?big&models=${wasmModels}`);
    expect(auto.error, auto.error?.stack).toBeNull();
    for (const [model, r] of Object.entries(auto.runs)) {
      expect([r.threads, r.threadsNote, r.stateEqual, r.chunksEqual, r.csvEqual], model).toEqual([Math.min(2, auto.cores), null, true, true, true]);
    }
    expect(pageErrors).toEqual([]);
  }, 150_000);

  it('the other models with wasm kernels on 2 threads in an isolated page equal the cpu backend (state bits, tables)', async () => {
    const u = ready();
    expect(otherWasmModels.length).toBeGreaterThan(0);
    const s = await openThreadsPage(`${u.pageIsolated}/page/index.html?threads=2&models=${otherWasmModels}`);
    expect(s.error, s.error?.stack).toBeNull();
    expect(Object.keys(s.runs)).toEqual(otherWasmModels);
    for (const [model, r] of Object.entries(s.runs)) {
      expect([r.backend, r.configThreads, r.cpuBackend, r.stateEqual, r.csvEqual], model).toEqual(['wasm', 2, 'cpu', true, true]);
      expect(r.stateLength, model).toBeGreaterThan(0);
    }
    expect(pageErrors).toEqual([]);
  }, 150_000);

  it('without isolation: 2 threads is an error naming the headers, 1 thread equals cpu, the default says why one', async () => {
    const u = ready();
    const refused = await openThreadsPage(`${u.pagePlain}/page/index.html?threads=2&models=${wasmModels}`);
    expect(refused.crossOriginIsolated).toBe(false);
    expect(refused.status).toBe('error');
    expect(refused.error?.parameterError).toBe(true);
    expect(refused.error?.field).toBe('--threads');
    expect(refused.error?.message).toMatch(/not cross-origin isolated/);
    expect(refused.error?.message).toMatch(/Cross-Origin-Opener-Policy: same-origin/);
    expect(refused.error?.message).toMatch(/Cross-Origin-Embedder-Policy: require-corp/);

    // Asked for: one thread, no note.
    const one = await openThreadsPage(`${u.pagePlain}/page/index.html?threads=1&models=${wasmModels}`);
    expect(one.error, one.error?.stack).toBeNull();
    expect(Object.keys(one.runs)).toEqual(wasmModels);
    for (const [model, r] of Object.entries(one.runs)) {
      expect([r.backend, r.threads, r.configThreads, r.configNote, r.stateEqual, r.chunksEqual, r.csvEqual], model).toEqual(['wasm', 1, 1, null, true, true, true]);
    }
    // The default, at sizes that would take every core: one thread, and why (in the run and its config.json, and once through onNotice).
    const auto = await openThreadsPage(`${u.pagePlain}/page/index.html?big&models=${wasmModels}`);
    expect(auto.error, auto.error?.stack).toBeNull();
    expect(Object.keys(auto.runs)).toEqual(wasmModels);
    const said = auto.cores >= 2;
    for (const [model, r] of Object.entries(auto.runs)) {
      expect([r.threads, r.configThreads, r.stateEqual], model).toEqual([1, 1, true]);
      if (said) expect(r.threadsNote, model).toMatch(/^one thread: this page is not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
      expect(r.configNote, model).toBe(r.threadsNote);
    }
    expect(auto.notices.filter((m) => /one thread/.test(m))).toHaveLength(said ? 1 : 0);
    expect(pageErrors).toEqual([]);
  }, 150_000);

  it('the models page served with the headers (vite preview, a static host with _headers) is isolated and runs wasm on 2 threads', async () => {
    const u = ready();
    const stat = await openModelsPage(`${u.demoStaticHeaders}/models.html`);
    try {
      expect((await readModels(stat)).crossOriginIsolated).toBe(true);
    } finally {
      await stat.close();
    }
    const p = await openModelsPage(`${u.preview}/models.html?backend=wasm&threads=2`);
    try {
      let s = await readModels(p);
      expect(s.status, s.message).toBe('ready');
      expect([s.crossOriginIsolated, s.requestedBackend, s.requestedThreads, s.engineBackend]).toEqual([true, 'wasm', 2, 'wasm']);
      expect(await p.$eval('[data-role=isolation]', (e) => e.textContent ?? '')).toMatch(/isolated: yes/);
      expect(await p.$eval('[data-role=backend]', (e) => e.textContent ?? '')).toMatch(/^Backend: wasm/);
      expect(await p.$eval('select[data-role=engine-backend]', (e) => (e as HTMLSelectElement).value)).toBe('wasm');
      s = await runModel(p, wasmModels[0]);
      expect(s.status, `${s.message} ${s.error ?? ''} ${JSON.stringify(s.fieldErrors)}`).toBe('done');
      expect([s.runBackend, s.runThreads, s.runThreadsNote]).toEqual(['wasm', 2, null]);
      expect(await p.$eval('[data-role=run-backend]', (e) => e.textContent ?? '')).toMatch(/wasm, 2 threads/);
      expect(s.message).toMatch(/wasm, 2 threads/);
      // Switching the backend on the page recreates the engine.
      await p.select('select[data-role=engine-backend]', 'cpu');
      await p.waitForFunction(() => window.__eiModels?.engineBackend === 'cpu' && window.__eiModels.status === 'ready', { timeout: 15_000, polling: 100 });
      s = await runModel(p, wasmModels[0]);
      expect([s.status, s.runBackend, s.runThreads]).toEqual(['done', 'cpu', null]);
      expect(s.pageErrors).toEqual([]);
    } finally {
      await p.close();
    }
  }, 120_000);

  it('the models page without the headers says so, refuses 2 threads next to the field, and runs 1', async () => {
    const u = ready();
    const p = await openModelsPage(`${u.demoPlain}/models.html?backend=wasm&threads=2`);
    try {
      let s = await readModels(p);
      expect([s.crossOriginIsolated, s.engineBackend]).toEqual([false, 'wasm']);
      expect(await p.$eval('[data-role=isolation]', (e) => e.textContent ?? '')).toMatch(/isolated: no.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/);
      s = await runModel(p, wasmModels[0]);
      expect(s.status).toBe('error');
      expect(s.fieldErrors['engine:threads']).toMatch(/not cross-origin isolated/);
      expect(await p.$eval('[data-role=threads-error]', (e) => ({ hidden: (e as HTMLElement).hidden, text: e.textContent ?? '' }))).toEqual({ hidden: false, text: expect.stringMatching(/Cross-Origin-Embedder-Policy: require-corp/) });
      await p.locator('input[data-role=threads]').fill('1');
      await p.$eval('input[data-role=threads]', (e) => e.dispatchEvent(new Event('change')));
      await p.waitForFunction(() => window.__eiModels?.requestedThreads === 1 && window.__eiModels.status === 'ready', { timeout: 15_000, polling: 100 });
      s = await runModel(p, wasmModels[0]);
      expect(s.status, `${s.message} ${s.error ?? ''}`).toBe('done');
      expect([s.runBackend, s.runThreads, s.runThreadsNote]).toEqual(['wasm', 1, null]);
      expect(s.pageErrors).toEqual([]);
    } finally {
      await p.close();
    }
  }, 120_000);
});
