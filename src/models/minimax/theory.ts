// Theory of the minimax E-I networks (docs/models/minimax-spiking.md): the predicted rates as the KKT point of
// min_{rE>=0} max_{rI>=0} S, well-posedness tests, local stability of a KKT point, and the grid kernel's Fourier peak.
//
// KKT conditions as a linear complementarity problem (LCP). With z = [rE; rI] and w = -[V_E; V_I]:
//   z >= 0, w = M z + q >= 0, z . w = 0,   M = [[-W_EE, W_EI], [-W_IE, W_II]],   q = [-F xbar + thE; thI],
// since V_E = W_EE rE - W_EI rI + F xbar - thE = -dS/drE and V_I = W_IE rE - W_II rI - thI = dS/drI (W_IE = W_EI^T).
// M is not monotone (-W_EE is indefinite), so the solver is Lemke's complementary pivoting (finite; it can stop on a
// secondary ray for non-copositive M), then an exact active-set finish: the support S of the pivoting answer is
// solved exactly, M_SS z_S = -q_S by LU with one step of iterative refinement, and re-chosen by the primal-dual
// active-set rule S = {i : z_i > w_i} (semismooth Newton on min(z, w) = 0) until the KKT conditions hold. When
// pivoting fails, a projected gradient descent (E) / ascent (I, faster) warm start feeds the same finish.
// Rates are in trace units (filtered spike trains): Hz = r / tau.
import { ConfigError, ParameterError } from '../../errors.ts';
import type { MinimaxNetwork } from './network.ts';

// ---------------------------------------------------------------- small dense linear algebra (row-major, f64)

interface Lu {
  k: number;
  lu: Float64Array;
  piv: Int32Array;
}

/** LU with partial pivoting of a k x k matrix (copied); null when a pivot falls below 1e-14 of the largest entry. */
function luFactor(A: Float64Array, k: number): Lu | null {
  const lu = A.slice(0, k * k);
  const piv = new Int32Array(k);
  let scale = 0;
  for (let i = 0; i < lu.length; i++) scale = Math.max(scale, Math.abs(lu[i]));
  if (!(scale > 0) && k > 0) return null;
  for (let c = 0; c < k; c++) {
    let p = c;
    for (let r = c + 1; r < k; r++) if (Math.abs(lu[r * k + c]) > Math.abs(lu[p * k + c])) p = r;
    if (!(Math.abs(lu[p * k + c]) > 1e-14 * scale)) return null;
    piv[c] = p;
    if (p !== c) {
      for (let j = 0; j < k; j++) {
        const t = lu[c * k + j];
        lu[c * k + j] = lu[p * k + j];
        lu[p * k + j] = t;
      }
    }
    const d = lu[c * k + c];
    for (let r = c + 1; r < k; r++) {
      const f = (lu[r * k + c] /= d);
      if (f === 0) continue;
      for (let j = c + 1; j < k; j++) lu[r * k + j] -= f * lu[c * k + j];
    }
  }
  return { k, lu, piv };
}

/** Solves (LU) x = b in place. */
function luSolveInPlace(f: Lu, b: Float64Array): void {
  const { k, lu, piv } = f;
  // Whole rows (multipliers included) were swapped while factoring, so P b comes first, then L y = P b.
  for (let c = 0; c < k; c++) {
    const p = piv[c];
    if (p !== c) {
      const t = b[c];
      b[c] = b[p];
      b[p] = t;
    }
  }
  for (let c = 0; c < k; c++) {
    const v = b[c];
    if (v !== 0) for (let r = c + 1; r < k; r++) b[r] -= lu[r * k + c] * v;
  }
  for (let r = k - 1; r >= 0; r--) {
    let s = b[r];
    for (let j = r + 1; j < k; j++) s -= lu[r * k + j] * b[j];
    b[r] = s / lu[r * k + r];
  }
}

/** Solves A x = b (A k x k row-major) by LU with one step of iterative refinement; null when A is (near) singular. */
export function solveDense(A: Float64Array, b: Float64Array): Float64Array | null {
  const k = b.length;
  const f = luFactor(A, k);
  if (!f) return null;
  const x = b.slice();
  luSolveInPlace(f, x);
  const r = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    let s = b[i];
    for (let j = 0; j < k; j++) s -= A[i * k + j] * x[j];
    r[i] = s;
  }
  luSolveInPlace(f, r);
  for (let i = 0; i < k; i++) x[i] += r[i];
  return x.every(Number.isFinite) ? x : null;
}

/**
 * Eigenvalues (ascending) of the symmetric part (A + A^T)/2 of an n x n matrix by the cyclic Jacobi method: exact
 * rotations until the off-diagonal mass is below 1e-30 of the total. O(n^3) per sweep, a handful of sweeps.
 */
