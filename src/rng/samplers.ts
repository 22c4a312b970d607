// Exact samplers (uniform, normal, Bernoulli, Poisson, binomial) mirroring shaders/common/rng.wgsl op for op.
//
// Every f32 operation is followed by Math.fround and done in the WGSL order, so the CPU reference
// draws the same integers as the GPU from the same counters. See rng.wgsl for the algorithms.
import { ParameterError } from '../errors.ts';
import { detCos2Pi, detExp, detLog, detLog1p, detRecip, detSqrt, detU32ToF32 } from './detmath.ts';
import { rngNextU32, type Rng } from './philox.ts';

const f = Math.fround;
const EPS24 = f(5.9604645e-8);
const LOG2PI = f(1.837877);

/** Uniform on (0,1): (2j+1) 2^-24 from the top 23 bits of one word (exact in f32, never 0 or 1). */
export function rngUniform(r: Rng): number {
  return ((rngNextU32(r) >>> 8) | 1) * 5.9604644775390625e-8;
}

/** Standard normal by Box-Muller (cosine branch, 2 words per draw; |z| < 5.8). */
export function rngNormal(r: Rng): number {
  const u1 = rngUniform(r);
  const u2 = rngUniform(r);
  const rad = detSqrt(f(-2 * detLog(u1)));
  return f(rad * detCos2Pi(u2));
}

/** 1 with probability p (rounded to f32), else 0; compares one word with floor(p 2^32). Always uses one word. */
export function rngBernoulli(r: Rng, p: number): number {
  const x = rngNextU32(r);
  p = f(p);
  if (!(p > 0)) return 0;
  if (p >= 1) return 1;
  return x < Math.floor(p * 4294967296) ? 1 : 0;
}

const STIRLERR = [0, 0.08106147, 0.041340698, 0.027677925, 0.020790672, 0.016644692, 0.013876129, 0.01189671, 0.010411265, 0.009255462, 0.008330563, 0.0075736754, 0.0069428403, 0.006408994, 0.00595137, 0.0055547333].map(f);
const INV_ODD = [0.33333334, 0.2, 0.14285715, 0.11111111, 0.09090909, 0.07692308, 0.06666667, 0.05882353, 0.05263158, 0.04761905].map(f);

/** Loader's stirlerr(n) = log n! - log(sqrt(2 pi n)(n/e)^n) for integer n >= 1, in f32 (mirror of rngStirlerr). */
export function rngStirlerr(n: number): number {
  if (n <= 15) return STIRLERR[n];
  const nn = detRecip(n);
  const nn2 = f(nn * nn);
  let s = f(0.0005952381);
  s = f(f(0.0007936508) - f(nn2 * s));
  s = f(f(0.0027777778) - f(nn2 * s));
  s = f(f(0.083333336) - f(nn2 * s));
  return f(s * nn);
}

/** Loader's bd0(x, M) = x log(x/M) + M - x with d = x - M given, in f32 (mirror of rngBd0). */
export function rngBd0(x: number, M: number, d: number): number {
  const sum = f(x + M);
  if (Math.abs(d) < f(f(0.1) * sum)) {
    const v = f(d * detRecip(sum));
    let s = f(d * v);
    let ej = f(f(2 * x) * v);
    const v2 = f(v * v);
    for (let j = 0; j < 10; j++) {
      ej = f(ej * v2);
      const s1 = f(s + f(ej * INV_ODD[j]));
      if (s1 === s) break;
      s = s1;
    }
    return s;
  }
  return f(f(x * detLog(f(x * detRecip(M)))) - d);
}

/** log P(K = k), K ~ Poisson(lam), in f32 (mirror of rngPoissonLogPmf). */
export function rngPoissonLogPmf(k: number, lam: number): number {
  if (k < 1) return -lam;
  return f(-f(rngStirlerr(k) + rngBd0(k, lam, f(k - lam))) - f(0.5 * f(LOG2PI + detLog(k))));
}

