// The networks of Li & Pehlevan's figures (docs/models/minimax-spiking.md) as pure, seeded constructors: tight
// balance (Fig. 1), the decoder (Fig. 2a), a designed associative memory (Fig. 3), the ring and grid attractors (Fig. 4).
//
// Randomness: Philox (src/rng) with one generator per (purpose stream, matrix row), so each matrix is reproducible on
// its own; f64 uniforms take 53 bits from two words. Construction streams start at 0x100, clear of the simulation's.
//
// Associative memory design (Fig. 3; the authors' learned weights are not reproducible from their code). With P
// patterns xi^mu of support S_mu (|S_mu| = k_mu, about k, at a common level rho) and global inhibition, the weights are:
//   W_II = I (NI x NI), W_EI = c (all entries, NE x NI), W_IE = W_EI^T, c = sqrt(g / NI), F = I, input xbar = b rho 1,
//   W_EE = -1 on the diagonal, symmetric, >= 0 off it, non-zero only between neurons that share a pattern.
// At pattern mu every I neuron has V_I = c k_mu rho - rI = 0, so rI = c k_mu rho > 0 and E neuron i gets inhibition
// g k_mu rho; then
//   i in S_mu:     V_E,i = 0           <=>  sum_{j in S_mu \ i} W_ij = g k_mu - b + 1            (equalities),
//   j not in S_mu: V_E,j <= -margin rho <=>  sum_{l in S_mu} W_jl <= g k_mu - b - margin          (inequalities),
// linear in the symmetric off-diagonal weights. When all supports have one size the clipped Hebbian (Willshaw) rule
// W_ij = (g k - b + 1)/(k - 1) for every pair sharing a pattern solves the equalities exactly whatever the overlaps (each
// row sum has k - 1 equal terms); with sizes that differ, a pair shared by two patterns gets conflicting targets. The
// design therefore starts from the Hebbian weights (averaged over the shared patterns) and runs alternating projections
// (POCS) between the affine equality set (least-norm correction through (A A^T)^-1) and the tightened convex set
// {W >= 1e-3 of the Hebbian weight, inequalities with margin + 5 %}, ending on the affine projection, so the equalities
// hold to rounding and the original inequalities strictly. Stability needs the reduced E Hessian on S_mu,
// g 11' - W_EE,SS, positive definite (about b on the uniform mode, 1 + W_ij across it). Every stored pattern is then
// verified with kktResidualAt (residual) and stabilityAt (off-support margin, Hessian); a failure throws ConfigError.
// The whole problem is homogeneous in (rates, input), so the design is done at rho = 1 and scaled by `level`.
import { ConfigError, ParameterError } from '../../errors.ts';
import { rngCreate, rngNextU32, seedToKey } from '../../rng/index.ts';
import type { MinimaxNetwork } from './network.ts';
import { gridKernelParams, gridKernelRow, kktResidualAt, solveDense, stabilityAt, symmetricEigenvalues, torusDelta } from './theory.ts';

// ---------------------------------------------------------------- seeded draws

const STREAM = { fig1R: 0x100, fig1WEI: 0x101, fig1F: 0x102, fig1Input: 0x103, decoderA: 0x110, decoderInput: 0x111, memorySupport: 0x120, memoryCue: 0x121, memorySizes: 0x122 };

/** f64 uniforms in [0, 1) with 53 random bits from two Philox words; generator (seed, stream, row, instance). */
function uniforms(seed: number, stream: number, row: number, instance = 0): () => number {
  const r = rngCreate(seedToKey(seed), stream, 0, instance, row);
  return () => ((rngNextU32(r) >>> 5) * 67108864 + (rngNextU32(r) >>> 6)) / 9007199254740992;
}

/** Standard normals by Box-Muller in f64 (cosine branch). */
function normals(seed: number, stream: number, row: number): () => number {
  const u = uniforms(seed, stream, row);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

/** rows x cols, row r drawn from its own generator. */
function fillRows(rows: number, cols: number, draw: (row: number) => () => number, map: (v: number) => number = (v) => v): Float64Array {
  const a = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) {
    const next = draw(r);
    for (let c = 0; c < cols; c++) a[r * cols + c] = map(next());
  }
  return a;
}

function need(ok: boolean, field: string, problem: string, fix: string): void {
  if (!ok) throw new ParameterError(field, problem, fix);
}

const identity = (n: number, scale = 1): Float64Array => {
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) a[i * n + i] = scale;
  return a;
};

