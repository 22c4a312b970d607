// The browser benchmark page: a form for the settings (or a query such as ?models=a,b&quick=1&run=1, which
// `ei bench --browser` opens), then the models harness of npm run bench:models run on navigator.gpu, its log, a table
// of the cases, and the result as JSON and CSV downloads. It names no model: models and cases come from the registry.
import { EiError, engineVersion } from '../src/browser.ts';
import { createGpuContext, type GpuContext } from '../src/gpu/context.ts';
import { modelList } from '../src/models/index.ts';
import { browserBackendChoices, browserResultName, makeBrowserBenchConfig, makeModelsCsv, readBenchQuery, runBrowserBenchmark, type BrowserBenchInput, type PageFacts } from '../bench/lib/browser-bench.ts';
import { validateModelsBenchResult, type ModelsBenchResult } from '../bench/lib/models-harness.ts';
import { formatSeconds, formatSi } from '../bench/lib/records.ts';

/** What `ei bench --browser` and the tests read: the page's state after every change. */
export interface BenchPageState {
  status: 'ready' | 'running' | 'done' | 'error';
  /** Progress lines of the harness, in order. */
  log: string[];
  /** The result once done (checked by validateModelsBenchResult). */
  result: ModelsBenchResult | null;
  /** The CSV of the result. */
  csv: string | null;
  /** The file names the downloads offer. */
  downloads: string[];
  error: string | null;
}

declare global {
  interface Window {
    __eiBench?: BenchPageState;
  }
}

const state: BenchPageState = { status: 'ready', log: [], result: null, csv: null, downloads: [], error: null };
window.__eiBench = state;

function el<K extends keyof HTMLElementTagNameMap>(tag: K, attrs: Record<string, string> = {}, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  if (text !== undefined) e.textContent = text;
  return e;
}

type UserAgentData = { platform?: string; getHighEntropyValues?(hints: string[]): Promise<{ uaFullVersion?: string }> };

async function pageFacts(): Promise<PageFacts> {
  const nav = navigator as Navigator & { userAgentData?: UserAgentData; deviceMemory?: number };
  // Chrome's user agent carries only its major version; the full one is a high-entropy value it may give.
  const full = await nav.userAgentData?.getHighEntropyValues?.(['uaFullVersion']).catch(() => undefined);
  return {
    userAgent: nav.userAgent,
    crossOriginIsolated: globalThis.crossOriginIsolated === true,
    platform: nav.userAgentData?.platform || nav.platform,
    hardwareConcurrency: nav.hardwareConcurrency || 1,
    deviceMemoryGiB: nav.deviceMemory,
    fullVersion: full?.uaFullVersion,
  };
}

const describe = (e: unknown) => (e instanceof EiError ? e.message : e instanceof Error ? `${e.name}: ${e.message}` : String(e));

const app = document.getElementById('app')!;
const form = el('section', { class: 'card' });
form.append(el('h2', {}, 'Settings'));
const modelBoxes = el('div', { class: 'models', 'data-role': 'models' });
for (const m of modelList.filter((x) => x.bench)) {
  const label = el('label');
  const box = el('input', { type: 'checkbox', value: m.id });
  box.checked = true;
  label.append(box, ` ${m.id}`);
  label.title = m.title;
  modelBoxes.append(label);
}
const fields = el('div', { class: 'fields' });
function field(name: string, label: string, doc: string, input: HTMLInputElement | HTMLSelectElement): HTMLInputElement | HTMLSelectElement {
  input.name = name;
  const f = el('div', { class: 'field' });
  f.append(el('label', {}, label), input, el('span', { class: 'doc' }, doc));
  fields.append(f);
  return input;
}
const backendSelect = el('select');
for (const b of browserBackendChoices) backendSelect.append(el('option', { value: b }, b === 'gpu' ? 'gpu (WebGPU)' : b));
field('backend', 'backend', 'all = webgpu, cpu and wasm', backendSelect);
const quickBox = field('quick', 'quick', 'sizes 1e3, 1e4, batches 1, 10, 5 s per case', el('input', { type: 'checkbox' })) as HTMLInputElement;
const sizesInput = field('sizes', 'sizes', "blank: 1e3, 1e4, ... until refused or over budget (a model's own unit where its size is not neurons)", el('input', { placeholder: 'ladder' }));
const batchesInput = field('batches', 'batches', "blank: 1, 10, ..., 1e5; 'none' skips", el('input', { placeholder: 'ladder' }));
const secondsInput = field('max-seconds', 'max seconds per case', 'default 60, quick 5', el('input', { type: 'number', min: '0', placeholder: '60' }));
const repeatsInput = field('repeats', 'repeats', 'default 3, quick 2', el('input', { type: 'number', min: '1', placeholder: '3' }));
const actions = el('div', { class: 'actions' });
const start = el('button', { type: 'button' }, 'Run benchmark');
const status = el('span', { class: 'status', 'data-status': 'ready' }, `ready (ei-engine ${engineVersion})`);
actions.append(start, status);
form.append(modelBoxes, fields, actions);

const out = el('section', { class: 'card' });
out.append(el('h2', {}, 'Progress'));
const message = el('div', { class: 'message', role: 'alert' });
message.hidden = true;
const logView = el('pre', { class: 'log mono' });
const table = el('table');
const downloads = el('div', { class: 'downloads' });
out.append(message, logView, table, downloads);
app.append(form, out);

function setStatus(s: BenchPageState['status'], text: string): void {
  state.status = s;
  status.dataset.status = s;
  status.textContent = text;
}

