// The hybrid model's runs: what it takes of a request, resolving one (every option checked once), and its estimate.
import { cpuOrWebgpu } from '../../core/contract.ts';
import { hybridDefaultThreads } from './wasm-simulation.ts';
import { hybridGpuBytes } from './webgpu-simulation.ts';
import { ParameterError } from '../../errors.ts';
import type { ResolvedRun, RunOptionSupport, RunRequest, RunTarget } from '../../core/contract.ts';
import { checkRequest, resolveSeed } from '../../core/request.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import { checkMemory, formatCount, resolveSteps, rowHeapBytes, type MemoryItem, type RunEstimate } from '../../core/limits.ts';
import { checkHybridParams, defaultHybridDt, hybridParameters } from './params.ts';
import type { LimitTrajectory } from './limit.ts';

/** The run options hybrid takes, and what to use instead of the others. */
export const hybridOptions: RunOptionSupport = {
  takes: ['n', 'steps', 'T', 'dt', 'batch', 'recordEvery'],
  instead: {
    recordSpikes: 'hybrid records population moments in timeseries.csv (thinned with --record-every); per-neuron recorders are poisson-only',
    recordTraces: 'hybrid records population moments in timeseries.csv (thinned with --record-every); per-neuron recorders are poisson-only',
    traceEvery: 'hybrid has no trace recorder; thin timeseries.csv with --record-every',
  },
};

/** Default neurons per population. */
const hybridDefaultN = 1000;

/**
 * Model-internal options of a run, beyond a RunRequest: what reproductions and sweeps ask of the runner.
 * None of them is a user option of `ei run`.
 */
export interface HybridExtras {
  /** Per-instance parameter overrides on top of the request's params (a sweep's points); batch = their number. */
  instances?: readonly Record<string, string | number>[];
  /** RNG instance coordinate of each instance (a sweep's indices); default 0..batch-1. */
  instanceIds?: readonly number[];
  /** Times at which to histogram u per population (on the GPU for webgpu); the run pauses there. */
  snapshotTimes?: readonly number[];
  /** Bins of those histograms (default 60) over the limit's m +- 5 sd at that time. */
  histogramBins?: number;
  /** Also keep the full state at snapshot times (host memory: 8n bytes per instance). */
  keepSnapshotStates?: boolean;
  /**
   * true (default, `ei run`): the first instance whose particles diverge stops the whole batch. false (sweeps): the
   * diverged instance stops being averaged and the others run on, so an instance's result does not depend on its batch.
   */
  stopOnBlowup?: boolean;
  /** Steps per chunk of the simulation (default: its own choice); tests use it to cross chunk boundaries cheaply. */
  chunkSteps?: number;
  /** The limit of each instance, already solved at this run's sample times (a sweep solves each point once). */
  limits?: readonly LimitTrajectory[];
}

/** A resolved hybrid run. */
export interface HybridRun extends ResolvedRun {
  n: number;
  dt: number;
  /** Recorded in config.json. */
  options: { recordEvery: number };
  /** Smallest tau of the instances (the limit's RK4 cost). */
  tauMin: number;
  /** The option that set the run's length ('--T' or '--steps'), named by the estimate. */
  stepsFlag: string;
  snapshotTimes: readonly number[];
  histogramBins: number;
  keepSnapshotStates: boolean;
  instanceIds: readonly number[] | null;
  stopOnBlowup: boolean;
  limits: readonly LimitTrajectory[] | null;
  chunkSteps: number | null;
}

/** Default --record-every: at most 5000 samples per instance and about 1e6 rows in all, so the table stays writable. */
function defaultHybridRecordEvery(steps: number, batch: number): number {
  const rowsPerInstance = Math.min(5000, Math.max(1, Math.floor(1e6 / batch)));
  return Math.max(1, Math.ceil(steps / rowsPerInstance));
}

function perInstanceHeap(batch: number): MemoryItem {
  return { what: 'per-instance parameters, accumulators and results', bytes: 4000 * batch, place: 'heap', options: ['--batch'] };
}

interface HybridShape {
  n: number;
  batch: number;
  steps: number;
  dt: number;
  recordEvery: number;
  tauMin: number;
  stepsFlag: string;
  snapshots?: number;
  keepSnapshotStates?: boolean;
  /** The largest numax n dt of the instances (input events per step at full intensity); unknown: the PTRS cost. */
  eventsPerStep?: number;
}

/**
 * What a hybrid run needs (memory, output, time). Rough constants from bench/results on a 2-core machine: ~7e5
 * neuron-steps/s on the CPU reference (2n neurons per instance), ~3.5e5 on SwiftShader plus ~0.5 ms per workgroup
 * and step; a hardware GPU is assumed at ~1e9. The large-n limit adds at most 2e5 RK4 steps (~1.2 us) per instance.
 */
