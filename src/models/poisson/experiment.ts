// Runs a population model experiment on a chosen backend and condenses the records into summary and tables.
import { ParameterError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { getModel, type RegisteredModel } from '../registry.ts';
import { seedToKey } from '../../rng/index.ts';
import { createSimulation } from './create-simulation.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import type { RecordChunk, RecorderOptions } from './simulation.ts';
import { checkMemory, formatCount, machineLimits, resolveSteps, rowHeapBytes, type MemoryItem, type OutputFile, type RunEstimate } from '../../core/limits.ts';

export interface ExperimentOptions {
  model: string;
  /** Parameter values shared by every instance (strings as given on the command line). */
  set?: Record<string, string | number>;
  /** Per-instance overrides (a sweep's grid points); batch = its length when given. */
  instances?: readonly Record<string, string | number>[];
  /** RNG instance ids per instance (a sweep's global row numbers). */
  instanceIds?: readonly number[];
  n?: number;
  batch?: number;
  steps?: number;
  T?: number;
  dt?: number;
  seed?: number;
  backend: 'cpu' | 'webgpu';
  ctx?: GpuContext;
  recorders?: RecorderOptions;
  /** Keep every k-th step in the time series table (all steps still enter the summary). */
  recordEvery?: number;
  onProgress?: (done: number, total: number) => void;
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
  model: RegisteredModel;
  resolved: { n: number; batch: number; steps: number; dt: number; seed: number; key: [number, number]; params: ParamValues[]; recordEvery: number };
  instances: InstanceSummary[];
  timeseries: { columns: string[]; rows: number[][] };
  spikes: { columns: string[]; rows: number[][] };
  traces: { columns: string[]; rows: number[][] };
  finalState: Float32Array;
  wallSeconds: number;
}

function positiveInt(name: string, v: number | undefined, fallback: number): number {
  const x = v ?? fallback;
  if (!Number.isInteger(x) || x <= 0) throw new ParameterError(name, `${x} is not a positive integer`, `use --${name} with a positive integer`);
  return x;
}

/** Default --record-every: at most 20000 rows per instance and about 2e6 in all, so the table stays writable. */
export function defaultRecordEvery(steps: number, batch: number): number {
  const rowsPerInstance = Math.min(20_000, Math.max(1, Math.floor(2e6 / batch)));
  return Math.max(1, Math.ceil(steps / rowsPerInstance));
}

/** What an experiment is without its per-instance parameters: cheap for any batch, enough for its estimate. */
export function resolveExperimentShape(o: ExperimentOptions) {
  const model = getModel(o.model);
  const d = model.info.defaults;
  const n = positiveInt('n', o.n, d.n);
  const plan = resolveSteps({ model: model.info.id, steps: o.steps, T: o.T, dt: o.dt, dtDefault: d.dt, defaultT: d.T });
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ParameterError('seed', `${seed} is not a non-negative integer`, 'use --seed with an integer in [0, 2^53)');
  if (o.instances && o.batch !== undefined && o.batch !== o.instances.length) {
    throw new ParameterError('batch', `--batch ${o.batch} disagrees with ${o.instances.length} sweep instances`, 'omit --batch for sweeps');
  }
  const batch = o.instances ? o.instances.length : positiveInt('batch', o.batch, 1);
  if (batch < 1) throw new ParameterError('batch', 'no instances', 'use --batch >= 1');
  const { steps, dt } = plan;
  const recordEvery = o.recordEvery ?? defaultRecordEvery(steps, batch);
  // The shared values (a sweep's grid values come on top); single fields are checked here, cross-field ones per instance.
  const base = resolveParams(model.info.id, model.info.parameters, o.set ?? {});
  return { model, n, dt, steps, seed, batch, recordEvery, base, dtAdjusted: plan.dtAdjusted, stepsFlag: o.T !== undefined ? '--T' : '--steps' };
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
export function estimatePopulationRun(s: ExperimentShape, o: { recorders?: RecorderOptions; backend: 'cpu' | 'webgpu'; isSoftware?: boolean; maxBinding?: number }): RunEstimate {
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
  if (o.backend === 'cpu') {
    const m = Math.max(1, Math.min(1000, Math.floor(2e6 / (n * B)), Math.floor((64 << 20) / (B * (48 + 4 * words)))));
    memory.push({ what: 'records of one chunk of steps', bytes: m * B * (36 + 4 * words) + (Math.ceil(m / rec.traceEvery) + 1) * B * rec.traces * 4, place: 'host', options: NB, elements: m * B * 4 });
    if (rec.traces) memory.push({ what: 'trace samples of one chunk', bytes: (Math.ceil(m / rec.traceEvery) + 1) * B * rec.traces * 9, place: 'heap', options: ['--batch', '--record-traces'] });
  } else {
    const slot = 256;
    const bytesPerStep = B * (4 + wpi * 32 + 16 + 4 * words) + slot;
    const budget = Math.min(64 << 20, o.maxBinding ?? 64 << 20);
    const m = Math.max(1, Math.min(1000, Math.floor(budget / bytesPerStep)));
    const traceRows = rec.traces ? Math.ceil(m / rec.traceEvery) + 1 : 0;
    const staging = m * B * (4 + 16 + 4 * words) + traceRows * B * rec.traces * 4;
    memory.push(
      { what: 'readback of one chunk (copy and f64 moments)', bytes: staging + m * B * 32, place: 'host', options: NB },
      { what: 'initial potentials upload', bytes: 4 * n * B, place: 'host', options: NB, elements: n * B },
      { what: 'GPU potentials', bytes: 4 * n * B, place: 'device', options: NB, binding: true },
      { what: 'GPU workgroup moment partials', bytes: m * B * wpi * 32, place: 'device', options: NB, binding: true },
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
  const th0 = s.model.theoryAtStep(s.base, dt, 0).rateHz;
  const thInf = s.model.theoryAtStep(s.base, dt, Number.MAX_SAFE_INTEGER).rateHz;
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
    model: s.model.info.id,
    size: `--n ${formatCount(n)} x --batch ${formatCount(B)} x ${formatCount(steps)} steps`,
    memory,
    outputs,
    work: {
      units,
      unit: 'neuron-steps',
      seconds: {
        cpu: steps * B * (hostPerInstanceStep + n * 1e-6),
        'webgpu-software': steps * (1e-4 + B * Math.ceil(n / 2048) * 5e-4 + B * (hostPerInstanceStep + n * 1.8e-6)),
        'webgpu-hardware': steps * (2e-5 + B * Math.ceil(n / 256) * 1e-7 + B * (hostPerInstanceStep + n * 1e-9)),
      },
      options: ['--n', '--batch', stepsOpt],
    },
  };
}

/** Validates and resolves everything an experiment needs, before any GPU work starts. A run (no `instances`) is checked against the machine first (sweeps: checkSweepLimits). */
export function resolveExperiment(o: ExperimentOptions) {
  const shape = resolveExperimentShape(o);
  const { model, n, dt, steps, seed, batch, recordEvery } = shape;
  if (!o.instances) {
    // A run's instances all have the shared values: check them, then the machine, before anything is allocated.
    model.checkParams(shape.base, dt, n);
    const limits = machineLimits(o.ctx);
    checkMemory(estimatePopulationRun(shape, { recorders: o.recorders, backend: o.backend, isSoftware: limits.device?.isSoftware, maxBinding: limits.device?.maxStorageBufferBindingSize }), o.backend, limits);
  }
  const base = o.set ?? {};
  const rows = o.instances ?? Array.from({ length: batch }, () => ({}));
  const params = rows.map((r) => {
    const p = resolveParams(model.info.id, model.info.parameters, { ...base, ...r });
    model.checkParams(p, dt, n);
    return p;
  });
  params.forEach((p, i) => {
    const burnin = (p.burnin as number | undefined) ?? 0;
    if (burnin > 0 && Math.round(burnin / dt) >= steps) {
      throw new ParameterError(`${model.info.id}.burnin`, `burnin ${burnin} s${params.length > 1 ? ` (instance ${i})` : ''} is not shorter than the run (${steps} steps x ${dt} s = ${steps * dt} s), so no step would enter the time averages`, `lengthen the run (--T) or lower --set burnin=`);
    }
  });
  return { model, n, dt, steps, seed, key: seedToKey(seed) as [number, number], params, batch: params.length, recordEvery, dtAdjusted: shape.dtAdjusted };
}

/** Runs the experiment; the caller owns `ctx`. */
export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  const r = resolveExperiment(o);
  if (o.instances) {
    // A sweep's group of instances: its own memory (the whole sweep was checked by checkSweepLimits).
    const limits = machineLimits(o.ctx);
    checkMemory(estimatePopulationRun(resolveExperimentShape(o), { recorders: o.recorders, backend: o.backend, isSoftware: limits.device?.isSoftware, maxBinding: limits.device?.maxStorageBufferBindingSize }), o.backend, limits);
  }
  const { model, n, dt, steps, params, batch, recordEvery } = r;
  const sim = await createSimulation(
    { model: model.population, params, n, dt, key: r.key, instanceIds: o.instanceIds, recorders: o.recorders },
    o.backend,
    o.ctx,
  );
  const acc = params.map(() => ({ sumU: 0, sumV: 0, sumExtra: 0, spikes: 0, steps: 0, thU: 0, thV: 0, thRate: 0, thSamples: 0 }));
  const burnSteps = params.map((p) => Math.round(((p.burnin as number | undefined) ?? 0) / dt));
  // Theory is averaged over the same window as the simulation, sampled at <= ~4000 steps (it is smooth in time).
  const theoryStride = Math.max(1, Math.ceil(steps / 4000));
  const ts: number[][] = [];
  const spikeRows: number[][] = [];
  const traceRows: number[][] = [];
  const spikeNeurons = o.recorders?.spikes?.neurons ?? [];
  const traceNeurons = o.recorders?.traces?.neurons ?? [];
  const onChunk = (c: RecordChunk) => {
    for (let s = 0; s < c.steps; s++) {
      const step = c.stepStart + s;
      for (let b = 0; b < batch; b++) {
        const row = (s * batch + b) * 4;
        const count = c.counts[s * batch + b];
        const [meanU, varU, extra] = [c.population[row], c.population[row + 1], c.population[row + 2]];
        if (step >= burnSteps[b]) {
          const a = acc[b];
          a.sumU += meanU;
          a.sumV += varU;
          a.sumExtra += extra;
          a.spikes += count;
          a.steps++;
          if ((step - burnSteps[b]) % theoryStride === 0) {
            const th = model.theoryAtStep(params[b], dt, step);
            a.thU += th.meanU;
            a.thV += th.varU;
            a.thRate += th.rateHz;
            a.thSamples++;
          }
        }
        if (step % recordEvery === 0 || step === steps - 1) {
          const th = model.theoryAtStep(params[b], dt, step);
          ts.push([step, (step + 1) * dt, b, count, count / (n * dt), meanU, varU, extra / dt, th.meanU, th.varU, th.rateHz]);
        }
        if (c.spikeBits) {
          for (let w = 0; w < c.spikeWords; w++) {
            let bits = c.spikeBits[(s * batch + b) * c.spikeWords + w];
            while (bits) {
              const j = 31 - Math.clz32(bits & -bits);
              bits &= bits - 1;
              spikeRows.push([step, (step + 0.5) * dt, b, spikeNeurons[w * 32 + j]]);
            }
          }
        }
      }
    }
    if (c.traces) {
      c.traceSteps.forEach((step, i) => {
        for (let b = 0; b < batch; b++) {
          traceNeurons.forEach((k, j) => traceRows.push([step, (step + 1) * dt, b, k, c.traces![(i * batch + b) * traceNeurons.length + j]]));
        }
      });
    }
  };
  const t0 = performance.now();
  try {
    await sim.run(steps, { onChunk, onProgress: o.onProgress });
    const finalState = await sim.readState();
    const wallSeconds = (performance.now() - t0) / 1000;
    const instances: InstanceSummary[] = params.map((p, b) => {
      const a = acc[b];
      const k = Math.max(1, a.steps);
      const st = model.theoryAtStep(p, dt, Number.MAX_SAFE_INTEGER);
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
      model,
      resolved: { n, batch, steps, dt, seed: r.seed, key: r.key, params, recordEvery },
      instances,
      timeseries: { columns: ['step', 't', 'instance', 'spikes', 'rateHz', 'meanU', 'varU', 'intensityHz', 'meanUTheory', 'varUTheory', 'rateHzTheory'], rows: ts },
      spikes: { columns: ['step', 't', 'instance', 'neuron'], rows: spikeRows },
      traces: { columns: ['step', 't', 'instance', 'neuron', 'u'], rows: traceRows },
      finalState,
      wallSeconds,
    };
  } finally {
    sim.dispose();
  }
}
