// Deterministic f32 math (exp, log, sqrt, reciprocal, Phi, logistic) from +, -, *, floor, select and bitcasts only, mirrored op-for-op by src/rng/detmath.ts.
//
// Why: WGSL's builtin exp/log/sqrt and even `/` have implementation-defined accuracy (2.5 ulp
// for division, 3 + 2*ulp for exp...), so the CPU reference could not reproduce them. +, - and *
// are correctly rounded in WGSL, so every function here is a fixed sequence of those operations
// and its result is a function of its input bits alone. Two rules keep it that way:
//   * constants are f32 literals (Tint rounds them to nearest, as Math.fround does) — never
//     expressions of literals, which WGSL would fold in higher precision;
//   * products feeding an add are exact where it costs nothing (n * LN2_HI, e * LN2_HI,
//     power-of-two scalings), so an FMA contraction cannot change them. The remaining Horner
//     steps could change in the last bit on a driver that contracts a*b+c; SwiftShader does not
//     (checked by test/rng.gpu.test.ts);
//   * no exact-rounding tricks such as (1 + x) - 1 or Fast2Sum: SwiftShader folds (1 + x) - 1
//     into x (found by the bit-equality test), so such code silently changes meaning.
// Subnormals are never produced or consumed (GPUs may flush them), inputs outside the useful
// ranges are clamped, and NaN/inf inputs are not supported.

const DET_FLT_MAX: f32 = 0x1.fffffep+127f; // largest finite f32 (Tint rejects a decimal that rounds up to it)
const DET_FLT_MIN: f32 = 1.1754944e-38;
const DET_LOG2E: f32 = 1.442695;
// ln 2 split so that n * DET_LN2_HI is exact for |n| <= 256 (DET_LN2_HI has 15 significant bits).
const DET_LN2_HI: f32 = 0.693145751953125;
const DET_LN2_LO: f32 = 0.0000014286068;
const DET_SQRT2: f32 = 1.4142135;
const DET_PIO2: f32 = 1.5707964;

/** u32 -> f32 rounded to nearest even, spelled out because WGSL leaves the rounding of f32(u32) above 2^24 open. */
fn detU32ToF32(x: u32) -> f32 {
  // Both conversions are exact (< 2^16) and so is the product; the one add rounds to nearest.
  return f32(x >> 16u) * 65536.0 + f32(x & 0xffffu);
}

/** 1/x to about 1.5 ulp: bit-trick seed and four Newton steps; |x| must lie in [2^-125, 2^125] (clamped). */
fn detRecip(x: f32) -> f32 {
  let bits = bitcast<u32>(x);
  let sign = bits & 0x80000000u;
  let ax = clamp(bitcast<f32>(bits & 0x7fffffffu), 2.3509887e-38, 4.2535296e37);
  // The seed's relative error is below 12.5%; each step squares it: 1.6e-2, 2.4e-4, 6e-8, f32 limit.
  var y = bitcast<f32>(0x7ef311c3u - bitcast<u32>(ax));
  y = y * (2.0 - ax * y);
  y = y * (2.0 - ax * y);
  y = y * (2.0 - ax * y);
  y = y * (2.0 - ax * y);
  return bitcast<f32>(bitcast<u32>(y) | sign);
}

/** sqrt(x) to about 2 ulp from an inverse-sqrt seed and Newton steps; x < 2^-125 gives 0. */
fn detSqrt(x: f32) -> f32 {
  // Below 2^-125, 0.5 x would be subnormal (flushed on many GPUs).
  if (!(x >= 2.3509887e-38)) {
    return 0.0;
  }
  let hx = 0.5 * x;
  var y = bitcast<f32>(0x5f3759dfu - (bitcast<u32>(x) >> 1u));
  // Seed error < 3.5%; each step roughly squares it.
  for (var i = 0u; i < 4u; i++) {
    let t = (hx * y) * y;
    y = y * (1.5 - t);
  }
  return x * y;
}

/** exp(x), relative error < 4e-7; 0 for x < -87 (below the normal range), FLT_MAX for x > 88.7. */
fn detExp(x: f32) -> f32 {
  if (!(x > -87.0)) {
    return 0.0;
  }
  if (x > 88.7) {
    return DET_FLT_MAX;
  }
  // x = n ln2 + r with |r| <= ln2/2 (Cody-Waite: n * LN2_HI is exact, so r loses nothing).
  var n = floor(x * DET_LOG2E + 0.5);
  var r = x - n * DET_LN2_HI;
  r = r - n * DET_LN2_LO;
  // e^r = 1 + r + r^2 q(r), Taylor to r^8 (truncation < 3e-10 on |r| <= 0.35).
  var q: f32 = 0.000024801588;
  q = 0.0001984127 + r * q;
  q = 0.0013888889 + r * q;
  q = 0.008333334 + r * q;
  q = 0.041666668 + r * q;
  q = 0.16666667 + r * q;
  q = 0.5 + r * q;
  var y = 1.0 + (r + (r * r) * q);
  // 2^n with n in [-125, 128]; 2^128 is not an f32, so take one factor 2 into y first (exact).
  if (n > 127.0) {
    y = y * 2.0;
    n = 127.0;
  }
  let scale = bitcast<f32>(u32(i32(n) + 127) << 23u);
  return y * scale;
}

