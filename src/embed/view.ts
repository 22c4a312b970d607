// One embedded simulation: its DOM in a shadow root (header, Start / Stop / Reset, progress, error, results) and the
// run it drives through the public engine API; used by mount() and the <ei-simulation> element.
import { createEngine, modelIds, type Engine, type EngineOptions, type Simulation } from '../engine/engine.ts';
import { ParameterError } from '../errors.ts';
import { makeEmbedErrorText } from './error-text.ts';
import { makeSummaryRows, svgImageSource, type SummaryRow } from './outputs.ts';

export type EmbedBackend = NonNullable<EngineOptions['backend']>;

/** The backends an embedded simulation may ask for (those of createEngine). */
export const embedBackends: readonly EmbedBackend[] = ['auto', 'webgpu', 'wasm', 'cpu'];

/** What an embedded simulation runs: a registered model and its request (an option left out takes the model's default). */
export interface EmbedOptions {
  /** A registered model id (`modelIds`), e.g. 'hybrid'. */
  model: string;
  n?: number;
  /** The duration: steps or T (in the model's time unit), not both. */
  steps?: number;
  T?: number;
  seed?: number;
  /** createEngine's backend (default 'auto'). */
  backend?: EmbedBackend;
  /** wasm: worker threads (more than one needs a cross-origin isolated page). */
  threads?: number;
  /** Model parameters by name, as `--set` takes them (strings are parsed strictly). */
  params?: Readonly<Record<string, string | number>>;
}

export type EmbedStatus = 'starting' | 'ready' | 'running' | 'done' | 'stopped' | 'error' | 'disposed';

/** What the view shows, as data (for a page that wants to follow it, and for tests). */
export interface EmbedState {
  status: EmbedStatus;
  message: string;
  model: string | null;
  /** The engine's backend, and the one the last run used (a model may run on wasm or the CPU instead, with a notice). */
  engineBackend: string | null;
  runBackend: string | null;
  adapter: string | null;
  progress: { done: number; total: number };
  /** Completed runs. */
  runs: number;
  line: string | null;
  summary: SummaryRow[];
  /** The file name of the figure shown. */
  figure: string | null;
  /** The error shown (a ParameterError's message names the field and the fix), else null. */
  error: string | null;
  notices: string[];
  disposed: boolean;
}

/** The event the host element dispatches after every change of state; `detail` is the new EmbedState. */
export const embedStateEvent = 'ei-simulation-state';

