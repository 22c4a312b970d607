// Embeddable interactive demo of the `poisson` model: controls, a WebGPU run, plots against theory and a bit-exact CPU cross-check.
import { runExperiment, type ExperimentOptions, type ExperimentResult } from '../src/models/poisson/experiment.ts';
import { createGpuContext, type AdapterSummary, type GpuContext } from '../src/gpu/context.ts';
import { poissonParameters } from '../src/models/poisson/index.ts';
import { poissonDefaults } from '../src/models/poisson/population.ts';
import type { NumberParam } from '../src/core/params.ts';
import { makeLinePlot, makeScatter } from '../src/report/svg.ts';

export type Sigmoid = 'probit' | 'logistic';

/** What one run uses; T is in seconds, dt is the model's default time step. */
export interface PoissonDemoConfig {
  n: number;
  T: number;
  seed: number;
  rIn: number;
  w: number;
  theta: number;
  sigmoid: Sigmoid;
  /** Initial potential of every neuron (the stationary mean rIn w tau skips the transient). */
  u0: number;
  /** Run the CPU reference with the same seed after each GPU run. */
  checkCpu: boolean;
}

export type DemoStatus = 'idle' | 'starting' | 'running' | 'checking' | 'done' | 'error' | 'unavailable';

export interface DemoSummary {
  n: number;
  steps: number;
  dt: number;
  seed: number;
  /** All spikes of all neurons over the whole run (GPU). */
  totalSpikes: number;
  /** Population rate over the whole run, spikes / (n T). */
  rateHz: number;
  /** Time average of the theoretical rate over the same steps. */
  rateHzTheory: number;
  /** Population mean and variance of u after the last step, simulated and exact. */
  finalMeanU: number;
  finalMeanUTheory: number;
  finalVarU: number;
  finalVarUTheory: number;
  /** Burn-in excluded from the engine's time averages (capped at T/2 for short runs). */
  burnin: number;
  /** The engine's post-burn-in averages: simulation and stationary theory. */
  engine: { rateHz: number; meanU: number; varU: number; rateHzTheory: number; meanUTheory: number; varUTheory: number; spikeCountZ: number };
  rasterSpikes: number;
  gpuSeconds: number;
  cpuSeconds: number | null;
  /** Step of the first differing population count, -1 when none (null before the CPU check). */
  firstMismatchStep: number | null;
  rasterIdentical: boolean | null;
  /** Largest |u_gpu - u_cpu| over all neurons at the final step (floats: close, not bit-equal). */
  maxFinalDeltaU: number | null;
}

/** The demo's observable state (also what tests read from window.__eiDemo). */
export interface PoissonDemoState {
  status: DemoStatus;
  message: string;
  /** Completed GPU runs since mounting. */
  runs: number;
  adapter: AdapterSummary | null;
  config: PoissonDemoConfig | null;
  /** Population spike count per step, GPU backend. */
  gpuCounts: number[] | null;
  /** The same from the CPU reference (same seed), after the check. */
  cpuCounts: number[] | null;
  /** Integer spike counts and the raster are identical on both backends (null before the check). */
  identical: boolean | null;
  summary: DemoSummary | null;
  error: string | null;
}

export interface PoissonDemoOptions {
  /** Starting values of the controls; the rest are the model defaults. */
  initial?: Partial<PoissonDemoConfig>;
  /** Called after every state change. */
  onState?: (state: PoissonDemoState) => void;
  /** Number of neurons shown in the raster (default 80). */
  rasterNeurons?: number;
}

export interface PoissonDemoHandle {
  /** Runs with the current controls (or `config` merged into them); resolves when the run and its check end. */
  run(config?: Partial<PoissonDemoConfig>): Promise<PoissonDemoState>;
  /** Runs the CPU reference for the last GPU run. */
  checkCpu(): Promise<PoissonDemoState>;
  readonly state: PoissonDemoState;
  /** Releases the GPU device and removes the demo's DOM; safe to call twice. */
  dispose(): void;
}

const dt = poissonDefaults.dt;
const spec = (name: string) => poissonParameters.find((p) => p.name === name)!;
const defaultNumber = (name: string) => (spec(name) as NumberParam).default;
const burninDefault = defaultNumber('burnin');