export function symmetricEigenvalues(A: Float64Array, n: number): Float64Array {
  const a = new Float64Array(n * n);
  let total = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) {
      const v = 0.5 * (A[i * n + j] + A[j * n + i]);
      a[i * n + j] = v;
      total += v * v;
    }
  }
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < n; p++) for (let q = p + 1; q < n; q++) off += 2 * a[p * n + q] * a[p * n + q];
    if (!(off > 1e-30 * total)) break;
    for (let p = 0; p < n - 1; p++) {
      for (let q = p + 1; q < n; q++) {
        const apq = a[p * n + q];
        if (apq === 0) continue;
        // Rotation angle phi with cot(2 phi) = (a_qq - a_pp) / (2 a_pq); the smaller root t = tan(phi) is the stable one.
        const theta = (a[q * n + q] - a[p * n + p]) / (2 * apq);
        const t = (theta >= 0 ? 1 : -1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < n; k++) {
          const akp = a[k * n + p];
          const akq = a[k * n + q];
          a[k * n + p] = c * akp - s * akq;
          a[k * n + q] = s * akp + c * akq;
        }
        for (let k = 0; k < n; k++) {
          const apk = a[p * n + k];
          const aqk = a[q * n + k];
          a[p * n + k] = c * apk - s * aqk;
          a[q * n + k] = s * apk + c * aqk;
        }
        a[p * n + q] = 0;
        a[q * n + p] = 0;
      }
    }
  }
  const ev = new Float64Array(n);
  for (let i = 0; i < n; i++) ev[i] = a[i * n + i];
  return ev.sort();
}

// ---------------------------------------------------------------- the linear complementarity problem

export type LcpMethod = 'trivial' | 'lemke' | 'active-set' | 'gda+active-set';

export interface LcpSolution {
  z: Float64Array;
  /** w = M z + q. */
  w: Float64Array;
  method: LcpMethod;
  /** Pivots plus active-set iterations plus warm-start sweeps. */
  iterations: number;
}

export interface LcpOptions {
  /** Start the active-set finish (then the warm start) from here instead of pivoting: picks the KKT point near it when there are several. */
  start?: ArrayLike<number>;
  /** Lemke pivot budget (default 50 n). */
  maxPivots?: number;
  /** Active-set iterations per attempt (default 100). */
  maxActiveSet?: number;
  /** Projected descent-ascent sweeps of the fallback warm start (default 5000). */
  gdaIterations?: number;
  /** Indices >= slowBelow are the fast (I) block of the warm start; default: none is slower. */
  slowBelow?: number;
}

function mulAdd(M: Float64Array, z: Float64Array, q: Float64Array): Float64Array {
  const n = q.length;
  const w = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = q[i];
    for (let j = 0; j < n; j++) if (z[j] !== 0) s += M[i * n + j] * z[j];
    w[i] = s;
  }
  return w;
}

const maxAbs = (a: ArrayLike<number>): number => {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
};

/** Lemke's complementary pivoting with covering vector 1 on the tableau [I, -M, -1 | q]; null on a secondary ray or when out of pivots. */
function lemke(M: Float64Array, q: Float64Array, maxPivots: number): { z: Float64Array; pivots: number } | null {
  const n = q.length;
  const width = 2 * n + 1;
  const z0 = 2 * n;
  const T = new Float64Array(n * width);
  const rhs = q.slice();
  const basis = new Int32Array(n);
  for (let i = 0; i < n; i++) {
    T[i * width + i] = 1;
    for (let j = 0; j < n; j++) T[i * width + n + j] = -M[i * n + j];
    T[i * width + z0] = -1;
    basis[i] = i;
  }
  const pivot = (r: number, c: number): void => {
    const row = r * width;
    const p = T[row + c];
    for (let j = 0; j < width; j++) T[row + j] /= p;
    rhs[r] /= p;
    for (let i = 0; i < n; i++) {
      if (i === r) continue;
      const f = T[i * width + c];
      if (f === 0) continue;
      const o = i * width;
      for (let j = 0; j < width; j++) T[o + j] -= f * T[row + j];
      T[o + c] = 0;
      rhs[i] -= f * rhs[r];
    }
  };
  // Variables: 0..n-1 are w, n..2n-1 are z, 2n is the artificial z0; w_i and z_i are complements.
  const complement = (v: number): number => (v < n ? v + n : v - n);
  let r = 0;
  for (let i = 1; i < n; i++) if (q[i] < q[r]) r = i;
  pivot(r, z0);
  let entering = complement(basis[r]);
  basis[r] = z0;
  for (let pivots = 1; pivots <= maxPivots; pivots++) {
    let colMax = 0;
    for (let i = 0; i < n; i++) colMax = Math.max(colMax, Math.abs(T[i * width + entering]));
    const eps = 1e-11 * colMax;
    let best = -1;
    let bestRatio = Infinity;
    for (let i = 0; i < n; i++) {
      const a = T[i * width + entering];
      if (!(a > eps)) continue;
      const ratio = Math.max(rhs[i], 0) / a;
      const tie = Math.abs(ratio - bestRatio) <= 1e-12 * Math.max(1, Math.abs(bestRatio));
      // Ties: leave with z0 when possible (that ends the path), else with the largest pivot element.
      if (best < 0 || (!tie && ratio < bestRatio) || (tie && (basis[i] === z0 || (basis[best] !== z0 && a > T[best * width + entering])))) {
        best = i;
        bestRatio = ratio;
      }
    }
    if (best < 0) return null;
    const leaving = basis[best];
    pivot(best, entering);
    basis[best] = entering;
    if (leaving === z0) {
      const z = new Float64Array(n);
      for (let i = 0; i < n; i++) if (basis[i] >= n && basis[i] < z0) z[basis[i] - n] = Math.max(rhs[i], 0);
      return { z, pivots };
    }
    entering = complement(leaving);
  }
  return null;
}

