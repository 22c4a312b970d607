// Four lanes at a time of what rng.ts and detmath.ts compute one at a time: the same operations in the same order on
// f32x4 / i32x4 (each lane rounds like the scalar f32 operation; wasm SIMD has no fused multiply-add, and min, max,
// abs, floor and the saturating conversions are the scalar instructions' lane by lane), so every lane's bits equal
// the scalar function's. Branches become selects. test/wasm-rng.test.ts compares them on many inputs.
import { detRecip } from './detmath';
import { HALF_LOG_2PI_K, INV_ODD, LOGPMF_K, RECIP_INT, STIRLERR_K } from './rng';

/** Philox4x32-10's multipliers in every lane, and its key increments. */
export const PHILOX_M0: v128 = i32x4(0xd2511f53, 0xd2511f53, 0xd2511f53, 0xd2511f53);
export const PHILOX_M1: v128 = i32x4(0xcd9e8d57, 0xcd9e8d57, 0xcd9e8d57, 0xcd9e8d57);
export const PHILOX_W0: u32 = 0x9e3779b9;
export const PHILOX_W1: u32 = 0xbb67ae85;
const PHILOX_W0x4: v128 = i32x4(0x9e3779b9, 0x9e3779b9, 0x9e3779b9, 0x9e3779b9);
const PHILOX_W1x4: v128 = i32x4(0xbb67ae85, 0xbb67ae85, 0xbb67ae85, 0xbb67ae85);

/** Words 1, 2, 3 of the last philox4 (wasm globals belong to one instance, so each thread has its own). */
export let philoxWord1: v128 = i32x4.splat(0);
export let philoxWord2: v128 = i32x4.splat(0);
export let philoxWord3: v128 = i32x4.splat(0);

/** Philox4x32-10 of four counters (lane l: c0[l] .. c3[l]) under (k0, k1): the block's word 0; words 1..3 in philoxWord1..3. */
// @ts-ignore: decorator
@inline export function philox4Lanes(c0: v128, c1: v128, c2: v128, c3: v128, k0: u32, k1: u32): v128 {
  // The round keys as vectors bumped by a vector add: a scalar key splatted afresh each round cost three instructions.
  let key0 = i32x4.splat(k0), key1 = i32x4.splat(k1);
  for (let i = 0; i < 10; i++) {
    // 32 x 32 -> 64-bit products of lanes (0, 1) and (2, 3); as i32 lanes a pair is [lo, hi, lo, hi]: odd lanes are high words.
    const p0a = i64x2.extmul_low_i32x4_u(c0, PHILOX_M0);
    const p0b = i64x2.extmul_high_i32x4_u(c0, PHILOX_M0);
    const p1a = i64x2.extmul_low_i32x4_u(c2, PHILOX_M1);
    const p1b = i64x2.extmul_high_i32x4_u(c2, PHILOX_M1);
    const hi0 = v128.shuffle<i32>(p0a, p0b, 1, 3, 5, 7);
    const lo0 = v128.shuffle<i32>(p0a, p0b, 0, 2, 4, 6);
    const hi1 = v128.shuffle<i32>(p1a, p1b, 1, 3, 5, 7);
    const lo1 = v128.shuffle<i32>(p1a, p1b, 0, 2, 4, 6);
    c0 = v128.xor(v128.xor(hi1, c1), key0);
    c1 = lo1;
    c2 = v128.xor(v128.xor(hi0, c3), key1);
    c3 = lo0;
    key0 = i32x4.add(key0, PHILOX_W0x4);
    key1 = i32x4.add(key1, PHILOX_W1x4);
  }
  philoxWord1 = c1;
  philoxWord2 = c2;
  philoxWord3 = c3;
  return c0;
}

/** philox4Lanes for counters that differ only in c0 (a kernel's neurons k..k+3 at one instance, step and stream). */
// @ts-ignore: decorator
@inline export function philox4(c0: v128, c1: u32, c2: u32, c3: u32, k0: u32, k1: u32): v128 {
  return philox4Lanes(c0, i32x4.splat(c1), i32x4.splat(c2), i32x4.splat(c3), k0, k1);
}

/** Words 0..3 of the second block of the last philox4Pair. */
export let philoxPairB0: v128 = i32x4.splat(0);
export let philoxPairB1: v128 = i32x4.splat(0);
export let philoxPairB2: v128 = i32x4.splat(0);
export let philoxPairB3: v128 = i32x4.splat(0);

