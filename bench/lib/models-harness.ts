// The generic benchmark harness: times the bench cases of every registered model (ModelDefinition.bench) on the CPU
// reference and on WebGPU through the model contract only (resolve -> estimate -> createRunner -> run). It names no
// model: a model with a `bench` member is benchmarked by `npm run bench:models` without a line changed here. It is
// pure (no node: module, no DOM), so the browser bench page (demo/bench.ts) runs the same code in Chrome; the caller
// supplies the environment record of its runtime.
import type { AnyModel, Backend, BenchDefinition, ResolvedRun, RunRequest, RunTarget, Runner } from '../../src/core/contract.ts';
import { checkRunLimits, secondsOn, timeKindOf } from '../../src/core/limits.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { describeError, formatPrecision, formatSeconds, formatSi, isPositiveFinite as posFinite, isValidTimingStats, makeTimingStats, median, runtimeKind, runtimeLabel, validateEnvironmentRecord, validateNotOkCase, validateSpeedups, type EnvironmentRecord, type TimingStats } from './records.ts';

export const modelsBenchSchema = 'ei-engine/bench-models';
/** Bumped when the JSON layout changes; summarize.ts refuses files it does not understand. */
export const modelsBenchSchemaVersion = 1;

export type ModelCaseGroup = 'scaling' | 'batched';

/**
 * How a case's run length is set: the `steps` option; `T` = steps x dt (dt from resolving the case once with its
 * own options); or `fixed` when the model takes neither (the case runs the length its request resolves to).
 */
export type LengthOption = 'steps' | 'T' | 'fixed';

export function lengthOptionOf(def: AnyModel): LengthOption {
  const takes = def.options.takes;
  return takes.includes('steps') ? 'steps' : takes.includes('T') ? 'T' : 'fixed';
}

export interface ModelCaseResult {
  model: string;
  group: ModelCaseGroup;
  backend: Backend;
  /** The argument of bench.scaling / bench.batched: the model's own size (neurons, cells, grid side, instances ...). */
  size: number;
  /** The case's request as its bench member defines it (the length is replaced as `lengthBy` says). */
  request: RunRequest;
  lengthBy: LengthOption;
  status: 'ok' | 'skipped' | 'failed';
  /** Why a case was skipped or failed (the refusal of checkRunLimits, the estimate or probe against the budget, an error). */
  reason?: string;
  /** From the resolved run: neurons per instance (null where the model sets its own size), instances, neuron updates per step, time step. */
  n?: number | null;
  batch?: number;
  neuronsPerStep?: number;
  dt?: number | null;
  /** Steps of the case as defined (or --steps): the most a timed run takes. */
  stepsRequested?: number;
  /** Steps of each timed run (lower than requested when the budget demanded it). */
  steps?: number;
  stepsReason?: string;
  repeats?: number;
  /** Why more runs were timed than --repeats (a short run: see minTimedSeconds). */
  repeatsReason?: string;
  /** The model's estimate (RunEstimate.work.seconds on this backend kind) of one timed run. */
  estimateSeconds?: number;
  /** The warm-up runner: createRunner seconds, then the warm-up step and the probe runs (steps, seconds each). */
  warmup?: { setupSeconds: number; firstStepSeconds: number; probe: { steps: number; seconds: number }[]; rewarmRuns?: number; rewarmSeconds?: number };
  /** Wall seconds per step from the last probe run (the budget divides by it). */
  probeSecondsPerStep?: number;
  /** resolve + estimate + createRunner of each timed run's fresh runner: not in the throughput. */
  setup?: TimingStats;
  /** Wall seconds of each timed run(steps) call. */
  wall?: TimingStats;
  /** onChunk calls per timed run (0 where a runner reports no chunks). */
  chunksPerRun?: number;
  /** neuronsPerStep x steps / median wall seconds. */
  neuronStepsPerSecond?: number;
  /** neuronsPerStep x steps / min wall seconds. */
  neuronStepsPerSecondBest?: number;
}