/** Poisson(mean), exact in distribution up to f32 rounding for mean in [0, 1e7]; mean <= 0 gives 0 without using a word. */
export function rngPoisson(r: Rng, mean: number): number {
  if (Number.isNaN(mean) || mean > 1e7) {
    throw new ParameterError('Poisson mean', `${mean} is not in [0, 1e7]`, 'keep rate * dt below 1e7 (the GPU clamps to 1e7)');
  }
  const lam = f(mean);
  if (!(lam > 0)) return 0;
  if (lam < 10) {
    const u = rngUniform(r);
    let k = 0;
    let p = detExp(-lam);
    let F = p;
    for (;;) {
      if (u <= F) break;
      k = k + 1;
      p = f(f(p * lam) * detRecip(k));
      F = f(F + p);
      if (p < f(F * EPS24)) break;
    }
    return k;
  }
  // PTRS (Hormann 1993); constants and order exactly as in rng.wgsl.
  const slam = detSqrt(lam);
  const b = f(f(0.931) + f(f(2.53) * slam));
  const a = f(f(-0.059) + f(f(0.02483) * b));
  const logInvAlpha = detLog(f(f(1.1239) + f(f(1.1328) * detRecip(f(b - f(3.4))))));
  const vr = f(f(0.9277) - f(f(3.6224) * detRecip(f(b - 2))));
  const lamI = Math.floor(lam);
  const lamF = f(f(lam - lamI) + f(0.43));
  const twoA = f(2 * a);
  let k = lamI;
  for (let it = 0; it < 64; it++) {
    const U = f(rngUniform(r) - 0.5);
    const V = rngUniform(r);
    const us = f(0.5 - Math.abs(U));
    k = f(Math.floor(f(f(f(f(twoA * detRecip(us)) + b) * U) + lamF)) + lamI);
    if (k < 0) continue;
    if (us >= f(0.07) && V <= vr) break;
    if (us < f(0.013) && V > us) continue;
    const lhs = f(f(detLog(V) + logInvAlpha) - detLog(f(f(a * detRecip(f(us * us))) + b)));
    if (lhs <= rngPoissonLogPmf(k, lam)) break;
  }
  return Math.max(k, 0);
}

/** log P(K = k), K ~ Binomial(n, p), in f32 given nf, q, np, nq (mirror of rngBinomialLogPmf). */
export function rngBinomialLogPmf(k: number, n: number, nf: number, p: number, q: number, np: number, nq: number): number {
  if (k < 1) return f(nf * detLog1p(-p));
  const ku = k >>> 0;
  if (ku >= n) return f(nf * detLog(p));
  const nk = detU32ToF32(n - ku);
  const d = f(k - np);
  let lc = f(rngStirlerr(nf) - rngStirlerr(k));
  lc = f(lc - rngStirlerr(nk));
  lc = f(lc - rngBd0(k, np, d));
  lc = f(lc - rngBd0(nk, nq, -d));
  const lf = f(f(LOG2PI + detLog(k)) + detLog1p(-f(k * detRecip(nf))));
  return f(lc - f(0.5 * lf));
}

/** Binomial(n, p), exact in distribution up to f32 rounding (exact counts need n < 2^24). */
export function rngBinomial(r: Rng, n: number, p: number): number {
  if (!(Number.isInteger(n) && n >= 0 && n <= 0xffffffff)) throw new ParameterError('binomial n', `${n} is not a u32`, 'pass an integer count in [0, 2^32)');
  if (Number.isNaN(p)) throw new ParameterError('binomial p', 'is NaN', 'pass a probability in [0, 1]');
  p = f(p);
  if (n === 0 || !(p > 0)) return 0;
  if (p >= 1) return n;
  const flip = p > 0.5;
  const pp = flip ? f(1 - p) : p;
  const q = f(1 - pp);
  const nf = detU32ToF32(n);
  const np = f(nf * pp);
  let k = 0;
  if (np < 10) {
    const u = rngUniform(r);
    const ratio = f(pp * detRecip(q));
    let pk = detExp(f(nf * detLog1p(-pp)));
    let F = pk;
    for (;;) {
      if (u <= F || k >= nf) break;
      k = k + 1;
      pk = f(pk * f(ratio * f(detU32ToF32(n - k + 1) * detRecip(k))));
      F = f(F + pk);
      if (pk < f(F * EPS24)) break;
    }
  } else {
    const nq = f(nf * q);
    const spq = detSqrt(f(np * q));
    const b = f(f(1.15) + f(f(2.53) * spq));
    const rb = detRecip(b);
    const a = f(f(f(-0.0873) + f(f(0.0248) * b)) + f(f(0.01) * pp));
    const logAlpha = detLog(f(f(f(2.83) + f(f(5.1) * rb)) * spq));
    const vr = f(f(0.92) - f(f(4.2) * rb));
    const npI = Math.floor(np);
    const c = f(f(np - npI) + 0.5);
    const m = Math.floor(f(f(nf + 1) * pp));
    const lfm = rngBinomialLogPmf(m, n, nf, pp, q, np, nq);
    const twoA = f(2 * a);
    for (let it = 0; it < 64; it++) {
      const U = f(rngUniform(r) - 0.5);
      const V = rngUniform(r);
      const us = f(0.5 - Math.abs(U));
      k = f(Math.floor(f(f(f(f(twoA * detRecip(us)) + b) * U) + c)) + npI);
      if (k < 0 || k > nf) continue;
      if (us >= f(0.07) && V <= vr) break;
      const lhs = f(f(detLog(V) + logAlpha) - detLog(f(f(a * detRecip(f(us * us))) + b)));
      if (lhs <= f(rngBinomialLogPmf(k, n, nf, pp, q, np, nq) - lfm)) break;
    }
    k = Math.min(Math.max(k, 0), nf);
  }
  const ku = Math.min(k, 4294967295, n);
  return flip ? n - ku : ku;
}
