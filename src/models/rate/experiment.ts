// The rate model's runs: resolve a request, estimate it, the direct game/stability analysis of a circuit, and the
// Runner that integrates the circuit from many initial states at once (the same runner on the CPU reference and WebGPU).
import { ParameterError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { type Backend, type ResolvedRun, type RunControl, type Runner, type RunOptionSupport, type RunRequest, type RunTarget } from '../../core/contract.ts';
import { checkRequest, resolveSeed } from '../../core/request.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import { formatCount, maxSteps, resolveSteps, rowHeapBytes, type MemoryItem, type RunEstimate, type StepPlan } from '../../core/limits.ts';
import { rngCreate, rngUniform } from '../../rng/index.ts';
import { rateParameters, makeRateCircuit } from './params.ts';
import type { Circuit } from './circuit.ts';
import { RateCpuIntegrator, type RateBatch, type RateBatchResult, type RateIntegrator } from './integrate-cpu.ts';
import { RateGpuIntegrator } from './webgpu-integrator.ts';
import { RateWasmIntegrator, rateWasmSecondsPerStep, rateWasmThreads, wasmRateBytes } from './wasm-integrator.ts';
import {
  classifyWilsonCowan, contrast, contrastGainTheory, eigenvalues, isPMatrix, jacobian, ldsTest, nashResidual, solveEquilibrium, stabilityMatrix,
  type ContrastRegime, type LdsResult, type NashReport, type WilsonCowanRegime,
} from './analysis.ts';

/** What rate takes of a request, and what to use instead of the rest. */
export const rateOptions: RunOptionSupport = {
  takes: ['T', 'dt'],
  instead: {
    n: 'the circuit sets its cells: --set circuit=wilson-cowan|lateral|column, channels=..., layers=...',
    steps: 'give --T (in units of tau) and optionally --dt; the steps are T / dt',
    batch: 'the batch is the set of initial states: --set initial=K',
    recordSpikes: 'rate circuits have no spikes; timeseries.csv samples every trajectory about 400 times',
    recordTraces: 'timeseries.csv samples every trajectory about 400 times; there is no trace recorder',
    traceEvery: 'timeseries.csv samples every trajectory about 400 times; there is no trace recorder',
    recordEvery: 'timeseries.csv samples every trajectory about 400 times (steps / 400)',
  },
};

/** A resolved rate run: one circuit integrated from `batch` initial states (the instances). */
export interface RateResolved extends ResolvedRun {
  n: number;
  dt: number;
  /** config.json: the circuit the parameters describe, and the sampling interval of timeseries.csv. */
  options: { sampleEvery: number; W: number[]; u: number[]; tau: number[]; labels: string[] };
  base: ParamValues;
  circuit: Circuit;
  method: 'euler' | 'rk4';
  stepsFlag: string;
}

/**
 * Steps and dt of a rate run whose time constants span [tauMin, tauMax]: defaults dt = 0.01 min tau and T = 60 max tau,
 * T a whole number of steps (see resolveSteps), at least 2 steps, dt below every tau.
 */
export function resolveRateSteps(o: { T?: number; dt?: number }, tauMin: number, tauMax: number): StepPlan {
  if (o.T === undefined && o.dt === undefined && (60 * tauMax) / (0.01 * tauMin) > maxSteps) {
    const fmt = (x: number) => Number(x.toPrecision(4));
    const steps = (60 * tauMax) / (0.01 * tauMin);
    throw new ParameterError('--T', `T / dt = ${fmt(60 * tauMax)} / ${fmt(0.01 * tauMin)} = ${steps.toExponential(3)} steps exceeds 2^32 - 1 (the defaults T = 60 max tau and dt = 0.01 min tau, with tau from ${fmt(tauMin)} to ${fmt(tauMax)})`, `use --T <= ${fmt(maxSteps * 0.01 * tauMin)} at this dt, a larger --dt (below min tau = ${fmt(tauMin)}), or bring tauE and tauI closer`);
  }
  const plan = resolveSteps({ model: 'rate', T: o.T, dt: o.dt, dtDefault: 0.01 * tauMin, defaultT: 60 * tauMax, minSteps: 2, unit: '' });
  if (!(plan.dt > 0) || plan.dt >= tauMin) throw new ParameterError('--dt', `${plan.dt} must be in (0, min tau = ${tauMin})`, `use --dt ${0.01 * tauMin}`);
  return plan;
}

/** timeseries.csv samples every trajectory about 400 times. */
export function rateSampleEvery(steps: number): number {
  return Math.max(1, Math.floor(steps / 400));
}

/** Validates a request once: options, parameters, the circuit, steps (T / dt whole) and sampling. */
export function resolveRate(request: RunRequest): RateResolved {
  checkRequest('rate', rateOptions, request);
  const p = resolveParams('rate', rateParameters, { ...request.params });
  const c = makeRateCircuit(p);
  const plan = resolveRateSteps(request, Math.min(...c.tau), Math.max(...c.tau));
  const { dt, steps } = plan;
  const { seed, key } = resolveSeed(request.seed);
  const count = p.initial as number;
  return {
    model: 'rate',
    n: c.n,
    batch: count,
    steps,
    dt,
    seed,
    key,
    params: Array.from({ length: count }, () => p),
    dtAdjusted: plan.dtAdjusted,
    neuronsPerStep: c.n * count,
    options: { sampleEvery: rateSampleEvery(steps), W: Array.from(c.W), u: Array.from(c.u), tau: Array.from(c.tau), labels: c.labels },
    base: p,
    circuit: c,
    method: p.method as 'euler' | 'rk4',
    stepsFlag: request.T !== undefined ? '--T' : '--dt',
  };
}

/**
 * What a rate run needs: B = initial circuits of n cells, about 400 samples of each trajectory, the timeseries table.
 * Rough constants from bench/results on a 2-core machine: (rk4 ? 4 : 1) x (n^2 + 2n) multiply-adds per circuit-step at
 * ~7e7/s on the CPU reference and ~1.5e7/s on SwiftShader, the wasm kernel at rateWasmSecondsPerStep on one thread; a
 * hardware GPU is assumed at ~1e10/s.
 */
export function estimateRate(r: RateResolved, target: RunTarget): RunEstimate {
  const { batch: B, steps, n } = r;
  const S = Math.floor(steps / r.options.sampleEvery) + 1;
  const init = ['--set initial'];
  const memory: MemoryItem[] = [
    { what: 'circuit weights (f32)', bytes: B * n * n * 4, place: 'host', options: init, elements: B * n * n },
    { what: 'sampled trajectories', bytes: S * B * n * 4, place: 'host', options: init, elements: S * B * n },
    { what: 'time series rows', bytes: S * B * rowHeapBytes(2 + n), place: 'heap', options: init },
  ];
  if (target.backend === 'wasm') memory.push({ what: 'wasm memory (circuit weights, inputs, states, sample rows)', bytes: wasmRateBytes(B, n, S - 1, 1), place: 'host', options: init });
  if (target.backend === 'webgpu') {
    memory.push(
      { what: 'GPU circuit weights', bytes: B * n * n * 4, place: 'device', options: init, binding: true },
      { what: 'GPU sample rows (one chunk)', bytes: Math.min(32 << 20, S * B * n * 4), place: 'device', options: init, binding: true },
    );
  }
  const units = steps * B * (r.method === 'rk4' ? 4 : 1) * (n * n + 2 * n);
  return {
    model: 'rate',
    size: `${formatCount(B)} circuits of ${n} cells x ${formatCount(steps)} steps`,
    memory,
    outputs: [
      { file: 'timeseries.csv', rows: S * B, bytes: S * B * (2 + n) * 12, options: init },
      { file: 'summary.json', rows: B, bytes: B * n * 50 + 1e5, options: init },
    ],
    work: { units, unit: 'multiply-adds', seconds: { cpu: units / 7e7, 'webgpu-software': units / 1.5e7, 'webgpu-hardware': units / 1e10, wasm: steps * B * rateWasmSecondsPerStep(n, r.method === 'rk4') }, options: [r.stepsFlag, '--set initial'] },
  };
}

/** Worker threads of the wasm backend when the user names none (groups of sixteen circuits are split over them). */
export function rateThreadsOf(r: RateResolved): number {
  return rateWasmThreads(r.batch, r.n, r.steps, r.method === 'rk4');
}

/**
 * Initial states: 0 for the first, then uniform in [0, scale] per cell from the RNG (stream 200). The step word of the
 * counter is `instance`: 0 for `ei run`, the sweep index in a sweep (so a sweep's row 0 starts where `ei run` does).
 */
export function makeInitialStates(n: number, count: number, scale: number, key: readonly [number, number], instance = 0): Float32Array {
  const x0 = new Float32Array(n * count);
  for (let k = 1; k < count; k++) {
    for (let i = 0; i < n; i++) x0[k * n + i] = scale * rngUniform(rngCreate(key, 200, instance, k, i));
  }
  return x0;
}

/** The scale of the random initial states of a circuit: 2 max(1, |u|). */
export function initialScale(c: Circuit): number {
  return 2 * Math.max(1, ...Array.from(c.u).map(Math.abs));
}

/** An incremental integrator of a batch on a target (the caller owns the context; threads: wasm only). */
export async function createRateIntegrator(batch: RateBatch, backend: Backend, ctx?: GpuContext | null, threads?: number): Promise<RateIntegrator> {
  if (backend === 'cpu') return new RateCpuIntegrator(batch);
  if (backend === 'wasm') return RateWasmIntegrator.create(batch, threads);
  if (!ctx) throw new Error('createRateIntegrator: the webgpu backend needs a GpuContext');
  return RateGpuIntegrator.create(ctx, batch);
}

/** Integrates a batch on the target in one go (the reproductions' phase diagrams of many circuits). */
export async function integrateRateBatch(batch: RateBatch, target: RunTarget, onProgress?: (d: number, t: number) => void): Promise<RateBatchResult> {
  const t0 = performance.now();
  const it = await createRateIntegrator(batch, target.backend, target.ctx, target.threads);
  try {
    await it.run(batch.steps, { onProgress });
    const final = await it.readState();
    return { final, samples: it.samples, sampleSteps: [...it.sampleSteps], wallSeconds: (performance.now() - t0) / 1000, backend: it.backend };
  } finally {
    it.dispose();
  }
}

/** Sub-matrix I - W for the P-matrix check. */
function iMinusW(c: Circuit): Float64Array {
  const M = new Float64Array(c.n * c.n);
  for (let i = 0; i < c.n; i++) for (let j = 0; j < c.n; j++) M[i * c.n + j] = (i === j ? 1 : 0) - c.W[i * c.n + j];
  return M;
}

export interface RateOutcome {
  /** x(T) of each initial state. */
  finals: number[][];
  /** Largest |x(T) - x(T - window)| per initial state: ~0 when it converged. */
  drift: number[];
  converged: boolean[];
}

/** Pure: convergence of `count` trajectories from their final states and the states one window earlier (null: none). */
export function makeOutcomeFrom(final: Float32Array, prev: Float32Array | null, n: number, count: number): RateOutcome {
  const finals: number[][] = [];
  const drift: number[] = [];
  for (let k = 0; k < count; k++) {
    const f = Array.from(final.subarray(k * n, (k + 1) * n));
    finals.push(f);
    let d = 0;
    if (prev) {
      const q = prev.subarray(k * n, (k + 1) * n);
      for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(f[i] - q[i]));
    }
    drift.push(d);
  }
  const scale = Math.max(1, ...finals.flat().map(Math.abs));
  return { finals, drift, converged: drift.map((d) => Number.isFinite(d) && d < 1e-4 * scale) };
}

