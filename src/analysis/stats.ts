// Goodness-of-fit and distribution helpers in f64 (chi-square, Kolmogorov-Smirnov, normal cdf/quantile, Poisson/binomial pmfs) for testing samplers against theory.
import { ParameterError } from '../errors.ts';

const LOG_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/** log Gamma(x) for x > 0, relative error ~1e-15 (upward shift to x >= 15, then the Stirling series). */
export function logGamma(x: number): number {
  if (!(x > 0) || !Number.isFinite(x)) throw new ParameterError('logGamma x', `${x} is not a positive finite number`, 'pass x > 0');
  let shift = 0;
  let z = x;
  // Gamma(x) = Gamma(x + m) / (x (x+1) ... (x+m-1)); the product stays far from overflow for m <= 15.
  if (z < 15) {
    let prod = 1;
    while (z < 15) {
      prod *= z;
      z += 1;
    }
    shift = Math.log(prod);
  }
  const iz = 1 / z;
  const iz2 = iz * iz;
  // Bernoulli-number coefficients B_2k / (2k (2k-1)); the next term is below 1e-19 at z = 15.
  const series = iz * (1 / 12 - iz2 * (1 / 360 - iz2 * (1 / 1260 - iz2 * (1 / 1680 - iz2 * (1 / 1188 - iz2 * (691 / 360360 - iz2 / 156))))));
  return (z - 0.5) * Math.log(z) - z + LOG_SQRT_2PI + series - shift;
}