export interface ModelsSpeedup {
  model: string;
  group: ModelCaseGroup;
  size: number;
  /** The backend compared with the CPU reference (results before wasm have only webgpu rows and no field). */
  backend?: Backend;
  /** webgpu over cpu neuron-steps/s (medians); on wasm rows, wasm over cpu (the same as overCpu). */
  gpuOverCpu: number;
  /** This backend over cpu neuron-steps/s (medians). */
  overCpu?: number;
}

export interface ModelsBenchResult {
  schema: typeof modelsBenchSchema;
  schemaVersion: number;
  environment: EnvironmentRecord;
  flags: Record<string, unknown>;
  /** The models benchmarked: what their bench member offers and how their length was set. */
  models: { id: string; title: string; webgpu: boolean; wasm?: boolean; takes: string[]; lengthBy: LengthOption; sizes: number[]; batches: number[] | null }[];
  cases: ModelCaseResult[];
  speedups: ModelsSpeedup[];
}

export interface ModelsBenchOptions {
  /** Models to time; those without a `bench` member are left out. */
  models: readonly AnyModel[];
  backends: readonly Backend[];
  /** The WebGPU context (owned by the caller); null: WebGPU cases are skipped with a reason. */
  ctx: GpuContext | null;
  /** Worker threads of the wasm backend (default 1). */
  threads?: number;
  /** Scaling sizes of a model (default: its bench.sizes.full). */
  sizes?: (bench: BenchDefinition) => readonly number[];
  /** Batches of the batched case (for models whose bench member has one). */
  batches: readonly number[];
  /** Steps per timed run before the budget lowers them (default: each case's own length). */
  steps?: number;
  /** Timed runs per case, each on a fresh runner (after the warm-up). */
  repeats: number;
  /** Budget in seconds for a case's timed runs (repeats x steps); the estimate and the probe check it. */
  maxSeconds: number;
  /** Fewest steps per timed run worth measuring; below this the case is skipped (default 2). */
  minSteps?: number;
  /** The probe grows its runs until one takes this long (default 0.25 s) or the warm-up runner's steps run out. */
  probeSeconds?: number;
  /**
   * Timed runs shorter than this add repeats (up to maxRepeats) until their walls sum to it (default 0.25 s): a run
   * of a few hundred microseconds, timed twice, measures the clock and the scheduler more than the kernel.
   */
  minTimedSeconds?: number;
  /** The most timed runs the short-run rule adds up to (default 25). */
  maxRepeats?: number;
  seed?: number;
  /** One-line progress notes. */
  log?: (line: string) => void;
  /** Seconds clock (injectable for tests). */
  now?: () => number;
  /** The environment record of the runtime (Node: common.ts's makeEnvironmentRecord; a browser: browser-bench.ts's). */
  environment: (ctx: GpuContext | null) => EnvironmentRecord;
  /** Seconds left of an overall budget: each case's budget is capped by it, and a case is skipped once it is spent. */
  secondsLeft?: () => number;
  /** Called after each case with the cases so far, e.g. to write a partial result that a run cut short still leaves. */
  onCase?: (cases: readonly ModelCaseResult[]) => void;
}

/** The request of a case with its length set to `steps` the way the model takes it. */
export function makeCaseRequest(def: AnyModel, request: RunRequest, lengthBy: LengthOption, steps: number, dt: number | null, seed: number): RunRequest {
  if (lengthBy === 'fixed') return { ...request, seed };
  const { steps: _steps, T: _T, ...rest } = request;
  if (lengthBy === 'steps') return { ...rest, steps, seed };
  const step = rest.dt ?? dt;
  if (step === null || !(step > 0)) throw new Error(`${def.id}: takes T but its resolved run has no dt`);
  return { ...rest, T: steps * step, ...(def.options.takes.includes('dt') ? { dt: step } : {}), seed };
}

async function timeRun(runner: Runner<unknown>, steps: number, now: () => number): Promise<{ seconds: number; chunks: number }> {
  let chunks = 0;
  const t0 = now();
  await runner.run(steps, { onChunk: () => chunks++ });
  return { seconds: now() - t0, chunks };
}

