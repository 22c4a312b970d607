// The shared body of the live model pages: controls generated from the model's own parameter specs, the backend and
// why, a warm-up that sizes the run for this machine, and a run advanced in short slices (start, pause, reset) whose
// chunks update the page's plots while it runs. A page (poisson-page.ts, ...) adds only its plots and defaults.
import '../../src/wasm/browser-threads.ts';
import './live.css';
import type { AnyModel, ResolvedRun, RunRequest, RunTarget, Runner } from '../../src/core/contract.ts';
import { checkRunLimits } from '../../src/core/limits.ts';
import type { ParamSpec } from '../../src/core/params.ts';
import { selectBackend, type BackendSelection } from '../../src/engine/backend.ts';
import { getModelDefinition } from '../../src/engine/models.ts';
import { ParameterError } from '../../src/errors.ts';
import { defaultThreadCount } from '../../src/wasm/threads.ts';
import { runChecks, type RunCheck } from './checks.ts';
import { LineChart, type ChartOptions } from './line-chart.ts';
import { createRasterView, measureRasterFps, type RasterView } from './raster-view.ts';

/** Run options a page may show as fields. */
export type LiveOption = 'n' | 'steps' | 'T' | 'dt' | 'batch';

/** What the warm-up measured: a few timed steps of a small run on the page's backend. */
export interface Throughput {
  /** Steps per second and neuron updates (ResolvedRun.neuronsPerStep) per second. */
  stepsPerSecond: number;
  unitsPerSecond: number;
  /** In words: what ran and how long it took. */
  text: string;
}

export interface ViewContext {
  /** A canvas chart in the page's plot grid. */
  chart(options: ChartOptions, wide?: boolean): LineChart;
  /** The raster (WebGPU, else 2D); one per page. */
  raster(title: string): Promise<RasterView>;
  /** A line of text under the plots (theory numbers); returns its element. */
  note(): HTMLElement;
}

/** A page's plots: reset at every start, fed every chunk, drawn after every slice and at the end. */
export interface LiveView {
  reset(r: ResolvedRun): void;
  chunk(c: unknown): void;
  /** After each slice, before draw: reads what chunks do not carry (minimax's raster so far, binary states). */
  afterSlice?(runner: Runner<unknown>, r: ResolvedRun): Promise<void>;
  draw(): void;
}

export interface LivePageSpec {
  model: string;
  /** The parameters with live controls (the model's own names). */
  controls: readonly string[];
  /** The run options with fields. */
  options: readonly LiveOption[];
  /** Where the page starts besides the model's defaults (strings as typed into a field). */
  initial: Record<string, string>;
  /** Run options every run of the page gets (recorders), under the fields' values. */
  fixed?: RunRequest;
  /** Most steps per slice (binary: its state raster takes a column per slice). */
  maxSlice?: number;
  /**
   * A control changed by the user: fields to set with it (e.g. a length that suits the chosen task) and why, said
   * under the controls; null leaves the others as they are.
   */
  onChange?(name: string, value: string): { values: Record<string, string>; why: string } | null;
  /** The warm-up request, and the size chosen from what it measured (the fields it sets and why). */
  warmup: { request: RunRequest; choose(t: Throughput): { values: Record<string, string>; why: string } };
  createView(ctx: ViewContext): Promise<LiveView>;
}

export interface LivePageState {
  status: 'starting' | 'warming-up' | 'ready' | 'running' | 'paused' | 'done' | 'error';
  message: string;
  model: string;
  backend: string | null;
  backendReason: string | null;
  adapter: string | null;
  raster: { kind: string; reason: string | null; adapter: string } | null;
  warmup: { text: string; why: string } | null;
  /** The request of the current run, exactly as it went to resolve(). */
  request: RunRequest | null;
  stepsTotal: number;
  stepsDone: number;
  /** One entry per redraw of the plots during a run: steps done then. */
  updates: { step: number; total: number }[];
  runs: number;
  check: { what: string; exact: boolean; values: number[] } | null;
  fieldErrors: Record<string, string>;
  error: string | null;
  notices: string[];
  pageErrors: string[];
}

