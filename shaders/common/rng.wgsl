// Counter-based randomness: Philox4x32-10 keyed by (seed, stream, step, instance, neuron) and exact samplers, mirrored bit for bit by src/rng/*.ts.
//
// No per-neuron generator state lives in memory: a kernel builds an Rng for its (step, instance,
// neuron) with rngCreate, draws what it needs and drops it, so results do not depend on dispatch
// order or workgroup size. Counter layout: ctr = (neuron, instance, step, (stream << 16) | block),
// key = seed. `block` counts Philox calls (4 u32 each); at most 65536 blocks (262144 u32) may be
// drawn per (seed, stream, step, instance, neuron) — beyond that the block carries into the
// stream bits. Streams are 16-bit (stream < 65536).
// Every float operation goes through the rules of detmath.wgsl (f32 literals, no `/`, no
// builtin transcendental), so src/rng/samplers.ts reproduces every integer draw exactly.
// @include common/detmath.wgsl

struct Rng {
  key: vec2<u32>,
  ctr: vec4<u32>,
  buf: vec4<u32>,
  used: u32,
}

const PHILOX_M0: u32 = 0xD2511F53u;
const PHILOX_M1: u32 = 0xCD9E8D57u;
const PHILOX_W0: u32 = 0x9E3779B9u;
const PHILOX_W1: u32 = 0xBB67AE85u;

/** High 32 bits of the 64-bit product a*b, from 16-bit limbs (WGSL has no 64-bit integers). */
fn rngMulHi(a: u32, b: u32) -> u32 {
  let aL = a & 0xffffu;
  let aH = a >> 16u;
  let bL = b & 0xffffu;
  let bH = b >> 16u;
  let ll = aL * bL;
  let lh = aL * bH;
  let hl = aH * bL;
  let hh = aH * bH;
  let mid = (ll >> 16u) + (lh & 0xffffu) + (hl & 0xffffu);
  return hh + (lh >> 16u) + (hl >> 16u) + (mid >> 16u);
}

/** Philox4x32 with 10 rounds (Salmon et al. 2011): a bijection of the counter for each key. */
fn philox4x32_10(ctr: vec4<u32>, key: vec2<u32>) -> vec4<u32> {
  var c = ctr;
  var k = key;
  for (var i = 0u; i < 10u; i++) {
    let hi0 = rngMulHi(PHILOX_M0, c.x);
    let lo0 = PHILOX_M0 * c.x;
    let hi1 = rngMulHi(PHILOX_M1, c.z);
    let lo1 = PHILOX_M1 * c.z;
    c = vec4<u32>(hi1 ^ c.y ^ k.x, lo1, hi0 ^ c.w ^ k.y, lo0);
    k = k + vec2<u32>(PHILOX_W0, PHILOX_W1);
  }
  return c;
}

/** A generator for one (seed, stream, step, instance, neuron); nothing is drawn until first use. */
fn rngCreate(seed: vec2<u32>, stream: u32, step: u32, instance: u32, neuron: u32) -> Rng {
  return Rng(seed, vec4<u32>(neuron, instance, step, stream << 16u), vec4<u32>(0u), 4u);
}

/** The next raw 32-bit word (one Philox call per four words). */
fn rngNextU32(r: ptr<function, Rng>) -> u32 {
  if ((*r).used >= 4u) {
    (*r).buf = philox4x32_10((*r).ctr, (*r).key);
    (*r).ctr.w = (*r).ctr.w + 1u;
    (*r).used = 0u;
  }
  let v = (*r).buf[(*r).used];
  (*r).used = (*r).used + 1u;
  return v;
}

/** Uniform on the open interval (0,1): the top 24 bits with the lowest forced to 1, i.e. (2j+1) 2^-24, j < 2^23 — exact. */
fn rngUniform(r: ptr<function, Rng>) -> f32 {
  // [0.5, 1) holds only 2^23 f32 values, so 2^23 equally likely midpoints is the finest exact
  // open-interval grid; the symmetric grid also makes 1 - u exact and never 0.
  return f32((rngNextU32(r) >> 8u) | 1u) * 5.9604644775390625e-8;
}

/** Standard normal (Box-Muller, cosine branch; 2 words per draw; |z| < 5.8 since u >= 2^-24). */
fn rngNormal(r: ptr<function, Rng>) -> f32 {
  let u1 = rngUniform(r);
  let u2 = rngUniform(r);
  let rad = detSqrt(-2.0 * detLog(u1));
  return rad * detCos2Pi(u2);
}

