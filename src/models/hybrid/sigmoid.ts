// Population rates of the hybrid model's sigmoid intensity for Gaussian potentials u ~ N(m, v): nu, d nu/dm, d nu/dv and their inverse in m (f64; used by the large-n limit, which is a reconstruction from the paper's abstract: see docs/models/hybrid-balanced.md).
import { ParameterError } from '../../errors.ts';
import { normalCdf, normalPdf, normalQuantile } from '../../analysis/stats.ts';

/** The sigmoid part of the hybrid parameters: f(u) = numax Phi((u - theta)/s) or numax / (1 + exp(-beta (u - theta))). */
export interface SigmoidParams {
  sigmoid: 'probit' | 'logistic';
  numax: number;
  theta: number;
  s: number;
  beta: number;
}

/** nu = E f(m + sqrt(v) Z), g = d nu/dm, h = d nu/dv. */
export interface RateDerivs {
  nu: number;
  g: number;
  h: number;
}

/** Gauss-Hermite nodes for the logistic sigmoid when beta sqrt(v) <= LOGISTIC_SWITCH (error ~1e-13 there). */
export const HERMITE_NODES = 96;

/** Standard-normal quadrature rule: E F(Z) ~= sum_i weights[i] F(nodes[i]). */
export interface NormalQuadrature {
  nodes: Float64Array;
  weights: Float64Array;
}

/**
 * Gauss-Hermite rule for the standard normal, computed from the Jacobi matrix of the Hermite
 * polynomials (Golub-Welsch): eigenvalues by Sturm-sequence bisection, one Newton polish on the
 * orthonormal polynomial, weights by the Christoffel formula 1 / sum_k p_k(x)^2 (no overflow).
 */
export function gaussHermiteNormal(n: number): NormalQuadrature {
  if (!Number.isInteger(n) || n < 1 || n > 400) throw new ParameterError('gaussHermiteNormal n', `${n}`, 'pass an integer number of nodes in [1, 400]');
  // Jacobi matrix for weight exp(-x^2): zero diagonal, off-diagonal b_k = sqrt(k/2), k = 1..n-1.
  const b2 = new Float64Array(n);
  for (let k = 1; k < n; k++) b2[k] = k / 2;
  // Number of eigenvalues below x (Sturm count of the LDL^T pivots).
  const countBelow = (x: number): number => {
    let count = 0;
    let q = -x;
    if (q < 0) count++;
    for (let k = 1; k < n; k++) {
      if (q === 0) q = 1e-300;
      q = -x - b2[k] / q;
      if (q < 0) count++;
    }
    return count;
  };
  // Orthonormal Hermite polynomials p_0..p_n at x, and p_n'(x).
  const evalOrtho = (x: number): { pn: number; dpn: number; sumSq: number } => {
    let pPrev = 0;
    let p = Math.pow(Math.PI, -0.25);
    let dPrev = 0;
    let d = 0;
    let sumSq = 0;
    for (let k = 0; k < n; k++) {
      sumSq += p * p;
      const a = Math.sqrt((k + 1) / 2);
      const c = Math.sqrt(k / 2);
      const pNext = (x * p - c * pPrev) / a;
      const dNext = (p + x * d - c * dPrev) / a;
      pPrev = p;
      p = pNext;
      dPrev = d;
      d = dNext;
    }
    return { pn: p, dpn: d, sumSq };
  };
  const bound = Math.sqrt(2 * n + 2);
  const xs = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let lo = -bound;
    let hi = bound;
    for (let it = 0; it < 200 && hi - lo > 1e-15 * Math.max(1, Math.abs(lo)); it++) {
      const mid = 0.5 * (lo + hi);
      if (countBelow(mid) > i) hi = mid;
      else lo = mid;
    }
    let x = 0.5 * (lo + hi);
    const { pn, dpn } = evalOrtho(x);
    if (dpn !== 0) {
      const y = x - pn / dpn;
      if (y > lo - 1e-12 && y < hi + 1e-12) x = y;
    }
    xs[i] = x;
  }
  const nodes = new Float64Array(n);
  const weights = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // Symmetrise: the rule is exact for odd functions only if the nodes are.
    const xi = 0.5 * (xs[i] - xs[n - 1 - i]);
    nodes[i] = Math.SQRT2 * xi;
    weights[i] = 1 / (evalOrtho(xi).sumSq * Math.sqrt(Math.PI));
  }
  return { nodes, weights };
}

