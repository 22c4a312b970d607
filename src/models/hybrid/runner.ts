// The hybrid network's runner: the large-n limit solved up front, then the particles advanced chunk by chunk (on the
// CPU reference or WebGPU, same interface) into time averages, errors against the limit, the time series, u
// histograms at snapshot times and a blow-up report.
import { ConfigError, ParameterError } from '../../errors.ts';
import type { Backend, RunControl, Runner, RunRequest, RunTarget } from '../../core/contract.ts';
import type { ParamValues } from '../../core/params.ts';
import type { HybridChunk, HybridSimulation, HybridStepRecord } from './simulation.ts';
import { CpuHybridSimulation } from './cpu-simulation.ts';
import { WebGpuHybridSimulation } from './webgpu-simulation.ts';
import { WasmHybridSimulation } from './wasm-simulation.ts';
import { makeHybridModelParams } from './params.ts';
import { checkConditionsB1, checkConditionsB2, solveLimitB1, solveLimitB2, type LimitTrajectory } from './limit.ts';
import { resolveHybridRun, type HybridExtras, type HybridRun } from './resolve.ts';

export const hybridColumns = ['mE', 'mI', 'vE', 'vI', 'nuE', 'nuI', 'X'] as const;
export type HybridState = Record<(typeof hybridColumns)[number], number>;

/** Name of the limit's column of a quantity in the time series, e.g. limitME. */
export const limitName = (c: string) => `limit${c[0].toUpperCase()}${c.slice(1)}`;

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

export interface HybridSnapshot {
  t: number;
  step: number;
  bins: number;
  min: number;
  max: number;
  /** u histograms: counts [instance][population][bins] over [min, max]. */
  counts: Uint32Array;
  /** The full state (only with keepSnapshotStates). */
  state?: Float32Array;
}

export interface HybridResult {
  instances: HybridInstanceResult[];
  /** Steps that entered each instance's time averages (fewer than the run's after its particles diverged). */
  averagedSteps: number[];
  /** t, instance, sim columns, limit columns (prefixed `limit`). */
  timeseries: { columns: string[]; rows: number[][] };
  snapshots: HybridSnapshot[];
  finalState: Float32Array;
  /** Time spent simulating (the runner's run() calls and the final readback). */
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

/** The steps at which the limit is sampled: 0, every recordEvery steps, the snapshot steps and the last step. */
function hybridSampleSteps(r: HybridRun): { sampleSteps: number[]; snapSteps: number[] } {
  const { steps, dt } = r;
  const snapSteps = [...new Set(r.snapshotTimes.map((t) => Math.min(steps, Math.max(0, Math.round(t / dt)))))].sort((x, y) => x - y);
  const sampleSet = new Set<number>([0, steps, ...snapSteps]);
  for (let s = r.options.recordEvery; s < steps; s += r.options.recordEvery) sampleSet.add(s);
  return { sampleSteps: [...sampleSet].sort((x, y) => x - y), snapSteps };
}

/** The limit of one instance sampled at the given times (an empty trajectory after a blow-up at t = 0). */
export function solveHybridLimit(p: ParamValues, T: number, sampleTimes: number[]): LimitTrajectory {
  const lp = makeHybridModelParams(p);
  const init = { mE: p.mE0 as number, mI: p.mI0 as number, vE: p.vE0 as number, vI: p.vI0 as number };
  return lp.variant === 'B1' ? solveLimitB1(lp, init, { T, sampleTimes }) : solveLimitB2(lp, init, { T, sampleTimes });
}

/** The blow-up the conditions or the limit report for one instance (null when the limit reaches T). */
export function limitBlowupOf(p: ParamValues, limit: LimitTrajectory): HybridBlowup | null {
  const lp = makeHybridModelParams(p);
  const init = { mE: p.mE0 as number, mI: p.mI0 as number, vE: p.vE0 as number, vI: p.vI0 as number };
  const cond = lp.variant === 'B1' ? checkConditionsB1(lp, init) : checkConditionsB2(lp);
  if (!cond.ok) return { source: 'conditions', condition: cond.failures[0].condition, detail: cond.failures.map((f) => f.detail).join('; '), t: 0 };
  if (limit.blowup) return { source: 'limit', condition: limit.blowup.condition, detail: limit.blowup.detail, t: limit.blowup.t };
  return null;
}

/** Thrown inside a chunk when an instance's particles diverge and the run stops (stopOnBlowup). */
class BlowupStop extends Error {}

interface Accumulator {
  sum: HybridState;
  sq: HybridState;
  k: number;
  kErr: number;
}

const zeroState = (): HybridState => ({ mE: 0, mI: 0, vE: 0, vI: 0, nuE: 0, nuI: 0, X: 0 });

/**
 * Runs a resolved hybrid run on one backend. Chunks end at the same absolute steps however run() calls split the
 * run (multiples of the simulation's chunk from the last snapshot step), so split calls give exactly the results of
 * one call, and one call gives those of the former one-shot experiment.
 */
export class HybridRunner implements Runner<HybridResult, HybridChunk> {
  readonly stepsTotal: number;
  private done = 0;
  private stopped = false;
  private disposed = false;
  private wallMs = 0;
  private readonly sampleSteps: number[];
  private readonly sampleIndex: Map<number, number>;
  private readonly snapSteps: number[];
  private readonly blowups: (HybridBlowup | null)[];
  private readonly diverged: boolean[];
  private readonly burnSteps: number[];
  private readonly acc: Accumulator[];
  private readonly rows: number[][] = [];
  private readonly snapshots: HybridSnapshot[] = [];