/**
 * Primal-dual active set (semismooth Newton on min(z, w) = 0): S = {i : z_i > w_i}, z = 0 off S and w = 0 on S solved
 * exactly, repeated until z_S >= 0 and w >= 0 off S (to rounding). Null when a support repeats (a cycle) or is singular.
 */
function activeSet(M: Float64Array, q: Float64Array, start: Float64Array, maxIter: number): { z: Float64Array; iterations: number } | null {
  const n = q.length;
  let z = start.slice();
  let w = mulAdd(M, z, q);
  const mScale = maxAbs(M);
  const seen = new Set<string>();
  for (let it = 1; it <= maxIter; it++) {
    const S: number[] = [];
    for (let i = 0; i < n; i++) if (z[i] > w[i]) S.push(i);
    const key = S.join(',');
    if (seen.has(key)) return null;
    seen.add(key);
    const k = S.length;
    const A = new Float64Array(k * k);
    const b = new Float64Array(k);
    for (let a = 0; a < k; a++) {
      b[a] = -q[S[a]];
      for (let c = 0; c < k; c++) A[a * k + c] = M[S[a] * n + S[c]];
    }
    const zS = k ? solveDense(A, b) : b;
    if (!zS) return null;
    z = new Float64Array(n);
    for (let a = 0; a < k; a++) z[S[a]] = zS[a];
    w = mulAdd(M, z, q);
    const zTol = 1e-12 * Math.max(1, maxAbs(z));
    const wTol = 1e-12 * Math.max(1, maxAbs(q), mScale * maxAbs(z));
    let ok = true;
    for (let a = 0; a < k && ok; a++) if (zS[a] < -zTol) ok = false;
    if (ok) {
      const inS = new Uint8Array(n);
      for (const i of S) inS[i] = 1;
      for (let i = 0; i < n && ok; i++) if (!inS[i] && w[i] < -wTol) ok = false;
    }
    if (ok) {
      // Degenerate components (z_i ~ -1e-16) are set to 0: that moves w by rounding only.
      for (let i = 0; i < n; i++) if (z[i] < 0) z[i] = 0;
      return { z, iterations: it };
    }
  }
  return null;
}

/** Projected descent-ascent z <- [z - eta w]_+ with per-row steps 1/sum_j |M_ij|, the slow block (i < slowBelow) 5x slower. */
function descentAscent(M: Float64Array, q: Float64Array, start: Float64Array, iterations: number, slowBelow: number): Float64Array {
  const n = q.length;
  const eta = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += Math.abs(M[i * n + j]);
    eta[i] = (s > 0 ? 1 / s : 1) * (i < slowBelow ? 0.2 : 1);
  }
  let z = start.slice();
  for (let it = 0; it < iterations; it++) {
    const w = mulAdd(M, z, q);
    const next = Float64Array.from(z, (v, i) => Math.max(0, v - eta[i] * w[i]));
    // A diverging flow (no KKT point, or a saddle it cannot find) stops at its last finite state.
    if (!next.every(Number.isFinite)) break;
    z = next;
  }
  return z;
}

/**
 * Solves the LCP z >= 0, w = M z + q >= 0, z . w = 0 (M n x n row-major): Lemke + exact active-set finish, or from
 * options.start; falls back to a descent-ascent warm start. Returns null (with the reasons) when every attempt fails.
 */
export function solveLcp(M: Float64Array, q: Float64Array, options: LcpOptions = {}): { solution: LcpSolution | null; failures: string[] } {
  const n = q.length;
  const maxActive = options.maxActiveSet ?? 100;
  const failures: string[] = [];
  const done = (z: Float64Array, method: LcpMethod, iterations: number) => ({ solution: { z, w: mulAdd(M, z, q), method, iterations }, failures });
  let start: Float64Array;
  let spent = 0;
  if (options.start) {
    start = Float64Array.from(options.start, (v) => Math.max(0, v));
  } else {
    if (n === 0 || Math.min(...q) >= 0) return done(new Float64Array(n), 'trivial', 0);
    const maxPivots = options.maxPivots ?? 50 * n;
    const lk = lemke(M, q, maxPivots);
    if (lk) {
      spent = lk.pivots;
      const fin = activeSet(M, q, lk.z, maxActive);
      if (fin) return done(fin.z, 'lemke', lk.pivots + fin.iterations);
      failures.push(`Lemke ended after ${lk.pivots} pivots but its support did not solve exactly (active set cycled or singular)`);
    } else {
      spent = maxPivots;
      failures.push(`Lemke's pivoting stopped on a secondary ray or ran out of ${maxPivots} pivots (M is not copositive-plus)`);
    }
    start = new Float64Array(n);
  }
  if (options.start) {
    const fin = activeSet(M, q, start, maxActive);
    if (fin) return done(fin.z, 'active-set', fin.iterations);
    failures.push('the active-set iteration from the given start cycled or met a singular support');
  }
  const iters = options.gdaIterations ?? 5000;
  const warm = descentAscent(M, q, start, iters, options.slowBelow ?? 0);
  const fin = activeSet(M, q, warm, maxActive);
  if (fin) return done(fin.z, 'gda+active-set', spent + iters + fin.iterations);
  failures.push(`the active-set finish after ${iters} projected descent-ascent sweeps cycled or met a singular support`);
  return { solution: null, failures };
}