export function estimateHybridShape(s: HybridShape, o: { backend: 'cpu' | 'webgpu' | 'wasm'; isSoftware?: boolean; threads?: number }): RunEstimate {
  const { n, batch: B, steps, recordEvery } = s;
  const NB = ['--n', '--batch'];
  const snaps = s.snapshots ?? 0;
  const samples = Math.floor(steps / recordEvery) + 1 + (steps % recordEvery !== 0 ? 1 : 0) + snaps;
  const recordStride = hybridGpuBytes.record;
  const memory: MemoryItem[] = [
    { what: 'final potentials', bytes: 8 * n * B, place: 'host', options: NB, elements: 2 * n * B },
    perInstanceHeap(B),
    { what: 'limit trajectories at the recorded times', bytes: B * samples * 8 * 9, place: 'heap', options: ['--batch', s.stepsFlag, '--record-every'] },
    { what: 'recorded step index', bytes: samples * 80, place: 'heap', options: [s.stepsFlag, '--record-every'] },
    { what: 'time series rows', bytes: B * samples * rowHeapBytes(16), place: 'heap', options: ['--batch', s.stepsFlag, '--record-every'] },
  ];
  if (snaps && s.keepSnapshotStates) memory.push({ what: 'snapshot states', bytes: snaps * 8 * n * B, place: 'host', options: NB });
  if (o.backend === 'cpu' || o.backend === 'wasm') {
    const m = Math.max(1, Math.min(1000, Math.floor(2e6 / (2 * n * B))));
    memory.push(
      { what: o.backend === 'wasm' ? 'potentials and intensities (wasm memory)' : 'potentials and intensities', bytes: 16 * n * B, place: 'host', options: NB, elements: 2 * n },
      { what: 'step records of one chunk', bytes: m * B * 120, place: 'heap', options: ['--batch'] },
    );
  } else {
    const wpp = Math.ceil(n / (64 * ((o.isSoftware ?? true) ? 32 : 4)));
    const m = Math.max(1, Math.min(1000, Math.floor((64 << 20) / (B * recordStride + 256))));
    memory.push(
      { what: 'step records of one chunk', bytes: m * B * (120 + recordStride), place: 'heap', options: ['--batch'] },
      { what: 'GPU potentials', bytes: 8 * n * B, place: 'device', options: NB, binding: true },
      { what: 'GPU workgroup partials', bytes: 2 * wpp * B * hybridGpuBytes.partial, place: 'device', options: NB, binding: true },
      { what: 'GPU step records', bytes: (m + 1) * B * recordStride, place: 'device', options: ['--batch'], binding: true },
      { what: 'GPU readback staging', bytes: (m + 1) * B * recordStride, place: 'device', options: ['--batch'] },
    );
  }
  const rows = B * samples;
  const limitSteps = B * Math.min(s.steps * s.dt / (1e-3 * s.tauMin), 2e5);
  const host = steps * B * 3e-6 + limitSteps * 1.2e-6;
  return {
    model: 'hybrid',
    size: `--n ${formatCount(n)} (x 2 populations) x --batch ${formatCount(B)} x ${formatCount(steps)} steps`,
    memory,
    outputs: [
      { file: 'timeseries.csv', rows, bytes: rows * 300, options: ['--batch', s.stepsFlag, '--record-every'] },
      { file: 'summary.json', rows: B, bytes: B * 2500, options: ['--batch'] },
    ],
    work: {
      units: 2 * n * B * steps,
      unit: 'neuron-steps',
      seconds: {
        cpu: host + steps * B * 2 * n * 1.4e-6,
        // One thread of the SIMD wasm kernel (two Poisson draws and a sigmoid per neuron): ~50 ns per neuron-step where
        // the input means stay below 10 (inversion), ~68 ns where both take PTRS (numax n dt >~ 60), from bench:peers
        // on a 2-core machine; 1.9x on its 2 threads, so ~0.9 per thread, on the threads the simulation would start.
        wasm: host + (steps * B * 2 * n * hybridWasmSecondsPerNeuronStep(s.eventsPerStep)) / Math.max(1, 0.9 * (o.threads ?? hybridDefaultThreads(n, B))),
        'webgpu-software': host + steps * (1e-4 + B * (2 * Math.ceil(n / 2048) + 1) * 5e-4 + B * 2 * n * 2.8e-6),
        'webgpu-hardware': host + steps * (2e-5 + B * (2 * Math.ceil(n / 256) + 1) * 1e-7 + B * 2 * n * 1e-9),
      },
      options: ['--n', '--batch', s.stepsFlag],
    },
  };
}

/** One wasm thread's seconds per neuron-step: from inversion (input means < 10) to PTRS (both means > 10). */
function hybridWasmSecondsPerNeuronStep(eventsPerStep = Infinity): number {
  return 5e-8 * (1 + 0.35 * Math.min(1, Math.max(0, (eventsPerStep - 10) / 50)));
}

