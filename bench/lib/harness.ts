// Benchmark harness for the poisson model: timed repeats after a warm-up, budget-driven step counts, a byte model, and the environment record every result JSON carries.
import { createSimulation } from '../../src/models/poisson/create-simulation.ts';
import { resolveParams, type ParamValues } from '../../src/core/params.ts';
import type { SimulationSpec } from '../../src/models/poisson/simulation.ts';
import { CpuHybridSimulation } from '../../src/models/hybrid/cpu-simulation.ts';
import { WebGpuHybridSimulation } from '../../src/models/hybrid/webgpu-simulation.ts';
import { defaultHybridDt, hybridParameters } from '../../src/models/hybrid/params.ts';
import type { GpuContext } from '../../src/gpu/context.ts';
import { structLayout } from '../../src/gpu/pack.ts';
import { makeNeuronsPerThread, stepWorkgroupSize } from '../../src/models/poisson/webgpu-simulation.ts';
import { poissonParameters } from '../../src/models/poisson/index.ts';
import { poissonPopulation } from '../../src/models/poisson/population.ts';
import { seedToKey } from '../../src/rng/index.ts';
import { makeEnvironmentRecord as makeBaseEnvironmentRecord } from './common.ts';
import { describeError, isPositiveFinite as posFinite, isValidTimingStats, makeTimingStats, median, validateEnvironmentRecord, validateNotOkCase, validateSpeedups, type EnvironmentRecord, type TimingStats } from './records.ts';

export { makeTimingStats, median, type EnvironmentRecord, type TimingStats };

/** Bumped when the JSON layout changes; summarize.ts refuses files it does not understand. */
export const resultSchemaVersion = 1;

export type BackendName = 'cpu' | 'webgpu';
export type BenchModel = 'poisson' | 'hybrid';

/** What the harness times: both simulation kinds fit this shape. */
interface Runnable {
  run(steps: number, options?: { onChunk?: (c: { steps: number }) => void }): Promise<void>;
  dispose(): void;
}

/** Neurons updated per instance-step: the hybrid network has two populations of n. */
export function neuronsPerInstance(model: BenchModel, n: number): number {
  return model === 'hybrid' ? 2 * n : n;
}
export type CaseGroup = 'scaling' | 'batched' | 'chunking';

export interface BenchCase {
  group: CaseGroup;
  backend: BackendName;
  n: number;
  batch: number;
  /** Forwarded to recorders.chunkSteps (the backend may cap it); undefined = the backend's default. */
  chunkSteps?: number;
}

export interface HarnessOptions {
  /** Which model to time (default poisson). */
  model?: BenchModel;
  /** Steps per timed run, before the budget lowers it. */
  steps: number;
  /** Timed runs per case (after the warm-up). */
  repeats: number;
  /** Budget in seconds for a case's timed runs (repeats x steps); the probe estimates it. */
  maxSeconds: number;
  /** Fewest steps per timed run worth measuring; below this the case is skipped. */
  minSteps?: number;
  dt?: number;
  seed?: number;
  /** Try GPU timestamp queries for kernel time (WebGPU cases only). */
  kernelTime?: boolean;
  /** Where one-line progress notes go. */
  log?: (line: string) => void;
  /** Seconds clock (injectable for tests). */
  now?: () => number;
}

export interface ByteModel {
  /** Bytes per neuron-step: state read + write. */
  perNeuronStep: number;
  /** Bytes per instance-step: recording traffic (counts, moments, partials, copies to the readback buffer). */
  perInstanceStep: number;
  description: string;
}

export interface KernelTime {
  /** Sum over chunks of GPU time between the start and end of each chunk's compute pass (one timed run). */
  seconds: number | null;
  passes: number;
  note: string;
}