// ---------------------------------------------------------------- KKT points of the minimax problem

function need(ok: boolean, field: string, problem: string, fix: string): void {
  if (!ok) throw new ParameterError(field, problem, fix);
}

function checkShapes(net: MinimaxNetwork, field: string): void {
  const { nE, nI, nIn } = net;
  need(Number.isInteger(nE) && nE >= 1 && Number.isInteger(nI) && nI >= 1 && Number.isInteger(nIn) && nIn >= 1, field, `sizes nE = ${nE}, nI = ${nI}, nIn = ${nIn}`, 'use integers >= 1');
  const blocks: [string, Float64Array, number][] = [['wEE', net.wEE, nE * nE], ['wEI', net.wEI, nE * nI], ['wIE', net.wIE, nI * nE], ['wII', net.wII, nI * nI], ['F', net.F, nE * nIn]];
  for (const [name, a, len] of blocks) need(a instanceof Float64Array && a.length === len, `${field}.${name}`, `has length ${a?.length}, expected ${len}`, 'give a row-major [post][pre] Float64Array');
  if (net.thE) need(net.thE.length === nE, `${field}.thE`, `has length ${net.thE.length}`, `give nE = ${nE} values`);
  if (net.thI) need(net.thI.length === nI, `${field}.thI`, `has length ${net.thI.length}`, `give nI = ${nI} values`);
}

/** The KKT residual of (rE, rI): primal = max(-r)+, dual = max(V)+, complementarity = max |r V|, residual = their max. */
export interface KktReport {
  residual: number;
  primal: number;
  dual: number;
  complementarity: number;
  vE: Float64Array;
  vI: Float64Array;
}

/** The membrane potentials V_E = W_EE rE - W_EI rI + F xbar - thE and V_I = W_IE rE - W_II rI - thI. */
function minimaxPotentials(net: MinimaxNetwork, xbar: ArrayLike<number>, rE: ArrayLike<number>, rI: ArrayLike<number>): { vE: Float64Array; vI: Float64Array } {
  const { nE, nI, nIn } = net;
  const vE = new Float64Array(nE);
  const vI = new Float64Array(nI);
  for (let i = 0; i < nE; i++) {
    let s = -(net.thE?.[i] ?? 0);
    for (let j = 0; j < nE; j++) s += net.wEE[i * nE + j] * rE[j];
    for (let j = 0; j < nI; j++) s -= net.wEI[i * nI + j] * rI[j];
    for (let k = 0; k < nIn; k++) s += net.F[i * nIn + k] * xbar[k];
    vE[i] = s;
  }
  for (let i = 0; i < nI; i++) {
    let s = -(net.thI?.[i] ?? 0);
    for (let j = 0; j < nE; j++) s += net.wIE[i * nE + j] * rE[j];
    for (let j = 0; j < nI; j++) s -= net.wII[i * nI + j] * rI[j];
    vI[i] = s;
  }
  return { vE, vI };
}

/** KKT residual of a candidate point (rates in trace units, xbar the mean filtered input): r >= 0, V <= 0, r V = 0. */
export function kktResidualAt(net: MinimaxNetwork, xbar: ArrayLike<number>, rE: ArrayLike<number>, rI: ArrayLike<number>): KktReport {
  const { vE, vI } = minimaxPotentials(net, xbar, rE, rI);
  let primal = 0;
  let dual = 0;
  let complementarity = 0;
  const add = (r: number, v: number) => {
    primal = Math.max(primal, -r);
    dual = Math.max(dual, v);
    complementarity = Math.max(complementarity, Math.abs(r * v));
  };
  for (let i = 0; i < net.nE; i++) add(rE[i], vE[i]);
  for (let i = 0; i < net.nI; i++) add(rI[i], vI[i]);
  return { residual: Math.max(primal, dual, complementarity), primal, dual, complementarity, vE, vI };
}

export interface MinimaxRatesOptions extends Pick<LcpOptions, 'maxPivots' | 'maxActiveSet' | 'gdaIterations'> {
  /** Look for the KKT point near this state (attractor networks have several): active set from here, no pivoting. */
  start?: { rE: ArrayLike<number>; rI: ArrayLike<number> };
  /**
   * Largest accepted KKT residual; default 1e-11 max(1, s)^2 with s = max(|F xbar - thE|, |thI|, |r|) (the scale of V and r),
   * about 100x the f64 rounding of an exact support solve.
   */
  tolerance?: number;
}