/**
 * philox4 of two blocks whose counters differ only in c3 (a kernel's two streams for neurons k..k+3), their rounds
 * interleaved: each block is a chain of ten dependent rounds, which the core overlaps only when they sit side by
 * side. The first block's word 0 is returned and its words 1..3 left in philoxWord1..3; the second's in philoxPairB0..3.
 */
// @ts-ignore: decorator
@inline export function philox4Pair(c0: v128, c1: u32, c2: u32, c3A: u32, c3B: u32, k0: u32, k1: u32): v128 {
  let a0 = c0, a1 = i32x4.splat(c1), a2 = i32x4.splat(c2), a3 = i32x4.splat(c3A);
  let b0 = c0, b1 = a1, b2 = a2, b3 = i32x4.splat(c3B);
  let key0 = i32x4.splat(k0), key1 = i32x4.splat(k1);
  for (let i = 0; i < 10; i++) {
    const pa0 = i64x2.extmul_low_i32x4_u(a0, PHILOX_M0);
    const pb0 = i64x2.extmul_low_i32x4_u(b0, PHILOX_M0);
    const pa1 = i64x2.extmul_high_i32x4_u(a0, PHILOX_M0);
    const pb1 = i64x2.extmul_high_i32x4_u(b0, PHILOX_M0);
    const pa2 = i64x2.extmul_low_i32x4_u(a2, PHILOX_M1);
    const pb2 = i64x2.extmul_low_i32x4_u(b2, PHILOX_M1);
    const pa3 = i64x2.extmul_high_i32x4_u(a2, PHILOX_M1);
    const pb3 = i64x2.extmul_high_i32x4_u(b2, PHILOX_M1);
    a0 = v128.xor(v128.xor(v128.shuffle<i32>(pa2, pa3, 1, 3, 5, 7), a1), key0);
    b0 = v128.xor(v128.xor(v128.shuffle<i32>(pb2, pb3, 1, 3, 5, 7), b1), key0);
    a1 = v128.shuffle<i32>(pa2, pa3, 0, 2, 4, 6);
    b1 = v128.shuffle<i32>(pb2, pb3, 0, 2, 4, 6);
    a2 = v128.xor(v128.xor(v128.shuffle<i32>(pa0, pa1, 1, 3, 5, 7), a3), key1);
    b2 = v128.xor(v128.xor(v128.shuffle<i32>(pb0, pb1, 1, 3, 5, 7), b3), key1);
    a3 = v128.shuffle<i32>(pa0, pa1, 0, 2, 4, 6);
    b3 = v128.shuffle<i32>(pb0, pb1, 0, 2, 4, 6);
    key0 = i32x4.add(key0, PHILOX_W0x4);
    key1 = i32x4.add(key1, PHILOX_W1x4);
  }
  philoxWord1 = a1;
  philoxWord2 = a2;
  philoxWord3 = a3;
  philoxPairB0 = b0;
  philoxPairB1 = b1;
  philoxPairB2 = b2;
  philoxPairB3 = b3;
  return a0;
}

/** rngUniform of each lane's word: (x >> 8 | 1) 2^-24. */
// @ts-ignore: decorator
@inline export function uniform4(w: v128): v128 {
  return f32x4.mul(f32x4.convert_i32x4_s(v128.or(i32x4.shr_u(w, 8), i32x4.splat(1))), f32x4.splat(5.9604644775390625e-8));
}

/** detRecip per lane. */
// @ts-ignore: decorator
@inline export function detRecip4(x: v128): v128 {
  const sign = v128.and(x, i32x4.splat(0x80000000));
  const ax = f32x4.pmin(f32x4.pmax(v128.and(x, i32x4.splat(0x7fffffff)), f32x4.splat(2.3509887e-38)), f32x4.splat(4.2535296e37));
  let y = i32x4.sub(i32x4.splat(0x7ef311c3), ax);
  const two = f32x4.splat(2);
  y = f32x4.mul(y, f32x4.sub(two, f32x4.mul(ax, y)));
  y = f32x4.mul(y, f32x4.sub(two, f32x4.mul(ax, y)));
  y = f32x4.mul(y, f32x4.sub(two, f32x4.mul(ax, y)));
  y = f32x4.mul(y, f32x4.sub(two, f32x4.mul(ax, y)));
  return v128.or(y, sign);
}