let cachedRule: NormalQuadrature | null = null;
function rule(): NormalQuadrature {
  if (!cachedRule) cachedRule = gaussHermiteNormal(HERMITE_NODES);
  return cachedRule;
}

function checkArgs(p: SigmoidParams, m: number, v: number): void {
  if (!Number.isFinite(m)) throw new ParameterError('m', `${m} is not finite`, 'pass a finite mean potential');
  if (!(v >= 0) || !Number.isFinite(v)) throw new ParameterError('v', `${v} is not a finite variance >= 0`, 'pass a variance v >= 0');
  if (!(p.numax > 0) || !Number.isFinite(p.numax)) throw new ParameterError('numax', `${p.numax}`, 'set numax to a finite value > 0');
  if (!Number.isFinite(p.theta)) throw new ParameterError('theta', `${p.theta}`, 'set theta to a finite value');
  if (p.sigmoid === 'probit') {
    if (!(p.s > 0) || !Number.isFinite(p.s)) throw new ParameterError('s', `${p.s}`, 'set the probit width s to a finite value > 0');
  } else if (p.sigmoid === 'logistic') {
    if (!(p.beta > 0) || !Number.isFinite(p.beta)) throw new ParameterError('beta', `${p.beta}`, 'set the logistic slope beta to a finite value > 0');
  } else {
    throw new ParameterError('sigmoid', `'${String(p.sigmoid)}'`, "use 'probit' or 'logistic'");
  }
}

/** Logistic 1/(1 + e^-x) and sigma (1 - sigma), without overflow for any x. */
function logistic(x: number): { sig: number; sig1m: number } {
  const e = Math.exp(-Math.abs(x));
  const sig = x >= 0 ? 1 / (1 + e) : e / (1 + e);
  return { sig, sig1m: e / ((1 + e) * (1 + e)) };
}

/** nu, d nu/dm and d nu/dv for u ~ N(m, v): closed form (probit); for logistic Gauss-Hermite under the integral, g = E f'(u), h = E f''(u)/2 (heat equation), with a trapezoid rule or the dual form when beta sqrt(v) > LOGISTIC_SWITCH. */
export function rateDerivs(p: SigmoidParams, m: number, v: number): RateDerivs {
  checkArgs(p, m, v);
  if (p.sigmoid === 'probit') {
    const S2 = p.s * p.s + v;
    const S = Math.sqrt(S2);
    const a = (m - p.theta) / S;
    const phi = normalPdf(a);
    return { nu: p.numax * normalCdf(a), g: (p.numax * phi) / S, h: (-p.numax * phi * a) / (2 * S2) };
  }
  const b = p.beta * Math.sqrt(v);
  if (b <= LOGISTIC_SWITCH) return logisticSum(p, m, v, rule());
  const level = Math.max(0, Math.ceil(Math.log2((TRAPEZOID_BASE_STEP * b) / TRAPEZOID_BH)));
  return level <= TRAPEZOID_MAX_LEVEL ? logisticSum(p, m, v, trapezoid(level)) : logisticDual(p, m, v);
}

/**
 * Where the logistic path changes rule. The Z-integrand of E sigma(beta (m - theta) + b Z), b = beta sqrt(v),
 * has poles at distance pi/b from the real axis, so Gauss-Hermite (96 nodes) is ~1e-13 for b <= 2 but only
 * ~1e-7 at b = 4. Beyond b = 2 the trapezoid rule in Z with step h <= 0.45/b is used (aliasing error
 * ~exp(-2 pi^2 / (b h)) < 1e-17; Z truncated at +-9.5), and beyond b ~ 29 (over 1200 nodes) the dual form.
 */