export interface MinimaxRates extends KktReport {
  /** Rates in trace units (Hz = r / tau). */
  rE: Float64Array;
  rI: Float64Array;
  method: LcpMethod;
  iterations: number;
  /** Active neurons (r > 0). */
  supportE: number[];
  supportI: number[];
  /** The tolerance the residual was accepted under. */
  tolerance: number;
}

/** The LCP data (M, q) of a network at mean input xbar, z = [rE; rI]. */
function minimaxLcp(net: MinimaxNetwork, xbar: ArrayLike<number>): { M: Float64Array; q: Float64Array } {
  const { nE, nI, nIn } = net;
  const n = nE + nI;
  const M = new Float64Array(n * n);
  const q = new Float64Array(n);
  for (let i = 0; i < nE; i++) {
    for (let j = 0; j < nE; j++) M[i * n + j] = -net.wEE[i * nE + j];
    for (let j = 0; j < nI; j++) M[i * n + nE + j] = net.wEI[i * nI + j];
    let s = net.thE?.[i] ?? 0;
    for (let k = 0; k < nIn; k++) s -= net.F[i * nIn + k] * xbar[k];
    q[i] = s;
  }
  for (let i = 0; i < nI; i++) {
    const row = (nE + i) * n;
    for (let j = 0; j < nE; j++) M[row + j] = -net.wIE[i * nE + j];
    for (let j = 0; j < nI; j++) M[row + nE + j] = net.wII[i * nI + j];
    q[nE + i] = net.thI?.[i] ?? 0;
  }
  return { M, q };
}

/**
 * The predicted rates: the KKT point of min_{rE>=0} max_{rI>=0} S at mean filtered input xbar (length nIn, trace units),
 * found exactly (see the file header). Throws ParameterError for bad input, ConfigError when no KKT point is found.
 * Dense: O(n^2) memory and O(n^2) per pivot for n = nE + nI; meant for n up to about a thousand.
 */
export function solveMinimaxRates(net: MinimaxNetwork, xbar: ArrayLike<number>, options: MinimaxRatesOptions = {}): MinimaxRates {
  checkShapes(net, 'net');
  const { nE, nI } = net;
  need(xbar.length === net.nIn, 'xbar', `has length ${xbar.length}, expected nIn = ${net.nIn}`, 'give the mean filtered input of every input channel (rate x tau_x)');
  for (let k = 0; k < xbar.length; k++) need(Number.isFinite(xbar[k]), 'xbar', `entry ${k} is ${xbar[k]}`, 'use finite inputs');
  let start: Float64Array | undefined;
  if (options.start) {
    const { rE, rI } = options.start;
    need(rE.length === nE && rI.length === nI, 'options.start', `has lengths ${rE.length}/${rI.length}, expected ${nE}/${nI}`, 'give rE (nE) and rI (nI)');
    start = new Float64Array(nE + nI);
    start.set(Array.from(rE), 0);
    start.set(Array.from(rI), nE);
  }
  const { M, q } = minimaxLcp(net, xbar);
  const { solution, failures } = solveLcp(M, q, { ...options, start, slowBelow: nE });
  const fail = (what: string) =>
    new ConfigError(
      `solveMinimaxRates: no KKT point found for the network (nE = ${nE}, nI = ${nI}): ${what}`,
      'check the network with checkMinimaxWellPosed(net) (W_II > 0 and W_EI W_II^-1 W_IE - W_EE > 0 make the problem convex-concave); ' +
        'for attractor networks pass options.start near the state of interest',
    );
  if (!solution) throw fail(failures.join('; '));
  const rE = solution.z.slice(0, nE);
  const rI = solution.z.slice(nE);
  const rep = kktResidualAt(net, xbar, rE, rI);
  const s = Math.max(1, maxAbs(q), maxAbs(solution.z));
  const tolerance = options.tolerance ?? 1e-11 * s * s;
  if (!(rep.residual <= tolerance)) throw fail(`the ${solution.method} answer has KKT residual ${rep.residual.toExponential(3)} > ${tolerance.toExponential(3)}`);
  const supportE: number[] = [];
  const supportI: number[] = [];
  rE.forEach((v, i) => v > 0 && supportE.push(i));
  rI.forEach((v, i) => v > 0 && supportI.push(i));
  return { ...rep, rE, rI, method: solution.method, iterations: solution.iterations, supportE, supportI, tolerance };
}

// ---------------------------------------------------------------- local stability of a KKT point

export interface KktStability {
  supportE: number[];
  supportI: number[];
  /** min over silent E neurons of -V_E (> 0: strictly complementary); Infinity when all are active. */
  offSupportMarginE: number;
  offSupportMarginI: number;
  /** Smallest active rate (trace units) of each population; Infinity when none is active. */
  minRateE: number;
  minRateI: number;
  /** Smallest eigenvalue of the reduced E Hessian on the support, sym(W_EI,ST W_II,TT^-1 W_IE,TS - W_EE,SS). */
  reducedHessianMinEig: number;
  /** Strict complementarity off the support and a positive definite reduced Hessian: a strict local minimax point. */
  stable: boolean;
}

