// The pure parts of the browser benchmark (demo/bench.html, `ei bench --browser`): its settings and their page query,
// the size ladders, the environment record of a browser run, result names and the CSV of a models result. The page and
// the Node driver (chrome-runner.ts) both use these, so a setting means the same on either side. No DOM, no node: module.
import type { AnyModel, Backend, BenchDefinition } from '../../src/core/contract.ts';
import { getModelDefinition } from '../../src/engine/models.ts';
import { engineVersion } from '../../src/engine/version.ts';
import { ParameterError } from '../../src/errors.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { makeCsv } from '../../src/io/csv.ts';
import { modelList } from '../../src/models/index.ts';
import { runModelsBenchmark, type ModelsBenchResult } from './models-harness.ts';
import { adapterSlug, makeAdapterFacts, parsePositiveList, runtimeLabel, slug, type EnvironmentRecord } from './records.ts';

/** What one browser benchmark runs; the page's query and the CLI's flags both become one of these. */
export interface BrowserBenchConfig {
  models: AnyModel[];
  backends: Backend[];
  quick: boolean;
  /** Explicit scaling sizes for every model, or null: each model's ladder (makeSizeLadder). */
  sizes: number[] | null;
  batches: number[];
  maxSeconds: number;
  repeats: number;
  /** Steps per timed run before the budget lowers them; null: each case's own length. */
  steps: number | null;
  seed: number;
}

/** The settings as text, as a page query or the CLI's flags give them; a missing one takes its default. */
export interface BrowserBenchInput {
  models?: string;
  backend?: string;
  quick?: boolean;
  sizes?: string;
  batches?: string;
  maxSeconds?: number;
  repeats?: number;
  steps?: number;
  seed?: number;
}

/** --backend as `ei bench --browser` and the page spell it (the same words as npm run bench:models), default gpu. */
export const browserBackendChoices = ['gpu', 'cpu', 'wasm', 'both', 'all'] as const;

const backendsOfChoice: Record<(typeof browserBackendChoices)[number], Backend[]> = {
  gpu: ['webgpu'],
  cpu: ['cpu'],
  wasm: ['wasm'],
  both: ['webgpu', 'cpu'],
  all: ['webgpu', 'cpu', 'wasm'],
};

/** Scaling sizes of models whose size is a neuron count: decades from 1e3 until a size is refused or over the budget. */
export const neuronLadder = { full: [1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9], quick: [1e3, 1e4] } as const;
/** Batches of the batched case (instances of a small network, the shape of a sweep), likewise stopped by the harness. */
export const batchLadder = { full: [1, 10, 100, 1000, 1e4, 1e5], quick: [1, 10] } as const;
/** Doublings of a model's largest own size tried beyond it when its size is not a neuron count (grid side, channels). */
const extraDoublings = 3;

/**
 * The scaling sizes of a model: for a model whose bench size is its neuron count, the decades of neuronLadder; else
 * its own sizes (quick: its quick sizes), then doublings of the largest. The harness stops the ladder at the first
 * size refused (parameter range, memory, the adapter's limits) or over the budget and says why for the rest.
 */
export function makeSizeLadder(bench: BenchDefinition, quick: boolean): number[] {
  const inNeurons = bench.sizes.full.every((s) => bench.scaling(s).n === s);
  if (inNeurons) return [...(quick ? neuronLadder.quick : neuronLadder.full)];
  if (quick) return [...bench.sizes.quick];
  const top = bench.sizes.full[bench.sizes.full.length - 1];
  return [...bench.sizes.full, ...Array.from({ length: extraDoublings }, (_, i) => top * 2 ** (i + 1))];
}

