// Analytic reference for binary E-I networks: annealed Markov chain on the active count, exact all-to-all chain on (m_E, m_I),
// Shannon entropy of the stationary distribution and robustness of the entropy peak.
// Model: a reconstruction of Agrawal et al., arXiv 1804.05266 (Chaos 28, 103115, 2018) from its abstract only, following the
// same group's earlier binary-network work (see docs/models/binary-entropy.md). Transfer, drive (p0) and in-degree are
// parameters; nothing here is taken from the paper's text beyond what the abstract fixes.
//
// Chain on m = number of active neurons (annealed: each neuron redraws its k inputs every step, so inputs are independent
// Bernoulli(S = m/N) and shared-input correlations are ignored):
//   p(S) = p0 + (1 - p0) sum_a sum_b Bin(a; kE, S) Bin(b; kI, S) sigma((WE a - WI b) / k),  kE = round((1 - alpha) k), kI = k - kE
//   T[m, m'] = Bin(m'; N, p(m / N)),  pi T = pi,  H = -sum pi log2 pi  (0 <= H <= log2(N + 1)).
// Absorption: with the default sigma(x) = min(1, max(0, x)) and lambda >= 1, x = lambda at S = 1, so p(1) = 1 and m = N is an
// absorbing state: the exact stationary distribution is then a point mass at N (H = 0, mean activity 1), even though the
// transient can be very long. Near lambda ~ 1 with tiny p0 the chain is nearly absorbing and mixes slowly, so power iteration
// stalls; GTH elimination (no subtractions, every quantity a sum of non-negative terms) solves it to relative accuracy ~1e-15.
import type { BinaryParams } from './network.ts';
import { ParameterError } from '../../errors.ts';
import { logGamma } from '../../analysis/stats.ts';

/** Parameters of the binary E-I network. `transfer` defaults to sigma(x) = min(1, max(0, x)). */
/** The network's parameters (src/models/binary/network.ts) plus an optional transfer function. */
export type BinaryChainParams = Omit<BinaryParams, 'connectivity'> & {
  /** transfer sigma(x) mapping the summed input to an activation probability in [0, 1]; default min(1, max(0, x)) */
  transfer?: (x: number) => number;
};

export type ChainMethod = 'gth' | 'power' | 'power-unconverged';

export interface AnnealedChainOptions {
  /** 'auto' (default): GTH if N <= 1500, else power iteration with GTH as fallback up to N = 4000 */
  method?: 'auto' | 'gth' | 'power';
  /** power iteration stops when the L1 change per step is below this (default 1e-14) */
  tol?: number;
  /** power iteration cap (default 20000) */
  maxIter?: number;
}

export interface AnnealedChainResult {
  /** stationary distribution over m = 0..N */
  pi: Float64Array;
  /** Shannon entropy of pi in bits */
  entropyBits: number;
  /** E[m] / N */
  meanActivity: number;
  /** how pi was obtained; 'power-unconverged' when power iteration hit maxIter and no GTH fallback was made (method 'power', or N > 4000; see residual) */
  method: ChainMethod;
  /** || pi T - pi ||_1 */
  residual: number;
}

export interface AllToAllChainResult {
  /** stationary distribution over (mE, mI), index mE * (NI + 1) + mI */
  pi: Float64Array;
  NE: number;
  NI: number;
  /** entropy (bits) of the distribution of m = mE + mI */
  entropyBitsOfCount: number;
  /** E[mE + mI] / N */
  meanActivity: number;
  method: ChainMethod;
}

export interface RobustnessResult {
  peakLambda: number;
  peakH: number;
  /** lambda-width of the connected region around the peak with H >= 0.5 peakH (clipped at the ends of the curve) */
  width50: number;
  /** same with 0.9 peakH */
  width90: number;
}

const clipTransfer = (x: number): number => Math.min(1, Math.max(0, x));
const TINY = 1e-300;
const GTH_MAX_N = 1500;
/** Largest N for the GTH fallback after unconverged power iteration (4000: ~20 s, 128 MB). */
const GTH_FALLBACK_MAX_N = 4000;

function check(ok: boolean, field: string, problem: string, fix: string): void {
  if (!ok) throw new ParameterError(field, problem, fix);
}