/**
 * Local stability of a KKT point (rE, rI): with the active sets S (E) and T (I) fixed, rI_T follows rE_S through
 * W_II,TT rI_T = W_IE,TS rE_S and the E objective restricted to S has Hessian W_EI,ST W_II,TT^-1 W_IE,TS - W_EE,SS; a
 * strict local min of it with every silent neuron strictly below threshold (V < 0) is a locally stable attractor.
 * `supportTol`: r > supportTol counts as active (default 1e-12 max(1, max r)).
 */
export function stabilityAt(net: MinimaxNetwork, xbar: ArrayLike<number>, rE: ArrayLike<number>, rI: ArrayLike<number>, supportTol?: number): KktStability {
  const { nE, nI } = net;
  const { vE, vI } = minimaxPotentials(net, xbar, rE, rI);
  const tol = supportTol ?? 1e-12 * Math.max(1, maxAbs(rE), maxAbs(rI));
  const S: number[] = [];
  const T: number[] = [];
  let offE = Infinity;
  let offI = Infinity;
  let minE = Infinity;
  let minI = Infinity;
  for (let i = 0; i < nE; i++) {
    if (rE[i] > tol) {
      S.push(i);
      minE = Math.min(minE, rE[i]);
    } else offE = Math.min(offE, 0 - vE[i]); // 0 - v: no -0 for v = 0
  }
  for (let i = 0; i < nI; i++) {
    if (rI[i] > tol) {
      T.push(i);
      minI = Math.min(minI, rI[i]);
    } else offI = Math.min(offI, 0 - vI[i]);
  }
  const k = S.length;
  const m = T.length;
  let hMin = Infinity;
  if (k > 0) {
    const H = new Float64Array(k * k);
    if (m > 0) {
      const Wtt = new Float64Array(m * m);
      for (let a = 0; a < m; a++) for (let b = 0; b < m; b++) Wtt[a * m + b] = net.wII[T[a] * nI + T[b]];
      const f = luFactor(Wtt, m);
      if (!f) throw new ParameterError('net.wII', `its block on the active I neurons (${m} of them) is singular`, 'make W_II positive definite');
      const col = new Float64Array(m);
      for (let c = 0; c < k; c++) {
        for (let a = 0; a < m; a++) col[a] = net.wIE[T[a] * nE + S[c]];
        luSolveInPlace(f, col);
        for (let r = 0; r < k; r++) {
          let s = 0;
          for (let a = 0; a < m; a++) s += net.wEI[S[r] * nI + T[a]] * col[a];
          H[r * k + c] = s;
        }
      }
    }
    for (let r = 0; r < k; r++) for (let c = 0; c < k; c++) H[r * k + c] -= net.wEE[S[r] * nE + S[c]];
    hMin = symmetricEigenvalues(H, k)[0];
  }
  return {
    supportE: S,
    supportI: T,
    offSupportMarginE: offE,
    offSupportMarginI: offI,
    minRateE: minE,
    minRateI: minI,
    reducedHessianMinEig: hMin,
    stable: offE > 0 && offI > 0 && hMin > 0,
  };
}

// ---------------------------------------------------------------- well-posedness

export interface WellPosedReport {
  wiiPositiveDefinite: boolean;
  /** W_EI W_II^-1 W_IE - W_EE > 0 (NaN eigenvalue and false when W_II is not positive definite). */
  reducedPositiveDefinite: boolean;
  minEigWII: number;
  minEigReduced: number;
  /** How definiteness was tested. */
  method: string;
  message: string;
}

/** Largest n for the dense O(n^3) eigenvalue tests. */
const MAX_DENSE = 1500;

const isDiagonal = (A: Float64Array, n: number): boolean => {
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) if (i !== j && A[i * n + j] !== 0) return false;
  return true;
};

function minEigWii(net: MinimaxNetwork): number {
  const n = net.nI;
  if (isDiagonal(net.wII, n)) {
    let m = Infinity;
    for (let i = 0; i < n; i++) m = Math.min(m, net.wII[i * n + i]);
    return m;
  }
  need(n <= MAX_DENSE, 'net.nI', `${n} is too large for the dense eigenvalue test`, `use nI <= ${MAX_DENSE} or a diagonal W_II`);
  return symmetricEigenvalues(net.wII, n)[0];
}

/** Positive definite in the quadratic-form sense, with a relative floor against rounding. */
const positive = (minEig: number, scale: number) => minEig > 1e-12 * Math.max(scale, 1e-300);

/**
 * The spec's well-posedness conditions W_II > 0 and W_EI W_II^-1 W_IE - W_EE > 0, both as quadratic forms (x'Ax > 0):
 * the smallest eigenvalue of the symmetric part (A + A^T)/2 by cyclic Jacobi (a diagonal W_II is read directly).
 * Violating the second makes the E problem non-convex with several KKT points: intended for attractor networks
 * (Figs. 3-4), so it is reported, not thrown. Dense O(n^3): nE, nI <= 1500 (for the grid use gridPredictedWavelength).
 */