const transpose = (a: Float64Array, rows: number, cols: number): Float64Array => {
  const t = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
};

/** scale A^T A for A rows x cols row-major (cols x cols). */
function gram(A: Float64Array, rows: number, cols: number, scale = 1): Float64Array {
  const G = new Float64Array(cols * cols);
  for (let i = 0; i < cols; i++) {
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let k = 0; k < rows; k++) s += A[k * cols + i] * A[k * cols + j];
      G[i * cols + j] = scale * s;
    }
  }
  return G;
}

// ---------------------------------------------------------------- Dale's law

export interface DaleReport {
  ok: boolean;
  /** Negative entries among W_EE off the diagonal, W_EI, W_IE and W_II off the diagonal (all magnitudes must be >= 0). */
  violations: number;
  minOffDiagonalEE: number;
  message: string;
}

/** Dale's law of a minimax network: every block non-negative off the diagonal (W_EI, W_IE, W_II are magnitudes). */
export function checkDale(net: MinimaxNetwork): DaleReport {
  const { nE, nI } = net;
  let violations = 0;
  let minOff = Infinity;
  for (let i = 0; i < nE; i++) {
    for (let j = 0; j < nE; j++) {
      if (i === j) continue;
      const v = net.wEE[i * nE + j];
      minOff = Math.min(minOff, v);
      if (v < 0) violations++;
    }
  }
  for (const v of net.wEI) if (v < 0) violations++;
  for (const v of net.wIE) if (v < 0) violations++;
  for (let i = 0; i < nI; i++) for (let j = 0; j < nI; j++) if (i !== j && net.wII[i * nI + j] < 0) violations++;
  const ok = violations === 0;
  return {
    ok,
    violations,
    minOffDiagonalEE: minOff,
    message: ok ? "Dale's law holds" : `Dale's law is violated by ${violations} weights (smallest off-diagonal W_EE ${minOff.toPrecision(4)})`,
  };
}

// ---------------------------------------------------------------- Fig. 1: tight balance

export interface TightBalanceNetwork {
  network: MinimaxNetwork;
  /** Poisson input rates in Hz, U(0, 150). */
  inputRates: Float64Array;
  /** a = 1 / (max |eig W0| + 1), W_II = a W_EI^T W_EI. */
  a: number;
  maxEigW0: number;
  dale: DaleReport;
}

/**
 * Fig. 1: NE = NI = m = 20; W_EE = R^T R / NE off the diagonal (R ~ U(0,1)), -1 on it; W_EI ~ U(0,1); W_IE = W_EI^T;
 * W_II = a W_EI^T W_EI with a = 1/(max|eig(R^T R / NE)| + 1); F ~ N(0.1, 0.5^2); input rates U(0, 150) Hz.
 */
export function makeTightBalanceNetwork(seed: number): TightBalanceNetwork {
  const n = 20;
  const wEE = gram(fillRows(n, n, (r) => uniforms(seed, STREAM.fig1R, r)), n, n, 1 / n);
  const ev = symmetricEigenvalues(wEE, n);
  const maxEigW0 = Math.max(Math.abs(ev[0]), Math.abs(ev[n - 1]));
  for (let i = 0; i < n; i++) wEE[i * n + i] = -1;
  const a = 1 / (maxEigW0 + 1);
  const wEI = fillRows(n, n, (r) => uniforms(seed, STREAM.fig1WEI, r));
  const wII = gram(wEI, n, n, a);
  for (let i = 0; i < n; i++) {
    if (!(wII[i * n + i] > 0)) throw new ConfigError(`makeTightBalanceNetwork(${seed}): W_II diagonal entry ${i} is ${wII[i * n + i]}`, 'use another seed');
  }
  const F = fillRows(n, n, (r) => normals(seed, STREAM.fig1F, r), (z) => 0.1 + 0.5 * z);
  const next = uniforms(seed, STREAM.fig1Input, 0);
  const inputRates = Float64Array.from({ length: n }, () => 150 * next());
  const network: MinimaxNetwork = { nE: n, nI: n, nIn: n, wEE, wEI, wIE: transpose(wEI, n, n), wII, F };
  return { network, inputRates, a, maxEigW0, dale: checkDale(network) };
}

// ---------------------------------------------------------------- Fig. 2a: decoder