/** Pure: convergence of each trajectory from the last two sample rows. */
export function makeOutcome(r: Pick<RateBatchResult, 'final' | 'samples' | 'sampleSteps'>, n: number, count: number): RateOutcome {
  const rows = r.sampleSteps.length;
  const prev = r.samples && rows >= 2 ? r.samples.subarray((rows - 2) * count * n, (rows - 1) * count * n) : null;
  return makeOutcomeFrom(r.final, prev, n, count);
}

export interface RateEquilibrium {
  x: number[];
  stable: boolean;
  eigenvalues: [number, number][];
  nashResidual: number;
}

/** The direct analysis of a circuit next to where its trajectory from x0 = 0 ended. */
export interface RateAnalysis {
  /** Every equilibrium solved (LCP / Nash), with its stability. */
  equilibria: RateEquilibrium[];
  solver: string;
  /** The solved equilibrium nearest to where the trajectory from x0 = 0 ended (undefined when none was solved). */
  best: RateEquilibrium | undefined;
  lds: LdsResult;
  /** I - W is a P-matrix (undefined above 16 cells: 2^n minors). */
  isPMatrix: boolean | undefined;
  nashSimulated: NashReport;
  circuit: string;
  /** wilson-cowan: classifyWilsonCowan; lateral and column: the contrast-gain theory. */
  regime: WilsonCowanRegime | ContrastRegime;
  regimeReason?: string;
  /** lateral and column only. */
  contrast?: {
    cIn: number;
    gainTheory: number;
    /** Output contrast of the x0 = 0 trajectory's end (column: of the last layer). */
    cOut: number;
    cOutTheory?: number;
    perLayer?: number[];
    perLayerTheory?: number[];
  };
}