const styles = `
:host { display: block; min-width: 0; }
[hidden] { display: none !important; }
.ei { font: 13px/1.45 system-ui, sans-serif; color: #1d232b; background: #fff; border: 1px solid #d9dee5; border-radius: 8px; padding: 12px 14px; display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; }
header { display: flex; flex-wrap: wrap; gap: 2px 12px; align-items: baseline; }
header .model { font-weight: 650; font-size: 14px; }
header .meta { font: 11.5px ui-monospace, monospace; color: #5b6470; }
.controls { display: flex; flex-wrap: wrap; gap: 6px; align-items: center; }
button { font: inherit; font-weight: 600; padding: 4px 12px; border-radius: 5px; border: 1px solid #b8c0ca; background: #f6f8fa; cursor: pointer; }
button[data-action=start] { background: #0b5cad; border-color: #0b5cad; color: #fff; }
button:disabled { opacity: 0.5; cursor: default; }
.status { color: #5b6470; }
progress { width: 100%; height: 6px; }
.error { padding: 6px 10px; border-radius: 5px; background: #fdecea; color: #b42318; border: 1px solid #f5c2bd; white-space: pre-wrap; font: 12px ui-monospace, monospace; }
.notices { margin: 0; padding-left: 16px; color: #5b6470; font-size: 11.5px; }
.line { font: 12px ui-monospace, monospace; background: #f6f8fa; padding: 6px 8px; border-radius: 5px; overflow-x: auto; white-space: pre; }
.summary { max-height: 180px; overflow: auto; }
table { border-collapse: collapse; font-size: 12px; }
th, td { text-align: left; padding: 1px 12px 1px 0; border-bottom: 1px solid #eef1f4; }
th { color: #5b6470; font-weight: 500; }
td { font-variant-numeric: tabular-nums; }
[data-role=results] { display: grid; grid-template-columns: minmax(0, 1fr); gap: 8px; }
figure { margin: 0; }
img { display: block; width: 100%; height: auto; }
figcaption { font-size: 11.5px; color: #5b6470; }
`;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The view's elements, in `root` (replacing what it held). */
function buildDom(root: ShadowRoot) {
  const model = el('span', { class: 'model', 'data-role': 'model' });
  const backend = el('span', { class: 'meta', 'data-role': 'backend' });
  const adapter = el('span', { class: 'meta', 'data-role': 'adapter' });
  const start = el('button', { type: 'button', 'data-action': 'start' }, 'Start');
  const stop = el('button', { type: 'button', 'data-action': 'stop' }, 'Stop');
  const reset = el('button', { type: 'button', 'data-action': 'reset' }, 'Reset');
  const status = el('span', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-role': 'status' });
  const progress = el('progress', { max: '1', value: '0', 'data-role': 'progress' });
  const error = el('div', { class: 'error', role: 'alert', 'data-role': 'error', hidden: '' });
  const notices = el('ul', { class: 'notices', 'data-role': 'notices' });
  const line = el('div', { class: 'line', 'data-role': 'line' });
  const table = el('table', { 'data-role': 'summary' });
  const summaryBox = el('div', { class: 'summary' });
  summaryBox.append(table);
  const img = el('img', { alt: '' });
  const caption = el('figcaption');
  const figure = el('figure', { 'data-role': 'figure' });
  figure.append(img, caption);
  const results = el('div', { 'data-role': 'results', hidden: '' });
  results.append(line, summaryBox, figure);
  const head = el('header');
  head.append(model, backend, adapter);
  const controls = el('div', { class: 'controls' });
  controls.append(start, stop, reset, status);
  const box = el('div', { class: 'ei', part: 'container' });
  box.append(head, controls, progress, error, notices, results);
  root.replaceChildren(el('style', {}, styles), box);
  return { model, backend, adapter, start, stop, reset, status, progress, error, notices, line, table, img, caption, figure, results };
}

/** Checks what the engine cannot check before it exists: the model id, the backend, and that numbers are numbers. */
export function checkEmbedOptions(o: EmbedOptions): EmbedOptions {
  if (typeof o.model !== 'string' || o.model === '') throw new ParameterError('model', 'is missing', `name a registered model: ${modelIds.join(', ')}`);
  if (!modelIds.includes(o.model)) throw new ParameterError('model', `unknown model '${o.model}'`, `valid models: ${modelIds.join(', ')}`);
  if (o.backend !== undefined && !embedBackends.includes(o.backend)) throw new ParameterError('backend', `'${String(o.backend)}' is not a backend`, `use one of ${embedBackends.join(', ')}`);
  for (const k of ['n', 'steps', 'T', 'seed', 'threads'] as const) {
    const v = o[k];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) throw new ParameterError(k, `${String(v)} is not a finite number`, `give ${k} a number, or leave it out for the model's default`);
  }
  if (o.params !== undefined && (typeof o.params !== 'object' || o.params === null || Array.isArray(o.params))) throw new ParameterError('params', 'is not an object of parameter values', 'give params as { name: value }, e.g. { "JE": 1.5 }');
  return o;
}

/**
 * The view and its run. `read` gives the options (it may throw an EiError naming a bad one, shown in the view); it is
 * read again by configure(), which applies at once while idle and at the next start while a run is going.
 */
export class SimulationView {
  private readonly ui: ReturnType<typeof buildDom>;
  private readonly state: EmbedState = {
    status: 'starting',
    message: 'Starting the engine…',
    model: null,
    engineBackend: null,
    runBackend: null,
    adapter: null,
    progress: { done: 0, total: 0 },
    runs: 0,
    line: null,
    summary: [],
    figure: null,
    error: null,
    notices: [],
    disposed: false,
  };
  private options: EmbedOptions | null = null;
  private engine: Engine | null = null;
  private engineKey = '';
  private engineReady: Promise<void> = Promise.resolve();
  private engineToken = 0;
  private pending = false;
  private resetRequested = false;
  private controller: AbortController | null = null;
  private sim: Simulation | null = null;