  private constructor(private readonly r: HybridRun, private readonly sim: HybridSimulation, private readonly limits: readonly LimitTrajectory[], blowups: (HybridBlowup | null)[], sampling: { sampleSteps: number[]; snapSteps: number[] }) {
    this.stepsTotal = r.steps;
    this.sampleSteps = sampling.sampleSteps;
    this.snapSteps = sampling.snapSteps;
    this.sampleIndex = new Map(this.sampleSteps.map((s, i) => [s, i]));
    this.blowups = blowups;
    this.diverged = r.params.map(() => false);
    this.burnSteps = r.params.map((p) => Math.round((p.burnin as number) / r.dt));
    this.acc = r.params.map(() => ({ sum: zeroState(), sq: zeroState(), k: 0, kErr: 0 }));
  }

  static async create(r: HybridRun, target: RunTarget): Promise<HybridRunner> {
    const { n, dt, steps, params } = r;
    const sampling = hybridSampleSteps(r);
    const sampleTimes = sampling.sampleSteps.map((s) => s * dt);
    const limits = r.limits ?? params.map((p) => solveHybridLimit(p, steps * dt, sampleTimes));
    limits.forEach((L) => {
      if (L.t.length > sampleTimes.length) throw new ParameterError('limits', `a limit has ${L.t.length} samples, more than the run's ${sampleTimes.length} sample times`, 'solve the limit at the run\'s sample times');
    });
    const blowups = params.map((p, b) => limitBlowupOf(p, limits[b]));
    const spec = { params, n, dt, key: r.key, instanceIds: r.instanceIds ?? undefined, chunkSteps: r.chunkSteps ?? undefined };
    let sim: HybridSimulation;
    if (target.backend === 'cpu') sim = new CpuHybridSimulation(spec);
    else if (target.backend === 'wasm') sim = await WasmHybridSimulation.create({ ...spec, threads: target.threads });
    else {
      if (!target.ctx) throw new ConfigError('the webgpu backend needs a GPU context', 'pass target.ctx (from acquireGpu), or use the cpu backend');
      sim = await WebGpuHybridSimulation.create(target.ctx, spec);
    }
    const runner = new HybridRunner(r, sim, limits, blowups, sampling);
    try {
      await runner.start();
    } catch (e) {
      sim.dispose();
      throw e;
    }
    return runner;
  }

  get backend(): Backend {
    return this.sim.backend;
  }

  get stepsDone(): number {
    return this.done;
  }

  get threads(): number | undefined {
    return this.sim.backend === 'wasm' ? this.sim.threads : undefined;
  }