export interface DecoderNetwork {
  network: MinimaxNetwork;
  /** Decoder, m x NE row-major: readout = H rE. */
  H: Float64Array;
  m: number;
  /** Ridge weight beta = 6e-3 / NE. */
  beta: number;
  /** 20 input vectors of m Poisson rates in Hz, U(0, 50). */
  inputs: Float64Array[];
  dale: DaleReport;
}

/**
 * Fig. 2a: m = 10, NE = 60, NI = m; H = pinv(|N(0,1)^{NE x m}|) = (A^T A)^-1 A^T, divided by std(H) (sample std of all
 * entries, MATLAB's) and by NE; F+ = [H]+, G = [-H]+, W_EI = |H|^T, W_IE = |H|, W_II = I, W_EE = 2(F+^T G + G^T F+) - beta I,
 * F = H^T. Then V_I = |H| rE - rI gives rI = |H| rE and V_E = -(H^T H + beta I) rE + H^T x: the reduced problem is
 * min_{rE >= 0} 1/2 ||x - H rE||^2 + beta/2 ||rE||^2 (decoderTarget solves it).
 */
export function makeDecoderNetwork(seed: number): DecoderNetwork {
  const m = 10;
  const nE = 60;
  const next = normals(seed, STREAM.decoderA, 0);
  const A = Float64Array.from({ length: nE * m }, () => Math.abs(next()));
  const AtA = gram(A, nE, m);
  // H = (A^T A)^-1 A^T, column by column of A^T.
  const H = new Float64Array(m * nE);
  for (let i = 0; i < nE; i++) {
    const col = solveDense(AtA, A.slice(i * m, (i + 1) * m));
    if (!col) throw new ConfigError(`makeDecoderNetwork(${seed}): |N(0,1)| draw is rank deficient`, 'use another seed');
    for (let a = 0; a < m; a++) H[a * nE + i] = col[a];
  }
  const mean = H.reduce((s, v) => s + v, 0) / H.length;
  const std = Math.sqrt(H.reduce((s, v) => s + (v - mean) ** 2, 0) / (H.length - 1));
  for (let q = 0; q < H.length; q++) H[q] /= std * nE;
  const beta = 6e-3 / nE;
  const wEE = new Float64Array(nE * nE);
  for (let i = 0; i < nE; i++) {
    for (let j = 0; j < nE; j++) {
      let s = 0;
      for (let a = 0; a < m; a++) {
        const hi = H[a * nE + i];
        const hj = H[a * nE + j];
        s += Math.max(hi, 0) * Math.max(-hj, 0) + Math.max(-hi, 0) * Math.max(hj, 0);
      }
      wEE[i * nE + j] = 2 * s - (i === j ? beta : 0);
    }
  }
  const wIE = H.map(Math.abs);
  const network: MinimaxNetwork = { nE, nI: m, nIn: m, wEE, wEI: transpose(wIE, m, nE), wIE, wII: identity(m), F: transpose(H, m, nE) };
  const nextIn = uniforms(seed, STREAM.decoderInput, 0);
  const inputs = Array.from({ length: 20 }, () => Float64Array.from({ length: m }, () => 50 * nextIn()));
  return { network, H, m, beta, inputs, dale: checkDale(network) };
}

/**
 * The decoder's reduced problem min_{r >= 0} 1/2 ||x - H r||^2 + beta/2 ||r||^2 (H m x n row-major, x length m) solved
 * exactly by Lawson-Hanson's active-set NNLS on the Gram form 1/2 r'(H'H + beta I) r - (H'x)' r: independent of the LCP
 * solver, so it can check it.
 */