export const defaultDemoConfig: PoissonDemoConfig = {
  n: 10_000,
  T: 0.2,
  seed: 1,
  rIn: defaultNumber('rIn'),
  w: defaultNumber('w'),
  theta: defaultNumber('theta'),
  sigmoid: spec('sigmoid').default as Sigmoid,
  u0: defaultNumber('u0'),
  checkCpu: true,
};

/** Steps of a run of duration T with the model's dt (at least one). */
export function stepsFor(T: number): number {
  return Math.max(1, Math.round(T / dt));
}

function column(r: ExperimentResult, name: string): number[] {
  const i = r.timeseries.columns.indexOf(name);
  return r.timeseries.rows.map((row) => row[i]);
}

function sameArrays(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function fmt(v: number, digits = 3): string {
  if (!Number.isFinite(v)) return String(v);
  if (v !== 0 && (Math.abs(v) >= 1e5 || Math.abs(v) < 1e-3)) return v.toExponential(digits - 1);
  return Number(v.toPrecision(digits)).toString();
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

function installStyle(doc: Document): void {
  if (doc.getElementById('ei-demo-style')) return;
  const s = doc.createElement('style');
  s.id = 'ei-demo-style';
  s.textContent = demoCss;
  doc.head.appendChild(s);
}

interface Field {
  key: keyof PoissonDemoConfig;
  label: string;
  unit: string;
  doc: string;
  input: HTMLInputElement | HTMLSelectElement;
}

/** Builds the demo inside `element` (which it owns until dispose). */
export function mountPoissonDemo(element: HTMLElement, options: PoissonDemoOptions = {}): PoissonDemoHandle {
  installStyle(element.ownerDocument);
  const initial: PoissonDemoConfig = { ...defaultDemoConfig, ...options.initial };
  const rasterNeurons = options.rasterNeurons ?? 80;

  const root = el('section', { class: 'ei-demo', 'aria-label': 'Poisson neuron population demo' });
  element.appendChild(root);

  // ---- controls
  const form = el('form', { class: 'ei-card ei-controls', novalidate: '' });
  const fieldsBox = el('div', { class: 'ei-fields' });
  const fields: Field[] = [];
  const addNumber = (key: keyof PoissonDemoConfig, label: string, unit: string, doc: string, attrs: Record<string, string>) => {
    const input = el('input', { type: 'number', name: key, ...attrs });
    input.value = String(initial[key]);
    fields.push({ key, label, unit, doc, input });
  };
  addNumber('n', 'neurons n', '', 'number of independent neurons simulated', { min: '1', step: '1' });
  addNumber('T', 'duration T', 's', `simulated time; dt = ${dt} s, so steps = T / dt`, { min: String(dt), step: 'any' });
  addNumber('seed', 'seed', '', 'RNG seed: the same seed gives the same spikes on GPU and CPU', { min: '0', step: '1' });
  addNumber('rIn', 'input rIn', spec('rIn').unit ?? '', spec('rIn').doc, { min: '0', step: 'any' });
  addNumber('w', 'jump w', '', spec('w').doc, { step: 'any' });
  addNumber('theta', 'midpoint θ', '', spec('theta').doc, { step: 'any' });
  const sigmoidSelect = el('select', { name: 'sigmoid' });
  for (const c of (spec('sigmoid') as { choices: readonly string[] }).choices) sigmoidSelect.appendChild(el('option', { value: c }, c));
  sigmoidSelect.value = initial.sigmoid;
  fields.push({ key: 'sigmoid', label: 'sigmoid f(u)', unit: '', doc: spec('sigmoid').doc, input: sigmoidSelect });
  addNumber('u0', 'initial u0', '', spec('u0').doc, { step: 'any' });
  for (const f of fields) {
    const id = `ei-${f.key}-${Math.random().toString(36).slice(2, 8)}`;
    f.input.id = id;
    const wrap = el('div', { class: 'ei-field', title: f.doc });
    const label = el('label', { for: id }, f.label);
    if (f.unit) label.appendChild(el('span', { class: 'ei-unit' }, ` (${f.unit})`));
    wrap.append(label, f.input);
    fieldsBox.appendChild(wrap);
  }
  const checkBox = el('input', { type: 'checkbox', name: 'checkCpu', id: `ei-check-${Math.random().toString(36).slice(2, 8)}` });
  checkBox.checked = initial.checkCpu;
  const checkLabel = el('label', { class: 'ei-check', for: checkBox.id });
  checkLabel.prepend(checkBox);
  checkLabel.append(' check against the CPU reference after each run');
  const runButton = el('button', { type: 'submit', class: 'ei-primary', 'data-action': 'run' }, 'Run on GPU');
  const checkButton = el('button', { type: 'button', 'data-action': 'check' }, 'Check against CPU');
  checkButton.disabled = true;
  const actions = el('div', { class: 'ei-actions' });
  actions.append(runButton, checkButton, checkLabel);
  form.append(fieldsBox, actions);

  // ---- status
  const statusCard = el('div', { class: 'ei-card ei-status-card' });
  const adapterLine = el('div', { class: 'ei-adapter' }, 'Adapter: not requested yet');
  const statusLine = el('div', { class: 'ei-status', role: 'status', 'aria-live': 'polite' }, 'Ready. Press Run.');
  const progress = el('progress', { class: 'ei-progress', max: '1', value: '0' });
  const verdict = el('div', { class: 'ei-verdict', hidden: '' });
  const summaryGrid = el('dl', { class: 'ei-summary' });
  statusCard.append(adapterLine, statusLine, progress, verdict, summaryGrid);

  // ---- plots
  const plots = el('div', { class: 'ei-plots' });
  const ratePlot = el('figure', { class: 'ei-plot', 'data-plot': 'rate' });
  const meanPlot = el('figure', { class: 'ei-plot', 'data-plot': 'mean-u' });
  const rasterPlot = el('figure', { class: 'ei-plot ei-wide', 'data-plot': 'raster' });
  plots.append(ratePlot, meanPlot, rasterPlot);

  root.append(form, statusCard, plots);

  const state: PoissonDemoState = {
    status: 'idle',
    message: 'Ready. Press Run.',
    runs: 0,
    adapter: null,
    config: null,
    gpuCounts: null,
    cpuCounts: null,
    identical: null,
    summary: null,
    error: null,
  };
  let ctx: GpuContext | null = null;
  let disposed = false;
  let busy: Promise<PoissonDemoState> | null = null;
  let lastGpu: { result: ExperimentResult; options: ExperimentOptions } | null = null;

  const emit = () => options.onState?.({ ...state });
  const setStatus = (status: DemoStatus, message: string) => {
    state.status = status;
    state.message = message;
    statusLine.textContent = message;
    statusLine.dataset.status = status;
    const working = status === 'starting' || status === 'running' || status === 'checking';
    runButton.disabled = working || status === 'unavailable';
    checkButton.disabled = working || status === 'unavailable' || lastGpu === null;
    root.classList.toggle('ei-busy', working);
    emit();
  };
  const setProgress = (done: number, total: number) => {
    progress.value = total > 0 ? done / total : 0;
  };

  const readConfig = (): PoissonDemoConfig => {
    const c = { ...initial } as unknown as Record<string, number | string | boolean>;
    for (const f of fields) c[f.key] = f.key === 'sigmoid' ? f.input.value : f.input.value.trim() === '' ? NaN : Number(f.input.value);
    c.checkCpu = checkBox.checked;
    return c as unknown as PoissonDemoConfig;
  };
  const writeConfig = (c: Partial<PoissonDemoConfig>) => {
    for (const f of fields) if (c[f.key] !== undefined) f.input.value = String(c[f.key]);
    if (c.checkCpu !== undefined) checkBox.checked = c.checkCpu;
  };

  const describeAdapter = (a: AdapterSummary): string => {
    const name = [a.vendor, a.architecture, a.device].filter(Boolean).join(' / ') || 'unnamed adapter';
    return `Adapter: ${name}${a.isSoftware ? ' (software rendering: correct but slow)' : ''}`;
  };

  async function ensureContext(): Promise<GpuContext> {
    if (ctx && !ctx.isDisposed) return ctx;
    if (!(navigator as Navigator & { gpu?: GPU }).gpu) {
      const msg = 'WebGPU unavailable: this browser has no navigator.gpu. Use a recent Chrome or Edge (over https or http://127.0.0.1), or the command line: npx ei run poisson';
      adapterLine.textContent = 'Adapter: none (WebGPU unavailable)';
      setStatus('unavailable', msg);
      throw new Error(msg);
    }
    ctx = await createGpuContext({ notify: () => {} });
    state.adapter = ctx.info;
    adapterLine.textContent = describeAdapter(ctx.info);
    adapterLine.dataset.software = String(ctx.info.isSoftware);
    return ctx;
  }

  function experimentOptions(c: PoissonDemoConfig, steps: number): ExperimentOptions {
    const neurons = Array.from({ length: Math.min(rasterNeurons, c.n) }, (_, i) => i);
    return {
      set: { rIn: c.rIn, w: c.w, theta: c.theta, sigmoid: c.sigmoid, u0: c.u0, burnin: Math.min(burninDefault, (steps * dt) / 2) },
      n: c.n,
      steps,
      dt,
      seed: c.seed,
      backend: 'webgpu',
      recorders: { spikes: { neurons }, chunkSteps: Math.max(25, Math.ceil(steps / 40)) },
      recordEvery: 1,
    };
  }

  function summarize(r: ExperimentResult): DemoSummary {
    const counts = column(r, 'spikes');
    const total = counts.reduce((a, b) => a + b, 0);
    const theoryRates = column(r, 'rateHzTheory');
    const inst = r.instances[0];
    const last = (name: string) => column(r, name).at(-1) ?? NaN;
    return {
      n: r.resolved.n,
      steps: r.resolved.steps,
      dt: r.resolved.dt,
      seed: r.resolved.seed,
      totalSpikes: total,
      rateHz: total / (r.resolved.n * r.resolved.steps * r.resolved.dt),
      rateHzTheory: theoryRates.reduce((a, b) => a + b, 0) / Math.max(1, theoryRates.length),
      finalMeanU: last('meanU'),
      finalMeanUTheory: last('meanUTheory'),
      finalVarU: last('varU'),
      finalVarUTheory: last('varUTheory'),
      burnin: inst.params.burnin as number,
      engine: {
        rateHz: inst.sim.rateHz,
        meanU: inst.sim.meanU,
        varU: inst.sim.varU,
        rateHzTheory: inst.theory.rateHz,
        meanUTheory: inst.theory.meanU,
        varUTheory: inst.theory.varU,
        spikeCountZ: inst.spikeCountZ,
      },
      rasterSpikes: r.spikes.rows.length,
      gpuSeconds: r.wallSeconds,
      cpuSeconds: null,
      firstMismatchStep: null,
      rasterIdentical: null,
      maxFinalDeltaU: null,
    };
  }

  function renderSummary(s: DemoSummary): void {
    const items: [string, string][] = [
      ['network', `${s.n.toLocaleString('en-US')} neurons × ${s.steps.toLocaleString('en-US')} steps (dt = ${s.dt} s), seed ${s.seed}`],
      ['population rate', `${fmt(s.rateHz)} Hz simulated, ${fmt(s.rateHzTheory)} Hz theory (averaged over the run)`],
      ['u at t = T', `mean ${fmt(s.finalMeanU)} (exact ${fmt(s.finalMeanUTheory)}), variance ${fmt(s.finalVarU)} (exact ${fmt(s.finalVarUTheory)})`],
      ['stationary theory', `rate ${fmt(s.engine.rateHzTheory)} Hz, mean u ${fmt(s.engine.meanUTheory)}, variance ${fmt(s.engine.varUTheory)}`],
      ['spike count z', `${fmt(s.engine.spikeCountZ, 2)} for t > ${fmt(s.burnin)} s (spikes vs summed intensities; ~N(0,1))`],
      ['spikes', `${s.totalSpikes.toLocaleString('en-US')} in total, ${s.rasterSpikes.toLocaleString('en-US')} in the raster`],
      ['wall time', `GPU ${fmt(s.gpuSeconds)} s${s.cpuSeconds === null ? '' : `, CPU ${fmt(s.cpuSeconds)} s`}`],
    ];
    if (s.maxFinalDeltaU !== null) {
      items.push(['final u, GPU vs CPU', s.maxFinalDeltaU === 0 ? 'bit-identical for every neuron' : `max |Δu| = ${fmt(s.maxFinalDeltaU)} (floats agree to rounding)`]);
    }
    summaryGrid.replaceChildren(...items.flatMap(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]));
  }

  function renderVerdict(): void {
    if (state.identical === null) {
      verdict.hidden = true;
      return;
    }
    verdict.hidden = false;
    verdict.dataset.ok = String(state.identical);
    const s = state.summary!;
    verdict.textContent = state.identical
      ? `✓ Identical: GPU and CPU produced the same integer spike count at all ${s.steps} steps and the same raster (seed ${s.seed}).`
      : `✗ Mismatch: spike counts first differ at step ${s.firstMismatchStep}${s.rasterIdentical === false ? '; rasters differ' : ''}.`;
  }

  function renderPlots(r: ExperimentResult): void {
    const t = column(r, 't');
    const counts = column(r, 'spikes');
    const rateTheory = column(r, 'rateHzTheory');
    const n = r.resolved.n;
    // Per-step rates are shot-noise dominated for small n: average over ~60 bins.
    const bin = Math.max(1, Math.round(t.length / 60));
    const bt: number[] = [];
    const br: number[] = [];
    for (let i = 0; i < t.length; i += bin) {
      const j = Math.min(t.length, i + bin);
      let c = 0;
      for (let k = i; k < j; k++) c += counts[k];
      bt.push((t[i] + t[j - 1]) / 2);
      br.push(c / (n * (j - i) * dt));
    }
    const note = `n = ${n}, dt = ${dt} s, seed ${r.resolved.seed}, ${r.resolved.params[0].sigmoid} sigmoid`;
    ratePlot.innerHTML = makeLinePlot({
      title: 'Population firing rate',
      x: { label: 'time', unit: 's' },
      y: { label: 'rate', unit: 'Hz', min: 0 },
      series: [
        { name: `GPU (${fmt(bin * dt * 1000)} ms bins)`, x: bt, y: br, style: 'line' },
        { name: 'theory E[f(u)]', x: t, y: rateTheory, style: 'dashed' },
      ],
      notes: [note],
    });
    const mean = column(r, 'meanU');
    const sd = column(r, 'varU').map(Math.sqrt);
    const lo = mean.map((m, i) => m - sd[i]);
    const hi = mean.map((m, i) => m + sd[i]);
    const meanTheory = column(r, 'meanUTheory');
    // Loops, not Math.min(...xs): long runs have more steps than a call may take arguments.
    let yLo = Infinity;
    let yHi = -Infinity;
    for (const v of [...lo, ...meanTheory]) if (Number.isFinite(v)) yLo = Math.min(yLo, v);
    for (const v of [...hi, ...meanTheory]) if (Number.isFinite(v)) yHi = Math.max(yHi, v);
    // Headroom above the band keeps the legend off the data.
    const span = yHi - yLo || Math.abs(yHi) || 1;
    meanPlot.innerHTML = makeLinePlot({
      title: 'Population mean of u',
      x: { label: 'time', unit: 's' },
      y: { label: 'u', unit: '', ...(Number.isFinite(span) ? { min: yLo - 0.05 * span, max: yHi + 0.4 * span } : {}) },
      series: [
        { name: 'GPU mean (band ±1 s.d. across neurons)', x: t, y: mean, style: 'line', band: { lo, hi } },
        { name: 'theory (exact mean)', x: t, y: meanTheory, style: 'dashed' },
      ],
      notes: [note],
    });
    const sx = r.spikes.rows.map((row) => row[1]);
    const sy = r.spikes.rows.map((row) => row[3]);
    const shown = Math.min(rasterNeurons, n);
    rasterPlot.innerHTML = makeScatter({
      title: `Spike raster (first ${shown} neurons)`,
      x: { label: 'time', unit: 's', min: 0, max: r.resolved.steps * dt },
      y: { label: 'neuron', unit: '', min: -0.5, max: shown - 0.5 },
      series: [{ name: 'spikes', x: sx, y: sy, style: 'points' }],
      legend: 'none',
      width: 1000,
      height: 320,
      notes: [`${sx.length} spikes; ${note}`],
    });
  }

  async function doCheck(): Promise<void> {
    if (!lastGpu) throw new Error('run on the GPU first');
    const { result: gpu, options: o } = lastGpu;
    setStatus('checking', `Checking: running the CPU reference with seed ${o.seed}…`);
    setProgress(0, 1);
    const cpu = await runExperiment({ ...o, backend: 'cpu', ctx: undefined, onProgress: (d, tot) => setProgress(d, tot) });
    if (disposed) return;
    const gpuCounts = column(gpu, 'spikes');
    const cpuCounts = column(cpu, 'spikes');
    let first = -1;
    for (let i = 0; i < Math.max(gpuCounts.length, cpuCounts.length); i++) {
      if (gpuCounts[i] !== cpuCounts[i]) {
        first = i;
        break;
      }
    }
    const rasterIdentical = sameArrays(gpu.spikes.rows.flat(), cpu.spikes.rows.flat());
    let maxDelta = 0;
    for (let i = 0; i < gpu.finalState.length; i++) maxDelta = Math.max(maxDelta, Math.abs(gpu.finalState[i] - cpu.finalState[i]));
    state.cpuCounts = cpuCounts;
    state.identical = first === -1 && rasterIdentical && gpuCounts.length === cpuCounts.length;
    const s = state.summary!;
    s.cpuSeconds = cpu.wallSeconds;
    s.firstMismatchStep = first;
    s.rasterIdentical = rasterIdentical;
    s.maxFinalDeltaU = maxDelta;
    renderSummary(s);
    renderVerdict();
  }

  async function doRun(config?: Partial<PoissonDemoConfig>): Promise<void> {
    if (config) writeConfig(config);
    const c = readConfig();
    state.config = c;
    state.error = null;
    setStatus('starting', 'Requesting a WebGPU device…');
    const context = await ensureContext();
    if (disposed) return;
    const steps = stepsFor(c.T);
    const o = experimentOptions(c, steps);
    setStatus('running', `Running ${c.n.toLocaleString('en-US')} neurons for ${steps} steps on the GPU…`);
    setProgress(0, steps);
    const result = await runExperiment({ ...o, ctx: context, onProgress: (d, tot) => setProgress(d, tot) });
    if (disposed) return;
    lastGpu = { result, options: o };
    state.gpuCounts = column(result, 'spikes');
    state.cpuCounts = null;
    state.identical = null;
    state.summary = summarize(result);
    renderPlots(result);
    renderSummary(state.summary);
    renderVerdict();
    if (c.checkCpu) await doCheck();
    if (disposed) return;
    state.runs++;
    setProgress(1, 1);
    const s = state.summary;
    const check = state.identical === null ? 'CPU check not run' : state.identical ? 'CPU reference identical' : 'CPU reference DIFFERS';
    setStatus('done', `Done: ${fmt(s.rateHz)} Hz population rate in ${fmt(s.gpuSeconds)} s on the GPU; ${check}.`);
  }

  function guarded(work: () => Promise<void>): Promise<PoissonDemoState> {
    if (busy) return busy;
    busy = (async () => {
      try {
        await work();
      } catch (e) {
        if (!disposed && state.status !== 'unavailable') {
          const msg = e instanceof Error ? e.message : String(e);
          state.error = msg;
          // A lost or broken device is not reused: the next run asks for a new one.
          if (ctx && /device lost|validation/i.test(msg)) {
            ctx.dispose();
            ctx = null;
          }
          setStatus('error', `Error: ${msg}`);
        } else if (state.status === 'unavailable') {
          state.error = state.message;
          emit();
        }
      } finally {
        busy = null;
      }
      return { ...state };
    })();
    return busy;
  }

  const onSubmit = (ev: Event) => {
    ev.preventDefault();
    void guarded(() => doRun());
  };
  const checkAction = async () => {
    await doCheck();
    if (disposed) return;
    setProgress(1, 1);
    setStatus('done', state.identical ? 'Check done: CPU reference identical.' : 'Check done: CPU reference DIFFERS.');
  };
  const onCheck = () => void guarded(checkAction);
  form.addEventListener('submit', onSubmit);
  checkButton.addEventListener('click', onCheck);

  if (!(navigator as Navigator & { gpu?: GPU }).gpu) {
    adapterLine.textContent = 'Adapter: none (WebGPU unavailable)';
    setStatus('unavailable', 'WebGPU unavailable: this browser has no navigator.gpu. Use a recent Chrome or Edge (over https or http://127.0.0.1), or the command line: npx ei run poisson');
  } else {
    emit();
  }

  return {
    run: (config) => guarded(() => doRun(config)),
    checkCpu: () => guarded(checkAction),
    get state() {
      return { ...state };
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      form.removeEventListener('submit', onSubmit);
      checkButton.removeEventListener('click', onCheck);
      // A run in flight still holds buffers: destroy the device once it has settled.
      const c = ctx;
      ctx = null;
      void Promise.resolve(busy).then(() => c?.dispose());
      root.remove();
    },
  };
}

// Scoped to .ei-demo so the component can sit inside any page.
const demoCss = `
.ei-demo { --ei-accent: #0b5cad; --ei-border: #d9dee5; --ei-muted: #5b6470; display: grid; gap: 16px; color: #1d232b;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
.ei-demo [hidden] { display: none !important; }
.ei-demo .ei-card { background: #fff; border: 1px solid var(--ei-border); border-radius: 10px; padding: 16px 18px; box-shadow: 0 1px 2px rgba(16, 24, 40, 0.05); }
.ei-demo .ei-fields { display: grid; grid-template-columns: repeat(auto-fill, minmax(112px, 1fr)); gap: 12px 16px; }
.ei-demo .ei-field { display: flex; flex-direction: column; justify-content: flex-end; gap: 4px; min-width: 0; }
.ei-demo .ei-field label { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; font-size: 12px; font-weight: 600; color: var(--ei-muted); letter-spacing: 0.01em; }
.ei-demo .ei-unit { font-weight: 400; }
.ei-demo input[type=number], .ei-demo select { box-sizing: border-box; height: 34px; width: 100%; font: inherit; padding: 6px 8px; border: 1px solid #c3cad3; border-radius: 6px; background: #fff; min-width: 0; }
.ei-demo input[type=number]:focus, .ei-demo select:focus { outline: 2px solid rgba(11, 92, 173, 0.25); border-color: var(--ei-accent); }
.ei-demo .ei-actions { display: flex; flex-wrap: wrap; align-items: center; gap: 10px 14px; margin-top: 14px; }
.ei-demo button { font: inherit; font-weight: 600; padding: 7px 16px; border-radius: 6px; border: 1px solid #b8c0ca; background: #f6f8fa; color: #1d232b; cursor: pointer; }
.ei-demo button:hover:not(:disabled) { background: #eef2f6; }
.ei-demo button.ei-primary { background: var(--ei-accent); border-color: var(--ei-accent); color: #fff; }
.ei-demo button.ei-primary:hover:not(:disabled) { background: #094c8f; }
.ei-demo button:disabled { opacity: 0.55; cursor: default; }
.ei-demo .ei-check { display: inline-flex; align-items: center; gap: 6px; color: var(--ei-muted); font-size: 13px; }
.ei-demo .ei-status-card { display: grid; gap: 8px; }
.ei-demo .ei-adapter { font-size: 12px; color: var(--ei-muted); font-family: ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
.ei-demo .ei-status { font-weight: 600; }
.ei-demo .ei-status[data-status=error], .ei-demo .ei-status[data-status=unavailable] { color: #b42318; }
.ei-demo .ei-progress { width: 100%; height: 6px; appearance: none; border: none; border-radius: 3px; background: #e9edf1; overflow: hidden; }
.ei-demo .ei-progress::-webkit-progress-bar { background: #e9edf1; }
.ei-demo .ei-progress::-webkit-progress-value { background: var(--ei-accent); }
.ei-demo .ei-verdict { padding: 8px 12px; border-radius: 6px; font-weight: 600; }
.ei-demo .ei-verdict[data-ok=true] { background: #e7f6ec; color: #136c34; border: 1px solid #b5e2c3; }
.ei-demo .ei-verdict[data-ok=false] { background: #fdecea; color: #b42318; border: 1px solid #f5c2bd; }
.ei-demo .ei-summary { display: grid; grid-template-columns: max-content 1fr; gap: 3px 16px; margin: 4px 0 0; font-size: 13px; }
.ei-demo .ei-summary dt { color: var(--ei-muted); }
.ei-demo .ei-summary dd { margin: 0; font-variant-numeric: tabular-nums; }
.ei-demo .ei-plots { display: grid; grid-template-columns: repeat(auto-fit, minmax(380px, 1fr)); gap: 16px; }
.ei-demo .ei-plot { margin: 0; background: #fff; border: 1px solid var(--ei-border); border-radius: 10px; padding: 6px; min-height: 40px; }
.ei-demo .ei-plot:empty { display: none; }
.ei-demo .ei-plot.ei-wide { grid-column: 1 / -1; }
.ei-demo .ei-plot svg { display: block; width: 100%; height: auto; }
.ei-demo.ei-busy .ei-plots { opacity: 0.6; transition: opacity 0.2s; }
`;