  /** The initial state's records, and the snapshot at t = 0 if one is asked for. */
  private async start(): Promise<void> {
    const t0 = performance.now();
    try {
      // A state already beyond the blow-up bound at t = 0 (e.g. JE = 1e30) is a reported blow-up, not a crash.
      this.sim.initial.forEach((rec, b) => this.record(0, b, rec));
      if (this.snapSteps.includes(0)) await this.snapshot(0);
    } catch (e) {
      if (!(e instanceof BlowupStop)) throw e;
      this.stopped = true;
    } finally {
      this.wallMs += performance.now() - t0;
    }
  }

  async run(steps: number, control: RunControl<HybridChunk> = {}): Promise<void> {
    if (this.disposed) throw new ParameterError('runner', 'is disposed', 'create a new runner');
    if (!(Number.isInteger(steps) && steps >= 0 && this.done + steps <= this.stepsTotal)) {
      throw new ParameterError('steps', `${steps} more steps after ${this.done} passes the run's ${this.stepsTotal}`, `run at most ${this.stepsTotal - this.done} more steps`);
    }
    const start = this.done;
    const end = start + steps;
    const t0 = performance.now();
    try {
      while (!this.stopped && this.done < end) {
        control.signal?.throwIfAborted();
        // Chunks restart at every snapshot step (the run pauses there) and are chunkSteps long in between.
        const segStart = this.snapSteps.reduce((a, s) => (s <= this.done ? s : a), 0);
        const chunkEnd = segStart + (Math.floor((this.done - segStart) / this.sim.chunkSteps) + 1) * this.sim.chunkSteps;
        const nextSnap = this.snapSteps.find((s) => s > this.done) ?? Infinity;
        const to = Math.min(end, chunkEnd, nextSnap);
        try {
          await this.sim.run(to - this.done, {
            onChunk: (c) => {
              for (let s = 0; s < c.steps; s++) for (let b = 0; b < c.batch; b++) this.record(c.stepStart + s + 1, b, c.records[s * c.batch + b]);
              control.onChunk?.(c);
            },
          });
          this.done = to;
          if (this.snapSteps.includes(to)) await this.snapshot(to);
        } catch (e) {
          if (!(e instanceof BlowupStop)) throw e;
          this.stopped = true;
          // The simulation stops where one run() of every step would have: at the end of this chunk (its final state
          // is that of the chunk's end, whatever the calls were).
          const chunkTo = Math.min(this.stepsTotal, chunkEnd, nextSnap);
          if (chunkTo > to) await this.sim.run(chunkTo - to);
        }
        control.onProgress?.((this.stopped ? end : this.done) - start, steps);
      }
      // After a blow-up stopped the particles the remaining steps have nothing to do.
      if (this.stopped) this.done = end;
    } finally {
      this.wallMs += performance.now() - t0;
    }
  }

  /** NaN where the limit does not exist (it stopped at a blow-up before this time). */
  private limitAt(b: number, i: number): HybridState {
    const L = this.limits[b];
    const at = (xs: number[]) => (i < xs.length ? xs[i] : NaN);
    return { mE: at(L.mE), mI: at(L.mI), vE: at(L.vE), vI: at(L.vI), nuE: at(L.nuE), nuI: at(L.nuI), X: at(L.X) };
  }

  private record(stepAfter: number, b: number, rec: HybridStepRecord): void {
    if (this.diverged[b]) return;
    const { params, n, dt } = this.r;
    const st = makeHybridState(params[b], n, rec);
    const bad = hybridColumns.find((c) => !Number.isFinite(st[c]) || Math.abs(st[c]) > 1e9);
    if (bad) {
      this.blowups[b] = { source: 'simulation', condition: `${bad} not finite or above 1e9`, detail: `the particle system diverged at t = ${(stepAfter * dt).toPrecision(4)}`, t: stepAfter * dt };
      this.diverged[b] = true;
      if (this.r.stopOnBlowup) throw new BlowupStop();
      return;
    }
    const i = this.sampleIndex.get(stepAfter);
    if (i !== undefined) {
      const L = this.limitAt(b, i);
      this.rows.push([stepAfter * dt, b, ...hybridColumns.map((c) => st[c]), ...hybridColumns.map((c) => L[c])]);
    }
    if (stepAfter >= this.burnSteps[b] && stepAfter > 0) {
      const a = this.acc[b];
      for (const c of hybridColumns) a.sum[c] += st[c];
      a.k++;
      if (i !== undefined && i < this.limits[b].t.length) {
        const L = this.limitAt(b, i);
        for (const c of hybridColumns) a.sq[c] += (st[c] - L[c]) ** 2;
        a.kErr++;
      }
    }
  }