function addLog(line: string): void {
  state.log.push(line);
  logView.textContent += `${line}\n`;
  logView.scrollTop = logView.scrollHeight;
}

/** The settings the form shows, as the CLI would give them. */
function formInput(): BrowserBenchInput {
  const ids = Array.from(modelBoxes.querySelectorAll('input')).filter((b) => b.checked).map((b) => b.value);
  const num = (i: HTMLInputElement | HTMLSelectElement) => (i.value.trim() === '' ? undefined : Number(i.value));
  const input: BrowserBenchInput = { models: ids.join(','), backend: backendSelect.value, quick: quickBox.checked || undefined, sizes: sizesInput.value.trim() || undefined, batches: batchesInput.value.trim() || undefined, maxSeconds: num(secondsInput), repeats: num(repeatsInput) };
  for (const k of Object.keys(input) as (keyof BrowserBenchInput)[]) if (input[k] === undefined) delete input[k];
  return input;
}

function showInput(input: BrowserBenchInput): void {
  if (input.models !== undefined) {
    const ids = new Set(input.models.split(',').map((s) => s.trim()));
    for (const b of Array.from(modelBoxes.querySelectorAll('input'))) b.checked = ids.has(b.value);
  }
  if (input.backend !== undefined) backendSelect.value = input.backend;
  quickBox.checked = input.quick === true;
  sizesInput.value = input.sizes ?? '';
  batchesInput.value = input.batches ?? '';
  secondsInput.value = input.maxSeconds === undefined ? '' : String(input.maxSeconds);
  repeatsInput.value = input.repeats === undefined ? '' : String(input.repeats);
}

function showResult(r: ModelsBenchResult): void {
  table.replaceChildren();
  const head = el('tr');
  for (const h of ['model', 'case', 'size', 'backend', 'neurons/step', 'steps x repeats', 'median wall', 'neuron-steps/s', 'note']) head.append(el('th', {}, h));
  table.append(head);
  for (const c of r.cases) {
    const tr = el('tr', { 'data-status': c.status });
    const ok = c.status === 'ok';
    tr.append(el('td', {}, c.model), el('td', {}, c.group), el('td', { class: 'num' }, String(c.size)), el('td', {}, c.backend), el('td', { class: 'num' }, String(c.neuronsPerStep ?? '-')),
      el('td', { class: 'num' }, ok ? `${c.steps} x ${c.repeats}` : '-'), el('td', { class: 'num' }, ok ? formatSeconds(c.wall!.median) : '-'), el('td', { class: 'num' }, ok ? formatSi(c.neuronStepsPerSecond) : '-'),
      el('td', {}, ok ? (c.stepsReason ?? '') : `${c.status}: ${c.reason}`));
    table.append(tr);
  }
  const name = `${browserResultName(r.environment)}-${r.environment.date.slice(0, 10)}`;
  const csv = makeModelsCsv(r);
  const links: [string, string, string][] = [[`${name}.json`, JSON.stringify(r, null, 2) + '\n', 'application/json'], [`${name}.csv`, csv, 'text/csv']];
  downloads.replaceChildren(...links.map(([file, text, type]) => el('a', { href: URL.createObjectURL(new Blob([text], { type })), download: file }, `download ${file}`)));
  state.csv = csv;
  state.downloads = links.map(([file]) => file);
}

async function run(input: BrowserBenchInput): Promise<void> {
  start.disabled = true;
  message.hidden = true;
  logView.textContent = '';
  state.log = [];
  state.result = null;
  state.error = null;
  setStatus('running', 'running…');
  let ctx: GpuContext | null = null;
  try {
    const config = makeBrowserBenchConfig(input);
    if (config.backends.includes('webgpu')) {
      // The benchmark asked for WebGPU: no adapter is an error, not a silent CPU-only run.
      ctx = await createGpuContext({ notify: addLog });
      const i = ctx.info;
      addLog(`bench: adapter ${i.vendor}/${i.architecture}${i.description ? ` (${i.description})` : ''}${i.isSoftware ? ' — SOFTWARE: numbers measure plumbing, not GPU speed' : ''}`);
    }
    const facts = await pageFacts();
    // wasm worker threads need a cross-origin isolated page; elsewhere the backend runs on one thread.
    const threads = facts.crossOriginIsolated ? facts.hardwareConcurrency : 1;
    addLog(`bench: ${config.models.map((m) => m.id).join(', ')} on ${config.backends.join(' + ')}; ${config.repeats} repeats, budget ${config.maxSeconds} s per case`);
    const result = await runBrowserBenchmark(config, { ctx, facts, threads, log: addLog });
    const problems = validateModelsBenchResult(result);
    if (problems.length) throw new Error(`the benchmark produced a malformed result:\n  ${problems.join('\n  ')}`);
    state.result = result;
    showResult(result);
    const ok = result.cases.filter((c) => c.status === 'ok').length;
    setStatus('done', `done: ${ok} of ${result.cases.length} cases ran (the others say why)`);
  } catch (e) {
    state.error = describe(e);
    message.textContent = state.error;
    message.hidden = false;
    setStatus('error', 'error');
  } finally {
    ctx?.dispose();
    start.disabled = false;
  }
}

start.addEventListener('click', () => void run(formInput()));

try {
  const q = readBenchQuery(location.search);
  showInput(q.input);
  if (q.run) void run(q.input);
} catch (e) {
  state.error = describe(e);
  message.textContent = state.error;
  message.hidden = false;
  setStatus('error', 'error in the page address');
}