/**
 * Resolves and checks one run of a case: the model's resolve, estimate and the machine's limits (memory, buffer sizes,
 * the refusal of absurd durations; its "estimated N min" notice is not printed: the budget decides here).
 */
function resolveChecked(def: AnyModel, request: RunRequest, target: RunTarget): { r: ResolvedRun; estimateSeconds: number } {
  const r = def.resolve(request);
  const e = def.estimate(r, target);
  checkRunLimits(e, { backend: target.backend, ctx: target.ctx });
  // wasm by its own estimate (it was the CPU reference's, 10x to 40x slower, so the budget skipped cases wasm runs in seconds).
  // A timed run is runner.run alone: a model's analysis after it (analysisSeconds) is not part of it.
  return { r, estimateSeconds: secondsOn(e, timeKindOf({ backend: target.backend, ctx: target.ctx })) - (e.work.analysisSeconds ?? 0) };
}

/**
 * Marks a skip that larger sizes of the same case on the backend would meet too, so they are skipped without a try:
 * over the time budget, or refused (the model's parameter range, memory, the adapter's buffer limits, an allocation).
 */
type CaseOutcome = ModelCaseResult & { stop?: 'budget' | 'refused' };

/**
 * One case: resolve once with the case's own options (its length and dt), check the estimate against the budget, a
 * warm-up runner (one step, then probe runs growing to ~probeSeconds), steps from the probe and the budget, then
 * `repeats` timed runs each on a fresh runner (its setup timed apart).
 */