/** 1 with probability p, else 0; compares a full 32-bit word with floor(p 2^32), so the bias is < 2^-32. Always uses one word. */
fn rngBernoulli(r: ptr<function, Rng>, p: f32) -> u32 {
  let x = rngNextU32(r);
  if (!(p > 0.0)) {
    return 0u;
  }
  if (p >= 1.0) {
    return 1u;
  }
  // p * 2^32 is exact (power-of-two scaling) and < 2^32, so u32() truncation is exact.
  return select(0u, 1u, x < u32(p * 4294967296.0));
}

// ---- log-pmf pieces (Loader 2000, "Fast and accurate computation of binomial probabilities") ----

/** stirlerr(n) = log(n!) - log(sqrt(2 pi n) (n/e)^n) for integer n >= 1 (table to 15, series above). */
fn rngStirlerr(n: f32) -> f32 {
  if (n <= 15.0) {
    var t = array<f32, 16>(0.0, 0.08106147, 0.041340698, 0.027677925, 0.020790672, 0.016644692,
      0.013876129, 0.01189671, 0.010411265, 0.009255462, 0.008330563, 0.0075736754,
      0.0069428403, 0.006408994, 0.00595137, 0.0055547333);
    return t[u32(n)];
  }
  let nn = detRecip(n);
  let nn2 = nn * nn;
  // 1/12n - 1/360n^3 + 1/1260n^5 - 1/1680n^7 (next term < 1e-13 for n > 15).
  var s: f32 = 0.0005952381;
  s = 0.0007936508 - nn2 * s;
  s = 0.0027777778 - nn2 * s;
  s = 0.083333336 - nn2 * s;
  return s * nn;
}

/** bd0(x, M) = x log(x/M) + M - x >= 0, with d = x - M given exactly, without cancellation. */
fn rngBd0(x: f32, M: f32, d: f32) -> f32 {
  let sum = x + M;
  if (abs(d) < 0.1 * sum) {
    // Series in v = d/(x+M): d v + 2x (v^3/3 + v^5/5 + ...), every term positive-definite.
    let v = d * detRecip(sum);
    var s = d * v;
    var ej = (2.0 * x) * v;
    let v2 = v * v;
    var inv = array<f32, 10>(0.33333334, 0.2, 0.14285715, 0.11111111, 0.09090909, 0.07692308,
      0.06666667, 0.05882353, 0.05263158, 0.04761905);
    for (var j = 0u; j < 10u; j++) {
      ej = ej * v2;
      let s1 = s + ej * inv[j];
      if (s1 == s) {
        break;
      }
      s = s1;
    }
    return s;
  }
  return x * detLog(x * detRecip(M)) - d;
}

/** log P(K = k) for K ~ Poisson(lam), k a non-negative integer-valued f32. */
fn rngPoissonLogPmf(k: f32, lam: f32) -> f32 {
  if (k < 1.0) {
    return -lam;
  }
  return -(rngStirlerr(k) + rngBd0(k, lam, k - lam)) - 0.5 * (1.837877 + detLog(k));
}

// ---- Poisson ----

/** Poisson(mean), exact in distribution up to f32 rounding for mean in [0, 1e7] (clamped above); mean <= 0 -> 0 with no word used. */
fn rngPoisson(r: ptr<function, Rng>, mean: f32) -> u32 {
  if (!(mean > 0.0)) {
    return 0u;
  }
  let lam = min(mean, 1e7);
  if (lam < 10.0) {
    // Inversion by sequential search: one word. Stops early once the terms can no longer move
    // the f32 cdf (only reachable when u is within ~1e-7 of 1).
    let u = rngUniform(r);
    var k = 0.0;
    var p = detExp(-lam);
    var F = p;
    loop {
      if (u <= F) {
        break;
      }
      k = k + 1.0;
      p = (p * lam) * detRecip(k);
      F = F + p;
      if (p < F * 5.9604645e-8) {
        break;
      }
    }
    return u32(k);
  }
  // PTRS, Hormann (1993) "The transformed rejection method for generating Poisson random
  // variables", valid for lam >= 10; about 1.1-1.2 iterations (2 words each) on average.
  let slam = detSqrt(lam);
  let b = 0.931 + 2.53 * slam;
  let a = -0.059 + 0.02483 * b;
  let logInvAlpha = detLog(1.1239 + 1.1328 * detRecip(b - 3.4));
  let vr = 0.9277 - 3.6224 * detRecip(b - 2.0);
  // lam = lamI + lamF: adding the small offset to lamF keeps the floor exact when lam >= 2^22,
  // where an f32 near lam has no room for the fraction.
  let lamI = floor(lam);
  let lamF = (lam - lamI) + 0.43;
  let twoA = 2.0 * a;
  var k = lamI;
  for (var it = 0u; it < 64u; it++) {
    let U = rngUniform(r) - 0.5;
    let V = rngUniform(r);
    let us = 0.5 - abs(U);
    k = floor((twoA * detRecip(us) + b) * U + lamF) + lamI;
    if (k < 0.0) {
      continue;
    }
    if (us >= 0.07 && V <= vr) {
      break;
    }
    if (us < 0.013 && V > us) {
      continue;
    }
    let lhs = (detLog(V) + logInvAlpha) - detLog(a * detRecip(us * us) + b);
    if (lhs <= rngPoissonLogPmf(k, lam)) {
      break;
    }
    // 64 rejections in a row (probability < 1e-60) would return the last candidate.
  }
  return u32(max(k, 0.0));
}