function validate(p: BinaryChainParams, needK = true): void {
  check(Number.isInteger(p.N) && p.N >= 1, 'N', `${p.N} is not an integer >= 1`, 'pass N >= 1');
  if (needK) check(Number.isInteger(p.k) && p.k >= 1, 'k', `${p.k} is not an integer >= 1`, 'pass an in-degree k >= 1');
  check(Number.isFinite(p.alpha) && p.alpha >= 0 && p.alpha < 1, 'alpha', `${p.alpha} is not in [0, 1)`, 'pass an inhibitory fraction in [0, 1)');
  check(Number.isFinite(p.WE) && p.WE >= 0, 'WE', `${p.WE} is not a finite number >= 0`, 'pass WE >= 0');
  check(Number.isFinite(p.WI) && p.WI >= 0, 'WI', `${p.WI} is not a finite number >= 0`, 'pass WI >= 0');
  check(Number.isFinite(p.p0) && p.p0 >= 0 && p.p0 < 1, 'p0', `${p.p0} is not in [0, 1)`, 'pass a spontaneous activation probability in [0, 1)');
}

/** lambda = (1 - alpha) WE - alpha WI: the mean row sum of the coupling matrix (inhibition-dominant below 1). */
export function lambdaOf(p: Pick<BinaryChainParams, 'alpha' | 'WE' | 'WI'>): number {
  return (1 - p.alpha) * p.WE - p.alpha * p.WI;
}

/** With WE = WI = W, lambda = W (1 - 2 alpha) = 1 at W* = 1 / (1 - 2 alpha); defined for alpha < 1/2. */
export function boundaryW(alpha: number): number {
  check(Number.isFinite(alpha) && alpha >= 0 && alpha < 0.5, 'alpha', `${alpha} is not in [0, 0.5)`, 'with WE = WI the boundary exists only for alpha < 1/2');
  return 1 / (1 - 2 * alpha);
}

/** log n! for n = 0..nmax. */
function logFactorials(nmax: number): Float64Array {
  const lf = new Float64Array(nmax + 1);
  for (let n = 2; n <= nmax; n++) lf[n] = logGamma(n + 1);
  return lf;
}

/** Bin(j; n, s) for j = 0..n in log space, entries below 1e-300 set to 0. */
function binomialPmf(n: number, s: number, lf: Float64Array): Float64Array {
  const out = new Float64Array(n + 1);
  if (s <= 0) {
    out[0] = 1;
    return out;
  }
  if (s >= 1) {
    out[n] = 1;
    return out;
  }
  const ls = Math.log(s);
  const l1s = Math.log1p(-s);
  for (let j = 0; j <= n; j++) {
    const v = Math.exp(lf[n]! - lf[j]! - lf[n - j]! + j * ls + (n - j) * l1s);
    out[j] = v < TINY ? 0 : v;
  }
  return out;
}

function splitK(p: BinaryChainParams): { kE: number; kI: number } {
  const kE = Math.round((1 - p.alpha) * p.k);
  return { kE, kI: p.k - kE };
}

function activationWith(p: BinaryChainParams, S: number, lf: Float64Array, kE: number, kI: number): number {
  const sigma = p.transfer ?? clipTransfer;
  const pa = binomialPmf(kE, S, lf);
  const pb = binomialPmf(kI, S, lf);
  const bIdx: number[] = [];
  for (let b = 0; b <= kI; b++) if (pb[b]! > 0) bIdx.push(b);
  let acc = 0;
  for (let a = 0; a <= kE; a++) {
    const wa = pa[a]!;
    if (wa === 0) continue;
    let inner = 0;
    for (const b of bIdx) {
      const w = wa * pb[b]!;
      if (w < TINY) continue;
      inner += pb[b]! * sigma((p.WE * a - p.WI * b) / p.k);
    }
    acc += wa * inner;
  }
  return Math.min(1, p.p0 + (1 - p.p0) * acc);
}

/** p(S): probability that a neuron is active next step when each of its k inputs is independently active with probability S. */
export function activationProbability(p: BinaryChainParams, S: number): number {
  validate(p);
  check(Number.isFinite(S) && S >= 0 && S <= 1, 'S', `${S} is not in [0, 1]`, 'pass an activity fraction in [0, 1]');
  const { kE, kI } = splitK(p);
  return activationWith(p, S, logFactorials(Math.max(kE, kI)), kE, kI);
}

/** -sum pi log2 pi over the non-zero entries. */
export function entropyBits(pi: ArrayLike<number>): number {
  let h = 0;
  for (let i = 0; i < pi.length; i++) {
    const v = pi[i]!;
    if (v > 0) h -= v * Math.log2(v);
  }
  return h;
}