export function decoderTarget(H: Float64Array, beta: number, x: ArrayLike<number>): Float64Array {
  const m = x.length;
  const n = H.length / m;
  need(Number.isInteger(n) && n >= 1, 'H', `length ${H.length} is not a multiple of x's length ${m}`, 'give H as m x NE row-major');
  need(Number.isFinite(beta) && beta >= 0, 'beta', `${beta} is not >= 0`, 'use the ridge weight of the decoder');
  const G = new Float64Array(n * n);
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    for (let a = 0; a < m; a++) c[i] += H[a * n + i] * x[a];
    for (let j = 0; j < n; j++) {
      let s = i === j ? beta : 0;
      for (let a = 0; a < m; a++) s += H[a * n + i] * H[a * n + j];
      G[i * n + j] = s;
    }
  }
  const r = new Float64Array(n);
  const passive = new Uint8Array(n);
  const grad = () => Float64Array.from(c, (ci, i) => ci - G.subarray(i * n, (i + 1) * n).reduce((s, g, j) => s + g * r[j], 0));
  const solveOn = (P: number[]) => {
    const k = P.length;
    const A = new Float64Array(k * k);
    for (let a = 0; a < k; a++) for (let b = 0; b < k; b++) A[a * k + b] = G[P[a] * n + P[b]];
    return solveDense(A, Float64Array.from(P, (i) => c[i]));
  };
  const scale = Math.max(1e-300, ...c.map(Math.abs));
  for (let outer = 0; outer < 3 * n + 10; outer++) {
    const w = grad();
    let t = -1;
    for (let i = 0; i < n; i++) if (!passive[i] && w[i] > 1e-13 * scale && (t < 0 || w[i] > w[t])) t = i;
    if (t < 0) return r;
    passive[t] = 1;
    for (let inner = 0; inner < n + 1; inner++) {
      const P = [...passive.keys()].filter((i) => passive[i]);
      const s = solveOn(P);
      if (!s) throw new ConfigError('decoderTarget: singular Gram block', 'use beta > 0');
      if (s.every((v) => v > 0)) {
        r.fill(0);
        P.forEach((i, a) => (r[i] = s[a]));
        break;
      }
      // Step towards s until the first passive variable hits 0, and release every variable at 0.
      let alpha = Infinity;
      let hit = -1;
      P.forEach((i, a) => {
        if (s[a] <= 0 && r[i] / (r[i] - s[a]) < alpha) {
          alpha = r[i] / (r[i] - s[a]);
          hit = i;
        }
      });
      const rMax = Math.max(...P.map((i) => Math.abs(r[i])), 1e-300);
      P.forEach((i, a) => {
        r[i] += alpha * (s[a] - r[i]);
        if (i === hit || r[i] <= 1e-14 * rMax) {
          r[i] = 0;
          passive[i] = 0;
        }
      });
    }
  }
  throw new ConfigError('decoderTarget: Lawson-Hanson did not converge', 'check H and x for non-finite values');
}

// ---------------------------------------------------------------- Fig. 4: ring attractor

export interface RingNetwork {
  network: MinimaxNetwork;
  /** theta_j = 2 pi (j - 1) / NE. */
  thetas: Float64Array;
  /** The W_IE entry (1/sqrt(NE)) sqrt(3 (w0 + w1) / NI). */
  wIEValue: number;
  /** Dale holds for |gamma| <= sqrt((1 + 2 w0/w1)^2 - 1): the smallest off-diagonal W_EE is (2 w0 + w1 (1 - sqrt(1 + gamma^2)))/NE at the worst angle. */
  gammaDaleLimit: number;
  dale: DaleReport;
}

/**
 * Fig. 4 ring: NI = NE, W_IE = (1/sqrt(NE)) sqrt(3 (w0 + w1)/NI) (all entries), W_EI = W_IE^T, W_II = 3 I,
 * W_EE = 1/3 W_EI W_IE + (1/NE)[w1 cos(theta_j - theta_k) + gamma w1 sin(theta_j - theta_k) + w0] - I (j post, k pre),
 * F = I. 1/3 W_EI W_IE = (w0 + w1)/NE exactly, and that value is used (no rounding of c^2 NI / 3).
 */
export function makeRingNetwork(opts: { gamma?: number; NE?: number; w0?: number; w1?: number } = {}): RingNetwork {
  const { gamma = 0, NE = 100, w0 = 0.5, w1 = 2.7 } = opts;
  need(Number.isInteger(NE) && NE >= 3, 'NE', `${NE} is not an integer >= 3`, 'use e.g. 100');
  for (const [k, v] of Object.entries({ gamma, w0, w1 })) need(Number.isFinite(v), k, `${v} is not finite`, 'use a finite number');
  need(w0 + w1 >= 0, 'w0 + w1', `${w0 + w1} < 0`, 'W_IE = sqrt(3 (w0 + w1)/NI)/sqrt(NE) needs w0 + w1 >= 0');
  const nI = NE;
  const thetas = Float64Array.from({ length: NE }, (_, j) => (2 * Math.PI * j) / NE);
  const c = Math.sqrt((3 * (w0 + w1)) / nI) / Math.sqrt(NE);
  const base = (w0 + w1) / NE;
  const wEE = new Float64Array(NE * NE);
  for (let j = 0; j < NE; j++) {
    for (let k = 0; k < NE; k++) {
      const d = thetas[j] - thetas[k];
      wEE[j * NE + k] = base + (w1 * Math.cos(d) + gamma * w1 * Math.sin(d) + w0) / NE - (j === k ? 1 : 0);
    }
  }
  const network: MinimaxNetwork = {
    nE: NE, nI, nIn: NE, wEE, wEI: new Float64Array(NE * nI).fill(c), wIE: new Float64Array(nI * NE).fill(c), wII: identity(nI, 3), F: identity(NE),
  };
  const gammaDaleLimit = w1 > 0 ? Math.sqrt(Math.max(0, (1 + (2 * w0) / w1) ** 2 - 1)) : Infinity;
  return { network, thetas, wIEValue: c, gammaDaleLimit, dale: checkDale(network) };
}