/** e ln2 + log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1]: the shared core of detLog and detLog1p. */
fn detLogCore(f: f32, e: f32) -> f32 {
  // log(1 + f) = 2 atanh(s), s = f / (2 + f), |s| < 0.172; written as f - (hfsq - s (hfsq + R))
  // so the rounding error of s only touches the small correction term.
  let s = f * detRecip(2.0 + f);
  let z = s * s;
  var R: f32 = 0.18181819;
  R = 0.22222222 + z * R;
  R = 0.2857143 + z * R;
  R = 0.4 + z * R;
  R = 0.6666667 + z * R;
  R = z * R;
  let hfsq = (0.5 * f) * f;
  return e * DET_LN2_HI + (f - (hfsq - (s * (hfsq + R) + e * DET_LN2_LO)));
}

/** log(x), relative error < 4e-7 (also near x = 1); x < FLT_MIN (incl. 0) gives -FLT_MAX. */
fn detLog(x: f32) -> f32 {
  if (!(x >= DET_FLT_MIN)) {
    return -DET_FLT_MAX;
  }
  let bits = bitcast<u32>(x);
  var e = f32(i32(bits >> 23u) - 127);
  var m = bitcast<f32>((bits & 0x007fffffu) | 0x3f800000u);
  if (m > DET_SQRT2) {
    m = m * 0.5;
    e = e + 1.0;
  }
  return detLogCore(m - 1.0, e);
}

/** log(1 + x) for x > -1, relative error < 4e-7 also for tiny x (used for binomial q^n). */
fn detLog1p(x: f32) -> f32 {
  // Below 2^-24, log1p(x) rounds to x; this also keeps the sign of zero however the compiler folds.
  if (abs(x) < 5.9604645e-8) {
    return x;
  }
  // Near 0 the core takes x itself, so 1 + x is never rounded. (The textbook trick
  // log(u) * x / (u - 1) is unusable: SwiftShader folds (1 + x) - 1 into x.)
  if (x > -0.29289323 && x < 0.41421357) {
    return detLogCore(x, 0.0);
  }
  return detLog(1.0 + x);
}

/** cos(2 pi u) for u in [0, 1], absolute error ~1e-7 (Box-Muller's angle). */
fn detCos2Pi(u: f32) -> f32 {
  // Quarter turns: t = 4u exactly, k = nearest quarter, theta = (t - k) pi/2 in [-pi/4, pi/4].
  let t = u * 4.0;
  let k = floor(t + 0.5);
  let th = (t - k) * DET_PIO2;
  let z = th * th;
  // cos = 1 - z(1/2! - z(1/4! - z(1/6! - z(1/8! - z/10!)))), sin = th - th z(1/3! - z(1/5! - z(1/7! - z/9!))).
  var c: f32 = 2.755732e-7;
  c = 0.000024801588 - z * c;
  c = 0.0013888889 - z * c;
  c = 0.041666668 - z * c;
  c = 0.5 - z * c;
  c = 1.0 - z * c;
  var s: f32 = 0.0000027557319;
  s = 0.0001984127 - z * s;
  s = 0.008333334 - z * s;
  s = 0.16666667 - z * s;
  s = th - th * (z * s);
  let quadrant = u32(k) & 3u;
  var out = c;
  if (quadrant == 1u) { out = -s; }
  if (quadrant == 2u) { out = -c; }
  if (quadrant == 3u) { out = s; }
  return out;
}

/** Standard normal cdf Phi(x), absolute error < 3e-7 (Zelen-Severo rational form, both tails without cancellation). */
fn detNormalCdf(x: f32) -> f32 {
  let ax = min(abs(x), 20.0);
  let t = detRecip(1.0 + 0.2316419 * ax);
  // Abramowitz & Stegun 26.2.17 coefficients (error < 7.5e-8 in exact arithmetic).
  var p: f32 = 1.330274429;
  p = -1.821255978 + t * p;
  p = 1.781477937 + t * p;
  p = -0.356563782 + t * p;
  p = 0.319381530 + t * p;
  p = t * p;
  let tail0 = (0.3989423 * detExp((-0.5 * ax) * ax)) * p;
  // Beyond |x| ~ 13 the tail is subnormal, which GPUs may flush: make it 0 everywhere.
  let tail = select(tail0, 0.0, tail0 < DET_FLT_MIN);
  return select(1.0 - tail, tail, x < 0.0);
}

/** The logistic function 1 / (1 + exp(-x)), relative error ~3e-7, never NaN. */
fn detLogistic(x: f32) -> f32 {
  if (x >= 0.0) {
    return detRecip(1.0 + detExp(-x));
  }
  let e = detExp(x);
  return e * detRecip(1.0 + e);
}