export async function runModelCase(def: AnyModel, group: ModelCaseGroup, size: number, backend: Backend, opts: ModelsBenchOptions): Promise<CaseOutcome> {
  const now = opts.now ?? (() => performance.now() / 1000);
  const seed = opts.seed ?? 1;
  const repeats = opts.repeats;
  const probeSeconds = opts.probeSeconds ?? 0.25;
  const lengthBy = lengthOptionOf(def);
  const bench = def.bench!;
  const request = group === 'scaling' ? bench.scaling(size) : bench.batched!(size);
  const base: CaseOutcome = { model: def.id, group, backend, size, request, lengthBy, status: 'ok' };
  const skip = (reason: string, extra: Partial<CaseOutcome> = {}): CaseOutcome => ({ ...base, ...extra, status: 'skipped', reason });
  if (backend === 'webgpu' && !def.webgpu) return skip(`${def.id} has no WebGPU runner`);
  if (backend === 'webgpu' && !opts.ctx) return skip('no WebGPU context');
  if (backend === 'wasm' && !def.wasm) return skip(`${def.id} has no wasm kernels yet`);
  const target: RunTarget = { backend, ctx: backend === 'webgpu' ? opts.ctx : null, threads: backend === 'wasm' ? opts.threads : undefined };

  // The case as defined: its own length and time step.
  let own: ResolvedRun;
  try {
    own = def.resolve({ ...request, seed });
  } catch (e) {
    return skip(`resolve refused the case: ${describeError(e)}`, { stop: 'refused' });
  }
  const dt = own.dt;
  const stepsRequested = lengthBy === 'fixed' ? own.steps : (opts.steps ?? own.steps);
  const minSteps = lengthBy === 'fixed' ? stepsRequested : Math.min(opts.minSteps ?? 2, stepsRequested);
  const facts = { n: own.n, batch: own.batch, neuronsPerStep: own.neuronsPerStep, dt, stepsRequested };
  const requestOf = (steps: number) => makeCaseRequest(def, request, lengthBy, steps, dt, seed);

  // The warm-up runner holds stepsRequested steps; the model's estimate of them decides whether to try at all.
  let warmR: ResolvedRun;
  let perStepEstimate: number;
  try {
    const c = resolveChecked(def, requestOf(stepsRequested), target);
    warmR = c.r;
    perStepEstimate = c.estimateSeconds / warmR.steps;
  } catch (e) {
    return skip(`refused: ${describeError(e)}`, { ...facts, stop: 'refused' });
  }
  if (repeats * minSteps * perStepEstimate > opts.maxSeconds) {
    return skip(`over --max-seconds budget: the model's estimate is ${perStepEstimate.toPrecision(3)} s/step, so ${repeats} x ${minSteps} steps need ${(repeats * minSteps * perStepEstimate).toFixed(1)} s > ${opts.maxSeconds} s`, { ...facts, stop: 'budget' });
  }

  let runner: Runner<unknown> | null = null;
  try {
    const t0 = now();
    try {
      runner = await def.createRunner(warmR, target);
    } catch (e) {
      // AdapterLimitError / GpuOutOfMemoryError / a RangeError: the size does not fit; say so.
      return skip(describeError(e), { ...facts, stop: 'refused' });
    }
    const setupSeconds = now() - t0;
    const first = await timeRun(runner, 1, now);
    const probe: { steps: number; seconds: number }[] = [];
    let perStep = first.seconds;
    let done = 1;
    let k = 1;
    let last = first.seconds;
    // Probe runs grow until one takes probeSeconds: a fixed cost per run (submit, readback) then weighs little in s/step.
    while (last < probeSeconds && done < warmR.steps) {
      k = Math.min(warmR.steps - done, k * Math.min(16, Math.max(2, Math.ceil(probeSeconds / Math.max(last, 1e-6)))));
      const p = await timeRun(runner, k, now);
      probe.push({ steps: k, seconds: p.seconds });
      done += k;
      last = p.seconds;
      perStep = p.seconds / k;
    }
    runner.dispose();
    runner = null;
    // A case shorter than the probe ends its warm-up runner before the JITs settle (V8 tiers wasm up from its
    // baseline compiler and optimises JS after some calls; both showed 5x to 15x slower first runs of a 1000-step
    // two-cell circuit): fresh runners then repeat the whole case until the warm-up has taken probeSeconds of wall time.
    let rewarmRuns = 0;
    const rewarmStart = now();
    if (last < probeSeconds) {
      while (now() - rewarmStart < probeSeconds && rewarmRuns < 1000) {
        runner = await def.createRunner(warmR, target);
        await timeRun(runner, warmR.steps, now);
        runner.dispose();
        runner = null;
        rewarmRuns++;
      }
    }
    const warmup = { setupSeconds, firstStepSeconds: first.seconds, probe, ...(rewarmRuns > 0 ? { rewarmRuns, rewarmSeconds: now() - rewarmStart } : {}) };
    const fit = Math.floor(opts.maxSeconds / (repeats * Math.max(perStep, 1e-9)));
    if (fit < minSteps) {
      return skip(`over --max-seconds budget: the probe measured ${perStep.toPrecision(3)} s/step, so ${repeats} x ${minSteps} steps need ${(repeats * minSteps * perStep).toFixed(1)} s > ${opts.maxSeconds} s`, { ...facts, warmup, probeSecondsPerStep: perStep, stop: 'budget' });
    }
    let steps = stepsRequested;
    let stepsReason: string | undefined;
    if (fit < steps) {
      steps = fit;
      stepsReason = `lowered from ${stepsRequested} to fit --max-seconds ${opts.maxSeconds} (probe: ${perStep.toPrecision(3)} s/step)`;
    }
    const minTimed = opts.minTimedSeconds ?? 0.25;
    const timedRepeats = Math.max(repeats, Math.min(opts.maxRepeats ?? 25, Math.floor(opts.maxSeconds / Math.max(steps * perStep, 1e-9)), Math.ceil(minTimed / Math.max(steps * perStep, 1e-9))));
    const repeatsReason = timedRepeats > repeats ? `${timedRepeats} repeats instead of ${repeats}: a run takes ~${formatSeconds(steps * perStep)}, and the timed runs sum to at least ${minTimed} s` : undefined;
    opts.log?.(`  ${def.id} ${backend} ${group} ${size}: ${timedRepeats} x ${steps} steps (~${(timedRepeats * steps * perStep).toFixed(1)} s)`);

    const setups: number[] = [];
    const walls: number[] = [];
    let chunksPerRun = 0;
    let r: ResolvedRun = warmR;
    let estimateSeconds = 0;
    for (let i = 0; i < timedRepeats; i++) {
      const t1 = now();
      const c = resolveChecked(def, requestOf(steps), target);
      r = c.r;
      estimateSeconds = c.estimateSeconds;
      runner = await def.createRunner(r, target);
      setups.push(now() - t1);
      const run = await timeRun(runner, r.steps, now);
      runner.dispose();
      runner = null;
      walls.push(run.seconds);
      chunksPerRun = run.chunks;
    }
    if (r.steps !== steps) stepsReason = `${stepsReason ? `${stepsReason}; ` : ''}the model resolved ${steps} steps to ${r.steps}`;
    const wall = makeTimingStats(walls);
    const work = r.neuronsPerStep * r.steps;
    const result: CaseOutcome = {
      ...base,
      n: r.n,
      batch: r.batch,
      neuronsPerStep: r.neuronsPerStep,
      dt: r.dt,
      stepsRequested,
      steps: r.steps,
      stepsReason,
      repeats: timedRepeats,
      ...(repeatsReason ? { repeatsReason } : {}),
      estimateSeconds,
      warmup,
      probeSecondsPerStep: perStep,
      setup: makeTimingStats(setups),
      wall,
      chunksPerRun,
      neuronStepsPerSecond: work / wall.median,
      neuronStepsPerSecondBest: work / wall.min,
    };
    if (!result.stepsReason) delete result.stepsReason;
    return result;
  } catch (e) {
    return { ...base, ...facts, status: 'failed', reason: describeError(e) };
  } finally {
    runner?.dispose();
  }
}

