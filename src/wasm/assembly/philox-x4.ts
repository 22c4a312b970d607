// Philox4x32-10 on four lanes for counters that differ only in c0, with its lane-independent work done once (the
// general four-lane Philox is simd.ts's philox4Lanes): bit for bit the scalar philoxBlock of rng.ts.
import { PHILOX_M0, PHILOX_M1, PHILOX_W0, PHILOX_W1, philox4Lanes } from './simd';

const M0 = PHILOX_M0;
const M1 = PHILOX_M1;
const W0 = PHILOX_W0;
const W1 = PHILOX_W1;

const M0s: u64 = 0xd2511f53;
const M1s: u64 = 0xcd9e8d57;

/**
 * Round 1 of philox4Lanes for lanes that differ only in c0 (c1..c3 the same in every lane), the lane-dependent half:
 * r2 = hi(M0 c0) ^ c3 ^ k1 and r3 = lo(M0 c0) (they depend on c0, c3 and k1 only, so a kernel computes them once).
 * Stores r2 at out, r3 at out + 16.
 */
export function philoxX4Round1(out: usize, c0: v128, c3: u32, k1: u32): void {
  const pa = i64x2.extmul_low_i32x4_u(c0, M0);
  const pb = i64x2.extmul_high_i32x4_u(c0, M0);
  v128.store(out, v128.xor(i32x4.shuffle(pa, pb, 1, 3, 5, 7), i32x4.splat(c3 ^ k1)));
  v128.store(out, i32x4.shuffle(pa, pb, 0, 2, 4, 6), 16);
}

/**
 * Word 0 of philox4Lanes for lanes that differ only in c0, given round 1's lane-dependent half (r2, r3: philoxX4Round1) and the
 * counter's c1, c2 (the same in every lane): round 1's other half and round 2's product M0 c0 are one scalar product
 * each, and round 10 computes only word 0. The same values as philox4Lanes' word 0, about 20% fewer operations.
 */
// @ts-ignore: decorator
@inline export function philoxX4Word0Uniform(r2: v128, r3: v128, c1: u32, c2: u32, k0: u32, k1: u32): v128 {
  // Round 1, lane-independent half: hi(M1 c2) ^ c1 ^ k0 and lo(M1 c2).
  const p1 = M1s * <u64>c2;
  const u0 = <u32>(p1 >> 32) ^ c1 ^ k0;
  const u1 = <u32>p1;
  k0 += W0;
  k1 += W1;
  // Round 2: c0 = u0 and c1 = u1 in every lane, so M0 c0 is one scalar product.
  const p0 = M0s * <u64>u0;
  const qa = i64x2.extmul_low_i32x4_u(r2, M1);
  const qb = i64x2.extmul_high_i32x4_u(r2, M1);
  let c0v = v128.xor(i32x4.shuffle(qa, qb, 1, 3, 5, 7), i32x4.splat(u1 ^ k0));
  let c1v = i32x4.shuffle(qa, qb, 0, 2, 4, 6);
  let c2v = v128.xor(r3, i32x4.splat(<u32>(p0 >> 32) ^ k1));
  let c3v = i32x4.splat(<u32>p0);
  k0 += W0;
  k1 += W1;
  for (let i = 2; i < 9; i++) {
    const pa = i64x2.extmul_low_i32x4_u(c0v, M0);
    const pb = i64x2.extmul_high_i32x4_u(c0v, M0);
    const sa = i64x2.extmul_low_i32x4_u(c2v, M1);
    const sb = i64x2.extmul_high_i32x4_u(c2v, M1);
    c0v = v128.xor(v128.xor(i32x4.shuffle(sa, sb, 1, 3, 5, 7), c1v), i32x4.splat(k0));
    c1v = i32x4.shuffle(sa, sb, 0, 2, 4, 6);
    c2v = v128.xor(v128.xor(i32x4.shuffle(pa, pb, 1, 3, 5, 7), c3v), i32x4.splat(k1));
    c3v = i32x4.shuffle(pa, pb, 0, 2, 4, 6);
    k0 += W0;
    k1 += W1;
  }
  // Round 10: word 0 only.
  const sa = i64x2.extmul_low_i32x4_u(c2v, M1);
  const sb = i64x2.extmul_high_i32x4_u(c2v, M1);
  return v128.xor(v128.xor(i32x4.shuffle(sa, sb, 1, 3, 5, 7), c1v), i32x4.splat(k0));
}

/**
 * For the tests: word 0 of the four lanes' blocks; counters: c0, c1, c2, c3 as four v128 (16 words) at `counters`; at
 * out + 16 the same by philoxX4Round1 and philoxX4Word0Uniform from lane 0's c1, c2, c3 (scratch: out + 32..63).
 */
export function philox4x32_10x4(out: usize, counters: usize, k0: u32, k1: u32): void {
  const c0 = v128.load(counters);
  v128.store(out, philox4Lanes(c0, v128.load(counters, 16), v128.load(counters, 32), v128.load(counters, 48), k0, k1));
  philoxX4Round1(out + 32, c0, load<u32>(counters, 48), k1);
  v128.store(out, philoxX4Word0Uniform(v128.load(out, 32), v128.load(out, 48), load<u32>(counters, 16), load<u32>(counters, 32), k0, k1), 16);
}
