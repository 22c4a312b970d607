// Runs the hybrid network on a backend next to its large-n limit: time series, time averages, blow-up report.
import { ParameterError } from '../errors.ts';
import type { GpuContext } from '../gpu/context.ts';
import { resolveParams, type ParamValues } from '../engine/params.ts';
import type { HybridSimulation, HybridStepRecord } from '../engine/hybrid-simulation.ts';
import { CpuHybridSimulation } from '../backends/cpu/hybrid-simulation.ts';
import { WebGpuHybridSimulation } from '../backends/webgpu/hybrid-simulation.ts';
import { checkHybridParams, defaultHybridDt, hybridParameters, makeHybridModelParams } from '../models/hybrid/params.ts';
import { checkConditionsB1, checkConditionsB2, solveLimitB1, solveLimitB2 } from '../models/hybrid/limit.ts';
import { seedToKey } from '../rng/index.ts';

export const hybridColumns = ['mE', 'mI', 'vE', 'vI', 'nuE', 'nuI', 'X'] as const;
export type HybridState = Record<(typeof hybridColumns)[number], number>;

export interface HybridExperimentOptions {
  set?: Record<string, string | number>;
  instances?: readonly Record<string, string | number>[];
  instanceIds?: readonly number[];
  /** Neurons per population. */
  n?: number;
  batch?: number;
  steps?: number;
  T?: number;
  dt?: number;
  seed?: number;
  backend: 'cpu' | 'webgpu';
  ctx?: GpuContext;
  recordEvery?: number;
  /** Times at which to histogram u per population (on the GPU for webgpu); the run pauses there. */
  snapshotTimes?: readonly number[];
  /** Bins of those histograms (default 60) over the limit's m +- 5 sd at that time. */
  histogramBins?: number;
  /** Also keep the full state at snapshot times (host memory: 8n bytes per instance). */
  keepSnapshotStates?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface HybridBlowup {
  source: 'conditions' | 'limit' | 'simulation';
  condition: string;
  detail: string;
  t: number | null;
}

export interface HybridInstanceResult {
  index: number;
  params: ParamValues;
  /** Time averages over t >= burnin. */
  sim: HybridState;
  /** The limit at the final time. */
  limit: HybridState;
  /** Root mean square of (sim - limit) over t >= burnin, per quantity. */
  rmsError: HybridState;
  blowup: HybridBlowup | null;
  c0: number | null;
}

export interface HybridExperimentResult {
  resolved: { n: number; batch: number; steps: number; dt: number; seed: number; key: [number, number]; params: ParamValues[]; recordEvery: number };
  instances: HybridInstanceResult[];
  /** t, instance, sim columns, limit columns (prefixed `limit`). */
  timeseries: { columns: string[]; rows: number[][] };
  /** u histograms: counts [instance][population][bins] over [min, max]; `state` only with keepSnapshotStates. */
  snapshots: { t: number; step: number; bins: number; min: number; max: number; counts: Uint32Array; state?: Float32Array }[];
  finalState: Float32Array;
  wallSeconds: number;
}


/** Pure: the observable state of an instance from a step record. */
export function makeHybridState(p: ParamValues, n: number, r: HybridStepRecord): HybridState {
  const scale = (p.numax as number) / 16777216 / n;
  const nuE = r.totalE * scale;
  const nuI = r.totalI * scale;
  const X = p.variant === 'B1'
    ? Math.sqrt(n) * ((p.JE as number) * nuE - (p.JI as number) * nuI)
    : Math.sqrt(n) * ((p.muhatE as number) + (p.JEE as number) * nuE - (p.JEI as number) * nuI);
  return { mE: r.meanE, mI: r.meanI, vE: r.varE, vI: r.varI, nuE, nuI, X };
}

export function resolveHybrid(o: HybridExperimentOptions) {
  const n = o.n ?? 1000;
  if (!Number.isInteger(n) || n < 1) throw new ParameterError('n', `${n} is not a positive integer`, 'use --n with the number of neurons per population');
  const base = o.set ?? {};
  const rows = o.instances ?? Array.from({ length: o.batch ?? 1 }, () => ({}));
  if (rows.length < 1) throw new ParameterError('batch', `${rows.length} instances`, 'use --batch >= 1');
  const params = rows.map((r) => resolveParams('hybrid', hybridParameters, { ...base, ...r }));
  const dt = o.dt ?? Math.min(...params.map((p) => defaultHybridDt(n, p)));
  if (!(dt > 0) || !Number.isFinite(dt)) throw new ParameterError('dt', `${dt} must be positive`, 'omit --dt for the default min(2e-3, 0.1/sqrt(n)) tau');
  params.forEach((p) => checkHybridParams(p, dt, n));
  if (o.steps !== undefined && o.T !== undefined) throw new ParameterError('steps', 'both --steps and --T given', 'give one of them');
  const T = o.T ?? (o.steps !== undefined ? o.steps * dt : 5 * Math.max(...params.map((p) => p.tau as number)));
  const steps = o.steps ?? Math.max(1, Math.round(T / dt));
  if (!Number.isInteger(steps) || steps < 1) throw new ParameterError('steps', `${steps} is not a positive integer`, 'use --steps >= 1');
  params.forEach((p, i) => {
    const burnin = p.burnin as number;
    if (burnin > 0 && Math.round(burnin / dt) >= steps) {
      throw new ParameterError('hybrid.burnin', `burnin ${burnin}${params.length > 1 ? ` (instance ${i})` : ''} is not shorter than the run (${(steps * dt).toPrecision(4)})`, 'lengthen the run (--T) or lower --set burnin=');
    }
  });
  const seed = o.seed ?? 1;
  const recordEvery = o.recordEvery ?? Math.max(1, Math.ceil(steps / 5000));
  return { n, dt, steps, seed, key: seedToKey(seed) as [number, number], params, batch: params.length, recordEvery };
}

class BlowupStop extends Error {}

/** Runs the simulation and the limit; the caller owns `ctx`. */
export async function runHybridExperiment(o: HybridExperimentOptions): Promise<HybridExperimentResult> {
  const r = resolveHybrid(o);
  const { n, dt, steps, params, batch, recordEvery } = r;
  const lp = params.map(makeHybridModelParams);
  const init = params.map((p) => ({ mE: p.mE0 as number, mI: p.mI0 as number, vE: p.vE0 as number, vI: p.vI0 as number }));

  // Limit trajectories sampled at the recorded times (t = 0 and every recordEvery steps).
  const snapSteps = [...new Set((o.snapshotTimes ?? []).map((t) => Math.min(steps, Math.max(0, Math.round(t / dt)))))].sort((x, y) => x - y);
  const sampleSet = new Set<number>([0, steps, ...snapSteps]);
  for (let s = recordEvery; s < steps; s += recordEvery) sampleSet.add(s);
  const sampleSteps = [...sampleSet].sort((x, y) => x - y);
  const sampleTimes = sampleSteps.map((s) => s * dt);
  const blowups: (HybridBlowup | null)[] = params.map(() => null);
  const limits = lp.map((p, b) => {
    const cond = p.variant === 'B1' ? checkConditionsB1(p, init[b]) : checkConditionsB2(p);
    if (!cond.ok) blowups[b] = { source: 'conditions', condition: cond.failures[0].condition, detail: cond.failures.map((f) => f.detail).join('; '), t: 0 };
    const sol = p.variant === 'B1' ? solveLimitB1(p, init[b], { T: steps * dt, sampleTimes }) : solveLimitB2(p, init[b], { T: steps * dt, sampleTimes });
    if (sol.blowup && !blowups[b]) blowups[b] = { source: 'limit', condition: sol.blowup.condition, detail: sol.blowup.detail, t: sol.blowup.t };
    return sol;
  });

  const sim: HybridSimulation = o.backend === 'cpu'
    ? new CpuHybridSimulation({ params, n, dt, key: r.key, instanceIds: o.instanceIds })
    : await WebGpuHybridSimulation.create(o.ctx!, { params, n, dt, key: r.key, instanceIds: o.instanceIds });
  const burnSteps = params.map((p) => Math.round((p.burnin as number) / dt));
  const acc = params.map(() => ({ sum: Object.fromEntries(hybridColumns.map((c) => [c, 0])) as HybridState, sq: Object.fromEntries(hybridColumns.map((c) => [c, 0])) as HybridState, k: 0, kErr: 0 }));
  const rows: number[][] = [];
  const sampleIndex = new Map(sampleSteps.map((s, i) => [s, i]));
  // NaN where the limit does not exist (it stopped at a blow-up before this time).
  const limitAt = (b: number, i: number): HybridState => {
    const L = limits[b];
    const at = (xs: number[]) => (i < xs.length ? xs[i] : NaN);
    return { mE: at(L.mE), mI: at(L.mI), vE: at(L.vE), vI: at(L.vI), nuE: at(L.nuE), nuI: at(L.nuI), X: at(L.X) };
  };
  const record = (stepAfter: number, b: number, rec: HybridStepRecord) => {
    const st = makeHybridState(params[b], n, rec);
    const bad = hybridColumns.find((c) => !Number.isFinite(st[c]) || Math.abs(st[c]) > 1e9);
    if (bad && !blowups[b]?.source.startsWith('sim')) {
      blowups[b] = { source: 'simulation', condition: `${bad} not finite or above 1e9`, detail: `the particle system diverged at t = ${(stepAfter * dt).toPrecision(4)}`, t: stepAfter * dt };
      throw new BlowupStop();
    }
    const i = sampleIndex.get(stepAfter);
    if (i !== undefined) {
      const L = limitAt(b, i);
      rows.push([stepAfter * dt, b, ...hybridColumns.map((c) => st[c]), ...hybridColumns.map((c) => L[c])]);
    }
    if (stepAfter >= burnSteps[b] && stepAfter > 0) {
      const a = acc[b];
      for (const c of hybridColumns) a.sum[c] += st[c];
      a.k++;
      if (i !== undefined && i < limits[b].t.length) {
        const L = limitAt(b, i);
        for (const c of hybridColumns) a.sq[c] += (st[c] - L[c]) ** 2;
        a.kErr++;
      }
    }
  };
  sim.initial.forEach((rec, b) => record(0, b, rec));
  const snapshots: HybridExperimentResult['snapshots'] = [];
  const bins = o.histogramBins ?? 60;
  // One range for all histograms at a time: the limit's m +- 5 sd over populations and instances (+-1 if absent).
  const rangeAt = (step: number): [number, number] => {
    let lo = Infinity;
    let hi = -Infinity;
    const i = sampleIndex.get(step);
    for (let b = 0; b < batch; b++) {
      const L = i !== undefined ? limitAt(b, i) : null;
      for (const [m, v] of L ? [[L.mE, L.vE], [L.mI, L.vI]] : []) {
        if (Number.isFinite(m) && Number.isFinite(v)) {
          lo = Math.min(lo, m - 5 * Math.sqrt(v));
          hi = Math.max(hi, m + 5 * Math.sqrt(v));
        }
      }
    }
    return Number.isFinite(lo) && hi > lo ? [lo, hi] : [-5, 5];
  };
  const t0 = performance.now();
  try {
    let done = 0;
    for (const target of [...new Set([...snapSteps, steps])].sort((x, y) => x - y)) {
      if (target > done) {
        const from = done;
        await sim.run(target - done, {
          onChunk: (c) => {
            for (let s = 0; s < c.steps; s++) for (let b = 0; b < c.batch; b++) record(c.stepStart + s + 1, b, c.records[s * c.batch + b]);
          },
          onProgress: (d) => o.onProgress?.(from + d, steps),
        });
        done = target;
      }
      if (snapSteps.includes(target)) {
        const [min, max] = rangeAt(target);
        snapshots.push({ t: target * dt, step: target, bins, min, max, counts: await sim.histogramU(bins, min, max), ...(o.keepSnapshotStates ? { state: await sim.readState() } : {}) });
      }
    }
  } catch (e) {
    if (!(e instanceof BlowupStop)) {
      sim.dispose();
      throw e;
    }
  }
  const finalState = await sim.readState();
  sim.dispose();
  const wallSeconds = (performance.now() - t0) / 1000;
  const lastSample = sampleSteps.length - 1;
  const instances: HybridInstanceResult[] = params.map((p, b) => {
    const a = acc[b];
    const avg = (src: HybridState, k: number, f: (x: number) => number = (x) => x) => Object.fromEntries(hybridColumns.map((c) => [c, k > 0 ? f(src[c] / k) : NaN])) as HybridState;
    return {
      index: b,
      params: p,
      sim: avg(a.sum, a.k),
      limit: limitAt(b, lastSample),
      rmsError: avg(a.sq, a.kErr, Math.sqrt),
      blowup: blowups[b],
      c0: limits[b].c0 ?? null,
    };
  });
  return {
    resolved: { n, batch, steps, dt, seed: r.seed, key: r.key, params, recordEvery },
    instances,
    timeseries: { columns: ['t', 'instance', ...hybridColumns, ...hybridColumns.map((c) => `limit${c[0].toUpperCase()}${c.slice(1)}`)], rows },
    snapshots,
    finalState,
    wallSeconds,
  };
}