  /** One range for all histograms at a time: the limit's m +- 5 sd over populations and instances (+-5 if absent). */
  private rangeAt(step: number): [number, number] {
    let lo = Infinity;
    let hi = -Infinity;
    const i = this.sampleIndex.get(step);
    for (let b = 0; b < this.r.batch; b++) {
      const L = i !== undefined ? this.limitAt(b, i) : null;
      for (const [m, v] of L ? [[L.mE, L.vE], [L.mI, L.vI]] : []) {
        if (Number.isFinite(m) && Number.isFinite(v)) {
          lo = Math.min(lo, m - 5 * Math.sqrt(v));
          hi = Math.max(hi, m + 5 * Math.sqrt(v));
        }
      }
    }
    return Number.isFinite(lo) && hi > lo ? [lo, hi] : [-5, 5];
  }

  private async snapshot(step: number): Promise<void> {
    const [min, max] = this.rangeAt(step);
    const bins = this.r.histogramBins;
    this.snapshots.push({ t: step * this.r.dt, step, bins, min, max, counts: await this.sim.histogramU(bins, min, max), ...(this.r.keepSnapshotStates ? { state: await this.sim.readState() } : {}) });
  }

  async result(): Promise<HybridResult> {
    if (this.disposed) throw new ParameterError('runner', 'is disposed', 'read the result before dispose()');
    const t0 = performance.now();
    const finalState = await this.sim.readState();
    this.wallMs += performance.now() - t0;
    // The limit at the last sample time reached (the final time once the run is complete).
    let last = 0;
    for (let i = 0; i < this.sampleSteps.length && this.sampleSteps[i] <= this.done; i++) last = i;
    const avg = (src: HybridState, k: number, f: (x: number) => number = (x) => x): HybridState => ({
      mE: k > 0 ? f(src.mE / k) : NaN, mI: k > 0 ? f(src.mI / k) : NaN, vE: k > 0 ? f(src.vE / k) : NaN, vI: k > 0 ? f(src.vI / k) : NaN,
      nuE: k > 0 ? f(src.nuE / k) : NaN, nuI: k > 0 ? f(src.nuI / k) : NaN, X: k > 0 ? f(src.X / k) : NaN,
    });
    const instances: HybridInstanceResult[] = this.r.params.map((p, b) => ({
      index: b,
      params: p,
      sim: avg(this.acc[b].sum, this.acc[b].k),
      limit: this.limitAt(b, last),
      rmsError: avg(this.acc[b].sq, this.acc[b].kErr, Math.sqrt),
      blowup: this.blowups[b],
      c0: this.limits[b].c0 ?? null,
    }));
    return {
      instances,
      averagedSteps: this.acc.map((a) => a.k),
      timeseries: { columns: ['t', 'instance', ...hybridColumns, ...hybridColumns.map(limitName)], rows: this.rows.slice() },
      snapshots: this.snapshots.slice(),
      finalState,
      wallSeconds: this.wallMs / 1000,
    };
  }

  async readState(): Promise<Float32Array> {
    if (this.disposed) throw new ParameterError('runner', 'is disposed', 'read the state before dispose()');
    return this.sim.readState();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sim.dispose();
  }
}

/** A run's result with its resolved form. */
export type HybridRunResult = HybridResult & { resolved: HybridRun };

/** A whole run and its resolved form (reproductions and tests): resolve, create the runner, run every step, read the result. */
export async function runHybrid(request: RunRequest, target: RunTarget, extras: HybridExtras = {}, onProgress?: (done: number, total: number) => void): Promise<HybridRunResult> {
  const r = resolveHybridRun(request, extras);
  const runner = await HybridRunner.create(r, target);
  try {
    await runner.run(r.steps, { onProgress });
    return { ...(await runner.result()), resolved: r };
  } finally {
    runner.dispose();
  }
}
