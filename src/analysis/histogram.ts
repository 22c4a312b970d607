// CPU references for batched histograms (pure): integer bins, and f32 bins with the GPU's exact f32 arithmetic.
import { ParameterError } from '../errors.ts';
import { validateBatchShape } from './moments.ts';

/** Largest bin count: f32(bins) must be exact for the f32 edge test, and 2^24 bins is far beyond any use. */
export const maxBins = 1 << 24;

export function validateBins(bins: number): void {
  if (!Number.isInteger(bins) || bins <= 0 || bins > maxBins) {
    throw new ParameterError('bins', `${bins} is not an integer in [1, ${maxBins}]`, 'pass the number of histogram bins');
  }
}

/**
 * Counts of each instance's u32 values in bins 0..bins-1; values >= bins are clamped into the last
 * bin, which therefore means "bins-1 or more". Returns batch x bins, instance-major.
 */
export function histogram(values: ArrayLike<number>, batch: number, n: number, bins: number, offset = 0): Uint32Array<ArrayBuffer> {
  validateBatchShape(values.length, batch, n, offset);
  validateBins(bins);
  const out = new Uint32Array(batch * bins);
  for (let b = 0; b < batch; b++) {
    const base = offset + b * n;
    for (let i = 0; i < n; i++) {
      const v = values[base + i];
      if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ParameterError('values', `element ${base + i} = ${v} is not a u32`, 'pass integers in [0, 2^32)');
      out[b * bins + Math.min(v, bins - 1)]++;
    }
  }
  return out;
}

/** The f32 constants of an f32 histogram: bin = floor(f32(f32(x - min) * scale)). */
export interface F32Binning {
  bins: number;
  /** min rounded to f32. */
  min: number;
  /** f32(bins / (f32(max) - f32(min))), computed in f64 then rounded once. */
  scale: number;
}

export function makeF32Binning(bins: number, min: number, max: number): F32Binning {
  validateBins(bins);
  if (!Number.isFinite(min) || !Number.isFinite(max)) throw new ParameterError('min/max', `range [${min}, ${max}] is not finite`, 'pass finite bounds');
  const lo = Math.fround(min);
  const hi = Math.fround(max);
  const scale = Math.fround(bins / (hi - lo));
  if (!(hi > lo) || !Number.isFinite(scale) || scale <= 0) {
    throw new ParameterError('min/max', `range [${min}, ${max}] is empty or too narrow in f32`, 'pass min < max, at least a few f32 ulps apart');
  }
  return { bins, min: lo, scale };
}

/**
 * The bin of one value, mirroring binOfF32 in shaders/common/reduce.wgsl operation for operation:
 * bins are [min + k/scale, min + (k+1)/scale) as rounded in f32; below min goes to bin 0, max and
 * above to the last bin (so the last bin is closed). NaN goes to bin 0 here; WGSL lets a GPU assume
 * there are no NaNs, so NaN inputs have no guaranteed bin on the GPU.
 */
export function binF32(x: number, b: F32Binning): number {
  const t = Math.fround(Math.fround(Math.fround(x) - b.min) * b.scale);
  if (t >= b.bins) return b.bins - 1;
  if (t > 0) return Math.min(Math.floor(t), b.bins - 1);
  return 0;
}

/** Batched f32 histogram over [min, max] (edges as in binF32); returns batch x bins, instance-major. */
export function histogramF32(
  values: ArrayLike<number>,
  batch: number,
  n: number,
  bins: number,
  min: number,
  max: number,
  offset = 0,
): Uint32Array<ArrayBuffer> {
  validateBatchShape(values.length, batch, n, offset);
  const binning = makeF32Binning(bins, min, max);
  const out = new Uint32Array(batch * bins);
  for (let b = 0; b < batch; b++) {
    const base = offset + b * n;
    for (let i = 0; i < n; i++) out[b * bins + binF32(values[base + i], binning)]++;
  }
  return out;
}