/** detSqrt per lane (0 below 2^-125 and for NaN). */
// @ts-ignore: decorator
@inline export function detSqrt4(x: v128): v128 {
  const hx = f32x4.mul(f32x4.splat(0.5), x);
  let y = i32x4.sub(i32x4.splat(0x5f3759df), i32x4.shr_u(x, 1));
  for (let i = 0; i < 4; i++) {
    const t = f32x4.mul(f32x4.mul(hx, y), y);
    y = f32x4.mul(y, f32x4.sub(f32x4.splat(1.5), t));
  }
  return v128.bitselect(f32x4.mul(x, y), f32x4.splat(0), f32x4.ge(x, f32x4.splat(2.3509887e-38)));
}

/** u64ToF32 of total - own per lane (own: four u32): the high word scaled by 2^32 exactly, then one rounding of the sum. */
// @ts-ignore: decorator
@inline export function u64DiffToF32x4(total: u64, own: v128): v128 {
  const t = i64x2.splat(total);
  const a = i64x2.sub(t, i64x2.extend_low_i32x4_u(own));
  const b = i64x2.sub(t, i64x2.extend_high_i32x4_u(own));
  const hi = f32x4.convert_i32x4_s(v128.shuffle<i32>(a, b, 1, 3, 5, 7));
  const lo = f32x4.convert_i32x4_u(v128.shuffle<i32>(a, b, 0, 2, 4, 6));
  return f32x4.add(f32x4.mul(hi, f32x4.splat(4294967296)), lo);
}

/** detExp per lane (0 below -87 and for NaN, FLT_MAX above 88.7). */
// @ts-ignore: decorator
@inline export function detExp4(x: v128): v128 {
  let n = f32x4.floor(f32x4.add(f32x4.mul(x, f32x4.splat(1.442695)), f32x4.splat(0.5)));
  let r = f32x4.sub(x, f32x4.mul(n, f32x4.splat(0.693145751953125)));
  r = f32x4.sub(r, f32x4.mul(n, f32x4.splat(0.0000014286068)));
  let q = f32x4.splat(0.000024801588);
  q = f32x4.add(f32x4.splat(0.0001984127), f32x4.mul(r, q));
  q = f32x4.add(f32x4.splat(0.0013888889), f32x4.mul(r, q));
  q = f32x4.add(f32x4.splat(0.008333334), f32x4.mul(r, q));
  q = f32x4.add(f32x4.splat(0.041666668), f32x4.mul(r, q));
  q = f32x4.add(f32x4.splat(0.16666667), f32x4.mul(r, q));
  q = f32x4.add(f32x4.splat(0.5), f32x4.mul(r, q));
  let y = f32x4.add(f32x4.splat(1), f32x4.add(r, f32x4.mul(f32x4.mul(r, r), q)));
  const big = f32x4.gt(n, f32x4.splat(127));
  y = v128.bitselect(f32x4.mul(y, f32x4.splat(2)), y, big);
  n = v128.bitselect(f32x4.splat(127), n, big);
  const scale = i32x4.shl(i32x4.add(i32x4.trunc_sat_f32x4_s(n), i32x4.splat(127)), 23);
  const out = f32x4.mul(y, scale);
  const low = v128.not(f32x4.gt(x, f32x4.splat(-87)));
  const high = f32x4.gt(x, f32x4.splat(88.7));
  return v128.bitselect(f32x4.splat(0), v128.bitselect(f32x4.splat(3.4028234663852886e38), out, high), low);
}

/** detNormalCdf per lane. */
// @ts-ignore: decorator
@inline export function detNormalCdf4(x: v128): v128 {
  const ax = f32x4.pmin(f32x4.abs(x), f32x4.splat(20));
  const t = detRecip4(f32x4.add(f32x4.splat(1), f32x4.mul(f32x4.splat(0.2316419), ax)));
  let p = f32x4.splat(1.330274429);
  p = f32x4.add(f32x4.splat(-1.821255978), f32x4.mul(t, p));
  p = f32x4.add(f32x4.splat(1.781477937), f32x4.mul(t, p));
  p = f32x4.add(f32x4.splat(-0.356563782), f32x4.mul(t, p));
  p = f32x4.add(f32x4.splat(0.31938153), f32x4.mul(t, p));
  p = f32x4.mul(t, p);
  const tail0 = f32x4.mul(f32x4.mul(f32x4.splat(0.3989423), detExp4(f32x4.mul(f32x4.mul(f32x4.splat(-0.5), ax), ax))), p);
  const tail = v128.bitselect(f32x4.splat(0), tail0, f32x4.lt(tail0, f32x4.splat(1.1754944e-38)));
  return v128.bitselect(tail, f32x4.sub(f32x4.splat(1), tail), f32x4.lt(x, f32x4.splat(0)));
}