/**
 * The ring cue as input rates in Hz per E neuron: base + h1 cos(theta_cue - theta_j). The cue is a modulation of the
 * Poisson input rates (F = I), so it enters V through F x like the background; rates are clipped at 0.
 */
export function ringCueRates(thetaCue: number, base = 10, h1 = 5, NE = 100): Float64Array {
  need(Number.isInteger(NE) && NE >= 1, 'NE', `${NE} is not an integer >= 1`, 'use the ring size');
  return Float64Array.from({ length: NE }, (_, j) => Math.max(0, base + h1 * Math.cos(thetaCue - (2 * Math.PI * j) / NE)));
}

// ---------------------------------------------------------------- Fig. 4: grid attractor

export interface GridNetwork {
  network: MinimaxNetwork;
  side: number;
  lambda: number;
  alpha: number;
  beta: number;
  gamma: number;
  /** min K over the lattice offsets; the constant |min K| 11' (= W_EI W_IE / 201) keeps W_EE off-diagonal >= 0. */
  minK: number;
  wIEValue: number;
  /** The spec's run constants. */
  tauE: number;
  tauI: number;
  tauX: number;
  inputRateHz: number;
  dale: DaleReport;
}

/**
 * Fig. 4 grid: NE = NI = side^2 on a periodic sheet (neuron i at (i % side, floor(i / side)), torus distances in sites),
 * K(d^2) = alpha exp(-gamma d^2) - exp(-beta d^2), beta = 3/lambda^2, gamma = 1.2 beta; W_IE = sqrt(201 |min K| / NI) (all
 * entries), W_EI = W_IE^T, W_II = 201 I, W_EE = W_EI W_IE / 201 + K - I, F = I. W_EI W_IE / 201 = |min K| exactly, and that
 * value is used, so the Dale-tight entries are exactly 0. Five dense side^4 blocks: 630 MB at side 63.
 */
export function makeGridNetwork(opts: { side?: number; lambda?: number; alpha?: number } = {}): GridNetwork {
  const p = gridKernelParams(opts);
  const { side } = p;
  const n = side * side;
  const row = gridKernelRow(p);
  let minK = Infinity;
  for (const v of row) minK = Math.min(minK, v);
  const cst = Math.abs(minK);
  const wEE = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    const xi = i % side;
    const yi = (i - xi) / side;
    for (let j = 0; j < n; j++) {
      const xj = j % side;
      const yj = (j - xj) / side;
      wEE[i * n + j] = cst + row[torusDelta(yi, yj, side) * side + torusDelta(xi, xj, side)] - (i === j ? 1 : 0);
    }
  }
  const wIEValue = Math.sqrt((201 * cst) / n);
  const network: MinimaxNetwork = {
    nE: n, nI: n, nIn: n, wEE, wEI: new Float64Array(n * n).fill(wIEValue), wIE: new Float64Array(n * n).fill(wIEValue), wII: identity(n, 201), F: identity(n),
  };
  return { network, side, lambda: p.lambda, alpha: p.alpha, beta: p.beta, gamma: p.gamma, minK, wIEValue, tauE: 0.5, tauI: 0.2, tauX: 0.5, inputRateHz: 4, dale: checkDale(network) };
}

// ---------------------------------------------------------------- Fig. 3: associative memory (design in the file header)

/**
 * Defaults: supports of 10 (no jitter), background 2.2 and margin 0.3 (relative to the level), level 100 (100 Hz at tau = 1 s).
 * They keep each E->E weight near 1/5 of the reset. With supports of 8-12, background 1 and margin 0.5 the design is just
 * as valid a KKT point, but the weights are ~1/3 of the reset: ten identical pattern neurons firing in the same step then
 * excite each other more than the (equally synchronous) I population cancels, and the synchronous spiking network runs
 * away to one spike per step. A level of 10 gives too few spikes per tau and the patterns fade out.
 */