export function checkMinimaxWellPosed(net: MinimaxNetwork): WellPosedReport {
  checkShapes(net, 'net');
  const { nE, nI } = net;
  const method = 'smallest eigenvalue of the symmetric part (cyclic Jacobi; a diagonal W_II read directly), positive above 1e-12 of the largest |entry|';
  const minEigWII = minEigWii(net);
  const wiiPositiveDefinite = positive(minEigWII, maxAbs(net.wII));
  if (!wiiPositiveDefinite) {
    return {
      wiiPositiveDefinite, reducedPositiveDefinite: false, minEigWII, minEigReduced: NaN, method,
      message: `W_II is not positive definite (smallest eigenvalue of its symmetric part ${minEigWII.toPrecision(4)}): the inner max over r_I is unbounded or not unique, so the minimax problem is ill-posed`,
    };
  }
  need(nE <= MAX_DENSE, 'net.nE', `${nE} is too large for the dense eigenvalue test`, `use nE <= ${MAX_DENSE}; for the grid network gridPredictedWavelength(...).reducedMinEig gives the answer (circulant blocks)`);
  // X = W_II^-1 W_IE (nI x nE), then R = W_EI X - W_EE.
  const X = net.wIE.slice();
  if (isDiagonal(net.wII, nI)) {
    for (let i = 0; i < nI; i++) for (let j = 0; j < nE; j++) X[i * nE + j] /= net.wII[i * nI + i];
  } else {
    const f = luFactor(net.wII, nI);
    if (!f) throw new ParameterError('net.wII', 'is singular', 'make W_II positive definite');
    const col = new Float64Array(nI);
    for (let j = 0; j < nE; j++) {
      for (let i = 0; i < nI; i++) col[i] = X[i * nE + j];
      luSolveInPlace(f, col);
      for (let i = 0; i < nI; i++) X[i * nE + j] = col[i];
    }
  }
  const R = new Float64Array(nE * nE);
  for (let i = 0; i < nE; i++) {
    for (let k = 0; k < nI; k++) {
      const a = net.wEI[i * nI + k];
      if (a === 0) continue;
      for (let j = 0; j < nE; j++) R[i * nE + j] += a * X[k * nE + j];
    }
    for (let j = 0; j < nE; j++) R[i * nE + j] -= net.wEE[i * nE + j];
  }
  const minEigReduced = symmetricEigenvalues(R, nE)[0];
  const reducedPositiveDefinite = positive(minEigReduced, maxAbs(R));
  const message = reducedPositiveDefinite
    ? `well posed: W_II > 0 (min eigenvalue ${minEigWII.toPrecision(4)}) and W_EI W_II^-1 W_IE - W_EE > 0 (min eigenvalue ${minEigReduced.toPrecision(4)}): convex-concave, one KKT point`
    : `W_EI W_II^-1 W_IE - W_EE is not positive definite (min eigenvalue ${minEigReduced.toPrecision(4)}): the E problem is non-convex and may have several KKT points ` +
      '(intended for attractor networks; elsewhere strengthen inhibition or weaken W_EE)';
  return { wiiPositiveDefinite, reducedPositiveDefinite, minEigWII, minEigReduced, method, message };
}

/** Throws ParameterError naming `${field}.wII` when W_II is not positive definite (the I problem must be strictly concave). */
export function assertMinimaxWellPosed(net: MinimaxNetwork, field = 'network'): void {
  checkShapes(net, field);
  const m = minEigWii(net);
  if (!positive(m, maxAbs(net.wII))) {
    throw new ParameterError(
      `${field}.wII`,
      `W_II is not positive definite (smallest eigenvalue of its symmetric part ${m.toPrecision(4)})`,
      'make W_II positive definite, e.g. strengthen its diagonal (the I reset) until it dominates the off-diagonal I-I weights',
    );
  }
}

// ---------------------------------------------------------------- grid kernel

export interface GridKernelParams {
  /** Lattice sites per side of the periodic sheet. */
  side: number;
  lambda: number;
  alpha: number;
  /** beta = 3 / lambda^2, gamma = gammaRatio beta. */
  beta: number;
  gamma: number;
}

/** The grid kernel's parameters (spec defaults side 63, lambda 6, alpha 1.1, gamma = 1.2 beta). */
export function gridKernelParams(opts: { side?: number; lambda?: number; alpha?: number; gammaRatio?: number } = {}): GridKernelParams {
  const { side = 63, lambda = 6, alpha = 1.1, gammaRatio = 1.2 } = opts;
  need(Number.isInteger(side) && side >= 3, 'side', `${side} is not an integer >= 3`, 'use e.g. 63');
  need(Number.isFinite(lambda) && lambda > 0, 'lambda', `${lambda} is not > 0`, 'use e.g. 6');
  need(Number.isFinite(alpha) && alpha > 0, 'alpha', `${alpha} is not > 0`, 'use e.g. 1.1');
  need(Number.isFinite(gammaRatio) && gammaRatio > 1, 'gammaRatio', `${gammaRatio} is not > 1`, 'the excitatory Gaussian must be narrower: use e.g. 1.2');
  const beta = 3 / (lambda * lambda);
  return { side, lambda, alpha, beta, gamma: gammaRatio * beta };
}