/** Memory, outputs and time of a resolved run on a target. */
export function estimateHybrid(r: HybridRun, target: RunTarget): RunEstimate {
  return estimateHybridShape(
    { n: r.n, batch: r.batch, steps: r.steps, dt: r.dt, recordEvery: r.options.recordEvery, tauMin: r.tauMin, stepsFlag: r.stepsFlag, snapshots: r.snapshotTimes.length, keepSnapshotStates: r.keepSnapshotStates, eventsPerStep: r.params.reduce((m, p) => Math.max(m, (p.numax as number) * r.n * r.dt), 0) },
    { backend: target.backend === 'wasm' ? 'wasm' : cpuOrWebgpu(target.backend), isSoftware: target.ctx?.info.isSoftware, threads: target.threads },
  );
}

/**
 * Validates a request once: options, the parameters of every instance (a sweep's `instances` come on top of the
 * request's params), the step plan, the record interval and the burn-in against the run's length. Defaults: n = 1000
 * per population, dt = min(2e-3, 0.1 / sqrt(n)) tau, T = 5 tau.
 */
export function resolveHybridRun(request: RunRequest, extras: HybridExtras = {}): HybridRun {
  checkRequest('hybrid', hybridOptions, request);
  const n = request.n ?? hybridDefaultN;
  const base = request.params ?? {};
  const rows = extras.instances;
  if (rows && request.batch !== undefined && request.batch !== rows.length) {
    throw new ParameterError('--batch', `--batch ${request.batch} disagrees with ${rows.length} sweep instances`, 'omit --batch for sweeps');
  }
  if (rows && rows.length < 1) throw new ParameterError('batch', 'no instances', 'give at least one instance');
  const batch = rows ? rows.length : (request.batch ?? 1);
  if (extras.instanceIds && extras.instanceIds.length !== batch) throw new ParameterError('instanceIds', `${extras.instanceIds.length} ids for ${batch} instances`, 'give one id per instance');
  // The instances of a run share one parameter set: resolve it once (a sweep resolves each of its points).
  const shared = rows ? rows.map((row) => resolveParams('hybrid', hybridParameters, { ...base, ...row })) : [resolveParams('hybrid', hybridParameters, base)];
  const dtDefault = Math.min(...shared.map((p) => defaultHybridDt(n, p)));
  const tauMax = Math.max(...shared.map((p) => p.tau as number));
  const tauMin = Math.min(...shared.map((p) => p.tau as number));
  const plan = resolveSteps({ model: 'hybrid', steps: request.steps, T: request.T, dt: request.dt, dtDefault, defaultT: 5 * tauMax, unit: '' });
  const { dt, steps } = plan;
  const recordEvery = request.recordEvery ?? defaultHybridRecordEvery(steps, batch);
  const stepsFlag = request.T !== undefined ? '--T' : '--steps';
  const snapshotTimes = extras.snapshotTimes ?? [];
  const keepSnapshotStates = extras.keepSnapshotStates ?? false;
  if (!rows) {
    // Before one parameter set per instance exists: the per-instance heap every backend needs must fit (the full
    // estimate, with the backend's own buffers, is estimateHybrid's, which the caller checks).
    const e = estimateHybridShape({ n, batch, steps, dt, recordEvery, tauMin, stepsFlag }, { backend: 'cpu' });
    checkMemory({ ...e, memory: [perInstanceHeap(batch)], outputs: [] }, 'auto');
  }
  shared.forEach((p) => checkHybridParams(p, dt, n));
  shared.forEach((p, i) => {
    const burnin = p.burnin as number;
    if (burnin > 0 && Math.round(burnin / dt) >= steps) {
      throw new ParameterError('hybrid.burnin', `burnin ${burnin}${shared.length > 1 ? ` (instance ${i})` : ''} is not shorter than the run (${(steps * dt).toPrecision(4)})`, 'lengthen the run (--T) or lower --set burnin=');
    }
  });
  const params: ParamValues[] = rows ? shared : new Array<ParamValues>(batch).fill(shared[0]);
  if (extras.limits && extras.limits.length !== batch) throw new ParameterError('limits', `${extras.limits.length} limits for ${batch} instances`, 'give one limit per instance');
  const { seed, key } = resolveSeed(request.seed);
  return {
    model: 'hybrid',
    n,
    batch,
    steps,
    dt,
    seed,
    key,
    params,
    dtAdjusted: plan.dtAdjusted,
    neuronsPerStep: 2 * n * batch,
    options: { recordEvery },
    tauMin,
    stepsFlag,
    snapshotTimes,
    histogramBins: extras.histogramBins ?? 60,
    keepSnapshotStates,
    instanceIds: extras.instanceIds ?? null,
    stopOnBlowup: extras.stopOnBlowup ?? true,
    limits: extras.limits ?? null,
    chunkSteps: extras.chunkSteps ?? null,
  };
}