export interface MemoryOptions {
  nE?: number;
  nI?: number;
  /** Stored patterns P, their mean support size k and its spread: sizes are uniform in k +- supportJitter. */
  patterns?: number;
  support?: number;
  supportJitter?: number;
  /** Largest shared support of two patterns (supports are drawn again until it holds). */
  maxOverlap?: number;
  /** Pattern rate in trace units (Hz = level / tau). */
  level?: number;
  /** Global inhibition gain g = NI c^2 (inhibition g k rho at a pattern). */
  inhibitionGain?: number;
  /** Background input b, relative to the level. */
  background?: number;
  /** Required -V of silent E neurons at a pattern, relative to the level. */
  margin?: number;
  /** tau_E = tau_I = tau_x in s for the Hz helpers. */
  tau?: number;
  /** POCS iterations. */
  iterations?: number;
}

export interface MemoryPatternCheck {
  kktResidual: number;
  /** min over silent E neurons of -V_E (trace units), the strict complementarity margin. */
  offSupportMargin: number;
  /** Smallest eigenvalue of the reduced E Hessian on the support. */
  hessianMinEig: number;
  /** The (common) I rate at the pattern, trace units. */
  rateI: number;
}

export interface MemoryNetwork {
  network: MinimaxNetwork;
  /** Stored E patterns (trace units): level on the support, 0 elsewhere. */
  patterns: Float64Array[];
  /** The I rates at each pattern (trace units). */
  patternsI: Float64Array[];
  supports: number[][];
  /** The mean filtered background input (trace units), b level on every E neuron. */
  xbar: Float64Array;
  level: number;
  tau: number;
  checks: MemoryPatternCheck[];
  /** POCS projections used (0: the Hebbian start was feasible), design pairs, the final equality residual, the weight range. */
  design: { iterations: number; pairs: number; equalityResidual: number; minWeight: number; maxWeight: number; hebbianWeight: number; inhibitionGain: number; background: number; margin: number };
  dale: DaleReport;
}

/** Draws supports of the given sizes from n neurons with pairwise overlaps <= maxOverlap (partial Fisher-Yates per attempt). */
function drawSupports(seed: number, n: number, sizes: number[], maxOverlap: number): number[][] {
  const supports: number[][] = [];
  for (let mu = 0; mu < sizes.length; mu++) {
    const k = sizes[mu];
    let found: number[] | null = null;
    for (let attempt = 0; attempt < 1000 && !found; attempt++) {
      const u = uniforms(seed, STREAM.memorySupport, mu, attempt);
      const idx = Array.from({ length: n }, (_, i) => i);
      for (let a = 0; a < k; a++) {
        const b = a + Math.floor(u() * (n - a));
        [idx[a], idx[b]] = [idx[b], idx[a]];
      }
      const s = idx.slice(0, k).sort((x, y) => x - y);
      if (supports.every((t) => t.filter((i) => s.includes(i)).length <= maxOverlap)) found = s;
    }
    if (!found) throw new ConfigError(`makeMemoryNetwork: no support for pattern ${mu} with overlaps <= ${maxOverlap} in 1000 draws`, 'use fewer or smaller patterns, or a larger maxOverlap');
    supports.push(found);
  }
  return supports;
}

