// Deterministic f32 math mirroring shaders/common/detmath.wgsl operation for operation (Math.fround after every op).
//
// Every function below is the WGSL function of the same name transcribed literally: the same
// constants (rounded to f32 the way Tint rounds literals), the same operation order, the same
// clamps. +, -, * of two f32 values computed in f64 and rounded once with Math.fround equal the
// correctly rounded f32 result, which is what WGSL guarantees for those operators, so results are
// bit-identical as long as the GPU compiler does not contract a*b+c into an FMA (see the .wgsl).

const f = Math.fround;
const scratchF = new Float32Array(1);
const scratchU = new Uint32Array(scratchF.buffer);

/** The bits of an f32 value (x is rounded to f32 first). */
export function f32Bits(x: number): number {
  scratchF[0] = x;
  return scratchU[0];
}

/** The f32 value with the given bits. */
export function f32FromBits(bits: number): number {
  scratchU[0] = bits >>> 0;
  return scratchF[0];
}

const DET_FLT_MAX = f(3.4028234663852886e38);
const DET_FLT_MIN = f(1.1754944e-38);
const DET_LOG2E = f(1.442695);
const DET_LN2_HI = f(0.693145751953125);
const DET_LN2_LO = f(0.0000014286068);
const DET_SQRT2 = f(1.4142135);
const DET_PIO2 = f(1.5707964);
const RECIP_MIN = f(2.3509887e-38);
const RECIP_MAX = f(4.2535296e37);

/** u32 -> f32 rounded to nearest even (WGSL spells this out; here one fround is the same). */
export function detU32ToF32(x: number): number {
  return f(x >>> 0);
}

/** 1/x to about 1.5 ulp via a bit-trick seed and four Newton steps (mirror of WGSL detRecip). */
export function detRecip(x: number): number {
  const bits = f32Bits(x);
  const sign = bits & 0x80000000;
  const ax = Math.min(Math.max(f32FromBits(bits & 0x7fffffff), RECIP_MIN), RECIP_MAX);
  let y = f32FromBits((0x7ef311c3 - f32Bits(ax)) >>> 0);
  y = f(y * f(2 - f(ax * y)));
  y = f(y * f(2 - f(ax * y)));
  y = f(y * f(2 - f(ax * y)));
  y = f(y * f(2 - f(ax * y)));
  return f32FromBits((f32Bits(y) | sign) >>> 0);
}

/** sqrt(x) to about 2 ulp from an inverse-sqrt seed and Newton steps; x < 2^-125 gives 0. */
export function detSqrt(x: number): number {
  x = f(x);
  if (!(x >= f(2.3509887e-38))) return 0;
  const hx = f(0.5 * x);
  let y = f32FromBits((0x5f3759df - (f32Bits(x) >>> 1)) >>> 0);
  for (let i = 0; i < 4; i++) {
    const t = f(f(hx * y) * y);
    y = f(y * f(1.5 - t));
  }
  return f(x * y);
}

/** exp(x), relative error < 4e-7; 0 for x < -87, FLT_MAX for x > 88.7 (mirror of WGSL detExp). */
export function detExp(x: number): number {
  x = f(x);
  if (!(x > -87)) return 0;
  if (x > f(88.7)) return DET_FLT_MAX;
  let n = Math.floor(f(f(x * DET_LOG2E) + 0.5));
  let r = f(x - f(n * DET_LN2_HI));
  r = f(r - f(n * DET_LN2_LO));
  let q = f(0.000024801588);
  q = f(f(0.0001984127) + f(r * q));
  q = f(f(0.0013888889) + f(r * q));
  q = f(f(0.008333334) + f(r * q));
  q = f(f(0.041666668) + f(r * q));
  q = f(f(0.16666667) + f(r * q));
  q = f(0.5 + f(r * q));
  let y = f(1 + f(r + f(f(r * r) * q)));
  if (n > 127) {
    y = f(y * 2);
    n = 127;
  }
  return f(y * 2 ** n);
}