/** detLogistic per lane: both of its branches use e = detExp(-|x|). */
// @ts-ignore: decorator
@inline export function detLogistic4(x: v128): v128 {
  const pos = f32x4.ge(x, f32x4.splat(0));
  const e = detExp4(v128.bitselect(f32x4.neg(x), x, pos));
  const r = detRecip4(f32x4.add(f32x4.splat(1), e));
  return v128.bitselect(r, f32x4.mul(e, r), pos);
}

/** detLog per lane (-FLT_MAX below FLT_MIN and for NaN). */
// @ts-ignore: decorator
@inline export function detLog4(x: v128): v128 {
  let e = i32x4.sub(i32x4.shr_u(x, 23), i32x4.splat(127));
  let m = v128.or(v128.and(x, i32x4.splat(0x007fffff)), i32x4.splat(0x3f800000));
  const up = f32x4.gt(m, f32x4.splat(1.4142135));
  m = v128.bitselect(f32x4.mul(m, f32x4.splat(0.5)), m, up);
  e = i32x4.sub(e, up);
  const fm = f32x4.sub(m, f32x4.splat(1));
  const ef = f32x4.convert_i32x4_s(e);
  const s = f32x4.mul(fm, detRecip4(f32x4.add(f32x4.splat(2), fm)));
  const z = f32x4.mul(s, s);
  let R = f32x4.splat(0.18181819);
  R = f32x4.add(f32x4.splat(0.22222222), f32x4.mul(z, R));
  R = f32x4.add(f32x4.splat(0.2857143), f32x4.mul(z, R));
  R = f32x4.add(f32x4.splat(0.4), f32x4.mul(z, R));
  R = f32x4.add(f32x4.splat(0.6666667), f32x4.mul(z, R));
  R = f32x4.mul(z, R);
  const hfsq = f32x4.mul(f32x4.mul(f32x4.splat(0.5), fm), fm);
  const lo = f32x4.add(f32x4.mul(s, f32x4.add(hfsq, R)), f32x4.mul(ef, f32x4.splat(0.0000014286068)));
  const out = f32x4.add(f32x4.mul(ef, f32x4.splat(0.693145751953125)), f32x4.sub(fm, f32x4.sub(hfsq, lo)));
  return v128.bitselect(out, f32x4.splat(-3.4028234663852886e38), f32x4.ge(x, f32x4.splat(1.1754944e-38)));
}

/** rngBd0 per lane of `active`: the series (in lock step, each lane stopping where the scalar loop does) or the direct form. */
// @ts-ignore: decorator
@inline export function bd04(x: v128, M: v128, d: v128, active: v128 = i32x4.splat(-1)): v128 {
  const sum = f32x4.add(x, M);
  const series = f32x4.lt(f32x4.abs(d), f32x4.mul(f32x4.splat(0.1), sum));
  // Each form only where a lane of `active` needs it (near the mode, where PTRS's k falls, the series serves every
  // lane); the other lanes' results are not defined.
  let out = i32x4.splat(0);
  if (v128.any_true(v128.andnot(active, series))) out = f32x4.sub(f32x4.mul(x, detLog4(f32x4.mul(x, detRecip4(M)))), d);
  let live = v128.and(series, active);
  if (v128.any_true(live)) {
    const v = f32x4.mul(d, detRecip4(sum));
    let s = f32x4.mul(d, v);
    let ej = f32x4.mul(f32x4.mul(f32x4.splat(2), x), v);
    const v2 = f32x4.mul(v, v);
    for (let j = 0; j < 10; j++) {
      ej = f32x4.mul(ej, v2);
      const s1 = f32x4.add(s, f32x4.mul(ej, f32x4.splat(load<f32>(INV_ODD + (<usize>j << 2)))));
      live = v128.andnot(live, f32x4.eq(s1, s));
      s = v128.bitselect(s1, s, live);
      if (!v128.any_true(live)) break;
    }
    out = v128.bitselect(s, out, series);
  }
  return out;
}