/**
 * One pass of Grassmann-Taksar-Heyman elimination on a dense row-stochastic n x n matrix (destroyed).
 * Returns the stationary vector, or the state k at which GTH's divisor (the censored chain's probability of stepping
 * below k) is zero: then nothing below k is reachable from k.
 */
function gthPass(P: Float64Array, n: number): Float64Array | number {
  for (let k = n - 1; k >= 1; k--) {
    const rk = k * n;
    let s = 0;
    for (let j = 0; j < k; j++) s += P[rk + j]!;
    if (!(s > 0)) return k;
    for (let i = 0; i < k; i++) {
      const ri = i * n;
      const a = P[ri + k]! / s;
      P[ri + k] = a;
      if (a === 0) continue;
      for (let j = 0; j < k; j++) P[ri + j] += a * P[rk + j]!;
    }
  }
  const pi = new Float64Array(n);
  pi[0] = 1;
  let total = 1;
  for (let j = 1; j < n; j++) {
    let v = 0;
    for (let i = 0; i < j; i++) v += pi[i]! * P[i * n + j]!;
    pi[j] = v;
    total += v;
  }
  for (let j = 0; j < n; j++) pi[j] /= total;
  return pi;
}

/**
 * Stationary distribution of a dense row-stochastic matrix by GTH. When the divisor vanishes at state k (an absorbing
 * class above the lower states, e.g. the saturated state m = N once p(1) = 1), the states reachable from k form a closed
 * class that excludes everything below k; GTH is rerun on that class and its stationary vector is returned (the lower
 * states are then transient or belong to another closed class, and get probability 0).
 */
function gth(P: Float64Array, n: number): Float64Array {
  const res = gthPass(P.slice(), n);
  if (typeof res !== 'number') return res;
  const seen = new Uint8Array(n);
  const stack = [res];
  seen[res] = 1;
  while (stack.length > 0) {
    const i = stack.pop()!;
    for (let j = 0; j < n; j++) {
      if (!seen[j] && P[i * n + j]! > 0) {
        seen[j] = 1;
        stack.push(j);
      }
    }
  }
  const idx: number[] = [];
  for (let j = 0; j < n; j++) if (seen[j]) idx.push(j);
  const r = idx.length;
  const sub = new Float64Array(r * r);
  for (let a = 0; a < r; a++) {
    let s = 0;
    for (let b = 0; b < r; b++) s += sub[a * r + b] = P[idx[a]! * n + idx[b]!]!;
    for (let b = 0; b < r; b++) sub[a * r + b] /= s;
  }
  const piSub = gth(sub, r);
  const pi = new Float64Array(n);
  for (let a = 0; a < r; a++) pi[idx[a]!] = piSub[a]!;
  return pi;
}

/** Row-sparse stochastic matrix: row m holds values on columns lo[m]..hi[m]. */
interface BandedRows {
  n: number;
  lo: Int32Array;
  hi: Int32Array;
  rows: Float64Array[];
}

function multiply(T: BandedRows, x: Float64Array, y: Float64Array): void {
  y.fill(0);
  for (let m = 0; m < T.n; m++) {
    const xm = x[m]!;
    if (xm === 0) continue;
    const row = T.rows[m]!;
    const lo = T.lo[m]!;
    for (let j = lo; j <= T.hi[m]!; j++) y[j] += xm * row[j - lo]!;
  }
}

function powerIteration(T: BandedRows, tol: number, maxIter: number): { pi: Float64Array; converged: boolean } {
  let x = new Float64Array(T.n).fill(1 / T.n);
  let y = new Float64Array(T.n);
  for (let it = 0; it < maxIter; it++) {
    multiply(T, x, y);
    let sum = 0;
    for (let j = 0; j < T.n; j++) sum += y[j]!;
    let diff = 0;
    for (let j = 0; j < T.n; j++) {
      y[j] /= sum;
      diff += Math.abs(y[j]! - x[j]!);
    }
    [x, y] = [y, x];
    if (diff < tol) return { pi: x, converged: true };
  }
  return { pi: x, converged: false };
}

function residualL1(T: BandedRows, pi: Float64Array): number {
  const y = new Float64Array(T.n);
  multiply(T, pi, y);
  let r = 0;
  for (let j = 0; j < T.n; j++) r += Math.abs(y[j]! - pi[j]!);
  return r;
}