/** One line per case for a terminal: model, backend, case, size, then the throughput or why it did not run. */
export function formatModelCaseLine(c: ModelCaseResult): string {
  const label = `${c.model.padEnd(10)} ${c.backend.padEnd(6)} ${c.group.padEnd(8)} size=${String(c.size).padEnd(8)}`;
  if (c.status !== 'ok') return `${label}  ${c.status}: ${c.reason}`;
  const fmt = formatPrecision;
  return `${label}  ${fmt(c.neuronStepsPerSecond)} neuron-steps/s  (${c.neuronsPerStep} neurons/step, ${c.steps} steps x ${c.repeats}, median ${fmt(c.wall!.median)} s, setup ${fmt(c.setup!.median)} s)`;
}

/** Ratios over the CPU reference of median throughput, for every case that ran on cpu and another backend. */
export function makeModelsSpeedups(cases: readonly ModelCaseResult[]): ModelsSpeedup[] {
  const key = (c: ModelCaseResult) => `${c.model}|${c.group}|${c.size}`;
  const cpu = new Map(cases.filter((c) => c.backend === 'cpu' && c.status === 'ok').map((c) => [key(c), c]));
  const out: ModelsSpeedup[] = [];
  for (const g of cases) {
    const c = g.backend !== 'cpu' && g.status === 'ok' ? cpu.get(key(g)) : undefined;
    if (!c) continue;
    const ratio = g.neuronStepsPerSecond! / c.neuronStepsPerSecond!;
    out.push({ model: g.model, group: g.group, size: g.size, backend: g.backend, gpuOverCpu: ratio, overCpu: ratio });
  }
  return out;
}