  constructor(
    root: ShadowRoot,
    private readonly host: HTMLElement,
    private readonly read: () => EmbedOptions,
  ) {
    this.ui = buildDom(root);
    const { start, stop, reset } = this.ui;
    start.addEventListener('click', () => void this.start());
    stop.addEventListener('click', () => this.stop());
    reset.addEventListener('click', () => this.reset());
    this.configure();
  }

  get disposed(): boolean {
    return this.state.disposed;
  }

  /** A copy of the current state. */
  snapshot(): EmbedState {
    return { ...this.state, progress: { ...this.state.progress }, summary: [...this.state.summary], notices: [...this.state.notices] };
  }

  /** Reads the options again: applied now while idle, at the next start while a run is going. */
  configure(): void {
    if (this.state.disposed) return;
    if (this.state.status === 'running') {
      this.pending = true;
      return;
    }
    this.pending = false;
    try {
      this.options = checkEmbedOptions(this.read());
    } catch (e) {
      this.options = null;
      this.state.model = null;
      this.ui.model.textContent = 'ei-simulation';
      this.fail(e);
      return;
    }
    this.showError(null);
    this.showModel();
    const { backend = 'auto', threads } = this.options;
    const key = `${backend}|${threads ?? ''}`;
    if (key !== this.engineKey || !this.engine) {
      this.engineKey = key;
      this.engineReady = this.createEngine(backend, threads);
    } else {
      this.setStatus('ready', 'Ready. Press Start.');
    }
  }

  /** Runs the model with the current options; resolves when the run ended (done, stopped or failed). */
  async start(): Promise<void> {
    if (this.state.disposed || this.state.status === 'running') return;
    if (this.pending || this.state.status === 'error') this.configure();
    await this.engineReady;
    const engine = this.engine;
    const o = this.options;
    if (!engine || !o || this.state.disposed || this.state.status === 'error') return;
    this.clearResults();
    this.showError(null);
    const ac = new AbortController();
    this.controller = ac;
    this.setProgress(0, 0);
    this.setStatus('running', 'Starting…');
    try {
      const sim = await engine.simulate(o.model, {
        n: o.n,
        steps: o.steps,
        T: o.T,
        seed: o.seed,
        params: o.params,
        signal: ac.signal,
        onProgress: (done, total) => {
          this.setProgress(done, total);
          this.ui.status.textContent = `Step ${done} of ${total}`;
        },
      });
      this.sim = sim;
      if (this.state.disposed) return;
      this.state.runBackend = sim.backend;
      this.ui.backend.textContent = `backend: ${sim.backend}${sim.threads !== null ? ` (${sim.threads} thread${sim.threads === 1 ? '' : 's'})` : ''}`;
      this.setProgress(0, sim.resolved.steps);
      this.setStatus('running', `Running ${sim.resolved.steps} steps…`);
      await sim.done;
      const out = await sim.outputs();
      if (this.state.disposed) return;
      this.state.line = out.line;
      this.state.summary = makeSummaryRows(out.summary, out.explainNonFinite, 1);
      const svg = out.files.find((f) => f.name.endsWith('.svg')) ?? null;
      this.state.figure = svg?.name ?? null;
      this.ui.line.textContent = out.line;
      const rows = this.state.summary.map((r) => {
        const tr = el('tr', { 'data-summary-field': r.field });
        const td = el('td', {}, r.value);
        if (r.why) td.title = r.why;
        tr.append(el('th', {}, r.field), td);
        return tr;
      });
      this.ui.table.replaceChildren(...rows);
      this.ui.figure.hidden = svg === null;
      if (svg) {
        this.ui.img.src = svgImageSource(svg);
        this.ui.img.alt = svg.name;
        this.ui.caption.textContent = svg.name;
      }
      this.ui.results.hidden = false;
      this.state.runs += 1;
      this.setStatus('done', `Done: ${sim.resolved.steps} steps on ${sim.backend}.`);
    } catch (e) {
      if (this.state.disposed) return;
      if (ac.signal.aborted) this.setStatus('stopped', `Stopped at step ${this.state.progress.done} of ${this.state.progress.total}.`);
      else this.fail(e);
    } finally {
      this.sim?.dispose();
      this.sim = null;
      if (this.controller === ac) this.controller = null;
      if (this.resetRequested && !this.state.disposed) {
        this.resetRequested = false;
        this.reset();
      }
    }
  }