function dist(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}

/** Pure: equilibria (LCP / Nash), their stability, LDS of T^-1 (W - I), P-matrix of I - W, regime and contrasts. */
export function analyseRate(c: Circuit, p: ParamValues, f0: number[]): RateAnalysis {
  const eq = solveEquilibrium(c);
  const equilibria = eq.solutions.map((x): RateEquilibrium => {
    const ev = eigenvalues(jacobian(c, x));
    return { x: Array.from(x), stable: ev.every((e) => e.re < 0), eigenvalues: ev.map((e): [number, number] => [e.re, e.im]), nashResidual: nashResidual(c, x).residual };
  });
  let best = equilibria[0];
  for (const e of equilibria) if (dist(e.x, f0) < dist(best?.x ?? f0, f0)) best = e;
  const a: RateAnalysis = {
    equilibria,
    solver: eq.method,
    best,
    lds: ldsTest(stabilityMatrix(c)),
    isPMatrix: c.n <= 16 ? isPMatrix(iMinusW(c)) : undefined,
    nashSimulated: nashResidual(c, f0),
    circuit: String(p.circuit),
    regime: 'unique-stable',
  };
  if (p.circuit === 'wilson-cowan') {
    const cls = classifyWilsonCowan(c);
    a.regime = cls.regime;
    a.regimeReason = cls.reason;
    return a;
  }
  const cIn = p.contrast as number;
  const ch = p.channels as number;
  const th = contrastGainTheory({ wEE: p.wEE as number, wIE: p.wIE as number, wEI: p.wEI as number, wII: p.wII as number, channels: ch }, cIn);
  a.regime = th.regime;
  if (p.circuit === 'lateral') {
    a.contrast = { cIn, gainTheory: th.gain, cOut: contrast(f0[0], f0[1]), cOutTheory: th.cOut };
  } else {
    const layers = p.layers as number;
    const per = Array.from({ length: layers }, (_, l) => contrast(f0[l * 2 * ch], f0[l * 2 * ch + 1]));
    a.contrast = { cIn, gainTheory: th.gain, cOut: per[layers - 1], perLayer: per, perLayerTheory: Array.from({ length: layers }, (_, l) => Math.max(-1, Math.min(1, th.gain ** (l + 1) * cIn))) };
  }
  return a;
}

