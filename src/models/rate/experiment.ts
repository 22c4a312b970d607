// Runs an E-I rate circuit: direct game/stability analysis next to batched integration from many initial states.
import { ParameterError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import { rateParameters, makeRateCircuit } from './params.ts';
import type { Circuit } from './circuit.ts';
import { integrateRateBatchCpu, type RateBatch, type RateBatchResult } from './integrate-cpu.ts';
import { integrateRateBatchGpu } from './webgpu-integrator.ts';
import {
  classifyWilsonCowan, contrast, contrastGainTheory, eigenvalues, isPMatrix, jacobian, ldsTest, nashResidual, solveEquilibrium, stabilityMatrix,
} from './analysis.ts';
import { rngCreate, rngUniform, seedToKey } from '../../rng/index.ts';
import { checkMemory, formatCount, machineLimits, maxSteps, resolveSteps, rowHeapBytes, type MemoryItem, type RunEstimate } from '../../core/limits.ts';

/** Integrates a batch on the chosen backend. */
export async function integrateRateBatch(batch: RateBatch, backend: 'cpu' | 'webgpu', ctx?: GpuContext, onProgress?: (d: number, t: number) => void): Promise<RateBatchResult> {
  if (backend === 'cpu') return integrateRateBatchCpu(batch, onProgress);
  if (!ctx) throw new Error('integrateRateBatch: the webgpu backend needs a GpuContext');
  return integrateRateBatchGpu(ctx, batch, onProgress);
}

/** Initial states: 0 for the first, then uniform in [0, scale] per neuron from the RNG (stream 200). */
export function makeInitialStates(n: number, count: number, scale: number, seed: number): Float32Array {
  const key = seedToKey(seed);
  const x0 = new Float32Array(n * count);
  for (let k = 1; k < count; k++) {
    for (let i = 0; i < n; i++) x0[k * n + i] = scale * rngUniform(rngCreate(key, 200, 0, k, i));
  }
  return x0;
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

export interface RateExperimentResult {
  params: ParamValues;
  circuit: Circuit;
  dt: number;
  steps: number;
  summary: Record<string, unknown>;
  timeseries: { columns: string[]; rows: number[][] };
  wallSeconds: number;
}

/** Pure: convergence of each trajectory from the last two sample rows. */
export function makeOutcome(r: RateBatchResult, n: number, count: number): RateOutcome {
  const finals: number[][] = [];
  const drift: number[] = [];
  const rows = r.sampleSteps.length;
  for (let k = 0; k < count; k++) {
    const f = Array.from(r.final.subarray(k * n, (k + 1) * n));
    finals.push(f);
    let d = 0;
    if (r.samples && rows >= 2) {
      const prev = r.samples.subarray(((rows - 2) * count + k) * n, ((rows - 2) * count + k + 1) * n);
      for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(f[i] - prev[i]));
    }
    drift.push(d);
  }
  const scale = Math.max(1, ...finals.flat().map(Math.abs));
  return { finals, drift, converged: drift.map((d) => Number.isFinite(d) && d < 1e-4 * scale) };
}

/** Validates and resolves a rate run: parameters, circuit, step count (T / dt whole, see resolveSteps) and sampling. */
export function resolveRate(o: { set?: Record<string, string | number>; T?: number; dt?: number; seed?: number }) {
  const p = resolveParams('rate', rateParameters, o.set ?? {});
  const c = makeRateCircuit(p);
  const tauMin = Math.min(...c.tau);
  const tauMax = Math.max(...c.tau);
  if (o.T === undefined && o.dt === undefined && (60 * tauMax) / (0.01 * tauMin) > maxSteps) {
    const fmt = (x: number) => Number(x.toPrecision(4));
    const steps = (60 * tauMax) / (0.01 * tauMin);
    throw new ParameterError('--T', `T / dt = ${fmt(60 * tauMax)} / ${fmt(0.01 * tauMin)} = ${steps.toExponential(3)} steps exceeds 2^32 - 1 (the defaults T = 60 max tau and dt = 0.01 min tau, with tau from ${fmt(tauMin)} to ${fmt(tauMax)})`, `use --T <= ${fmt(maxSteps * 0.01 * tauMin)} at this dt, a larger --dt (below min tau = ${fmt(tauMin)}), or bring tauE and tauI closer`);
  }
  const plan = resolveSteps({ model: 'rate', T: o.T, dt: o.dt, dtDefault: 0.01 * tauMin, defaultT: 60 * tauMax, minSteps: 2, unit: '' });
  const { dt, steps } = plan;
  if (!(dt > 0) || dt >= tauMin) throw new ParameterError('--dt', `${dt} must be in (0, min tau = ${tauMin})`, `use --dt ${0.01 * tauMin}`);
  const count = p.initial as number;
  const sampleEvery = Math.max(1, Math.floor(steps / 400));
  return { p, c, dt, steps, count, sampleEvery, seed: o.seed ?? 1, dtAdjusted: plan.dtAdjusted, stepsFlag: o.T !== undefined ? '--T' : '--dt' };
}

/**
 * What a rate run needs: B = initial circuits of n cells, about 400 samples of each trajectory, the timeseries table.
 * Rough constants from bench/results on a 2-core machine: (rk4 ? 4 : 1) x (n^2 + 2n) multiply-adds per circuit-step at
 * ~7e7/s on the CPU reference and ~1.5e7/s on SwiftShader; a hardware GPU is assumed at ~1e10/s.
 */
export function estimateRateRun(r: ReturnType<typeof resolveRate>, o: { backend: 'cpu' | 'webgpu' }): RunEstimate {
  const { count: B, steps, sampleEvery } = r;
  const n = r.c.n;
  const S = Math.floor(steps / sampleEvery) + 1;
  const init = ['--set initial'];
  const memory: MemoryItem[] = [
    { what: 'circuit weights (f32)', bytes: B * n * n * 4, place: 'host', options: init, elements: B * n * n },
    { what: 'sampled trajectories', bytes: S * B * n * 4, place: 'host', options: init, elements: S * B * n },
    { what: 'time series rows', bytes: S * B * rowHeapBytes(2 + n), place: 'heap', options: init },
  ];
  if (o.backend === 'webgpu') {
    memory.push(
      { what: 'GPU circuit weights', bytes: B * n * n * 4, place: 'device', options: init, binding: true },
      { what: 'GPU sample rows (one chunk)', bytes: Math.min(32 << 20, S * B * n * 4), place: 'device', options: init, binding: true },
    );
  }
  const units = steps * B * (r.p.method === 'rk4' ? 4 : 1) * (n * n + 2 * n);
  return {
    model: 'rate',
    size: `${formatCount(B)} circuits of ${n} cells x ${formatCount(steps)} steps`,
    memory,
    outputs: [
      { file: 'timeseries.csv', rows: S * B, bytes: S * B * (2 + n) * 12, options: init },
      { file: 'summary.json', rows: B, bytes: B * n * 50 + 1e5, options: init },
    ],
    work: { units, unit: 'multiply-adds', seconds: { cpu: units / 7e7, 'webgpu-software': units / 1.5e7, 'webgpu-hardware': units / 1e10 }, options: [r.stepsFlag, '--set initial'] },
  };
}

export async function runRateExperiment(o: { set?: Record<string, string | number>; T?: number; dt?: number; seed?: number; backend: 'cpu' | 'webgpu'; ctx?: GpuContext; onProgress?: (d: number, t: number) => void }): Promise<RateExperimentResult> {
  const rr = resolveRate(o);
  checkMemory(estimateRateRun(rr, { backend: o.backend }), o.backend, machineLimits(o.ctx));
  const { p, c, dt, steps, count, seed, sampleEvery } = rr;
  const uScale = 2 * Math.max(1, ...Array.from(c.u).map(Math.abs));
  const x0 = makeInitialStates(c.n, count, uScale, seed);
  const batch: RateBatch = { circuits: Array.from({ length: count }, () => c), x0, dt, steps, method: p.method as 'euler' | 'rk4', sampleEvery };
  const t0 = performance.now();
  const r = await integrateRateBatch(batch, o.backend, o.ctx, o.onProgress);
  const wallSeconds = (performance.now() - t0) / 1000;
  const outcome = makeOutcome(r, c.n, count);

  // Direct analysis: equilibria (LCP / Nash), their stability, LDS of T^-1 (W - I), P-matrix of I - W.
  const eq = solveEquilibrium(c);
  const equilibria = eq.solutions.map((x) => {
    const ev = eigenvalues(jacobian(c, x));
    return { x: Array.from(x), stable: ev.every((e) => e.re < 0), eigenvalues: ev.map((e) => [e.re, e.im]), nashResidual: nashResidual(c, x).residual };
  });
  // The reported equilibrium: the solved one nearest to where the trajectory from x0 = 0 ended.
  const f0 = outcome.finals[0];
  let best = equilibria[0];
  for (const e of equilibria) if (dist(e.x, f0) < dist(best?.x ?? f0, f0)) best = e;
  const lds = ldsTest(stabilityMatrix(c));
  const nashSim = nashResidual(c, f0);
  const summary: Record<string, unknown> = {
    model: 'rate',
    circuit: p.circuit,
    backend: o.backend,
    n: c.n,
    labels: c.labels,
    dt,
    steps,
    T: steps * dt,
    method: p.method,
    // No equilibrium solved, or n too large for the P-matrix test: the field is absent, not null.
    ...(best ? { equilibrium: best.x } : {}),
    ...(best ? { nashResidual: best.nashResidual } : {}),
    nashResidualSimulated: nashSim.residual,
    nashNote: nashSim.explanation,
    ldsMargin: lds.margin,
    isLDS: lds.isLDS,
    ldsP: Array.from(lds.P),
    ...(c.n <= 16 ? { isPMatrix: isPMatrix(iMinusW(c)) } : {}),
    ...(best ? { eigenvalues: best.eigenvalues } : {}),
    equilibria,
    solver: eq.method,
    simulated: { finals: outcome.finals, drift: outcome.drift, converged: outcome.converged },
    regime: null as string | null,
    wallSeconds,
  };
  if (p.circuit === 'wilson-cowan') {
    const cls = classifyWilsonCowan(c);
    summary.regime = cls.regime;
    summary.regimeReason = cls.reason;
  } else {
    const cIn = p.contrast as number;
    const th = contrastGainTheory({ wEE: p.wEE as number, wIE: p.wIE as number, wEI: p.wEI as number, wII: p.wII as number, channels: p.channels as number }, cIn);
    const ch = p.channels as number;
    summary.regime = th.regime;
    summary.contrastIn = cIn;
    summary.contrastGainTheory = th.gain;
    if (p.circuit === 'lateral') {
      summary.contrastOut = contrast(f0[0], f0[1]);
      summary.contrastOutTheory = th.cOut;
    } else {
      const layers = p.layers as number;
      const per = Array.from({ length: layers }, (_, l) => contrast(f0[l * 2 * ch], f0[l * 2 * ch + 1]));
      summary.contrastPerLayer = per;
      summary.contrastOut = per[layers - 1];
      summary.contrastPerLayerTheory = Array.from({ length: layers }, (_, l) => Math.max(-1, Math.min(1, th.gain ** (l + 1) * cIn)));
    }
  }
  const rows: number[][] = [];
  if (r.samples) {
    r.sampleSteps.forEach((s, row) => {
      for (let k = 0; k < count; k++) rows.push([s * dt, k, ...Array.from(r.samples!.subarray((row * count + k) * c.n, (row * count + k + 1) * c.n))]);
    });
  }
  return { params: p, circuit: c, dt, steps, summary, timeseries: { columns: ['t', 'initial', ...c.labels], rows }, wallSeconds };
}

function dist(a: number[], b: number[]): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += (a[i] - b[i]) ** 2;
  return Math.sqrt(s);
}