/** Runs every case of every model with a bench member and assembles the result JSON. */
export async function runModelsBenchmark(opts: ModelsBenchOptions, flags: Record<string, unknown>): Promise<ModelsBenchResult> {
  const sizesOf = opts.sizes ?? ((b: BenchDefinition) => b.sizes.full);
  const models = opts.models.filter((m) => m.bench);
  const cases: ModelCaseResult[] = [];
  for (const def of models) {
    const bench = def.bench!;
    const groups: [ModelCaseGroup, readonly number[]][] = [['scaling', sizesOf(bench)], ['batched', bench.batched ? opts.batches : []]];
    for (const [group, sizes] of groups) {
      // Sizes grow: once one is over the budget or refused on a backend, the larger ones are skipped without allocating them.
      const stopped = new Map<Backend, { size: number; why: 'budget' | 'refused' }>();
      for (const size of sizes) {
        for (const backend of opts.backends) {
          const smaller = stopped.get(backend);
          let c: CaseOutcome;
          if (smaller !== undefined && size > smaller.size) {
            const reason = smaller.why === 'budget' ? `over --max-seconds budget: the smaller size ${smaller.size} already was` : `not tried: the smaller size ${smaller.size} was already refused (see its reason)`;
            c = { model: def.id, group, backend, size, request: group === 'scaling' ? bench.scaling(size) : bench.batched!(size), lengthBy: lengthOptionOf(def), status: 'skipped', reason };
          } else if (opts.secondsLeft && opts.secondsLeft() < 1) {
            c = { model: def.id, group, backend, size, request: group === 'scaling' ? bench.scaling(size) : bench.batched!(size), lengthBy: lengthOptionOf(def), status: 'skipped', reason: 'the overall time budget was spent' };
          } else {
            opts.log?.(`bench: ${def.id} ${backend} ${group} ${size}`);
            const maxSeconds = opts.secondsLeft ? Math.min(opts.maxSeconds, opts.secondsLeft()) : opts.maxSeconds;
            c = await runModelCase(def, group, size, backend, { ...opts, maxSeconds });
          }
          if (c.stop && !stopped.has(backend)) stopped.set(backend, { size, why: c.stop });
          delete c.stop;
          if (c.status !== 'ok') opts.log?.(`  ${def.id} ${backend} ${group} ${size}: ${c.status} (${c.reason})`);
          cases.push(c);
          opts.onCase?.(cases);
        }
      }
    }
  }
  return makeModelsBenchResult(opts, flags, cases);
}

/** The result JSON of the cases run so far (all of them at the end of runModelsBenchmark). */
export function makeModelsBenchResult(opts: ModelsBenchOptions, flags: Record<string, unknown>, cases: readonly ModelCaseResult[]): ModelsBenchResult {
  const sizesOf = opts.sizes ?? ((b: BenchDefinition) => b.sizes.full);
  const models = opts.models.filter((m) => m.bench);
  return {
    schema: modelsBenchSchema,
    schemaVersion: modelsBenchSchemaVersion,
    environment: opts.environment(opts.ctx),
    flags,
    models: models.map((m) => ({
      id: m.id,
      title: m.title,
      webgpu: m.webgpu,
      wasm: m.wasm,
      takes: [...m.options.takes],
      lengthBy: lengthOptionOf(m),
      sizes: [...sizesOf(m.bench!)],
      batches: m.bench!.batched ? [...opts.batches] : null,
    })),
    cases: [...cases],
    speedups: makeModelsSpeedups(cases),
  };
}