/** rngPoissonLogPmf per lane for integer-valued k in [0, LOGPMF_K) (the caller keeps other k out): the k-only terms from rng.ts's tables. Lanes outside `active` are not defined. */
// @ts-ignore: decorator
@inline export function poissonLogPmf4(k: v128, lam: v128, active: v128 = i32x4.splat(-1)): v128 {
  // Clamped so that lanes the caller masks out (any k) still read inside the tables.
  const ki = i32x4.min_u(i32x4.trunc_sat_f32x4_s(k), i32x4.splat(LOGPMF_K - 1));
  const st = f32x4(load<f32>(STIRLERR_K + (<usize>i32x4.extract_lane(ki, 0) << 2)), load<f32>(STIRLERR_K + (<usize>i32x4.extract_lane(ki, 1) << 2)),
    load<f32>(STIRLERR_K + (<usize>i32x4.extract_lane(ki, 2) << 2)), load<f32>(STIRLERR_K + (<usize>i32x4.extract_lane(ki, 3) << 2)));
  const hl = f32x4(load<f32>(HALF_LOG_2PI_K + (<usize>i32x4.extract_lane(ki, 0) << 2)), load<f32>(HALF_LOG_2PI_K + (<usize>i32x4.extract_lane(ki, 1) << 2)),
    load<f32>(HALF_LOG_2PI_K + (<usize>i32x4.extract_lane(ki, 2) << 2)), load<f32>(HALF_LOG_2PI_K + (<usize>i32x4.extract_lane(ki, 3) << 2)));
  const full = f32x4.sub(f32x4.neg(f32x4.add(st, bd04(k, lam, f32x4.sub(k, lam), active))), hl);
  return v128.bitselect(f32x4.neg(lam), full, f32x4.lt(k, f32x4.splat(1)));
}

/**
 * rngPoissonInversion of four lanes in lock step, for the lanes of `active` (the others return 0): uniforms u, means
 * lam in (0, 10) and their p0 = detExp(-lam). Each lane stops where the scalar loop would; the divisor detRecip(k) is
 * the same for every lane at step k.
 */
// @ts-ignore: decorator
@inline export function poissonInversion4(u: v128, lam: v128, p0: v128, active: v128): v128 {
  let k = i32x4.splat(0);
  let p = p0;
  let F = p0;
  let live = active;
  for (let j: u32 = 1; ; j++) {
    live = v128.andnot(live, f32x4.le(u, F));
    if (!v128.any_true(live)) break;
    const r = j < 64 ? load<f32>(RECIP_INT + (<usize>j << 2)) : detRecip(<f32>j);
    p = f32x4.mul(f32x4.mul(p, lam), f32x4.splat(r));
    F = f32x4.add(F, p);
    k = i32x4.sub(k, live);
    live = v128.andnot(live, f32x4.lt(p, f32x4.mul(F, f32x4.splat(5.9604645e-8))));
  }
  return k;
}

/** The lane functions as exports over memory (four lanes in at ptr, four out; Philox: c1, c2, c3, k0, k1 after the lanes, 16 words out), for the tests. */
export function simdTest(op: u32, ptr: usize, out: usize): void {
  const x = v128.load(ptr);
  let y: v128 = x;
  if (op == 0) y = detRecip4(x);
  else if (op == 1) y = detExp4(x);
  else if (op == 2) y = detNormalCdf4(x);
  else if (op == 3) y = detLogistic4(x);
  else if (op == 4) y = uniform4(x);
  else if (op == 6) y = detLog4(x);
  else if (op == 9) y = detSqrt4(x);
  else if (op == 7) y = bd04(x, v128.load(ptr, 16), v128.load(ptr, 32));
  else if (op == 8) y = poissonLogPmf4(x, v128.load(ptr, 16));
  else if (op == 5) {
    v128.store(out, philox4(x, load<u32>(ptr, 16), load<u32>(ptr, 20), load<u32>(ptr, 24), load<u32>(ptr, 28), load<u32>(ptr, 32)));
    v128.store(out, philoxWord1, 16);
    v128.store(out, philoxWord2, 32);
    v128.store(out, philoxWord3, 48);
    return;
  }
  v128.store(out, y);
}

/** poissonInversion4 over memory (u, lam, p0, active as four lanes each at ptr), the counts to out, for the tests. */
export function simdTestInversion(ptr: usize, out: usize): void {
  v128.store(out, poissonInversion4(v128.load(ptr), v128.load(ptr, 16), v128.load(ptr, 32), v128.load(ptr, 48)));
}