/** Series for P(a, x), good for x < a + 1. */
function gammaPSeries(a: number, x: number): number {
  let term = 1 / a;
  let sum = term;
  for (let n = 1; n < 100000; n++) {
    term *= x / (a + n);
    sum += term;
    if (Math.abs(term) < Math.abs(sum) * 1e-17) break;
  }
  return sum * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Continued fraction for Q(a, x) (modified Lentz), good for x >= a + 1. */
function gammaQFraction(a: number, x: number): number {
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  for (let i = 1; i < 100000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = d * c;
    h *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return h * Math.exp(-x + a * Math.log(x) - logGamma(a));
}

/** Regularized lower incomplete gamma P(a, x) = gamma(a, x) / Gamma(a). */
export function regularizedGammaP(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new ParameterError('regularizedGammaP', `a=${a}, x=${x}`, 'need a > 0 and x >= 0');
  if (x === 0) return 0;
  return x < a + 1 ? gammaPSeries(a, x) : 1 - gammaQFraction(a, x);
}

/** Regularized upper incomplete gamma Q(a, x) = 1 - P(a, x), accurate in the far tail. */
export function regularizedGammaQ(a: number, x: number): number {
  if (!(a > 0) || !(x >= 0)) throw new ParameterError('regularizedGammaQ', `a=${a}, x=${x}`, 'need a > 0 and x >= 0');
  if (x === 0) return 1;
  return x < a + 1 ? 1 - gammaPSeries(a, x) : gammaQFraction(a, x);
}

/** Upper-tail probability P(X >= x) of a chi-square variable with df degrees of freedom (the test's p-value). */
export function chiSquareSurvival(x: number, df: number): number {
  if (!(df > 0)) throw new ParameterError('chi-square df', `${df}`, 'need at least one degree of freedom');
  if (x <= 0) return 1;
  return regularizedGammaQ(df / 2, x / 2);
}

/** Outcome of a chi-square goodness-of-fit test. */
export interface ChiSquareResult {
  statistic: number;
  df: number;
  pValue: number;
  /** Number of bins after merging. */
  bins: number;
}

/**
 * Pearson chi-square test of observed vs expected counts; adjacent bins are merged left to right
 * until each expects at least `minExpected` (the usual validity rule), `ddof` = fitted parameters.
 */
export function chiSquareTest(observed: ArrayLike<number>, expected: ArrayLike<number>, options: { minExpected?: number; ddof?: number } = {}): ChiSquareResult {
  const minExpected = options.minExpected ?? 5;
  const ddof = options.ddof ?? 0;
  if (observed.length !== expected.length) throw new ParameterError('chiSquareTest', 'observed and expected differ in length', 'pass one expected count per bin');
  const o: number[] = [];
  const e: number[] = [];
  let accO = 0;
  let accE = 0;
  for (let i = 0; i < observed.length; i++) {
    accO += observed[i];
    accE += expected[i];
    if (accE >= minExpected) {
      o.push(accO);
      e.push(accE);
      accO = 0;
      accE = 0;
    }
  }
  if (o.length === 0) throw new ParameterError('chiSquareTest', `total expected count ${accE} is below ${minExpected}`, 'use more samples');
  o[o.length - 1] += accO;
  e[e.length - 1] += accE;
  let stat = 0;
  for (let i = 0; i < o.length; i++) stat += ((o[i] - e[i]) * (o[i] - e[i])) / e[i];
  const df = o.length - 1 - ddof;
  if (df < 1) throw new ParameterError('chiSquareTest', `only ${o.length} bins after merging`, 'use more samples or a wider distribution');
  return { statistic: stat, df, pValue: chiSquareSurvival(stat, df), bins: o.length };
}

/**
 * Chi-square test of integer samples against a pmf given as log-probabilities on [lo, hi]; samples
 * outside the range count in the edge bins, whose expectation gets the rest of the mass (1 - sum).
 */
export function discreteChiSquareTest(samples: ArrayLike<number>, logPmf: (k: number) => number, lo: number, hi: number, options: { minExpected?: number } = {}): ChiSquareResult {
  const n = samples.length;
  const width = hi - lo + 1;
  const observed = new Float64Array(width);
  for (let i = 0; i < n; i++) {
    const k = Math.min(Math.max(samples[i], lo), hi);
    observed[k - lo] += 1;
  }
  const expected = new Float64Array(width);
  let total = 0;
  for (let k = lo; k <= hi; k++) {
    const p = Math.exp(logPmf(k));
    expected[k - lo] = p;
    total += p;
  }
  // Put the (tiny) mass outside [lo, hi] on the upper edge; callers pick ranges many sd wide.
  expected[width - 1] += Math.max(0, 1 - total);
  for (let i = 0; i < width; i++) expected[i] *= n;
  return chiSquareTest(observed, expected, options);
}

/** log P(K = k) for K ~ Poisson(lam), k a non-negative integer. */
export function poissonLogPmf(k: number, lam: number): number {
  if (lam === 0) return k === 0 ? 0 : -Infinity;
  return k * Math.log(lam) - lam - logGamma(k + 1);
}

/** log P(K = k) for K ~ Binomial(n, p). */
export function binomialLogPmf(k: number, n: number, p: number): number {
  if (k < 0 || k > n) return -Infinity;
  if (p === 0) return k === 0 ? 0 : -Infinity;
  if (p === 1) return k === n ? 0 : -Infinity;
  return logGamma(n + 1) - logGamma(k + 1) - logGamma(n - k + 1) + k * Math.log(p) + (n - k) * Math.log1p(-p);
}

/** Standard normal density. */
export function normalPdf(x: number): number {
  return Math.exp(-0.5 * x * x - LOG_SQRT_2PI);
}

/** Standard normal cdf, relative error ~1e-15 in both tails (via Q(1/2, x^2/2) = erfc(|x|/sqrt 2)). */
export function normalCdf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  if (x === Infinity) return 1;
  if (x === -Infinity) return 0;
  const tail = 0.5 * regularizedGammaQ(0.5, 0.5 * x * x);
  return x < 0 ? tail : 1 - tail;
}

/** Standard normal quantile (inverse cdf), ~1e-15 relative: a rational first guess and three Halley steps. */
export function normalQuantile(p: number): number {
  if (!(p > 0 && p < 1)) {
    if (p === 0) return -Infinity;
    if (p === 1) return Infinity;
    throw new ParameterError('normalQuantile p', `${p}`, 'pass a probability in [0, 1]');
  }
  const pm = Math.min(p, 1 - p);
  // Abramowitz & Stegun 26.2.23 (error < 4.5e-4) as the starting point.
  const t = Math.sqrt(-2 * Math.log(pm));
  let x = t - (2.515517 + t * (0.802853 + t * 0.010328)) / (1 + t * (1.432788 + t * (0.189269 + t * 0.001308)));
  x = p < 0.5 ? -x : x;
  for (let i = 0; i < 3; i++) {
    // Work in the smaller tail so the residual keeps its relative precision.
    const e = p < 0.5 ? normalCdf(x) - p : 1 - p - normalCdf(-x);
    const u = e / normalPdf(x);
    x = x - u / (1 + 0.5 * x * u);
  }
  return x;
}

/** Kolmogorov-Smirnov statistic D = sup |F_n(x) - F(x)| of the samples against a continuous cdf. */
export function ksStatistic(samples: ArrayLike<number>, cdf: (x: number) => number): number {
  const xs = Float64Array.from(samples).sort();
  const n = xs.length;
  let d = 0;
  for (let i = 0; i < n; i++) {
    const F = cdf(xs[i]);
    d = Math.max(d, (i + 1) / n - F, F - i / n);
  }
  return d;
}

/** P(K > lambda) for the Kolmogorov distribution (two series, each used where it converges fast). */
export function kolmogorovSurvival(lambda: number): number {
  if (lambda <= 0) return 1;
  if (lambda < 1.18) {
    // 1 - sqrt(2 pi)/lambda * sum exp(-(2j-1)^2 pi^2 / (8 lambda^2))
    let s = 0;
    for (let j = 1; j < 50; j++) s += Math.exp(-((2 * j - 1) ** 2) * Math.PI * Math.PI / (8 * lambda * lambda));
    return 1 - (Math.sqrt(2 * Math.PI) / lambda) * s;
  }
  let s = 0;
  for (let j = 1; j < 50; j++) s += (j % 2 === 1 ? 1 : -1) * Math.exp(-2 * j * j * lambda * lambda);
  return Math.min(1, Math.max(0, 2 * s));
}

/** Asymptotic p-value of a KS statistic d from n samples (Stephens' small-sample correction). */
export function ksPValue(d: number, n: number): number {
  const sn = Math.sqrt(n);
  return kolmogorovSurvival((sn + 0.12 + 0.11 / sn) * d);
}

/** One-sample KS test against a continuous cdf. */
export function ksTest(samples: ArrayLike<number>, cdf: (x: number) => number): { statistic: number; pValue: number } {
  const d = ksStatistic(samples, cdf);
  return { statistic: d, pValue: ksPValue(d, samples.length) };
}

/**
 * z-scores of the sample mean and variance against the true mean, variance and fourth central
 * moment mu4 (standard errors sqrt(var/n) and sqrt((mu4 - var^2)/n)).
 */
export function momentZScores(samples: ArrayLike<number>, mean: number, variance: number, mu4: number): { mean: number; variance: number; zMean: number; zVariance: number } {
  const n = samples.length;
  let s = 0;
  for (let i = 0; i < n; i++) s += samples[i];
  const m = s / n;
  let s2 = 0;
  for (let i = 0; i < n; i++) s2 += (samples[i] - m) * (samples[i] - m);
  const v = s2 / (n - 1);
  const zMean = (m - mean) / Math.sqrt(variance / n);
  const varOfVar = (mu4 - variance * variance) / n;
  const zVariance = varOfVar > 0 ? (v - variance) / Math.sqrt(varOfVar) : v === variance ? 0 : Infinity;
  return { mean: m, variance: v, zMean, zVariance };
}

/** Pure: the mean and the min-max envelope, point by point, of replicate series of one length (a band over replicates). */
export function replicateEnvelope(series: readonly ArrayLike<number>[]): { mean: number[]; lo: number[]; hi: number[] } {
  if (series.length === 0) throw new ParameterError('series', 'is empty', 'give at least one replicate series');
  const len = series[0].length;
  for (const s of series) if (s.length !== len) throw new ParameterError('series', `has replicates of lengths ${len} and ${s.length}`, 'give series of one length (the same recorded steps)');
  const mean = new Array<number>(len).fill(0);
  const lo = new Array<number>(len).fill(Infinity);
  const hi = new Array<number>(len).fill(-Infinity);
  for (const s of series) {
    for (let i = 0; i < len; i++) {
      mean[i] += s[i] / series.length;
      lo[i] = Math.min(lo[i], s[i]);
      hi[i] = Math.max(hi[i], s[i]);
    }
  }
  return { mean, lo, hi };
}