/** Checks a parsed models result JSON; returns a list of problems (empty when it is well formed). */
export function validateModelsBenchResult(x: unknown): string[] {
  const r = x as ModelsBenchResult;
  if (!r || r.schema !== modelsBenchSchema) return [`schema is not ${modelsBenchSchema}`];
  const problems: string[] = [];
  if (r.schemaVersion !== modelsBenchSchemaVersion) problems.push(`schemaVersion ${r.schemaVersion} != ${modelsBenchSchemaVersion}`);
  problems.push(...validateEnvironmentRecord(r.environment));
  if (!Array.isArray(r.models) || r.models.some((m) => typeof m.id !== 'string' || !Array.isArray(m.sizes))) problems.push('models invalid');
  if (!Array.isArray(r.cases) || r.cases.length === 0) problems.push('no cases');
  for (const [i, c] of (r.cases ?? []).entries()) {
    const at = `cases[${i}] (${c.model} ${c.backend} ${c.group} ${c.size})`;
    if (typeof c.model !== 'string' || !['cpu', 'webgpu', 'wasm'].includes(c.backend) || !['scaling', 'batched'].includes(c.group) || !posFinite(c.size)) problems.push(`${at}: model, backend, group or size invalid`);
    if (!['steps', 'T', 'fixed'].includes(c.lengthBy) || typeof c.request !== 'object' || c.request === null) problems.push(`${at}: lengthBy or request invalid`);
    if (c.status === 'ok') {
      for (const k of ['steps', 'repeats', 'batch', 'neuronsPerStep', 'neuronStepsPerSecond', 'neuronStepsPerSecondBest'] as const) {
        if (!posFinite(c[k])) problems.push(`${at}: ${k} = ${c[k]} is not a positive finite number`);
      }
      for (const k of ['wall', 'setup'] as const) if (!isValidTimingStats(c[k], c.repeats)) problems.push(`${at}: ${k} timings invalid`);
      if (c.neuronStepsPerSecondBest! < c.neuronStepsPerSecond!) problems.push(`${at}: best throughput below the median's`);
    } else {
      problems.push(...validateNotOkCase(at, c));
    }
  }
  problems.push(...validateSpeedups(r.speedups));
  return problems;
}

function describeAdapter(e: EnvironmentRecord): string {
  const a = e.adapter;
  if (!a) return `CPU only (${e.os.cpuModel})`;
  return `${a.vendor || '?'} / ${a.architecture || '?'}${a.description ? ` (${a.description})` : ''}${a.isSoftware ? ' — software adapter' : ''}`;
}

/** Grouping key of a result in SUMMARY.md: its adapter and its runtime (Node / Dawn, Chrome ...). */
export function modelsAdapterKey(r: ModelsBenchResult): string {
  return `${describeAdapter(r.environment)} — ${runtimeKind(r.environment)}`;
}

function sizeText(x: number): string {
  return x >= 1000 && Math.log10(x) % 1 === 0 ? `1e${Math.log10(x)}` : String(x);
}