export interface CaseResult extends BenchCase {
  status: 'ok' | 'skipped' | 'failed';
  /** Why a case was skipped or failed (AdapterLimitError message, budget estimate, ...). */
  reason?: string;
  stepsRequested: number;
  /** Steps per timed run actually used (lower than requested when the budget demanded it). */
  steps?: number;
  stepsReason?: string;
  repeats?: number;
  /** Seconds for createSimulation (buffers, pipelines) — not in the rates. */
  setupSeconds?: number;
  warmupSeconds?: number;
  /** Estimated wall seconds per step from the probe. */
  probeSecondsPerStep?: number;
  wall?: TimingStats;
  /** N * batch * steps / median wall seconds. */
  neuronStepsPerSecond?: number;
  /** N * batch * steps / min wall seconds. */
  neuronStepsPerSecondBest?: number;
  bytesPerRun?: number;
  /** bytesPerRun / median wall seconds, from the byte model (not a hardware counter). */
  effectiveBytesPerSecond?: number;
  byteModel?: ByteModel;
  chunking?: { chunksPerRun: number; maxChunkSteps: number; medianChunkSeconds: number };
  kernelTime?: KernelTime;
}

export interface Speedup {
  group: CaseGroup;
  n: number;
  batch: number;
  chunkSteps?: number;
  /** webgpu neuron-steps/s over cpu neuron-steps/s (medians). */
  gpuOverCpu: number;
}

export interface BenchResult {
  schema: 'ei-engine/bench-poisson' | 'ei-engine/bench-hybrid';
  schemaVersion: number;
  environment: EnvironmentRecord;
  flags: Record<string, unknown>;
  model: { id: string; params: ParamValues; dt: number; seed: number; recorders: string };
  cases: CaseResult[];
  speedups: Speedup[];
}

/** The environment record (bench/lib/common.ts) plus the neurons per thread the population kernels chose. */
export function makeEnvironmentRecord(ctx: GpuContext | null, now = new Date()): EnvironmentRecord {
  const e = makeBaseEnvironmentRecord(ctx, now);
  return { ...e, adapter: e.adapter && ctx ? { ...e.adapter, neuronsPerThread: makeNeuronsPerThread(ctx.info.isSoftware) } : e.adapter };
}

// The WebGPU backend's step-kernel workgroup size; only the byte model uses it.
const gpuWorkgroupSize = stepWorkgroupSize;

/**
 * The byte model (an estimate of memory traffic, not a hardware counter). Both backends: 8 B per
 * neuron-step (f32 potential read + write). WebGPU adds per instance-step: each workgroup's 16 B moment
 * partial written by the step kernel and read by the reduction, 4 B count clear + 4 B atomic count,
 * 16 B population moments written, and 20 B copied (read + write) into the readback buffer. The CPU
 * reference reads the state a second time for its two-pass variance (4 B per neuron-step) and writes
 * 4 B count + 32 B f64 moments per instance-step.
 */
export function makeByteModel(c: BenchCase, ctx: GpuContext | null, model: BenchModel = 'poisson'): ByteModel {
  if (model === 'hybrid') {
    const npt = makeNeuronsPerThread(ctx?.info.isSoftware ?? false);
    const wpp = Math.ceil(c.n / (gpuWorkgroupSize * npt));
    return c.backend === 'cpu'
      ? { perNeuronStep: 16, perInstanceStep: 48, description: 'cpu: 8 B state r+w + 4 B intensity units r+w + moment pass per neuron-step; 48 B records per instance-step' }
      : { perNeuronStep: 8, perInstanceStep: 2 * wpp * 2 * 24 + 32 + 2 * 32, description: `webgpu: 8 B state r+w per neuron-step; per instance-step 2 populations x ${wpp} partials x 24 B written and read + 32 B record + 64 B readback copy` };
  }
  if (c.backend === 'cpu') {
    return { perNeuronStep: 12, perInstanceStep: 36, description: 'cpu: 8 B state r+w + 4 B variance pass per neuron-step; 36 B records per instance-step' };
  }
  const npt = makeNeuronsPerThread(ctx?.info.isSoftware ?? false);
  const wpi = Math.ceil(c.n / (gpuWorkgroupSize * npt));
  const partial = structLayout('MomentPartial').size;
  const perInstanceStep = 2 * wpi * partial + 8 + 16 + 2 * 20;
  return {
    perNeuronStep: 8,
    perInstanceStep,
    description: `webgpu: 8 B state r+w per neuron-step; per instance-step 2 x ${wpi} partials x ${partial} B + 8 B counts + 16 B moments + 40 B readback copy`,
  };
}