export const LOGISTIC_SWITCH = 2;
const TRAPEZOID_BASE_STEP = 0.5;
const TRAPEZOID_BH = 0.45;
const TRAPEZOID_MAX_LEVEL = 5;
const TRAPEZOID_HALF = 9.5;

const trapezoidRules: NormalQuadrature[] = [];
/** Trapezoid rule for the standard normal with step 0.5 / 2^level on [-9.5, 9.5]. */
function trapezoid(level: number): NormalQuadrature {
  let r = trapezoidRules[level];
  if (!r) {
    const h = TRAPEZOID_BASE_STEP / 2 ** level;
    const half = Math.floor(TRAPEZOID_HALF / h);
    const nodes = new Float64Array(2 * half + 1);
    const weights = new Float64Array(2 * half + 1);
    for (let k = -half; k <= half; k++) {
      nodes[k + half] = k * h;
      weights[k + half] = h * normalPdf(k * h);
    }
    r = trapezoidRules[level] = { nodes, weights };
  }
  return r;
}

/** E sigma, E sigma(1 - sigma), E sigma(1 - sigma)(1 - 2 sigma) at beta (m + sqrt(v) Z - theta) by a normal quadrature rule. */
function logisticSum(p: SigmoidParams, m: number, v: number, q: NormalQuadrature): RateDerivs {
  const { nodes, weights } = q;
  const sd = Math.sqrt(v);
  const beta = p.beta;
  const x0 = beta * (m - p.theta);
  const bs = beta * sd;
  let nu = 0;
  let g = 0;
  let h = 0;
  for (let i = 0; i < nodes.length; i++) {
    const x = x0 + bs * nodes[i];
    // sigma and sigma (1 - sigma) without overflow for any x.
    const e = Math.exp(-Math.abs(x));
    const r = 1 / (1 + e);
    const sig = x >= 0 ? r : e * r;
    const sig1m = e * r * r;
    const w = weights[i];
    nu += w * sig;
    g += w * sig1m;
    h += w * sig1m * (1 - 2 * sig);
  }
  return { nu: p.numax * nu, g: p.numax * beta * g, h: 0.5 * p.numax * beta * beta * h };
}

// Trapezoid rule over the logistic variable L on [-40, 40]: the density sigma'(L) has poles at distance pi,
// so step 0.5 gives error ~exp(-2 pi^2 / 0.5) ~ 1e-17, and the tails beyond |L| = 40 weigh < 1e-17.
const DUAL_STEP = 0.5;
const DUAL_HALF = 40;
let dualRule: { nodes: Float64Array; weights: Float64Array } | null = null;
function dual(): { nodes: Float64Array; weights: Float64Array } {
  if (!dualRule) {
    const n = Math.round((2 * DUAL_HALF) / DUAL_STEP) + 1;
    const nodes = new Float64Array(n);
    const weights = new Float64Array(n);
    for (let k = 0; k < n; k++) {
      nodes[k] = -DUAL_HALF + k * DUAL_STEP;
      weights[k] = DUAL_STEP * logistic(nodes[k]).sig1m;
    }
    dualRule = { nodes, weights };
  }
  return dualRule;
}

/**
 * sigma(x) = P(L < x) for L standard logistic, so E sigma(a + b Z) = E_L Phi((a - L)/b) with a = beta (m - theta),
 * b = beta sqrt(v): the smooth Phi now carries the Gaussian and the sharp sigmoid became a density. Same
 * shape as probit: g = E phi(w) / sqrt(v), h = -E phi(w) w / (2 v), w = (a - L)/b.
 */
