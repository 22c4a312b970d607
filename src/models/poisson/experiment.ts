// The poisson model's runs: resolve a request, estimate it, and a Runner that condenses the chunk records of its
// simulation into summary and tables (the same runner on the CPU reference and on WebGPU).
import { ParameterError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import type { Backend, ResolvedRun, RunControl, Runner, RunRequest, RunTarget } from '../../core/contract.ts';
import { checkRequest, resolveSeed } from '../../core/request.ts';
import { createSimulation } from './create-simulation.ts';
import { momentPartialBytes } from './webgpu-simulation.ts';
import { poissonDefaultThreads } from './wasm-simulation.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import type { RecordChunk, RecorderOptions, Simulation } from './simulation.ts';
import { checkMemory, formatCount, machineLimits, resolveSteps, rowHeapBytes, type MemoryItem, type OutputFile, type RunEstimate } from '../../core/limits.ts';
import { checkPoissonParams, poissonParameters } from './params.ts';
import { poissonTheoryAtStep, poissonDefaults, poissonPopulation } from './population.ts';

/** Options of the convenience runExperiment (reproductions, tests, the demo): a request plus a target. */
export interface ExperimentOptions extends Pick<RunRequest, 'n' | 'batch' | 'steps' | 'T' | 'dt' | 'seed' | 'recordEvery'> {
  /** Parameter values shared by every instance (strings as given on the command line). */
  set?: Record<string, string | number>;
  /** Per-instance overrides (a sweep's grid points); batch = its length when given. */
  instances?: readonly Record<string, string | number>[];
  /** RNG instance ids per instance (a sweep's global row numbers). */
  instanceIds?: readonly number[];
  backend: Backend;
  ctx?: GpuContext;
  /** wasm: worker threads (default: the simulation's, see WasmPopulationSimulation.create). */
  threads?: number;
  /** Neuron lists to record (instead of the request's first-M recorders). */
  recorders?: RecorderOptions;
  onProgress?: (done: number, total: number) => void;
  /** wasm: told the worker threads the run uses (per simulation) once they are started. */
  onThreads?: (threads: number) => void;
}

export interface InstanceSummary {
  index: number;
  params: ParamValues;
  /** Time averages over steps after burnin. */
  sim: { meanU: number; varU: number; rateHz: number; intensityHz: number; spikes: number; steps: number };
  /** Theory averaged over the same steps as `sim` (the exact transient for mean and variance). */
  theory: { meanU: number; varU: number; rateHz: number };
  /** Theory as t -> infinity. */
  stationary: { meanU: number; varU: number; rateHz: number };
  /** (spikes - expected) / sqrt(expected), expected = sum of the intensities actually used: exact Poisson check, ~N(0,1). */
  spikeCountZ: number;
}

export interface ExperimentResult {
  resolved: { n: number; batch: number; steps: number; dt: number; seed: number; key: readonly [number, number]; params: ParamValues[]; recordEvery: number };
  instances: InstanceSummary[];
  timeseries: { columns: string[]; rows: number[][] };
  spikes: { columns: string[]; rows: number[][] };
  traces: { columns: string[]; rows: number[][] };
  finalState: Float32Array;
  wallSeconds: number;
}

/** A resolved poisson run. */
export interface PoissonResolved extends ResolvedRun {
  n: number;
  dt: number;
  options: { recordEvery: number; recorders: RecorderOptions; instanceIds?: readonly number[] };
  /** The shared parameters (a run's instances all have them; a sweep adds its grid values per instance). */
  base: ParamValues;
  stepsFlag: string;
}

/** Default --record-every: at most 20000 rows per instance and about 2e6 in all, so the table stays writable. */
export function defaultRecordEvery(steps: number, batch: number): number {
  const rowsPerInstance = Math.min(20_000, Math.max(1, Math.floor(2e6 / batch)));
  return Math.max(1, Math.ceil(steps / rowsPerInstance));
}

/** The shape of a run (no per-instance parameters): cheap for any batch, enough for its estimate. */
export function resolveExperimentShape(o: { set?: Record<string, string | number>; n?: number; batch?: number; steps?: number; T?: number; dt?: number; seed?: number; recordEvery?: number; instances?: readonly unknown[] }) {
  const d = poissonDefaults;
  const n = o.n ?? d.n;
  if (!Number.isInteger(n) || n <= 0) throw new ParameterError('--n', `${n} is not a positive integer`, 'use --n with a positive integer');
  const plan = resolveSteps({ model: 'poisson', steps: o.steps, T: o.T, dt: o.dt, dtDefault: d.dt, defaultT: d.T });
  const { seed, key } = resolveSeed(o.seed);
  if (o.instances && o.batch !== undefined && o.batch !== o.instances.length) {
    throw new ParameterError('--batch', `--batch ${o.batch} disagrees with ${o.instances.length} sweep instances`, 'omit --batch for sweeps');
  }
  const batch = o.instances ? o.instances.length : (o.batch ?? 1);
  if (!Number.isInteger(batch) || batch < 1) throw new ParameterError('--batch', `${batch} is not a positive integer`, 'use --batch >= 1');
  const { steps, dt } = plan;
  const recordEvery = o.recordEvery ?? defaultRecordEvery(steps, batch);
  // The shared values (a sweep's grid values come on top); single fields are checked here, cross-field ones per instance.
  const base = resolveParams('poisson', poissonParameters, o.set ?? {});
  return { n, dt, steps, seed, key, batch, recordEvery, base, dtAdjusted: plan.dtAdjusted, stepsFlag: o.T !== undefined ? '--T' : '--steps' };
}

export type ExperimentShape = ReturnType<typeof resolveExperimentShape>;

/** Spike and trace recorder sizes of a run (neurons per instance, trace interval). */
function recorderSizes(r: RecorderOptions | undefined) {
  return { spikes: r?.spikes?.neurons.length ?? 0, traces: r?.traces?.neurons.length ?? 0, traceEvery: r?.traces?.every ?? 1 };
}

/**
 * What a population-model run needs: host, heap and device memory, output files and time (rough constants from
 * bench/results on a 2-core machine: ~1e6 neuron-steps/s on the CPU reference, ~5e5 on SwiftShader, where every
 * workgroup of 2048 neuron slots costs ~0.5 ms per step; a hardware GPU is assumed at ~1e9).
 */
export function estimatePopulationRun(s: ExperimentShape, o: { recorders?: RecorderOptions; backend: 'cpu' | 'webgpu' | 'wasm'; isSoftware?: boolean; maxBinding?: number; threads?: number }): RunEstimate {
  const { n, batch: B, steps, dt, recordEvery } = s;
  const rec = recorderSizes(o.recorders);
  const words = Math.ceil(rec.spikes / 32);
  const NB = ['--n', '--batch'];
  const stepsOpt = s.stepsFlag;
  const memory: MemoryItem[] = [
    { what: 'potentials (f32 per neuron, and the final copy)', bytes: 8 * n * B, place: 'host', options: NB, elements: n * B },
    { what: 'per-instance parameters, steppers and summaries', bytes: 3500 * B, place: 'heap', options: ['--batch'] },
  ];
  if (rec.spikes) memory.push({ what: 'spike recorder slots', bytes: 4 * n, place: 'host', options: ['--n'], elements: n });
  const sw = o.isSoftware ?? true;
  const wpi = Math.ceil(n / (64 * (sw ? 32 : 4)));
  if (o.backend === 'cpu' || o.backend === 'wasm') {
    const m = Math.max(1, Math.min(1000, Math.floor(2e6 / (n * B)), Math.floor((64 << 20) / (B * (48 + 4 * words)))));
    memory.push({ what: 'records of one chunk of steps', bytes: m * B * (36 + 4 * words) + (Math.ceil(m / rec.traceEvery) + 1) * B * rec.traces * 4, place: 'host', options: NB, elements: m * B * 4 });
    if (rec.traces) memory.push({ what: 'trace samples of one chunk', bytes: (Math.ceil(m / rec.traceEvery) + 1) * B * rec.traces * 9, place: 'heap', options: ['--batch', '--record-traces'] });
  } else {
    const slot = 256;
    const bytesPerStep = B * (4 + wpi * momentPartialBytes + 16 + 4 * words) + slot;
    const budget = Math.min(64 << 20, o.maxBinding ?? 64 << 20);
    const m = Math.max(1, Math.min(1000, Math.floor(budget / bytesPerStep)));
    const traceRows = rec.traces ? Math.ceil(m / rec.traceEvery) + 1 : 0;
    const staging = m * B * (4 + 16 + 4 * words) + traceRows * B * rec.traces * 4;
    memory.push(
      { what: 'readback of one chunk (copy and f64 moments)', bytes: staging + m * B * 32, place: 'host', options: NB },
      { what: 'initial potentials upload', bytes: 4 * n * B, place: 'host', options: NB, elements: n * B },
      { what: 'GPU potentials', bytes: 4 * n * B, place: 'device', options: NB, binding: true },
      { what: 'GPU workgroup moment partials', bytes: m * B * wpi * momentPartialBytes, place: 'device', options: NB, binding: true },
      { what: 'GPU per-step records', bytes: m * B * (4 + 16 + 4 * words), place: 'device', options: ['--batch'], binding: true },
      { what: 'GPU readback staging', bytes: staging, place: 'device', options: ['--batch'] },
      { what: 'GPU instance constants', bytes: B * 36, place: 'device', options: ['--batch'], binding: true },
    );
    if (rec.traces) memory.push({ what: 'GPU trace samples', bytes: traceRows * B * rec.traces * 4, place: 'device', options: ['--batch', '--record-traces'], binding: true });
  }
  // Rows of the tables: a JS array per row until the CSV is written.
  const rowsPerInstance = Math.floor((steps - 1) / recordEvery) + 1 + ((steps - 1) % recordEvery !== 0 ? 1 : 0);
  const tsRows = B * rowsPerInstance;
  // Expected spikes of the recorded neurons, from the theory's rate at the start and at stationarity (with a margin).
  const th0 = poissonTheoryAtStep(s.base, dt, 0).rateHz;
  const thInf = poissonTheoryAtStep(s.base, dt, Number.MAX_SAFE_INTEGER).rateHz;
  const rate = Math.max(th0, thInf, 0);
  const spikeRows = rec.spikes ? Math.ceil(1.2 * rec.spikes * B * steps * Math.min(1, rate * dt)) : 0;
  const traceRows = rec.traces ? rec.traces * B * Math.floor(steps / rec.traceEvery) : 0;
  memory.push({ what: 'time series rows', bytes: tsRows * rowHeapBytes(11), place: 'heap', options: ['--batch', stepsOpt, '--record-every'] });
  if (spikeRows) memory.push({ what: 'spike rows (expected)', bytes: spikeRows * rowHeapBytes(4), place: 'heap', options: ['--record-spikes', '--batch', stepsOpt] });
  if (traceRows) memory.push({ what: 'trace rows', bytes: traceRows * rowHeapBytes(5), place: 'heap', options: ['--record-traces', '--trace-every', '--batch', stepsOpt] });
  const outputs: OutputFile[] = [
    { file: 'timeseries.csv', rows: tsRows, bytes: tsRows * 100, options: ['--batch', stepsOpt, '--record-every'] },
    { file: 'summary.json', rows: B, bytes: B * 800, options: ['--batch'] },
  ];
  if (spikeRows) outputs.push({ file: 'spikes.csv', rows: spikeRows, bytes: spikeRows * 32, options: ['--record-spikes', '--batch', stepsOpt] });
  if (traceRows) outputs.push({ file: 'traces.csv', rows: traceRows, bytes: traceRows * 45, options: ['--record-traces', '--trace-every', '--batch', stepsOpt] });
  const units = n * B * steps;
  const hostPerInstanceStep = 2e-6;
  return {
    model: 'poisson',
    size: `--n ${formatCount(n)} x --batch ${formatCount(B)} x ${formatCount(steps)} steps`,
    memory,
    outputs,
    work: {
      units,
      unit: 'neuron-steps',
      seconds: {
        cpu: steps * B * (hostPerInstanceStep + n * 1e-6),
        // One thread of the wasm kernel: ~40 ns per neuron-step (35-38 at n = 1e3 to 1e4 on one thread, 44 per thread at
        // 1e5 on two, bench:models on a 2-core machine), ~0.9 of that per thread on the threads the run would start.
        wasm: steps * B * (hostPerInstanceStep + (n * 4e-8) / Math.max(1, 0.9 * (o.threads ?? poissonDefaultThreads(n)))),
        'webgpu-software': steps * (1e-4 + B * Math.ceil(n / 2048) * 5e-4 + B * (hostPerInstanceStep + n * 1.8e-6)),
        'webgpu-hardware': steps * (2e-5 + B * Math.ceil(n / 256) * 1e-7 + B * (hostPerInstanceStep + n * 1e-9)),
      },
      options: ['--n', '--batch', stepsOpt],
    },
  };
}

/** What poisson takes of a request, and what to use instead of the rest. */
export const poissonOptions = {
  takes: ['n', 'steps', 'T', 'dt', 'batch', 'recordSpikes', 'recordTraces', 'traceEvery', 'recordEvery'],
  instead: {},
} as const;

/**
 * Validates a request once: options, parameters of every instance (a sweep's `instances` come on top of the shared
 * `params`), recorders and the burn-in against the run's length.
 */
export function resolvePoisson(request: RunRequest, sweep?: { instances: readonly Record<string, string | number>[]; instanceIds?: readonly number[] }): PoissonResolved {
  checkRequest('poisson', poissonOptions, request);
  const shape = resolveExperimentShape({ ...request, set: { ...request.params }, instances: sweep?.instances });
  const { n, dt, steps, batch } = shape;
  const spikesM = request.recordSpikes ?? 100;
  const tracesM = request.recordTraces ?? 10;
  if (request.traceEvery !== undefined && tracesM === 0) {
    throw new ParameterError('--trace-every', 'has no effect with --record-traces 0 (no traces are recorded)', 'drop --trace-every, or record traces with --record-traces M');
  }
  const recorders: RecorderOptions = {
    spikes: spikesM > 0 ? { neurons: Array.from({ length: Math.min(spikesM, n) }, (_, i) => i) } : undefined,
    traces: tracesM > 0 ? { neurons: Array.from({ length: Math.min(tracesM, n) }, (_, i) => i), every: request.traceEvery ?? 10 } : undefined,
  };
  if (!sweep) {
    checkPoissonParams(shape.base, dt, n);
    // Before the per-instance parameters exist: a batch whose tables cannot fit V8's heap is refused here (the
    // machine's memory and the device are checked against estimate() by the caller).
    const m = machineLimits();
    checkMemory(estimatePopulationRun(shape, { recorders, backend: 'cpu' }), 'cpu', { ...m, totalMemory: Infinity, freeMemory: Infinity, device: null });
  }
  const rows = sweep?.instances ?? Array.from({ length: batch }, () => ({}));
  const params = rows.map((row) => {
    const p = sweep ? resolveParams('poisson', poissonParameters, { ...request.params, ...row }) : shape.base;
    if (sweep) checkPoissonParams(p, dt, n);
    return p;
  });
  params.forEach((p, i) => {
    const burnin = (p.burnin as number | undefined) ?? 0;
    if (burnin > 0 && Math.round(burnin / dt) >= steps) {
      throw new ParameterError('poisson.burnin', `burnin ${burnin} s${params.length > 1 ? ` (instance ${i})` : ''} is not shorter than the run (${steps} steps x ${dt} s = ${steps * dt} s), so no step would enter the time averages`, `lengthen the run (--T) or lower --set burnin=`);
    }
  });
  return {
    model: 'poisson',
    n,
    batch: params.length,
    steps,
    dt,
    seed: shape.seed,
    key: shape.key,
    params,
    dtAdjusted: shape.dtAdjusted,
    neuronsPerStep: n * params.length,
    options: { recordEvery: shape.recordEvery, recorders, ...(sweep?.instanceIds ? { instanceIds: sweep.instanceIds } : {}) },
    base: shape.base,
    stepsFlag: shape.stepsFlag,
  };
}

/** Memory, outputs and time of a resolved run on a target. */
export function estimatePoisson(r: PoissonResolved, target: RunTarget): RunEstimate {
  const shape: ExperimentShape = { n: r.n, dt: r.dt, steps: r.steps, seed: r.seed, key: [r.key[0], r.key[1]], batch: r.batch, recordEvery: r.options.recordEvery, base: r.base, dtAdjusted: r.dtAdjusted, stepsFlag: r.stepsFlag };
  const ctx = target.ctx;
  return estimatePopulationRun(shape, { recorders: r.options.recorders, backend: target.backend, isSoftware: ctx?.info.isSoftware, maxBinding: ctx ? Number(ctx.device.limits.maxStorageBufferBindingSize) : undefined, threads: target.threads });
}

/** Accumulates a poisson simulation's chunk records into time averages, theory and tables, over any number of run() calls. */
export class PoissonRunner implements Runner<ExperimentResult, RecordChunk> {
  readonly stepsTotal: number;
  private readonly acc: { sumU: number; sumV: number; sumExtra: number; spikes: number; steps: number; thU: number; thV: number; thRate: number; thSamples: number }[];
  private readonly burnSteps: number[];
  private readonly theoryStride: number;
  private readonly ts: number[][] = [];
  private readonly spikeRows: number[][] = [];
  private readonly traceRows: number[][] = [];
  private wallMs = 0;
  private disposed = false;

  private constructor(private readonly r: PoissonResolved, private readonly sim: Simulation) {
    this.stepsTotal = r.steps;
    this.acc = r.params.map(() => ({ sumU: 0, sumV: 0, sumExtra: 0, spikes: 0, steps: 0, thU: 0, thV: 0, thRate: 0, thSamples: 0 }));
    this.burnSteps = r.params.map((p) => Math.round(((p.burnin as number | undefined) ?? 0) / r.dt));
    // Theory is averaged over the same window as the simulation, sampled at <= ~4000 steps (it is smooth in time).
    this.theoryStride = Math.max(1, Math.ceil(r.steps / 4000));
  }

  static async create(r: PoissonResolved, target: RunTarget): Promise<PoissonRunner> {
    const sim = await createSimulation(
      { model: poissonPopulation, params: r.params, n: r.n, dt: r.dt, key: r.key, instanceIds: r.options.instanceIds, recorders: r.options.recorders, threads: target.threads },
      target.backend,
      target.ctx ?? undefined,
    );
    return new PoissonRunner(r, sim);
  }

  get backend(): Backend {
    return this.sim.backend;
  }

  get stepsDone(): number {
    return this.sim.step;
  }

  get threads(): number | undefined {
    return this.sim.backend === 'wasm' ? this.sim.threads : undefined;
  }

  async run(steps: number, control: RunControl<RecordChunk> = {}): Promise<void> {
    if (this.disposed) throw new ParameterError('runner', 'is disposed', 'create a new simulation');
    if (!(Number.isInteger(steps) && steps >= 0 && this.sim.step + steps <= this.stepsTotal)) {
      throw new ParameterError('steps', `${steps} more steps after ${this.sim.step} passes the run's ${this.stepsTotal}`, `run at most ${this.stepsTotal - this.sim.step} more steps`);
    }
    const t0 = performance.now();
    try {
      await this.sim.run(steps, {
        onChunk: (c) => {
          control.signal?.throwIfAborted();
          this.record(c);
          control.onChunk?.(c);
        },
        onProgress: control.onProgress,
      });
    } finally {
      this.wallMs += performance.now() - t0;
    }
  }

  private record(c: RecordChunk): void {
    const { n, dt, params, batch, steps } = this.r;
    const recordEvery = this.r.options.recordEvery;
    const spikeNeurons = this.r.options.recorders.spikes?.neurons ?? [];
    const traceNeurons = this.r.options.recorders.traces?.neurons ?? [];
    for (let s = 0; s < c.steps; s++) {
      const step = c.stepStart + s;
      for (let b = 0; b < batch; b++) {
        const row = (s * batch + b) * 4;
        const count = c.counts[s * batch + b];
        const [meanU, varU, extra] = [c.population[row], c.population[row + 1], c.population[row + 2]];
        if (step >= this.burnSteps[b]) {
          const a = this.acc[b];
          a.sumU += meanU;
          a.sumV += varU;
          a.sumExtra += extra;
          a.spikes += count;
          a.steps++;
          if ((step - this.burnSteps[b]) % this.theoryStride === 0) {
            const th = poissonTheoryAtStep(params[b], dt, step);
            a.thU += th.meanU;
            a.thV += th.varU;
            a.thRate += th.rateHz;
            a.thSamples++;
          }
        }
        if (step % recordEvery === 0 || step === steps - 1) {
          const th = poissonTheoryAtStep(params[b], dt, step);
          this.ts.push([step, (step + 1) * dt, b, count, count / (n * dt), meanU, varU, extra / dt, th.meanU, th.varU, th.rateHz]);
        }
        if (c.spikeBits) {
          for (let w = 0; w < c.spikeWords; w++) {
            let bits = c.spikeBits[(s * batch + b) * c.spikeWords + w];
            while (bits) {
              const j = 31 - Math.clz32(bits & -bits);
              bits &= bits - 1;
              this.spikeRows.push([step, (step + 0.5) * dt, b, spikeNeurons[w * 32 + j]]);
            }
          }
        }
      }
    }
    if (c.traces) {
      c.traceSteps.forEach((step, i) => {
        for (let b = 0; b < batch; b++) {
          traceNeurons.forEach((k, j) => this.traceRows.push([step, (step + 1) * dt, b, k, c.traces![(i * batch + b) * traceNeurons.length + j]]));
        }
      });
    }
  }

  async result(): Promise<ExperimentResult> {
    const { n, dt, params, batch, steps } = this.r;
    const finalState = await this.sim.readState();
    const instances: InstanceSummary[] = params.map((p, b) => {
      const a = this.acc[b];
      const k = Math.max(1, a.steps);
      const st = poissonTheoryAtStep(p, dt, Number.MAX_SAFE_INTEGER);
      const ts = Math.max(1, a.thSamples);
      const expected = a.sumExtra * n;
      return {
        index: b,
        params: p,
        sim: { meanU: a.sumU / k, varU: a.sumV / k, rateHz: a.spikes / (k * n * dt), intensityHz: a.sumExtra / (k * dt), spikes: a.spikes, steps: a.steps },
        theory: { meanU: a.thU / ts, varU: a.thV / ts, rateHz: a.thRate / ts },
        stationary: { meanU: st.meanU, varU: st.varU, rateHz: st.rateHz },
        spikeCountZ: expected > 0 ? (a.spikes - expected) / Math.sqrt(expected) : 0,
      };
    });
    return {
      resolved: { n, batch, steps, dt, seed: this.r.seed, key: this.r.key, params, recordEvery: this.r.options.recordEvery },
      instances,
      timeseries: { columns: ['step', 't', 'instance', 'spikes', 'rateHz', 'meanU', 'varU', 'intensityHz', 'meanUTheory', 'varUTheory', 'rateHzTheory'], rows: this.ts },
      spikes: { columns: ['step', 't', 'instance', 'neuron'], rows: this.spikeRows },
      traces: { columns: ['step', 't', 'instance', 'neuron', 'u'], rows: this.traceRows },
      finalState,
      wallSeconds: this.wallMs / 1000,
    };
  }

  readState(): Promise<Float32Array> {
    return this.sim.readState();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sim.dispose();
  }
}

/** Resolves, runs every step and returns the result (reproductions, tests, the demo); the caller owns `ctx`. */
export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  const request: RunRequest = { params: o.set, n: o.n, batch: o.instances ? undefined : o.batch, steps: o.steps, T: o.T, dt: o.dt, seed: o.seed, recordEvery: o.recordEvery, recordSpikes: o.recorders?.spikes ? undefined : 0, recordTraces: o.recorders?.traces ? undefined : 0 };
  const r = resolvePoisson(request, o.instances ? { instances: o.instances, instanceIds: o.instanceIds } : undefined);
  // Recorders given as neuron lists (tests, the demo) replace the default first-M ones.
  r.options.recorders = o.recorders ?? {};
  if (!o.instances && o.instanceIds) r.options.instanceIds = o.instanceIds;
  const runner = await PoissonRunner.create(r, { backend: o.backend, ctx: o.ctx, threads: o.threads });
  try {
    if (runner.threads !== undefined) o.onThreads?.(runner.threads);
    await runner.run(r.steps, { onProgress: o.onProgress });
    return await runner.result();
  } finally {
    runner.dispose();
  }
}
