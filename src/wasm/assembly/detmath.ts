// AssemblyScript mirror of src/rng/detmath.ts (itself the mirror of shaders/common/detmath.wgsl): the same constants,
// the same operation order and the same clamps, in native f32 arithmetic (every + - * rounds to f32 once, which is
// what Math.fround after each operation does in the TypeScript mirror). Compiled by `npm run build:wasm`.

const DET_FLT_MAX: f32 = 3.4028234663852886e38;
const DET_FLT_MIN: f32 = 1.1754944e-38;
const DET_LOG2E: f32 = 1.442695;
const DET_LN2_HI: f32 = 0.693145751953125;
const DET_LN2_LO: f32 = 0.0000014286068;
const DET_SQRT2: f32 = 1.4142135;
const DET_PIO2: f32 = 1.5707964;
const RECIP_MIN: f32 = 2.3509887e-38;
const RECIP_MAX: f32 = 4.2535296e37;

// @ts-ignore: decorator
@inline export function detU32ToF32(x: u32): f32 {
  return <f32>x;
}

// @ts-ignore: decorator
@inline export function detRecip(x: f32): f32 {
  const bits = reinterpret<u32>(x);
  const sign = bits & 0x80000000;
  const ax = min<f32>(max<f32>(reinterpret<f32>(bits & 0x7fffffff), RECIP_MIN), RECIP_MAX);
  let y = reinterpret<f32>(<u32>0x7ef311c3 - reinterpret<u32>(ax));
  y = y * (<f32>2 - ax * y);
  y = y * (<f32>2 - ax * y);
  y = y * (<f32>2 - ax * y);
  y = y * (<f32>2 - ax * y);
  return reinterpret<f32>(reinterpret<u32>(y) | sign);
}

export function detSqrt(x: f32): f32 {
  if (!(x >= <f32>2.3509887e-38)) return 0;
  const hx = <f32>0.5 * x;
  let y = reinterpret<f32>(<u32>0x5f3759df - (reinterpret<u32>(x) >> 1));
  for (let i = 0; i < 4; i++) {
    const t = hx * y * y;
    y = y * (<f32>1.5 - t);
  }
  return x * y;
}

export function detExp(x: f32): f32 {
  if (!(x > <f32>-87)) return 0;
  if (x > <f32>88.7) return DET_FLT_MAX;
  let n = Mathf.floor(x * DET_LOG2E + <f32>0.5);
  let r = x - n * DET_LN2_HI;
  r = r - n * DET_LN2_LO;
  let q: f32 = 0.000024801588;
  q = <f32>0.0001984127 + r * q;
  q = <f32>0.0013888889 + r * q;
  q = <f32>0.008333334 + r * q;
  q = <f32>0.041666668 + r * q;
  q = <f32>0.16666667 + r * q;
  q = <f32>0.5 + r * q;
  let y = <f32>1 + (r + r * r * q);
  if (n > <f32>127) {
    y = y * <f32>2;
    n = 127;
  }
  return y * reinterpret<f32>(<u32>(<i32>n + 127) << 23);
}

function detLogCore(fm: f32, e: f32): f32 {
  const s = fm * detRecip(<f32>2 + fm);
  const z = s * s;
  let R: f32 = 0.18181819;
  R = <f32>0.22222222 + z * R;
  R = <f32>0.2857143 + z * R;
  R = <f32>0.4 + z * R;
  R = <f32>0.6666667 + z * R;
  R = z * R;
  const hfsq = <f32>0.5 * fm * fm;
  return e * DET_LN2_HI + (fm - (hfsq - (s * (hfsq + R) + e * DET_LN2_LO)));
}

export function detLog(x: f32): f32 {
  if (!(x >= DET_FLT_MIN)) return -DET_FLT_MAX;
  const bits = reinterpret<u32>(x);
  let e = <i32>(bits >> 23) - 127;
  let m = reinterpret<f32>((bits & 0x007fffff) | 0x3f800000);
  if (m > DET_SQRT2) {
    m = m * <f32>0.5;
    e = e + 1;
  }
  return detLogCore(m - <f32>1, <f32>e);
}

export function detLog1p(x: f32): f32 {
  if (Mathf.abs(x) < <f32>5.9604645e-8) return x;
  if (x > <f32>-0.29289323 && x < <f32>0.41421357) return detLogCore(x, 0);
  return detLog(<f32>1 + x);
}

export function detCos2Pi(u: f32): f32 {
  const t = u * <f32>4;
  const k = Mathf.floor(t + <f32>0.5);
  const th = (t - k) * DET_PIO2;
  const z = th * th;
  let c: f32 = 2.755732e-7;
  c = <f32>0.000024801588 - z * c;
  c = <f32>0.0013888889 - z * c;
  c = <f32>0.041666668 - z * c;
  c = <f32>0.5 - z * c;
  c = <f32>1 - z * c;
  let s: f32 = 0.0000027557319;
  s = <f32>0.0001984127 - z * s;
  s = <f32>0.008333334 - z * s;
  s = <f32>0.16666667 - z * s;
  s = th - th * (z * s);
  const quadrant = <i32>k & 3;
  if (quadrant == 1) return -s;
  if (quadrant == 2) return -c;
  if (quadrant == 3) return s;
  return c;
}

export function detNormalCdf(x: f32): f32 {
  const ax = min<f32>(Mathf.abs(x), 20);
  const t = detRecip(<f32>1 + <f32>0.2316419 * ax);
  let p: f32 = 1.330274429;
  p = <f32>-1.821255978 + t * p;
  p = <f32>1.781477937 + t * p;
  p = <f32>-0.356563782 + t * p;
  p = <f32>0.31938153 + t * p;
  p = t * p;
  const tail0 = <f32>0.3989423 * detExp(<f32>-0.5 * ax * ax) * p;
  const tail: f32 = tail0 < DET_FLT_MIN ? 0 : tail0;
  return x < <f32>0 ? tail : <f32>1 - tail;
}

export function detLogistic(x: f32): f32 {
  if (x >= <f32>0) return detRecip(<f32>1 + detExp(-x));
  const e = detExp(x);
  return e * detRecip(<f32>1 + e);
}
