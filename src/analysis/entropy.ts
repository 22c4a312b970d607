// CPU reference for Shannon entropy (bits) of histograms (f64, pure), single and batched.
import { ParameterError } from '../errors.ts';
import { validateBins } from './histogram.ts';

/**
 * H = sum_k p_k log2(1/p_k) with p_k = c_k / sum(c), in f64. Written as a sum of non-negative
 * terms (no log2(T) - mean(log2 c) cancellation). An empty histogram has no distribution and is
 * refused rather than returning NaN or 0.
 */
export function entropyBits(counts: ArrayLike<number>): number {
  return entropyOfRange(counts, 0, counts.length);
}

function entropyOfRange(counts: ArrayLike<number>, start: number, end: number): number {
  let total = 0;
  for (let i = start; i < end; i++) {
    const c = counts[i];
    if (!Number.isFinite(c) || c < 0) throw new ParameterError('counts', `element ${i} = ${c} is not a non-negative count`, 'pass non-negative finite counts');
    total += c;
  }
  if (total === 0) throw new ParameterError('counts', 'histogram is empty (all counts are 0)', 'entropy needs at least one count');
  let h = 0;
  for (let i = start; i < end; i++) {
    const c = counts[i];
    if (c > 0 && c !== total) h += (c / total) * Math.log2(total / c);
  }
  return h;
}

/** Entropy of each of `batch` histograms of `bins` counts, stored instance-major. */
export function entropyBitsBatch(counts: ArrayLike<number>, batch: number, bins: number, offset = 0): Float64Array {
  if (!Number.isInteger(batch) || batch <= 0) throw new ParameterError('batch', `${batch} is not a positive integer`, 'pass the number of histograms (>= 1)');
  validateBins(bins);
  if (counts.length < offset + batch * bins) {
    throw new ParameterError('counts', `holds ${counts.length} values but offset + batch*bins = ${offset + batch * bins}`, 'pass a larger array, or a smaller batch/bins');
  }
  const out = new Float64Array(batch);
  for (let b = 0; b < batch; b++) out[b] = entropyOfRange(counts, offset + b * bins, offset + (b + 1) * bins);
  return out;
}
