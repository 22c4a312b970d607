// Runs the hybrid network on a backend next to its large-n limit: time series, time averages, blow-up report.
import { ParameterError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import type { HybridSimulation, HybridStepRecord } from './simulation.ts';
import { CpuHybridSimulation } from './cpu-simulation.ts';
import { WebGpuHybridSimulation } from './webgpu-simulation.ts';
import { checkHybridParams, defaultHybridDt, hybridParameters, makeHybridModelParams } from './params.ts';
import { checkConditionsB1, checkConditionsB2, solveLimitB1, solveLimitB2 } from './limit.ts';
import { seedToKey } from '../../rng/index.ts';
import { checkMemory, formatCount, machineLimits, resolveSteps, rowHeapBytes, type MemoryItem, type RunEstimate } from '../../core/limits.ts';

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

/** Default --record-every: at most 5000 samples per instance and about 1e6 rows in all, so the table stays writable. */
export function defaultHybridRecordEvery(steps: number, batch: number): number {
  const rowsPerInstance = Math.min(5000, Math.max(1, Math.floor(1e6 / batch)));
  return Math.max(1, Math.ceil(steps / rowsPerInstance));
}

/**
 * What a hybrid run needs (memory, output, time). Rough constants from bench/results on a 2-core machine: ~7e5
 * neuron-steps/s on the CPU reference (2n neurons per instance), ~3.5e5 on SwiftShader plus ~0.5 ms per workgroup
 * and step; a hardware GPU is assumed at ~1e9. The large-n limit adds at most 2e5 RK4 steps (~1.2 us) per instance.
 */
export function estimateHybridRun(s: { n: number; batch: number; steps: number; dt: number; recordEvery: number; tauMin: number; stepsFlag: string; snapshots?: number; keepSnapshotStates?: boolean }, o: { backend: 'cpu' | 'webgpu'; isSoftware?: boolean }): RunEstimate {
  const { n, batch: B, steps, recordEvery } = s;
  const NB = ['--n', '--batch'];
  const snaps = s.snapshots ?? 0;
  const samples = Math.floor(steps / recordEvery) + 1 + (steps % recordEvery !== 0 ? 1 : 0) + snaps;
  const recordStride = 48;
  const memory: MemoryItem[] = [
    { what: 'final potentials', bytes: 8 * n * B, place: 'host', options: NB, elements: 2 * n * B },
    { what: 'per-instance parameters, accumulators and results', bytes: 4000 * B, place: 'heap', options: ['--batch'] },
    { what: 'limit trajectories at the recorded times', bytes: B * samples * 8 * 9, place: 'heap', options: ['--batch', s.stepsFlag, '--record-every'] },
    { what: 'recorded step index', bytes: samples * 80, place: 'heap', options: [s.stepsFlag, '--record-every'] },
    { what: 'time series rows', bytes: B * samples * rowHeapBytes(16), place: 'heap', options: ['--batch', s.stepsFlag, '--record-every'] },
  ];
  if (snaps && s.keepSnapshotStates) memory.push({ what: 'snapshot states', bytes: snaps * 8 * n * B, place: 'host', options: NB });
  if (o.backend === 'cpu') {
    const m = Math.max(1, Math.min(1000, Math.floor(2e6 / (2 * n * B))));
    memory.push(
      { what: 'potentials and intensities', bytes: 16 * n * B, place: 'host', options: NB, elements: 2 * n },
      { what: 'step records of one chunk', bytes: m * B * 120, place: 'heap', options: ['--batch'] },
    );
  } else {
    const wpp = Math.ceil(n / (64 * ((o.isSoftware ?? true) ? 32 : 4)));
    const m = Math.max(1, Math.min(1000, Math.floor((64 << 20) / (B * recordStride + 256))));
    memory.push(
      { what: 'step records of one chunk', bytes: m * B * (120 + recordStride), place: 'heap', options: ['--batch'] },
      { what: 'GPU potentials', bytes: 8 * n * B, place: 'device', options: NB, binding: true },
      { what: 'GPU workgroup partials', bytes: 2 * wpp * B * 32, place: 'device', options: NB, binding: true },
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
        'webgpu-software': host + steps * (1e-4 + B * (2 * Math.ceil(n / 2048) + 1) * 5e-4 + B * 2 * n * 2.8e-6),
        'webgpu-hardware': host + steps * (2e-5 + B * (2 * Math.ceil(n / 256) + 1) * 1e-7 + B * 2 * n * 1e-9),
      },
      options: ['--n', '--batch', s.stepsFlag],
    },
  };
}

/** Validates and resolves a hybrid run; a run (no `instances`) is checked against the machine before its per-instance state exists. */
export function resolveHybrid(o: HybridExperimentOptions) {
  const n = o.n ?? 1000;
  if (!Number.isInteger(n) || n < 1) throw new ParameterError('n', `${n} is not a positive integer`, 'use --n with the number of neurons per population');
  const base = o.set ?? {};
  const batch = o.instances ? o.instances.length : (o.batch ?? 1);
  if (!Number.isInteger(batch) || batch < 1) throw new ParameterError('batch', `${batch} instances`, 'use --batch >= 1');
  // Every instance of a run has the same parameters: resolve them once until the run is known to fit.
  const shared = o.instances ? o.instances.map((r) => resolveParams('hybrid', hybridParameters, { ...base, ...r })) : [resolveParams('hybrid', hybridParameters, base)];
  const dtDefault = Math.min(...shared.map((p) => defaultHybridDt(n, p)));
  const tauMax = Math.max(...shared.map((p) => p.tau as number));
  const tauMin = Math.min(...shared.map((p) => p.tau as number));
  const plan = resolveSteps({ model: 'hybrid', steps: o.steps, T: o.T, dt: o.dt, dtDefault, defaultT: 5 * tauMax, unit: '' });
  const { dt, steps } = plan;
  const recordEvery = o.recordEvery ?? defaultHybridRecordEvery(steps, batch);
  if (!o.instances) {
    const limits = machineLimits(o.ctx);
    const stepsFlag = o.T !== undefined ? '--T' : '--steps';
    checkMemory(estimateHybridRun({ n, batch, steps, dt, recordEvery, tauMin, stepsFlag, snapshots: o.snapshotTimes?.length, keepSnapshotStates: o.keepSnapshotStates }, { backend: o.backend, isSoftware: limits.device?.isSoftware }), o.backend, limits);
  }
  const params = o.instances ? shared : Array.from({ length: batch }, () => resolveParams('hybrid', hybridParameters, base));
  params.forEach((p) => checkHybridParams(p, dt, n));
  params.forEach((p, i) => {
    const burnin = p.burnin as number;
    if (burnin > 0 && Math.round(burnin / dt) >= steps) {
      throw new ParameterError('hybrid.burnin', `burnin ${burnin}${params.length > 1 ? ` (instance ${i})` : ''} is not shorter than the run (${(steps * dt).toPrecision(4)})`, 'lengthen the run (--T) or lower --set burnin=');
    }
  });
  const seed = o.seed ?? 1;
  return { n, dt, steps, seed, key: seedToKey(seed) as [number, number], params, batch: params.length, recordEvery, dtAdjusted: plan.dtAdjusted, tauMin };
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
    // Inside the try: a state already beyond the blow-up bound at t = 0 (e.g. JE = 1e30) is a reported blow-up, not a crash.
    sim.initial.forEach((rec, b) => record(0, b, rec));
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
