// AssemblyScript mirror of src/rng/philox.ts and src/rng/samplers.ts (themselves mirrors of shaders/common/rng.wgsl):
// Philox4x32-10 with counter (neuron, instance, step, stream << 16 | block) under the seed key, and the exact samplers
// with the same f32 operations in the same order. One generator lives in globals: a kernel resets it per draw site.
import { detCos2Pi, detExp, detLog, detLog1p, detRecip, detSqrt } from './detmath';

const M0: u64 = 0xd2511f53;
const M1: u64 = 0xcd9e8d57;
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

let gk0: u32 = 0;
let gk1: u32 = 0;
let gc0: u32 = 0;
let gc1: u32 = 0;
let gc2: u32 = 0;
let gc3: u32 = 0;
let gb0: u32 = 0;
let gb1: u32 = 0;
let gb2: u32 = 0;
let gb3: u32 = 0;
let gUsed: u32 = 4;

/** Philox4x32-10 of (c0..c3) under (k0, k1) into the generator's block words. */
// @ts-ignore: decorator
@inline function philoxBlock(c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  for (let i = 0; i < 10; i++) {
    const p0 = M0 * <u64>c0;
    const p1 = M1 * <u64>c2;
    c0 = <u32>(p1 >> 32) ^ c1 ^ k0;
    c1 = <u32>p1;
    c2 = <u32>(p0 >> 32) ^ c3 ^ k1;
    c3 = <u32>p0;
    k0 += W0;
    k1 += W1;
  }
  gb0 = c0;
  gb1 = c1;
  gb2 = c2;
  gb3 = c3;
}

/** Philox of one counter for the tests: the 4 words go to out[0..3] (a pointer into memory). */
export function philox4x32_10(out: usize, c0: u32, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): void {
  philoxBlock(c0, c1, c2, c3, k0, k1);
  store<u32>(out, gb0);
  store<u32>(out, gb1, 4);
  store<u32>(out, gb2, 8);
  store<u32>(out, gb3, 12);
}

/** Re-initialises the generator for (key, stream < 2^16, step, instance, neuron), like rngReset. */
// @ts-ignore: decorator
@inline export function rngReset(k0: u32, k1: u32, stream: u32, step: u32, instance: u32, neuron: u32): void {
  gk0 = k0;
  gk1 = k1;
  gc0 = neuron;
  gc1 = instance;
  gc2 = step;
  gc3 = stream << 16;
  gUsed = 4;
}

export function rngNextU32(): u32 {
  if (gUsed >= 4) {
    philoxBlock(gc0, gc1, gc2, gc3, gk0, gk1);
    gc3 = gc3 + 1;
    gUsed = 0;
  }
  const i = gUsed++;
  return i == 0 ? gb0 : i == 1 ? gb1 : i == 2 ? gb2 : gb3;
}

const EPS24: f32 = 5.9604645e-8;
const LOG2PI: f32 = 1.837877;

export function rngUniform(): f32 {
  return <f32>((rngNextU32() >> 8) | 1) * <f32>5.9604644775390625e-8;
}

export function rngNormal(): f32 {
  const u1 = rngUniform();
  const u2 = rngUniform();
  const rad = detSqrt(<f32>-2 * detLog(u1));
  return rad * detCos2Pi(u2);
}

export function rngBernoulli(p: f32): u32 {
  const x = rngNextU32();
  if (!(p > <f32>0)) return 0;
  if (p >= <f32>1) return 1;
  return <u64>x < <u64>Math.floor(<f64>p * 4294967296.0) ? 1 : 0;
}

const STIRLERR = memory.data<f32>([0, 0.08106147, 0.041340698, 0.027677925, 0.020790672, 0.016644692, 0.013876129, 0.01189671, 0.010411265, 0.009255462, 0.008330563, 0.0075736754, 0.0069428403, 0.006408994, 0.00595137, 0.0055547333]);
export const INV_ODD = memory.data<f32>([0.33333334, 0.2, 0.14285715, 0.11111111, 0.09090909, 0.07692308, 0.06666667, 0.05882353, 0.05263158, 0.04761905]);

/** stirlerr(n) for an integer-valued n >= 1 (f32). */
export function rngStirlerr(n: f32): f32 {
  if (n <= <f32>15) return load<f32>(STIRLERR + (<usize><i32>n << 2));
  const nn = detRecip(n);
  const nn2 = nn * nn;
  let s: f32 = 0.0005952381;
  s = <f32>0.0007936508 - nn2 * s;
  s = <f32>0.0027777778 - nn2 * s;
  s = <f32>0.083333336 - nn2 * s;
  return s * nn;
}

