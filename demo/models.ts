// The models page: every model of the registry (engine.models) with a form generated from its parameters and run
// options, a run with progress and Stop, then its summary, figures and files. It names no model: everything it shows
// comes from the registry, so a new model appears here without touching this file. The engine card chooses the backend
// (auto, webgpu, wasm, cpu) and the wasm threads, and says whether the page is cross-origin isolated (needed for threads).
import {
  createEngine,
  makeSummaryRows,
  ParameterError,
  runOptionNames,
  svgImageSource,
  type Engine,
  type EngineOptions,
  type ModelSummary,
  type ParamSpec,
  type RunOptionName,
  type RunOutputs,
  type RunRequest,
  type Simulation,
} from '../src/browser.ts';
import { makeSummaryJson } from '../src/io/summary-json.ts';

/** What tests (and a curious reader of the console) can see: the page's state after every change. */
export interface ModelsPageState {
  status: 'loading' | 'ready' | 'running' | 'done' | 'stopped' | 'error';
  message: string;
  /** The model selected in the picker. */
  model: string | null;
  /** The ids the picker lists, in order. */
  models: string[];
  /** Completed runs since the page loaded. */
  runs: number;
  /** The backend chosen on the page ('auto', 'webgpu', 'wasm', 'cpu') and the threads asked for (null: the default). */
  requestedBackend: string;
  requestedThreads: number | null;
  /** Whether the page is cross-origin isolated (SharedArrayBuffer, so wasm runs may use worker threads). */
  crossOriginIsolated: boolean;
  engineBackend: string | null;
  fallbackReason: string | null;
  adapter: Record<string, unknown> | null;
  /** Backend of the last run (a model without a WebGPU runner runs on the CPU) and why it is not WebGPU. */
  runBackend: string | null;
  runFallbackReason: string | null;
  /** wasm: the threads the last run used, and why only one when there are no worker threads here. */
  runThreads: number | null;
  runThreadsNote: string | null;
  progress: { done: number; total: number };
  /** The request the last run was started with. */
  request: RunRequest | null;
  line: string | null;
  figures: string[];
  downloads: string[];
  /** Errors shown next to a field, by field key ('param:<name>' or 'option:<name>'). */
  fieldErrors: Record<string, string>;
  /** The error shown in the message box, if any. */
  error: string | null;
  notices: string[];
  pageErrors: string[];
}