/** Pure: summary.json's rate fields (the writer adds model, backend, n, batch, steps, dt, T, seed and timing). */
function makeRateSummary(p: ParamValues, c: Circuit, a: RateAnalysis, outcome: RateOutcome): Record<string, unknown> {
  const best = a.best;
  const s: Record<string, unknown> = {
    circuit: p.circuit,
    labels: c.labels,
    method: p.method,
    // No equilibrium solved, or n too large for the P-matrix test: the field is absent, not null.
    ...(best ? { equilibrium: best.x } : {}),
    ...(best ? { nashResidual: best.nashResidual } : {}),
    nashResidualSimulated: a.nashSimulated.residual,
    nashNote: a.nashSimulated.explanation,
    ldsMargin: a.lds.margin,
    isLDS: a.lds.isLDS,
    ldsP: Array.from(a.lds.P),
    ...(a.isPMatrix !== undefined ? { isPMatrix: a.isPMatrix } : {}),
    ...(best ? { eigenvalues: best.eigenvalues } : {}),
    equilibria: a.equilibria,
    solver: a.solver,
    simulated: { finals: outcome.finals, drift: outcome.drift, converged: outcome.converged },
    regime: a.regime,
  };
  if (a.regimeReason !== undefined) s.regimeReason = a.regimeReason;
  if (a.contrast) {
    s.contrastIn = a.contrast.cIn;
    s.contrastGainTheory = a.contrast.gainTheory;
    if (a.contrast.perLayer) {
      s.contrastPerLayer = a.contrast.perLayer;
      s.contrastOut = a.contrast.cOut;
      s.contrastPerLayerTheory = a.contrast.perLayerTheory;
    } else {
      s.contrastOut = a.contrast.cOut;
      s.contrastOutTheory = a.contrast.cOutTheory;
    }
  }
  return s;
}