/** Checks the settings and fills in the defaults (those of npm run bench:models where it has the same setting). */
export function makeBrowserBenchConfig(input: BrowserBenchInput): BrowserBenchConfig {
  const quick = input.quick ?? false;
  if (quick && input.sizes !== undefined) throw new ParameterError('--sizes', 'was given with --quick, which sets the sizes too', 'give one of them: --quick (tiny sizes) or --sizes a,b,...');
  const ids = input.models === undefined ? null : input.models.split(',').map((s) => s.trim()).filter(Boolean);
  if (ids !== null && ids.length === 0) throw new ParameterError('--models', `'${input.models}' names no model`, `write e.g. --models ${modelList.filter((m) => m.bench).slice(0, 2).map((m) => m.id).join(',')} (\`ei models\` lists them)`);
  const models = ids === null ? modelList.filter((m) => m.bench) : ids.map((id) => getModelDefinition(id));
  for (const m of models) if (!m.bench) throw new ParameterError('--models', `${m.id} has no bench member`, `leave it out; models with one: ${modelList.filter((x) => x.bench).map((x) => x.id).join(', ')}`);
  const choice = input.backend ?? 'gpu';
  if (!(browserBackendChoices as readonly string[]).includes(choice)) throw new ParameterError('--backend', `'${choice}' is not one of ${browserBackendChoices.join(', ')}`, `use one of: ${browserBackendChoices.join(', ')}`);
  const batches = parsePositiveList('batches', input.batches, quick ? batchLadder.quick : batchLadder.full);
  if (input.batches !== undefined && batches.length > 0 && !models.some((m) => m.bench!.batched)) {
    throw new ParameterError('--batches', `none of the models (${models.map((m) => m.id).join(', ')}) has a batched case`, 'leave --batches out, or add a model with one');
  }
  for (const [flag, v, min] of [['--max-seconds', input.maxSeconds, 0], ['--repeats', input.repeats, 1], ['--steps', input.steps, 1], ['--seed', input.seed, 0]] as const) {
    if (v !== undefined && !(Number.isFinite(v) && v >= min && (flag === '--max-seconds' || Number.isSafeInteger(v)))) throw new ParameterError(flag, `${v} is not ${flag === '--max-seconds' ? 'a number' : 'an integer'} >= ${min}`, `give e.g. ${flag} ${min || 1}`);
  }
  return {
    models,
    backends: [...backendsOfChoice[choice as (typeof browserBackendChoices)[number]]],
    quick,
    sizes: input.sizes === undefined ? null : parsePositiveList('sizes', input.sizes, []),
    batches,
    maxSeconds: input.maxSeconds ?? (quick ? 5 : 60),
    repeats: input.repeats ?? (quick ? 2 : 3),
    steps: input.steps ?? null,
    seed: input.seed ?? 1,
  };
}

/** Query names of the settings: the CLI's flag names. */
const queryKeys = { models: 'models', backend: 'backend', quick: 'quick', sizes: 'sizes', batches: 'batches', maxSeconds: 'max-seconds', repeats: 'repeats', steps: 'steps', seed: 'seed' } as const;

/** The page query of the settings (plus run=1, which starts the run on load); the inverse of readBenchQuery. */
export function makeBenchQuery(input: BrowserBenchInput, run: boolean): string {
  const q = new URLSearchParams();
  for (const [k, name] of Object.entries(queryKeys) as [keyof BrowserBenchInput, string][]) {
    const v = input[k];
    if (v === undefined || v === false) continue;
    q.set(name, v === true ? '1' : String(v));
  }
  if (run) q.set('run', '1');
  return q.toString();
}

/** The settings of a page query (?models=a,b&max-seconds=5&quick=1&run=1); an unknown name is an error naming it. */
export function readBenchQuery(search: string): { input: BrowserBenchInput; run: boolean } {
  const q = new URLSearchParams(search);
  const names = new Set<string>([...Object.values(queryKeys), 'run']);
  for (const k of q.keys()) if (!names.has(k)) throw new ParameterError(`query ${k}`, 'is not a setting of the bench page', `use: ${[...names].join(', ')}`);
  const num = (name: string): number | undefined => {
    const raw = q.get(name);
    if (raw === null) return undefined;
    const v = Number(raw);
    if (raw.trim() === '' || !Number.isFinite(v)) throw new ParameterError(`--${name}`, `'${raw}' is not a number`, `write e.g. ${name}=5`);
    return v;
  };
  const flag = (name: string) => q.get(name) === '1' || q.get(name) === 'true';
  const input: BrowserBenchInput = {
    models: q.get('models') ?? undefined,
    backend: q.get('backend') ?? undefined,
    quick: flag('quick') || undefined,
    sizes: q.get('sizes') ?? undefined,
    batches: q.get('batches') ?? undefined,
    maxSeconds: num('max-seconds'),
    repeats: num('repeats'),
    steps: num('steps'),
    seed: num('seed'),
  };
  for (const k of Object.keys(input) as (keyof BrowserBenchInput)[]) if (input[k] === undefined) delete input[k];
  return { input, run: flag('run') };
}

/**
 * The browser's name and version from its user agent, e.g. 'Chrome 131.0.6778.85 (headless)', 'Edge 131.0', 'Firefox
 * 133.0'. Chrome's user agent says only its major version (131.0.0.0); `fullVersion` (from navigator.userAgentData's
 * high-entropy values) replaces it when the page could read it.
 */