declare global {
  interface Window {
    __eiModels?: ModelsPageState;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Small defaults: one rule per run option (never per model), applied to the model's own defaults.

/** At most this many neurons per instance, instances and steps, so a run ends in seconds on SwiftShader. */
const MAX_N = 500;
const MAX_BATCH = 4;
const MAX_STEPS = 1500;

interface OptionRule {
  label: string;
  doc: string;
  /** The value the form starts with ('' = the model's default). */
  initial(d: ModelSummary['defaults'] | null, takes: readonly string[]): string;
  placeholder(d: ModelSummary['defaults'] | null, takes: readonly string[]): string;
  /** Shown only under "recording" (collapsed). */
  advanced?: boolean;
}

const shortNumber = (x: number): string => String(Number(x.toPrecision(12)));
const modelDefault = 'model default';

const optionRules: Record<RunOptionName, OptionRule> = {
  n: {
    label: 'n',
    doc: `neurons per instance (per population where the model has two); at most ${MAX_N} here`,
    initial: (d) => (d && d.n !== null ? String(Math.min(d.n, MAX_N)) : ''),
    placeholder: (d) => (d && d.n !== null ? `default ${d.n}` : modelDefault),
  },
  batch: {
    label: 'batch',
    doc: 'independent instances run together in one dispatch',
    initial: (d) => (d ? String(Math.min(d.batch, MAX_BATCH)) : ''),
    placeholder: (d) => (d ? `default ${d.batch}` : modelDefault),
  },
  steps: {
    label: 'steps',
    doc: 'time steps (give steps or T, not both)',
    // With T available the duration is given as T; steps stays empty.
    initial: (d, takes) => (d && !(takes.includes('T') && d.dt !== null) ? String(Math.min(d.steps, MAX_STEPS)) : ''),
    placeholder: (d, takes) => (takes.includes('T') ? 'or steps' : d ? `default ${d.steps}` : modelDefault),
  },
  T: {
    label: 'T',
    doc: `simulated time, in the model's time unit; here at most ${MAX_STEPS} of its default steps`,
    initial: (d) => (d && d.dt !== null ? shortNumber(Math.min(d.steps, MAX_STEPS) * d.dt) : ''),
    placeholder: (d) => (d && d.dt !== null ? `default ${shortNumber(d.steps * d.dt)}` : modelDefault),
  },
  dt: {
    label: 'dt',
    doc: 'time step (empty: the model default, lowered so that T is a whole number of steps)',
    initial: () => '',
    placeholder: (d) => (d && d.dt !== null ? `default ${d.dt}` : modelDefault),
  },
  recordEvery: { label: 'recordEvery', doc: 'keep every k-th step in the time series', initial: () => '', placeholder: () => modelDefault, advanced: true },
  recordSpikes: { label: 'recordSpikes', doc: 'record the spikes of the first M neurons', initial: () => '', placeholder: () => modelDefault, advanced: true },
  recordTraces: { label: 'recordTraces', doc: 'record the potential of the first M neurons', initial: () => '', placeholder: () => modelDefault, advanced: true },
  traceEvery: { label: 'traceEvery', doc: 'trace sampling interval, in steps', initial: () => '', placeholder: () => modelDefault, advanced: true },
};

/** The model's run-option defaults (what an empty request resolves to). */
function runDefaults(m: ModelSummary): ModelSummary['defaults'] {
  return m.defaults;
}

// ---------------------------------------------------------------------------------------------------------------
// DOM helpers

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A strict decimal (no hex, no empty string, no 'Infinity'), as the CLI accepts. */
const decimal = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

function describeRange(p: ParamSpec): string {
  if (p.kind === 'choice') return '';
  const lo = p.min === undefined ? '' : `${p.minExclusive ? '>' : '≥'} ${p.min}`;
  const hi = p.max === undefined ? '' : `${p.maxExclusive ? '<' : '≤'} ${p.max}`;
  return [lo, hi].filter(Boolean).join(', ');
}

function appliesNow(p: ParamSpec, choices: Record<string, string>): boolean {
  return Object.entries(p.appliesWhen ?? {}).every(([k, allowed]) => allowed.includes(choices[k] ?? ''));
}

/** The backends the page offers (EngineOptions.backend). */
const backendChoices = ['auto', 'webgpu', 'wasm', 'cpu'] as const;

/** Where a run ran, in words: WebGPU, wasm on N threads, or the CPU reference (and why, when given). */
function describeRun(sim: Simulation, reason: string | null): string {
  if (sim.backend === 'webgpu') return 'WebGPU';
  const threads = sim.threads ?? 1;
  if (sim.backend === 'wasm') return `wasm, ${threads} thread${threads === 1 ? '' : 's'}${sim.threadsNote ? ` (${sim.threadsNote})` : ''}`;
  return `the CPU reference${reason ? ` (${reason})` : ''}`;
}

/** A run-time message that names no field of the form. */
function errorText(e: unknown): string {
  if (e instanceof Error) return `${e.name && e.name !== 'Error' ? `${e.name}: ` : ''}${e.message}`;
  return String(e);
}

// ---------------------------------------------------------------------------------------------------------------
// The page

interface FieldRef {
  key: string;
  wrap: HTMLElement;
  input: HTMLInputElement | HTMLSelectElement;
  error: HTMLElement;
  spec?: ParamSpec;
  option?: RunOptionName | 'seed';
}

function mount(root: HTMLElement): void {
  const pageErrors: string[] = [];
  window.addEventListener('error', (e) => pageErrors.push(String(e.message)));
  window.addEventListener('unhandledrejection', (e) => pageErrors.push(String((e.reason as Error)?.message ?? e.reason)));

  const state: ModelsPageState = {
    status: 'loading',
    message: 'Starting the engine…',
    model: null,
    models: [],
    runs: 0,
    requestedBackend: 'auto',
    requestedThreads: null,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    engineBackend: null,
    fallbackReason: null,
    adapter: null,
    runBackend: null,
    runFallbackReason: null,
    runThreads: null,
    runThreadsNote: null,
    progress: { done: 0, total: 0 },
    request: null,
    line: null,
    figures: [],
    downloads: [],
    fieldErrors: {},
    error: null,
    notices: [],
    pageErrors,
  };
  const publish = () => {
    window.__eiModels = { ...state, progress: { ...state.progress }, fieldErrors: { ...state.fieldErrors }, notices: [...state.notices], figures: [...state.figures], downloads: [...state.downloads] };
  };

  // ---- layout
  const engineCard = el('section', { class: 'card', 'aria-label': 'engine' });
  const backendLine = el('div', { class: 'backend', 'data-role': 'backend' }, 'Engine: starting…');
  const engineControls = el('div', { class: 'picker engine-controls' });
  const backendSelect = el('select', { id: 'ei-backend', 'data-role': 'engine-backend', title: 'auto: a hardware GPU, then wasm for the models that have it, else the CPU reference' });
  for (const b of backendChoices) backendSelect.appendChild(el('option', { value: b }, b));
  const threadsInput = el('input', { id: 'ei-threads', type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', 'data-role': 'threads', placeholder: 'default', title: 'worker threads of a wasm run (empty: every core, at most one per 20000 neurons); results do not depend on it' });
  const threadsError = el('div', { class: 'field-error', 'data-role': 'threads-error', role: 'alert', hidden: '' });
  engineControls.append(el('label', { for: 'ei-backend' }, 'Backend'), backendSelect, el('label', { for: 'ei-threads' }, 'wasm threads'), threadsInput, threadsError);
  const isolationLine = el('div', { class: 'backend', 'data-role': 'isolation' });
  engineCard.append(backendLine, engineControls, isolationLine);

  const formCard = el('section', { class: 'card', 'aria-label': 'model and run' });
  const picker = el('div', { class: 'picker' });
  const pickerLabel = el('label', { for: 'ei-model' }, 'Model');
  const select = el('select', { id: 'ei-model', name: 'model', 'data-role': 'model' });
  select.disabled = true;
  picker.append(pickerLabel, select);
  const modelSummary = el('p', { class: 'model-summary', 'data-role': 'model-summary' });
  const form = el('form', { novalidate: '' });
  const paramsBox = el('fieldset', { 'data-role': 'parameters' });
  const optionsBox = el('fieldset', { 'data-role': 'options' });
  const recordBox = el('details', { 'data-role': 'recording' });
  const actions = el('div', { class: 'actions' });
  const runButton = el('button', { type: 'submit', class: 'primary', 'data-action': 'run' }, 'Run');
  const stopButton = el('button', { type: 'button', 'data-action': 'stop' }, 'Stop');
  const resetButton = el('button', { type: 'button', 'data-action': 'reset' }, 'Reset to defaults');
  runButton.disabled = true;
  stopButton.disabled = true;
  resetButton.disabled = true;
  actions.append(runButton, stopButton, resetButton);
  form.append(paramsBox, optionsBox, recordBox, actions);
  formCard.append(picker, modelSummary, form);

  const statusCard = el('section', { class: 'card', 'aria-label': 'status' });
  const statusLine = el('div', { class: 'status', role: 'status', 'aria-live': 'polite', 'data-role': 'status' });
  const progress = el('progress', { max: '1', value: '0', 'data-role': 'progress' });
  const messageBox = el('div', { class: 'message', role: 'alert', 'data-role': 'message', hidden: '' });
  const noticeList = el('ul', { class: 'notices', 'data-role': 'notices' });
  statusCard.append(statusLine, progress, messageBox, noticeList);

  const resultCard = el('section', { class: 'card', 'aria-label': 'results', 'data-role': 'results', hidden: '' });
  const resultTitle = el('h2', {}, 'Results');
  const runInfo = el('div', { class: 'backend', 'data-role': 'run-backend' });
  const line = el('div', { class: 'line', 'data-role': 'line' });
  const table = el('table', { class: 'summary', 'data-role': 'summary' });
  const downloads = el('div', { class: 'downloads', 'data-role': 'downloads' });
  resultCard.append(resultTitle, runInfo, line, table, downloads);
  const figures = el('div', { class: 'figures', 'data-role': 'figures' });

  root.append(engineCard, formCard, statusCard, resultCard, figures);

  const setStatus = (status: ModelsPageState['status'], message: string) => {
    state.status = status;
    state.message = message;
    statusLine.textContent = message;
    statusLine.dataset.status = status;
    const running = status === 'running';
    const usable = status !== 'loading' && engine !== null;
    runButton.disabled = running || !usable || !current;
    stopButton.disabled = !running;
    resetButton.disabled = running || !usable || !current;
    select.disabled = running || !usable;
    backendSelect.disabled = running || status === 'loading';
    threadsInput.disabled = running || status === 'loading';
    for (const f of fields) f.input.disabled = running || !isApplicable(f);
    publish();
  };
  const showMessage = (text: string | null) => {
    state.error = text;
    messageBox.hidden = text === null;
    messageBox.textContent = text ?? '';
  };
  const notice = (m: string) => {
    state.notices.push(m);
    noticeList.appendChild(el('li', {}, m));
    publish();
  };

  // ---- engine
  let engine: Engine | null = null;
  let current: ModelSummary | null = null;
  let fields: FieldRef[] = [];
  let controller: AbortController | null = null;
  let blobUrls: string[] = [];

  const isApplicable = (f: FieldRef): boolean => !f.spec || appliesNow(f.spec, currentChoices());
  const currentChoices = (): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const f of fields) if (f.spec?.kind === 'choice') out[f.spec.name] = f.input.value;
    return out;
  };
  const updateApplicability = () => {
    const running = state.status === 'running';
    for (const f of fields) {
      const ok = isApplicable(f);
      f.wrap.hidden = !ok;
      f.input.disabled = running || !ok;
    }
  };

  const clearFieldErrors = () => {
    state.fieldErrors = {};
    for (const f of fields) {
      f.error.textContent = '';
      f.error.hidden = true;
      f.wrap.removeAttribute('data-invalid');
    }
  };
  const setFieldError = (f: FieldRef, text: string) => {
    state.fieldErrors[f.key] = text;
    f.error.textContent = text;
    f.error.hidden = false;
    f.wrap.setAttribute('data-invalid', '');
  };

  const clearResults = () => {
    for (const u of blobUrls) URL.revokeObjectURL(u);
    blobUrls = [];
    resultCard.hidden = true;
    line.textContent = '';
    table.replaceChildren();
    downloads.replaceChildren();
    figures.replaceChildren();
    state.line = null;
    state.figures = [];
    state.downloads = [];
  };

  const addField = (box: HTMLElement, key: string, label: string, unit: string, doc: string, input: HTMLInputElement | HTMLSelectElement, extra: Partial<FieldRef>): FieldRef => {
    const id = `ei-field-${key.replace(/[^A-Za-z0-9_-]/g, '-')}`;
    input.id = id;
    input.setAttribute('data-field', key);
    const wrap = el('div', { class: 'field', 'data-field-wrap': key, title: doc });
    const lab = el('label', { for: id }, label);
    if (unit) lab.appendChild(el('span', { class: 'unit' }, ` (${unit})`));
    const error = el('div', { class: 'field-error', 'data-field-error': key, role: 'alert', hidden: '' });
    wrap.append(lab, input, el('div', { class: 'doc' }, doc), error);
    box.appendChild(wrap);
    const ref: FieldRef = { key, wrap, input, error, ...extra };
    fields.push(ref);
    return ref;
  };

  /** Builds the form of `m` from its parameters and the run options it takes, with small defaults. */
  const buildForm = (m: ModelSummary) => {
    current = m;
    state.model = m.id;
    fields = [];
    clearFieldErrors();
    paramsBox.replaceChildren(el('legend', {}, 'Parameters'));
    optionsBox.replaceChildren(el('legend', {}, 'Run options'));
    recordBox.replaceChildren(el('summary', {}, 'Recording options'));
    const recordFields = el('div', { class: 'fields' });
    recordBox.appendChild(recordFields);
    modelSummary.textContent = `${m.title}. ${m.summary} Definition: ${m.doc}.${m.webgpu ? '' : ' It has no WebGPU runner: it runs on the CPU reference.'}`;

    const paramFields = el('div', { class: 'fields' });
    paramsBox.appendChild(paramFields);
    for (const p of m.parameters) {
      let input: HTMLInputElement | HTMLSelectElement;
      if (p.kind === 'choice') {
        input = el('select', { 'data-kind': 'choice' });
        for (const c of p.choices) input.appendChild(el('option', { value: c }, c));
        input.value = p.default;
        input.addEventListener('change', updateApplicability);
      } else {
        // Text, not type=number: the engine parses and checks the value, so a bad one gets its own error message.
        input = el('input', { type: 'text', inputmode: p.kind === 'integer' ? 'numeric' : 'decimal', autocomplete: 'off', spellcheck: 'false', 'data-kind': p.kind });
        if (p.min !== undefined) input.setAttribute('data-min', String(p.min));
        if (p.max !== undefined) input.setAttribute('data-max', String(p.max));
        input.value = String(p.default);
        input.placeholder = `default ${p.default}`;
      }
      const range = describeRange(p);
      const when = p.appliesWhen ? ` [only when ${Object.entries(p.appliesWhen).map(([k, v]) => `${k} = ${v.join(' | ')}`).join(', ')}]` : '';
      addField(paramFields, `param:${p.name}`, p.name, p.unit ?? '', `${p.doc}${range ? ` (${range})` : ''}${when}`, input, { spec: p });
    }
    if (m.parameters.length === 0) paramFields.appendChild(el('div', { class: 'doc' }, 'This model has no parameters.'));

    const d = runDefaults(m);
    const optFields = el('div', { class: 'fields' });
    optionsBox.appendChild(optFields);
    const takes = m.options;
    for (const name of runOptionNames) {
      if (!takes.includes(name)) continue;
      const rule = optionRules[name];
      const input = el('input', { type: 'text', inputmode: 'decimal', autocomplete: 'off', spellcheck: 'false', 'data-kind': 'option' });
      input.value = rule.initial(d, takes);
      input.placeholder = rule.placeholder(d, takes);
      addField(rule.advanced ? recordFields : optFields, `option:${name}`, rule.label, '', rule.doc, input, { option: name });
    }
    const seed = el('input', { type: 'text', inputmode: 'numeric', autocomplete: 'off', spellcheck: 'false', 'data-kind': 'option' });
    seed.value = '1';
    seed.placeholder = 'default 1';
    addField(optFields, 'option:seed', 'seed', '', 'random seed: the same seed gives the same run', seed, { option: 'seed' });
    // steps and T are two ways of giving the duration: typing one clears the other.
    const durations = fields.filter((f) => f.option === 'steps' || f.option === 'T');
    for (const f of durations) {
      f.input.addEventListener('input', () => {
        if (f.input.value.trim() === '') return;
        for (const other of durations) if (other !== f) other.input.value = '';
      });
    }
    recordBox.hidden = recordFields.childElementCount === 0;
    updateApplicability();
    publish();
  };

  /** The request from the form; a value that is not a number is marked at its field (returns null). */
  const readRequest = (): RunRequest | null => {
    const params: Record<string, string> = {};
    const request: Record<string, unknown> = {};
    let ok = true;
    for (const f of fields) {
      if (!isApplicable(f)) continue;
      const raw = f.input.value.trim();
      if (f.spec) {
        // Parameters go as strings: the engine parses them strictly and names the parameter when one is wrong.
        // An emptied field takes the model's default.
        if (raw !== '') params[f.spec.name] = raw;
      } else if (f.option) {
        if (raw === '') continue;
        if (!decimal.test(raw)) {
          setFieldError(f, `'${raw}' is not a decimal number`);
          ok = false;
          continue;
        }
        request[f.option] = Number(raw);
      }
    }
    if (!ok) return null;
    return { ...request, params } as RunRequest;
  };

  /** Field keys that a ParameterError's field names ('poisson.tau' style, '--n', '--T/--dt', 'steps' ...). */
  const fieldsNamedBy = (field: string): FieldRef[] => {
    const found: FieldRef[] = [];
    for (const raw of field.split(/[/,\s]+/)) {
      const token = raw.replace(/^--/, '').replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
      const dot = token.indexOf('.');
      const candidates = [token, dot >= 0 ? token.slice(dot + 1) : '', token.replace(/\[.*$/, '')];
      for (const c of candidates) {
        if (!c) continue;
        const f = fields.find((x) => x.key === `param:${c}`) ?? fields.find((x) => x.key === `option:${c}`);
        if (f && !found.includes(f)) {
          found.push(f);
          break;
        }
      }
    }
    return found;
  };

  const showError = (e: unknown) => {
    if (e instanceof ParameterError && /\bthreads\b/.test(e.field)) {
      setThreadsError(e.message);
      setStatus('error', `Refused: ${e.message.split('\n')[0]}`);
      return;
    }
    if (e instanceof ParameterError) {
      const named = fieldsNamedBy(e.field).filter((f) => !f.wrap.hidden);
      if (named.length) {
        for (const f of named) setFieldError(f, e.message);
        setStatus('error', `Refused: ${e.message.split('\n')[0]}`);
        return;
      }
    }
    showMessage(errorText(e));
    setStatus('error', `Failed: ${errorText(e).split('\n')[0]}`);
  };

  const download = (name: string, content: string, type: string) => {
    const url = URL.createObjectURL(new Blob([content], { type }));
    blobUrls.push(url);
    const a = el('a', { href: url, download: name, 'data-download': name }, name);
    downloads.appendChild(a);
    state.downloads.push(name);
  };

  const showOutputs = (out: RunOutputs & { config: Record<string, unknown>; summaryJson: Record<string, unknown> }) => {
    resultCard.hidden = false;
    resultTitle.textContent = out.report.title || 'Results';
    line.textContent = out.line;
    state.line = out.line;

    // summary.json as `ei run` writes it: a value that is not a finite number is listed under `unavailable` with why.
    const summaryText = makeSummaryJson(out.summaryJson, out.explainNonFinite ? (path) => out.explainNonFinite!(path) : undefined);
    const head = el('tr');
    head.append(el('th', {}, 'summary field'), el('th', {}, 'value'));
    table.appendChild(head);
    for (const row of makeSummaryRows(out.summaryJson, out.explainNonFinite)) {
      const tr = el('tr', { 'data-summary-field': row.field });
      const td = el('td', {}, row.value);
      if (row.why) td.title = row.why;
      tr.append(el('th', {}, row.field), td);
      table.appendChild(tr);
    }

    for (const f of out.files) {
      if (f.name.endsWith('.svg')) {
        // As an image: an SVG document rendered by the browser, never markup inserted into this page.
        const fig = el('figure', { 'data-figure': f.name });
        const img = el('img', { alt: f.name, src: svgImageSource(f) });
        fig.append(img, el('figcaption', {}, f.name));
        figures.appendChild(fig);
        state.figures.push(f.name);
      }
    }
    for (const f of out.files) if (f.name.endsWith('.csv')) download(f.name, f.content, 'text/csv');
    download('config.json', JSON.stringify(out.config, null, 2) + '\n', 'application/json');
    download('summary.json', summaryText, 'application/json');
    for (const f of out.files) if (f.name.endsWith('.svg')) download(f.name, f.content, 'image/svg+xml');
  };

  const run = async () => {
    if (!engine || !current || state.status === 'running') return;
    clearFieldErrors();
    showMessage(null);
    const request = readRequest();
    if (!request) {
      setStatus('error', 'Refused: a run option is not a number (marked above).');
      return;
    }
    clearResults();
    state.request = request;
    state.runBackend = null;
    state.runFallbackReason = null;
    state.runThreads = null;
    state.runThreadsNote = null;
    setThreadsError(null);
    state.progress = { done: 0, total: 0 };
    progress.value = 0;
    const ac = new AbortController();
    controller = ac;
    const model = current;
    setStatus('running', `Starting ${model.title}…`);
    let sim: Simulation | null = null;
    const t0 = performance.now();
    try {
      sim = await engine.simulate(model.id, {
        ...request,
        signal: ac.signal,
        onProgress: (done, total) => {
          state.progress = { done, total };
          progress.value = total > 0 ? done / total : 0;
          statusLine.textContent = `Running ${model.title}: step ${done} of ${total}`;
          publish();
        },
      });
      state.runBackend = sim.backend;
      state.runThreads = sim.threads;
      state.runThreadsNote = sim.threadsNote;
      const r = sim.resolved;
      state.progress = { done: 0, total: r.steps };
      if (r.dtAdjusted) notice(r.dtAdjusted.note);
      setStatus('running', `Running ${model.title}: ${r.steps} steps${r.dt !== null ? ` of dt = ${r.dt}` : ''}${r.n !== null ? `, n = ${r.n}` : ''}, batch ${r.batch}, on ${describeRun(sim, null)}…`);
      await sim.done;
      const out = await sim.outputs();
      const reason = out.config.fallbackReason;
      state.runFallbackReason = typeof reason === 'string' ? reason : null;
      showOutputs(out);
      runInfo.textContent = `Ran on ${describeRun(sim, state.runFallbackReason)}`;
      state.runs += 1;
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      setStatus('done', `Done: ${model.title}, ${r.steps} steps on ${describeRun(sim, state.runFallbackReason)} in ${secs} s.`);
    } catch (e) {
      if (ac.signal.aborted) {
        setStatus('stopped', `Stopped at step ${state.progress.done} of ${state.progress.total}.`);
      } else {
        showError(e);
      }
    } finally {
      sim?.dispose();
      if (controller === ac) controller = null;
      publish();
    }
  };

  form.addEventListener('submit', (e) => {
    e.preventDefault();
    void run();
  });
  stopButton.addEventListener('click', () => controller?.abort(new DOMException('stopped from the page', 'AbortError')));
  resetButton.addEventListener('click', () => {
    if (current) buildForm(current);
    setStatus('ready', 'Defaults restored.');
  });
  select.addEventListener('change', () => {
    const m = engine?.models.find((x) => x.id === select.value);
    if (!m) return;
    clearResults();
    showMessage(null);
    buildForm(m);
    const url = new URL(location.href);
    url.searchParams.set('model', m.id);
    history.replaceState(null, '', url);
    setStatus('ready', `Ready: ${m.title}. Press Run.`);
  });

  const setThreadsError = (text: string | null) => {
    threadsError.textContent = text ?? '';
    threadsError.hidden = text === null;
    if (text === null) delete state.fieldErrors['engine:threads'];
    else state.fieldErrors['engine:threads'] = text;
  };

  const showIsolation = () => {
    const cores = navigator.hardwareConcurrency || 1;
    isolationLine.dataset.isolated = String(state.crossOriginIsolated);
    isolationLine.textContent = state.crossOriginIsolated
      ? `Cross-origin isolated: yes · wasm runs may use worker threads (${cores} cores)`
      : 'Cross-origin isolated: no · wasm runs on one thread (for more, serve the page with Cross-Origin-Opener-Policy: same-origin and Cross-Origin-Embedder-Policy: require-corp)';
  };

  const showEngine = (e: Engine) => {
    state.engineBackend = e.backend;
    state.fallbackReason = e.fallbackReason;
    const adapter = (e.adapter ?? null) as Record<string, unknown> | null;
    state.adapter = adapter;
    const a = adapter ?? {};
    const describe = [a.vendor, a.architecture, a.description].filter((x) => typeof x === 'string' && x !== '').join(' · ');
    backendLine.dataset.backend = e.backend;
    const fallback = e.fallbackReason ? ` · fallback: ${e.fallbackReason}` : '';
    backendLine.textContent =
      e.backend === 'webgpu'
        ? `Backend: WebGPU · adapter ${describe || 'unknown'}${a.isSoftware ? ' (software: correct results, not GPU speed)' : ''}`
        : e.backend === 'wasm'
          ? `Backend: wasm (WebAssembly kernels on the CPU, bit-identical to the CPU reference)${fallback}`
          : `Backend: CPU reference${fallback}`;
  };

  /** Fills the picker once, from the first engine (the registry does not depend on the backend). */
  const showModels = (e: Engine) => {
    state.models = e.models.map((m) => m.id);
    for (const m of e.models) select.appendChild(el('option', { value: m.id }, `${m.title} (${m.id})`));
    const wanted = new URLSearchParams(location.search).get('model');
    const first = e.models.find((m) => m.id === wanted) ?? e.models[0];
    if (first) {
      select.value = first.id;
      buildForm(first);
    }
    return first;
  };

  /** The threads field: '' = the default; else a whole number (the engine checks its range and whether threads exist here). */
  const readThreads = (): number | null | undefined => {
    const raw = threadsInput.value.trim();
    if (raw === '') return null;
    if (!/^\d+$/.test(raw)) {
      setThreadsError(`'${raw}' is not a whole number of threads`);
      return undefined;
    }
    return Number(raw);
  };

  let starts = 0;
  /** (Re)creates the engine with the backend and threads chosen on the page; the previous one is disposed. */
  const startEngine = async () => {
    setThreadsError(null);
    const threads = readThreads();
    if (threads === undefined) {
      setStatus('error', 'Refused: the threads field is not a whole number.');
      return;
    }
    const backend = backendSelect.value as NonNullable<EngineOptions['backend']>;
    state.requestedBackend = backend;
    state.requestedThreads = threads;
    const url = new URL(location.href);
    url.searchParams.set('backend', backend);
    if (threads === null) url.searchParams.delete('threads');
    else url.searchParams.set('threads', String(threads));
    history.replaceState(null, '', url);
    const token = ++starts;
    engine?.dispose();
    engine = null;
    showMessage(null);
    setStatus('loading', 'Starting the engine…');
    try {
      const e = await createEngine({ backend, threads: threads ?? undefined, onNotice: notice });
      if (token !== starts) {
        e.dispose();
        return;
      }
      engine = e;
      showEngine(e);
      const first = state.models.length === 0 ? showModels(e) : current;
      if (!first) {
        setStatus('error', 'The registry has no models.');
        return;
      }
      setStatus('ready', `Ready: ${first.title}. Press Run.`);
    } catch (err: unknown) {
      if (token !== starts) return;
      showMessage(errorText(err));
      setStatus('error', 'The engine could not start.');
    }
  };

  for (const input of [backendSelect, threadsInput]) input.addEventListener('change', () => void startEngine());
  window.addEventListener('pagehide', () => engine?.dispose());

  // ?backend=auto|webgpu|wasm|cpu&threads=N preselect the engine.
  const query = new URLSearchParams(location.search);
  const wantedBackend = query.get('backend');
  if (wantedBackend && (backendChoices as readonly string[]).includes(wantedBackend)) backendSelect.value = wantedBackend;
  threadsInput.value = query.get('threads') ?? '';
  showIsolation();
  void startEngine();
}

mount(document.getElementById('app')!);