  /** Stops a run at the next chunk of steps (the engine cannot resume one: Start runs it again from step 0). */
  stop(): void {
    this.controller?.abort(new DOMException('stopped from the page', 'AbortError'));
  }

  /** Stops a run, clears its results and applies the current options. */
  reset(): void {
    if (this.state.disposed) return;
    this.stop();
    this.clearResults();
    this.setProgress(0, 0);
    // A run ends at its next chunk of steps; the reset completes then.
    if (this.state.status === 'running') {
      this.resetRequested = true;
      return;
    }
    this.configure();
  }

  /** Stops the run and frees the simulation and the engine (GPU device, wasm workers); idempotent. */
  dispose(): void {
    if (this.state.disposed) return;
    this.stop();
    this.sim?.dispose();
    this.sim = null;
    this.engine?.dispose();
    this.engine = null;
    this.engineToken += 1;
    this.state.disposed = true;
    this.setStatus('disposed', 'Disposed.');
  }

  private async createEngine(backend: EmbedBackend, threads: number | undefined): Promise<void> {
    const token = ++this.engineToken;
    this.engine?.dispose();
    this.engine = null;
    this.setStatus('starting', 'Starting the engine…');
    try {
      const engine = await createEngine({ backend, threads, onNotice: (m) => this.notice(m) });
      if (token !== this.engineToken) {
        engine.dispose();
        return;
      }
      this.engine = engine;
      this.state.engineBackend = engine.backend;
      const a = (engine.adapter ?? {}) as Record<string, unknown>;
      const adapter = [a.vendor, a.architecture, a.description].filter((x) => typeof x === 'string' && x !== '').join(' · ');
      this.state.adapter = adapter || null;
      this.ui.backend.textContent = `engine: ${engine.backend}`;
      this.ui.adapter.textContent = adapter ? `adapter: ${adapter}${a.isSoftware && engine.backend === 'webgpu' ? ' (software)' : ''}` : '';
      this.showModel();
      this.setStatus('ready', 'Ready. Press Start.');
    } catch (e) {
      if (token === this.engineToken) this.fail(e);
    }
  }

  private showModel(): void {
    const id = this.options?.model ?? null;
    this.state.model = id;
    const title = this.engine?.models.find((m) => m.id === id)?.title;
    this.ui.model.textContent = title ? `${title} (${id})` : (id ?? '');
  }

  private fail(e: unknown): void {
    this.showError(makeEmbedErrorText(e));
    this.setStatus('error', e instanceof ParameterError ? `Refused: invalid ${e.field}.` : 'Failed.');
  }

  private showError(text: string | null): void {
    this.state.error = text;
    this.ui.error.hidden = text === null;
    this.ui.error.textContent = text ?? '';
  }

  private notice(m: string): void {
    this.state.notices.push(m);
    this.ui.notices.append(el('li', {}, m));
  }

  private clearResults(): void {
    this.state.line = null;
    this.state.summary = [];
    this.state.figure = null;
    this.state.runBackend = null;
    this.ui.results.hidden = true;
    this.ui.line.textContent = '';
    this.ui.table.replaceChildren();
    this.ui.img.removeAttribute('src');
  }

  private setProgress(done: number, total: number): void {
    this.state.progress = { done, total };
    this.ui.progress.value = total > 0 ? done / total : 0;
  }

  private setStatus(status: EmbedStatus, message: string): void {
    this.state.status = status;
    this.state.message = message;
    this.ui.status.textContent = message;
    const running = status === 'running';
    const usable = !this.state.disposed && status !== 'starting';
    this.ui.start.disabled = running || !usable || this.options === null;
    this.ui.stop.disabled = !running;
    this.ui.reset.disabled = !usable;
    this.host.dispatchEvent(new CustomEvent(embedStateEvent, { detail: this.snapshot() }));
  }
}