export function rngBd0(x: f32, M: f32, d: f32): f32 {
  const sum = x + M;
  if (Mathf.abs(d) < <f32>0.1 * sum) {
    const v = d * detRecip(sum);
    let s = d * v;
    let ej = <f32>2 * x * v;
    const v2 = v * v;
    for (let j = 0; j < 10; j++) {
      ej = ej * v2;
      const s1 = s + ej * load<f32>(INV_ODD + (<usize>j << 2));
      if (s1 == s) break;
      s = s1;
    }
    return s;
  }
  return x * detLog(x * detRecip(M)) - d;
}

/** The terms of rngPoissonLogPmf that depend on k alone, for k < 2048 (computed at start-up; PTRS's squeeze fails ~40% of the time). */
export const LOGPMF_K = 2048;
export const STIRLERR_K = memory.data(4 * LOGPMF_K);
export const HALF_LOG_2PI_K = memory.data(4 * LOGPMF_K);
for (let k: u32 = 1; k < <u32>LOGPMF_K; k++) {
  store<f32>(STIRLERR_K + (<usize>k << 2), rngStirlerr(<f32>k));
  store<f32>(HALF_LOG_2PI_K + (<usize>k << 2), <f32>0.5 * (LOG2PI + detLog(<f32>k)));
}

export function rngPoissonLogPmf(k: f32, lam: f32): f32 {
  if (k < <f32>1) return -lam;
  if (k < <f32>LOGPMF_K) {
    const o = <usize><u32>k << 2;
    return -(load<f32>(STIRLERR_K + o) + rngBd0(k, lam, k - lam)) - load<f32>(HALF_LOG_2PI_K + o);
  }
  return -(rngStirlerr(k) + rngBd0(k, lam, k - lam)) - <f32>0.5 * (LOG2PI + detLog(k));
}

/** Poisson(mean) for mean in [0, 1e7] (traps on NaN or a larger mean, where the TypeScript mirror throws). */
export function rngPoisson(lam: f32): u32 {
  if (isNaN(lam) || lam > <f32>1e7) unreachable();
  if (!(lam > <f32>0)) return 0;
  if (lam < <f32>10) return rngPoissonInversion(lam, detExp(-lam));
  return rngPoissonPtrs(lam);
}

/** detRecip(k) for k < 64, the divisors of the inversion loop (computed at start-up: the same bits, without 4 Newton steps per term). */
export const RECIP_INT = memory.data(4 * 64);
for (let k: u32 = 1; k < 64; k++) store<f32>(RECIP_INT + (<usize>k << 2), detRecip(<f32>k));

/** The inversion branch of rngPoisson for lam in (0, 10), given p0 = detExp(-lam) (a kernel hoists it for a constant lam). */
// @ts-ignore: decorator
@inline export function rngPoissonInversion(lam: f32, p0: f32): u32 {
  {
    const u = rngUniform();
    let k: u32 = 0;
    let p = p0;
    let F = p;
    for (;;) {
      if (u <= F) break;
      k = k + 1;
      p = p * lam * (k < 64 ? load<f32>(RECIP_INT + (<usize>k << 2)) : detRecip(<f32>k));
      F = F + p;
      if (p < F * EPS24) break;
    }
    return k;
  }
}

/** The PTRS branch of rngPoisson for lam >= 10. */
function rngPoissonPtrs(lam: f32): u32 {
  const slam = detSqrt(lam);
  const b = <f32>0.931 + <f32>2.53 * slam;
  const a = <f32>-0.059 + <f32>0.02483 * b;
  const logInvAlpha = detLog(<f32>1.1239 + <f32>1.1328 * detRecip(b - <f32>3.4));
  const vr = <f32>0.9277 - <f32>3.6224 * detRecip(b - <f32>2);
  return rngPoissonPtrsSample(lam, b, a, logInvAlpha, vr);
}

/** PTRS's rejection loop, given the constants it derives from lam (rngPoissonCached keeps them per lam). */
// @ts-ignore: decorator
@inline function rngPoissonPtrsSample(lam: f32, b: f32, a: f32, logInvAlpha: f32, vr: f32): u32 {
  return ptrsRounds(lam, b, a, logInvAlpha, vr, 0, Mathf.floor(lam));
}