/** Torus distance of two coordinates in [0, side). */
export const torusDelta = (a: number, b: number, side: number): number => {
  const d = Math.abs(a - b) % side;
  return Math.min(d, side - d);
};

/** K(d^2) = alpha exp(-gamma d^2) - exp(-beta d^2). */
export const gridKernel = (p: GridKernelParams, d2: number): number => p.alpha * Math.exp(-p.gamma * d2) - Math.exp(-p.beta * d2);

/** The kernel as a function of the lattice offset: row[dy side + dx] = K(t(dx)^2 + t(dy)^2), t the torus distance. */
export function gridKernelRow(p: GridKernelParams): Float64Array {
  const { side } = p;
  const row = new Float64Array(side * side);
  for (let dy = 0; dy < side; dy++) {
    const ty = torusDelta(dy, 0, side);
    for (let dx = 0; dx < side; dx++) {
      const tx = torusDelta(dx, 0, side);
      row[dy * side + dx] = gridKernel(p, tx * tx + ty * ty);
    }
  }
  return row;
}

export interface GridWavelength extends GridKernelParams {
  /** Continuous plane: |k| (rad/site) maximising the kernel's 2-D Fourier transform, and 2 pi / |k| in sites (Infinity when the peak is at k = 0). */
  continuousK: number;
  continuousWavelengthSites: number;
  /** Torus: the integer wave vectors (p, q) (signed, |p|, |q| <= side/2) where the DFT of the kernel row is largest. */
  latticeWaveVectors: [number, number][];
  /** |k| = 2 pi sqrt(p^2 + q^2) / side and the wavelength side / sqrt(p^2 + q^2) in sites. */
  latticeK: number;
  latticeWavelengthSites: number;
  /** The DFT maximum: the largest eigenvalue of the circulant kernel matrix K. */
  kernelPeak: number;
  /** Smallest eigenvalue of I - K = W_EI W_II^-1 W_IE - W_EE for the grid network (negative: non-convex, as intended). */
  reducedMinEig: number;
}

/**
 * Predicted grid wavelength. Continuous plane: the 2-D Fourier transform of exp(-c d^2) is (pi/c) exp(-k^2/(4c)), so
 * K^(k) is proportional to (alpha/gamma) exp(-u/(4 gamma)) - (1/beta) exp(-u/(4 beta)) with u = k^2; dK^/du = 0 gives
 *   u* = 4 beta gamma ln(gamma^2 / (alpha beta^2)) / (gamma - beta)
 * (the single interior stationary point, a maximum, when gamma > beta and gamma^2 > alpha beta^2; else the peak is k = 0).
 * Torus: each Gaussian of the kernel row is separable in the torus offsets, so its DFT is alpha g_gamma(p) g_gamma(q) -
 * g_beta(p) g_beta(q) with g_c(p) = sum_d exp(-c t(d)^2) cos(2 pi p d / side) (the sine parts cancel: t(d) = t(side - d)).
 * Its maximum over all (p, q) (k = 0 included; the grid network's uniform |min K| 11' term sits at k = 0 only) is the
 * lattice prediction; the wave vectors within 1e-12 of the maximum are listed.
 */
export function gridPredictedWavelength(opts: { side?: number; lambda?: number; alpha?: number; gammaRatio?: number } = {}): GridWavelength {
  const p = gridKernelParams(opts);
  const { side, alpha, beta, gamma } = p;
  const logArg = Math.log((gamma * gamma) / (alpha * beta * beta));
  const continuousK = logArg > 0 ? Math.sqrt((4 * beta * gamma * logArg) / (gamma - beta)) : 0;
  const g = (c: number) =>
    Float64Array.from({ length: side }, (_, f) => {
      let s = 0;
      for (let d = 0; d < side; d++) {
        const t = torusDelta(d, 0, side);
        s += Math.exp(-c * t * t) * Math.cos((2 * Math.PI * f * d) / side);
      }
      return s;
    });
  const gG = g(gamma);
  const gB = g(beta);
  const dft = new Float64Array(side * side);
  let peak = -Infinity;
  for (let a = 0; a < side; a++) {
    for (let b = 0; b < side; b++) {
      const v = alpha * gG[a] * gG[b] - gB[a] * gB[b];
      dft[b * side + a] = v;
      peak = Math.max(peak, v);
    }
  }
  const signed = (f: number) => (f > side / 2 ? f - side : f);
  const latticeWaveVectors: [number, number][] = [];
  for (let b = 0; b < side; b++) for (let a = 0; a < side; a++) if (dft[b * side + a] >= peak - 1e-12 * Math.abs(peak)) latticeWaveVectors.push([signed(a), signed(b)]);
  const [p0, q0] = latticeWaveVectors[0];
  const norm = Math.hypot(p0, q0);
  return {
    ...p,
    continuousK,
    continuousWavelengthSites: continuousK > 0 ? (2 * Math.PI) / continuousK : Infinity,
    latticeWaveVectors,
    latticeK: (2 * Math.PI * norm) / side,
    latticeWavelengthSites: norm > 0 ? side / norm : Infinity,
    kernelPeak: peak,
    reducedMinEig: 1 - peak,
  };
}
