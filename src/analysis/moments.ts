// CPU references for batched moments and exact u32 sums (f64, pure): what the GPU reducer is checked against.
import { ParameterError } from '../errors.ts';

/** Per-instance count, mean, population variance (divide by n) and sum. */
export interface MomentsResult {
  /** Values per instance (the same for every instance). */
  count: number;
  mean: Float64Array;
  variance: Float64Array;
  sum: Float64Array;
}

/** Checks a batched shape against the data it indexes; shared by every reference here and the GPU reducer. */
export function validateBatchShape(length: number, batch: number, n: number, offset = 0, what = 'values'): void {
  if (!Number.isInteger(batch) || batch <= 0) throw new ParameterError('batch', `${batch} is not a positive integer`, 'pass the number of instances (>= 1)');
  if (!Number.isInteger(n) || n <= 0) throw new ParameterError('n', `${n} is not a positive integer`, 'pass the number of values per instance (>= 1)');
  if (!Number.isInteger(offset) || offset < 0) throw new ParameterError('offset', `${offset} is not a non-negative integer`, 'pass the element index of instance 0 (default 0)');
  const needed = offset + batch * n;
  if (length < needed) {
    throw new ParameterError(what, `holds ${length} values but offset + batch*n = ${needed}`, 'pass a larger buffer, or a smaller batch/n/offset');
  }
}

/**
 * Two-pass f64 moments of each instance (value i of instance b at offset + b*n + i).
 * Two passes (mean, then squared deviations) keep the variance exact to ~1e-15 even with a large
 * common offset, so it is a fair yardstick for the GPU's f32 tree.
 */
export function moments(values: ArrayLike<number>, batch: number, n: number, offset = 0): MomentsResult {
  validateBatchShape(values.length, batch, n, offset);
  const mean = new Float64Array(batch);
  const variance = new Float64Array(batch);
  const sum = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    const base = offset + b * n;
    let s = 0;
    for (let i = 0; i < n; i++) s += values[base + i];
    const m = s / n;
    // The second pass also corrects the rounding of s (the classic "corrected two-pass" term).
    let q = 0;
    let c = 0;
    for (let i = 0; i < n; i++) {
      const d = values[base + i] - m;
      q += d * d;
      c += d;
    }
    mean[b] = m + c / n;
    variance[b] = (q - (c * c) / n) / n;
    sum[b] = s;
  }
  return { count: n, mean, variance, sum };
}

/** Exact per-instance sums of u32 values (as BigInt, since totals can pass 2^53). */
export function sumU32(values: ArrayLike<number>, batch: number, n: number, offset = 0): BigUint64Array {
  validateBatchShape(values.length, batch, n, offset);
  const out = new BigUint64Array(batch);
  for (let b = 0; b < batch; b++) {
    const base = offset + b * n;
    // Sum in f64 blocks that stay below 2^53, then fold into BigInt: exact and fast.
    let total = 0n;
    let block = 0;
    for (let i = 0; i < n; i++) {
      const v = values[base + i];
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ParameterError('values', `element ${base + i} = ${v} is not a u32`, 'pass integers in [0, 2^32)');
      block += v;
      if ((i & 0xfffff) === 0xfffff) {
        total += BigInt(block);
        block = 0;
      }
    }
    out[b] = total + BigInt(block);
  }
  return out;
}
