// Runs a population model experiment on a chosen backend and condenses the records into summary and tables.
import { ParameterError } from '../errors.ts';
import type { GpuContext } from '../gpu/context.ts';
import { getModel, type RegisteredModel } from '../models/registry.ts';
import { seedToKey } from '../rng/index.ts';
import { createSimulation } from './create-simulation.ts';
import { resolveParams, type ParamValues } from './params.ts';
import type { RecordChunk, RecorderOptions } from './simulation.ts';

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

/** Validates and resolves everything an experiment needs, before any GPU work starts. */
export function resolveExperiment(o: ExperimentOptions) {
  const model = getModel(o.model);
  const d = model.info.defaults;
  const n = positiveInt('n', o.n, d.n);
  const dt = o.dt ?? d.dt;
  if (!(dt > 0) || !Number.isFinite(dt)) throw new ParameterError('dt', `${dt} must be a positive number of seconds`, 'use --dt 1e-4');
  if (o.steps !== undefined && o.T !== undefined) throw new ParameterError('steps', 'both --steps and --T given', 'give one of them');
  if (o.T !== undefined && (!(o.T > 0) || !Number.isFinite(o.T))) throw new ParameterError('T', `${o.T} must be a positive duration in seconds`, 'use --T 0.5');
  const steps = positiveInt('steps', o.steps ?? (o.T !== undefined ? Math.max(1, Math.round(o.T / dt)) : Math.round(d.T / dt)), 1);
  const seed = o.seed ?? 1;
  if (!Number.isSafeInteger(seed) || seed < 0) throw new ParameterError('seed', `${seed} is not a non-negative integer`, 'use --seed with an integer in [0, 2^53)');
  const base = o.set ?? {};
  const rows = o.instances ?? Array.from({ length: positiveInt('batch', o.batch, 1) }, () => ({}));
  if (o.instances && o.batch !== undefined && o.batch !== o.instances.length) {
    throw new ParameterError('batch', `--batch ${o.batch} disagrees with ${o.instances.length} sweep instances`, 'omit --batch for sweeps');
  }
  const params = rows.map((r) => {
    const p = resolveParams(model.info.id, model.info.parameters, { ...base, ...r });
    model.checkParams(p, dt);
    return p;
  });
  params.forEach((p, i) => {
    const burnin = (p.burnin as number | undefined) ?? 0;
    if (burnin > 0 && Math.round(burnin / dt) >= steps) {
      throw new ParameterError(`${model.info.id}.burnin`, `burnin ${burnin} s${params.length > 1 ? ` (instance ${i})` : ''} is not shorter than the run (${steps} steps x ${dt} s = ${steps * dt} s), so no step would enter the time averages`, `lengthen the run (--T) or lower --set burnin=`);
    }
  });
  const recordEvery = o.recordEvery ?? Math.max(1, Math.ceil(steps / 20_000));
  return { model, n, dt, steps, seed, key: seedToKey(seed) as [number, number], params, batch: params.length, recordEvery };
}

/** Runs the experiment; the caller owns `ctx`. */
export async function runExperiment(o: ExperimentOptions): Promise<ExperimentResult> {
  const r = resolveExperiment(o);
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
