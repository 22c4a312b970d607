// Philox4x32-10 of four counters at once, one per i32x4 lane, bit for bit the scalar philoxBlock of rng.ts: WASM SIMD
// has no 32x32->64 multiply-high, so the products come from i64x2.extmul and their halves are regathered by shuffles.

const M0: v128 = i32x4(0xd2511f53, 0xd2511f53, 0xd2511f53, 0xd2511f53);
const M1: v128 = i32x4(0xcd9e8d57, 0xcd9e8d57, 0xcd9e8d57, 0xcd9e8d57);
const W0: u32 = 0x9e3779b9;
const W1: u32 = 0xbb67ae85;

/** Word 0 of Philox4x32-10 of the four counters (lane l: c0[l], c1[l], c2[l], c3[l]) under the key (k0, k1). */
// @ts-ignore: decorator
@inline export function philoxX4Word0(c0: v128, c1: v128, c2: v128, c3: v128, k0: u32, k1: u32): v128 {
  for (let i = 0; i < 10; i++) {
    const p0a = i64x2.extmul_low_i32x4_u(c0, M0);
    const p0b = i64x2.extmul_high_i32x4_u(c0, M0);
    const p1a = i64x2.extmul_low_i32x4_u(c2, M1);
    const p1b = i64x2.extmul_high_i32x4_u(c2, M1);
    // As i32 lanes a product pair is [lo, hi, lo, hi] (little-endian): odd lanes are the high words.
    c0 = v128.xor(v128.xor(i32x4.shuffle(p1a, p1b, 1, 3, 5, 7), c1), i32x4.splat(k0));
    c1 = i32x4.shuffle(p1a, p1b, 0, 2, 4, 6);
    c2 = v128.xor(v128.xor(i32x4.shuffle(p0a, p0b, 1, 3, 5, 7), c3), i32x4.splat(k1));
    c3 = i32x4.shuffle(p0a, p0b, 0, 2, 4, 6);
    k0 += W0;
    k1 += W1;
  }
  return c0;
}

const M0s: u64 = 0xd2511f53;
const M1s: u64 = 0xcd9e8d57;

/**
 * Round 1 of philoxX4Word0 for lanes that differ only in c0 (c1..c3 the same in every lane), the lane-dependent half:
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
 * philoxX4Word0 for lanes that differ only in c0, given round 1's lane-dependent half (r2, r3: philoxX4Round1) and the
 * counter's c1, c2 (the same in every lane): round 1's other half and round 2's product M0 c0 are one scalar product
 * each, and round 10 computes only word 0. The same values as philoxX4Word0, about 20% fewer operations.
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
  v128.store(out, philoxX4Word0(c0, v128.load(counters, 16), v128.load(counters, 32), v128.load(counters, 48), k0, k1));
  philoxX4Round1(out + 32, c0, load<u32>(counters, 48), k1);
  v128.store(out, philoxX4Word0Uniform(v128.load(out, 32), v128.load(out, 48), load<u32>(counters, 16), load<u32>(counters, 32), k0, k1), 16);
}