function toDense(T: BandedRows): Float64Array {
  const n = T.n;
  const P = new Float64Array(n * n);
  for (let m = 0; m < n; m++) P.set(T.rows[m]!, m * n + T.lo[m]!);
  return P;
}

function solveStationary(T: BandedRows, method: 'auto' | 'gth' | 'power', tol: number, maxIter: number): { pi: Float64Array; method: ChainMethod } {
  if (method === 'gth' || (method === 'auto' && T.n - 1 <= GTH_MAX_N)) return { pi: gth(toDense(T), T.n), method: 'gth' };
  const pw = powerIteration(T, tol, maxIter);
  if (pw.converged) return { pi: pw.pi, method: 'power' };
  // Dense GTH is O(N^3) time and O(N^2) memory: beyond GTH_FALLBACK_MAX_N it would run for hours (or exhaust memory),
  // so a large chain that power iteration cannot settle is returned as 'power-unconverged' with its residual.
  if (method === 'auto' && T.n - 1 <= GTH_FALLBACK_MAX_N) return { pi: gth(toDense(T), T.n), method: 'gth' };
  return { pi: pw.pi, method: 'power-unconverged' };
}

/** Annealed chain on m = 0..N: rows Bin(.; N, p(m/N)) built in log space; stationary pi by GTH (N <= 1500) or power iteration. */
export function annealedChain(p: BinaryChainParams, options: AnnealedChainOptions = {}): AnnealedChainResult {
  validate(p);
  const { method = 'auto', tol = 1e-14, maxIter = 20000 } = options;
  const { N } = p;
  const { kE, kI } = splitK(p);
  const lf = logFactorials(Math.max(N, kE, kI));
  const T: BandedRows = { n: N + 1, lo: new Int32Array(N + 1), hi: new Int32Array(N + 1), rows: [] };
  for (let m = 0; m <= N; m++) {
    const row = binomialPmf(N, activationWith(p, m / N, lf, kE, kI), lf);
    let lo = 0;
    let hi = N;
    while (row[lo] === 0) lo++;
    while (row[hi] === 0) hi--;
    const band = row.slice(lo, hi + 1);
    let s = 0;
    for (let j = 0; j < band.length; j++) s += band[j]!;
    for (let j = 0; j < band.length; j++) band[j] /= s;
    T.lo[m] = lo;
    T.hi[m] = hi;
    T.rows.push(band);
  }
  const sol = solveStationary(T, method, tol, maxIter);
  let mean = 0;
  for (let m = 0; m <= N; m++) mean += m * sol.pi[m]!;
  return { pi: sol.pi, entropyBits: entropyBits(sol.pi), meanActivity: mean / N, method: sol.method, residual: residualL1(T, sol.pi) };
}

/** Distribution of X + Y, X ~ Bin(n1, q1), Y ~ Bin(n2, q2). */
function sumOfBinomials(n1: number, q1: number, n2: number, q2: number, lf: Float64Array): Float64Array {
  const a = binomialPmf(n1, q1, lf);
  const b = binomialPmf(n2, q2, lf);
  const out = new Float64Array(n1 + n2 + 1);
  for (let i = 0; i <= n1; i++) {
    const ai = a[i]!;
    if (ai === 0) continue;
    for (let j = 0; j <= n2; j++) out[i + j] += ai * b[j]!;
  }
  return out;
}

/**
 * Exact chain of the all-to-all network (k = N - 1, no self-connection; p.k is ignored) on (mE, mI), NE = round((1 - alpha) N).
 * A neuron's input counts the other active neurons only: an active E neuron sees mE - 1 active E, an inactive one mE, and so on.
 * Given (mE, mI) the next mE is Bin(mE; q_E,active) + Bin(NE - mE; q_E,inactive) (convolved), independently of the next mI.
 * Small N only (N <= 60, at most 961 states); pi by GTH.
 */