/** PTRS's rounds from round it0 on, with k as the rounds before it left it (lamI before the first). */
// @ts-ignore: decorator
@inline function ptrsRounds(lam: f32, b: f32, a: f32, logInvAlpha: f32, vr: f32, it0: i32, k0: f32): u32 {
  const lamI = Mathf.floor(lam);
  const lamF = lam - lamI + <f32>0.43;
  const twoA = <f32>2 * a;
  let k = k0;
  for (let it = it0; it < 64; it++) {
    const U = rngUniform() - <f32>0.5;
    const V = rngUniform();
    const us = <f32>0.5 - Mathf.abs(U);
    k = Mathf.floor((twoA * detRecip(us) + b) * U + lamF) + lamI;
    if (k < <f32>0) continue;
    if (us >= <f32>0.07 && V <= vr) break;
    if (us < <f32>0.013 && V > us) continue;
    const lhs = detLog(V) + logInvAlpha - detLog(a * detRecip(us * us) + b);
    if (lhs <= rngPoissonLogPmf(k, lam)) break;
  }
  return <u32>max<f32>(k, 0);
}

/**
 * The rest of a PTRS draw whose round `round` (U, V, us, k: a SIMD kernel computed it) failed the quick acceptance:
 * that round's remaining tests, then the rounds after it from the generator (which must stand after the round's two words).
 */
export function rngPoissonPtrsResume(lam: f32, b: f32, a: f32, logInvAlpha: f32, vr: f32, V: f32, us: f32, k: f32, round: i32): u32 {
  if (!(k < <f32>0) && !(us < <f32>0.013 && V > us)) {
    const lhs = detLog(V) + logInvAlpha - detLog(a * detRecip(us * us) + b);
    if (lhs <= rngPoissonLogPmf(k, lam)) return <u32>max<f32>(k, 0);
  }
  return ptrsRounds(lam, b, a, logInvAlpha, vr, round + 1, k);
}

/** PTRS's rounds after round `round` (its k given), which rejected (the generator stands after the round's two words). */
export function rngPoissonPtrsAfter(lam: f32, b: f32, a: f32, logInvAlpha: f32, vr: f32, k: f32, round: i32): u32 {
  return ptrsRounds(lam, b, a, logInvAlpha, vr, round + 1, k);
}

/** Puts the generator where rngReset(counter c0..c3) and `used` draws of the block b0..b3 would have left it. */
// @ts-ignore: decorator
@inline export function rngLoadBlock(k0: u32, k1: u32, c0: u32, c1: u32, c2: u32, c3: u32, b0: u32, b1: u32, b2: u32, b3: u32, used: u32): void {
  gk0 = k0;
  gk1 = k1;
  gc0 = c0;
  gc1 = c1;
  gc2 = c2;
  gc3 = c3 + 1;
  gb0 = b0;
  gb1 = b1;
  gb2 = b2;
  gb3 = b3;
  gUsed = used;
}

/** Bytes of the scratch rngPoissonCached uses (per thread: it is written while sampling). */
export const POISSON_CACHE_BYTES: u32 = 1024 * 8 + 1024 * 20;
/** Neurons per block of the hybrid kernel's step (its lane queues hold one block's lanes). */
export const HYBRID_BLOCK: u32 = 128;
/**
 * The hybrid kernel's scratch for each of its two input streams (STREAM_STRIDE in hybrid.ts, which checks it): lane
 * staging, log-pmf table, a block's counts, two lane queues of 11 fields and a stage of four lanes' fields.
 */
export const LANE_SCRATCH_BYTES: u32 = 2 * (512 + 8 * LOGPMF_K + 4 * (HYBRID_BLOCK + 4) + 2 * 11 * 4 * (HYBRID_BLOCK + 4) + 11 * 16);
/** Scratch per thread that a kernel gets: the Poisson cache, then LANE_SCRATCH_BYTES. */
export const THREAD_SCRATCH_BYTES: u32 = POISSON_CACHE_BYTES + LANE_SCRATCH_BYTES;

/** detExp(-lam) for the inversion branch (0 < lam < 10) from rngPoissonCached's cache. */
// @ts-ignore: decorator
@inline export function rngPoissonP0Cached(lam: f32, cache: usize): f32 {
  const bits = reinterpret<u32>(lam);
  const e = cache + (<usize>(bits & 1023) << 3);
  if (load<u32>(e) != bits) {
    store<u32>(e, bits);
    store<f32>(e, detExp(-lam), 4);
  }
  return load<f32>(e, 4);
}

/**
 * rngPoisson(lam) with what it derives from lam alone (detExp(-lam); PTRS's constants) kept in a direct-mapped cache at
 * cache (POISSON_CACHE_BYTES, zeroed at first use), keyed by lam's bits. A kernel whose means take few distinct f32 values
 * (the hybrid network's: a large total minus one neuron's share) skips most of that work; the draws are the same bits.
 */
// @ts-ignore: decorator
@inline export function rngPoissonCached(lam: f32, cache: usize): u32 {
  if (isNaN(lam) || lam > <f32>1e7) unreachable();
  if (!(lam > <f32>0)) return 0;
  if (lam < <f32>10) return rngPoissonInversion(lam, rngPoissonP0Cached(lam, cache));
  const e = rngPtrsConstants(lam, cache);
  return rngPoissonPtrsSample(lam, load<f32>(e, 4), load<f32>(e, 8), load<f32>(e, 12), load<f32>(e, 16));
}