/** The poisson parameters every case uses (defaults: rIn 2 kHz, so ~0.2 input events per neuron-step). */
export function makeBenchParams(model: BenchModel = 'poisson'): ParamValues {
  if (model === 'hybrid') return resolveParams('hybrid', hybridParameters, {});
  return resolveParams('poisson', poissonParameters, {});
}

function makeSpec(c: BenchCase, params: ParamValues, dt: number, seed: number): SimulationSpec {
  return {
    model: poissonPopulation,
    params: Array.from({ length: c.batch }, () => params),
    n: c.n,
    dt,
    key: seedToKey(seed),
    recorders: c.chunkSteps !== undefined ? { chunkSteps: c.chunkSteps } : {},
  };
}

interface TimedRun {
  seconds: number;
  chunks: number;
  maxChunkSteps: number;
  chunkSeconds: number[];
}

async function timeRun(sim: Runnable, steps: number, now: () => number): Promise<TimedRun> {
  let chunks = 0;
  let maxChunkSteps = 0;
  const chunkSeconds: number[] = [];
  const t0 = now();
  let last = t0;
  await sim.run(steps, {
    onChunk: (ch) => {
      const t = now();
      chunkSeconds.push(t - last);
      last = t;
      chunks++;
      maxChunkSteps = Math.max(maxChunkSteps, ch.steps);
    },
  });
  return { seconds: now() - t0, chunks, maxChunkSteps, chunkSeconds };
}

/**
 * GPU time of each chunk's compute pass via timestamp queries. The engine does not expose timestamp
 * writes, so for this one extra run we wrap the device's createCommandEncoder to add them to the
 * engine's single compute pass per chunk, and restore it afterwards. Timed runs are never instrumented.
 */