/** An associative memory whose stored patterns are stable KKT points (design and method in the file header). */
export function makeMemoryNetwork(seed: number, options: MemoryOptions = {}): MemoryNetwork {
  const {
    nE = 100, nI = 20, patterns: P = 5, support: k = 10, supportJitter: J = 0, maxOverlap = 2, level = 100, inhibitionGain: g = 0.3, background: b = 2.2, margin = 0.3, tau = 1,
    iterations = 10000,
  } = options;
  need(Number.isInteger(nE) && nE >= 2 && Number.isInteger(nI) && nI >= 1, 'nE/nI', `${nE}/${nI}`, 'use integers nE >= 2, nI >= 1');
  need(Number.isInteger(P) && P >= 1 && Number.isInteger(k) && Number.isInteger(J) && J >= 0 && k - J >= 3 && k + J <= nE, 'patterns/support/supportJitter', `${P}/${k}/${J}`, 'use P >= 1 and 3 <= k - J, k + J <= nE');
  for (const [name, v] of Object.entries({ level, inhibitionGain: g, background: b, margin, tau })) need(Number.isFinite(v) && v > 0, name, `${v} is not > 0`, 'use a positive number');
  need(g * (k - J) - b - margin > 0, 'inhibitionGain', `g (k - J) - b - margin = ${g * (k - J) - b - margin} is not > 0`, 'raise inhibitionGain or lower background/margin: silent neurons need net inhibition');
  const nextSize = uniforms(seed, STREAM.memorySizes, 0);
  const sizes = Array.from({ length: P }, () => k - J + Math.floor(nextSize() * (2 * J + 1)));
  const supports = drawSupports(seed, nE, sizes, maxOverlap);
  const member = supports.map((s) => {
    const m = new Uint8Array(nE);
    for (const i of s) m[i] = 1;
    return m;
  });
  const target = sizes.map((kMu) => g * kMu - b + 1);
  const bound = sizes.map((kMu) => g * kMu - b - margin);
  // Design variables: one weight per unordered pair sharing a pattern, starting from the Hebbian weight averaged over those patterns.
  const pairOf = new Map<number, number>();
  const pairs: [number, number][] = [];
  const start: number[] = [];
  const shared: number[] = [];
  const pairIndex = (i: number, j: number) => pairOf.get(Math.min(i, j) * nE + Math.max(i, j));
  supports.forEach((s, mu) => {
    for (const i of s) {
      for (const j of s) {
        if (i >= j) continue;
        const key = i * nE + j;
        let e = pairOf.get(key);
        if (e === undefined) {
          e = pairs.length;
          pairOf.set(key, e);
          pairs.push([i, j]);
          start.push(0);
          shared.push(0);
        }
        start[e] += target[mu] / (sizes[mu] - 1);
        shared[e]++;
      }
    }
  });
  const eqRows: number[][] = [];
  const eqTarget: number[] = [];
  supports.forEach((s, mu) => {
    for (const i of s) {
      eqRows.push(s.filter((j) => j !== i).map((j) => pairIndex(i, j)!));
      eqTarget.push(target[mu]);
    }
  });
  const ineqRows: number[][] = [];
  const ineqBound: number[] = [];
  supports.forEach((s, mu) => {
    for (let j = 0; j < nE; j++) {
      if (member[mu][j]) continue;
      const row = s.map((l) => pairIndex(j, l)).filter((e): e is number => e !== undefined);
      if (row.length) {
        ineqRows.push(row);
        ineqBound.push(bound[mu]);
      }
    }
  });
  // Affine projection w <- w - A^T (A A^T)^-1 (A w - target); (A A^T)_ab = |row_a intersect row_b|.
  const nEq = eqRows.length;
  const AAt = new Float64Array(nEq * nEq);
  const sets = eqRows.map((r) => new Set(r));
  for (let a = 0; a < nEq; a++) for (let c = 0; c < nEq; c++) AAt[a * nEq + c] = eqRows[a].filter((e) => sets[c].has(e)).length;
  const rowSum = (w: Float64Array, row: number[]) => row.reduce((s, e) => s + w[e], 0);
  const project = (w: Float64Array): void => {
    const y = solveDense(AAt, Float64Array.from(eqRows, (row, a) => rowSum(w, row) - eqTarget[a]));
    if (!y) throw new ConfigError('makeMemoryNetwork: the pattern equalities are rank deficient', 'draw other supports (another seed) or smaller overlaps');
    eqRows.forEach((row, a) => row.forEach((e) => (w[e] -= y[a])));
  };
  const w = Float64Array.from(start, (v, e) => v / shared[e]);
  const hebbian = Math.min(...w); // the smallest starting weight sets the floor
  const lb = 1e-3 * hebbian;
  const feasible = () => w.every((v) => v >= 0) && ineqRows.every((row, a) => rowSum(w, row) <= ineqBound[a]);
  let it = 0;
  for (; ; it++) {
    project(w);
    if (feasible()) break;
    if (it >= iterations) throw new ConfigError(`makeMemoryNetwork: the weight design did not converge in ${iterations} projections`, 'use fewer patterns, a smaller maxOverlap or a smaller margin');
    for (let e = 0; e < w.length; e++) w[e] = Math.max(w[e], lb);
    ineqRows.forEach((row, a) => {
      const excess = rowSum(w, row) - (ineqBound[a] - 0.05 * margin);
      if (excess > 0) for (const e of row) w[e] -= excess / row.length;
    });
  }
  const equalityResidual = Math.max(...eqRows.map((row, a) => Math.abs(rowSum(w, row) - eqTarget[a])));
  const wEE = identity(nE, -1);
  pairs.forEach(([i, j], e) => {
    wEE[i * nE + j] = w[e];
    wEE[j * nE + i] = w[e];
  });
  const c = Math.sqrt(g / nI);
  const network: MinimaxNetwork = { nE, nI, nIn: nE, wEE, wEI: new Float64Array(nE * nI).fill(c), wIE: new Float64Array(nI * nE).fill(c), wII: identity(nI), F: identity(nE) };
  const xbar = new Float64Array(nE).fill(b * level);
  const patterns = member.map((m) => Float64Array.from(m, (v) => v * level));
  const patternsI = sizes.map((kMu) => new Float64Array(nI).fill(c * kMu * level));
  const checks = patterns.map((rE, mu): MemoryPatternCheck => {
    const kkt = kktResidualAt(network, xbar, rE, patternsI[mu]);
    const st = stabilityAt(network, xbar, rE, patternsI[mu]);
    return { kktResidual: kkt.residual, offSupportMargin: st.offSupportMarginE, hessianMinEig: st.reducedHessianMinEig, rateI: patternsI[mu][0] };
  });
  checks.forEach((ch, mu) => {
    if (!(ch.kktResidual <= 1e-10 * level * level && ch.offSupportMargin >= margin * level * (1 - 1e-9) && ch.hessianMinEig > 0)) {
      throw new ConfigError(
        `makeMemoryNetwork: pattern ${mu} is not a stable KKT point (residual ${ch.kktResidual}, margin ${ch.offSupportMargin}, Hessian ${ch.hessianMinEig})`,
        'lower background (the Hessian on the uniform mode is about b) or the overlaps',
      );
    }
  });
  return {
    network, patterns, patternsI, supports, xbar, level, tau, checks,
    design: { iterations: it, pairs: pairs.length, equalityResidual, minWeight: Math.min(...w), maxWeight: Math.max(...w), hebbianWeight: hebbian, inhibitionGain: g, background: b, margin },
    dale: checkDale(network),
  };
}