export function exactAllToAllChain(p: BinaryChainParams): AllToAllChainResult {
  validate(p, false);
  check(p.N >= 2 && p.N <= 60, 'N', `${p.N} is outside 2..60`, 'the exact all-to-all chain is for small N; use annealedChain for larger networks');
  const sigma = p.transfer ?? clipTransfer;
  const N = p.N;
  const k = N - 1;
  const NE = Math.round((1 - p.alpha) * N);
  const NI = N - NE;
  const q = (e: number, i: number): number => p.p0 + (1 - p.p0) * sigma((p.WE * e - p.WI * i) / k);
  const lf = logFactorials(N);
  const nI1 = NI + 1;
  const n = (NE + 1) * nI1;
  const rows: Float64Array[] = [];
  const lo = new Int32Array(n);
  const hi = new Int32Array(n).fill(n - 1);
  for (let mE = 0; mE <= NE; mE++) {
    for (let mI = 0; mI <= NI; mI++) {
      const inactiveQ = q(mE, mI);
      const dE = sumOfBinomials(mE, q(mE - 1, mI), NE - mE, inactiveQ, lf);
      const dI = sumOfBinomials(mI, q(mE, mI - 1), NI - mI, inactiveQ, lf);
      const row = new Float64Array(n);
      let s = 0;
      for (let e = 0; e <= NE; e++) {
        const pe = dE[e]!;
        if (pe === 0) continue;
        for (let i = 0; i <= NI; i++) {
          const v = pe * dI[i]!;
          row[e * nI1 + i] = v;
          s += v;
        }
      }
      for (let j = 0; j < n; j++) row[j] /= s;
      rows.push(row);
    }
  }
  const sol = solveStationary({ n, lo, hi, rows }, 'gth', 1e-14, 20000);
  const countDist = new Float64Array(N + 1);
  for (let e = 0; e <= NE; e++) for (let i = 0; i <= NI; i++) countDist[e + i] += sol.pi[e * nI1 + i]!;
  let mean = 0;
  for (let m = 0; m <= N; m++) mean += m * countDist[m]!;
  return { pi: sol.pi, NE, NI, entropyBitsOfCount: entropyBits(countDist), meanActivity: mean / N, method: sol.method };
}

/** Peak of an entropy curve and the lambda-widths of the regions around it where H >= 0.5 / 0.9 of the peak (linear interpolation). */
export function robustness(curve: ReadonlyArray<{ lambda: number; H: number }>): RobustnessResult {
  check(curve.length >= 1, 'curve', 'is empty', 'pass at least one {lambda, H} point');
  for (const c of curve) check(Number.isFinite(c.lambda) && Number.isFinite(c.H), 'curve', `point (${c.lambda}, ${c.H}) is not finite`, 'pass finite lambda and H');
  const pts = [...curve].sort((a, b) => a.lambda - b.lambda);
  let ip = 0;
  for (let i = 1; i < pts.length; i++) if (pts[i]!.H > pts[ip]!.H) ip = i;
  const peak = pts[ip]!;
  const width = (f: number): number => {
    const level = f * peak.H;
    let left = pts[0]!.lambda;
    for (let i = ip; i > 0; i--) {
      const a = pts[i - 1]!;
      const b = pts[i]!;
      if (a.H < level) {
        left = a.lambda + ((level - a.H) / (b.H - a.H)) * (b.lambda - a.lambda);
        break;
      }
    }
    let right = pts[pts.length - 1]!.lambda;
    for (let i = ip; i < pts.length - 1; i++) {
      const a = pts[i]!;
      const b = pts[i + 1]!;
      if (b.H < level) {
        right = a.lambda + ((a.H - level) / (a.H - b.H)) * (b.lambda - a.lambda);
        break;
      }
    }
    return right - left;
  };
  return { peakLambda: peak.lambda, peakH: peak.H, width50: width(0.5), width90: width(0.9) };
}

// --- Where the regimes part in the annealed picture -----------------------------------------------------------------------
// The chain's mean-field map S -> p(S) (the expected next activity given the present one) and its fixed points p(S*) = S*:
// the regime boundary of the annealed theory is where the fixed point reached from silence (the lowest one) loses linear
// stability, p'(S*) -> 1 (a saddle node, or the continuous transition of weak synapses at lambda = 1).

export interface FixedPoint {
  S: number;
  /** p'(S) by a central difference (one-sided at the ends). */
  slope: number;
  /** |p'(S)| < 1 */
  stable: boolean;
}