/** The markdown section of one models result file: environment, flags, one row per case. */
export function makeModelsSection(file: string, r: ModelsBenchResult): string {
  const e = r.environment;
  const a = e.adapter;
  const fl = r.flags as { quick?: boolean; steps?: number; repeats?: number; maxSeconds?: number; batches?: number[] };
  const lines = [
    `#### ${file}`,
    '',
    `- date ${e.date}, ei-engine ${e.engineVersion}, ${e.os.platform} ${e.os.release} ${e.os.arch}, CPU ${e.os.cpuModel} x ${e.os.cpuCount}`,
    `- runtime: ${runtimeLabel(e)}${e.browser ? `, user agent \`${e.browser.userAgent}\`, cross-origin isolated ${e.browser.crossOriginIsolated}` : ''}`,
    a
      ? `- adapter: vendor ${a.vendor}, architecture ${a.architecture}, device ${a.device || '-'}, description ${a.description || '-'}, isSoftware ${a.isSoftware}, maxStorageBufferBindingSize ${a.limits.maxStorageBufferBindingSize}`
      : '- adapter: none (CPU only)',
    `- flags: ${fl.quick ? '--quick, ' : ''}steps ${fl.steps ?? "each case's own"}, repeats ${fl.repeats}, --max-seconds ${fl.maxSeconds}, batches ${fl.batches ? fl.batches.join(',') || 'none' : '-'}`,
    `- models: ${r.models.map((m) => `${m.id} (length by ${m.lengthBy === 'T' ? 'T = steps x dt' : m.lengthBy})`).join(', ')}`,
    '',
    '| model | case | size | backend | neurons/step | steps x repeats | setup | median wall | neuron-steps/s | best | x CPU | note |',
    '| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  const speedup = new Map(r.speedups.map((s) => [`${s.model}|${s.group}|${s.size}|${s.backend ?? 'webgpu'}`, s.overCpu ?? s.gpuOverCpu]));
  for (const c of r.cases) {
    const head = `| ${c.model} | ${c.group} | ${sizeText(c.size)} | ${c.backend} | ${c.neuronsPerStep ?? '-'} |`;
    if (c.status !== 'ok') {
      lines.push(`${head} - | - | - | - | - | - | **${c.status}**: ${c.reason!.replace(/\|/g, '\\|')} |`);
      continue;
    }
    const sp = c.backend !== 'cpu' ? speedup.get(`${c.model}|${c.group}|${c.size}|${c.backend}`) : undefined;
    lines.push(
      `${head} ${c.steps} x ${c.repeats} | ${formatSeconds(c.setup!.median)} | ${formatSeconds(c.wall!.median)} | ${formatSi(c.neuronStepsPerSecond)} | ${formatSi(c.neuronStepsPerSecondBest)} | ${sp === undefined ? '-' : `${sp.toFixed(2)}x`} | ${[c.stepsReason, c.repeatsReason].filter(Boolean).join('; ').replace(/\|/g, '\\|')} |`,
    );
  }
  return lines.join('\n');
}

/**
 * The newest Node and browser results on one adapter side by side: each case that ran in either, its neuron-steps/s
 * in both, and browser over Node where both ran.
 */
export function makeRuntimeComparison(node: { file: string; result: ModelsBenchResult }, browser: { file: string; result: ModelsBenchResult }): string {
  const key = (c: ModelCaseResult) => `${c.model}|${c.group}|${c.size}|${c.backend}`;
  const byKey = new Map<string, { node?: ModelCaseResult; browser?: ModelCaseResult }>();
  for (const [side, r] of [['node', node.result], ['browser', browser.result]] as const) {
    for (const c of r.cases) byKey.set(key(c), { ...byKey.get(key(c)), [side]: c });
  }
  const rateText = (c?: ModelCaseResult) => (c === undefined ? '-' : c.status === 'ok' ? formatSi(c.neuronStepsPerSecond) : c.status);
  const b = runtimeLabel(browser.result.environment);
  const lines = [
    `${runtimeLabel(node.result.environment)} (\`${node.file}\`) and ${b} (\`${browser.file}\`), median neuron-steps/s of the cases in both (skipped / failed: see its section).`,
    '',
    `| model | case | size | backend | Node / Dawn | ${runtimeKind(browser.result.environment)} | ${runtimeKind(browser.result.environment)} / Node |`,
    '| --- | --- | ---: | --- | ---: | ---: | ---: |',
  ];
  let onlyOne = 0;
  for (const { node: n, browser: w } of byKey.values()) {
    if (!n || !w) {
      onlyOne++;
      continue;
    }
    const ratio = n.status === 'ok' && w.status === 'ok' ? `${(w.neuronStepsPerSecond! / n.neuronStepsPerSecond!).toFixed(2)}x` : '-';
    lines.push(`| ${n.model} | ${n.group} | ${sizeText(n.size)} | ${n.backend} | ${rateText(n)} | ${rateText(w)} | ${ratio} |`);
  }
  if (onlyOne) lines.push('', `${onlyOne} case${onlyOne === 1 ? '' : 's'} ran in only one of the two (other models, sizes or backends); see their sections.`);
  return lines.join('\n');
}

/** The intro of the SUMMARY.md section of the models results. */
export const modelsSectionIntro =
  'Every registered model with a `bench` member, timed through the model contract (resolve, estimate, createRunner, run). ' +
  "size = the argument of the model's bench.scaling / bench.batched (its own unit: neurons, cells, grid side or instances); " +
  'neurons/step = neuron updates per step of the resolved run; neuron-steps/s = neurons/step x steps / median wall time of run() on a fresh runner ' +
  '(setup = resolve + estimate + createRunner, excluded; a warm-up runner ran first). The newest file of each adapter and runtime in full (Node / Dawn: npm run bench:models; ' +
  'a browser: ei bench --browser, the same harness on the page\'s navigator.gpu), then, for an adapter measured in both, the two side by side.';