/** The background input rates in Hz (xbar / tau_x). */
export function memoryBackgroundRates(mem: MemoryNetwork, tauX = mem.tau): Float64Array {
  return Float64Array.from(mem.xbar, (x) => x / tauX);
}

/**
 * A noisy cue of stored pattern `pattern` as input rates in Hz: the background plus `amplitude` level / tau_x on the
 * pattern's support minus round(drop k) dropped neurons, plus `spurious` random non-support neurons. Seeded.
 */
export function memoryCueRates(
  mem: MemoryNetwork,
  pattern: number,
  opts: { seed?: number; drop?: number; spurious?: number; amplitude?: number; tauX?: number } = {},
): { rates: Float64Array; cued: number[] } {
  const { seed = 0, drop = 0.3, spurious = 3, amplitude = 1, tauX = mem.tau } = opts;
  need(Number.isInteger(pattern) && pattern >= 0 && pattern < mem.supports.length, 'pattern', `${pattern} is not a stored pattern index`, `use 0..${mem.supports.length - 1}`);
  need(drop >= 0 && drop <= 1, 'drop', `${drop} is not in [0, 1]`, 'give the fraction of support neurons left out of the cue');
  const support = mem.supports[pattern];
  const nE = mem.network.nE;
  const others = Array.from({ length: nE }, (_, i) => i).filter((i) => !support.includes(i));
  need(Number.isInteger(spurious) && spurious >= 0 && spurious <= others.length, 'spurious', `${spurious}`, `use 0..${others.length}`);
  const u = uniforms(seed, STREAM.memoryCue, pattern);
  const shuffled = (a: number[], take: number) => {
    const s = a.slice();
    for (let i = 0; i < take; i++) {
      const j = i + Math.floor(u() * (s.length - i));
      [s[i], s[j]] = [s[j], s[i]];
    }
    return s;
  };
  const kept = shuffled(support, support.length).slice(Math.round(drop * support.length));
  const cued = [...kept, ...shuffled(others, spurious).slice(0, spurious)].sort((a, b) => a - b);
  const rates = memoryBackgroundRates(mem, tauX);
  for (const i of cued) rates[i] += (amplitude * mem.level) / tauX;
  return { rates, cued };
}