/** e ln2 + log(1 + f) for f in [sqrt(1/2) - 1, sqrt(2) - 1]: the shared core of detLog and detLog1p. */
function detLogCore(fm: number, e: number): number {
  const s = f(fm * detRecip(f(2 + fm)));
  const z = f(s * s);
  let R = f(0.18181819);
  R = f(f(0.22222222) + f(z * R));
  R = f(f(0.2857143) + f(z * R));
  R = f(f(0.4) + f(z * R));
  R = f(f(0.6666667) + f(z * R));
  R = f(z * R);
  const hfsq = f(f(0.5 * fm) * fm);
  return f(f(e * DET_LN2_HI) + f(fm - f(hfsq - f(f(s * f(hfsq + R)) + f(e * DET_LN2_LO)))));
}

/** log(x), relative error < 4e-7 (also near 1); x < FLT_MIN gives -FLT_MAX (mirror of WGSL detLog). */
export function detLog(x: number): number {
  x = f(x);
  if (!(x >= DET_FLT_MIN)) return -DET_FLT_MAX;
  const bits = f32Bits(x);
  let e = (bits >>> 23) - 127;
  let m = f32FromBits((bits & 0x007fffff) | 0x3f800000);
  if (m > DET_SQRT2) {
    m = f(m * 0.5);
    e = e + 1;
  }
  return detLogCore(f(m - 1), e);
}

/** log(1 + x) for x > -1, relative error < 4e-7 also for tiny x (mirror of WGSL detLog1p). */
export function detLog1p(x: number): number {
  x = f(x);
  if (Math.abs(x) < f(5.9604645e-8)) return x;
  if (x > f(-0.29289323) && x < f(0.41421357)) return detLogCore(x, 0);
  return detLog(f(1 + x));
}

/** cos(2 pi u) for u in [0, 1], absolute error ~1e-7 (mirror of WGSL detCos2Pi). */
export function detCos2Pi(u: number): number {
  const t = f(f(u) * 4);
  const k = Math.floor(f(t + 0.5));
  const th = f(f(t - k) * DET_PIO2);
  const z = f(th * th);
  let c = f(2.755732e-7);
  c = f(f(0.000024801588) - f(z * c));
  c = f(f(0.0013888889) - f(z * c));
  c = f(f(0.041666668) - f(z * c));
  c = f(0.5 - f(z * c));
  c = f(1 - f(z * c));
  let s = f(0.0000027557319);
  s = f(f(0.0001984127) - f(z * s));
  s = f(f(0.008333334) - f(z * s));
  s = f(f(0.16666667) - f(z * s));
  s = f(th - f(th * f(z * s)));
  const quadrant = k & 3;
  if (quadrant === 1) return -s;
  if (quadrant === 2) return -c;
  if (quadrant === 3) return s;
  return c;
}

/** Standard normal cdf Phi(x), absolute error < 3e-7 (mirror of WGSL detNormalCdf). */
export function detNormalCdf(x: number): number {
  x = f(x);
  const ax = Math.min(Math.abs(x), 20);
  const t = detRecip(f(1 + f(f(0.2316419) * ax)));
  let p = f(1.330274429);
  p = f(f(-1.821255978) + f(t * p));
  p = f(f(1.781477937) + f(t * p));
  p = f(f(-0.356563782) + f(t * p));
  p = f(f(0.31938153) + f(t * p));
  p = f(t * p);
  const tail0 = f(f(f(0.3989423) * detExp(f(f(-0.5 * ax) * ax))) * p);
  const tail = tail0 < DET_FLT_MIN ? 0 : tail0;
  return x < 0 ? tail : f(1 - tail);
}

/** The logistic function 1 / (1 + exp(-x)), relative error ~3e-7 (mirror of WGSL detLogistic). */
export function detLogistic(x: number): number {
  x = f(x);
  if (x >= 0) return detRecip(f(1 + detExp(-x)));
  const e = detExp(x);
  return f(e * detRecip(f(1 + e)));
}