// ---- binomial ----

/** log P(K = k) for K ~ Binomial(n, p), given nf = n, q = 1 - p, np = n p, nq = n q (k integer-valued, 0 <= k <= n). */
fn rngBinomialLogPmf(k: f32, n: u32, nf: f32, p: f32, q: f32, np: f32, nq: f32) -> f32 {
  if (k < 1.0) {
    return nf * detLog1p(-p);
  }
  let ku = u32(k);
  if (ku >= n) {
    return nf * detLog(p);
  }
  let nk = detU32ToF32(n - ku);
  let d = k - np;
  let lc = rngStirlerr(nf) - rngStirlerr(k) - rngStirlerr(nk) - rngBd0(k, np, d) - rngBd0(nk, nq, -d);
  // log(2 pi k (n-k)/n) = log 2pi + log k + log1p(-k/n)
  let lf = 1.837877 + detLog(k) + detLog1p(-(k * detRecip(nf)));
  return lc - 0.5 * lf;
}

/** Binomial(n, p), exact in distribution up to f32 rounding for n < 2^24 (above that, n and the counts are f32-quantized). */
fn rngBinomial(r: ptr<function, Rng>, n: u32, p: f32) -> u32 {
  if (n == 0u || !(p > 0.0)) {
    return 0u;
  }
  if (p >= 1.0) {
    return n;
  }
  // Work with p <= 1/2 (1 - p is exact for p >= 1/2) and reflect the result.
  let flip = p > 0.5;
  let pp = select(p, 1.0 - p, flip);
  let q = 1.0 - pp;
  let nf = detU32ToF32(n);
  let np = nf * pp;
  var k = 0.0;
  if (np < 10.0) {
    // Inversion by sequential search from k = 0: one word.
    let u = rngUniform(r);
    let ratio = pp * detRecip(q);
    var pk = detExp(nf * detLog1p(-pp));
    var F = pk;
    loop {
      if (u <= F || k >= nf) {
        break;
      }
      k = k + 1.0;
      pk = pk * (ratio * (detU32ToF32(n - u32(k) + 1u) * detRecip(k)));
      F = F + pk;
      if (pk < F * 5.9604645e-8) {
        break;
      }
    }
  } else {
    // BTRS, Hormann (1993) "The generation of binomial random variates", for n p (1-p) >= 5;
    // accepts on log f(k) - log f(m) computed with Loader's stirlerr/bd0 (no cancellation).
    let nq = nf * q;
    let spq = detSqrt(np * q);
    let b = 1.15 + 2.53 * spq;
    let rb = detRecip(b);
    let a = (-0.0873 + 0.0248 * b) + 0.01 * pp;
    let logAlpha = detLog((2.83 + 5.1 * rb) * spq);
    let vr = 0.92 - 4.2 * rb;
    let npI = floor(np);
    let c = (np - npI) + 0.5;
    let m = floor((nf + 1.0) * pp);
    let lfm = rngBinomialLogPmf(m, n, nf, pp, q, np, nq);
    let twoA = 2.0 * a;
    for (var it = 0u; it < 64u; it++) {
      let U = rngUniform(r) - 0.5;
      let V = rngUniform(r);
      let us = 0.5 - abs(U);
      k = floor((twoA * detRecip(us) + b) * U + c) + npI;
      if (k < 0.0 || k > nf) {
        continue;
      }
      if (us >= 0.07 && V <= vr) {
        break;
      }
      let lhs = (detLog(V) + logAlpha) - detLog(a * detRecip(us * us) + b);
      if (lhs <= rngBinomialLogPmf(k, n, nf, pp, q, np, nq) - lfm) {
        break;
      }
    }
    k = clamp(k, 0.0, nf);
  }
  let ku = min(u32(k), n);
  return select(ku, n - ku, flip);
}