export interface RateResult {
  params: ParamValues;
  circuit: Circuit;
  dt: number;
  /** Steps integrated (stepsDone of the runner). */
  steps: number;
  /** Initial states (the instances). */
  initial: number;
  /** B x n states after `steps` steps. */
  final: Float32Array;
  /** Samples of every trajectory at sampleSteps: S x B x n. */
  samples: Float32Array;
  sampleSteps: number[];
  outcome: RateOutcome;
  analysis: RateAnalysis;
  /** summary.json's rate fields. */
  summary: Record<string, unknown>;
}

/** The sample rows that became available during a run() call's chunk: rows x B x n states at sampleSteps. */
export interface RateChunk {
  firstRow: number;
  sampleSteps: number[];
  samples: Float32Array;
  stepsDone: number;
}

/** Integrates one circuit from its initial states over any number of run() calls; the analysis comes with result(). */
export class RateRunner implements Runner<RateResult, RateChunk> {
  readonly stepsTotal: number;
  private rowsEmitted = 0;
  private disposed = false;

  private constructor(private readonly r: RateResolved, private readonly it: RateIntegrator) {
    this.stepsTotal = r.steps;
  }

  static async create(r: RateResolved, target: RunTarget): Promise<RateRunner> {
    const c = r.circuit;
    const x0 = makeInitialStates(c.n, r.batch, initialScale(c), r.key);
    const batch: RateBatch = { circuits: Array.from({ length: r.batch }, () => c), x0, dt: r.dt, steps: r.steps, method: r.method, sampleEvery: r.options.sampleEvery };
    return new RateRunner(r, await createRateIntegrator(batch, target.backend, target.ctx, target.threads));
  }

  get backend(): Backend {
    return this.it.backend;
  }

  get stepsDone(): number {
    return this.it.stepsDone;
  }

  get threads(): number | undefined {
    return this.it.backend === 'wasm' ? this.it.threads : undefined;
  }

  /** Sample rows on the host: those at steps <= stepsDone. */
  private rowsReady(): number {
    return Math.floor(this.it.stepsDone / this.r.options.sampleEvery) + 1;
  }

  async run(steps: number, control: RunControl<RateChunk> = {}): Promise<void> {
    if (this.disposed) throw new ParameterError('runner', 'is disposed', 'create a new simulation');
    const onChunk = control.onChunk;
    await this.it.run(steps, {
      signal: control.signal,
      onProgress: (done, total) => {
        control.onProgress?.(done, total);
        if (onChunk) this.emit(onChunk, this.it.backend !== 'webgpu');
      },
    });
    if (onChunk) this.emit(onChunk, true);
  }

  /** Hands the rows not handed out yet to onChunk (the GPU's rows are on the host at the end of a run() call, the CPU's and wasm's after each chunk). */
  private emit(onChunk: (c: RateChunk) => void, ready: boolean): void {
    if (!ready) return;
    const rows = this.rowsReady();
    if (rows <= this.rowsEmitted || !this.it.samples) return;
    const rowSize = this.r.batch * this.r.n;
    const first = this.rowsEmitted;
    this.rowsEmitted = rows;
    onChunk({ firstRow: first, sampleSteps: this.it.sampleSteps.slice(first, rows), samples: this.it.samples.slice(first * rowSize, rows * rowSize), stepsDone: this.it.stepsDone });
  }

  async result(): Promise<RateResult> {
    const { r } = this;
    const c = r.circuit;
    const p = r.base;
    const final = await this.it.readState();
    const rows = this.rowsReady();
    const samples = this.it.samples!.slice(0, rows * r.batch * r.n);
    const sampleSteps = this.it.sampleSteps.slice(0, rows);
    const outcome = makeOutcome({ final, samples, sampleSteps }, c.n, r.batch);
    const analysis = analyseRate(c, p, outcome.finals[0]);
    return { params: p, circuit: c, dt: r.dt, steps: this.it.stepsDone, initial: r.batch, final, samples, sampleSteps, outcome, analysis, summary: makeRateSummary(p, c, analysis, outcome) };
  }

  readState(): Promise<Float32Array> {
    return this.it.readState();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.it.dispose();
  }
}