async function measureKernelTime(ctx: GpuContext, sim: Runnable, steps: number, expectedChunks: number): Promise<KernelTime> {
  const dev = ctx.device;
  if (!dev.features.has('timestamp-query')) return { seconds: null, passes: 0, note: 'adapter has no timestamp-query: wall time includes submit and readback overhead' };
  const passes = Math.min(expectedChunks + 1, 2048);
  const querySet = dev.createQuerySet({ label: 'bench.timestamps', type: 'timestamp', count: 2 * passes });
  // resolveQuerySet destinations must be 256-byte aligned: one slot per chunk.
  const resolve = dev.createBuffer({ label: 'bench.timestampResolve', size: 256 * passes, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC });
  const readback = dev.createBuffer({ label: 'bench.timestampRead', size: 256 * passes, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const target = dev as unknown as { createCommandEncoder: GPUDevice['createCommandEncoder'] };
  const original = dev.createCommandEncoder;
  let used = 0;
  let overflow = false;
  try {
    target.createCommandEncoder = function (desc?: GPUCommandEncoderDescriptor) {
      const enc = original.call(dev, desc);
      const beginPass = enc.beginComputePass;
      const finish = enc.finish;
      let slot = -1;
      (enc as { beginComputePass: GPUCommandEncoder['beginComputePass'] }).beginComputePass = (pd?: GPUComputePassDescriptor) => {
        if (slot >= 0 || used >= passes) {
          overflow = true;
          return beginPass.call(enc, pd);
        }
        slot = used++;
        return beginPass.call(enc, { ...pd, timestampWrites: { querySet, beginningOfPassWriteIndex: 2 * slot, endOfPassWriteIndex: 2 * slot + 1 } });
      };
      (enc as { finish: GPUCommandEncoder['finish'] }).finish = (fd?: GPUCommandBufferDescriptor) => {
        if (slot >= 0) enc.resolveQuerySet(querySet, 2 * slot, 2, resolve, 256 * slot);
        return finish.call(enc, fd);
      };
      return enc;
    };
    await sim.run(steps);
  } catch (e) {
    return { seconds: null, passes: 0, note: `timestamp instrumentation failed (${(e as Error).message.split('\n')[0]}): wall time includes submit and readback overhead` };
  } finally {
    // Own-property assignment shadows the prototype method; deleting it restores the original.
    delete (target as { createCommandEncoder?: unknown }).createCommandEncoder;
    if (dev.createCommandEncoder !== original) target.createCommandEncoder = original;
  }
  try {
    const enc = original.call(dev, { label: 'bench.timestampCopy' });
    enc.copyBufferToBuffer(resolve, 0, readback, 0, 256 * passes);
    dev.queue.submit([enc.finish()]);
    await readback.mapAsync(GPUMapMode.READ);
    const words = new BigUint64Array(readback.getMappedRange().slice(0));
    readback.unmap();
    let ns = 0;
    for (let i = 0; i < used; i++) {
      const begin = words[(256 * i) / 8];
      const end = words[(256 * i) / 8 + 1];
      if (end > begin) ns += Number(end - begin);
    }
    if (used === 0) return { seconds: null, passes: 0, note: 'no compute pass was seen by the instrumentation' };
    const seconds = ns / 1e9;
    const note = `sum of ${used} compute-pass timestamp intervals (one pass per chunk: step kernels + reduction)${overflow ? '; some passes were not timed' : ''}`;
    return { seconds: seconds > 0 ? seconds : null, passes: used, note: seconds > 0 ? note : `${note}; the adapter returned zero intervals` };
  } finally {
    querySet.destroy();
    resolve.destroy();
    readback.destroy();
  }
}

/**
 * Runs one case: create (timed as setup), warm-up run (first submit, JIT), a probe to estimate the
 * seconds per step, then `repeats` timed runs of as many steps as the budget allows.
 */
export async function runCase(c: BenchCase, ctx: GpuContext | null, opts: HarnessOptions): Promise<CaseResult> {
  const now = opts.now ?? (() => performance.now() / 1000);
  const model = opts.model ?? 'poisson';
  const dt = opts.dt ?? (model === 'hybrid' ? defaultHybridDt(c.n, makeBenchParams(model)) : 1e-4);
  const seed = opts.seed ?? 1;
  const minSteps = opts.minSteps ?? 2;
  const base: CaseResult = { ...c, status: 'ok', stepsRequested: opts.steps };
  if (c.backend === 'webgpu' && !ctx) return { ...base, status: 'skipped', reason: 'no WebGPU context' };
  let sim: Runnable | null = null;
  try {
    const t0 = now();
    try {
      if (model === 'hybrid') {
        const spec = { params: Array.from({ length: c.batch }, () => makeBenchParams('hybrid')), n: c.n, dt, key: seedToKey(seed), chunkSteps: c.chunkSteps };
        sim = c.backend === 'cpu' ? new CpuHybridSimulation(spec) : await WebGpuHybridSimulation.create(ctx!, spec);
      } else {
        sim = await createSimulation(makeSpec(c, makeBenchParams(), dt, seed), c.backend, ctx ?? undefined);
      }
    } catch (e) {
      // AdapterLimitError / GpuOutOfMemoryError / a JS RangeError: the size does not fit; say so.
      return { ...base, status: 'skipped', reason: describeError(e) };
    }
    const setupSeconds = now() - t0;
    const warm = await timeRun(sim, 1, now);
    let perStep = warm.seconds;
    // A single step is too short to time well on small cases: probe with ~0.25 s of steps.
    if (warm.seconds < 0.25 && opts.steps > 1) {
      const probeSteps = Math.min(opts.steps, Math.max(2, Math.ceil(0.25 / Math.max(warm.seconds, 1e-6))));
      const probe = await timeRun(sim, probeSteps, now);
      perStep = probe.seconds / probeSteps;
    }
    const repeats = opts.repeats;
    const fit = Math.floor(opts.maxSeconds / (repeats * Math.max(perStep, 1e-9)));
    let steps = opts.steps;
    let stepsReason: string | undefined;
    if (fit < Math.min(minSteps, opts.steps)) {
      return {
        ...base,
        status: 'skipped',
        setupSeconds,
        warmupSeconds: warm.seconds,
        probeSecondsPerStep: perStep,
        reason: `over --max-seconds budget: probe estimates ${perStep.toPrecision(3)} s/step, so ${repeats} x ${minSteps} steps need ${(repeats * minSteps * perStep).toFixed(1)} s > ${opts.maxSeconds} s`,
      };
    }
    if (fit < steps) {
      steps = fit;
      stepsReason = `lowered from ${opts.steps} to fit --max-seconds ${opts.maxSeconds} (probe: ${perStep.toPrecision(3)} s/step)`;
    }
    opts.log?.(`  ${c.backend} ${c.group} n=${c.n} batch=${c.batch}${c.chunkSteps ? ` chunk=${c.chunkSteps}` : ''}: ${repeats} x ${steps} steps (~${(repeats * steps * perStep).toFixed(1)} s)`);
    const runs: TimedRun[] = [];
    for (let r = 0; r < repeats; r++) runs.push(await timeRun(sim, steps, now));
    const wall = makeTimingStats(runs.map((r) => r.seconds));
    const work = neuronsPerInstance(model, c.n) * c.batch * steps;
    const byteModel = makeByteModel(c, ctx, model);
    const bytesPerRun = work * byteModel.perNeuronStep + c.batch * steps * byteModel.perInstanceStep;
    const result: CaseResult = {
      ...base,
      steps,
      stepsReason,
      repeats,
      setupSeconds,
      warmupSeconds: warm.seconds,
      probeSecondsPerStep: perStep,
      wall,
      neuronStepsPerSecond: work / wall.median,
      neuronStepsPerSecondBest: work / wall.min,
      bytesPerRun,
      effectiveBytesPerSecond: bytesPerRun / wall.median,
      byteModel,
      chunking: {
        chunksPerRun: runs[0].chunks,
        maxChunkSteps: Math.max(...runs.map((r) => r.maxChunkSteps)),
        medianChunkSeconds: median(runs.flatMap((r) => r.chunkSeconds)),
      },
    };
    if (!result.stepsReason) delete result.stepsReason;
    if (c.backend === 'webgpu' && ctx && opts.kernelTime !== false) {
      result.kernelTime = await measureKernelTime(ctx, sim, steps, runs[0].chunks);
    }
    return result;
  } catch (e) {
    return { ...base, status: 'failed', reason: describeError(e) };
  } finally {
    sim?.dispose();
  }
}

/** GPU-over-CPU ratios of median rates for every case that ran on both backends. */
export function makeSpeedups(cases: readonly CaseResult[]): Speedup[] {
  const out: Speedup[] = [];
  const key = (c: CaseResult) => `${c.group}|${c.n}|${c.batch}|${c.chunkSteps ?? ''}`;
  const cpu = new Map(cases.filter((c) => c.backend === 'cpu' && c.status === 'ok').map((c) => [key(c), c]));
  for (const g of cases) {
    if (g.backend !== 'webgpu' || g.status !== 'ok') continue;
    const c = cpu.get(key(g));
    if (!c) continue;
    const s: Speedup = { group: g.group, n: g.n, batch: g.batch, gpuOverCpu: g.neuronStepsPerSecond! / c.neuronStepsPerSecond! };
    if (g.chunkSteps !== undefined) s.chunkSteps = g.chunkSteps;
    out.push(s);
  }
  return out;
}

export interface BenchPlan {
  backends: BackendName[];
  /** Batch-1 network sizes. */
  sizes: number[];
  /** Batch sizes of the small-network case. */
  batches: number[];
  batchN: number;
  /** chunkSteps values for the WebGPU per-chunk overhead case (empty: none). */
  chunkSizes: number[];
  chunkN: number;
}

export function makeCases(plan: BenchPlan): BenchCase[] {
  const cases: BenchCase[] = [];
  for (const n of plan.sizes) for (const backend of plan.backends) cases.push({ group: 'scaling', backend, n, batch: 1 });
  for (const batch of plan.batches) for (const backend of plan.backends) cases.push({ group: 'batched', backend, n: plan.batchN, batch });
  // Per-chunk overhead is a WebGPU question: the CPU backend's chunk only sets how often it yields.
  if (plan.backends.includes('webgpu')) {
    for (const chunkSteps of plan.chunkSizes) cases.push({ group: 'chunking', backend: 'webgpu', n: plan.chunkN, batch: 1, chunkSteps });
  }
  return cases;
}

/** Runs every case of the plan and assembles the result JSON. */
export async function runBenchmark(plan: BenchPlan, ctx: GpuContext | null, opts: HarnessOptions, flags: Record<string, unknown>): Promise<BenchResult> {
  const model = opts.model ?? 'poisson';
  const dt = opts.dt ?? 1e-4;
  const seed = opts.seed ?? 1;
  const cases: CaseResult[] = [];
  for (const c of makeCases(plan)) {
    const r = await runCase(c, ctx, opts);
    if (r.status !== 'ok') opts.log?.(`  ${c.backend} ${c.group} n=${c.n} batch=${c.batch}: ${r.status} (${r.reason})`);
    cases.push(r);
  }
  return {
    schema: model === 'hybrid' ? 'ei-engine/bench-hybrid' : 'ei-engine/bench-poisson',
    schemaVersion: resultSchemaVersion,
    environment: makeEnvironmentRecord(ctx),
    flags,
    model: model === 'hybrid'
      ? { id: 'hybrid', params: makeBenchParams('hybrid'), dt: NaN, seed, recorders: 'per-step records (exact totals and moments per population); dt = min(2e-3, 0.1/sqrt(n)) tau per case; N = neurons per population, neuron-steps count both populations' }
      : { id: poissonPopulation.id, params: makeBenchParams(), dt, seed, recorders: 'none (population counts and moments only, always recorded)' },
    cases,
    speedups: makeSpeedups(cases),
  };
}

/** Checks a parsed result JSON; returns a list of problems (empty when it is well formed). */
export function validateBenchResult(x: unknown): string[] {
  const problems: string[] = [];
  const r = x as BenchResult;
  if (!r || (r.schema !== 'ei-engine/bench-poisson' && r.schema !== 'ei-engine/bench-hybrid')) return ['schema is not ei-engine/bench-poisson or ei-engine/bench-hybrid'];
  if (r.schemaVersion !== resultSchemaVersion) problems.push(`schemaVersion ${r.schemaVersion} != ${resultSchemaVersion}`);
  problems.push(...validateEnvironmentRecord(r.environment));
  if (!Array.isArray(r.cases) || r.cases.length === 0) problems.push('no cases');
  for (const [i, c] of (r.cases ?? []).entries()) {
    const at = `cases[${i}] (${c.backend} ${c.group} n=${c.n} batch=${c.batch})`;
    if (!['cpu', 'webgpu'].includes(c.backend) || !posFinite(c.n) || !posFinite(c.batch)) problems.push(`${at}: backend, n or batch invalid`);
    if (c.status === 'ok') {
      for (const k of ['steps', 'repeats', 'neuronStepsPerSecond', 'neuronStepsPerSecondBest', 'effectiveBytesPerSecond', 'bytesPerRun'] as const) {
        if (!posFinite(c[k])) problems.push(`${at}: ${k} = ${c[k]} is not a positive finite number`);
      }
      if (!isValidTimingStats(c.wall, c.repeats)) problems.push(`${at}: wall timings invalid`);
      if (!c.chunking || !posFinite(c.chunking.chunksPerRun) || !posFinite(c.chunking.maxChunkSteps)) problems.push(`${at}: chunking missing`);
    } else {
      problems.push(...validateNotOkCase(at, c));
    }
  }
  problems.push(...validateSpeedups(r.speedups));
  return problems;
}