/**
 * The mean-field map of one of three annealed pictures:
 * - 'clip': the chain's p(S) (sigma clips every neuron's input; inputs independent Bernoulli(S), kE = round((1 - alpha) k));
 * - 'mean-input': the clipping moved to the mean input, p0 + (1 - p0) sigma(E[x]), E[x] = (WE kE - WI kI) S / k, a map of lambda alone;
 * - 'quenched-indegree': 'clip' averaged over the neurons' fixed numbers of E partners, as the simulated network draws them
 *   (k of the N - 1 other neurons regardless of type, the last round(alpha N) inhibitory: hypergeometric), so neurons with
 *   more E partners than kE saturate while others are silenced.
 */
export type MeanFieldVariant = 'clip' | 'mean-input' | 'quenched-indegree';

export function meanFieldMap(p: BinaryChainParams, variant: MeanFieldVariant = 'clip'): (S: number) => number {
  validate(p);
  const { kE, kI } = splitK(p);
  if (variant === 'mean-input') return (S) => Math.min(1, p.p0 + (1 - p.p0) * clipTransfer(((p.WE * kE - p.WI * kI) * S) / p.k));
  const lf = logFactorials(Math.max(p.N, p.k));
  if (variant === 'clip') return (S) => activationWith(p, S, lf, kE, kI);
  const NI = Math.round(p.alpha * p.N);
  const NE = p.N - NI;
  const hyper = (E: number, j: number) => (j > E || p.k - j > p.N - 1 - E ? 0 : Math.exp(lf[E]! - lf[j]! - lf[E - j]! + lf[p.N - 1 - E]! - lf[p.k - j]! - lf[p.N - 1 - E - p.k + j]! - (lf[p.N - 1]! - lf[p.k]! - lf[p.N - 1 - p.k]!)));
  // An E neuron chooses among NE - 1 other E neurons, an I neuron among all NE.
  const weights: { nE: number; w: number }[] = [];
  for (let j = 0; j <= p.k; j++) {
    const w = (NE / p.N) * (NE >= 1 ? hyper(NE - 1, j) : 0) + (NI / p.N) * hyper(NE, j);
    if (w > 1e-10) weights.push({ nE: j, w });
  }
  const total = weights.reduce((a, x) => a + x.w, 0);
  // sigma((WE a - WI b) / k) depends on neither S nor the split: tabulated once, (k + 1)^2 entries.
  const sigma = p.transfer ?? clipTransfer;
  const k1 = p.k + 1;
  const table = new Float64Array(k1 * k1);
  for (let a = 0; a <= p.k; a++) for (let b = 0; a + b <= p.k; b++) table[a * k1 + b] = sigma((p.WE * a - p.WI * b) / p.k);
  return (S) => {
    let acc = 0;
    for (const { nE, w } of weights) {
      const pa = binomialPmf(nE, S, lf);
      const pb = binomialPmf(p.k - nE, S, lf);
      let sum = 0;
      for (let a = 0; a <= nE; a++) {
        if (pa[a] === 0) continue;
        let inner = 0;
        for (let b = 0; b <= p.k - nE; b++) inner += pb[b]! * table[a * k1 + b]!;
        sum += pa[a]! * inner;
      }
      acc += w * Math.min(1, p.p0 + (1 - p.p0) * sum);
    }
    return acc / total;
  };
}

/** Fixed points of `map` on [0, 1], located by sign changes of map(S) - S on `grid` intervals and bisection, lowest first. */
export function fixedPoints(map: (S: number) => number, grid = 400): FixedPoint[] {
  const F = (S: number) => map(S) - S;
  const slope = (S: number) => {
    const h = 1e-5;
    const a = Math.max(0, S - h);
    const b = Math.min(1, S + h);
    return (map(b) - map(a)) / (b - a);
  };
  const out: FixedPoint[] = [];
  let a = 0;
  let fa = F(0);
  const push = (S: number) => {
    const g = slope(S);
    out.push({ S, slope: g, stable: Math.abs(g) < 1 });
  };
  if (fa === 0) push(0);
  for (let i = 1; i <= grid; i++) {
    const b = i / grid;
    const fb = F(b);
    // A root on a grid point (e.g. S = 1 when p(1) = 1, saturation) has fb = 0: it counts once, and the next interval
    // starts from it without a sign to compare.
    if (fb === 0 || (fa !== 0 && (fa > 0) !== (fb > 0))) {
      let lo = a;
      let hi = b;
      if (fb !== 0) {
        for (let it = 0; it < 50; it++) {
          const m = 0.5 * (lo + hi);
          if ((F(m) > 0) === (fa > 0)) lo = m;
          else hi = m;
        }
      }
      push(fb === 0 ? b : 0.5 * (lo + hi));
    }
    a = b;
    fa = fb;
  }
  return out;
}