function logisticDual(p: SigmoidParams, m: number, v: number): RateDerivs {
  const { nodes, weights } = dual();
  const a = p.beta * (m - p.theta);
  const b = p.beta * Math.sqrt(v);
  let nu = 0;
  let g = 0;
  let h = 0;
  for (let k = 0; k < nodes.length; k++) {
    const w = (a - nodes[k]) / b;
    const phi = normalPdf(w);
    nu += weights[k] * normalCdf(w);
    g += weights[k] * phi;
    h += weights[k] * phi * w;
  }
  return { nu: p.numax * nu, g: (p.numax * g) / Math.sqrt(v), h: (-p.numax * h) / (2 * v) };
}

/** Population rate nu = E f(m + sqrt(v) Z), Z ~ N(0, 1). */
export function rateOf(p: SigmoidParams, m: number, v: number): number {
  return rateDerivs(p, m, v).nu;
}

function checkTargetRate(p: SigmoidParams, nu: number): void {
  if (!(nu > 0 && nu < p.numax)) {
    throw new ParameterError('nu', `${nu} is outside (0, numax = ${p.numax})`, 'a Gaussian population can only have rates strictly between 0 and numax');
  }
}

/** Probit inverse in m: the mean m with E f(m + sqrt(v) Z) = nu, i.e. m = theta + sqrt(s^2 + v) Phi^-1(nu/numax). */
export function invRateProbit(p: SigmoidParams, nu: number, v: number): number {
  checkArgs(p, p.theta, v);
  checkTargetRate(p, nu);
  return p.theta + Math.sqrt(p.s * p.s + v) * normalQuantile(nu / p.numax);
}

/** The mean m with E f(m + sqrt(v) Z) = nu: closed form for probit, a bracketed safeguarded Newton solve for logistic (nu is increasing in m). */
export function invRate(p: SigmoidParams, nu: number, v: number): number {
  if (p.sigmoid === 'probit') return invRateProbit(p, nu, v);
  checkArgs(p, p.theta, v);
  checkTargetRate(p, nu);
  const q = nu / p.numax;
  // Start from the probit-matched approximation of the logistic-normal integral.
  const guess = p.theta + (Math.log(q / (1 - q)) * Math.sqrt(1 + (Math.PI * p.beta * p.beta * v) / 8)) / p.beta;
  const width = Math.sqrt(v + (Math.PI * Math.PI) / (3 * p.beta * p.beta));
  const resid = (m: number) => rateOf(p, m, v) - nu;
  let lo = guess - width;
  let hi = guess + width;
  let step = width;
  let rLo = resid(lo);
  let rHi = resid(hi);
  for (let i = 0; rLo > 0 && i < 200; i++) {
    step *= 2;
    hi = lo;
    rHi = rLo;
    lo -= step;
    rLo = resid(lo);
  }
  step = width;
  for (let i = 0; rHi < 0 && i < 200; i++) {
    step *= 2;
    lo = hi;
    rLo = rHi;
    hi += step;
    rHi = resid(hi);
  }
  if (!(rLo <= 0 && rHi >= 0)) {
    throw new ParameterError('nu', `no mean gives rate ${nu} at variance ${v} (quadrature range exhausted)`, 'choose a rate further from 0 and numax');
  }
  let m = Math.min(Math.max(guess, lo), hi);
  for (let it = 0; it < 200; it++) {
    const d = rateDerivs(p, m, v);
    const r = d.nu - nu;
    if (r === 0) return m;
    if (r < 0) lo = m;
    else hi = m;
    let next = d.g > 0 ? m - r / d.g : NaN;
    if (!(next > lo && next < hi)) next = 0.5 * (lo + hi);
    if (Math.abs(next - m) <= 1e-15 * Math.max(1, Math.abs(m)) || hi - lo <= 1e-15 * Math.max(1, Math.abs(m))) return next;
    m = next;
  }
  return m;
}

/** A width of f(m + sqrt(v) Z) in u: the standard deviation of the Gaussian smeared by the sigmoid's own spread. */
export function rateWidth(p: SigmoidParams, v: number): number {
  return p.sigmoid === 'probit' ? Math.sqrt(p.s * p.s + v) : Math.sqrt(v + (Math.PI * Math.PI) / (3 * p.beta * p.beta));
}