declare global {
  interface Window {
    __eiLive?: LivePageState;
    /** Frames per second of the raster at `points` points (test/model-pages.browser.test.ts). */
    __eiRasterFps?: (points: number, frames: number) => Promise<{ fps: number; points: number; frames: number; kind: string; adapter: string }>;
  }
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

// The message alone: a production build minifies class names, so e.name would read 'l'.
const errorText = (e: unknown) => (e instanceof Error ? e.message : String(e));
const decimal = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
/** Wall time a slice of steps aims at: the page redraws and answers clicks between slices. */
const sliceSeconds = 0.06;
const nextFrame = () => new Promise<void>((ok) => setTimeout(ok, 0));

interface Field {
  name: string;
  input: HTMLInputElement | HTMLSelectElement;
  wrap: HTMLElement;
  error: HTMLElement;
  spec?: ParamSpec;
}

/** The field a ParameterError names ('binary.k', '--n', 'dt', '--T/--dt' ...), if the page has it. */
function fieldOf(fields: Field[], field: string): Field | undefined {
  for (const raw of field.split(/[/,\s]+/)) {
    const name = raw.replace(/^--/, '').replace(/^[a-z]+\./, '').replace(/\[.*$/, '');
    const f = fields.find((x) => x.name === name);
    if (f) return f;
  }
  return undefined;
}

export async function mountLivePage(root: HTMLElement, spec: LivePageSpec): Promise<void> {
  const def: AnyModel = getModelDefinition(spec.model);
  const query = new URLSearchParams(location.search);
  const pageErrors: string[] = [];
  window.addEventListener('error', (e) => pageErrors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => pageErrors.push(String((e.reason as Error)?.message ?? e.reason)));
  const state: LivePageState = {
    status: 'starting', message: 'Starting…', model: def.id, backend: null, backendReason: null, adapter: null, raster: null, warmup: null,
    request: null, stepsTotal: 0, stepsDone: 0, updates: [], runs: 0, check: null, fieldErrors: {}, error: null, notices: [], pageErrors,
  };
  const publish = () => {
    window.__eiLive = { ...state, updates: [...state.updates], fieldErrors: { ...state.fieldErrors }, notices: [...state.notices], check: state.check && { ...state.check, values: [...state.check.values] } };
  };

  // ---- layout: backend card, controls card, status, plots
  const backendCard = el('section', { class: 'card', 'aria-label': 'backend' });
  const backendLine = el('div', { class: 'mono', 'data-role': 'backend' }, 'Backend: choosing…');
  const rasterLine = el('div', { class: 'mono', 'data-role': 'raster-backend' });
  const warmupLine = el('div', { class: 'mono', 'data-role': 'warmup' });
  backendCard.append(backendLine, rasterLine, warmupLine);

  const controlsCard = el('section', { class: 'card', 'aria-label': 'controls' });
  const grid = el('div', { class: 'fields', 'data-role': 'controls' });
  const actions = el('div', { class: 'actions' });
  const startButton = el('button', { type: 'button', class: 'primary', 'data-action': 'start' }, 'Start');
  const pauseButton = el('button', { type: 'button', 'data-action': 'pause' }, 'Pause');
  const resetButton = el('button', { type: 'button', 'data-action': 'reset' }, 'Reset');
  const statusLine = el('span', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-role': 'status' });
  actions.append(startButton, pauseButton, resetButton, statusLine);
  const progress = el('progress', { max: '1', value: '0', 'data-role': 'progress' });
  const messageBox = el('div', { class: 'message', role: 'alert', 'data-role': 'message', hidden: '' });
  controlsCard.append(grid, actions, progress, messageBox);

  const plots = el('section', { class: 'plots', 'data-role': 'plots' });
  const notes = el('section', { class: 'card notes', 'data-role': 'notes' });
  root.append(backendCard, controlsCard, plots, notes);

  let noBackend = false;
  const setStatus = (status: LivePageState['status'], message: string) => {
    state.status = status;
    state.message = message;
    statusLine.textContent = message;
    statusLine.dataset.status = status;
    const busy = status === 'starting' || status === 'warming-up';
    startButton.disabled = busy || status === 'running' || noBackend;
    startButton.textContent = status === 'paused' ? 'Resume' : 'Start';
    pauseButton.disabled = status !== 'running';
    resetButton.disabled = busy;
    publish();
  };
  const showMessage = (text: string | null) => {
    state.error = text;
    messageBox.hidden = text === null;
    messageBox.textContent = text ?? '';
  };
  const notify = (m: string) => {
    state.notices.push(m);
    publish();
  };

  // ---- controls from the model's parameter specs and the run options
  const fields: Field[] = [];
  const addField = (name: string, input: HTMLInputElement | HTMLSelectElement, label: string, doc: string, p?: ParamSpec) => {
    input.id = `live-${name}`;
    input.setAttribute('data-field', name);
    const wrap = el('div', { class: 'field', 'data-field-wrap': name, title: doc });
    const error = el('div', { class: 'field-error', 'data-field-error': name, role: 'alert', hidden: '' });
    wrap.append(el('label', { for: input.id }, label), input, el('div', { class: 'doc' }, doc), error);
    grid.appendChild(wrap);
    fields.push({ name, input, wrap, error, spec: p });
  };
  for (const name of spec.controls) {
    const p = def.parameters.find((x) => x.name === name);
    if (!p) throw new Error(`${def.id} has no parameter '${name}' (its parameters: ${def.parameters.map((x) => x.name).join(', ')})`);
    let input: HTMLInputElement | HTMLSelectElement;
    if (p.kind === 'choice') {
      input = el('select');
      for (const c of p.choices) input.appendChild(el('option', { value: c }, c));
    } else {
      // Text, not type=number: the model parses and checks the value, and its error is shown at the field.
      input = el('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false' });
    }
    input.value = query.get(name) ?? spec.initial[name] ?? String(p.default);
    addField(name, input, `${name}${p.unit ? ` (${p.unit})` : ''}`, p.doc, p);
  }
  const optionDocs: Record<LiveOption, string> = { n: 'neurons (per population where there are two)', steps: 'time steps', T: "simulated time, in the model's time unit", dt: 'time step', batch: 'instances run together' };
  for (const name of [...spec.options, 'seed'] as const) {
    const input = el('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false' });
    input.value = query.get(name) ?? spec.initial[name] ?? (name === 'seed' ? '1' : '');
    addField(name, input, name, name === 'seed' ? 'random seed: the same seed gives the same run' : optionDocs[name]);
  }
  // Parameters that do not apply to the current choices (appliesWhen) are hidden and not sent.
  const applies = (f: Field) => {
    const when = f.spec?.appliesWhen;
    if (!when) return true;
    return Object.entries(when).every(([k, allowed]) => allowed.includes(fields.find((x) => x.name === k)?.input.value ?? String(def.parameters.find((x) => x.name === k)?.default)));
  };
  const updateApplicable = () => {
    for (const f of fields) f.wrap.hidden = !applies(f);
  };
  updateApplicable();
  // Parameters outside the controls may be set from the URL (e.g. ?burnin=100); unknown names are the model's error.
  const extraParams: Record<string, string> = {};
  for (const [k, v] of query) if (def.parameters.some((p) => p.name === k) && !spec.controls.includes(k)) extraParams[k] = v;
  for (const [k, v] of Object.entries(spec.initial)) if (def.parameters.some((p) => p.name === k) && !spec.controls.includes(k) && !(k in extraParams)) extraParams[k] = v;

  const clearErrors = () => {
    state.fieldErrors = {};
    for (const f of fields) {
      f.error.hidden = true;
      f.error.textContent = '';
      f.wrap.removeAttribute('data-invalid');
    }
  };
  const fieldError = (f: Field, text: string) => {
    state.fieldErrors[f.name] = text;
    f.error.textContent = text;
    f.error.hidden = false;
    f.wrap.setAttribute('data-invalid', '');
  };

  /** The request the fields describe; null (errors marked) when an option is not a number. */
  const readRequest = (): RunRequest | null => {
    const params: Record<string, string> = { ...extraParams };
    const request: Record<string, unknown> = {};
    let ok = true;
    for (const f of fields) {
      if (!applies(f)) continue;
      const raw = f.input.value.trim();
      if (raw === '') continue;
      if (f.spec) params[f.name] = raw;
      else if (!decimal.test(raw)) {
        fieldError(f, `'${raw}' is not a decimal number`);
        ok = false;
      } else request[f.name] = Number(raw);
    }
    return ok ? ({ ...spec.fixed, ...request, params } as RunRequest) : null;
  };

  /** A ParameterError at its field (else in the message box). */
  const showError = (e: unknown) => {
    const f = e instanceof ParameterError ? fieldOf(fields, e.field) : undefined;
    if (f && !f.wrap.hidden) {
      fieldError(f, e instanceof Error ? e.message : String(e));
      setStatus('error', `Refused: ${(e as Error).message.split('\n')[0]}`);
    } else {
      showMessage(errorText(e));
      setStatus('error', `Failed: ${errorText(e).split('\n')[0]}`);
    }
  };

  // ---- backend: the engine's rule (a hardware GPU, else wasm, else the CPU reference), ?backend= to choose
  const requested = (query.get('backend') ?? 'auto') as 'auto' | 'webgpu' | 'wasm' | 'cpu';
  let sel: BackendSelection | null = null;
  try {
    sel = await selectBackend(requested, 'auto', notify, def.cpuBeatsSoftware, def.wasm);
  } catch (e) {
    noBackend = true;
    showMessage(errorText(e));
    setStatus('error', 'No backend: the simulation cannot run here.');
    return;
  }
  const info = sel.ctx?.info;
  state.backend = sel.backend;
  state.backendReason = sel.fallbackReason;
  state.adapter = info ? [info.vendor, info.architecture, info.description].filter(Boolean).join(' · ') : null;
  const targetOf = (r: ResolvedRun): RunTarget => ({
    backend: sel!.backend,
    ctx: sel!.ctx,
    threads: sel!.backend === 'wasm' ? (def.wasmThreads?.(r) ?? defaultThreadCount(r.n ?? 0, 64)) : undefined,
  });
  const describeBackend = (threads?: number) => {
    backendLine.dataset.backend = sel!.backend;
    backendLine.textContent =
      sel!.backend === 'webgpu'
        ? `Simulation: WebGPU on ${state.adapter}${info?.isSoftware ? ' (a software adapter: correct results, not GPU speed)' : ''}`
        : `Simulation: ${sel!.backend === 'wasm' ? `wasm (WebAssembly kernels, bit-identical to the CPU reference)${threads ? `, ${threads} thread${threads === 1 ? '' : 's'}` : ''}` : 'the CPU reference (TypeScript)'}${sel!.fallbackReason ? ` · why not WebGPU: ${sel!.fallbackReason}` : ''}`;
  };
  describeBackend();

  // ---- the page's plots (the raster asks for its own GPU device: the simulation may be on wasm)
  let rasterView: RasterView | null = null;
  const ctx: ViewContext = {
    chart(options, wide) {
      const fig = el('figure', { class: wide ? 'plot wide' : 'plot', 'data-plot': options.title });
      const canvas = el('canvas');
      fig.appendChild(canvas);
      plots.appendChild(fig);
      return new LineChart(canvas, options);
    },
    async raster(title) {
      const fig = el('figure', { class: 'plot wide', 'data-plot': 'raster' });
      const caption = el('figcaption', {}, title);
      const canvas = el('canvas', { class: 'raster', 'data-role': 'raster' });
      fig.append(caption, canvas);
      plots.appendChild(fig);
      rasterView = await createRasterView(canvas, query.get('raster') === '2d');
      state.raster = { kind: rasterView.kind, reason: rasterView.fallbackReason, adapter: rasterView.adapter };
      rasterLine.dataset.kind = rasterView.kind;
      rasterLine.textContent = rasterView.kind === 'webgpu' ? `Raster: WebGPU render pass (a quad per point) on ${rasterView.adapter}` : `Raster: 2D canvas fallback, because ${rasterView.fallbackReason}`;
      const view = rasterView;
      window.__eiRasterFps = (points, frames) => measureRasterFps(view, points, frames);
      return rasterView;
    },
    note() {
      const p = el('p', { class: 'note' });
      notes.appendChild(p);
      return p;
    },
  };
  const view = await spec.createView(ctx);

  // ---- the run, advanced in slices
  let runner: Runner<unknown> | null = null;
  let resolved: ResolvedRun | null = null;
  let check: RunCheck | null = null;
  let paused = false;
  let token = 0;
  let stepsPerSecond = 0;

  const stop = () => {
    token += 1;
    runner?.dispose();
    runner = null;
    resolved = null;
  };

  const loop = async (my: number) => {
    const r = resolved!;
    const run = runner!;
    while (my === token && run.stepsDone < run.stepsTotal) {
      // A pause takes effect between slices: the page says so once the slice under way has finished.
      if (paused) {
        setStatus('paused', `Paused at step ${run.stepsDone} of ${run.stepsTotal}.`);
        return;
      }
      // Slices aim at sliceSeconds of wall time (from the rate so far); ?slice=K caps them (tests: several slices).
      const cap = Math.min(Number(query.get('slice')) || Infinity, spec.maxSlice ?? Infinity);
      const k = Math.max(1, Math.min(run.stepsTotal - run.stepsDone, cap, Math.round(stepsPerSecond * sliceSeconds) || 1));
      const t0 = performance.now();
      await run.run(k, { onChunk: (c) => { view.chunk(c); check?.onChunk(c); } });
      if (my !== token) return;
      const dt = (performance.now() - t0) / 1000;
      stepsPerSecond = stepsPerSecond > 0 ? 0.5 * stepsPerSecond + 0.5 * (k / Math.max(dt, 1e-4)) : k / Math.max(dt, 1e-4);
      await view.afterSlice?.(run, r);
      if (my !== token) return;
      view.draw();
      state.stepsDone = run.stepsDone;
      if (run.stepsDone < run.stepsTotal) state.updates.push({ step: run.stepsDone, total: run.stepsTotal });
      progress.value = run.stepsDone / run.stepsTotal;
      statusLine.textContent = `Running: step ${run.stepsDone} of ${run.stepsTotal} (${Math.round(stepsPerSecond)} steps/s)`;
      publish();
      await nextFrame();
    }
    if (my !== token) return;
    // A pause asked for during the last slice has nothing left to hold.
    paused = false;
    await check?.finish(run);
    view.draw();
    state.check = check ? { what: check.what, exact: check.exact, values: check.values } : null;
    state.runs += 1;
    setStatus('done', `Done: ${run.stepsTotal} steps.`);
  };

  const start = async () => {
    if (state.status === 'paused' && runner) {
      paused = false;
      setStatus('running', 'Resumed.');
      const my = token;
      void loop(my).catch((e) => showError(e));
      return;
    }
    stop();
    clearErrors();
    showMessage(null);
    const request = readRequest();
    if (!request) {
      setStatus('error', 'Refused: a field is not a number (marked above).');
      return;
    }
    const my = token;
    try {
      const r = def.resolve(request);
      const target = targetOf(r);
      checkRunLimits(def.estimate(r, target), target, notify);
      setStatus('running', 'Allocating…');
      const made = await def.createRunner(r, target);
      if (my !== token) {
        made.dispose();
        return;
      }
      runner = made;
      resolved = r;
      describeBackend(target.threads);
      state.request = request;
      state.stepsTotal = r.steps;
      state.stepsDone = 0;
      state.updates = [];
      state.check = null;
      check = runChecks[def.id]?.() ?? null;
      paused = false;
      view.reset(r);
      view.draw();
      const url = new URL(location.href);
      for (const f of fields) if (applies(f)) url.searchParams.set(f.name, f.input.value.trim());
      history.replaceState(null, '', url);
      setStatus('running', `Running ${r.steps} steps…`);
      await loop(my);
    } catch (e) {
      if (my === token) {
        stop();
        showError(e);
      }
    }
  };

  startButton.addEventListener('click', () => void start());
  pauseButton.addEventListener('click', () => {
    if (state.status !== 'running') return;
    paused = true;
    pauseButton.disabled = true;
    statusLine.textContent = 'Pausing after this slice…';
  });
  resetButton.addEventListener('click', () => {
    stop();
    paused = false;
    clearErrors();
    showMessage(null);
    rasterView?.clear();
    rasterView?.draw();
    progress.value = 0;
    setStatus('ready', 'Reset. Press Start.');
  });
  // Live controls: a changed value is checked by the model at once; while a run goes, it restarts with it.
  for (const f of fields) {
    f.input.addEventListener('change', () => {
      const follow = spec.onChange?.(f.name, f.input.value) ?? null;
      if (follow) {
        for (const [k, v] of Object.entries(follow.values)) {
          const g = fields.find((x) => x.name === k);
          if (g) g.input.value = v;
        }
        notify(follow.why);
        warmupLine.textContent = `${warmupLine.textContent?.split(' · Changed with ')[0] ?? ''} · Changed with ${f.name}: ${follow.why}`;
      }
      updateApplicable();
      clearErrors();
      const request = readRequest();
      if (!request) return;
      try {
        def.resolve(request);
      } catch (e) {
        showError(e);
        return;
      }
      if (state.status === 'error') setStatus('ready', 'Ready. Press Start.');
      if (state.status === 'running' || state.status === 'paused') void start();
    });
  }
  window.addEventListener('pagehide', () => {
    stop();
    rasterView?.dispose();
    sel?.ctx?.dispose();
  });

  // ---- warm-up: a few timed steps of a small run, then the size the page starts with
  setStatus('warming-up', 'Measuring this backend…');
  try {
    const wr = def.resolve(spec.warmup.request);
    const target = targetOf(wr);
    const w = await def.createRunner(wr, target);
    try {
      // The first slice compiles pipelines and starts threads: not timed.
      const first = Math.max(1, Math.floor(wr.steps / 5));
      await w.run(first);
      const t0 = performance.now();
      await w.run(wr.steps - first);
      const seconds = Math.max(1e-4, (performance.now() - t0) / 1000);
      const timed = wr.steps - first;
      const t: Throughput = {
        stepsPerSecond: timed / seconds,
        unitsPerSecond: (timed * wr.neuronsPerStep) / seconds,
        text: `${timed} steps of ${wr.neuronsPerStep} neurons in ${(seconds * 1000).toFixed(0)} ms on ${sel.backend}`,
      };
      stepsPerSecond = 0;
      const chosen = spec.warmup.choose(t);
      const fromUrl = Object.keys(chosen.values).filter((k) => query.has(k));
      for (const [k, v] of Object.entries(chosen.values)) {
        const f = fields.find((x) => x.name === k);
        if (f && !query.has(k)) f.input.value = v;
      }
      state.warmup = { text: t.text, why: chosen.why };
      warmupLine.textContent = `Warm-up: ${t.text} (${t.unitsPerSecond.toExponential(2)} neuron-steps/s) · ${chosen.why}${fromUrl.length ? ` · ${fromUrl.join(', ')} taken from the URL instead` : ''}`;
    } finally {
      w.dispose();
    }
  } catch (e) {
    warmupLine.textContent = `Warm-up failed (${errorText(e)}); the page's default size stays.`;
  }
  updateApplicable();
  setStatus('ready', 'Ready. Press Start.');
  if (query.get('autorun') === '1') void start();
}