export interface MeanFieldBoundary {
  /** WE at which the lowest fixed point's slope p'(S*) is largest along the row (NaN if the scan is empty). */
  WE: number;
  lambda: number;
  /** that largest slope: 1 (within the scan's resolution) where the quiescent state really loses stability */
  slope: number;
  /** the lowest fixed point there */
  S: number;
  /** WE range (scan points) where two stable fixed points coexist (bistability), or null */
  bistable: [number, number] | null;
}

/**
 * The annealed boundary along a row of fixed WI: scans WE over `WEs`, takes the lowest fixed point S* of the map and its slope,
 * and refines the WE of the largest slope by golden-section search between the scan neighbours.
 */
export function meanFieldBoundary(base: Omit<BinaryChainParams, 'WE'>, WEs: readonly number[], variant: MeanFieldVariant = 'clip'): MeanFieldBoundary {
  // The quenched map sums over ~50 in-degree splits per evaluation: a coarser root scan (roots closer than 0.01 merge) keeps it to seconds.
  const grid = variant === 'quenched-indegree' ? 100 : 400;
  const at = (WE: number) => {
    const fps = fixedPoints(meanFieldMap({ ...base, WE }, variant), grid);
    return { lowest: fps[0]!, stableCount: fps.filter((f) => f.stable).length };
  };
  const scan = WEs.map(at);
  let best = 0;
  for (let i = 1; i < scan.length; i++) if (scan[i]!.lowest.slope > scan[best]!.lowest.slope) best = i;
  let lo = WEs[Math.max(0, best - 1)]!;
  let hi = WEs[Math.min(WEs.length - 1, best + 1)]!;
  const gr = (Math.sqrt(5) - 1) / 2;
  for (let it = 0; it < 30 && hi - lo > 1e-5; it++) {
    const c = hi - gr * (hi - lo);
    const d = lo + gr * (hi - lo);
    if (at(c).lowest.slope >= at(d).lowest.slope) hi = d;
    else lo = c;
  }
  const WE = 0.5 * (lo + hi);
  const top = at(WE).lowest;
  const bi = WEs.filter((_, i) => scan[i]!.stableCount >= 2);
  return { WE, lambda: lambdaOf({ ...base, WE }), slope: top.slope, S: top.S, bistable: bi.length ? [bi[0]!, bi[bi.length - 1]!] : null };
}

/**
 * Whether a distribution over m has two or more separated modes: local maxima holding at least `minRatio` of the largest,
 * each pair of neighbours separated by a minimum below `dip` times the smaller of the two (a point mass is unimodal).
 */
export function isBimodal(pi: ArrayLike<number>, minRatio = 1e-3, dip = 0.5): boolean {
  let top = 0;
  for (let i = 0; i < pi.length; i++) top = Math.max(top, pi[i]!);
  const modes: number[] = [];
  for (let i = 0; i < pi.length; i++) {
    const v = pi[i]!;
    if (v >= minRatio * top && (i === 0 || v > pi[i - 1]!) && (i === pi.length - 1 || v >= pi[i + 1]!)) modes.push(i);
  }
  for (let j = 1; j < modes.length; j++) {
    let lowest = Infinity;
    for (let i = modes[j - 1]!; i <= modes[j]!; i++) lowest = Math.min(lowest, pi[i]!);
    if (lowest < dip * Math.min(pi[modes[j - 1]!]!, pi[modes[j]!]!)) return true;
  }
  return false;
}

/** Probabilities that the input x = (WE a - WI b) / k is clipped (x < 0 or x > 1) when every input is active with probability S (the chain's independent inputs). */
export function clippedInputFractions(p: BinaryChainParams, S: number): { below: number; above: number } {
  validate(p);
  const { kE, kI } = splitK(p);
  const lf = logFactorials(Math.max(kE, kI));
  const pa = binomialPmf(kE, S, lf);
  const pb = binomialPmf(kI, S, lf);
  let below = 0;
  let above = 0;
  for (let a = 0; a <= kE; a++) {
    for (let b = 0; b <= kI; b++) {
      const x = (p.WE * a - p.WI * b) / p.k;
      if (x < 0) below += pa[a]! * pb[b]!;
      else if (x > 1) above += pa[a]! * pb[b]!;
    }
  }
  return { below, above };
}
