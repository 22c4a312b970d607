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

/** For the tests: word 0 of the four lanes' blocks; counters: c0, c1, c2, c3 as four v128 (16 words) at `counters`. */
export function philox4x32_10x4(out: usize, counters: usize, k0: u32, k1: u32): void {
  v128.store(out, philoxX4Word0(v128.load(counters), v128.load(counters, 16), v128.load(counters, 32), v128.load(counters, 48), k0, k1));
}