/** The cache entry of PTRS's constants for lam >= 10 (filled on a miss): b, a, log(1/alpha), vr at +4, +8, +12, +16. */
// @ts-ignore: decorator
@inline export function rngPtrsConstants(lam: f32, cache: usize): usize {
  const bits = reinterpret<u32>(lam);
  const e = cache + 8192 + <usize>(bits & 1023) * 20;
  if (load<u32>(e) != bits) {
    const slam = detSqrt(lam);
    const b = <f32>0.931 + <f32>2.53 * slam;
    store<u32>(e, bits);
    store<f32>(e, b, 4);
    store<f32>(e, <f32>-0.059 + <f32>0.02483 * b, 8);
    store<f32>(e, detLog(<f32>1.1239 + <f32>1.1328 * detRecip(b - <f32>3.4)), 12);
    store<f32>(e, <f32>0.9277 - <f32>3.6224 * detRecip(b - <f32>2), 16);
  }
  return e;
}

export function rngBinomialLogPmf(k: f32, n: u32, nf: f32, p: f32, q: f32, np: f32, nq: f32): f32 {
  if (k < <f32>1) return nf * detLog1p(-p);
  const ku = <u32><i64>k;
  if (ku >= n) return nf * detLog(p);
  const nk = <f32>(n - ku);
  const d = k - np;
  let lc = rngStirlerr(nf) - rngStirlerr(k);
  lc = lc - rngStirlerr(nk);
  lc = lc - rngBd0(k, np, d);
  lc = lc - rngBd0(nk, nq, -d);
  const lf = LOG2PI + detLog(k) + detLog1p(-(k * detRecip(nf)));
  return lc - <f32>0.5 * lf;
}

export function rngBinomial(n: u32, p: f32): u32 {
  if (isNaN(p)) unreachable();
  if (n == 0 || !(p > <f32>0)) return 0;
  if (p >= <f32>1) return n;
  const flip = p > <f32>0.5;
  const pp = flip ? <f32>1 - p : p;
  const q = <f32>1 - pp;
  const nf = <f32>n;
  const np = nf * pp;
  let kd: f64 = 0;
  if (np < <f32>10) {
    const u = rngUniform();
    const ratio = pp * detRecip(q);
    let pk = detExp(nf * detLog1p(-pp));
    let F = pk;
    let k: u32 = 0;
    for (;;) {
      if (u <= F || <f64>k >= <f64>nf) break;
      k = k + 1;
      pk = pk * (ratio * (<f32>(n - k + 1) * detRecip(<f32>k)));
      F = F + pk;
      if (pk < F * EPS24) break;
    }
    kd = <f64>k;
  } else {
    const nq = nf * q;
    const spq = detSqrt(np * q);
    const b = <f32>1.15 + <f32>2.53 * spq;
    const rb = detRecip(b);
    const a = <f32>-0.0873 + <f32>0.0248 * b + <f32>0.01 * pp;
    const logAlpha = detLog((<f32>2.83 + <f32>5.1 * rb) * spq);
    const vr = <f32>0.92 - <f32>4.2 * rb;
    const npI = Mathf.floor(np);
    const c = np - npI + <f32>0.5;
    const m = Mathf.floor((nf + <f32>1) * pp);
    const lfm = rngBinomialLogPmf(m, n, nf, pp, q, np, nq);
    const twoA = <f32>2 * a;
    let k: f32 = 0;
    for (let it = 0; it < 64; it++) {
      const U = rngUniform() - <f32>0.5;
      const V = rngUniform();
      const us = <f32>0.5 - Mathf.abs(U);
      k = Mathf.floor((twoA * detRecip(us) + b) * U + c) + npI;
      if (k < <f32>0 || k > nf) continue;
      if (us >= <f32>0.07 && V <= vr) break;
      const lhs = detLog(V) + logAlpha - detLog(a * detRecip(us * us) + b);
      if (lhs <= rngBinomialLogPmf(k, n, nf, pp, q, np, nq) - lfm) break;
    }
    kd = min<f64>(max<f64>(<f64>k, 0), <f64>nf);
  }
  const ku = <u32>min<f64>(min<f64>(kd, 4294967295.0), <f64>n);
  return flip ? n - ku : ku;
}

/** rngPoissonCached as an export, for the tests (kernels inline it). */
export function rngPoissonWithCache(lam: f32, cache: usize): u32 {
  return rngPoissonCached(lam, cache);
}