export function browserNameOf(userAgent: string, fullVersion?: string): string {
  const m = (re: RegExp) => {
    const v = re.exec(userAgent)?.[1];
    return v && fullVersion && fullVersion.split('.')[0] === v.split('.')[0] ? fullVersion : v;
  };
  const edge = m(/\bEdg\/([\d.]+)/);
  if (edge) return `Edge ${edge}`;
  const headless = m(/\bHeadlessChrome\/([\d.]+)/);
  if (headless) return `Chrome ${headless} (headless)`;
  const chrome = m(/\b(?:Chrome|Chromium)\/([\d.]+)/);
  if (chrome) return `Chrome ${chrome}`;
  const firefox = m(/\bFirefox\/([\d.]+)/);
  if (firefox) return `Firefox ${firefox}`;
  const safari = m(/\bVersion\/([\d.]+).*Safari\//);
  return safari ? `Safari ${safari}` : 'unknown browser';
}

/** What a page can see of where it runs (navigator and the window). */
export interface PageFacts {
  userAgent: string;
  crossOriginIsolated: boolean;
  /** navigator.userAgentData?.platform or navigator.platform. */
  platform: string;
  hardwareConcurrency: number;
  /** navigator.deviceMemory (GiB, rounded and capped by the browser), when it says. */
  deviceMemoryGiB?: number;
  /** The browser's full version from navigator.userAgentData (Chromium browsers), when the page could read it. */
  fullVersion?: string;
}

/**
 * The environment record of a browser run: the adapter from GPUAdapter.info (through the GPU context), the user agent,
 * and what the page sees of the machine (no CPU model: `ei bench --browser` fills in the machine's OS and CPU).
 */
export function makeBrowserEnvironmentRecord(ctx: GpuContext | null, facts: PageFacts, now = new Date()): EnvironmentRecord {
  return {
    engineVersion,
    date: now.toISOString(),
    node: null,
    os: {
      platform: facts.platform || 'unknown',
      release: 'unknown',
      arch: 'unknown',
      cpuModel: 'unknown (not visible to a page)',
      cpuCount: facts.hardwareConcurrency,
      totalMemoryBytes: (facts.deviceMemoryGiB ?? 0) * 2 ** 30,
    },
    adapter: makeAdapterFacts(ctx),
    env: {},
    browser: { userAgent: facts.userAgent, name: browserNameOf(facts.userAgent, facts.fullVersion), crossOriginIsolated: facts.crossOriginIsolated },
  };
}

/** `models-<vendor>-<architecture>-<browser>` (chrome for Chrome, Chromium and headless Chrome): the result's name without its date. */
export function browserResultName(e: EnvironmentRecord): string {
  const name = e.browser ? e.browser.name.split(' ')[0].toLowerCase() : 'node';
  return `models-${adapterSlug(e)}-${slug(name)}`;
}

/** One CSV row per case of a models result (Node or browser), with the runtime and adapter on every row. */
export function makeModelsCsv(r: ModelsBenchResult): string {
  const e = r.environment;
  const adapter = e.adapter ? `${e.adapter.vendor}/${e.adapter.architecture}` : 'none';
  const columns = ['runtime', 'adapter', 'model', 'group', 'size', 'backend', 'status', 'reason', 'n', 'batch', 'neuronsPerStep', 'dt', 'steps', 'repeats', 'setupMedianSeconds', 'wallMedianSeconds', 'wallMinSeconds', 'neuronStepsPerSecond', 'neuronStepsPerSecondBest', 'stepsReason'];
  const rows = r.cases.map((c) => [
    runtimeLabel(e), adapter, c.model, c.group, c.size, c.backend, c.status, c.reason ?? null, c.n ?? null, c.batch ?? null, c.neuronsPerStep ?? null, c.dt ?? null, c.steps ?? null, c.repeats ?? null,
    c.setup?.median ?? null, c.wall?.median ?? null, c.wall?.min ?? null, c.neuronStepsPerSecond ?? null, c.neuronStepsPerSecondBest ?? null, c.stepsReason ?? null,
  ]);
  return makeCsv(columns, rows);
}

/** Runs the configured benchmark through the models harness (the same code as npm run bench:models) with a browser's record. */
export function runBrowserBenchmark(config: BrowserBenchConfig, o: { ctx: GpuContext | null; facts: PageFacts; threads: number; log?: (line: string) => void }): Promise<ModelsBenchResult> {
  const { models, backends, quick, sizes, batches, maxSeconds, repeats, steps, seed } = config;
  const flags = { quick, sizes, batches, maxSeconds, repeats, steps, seed, backends, threads: o.threads, models: models.map((m) => m.id) };
  return runModelsBenchmark(
    {
      models,
      backends,
      ctx: o.ctx,
      threads: o.threads,
      sizes: (b) => sizes ?? makeSizeLadder(b, quick),
      batches,
      steps: steps ?? undefined,
      repeats,
      maxSeconds,
      seed,
      log: o.log,
      environment: (ctx) => makeBrowserEnvironmentRecord(ctx, o.facts),
    },
    flags,
  );
}
