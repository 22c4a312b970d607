// Measurements of minimax spiking runs (pure, f64): rates, prediction error and correlation, the balance
// index, ISI CV, raster binning, the ring bump's position and the grid's spatial wavelength and bumps.
import type { MinimaxRunResult } from './network.ts';

/** Pearson correlation of two equally long samples (NaN when either is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i] - ma;
    const db = b[i] - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return sab / Math.sqrt(saa * sbb);
}

const mean = (a: ArrayLike<number>): number => {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s / a.length;
};

/** Simulated rates in Hz of instance b: the mean trace over measured steps divided by tau (E neurons then I). */
export function simulatedRatesHz(r: MinimaxRunResult, b: number, tauE: number, tauI: number): { E: Float64Array; I: Float64Array } {
  const N = r.nE + r.nI;
  const E = new Float64Array(r.nE);
  const I = new Float64Array(r.nI);
  for (let i = 0; i < r.nE; i++) E[i] = r.meanTrace[b * N + i] / tauE;
  for (let i = 0; i < r.nI; i++) I[i] = r.meanTrace[b * N + r.nE + i] / tauI;
  return { E, I };
}

/** The spec's prediction measures: corr(pred, sim) and (1/n) ||pred - sim||_2 in Hz. */
export function predictionStats(predHz: ArrayLike<number>, simHz: ArrayLike<number>): { corr: number; errorHz: number } {
  let s = 0;
  for (let i = 0; i < predHz.length; i++) s += (predHz[i] - simHz[i]) ** 2;
  return { corr: pearson(predHz, simHz), errorHz: Math.sqrt(s) / predHz.length };
}

/** Balance index per neuron of instance b: Pearson correlation over time of its E input and its I input (NaN when one is constant). */
export function balanceIndex(r: MinimaxRunResult, b: number, population: 'E' | 'I' = 'E'): Float64Array {
  const N = r.nE + r.nI;
  const from = population === 'E' ? 0 : r.nE;
  const count = population === 'E' ? r.nE : r.nI;
  const out = new Float64Array(count);
  for (let i = 0; i < count; i++) {
    const m = r.inputMoments.subarray((b * N + from + i) * 5, (b * N + from + i + 1) * 5);
    out[i] = m[4] / Math.sqrt(m[2] * m[3]);
  }
  return out;
}

/** ISI coefficient of variation per neuron of instance b (NaN with fewer than `minIsis` intervals). */
export function isiCv(r: MinimaxRunResult, b: number, minIsis = 10): Float64Array {
  const N = r.nE + r.nI;
  return Float64Array.from({ length: N }, (_, i) => {
    const k = b * N + i;
    return r.isiCount[k] >= minIsis && r.isiMean[k] > 0 ? Math.sqrt(r.isiVar[k]) / r.isiMean[k] : NaN;
  });
}

/** Mean of the finite entries (NaN when none). */
export function finiteMean(a: ArrayLike<number>): number {
  const v = Array.from(a).filter(Number.isFinite);
  return v.length ? mean(v) : NaN;
}

/** Spike counts per neuron of instance b in raster bins of `binSteps` steps: [bin][neuron] (E then I). */
export function binRaster(r: MinimaxRunResult, b: number, binSteps: number): { bins: number; counts: Uint32Array } {
  if (!r.raster) throw new Error('binRaster: the run recorded no raster (set spec.raster)');
  const W = r.rasterWords;
  const N = r.nE + r.nI;
  const rasterSteps = r.raster.length / (r.batch * W);
  const bins = Math.floor(rasterSteps / binSteps);
  const counts = new Uint32Array(bins * N);
  for (let s = 0; s < bins * binSteps; s++) {
    const base = (b * rasterSteps + s) * W;
    const row = Math.floor(s / binSteps) * N;
    for (let w = 0; w < W; w++) {
      let bits = r.raster[base + w];
      while (bits !== 0) {
        const low = bits & -bits;
        counts[row + w * 32 + 31 - Math.clz32(low)]++;
        bits ^= low;
      }
    }
  }
  return { bins, counts };
}

/** Spike times (raster step indices) of neuron n of instance b. */
export function spikeSteps(r: MinimaxRunResult, b: number, n: number): number[] {
  if (!r.raster) throw new Error('spikeSteps: the run recorded no raster (set spec.raster)');
  const W = r.rasterWords;
  const rasterSteps = r.raster.length / (r.batch * W);
  const out: number[] = [];
  const w = n >>> 5;
  const bit = 1 << (n & 31);
  for (let s = 0; s < rasterSteps; s++) if (r.raster[(b * rasterSteps + s) * W + w] & bit) out.push(s);
  return out;
}

/** Population vector of rates on a ring of angles: the bump's angle in (-pi, pi] and its normalised amplitude in [0, 1]. */
export function populationVector(rates: ArrayLike<number>, thetas: ArrayLike<number>): { angle: number; amplitude: number } {
  let c = 0;
  let s = 0;
  let t = 0;
  for (let j = 0; j < rates.length; j++) {
    c += rates[j] * Math.cos(thetas[j]);
    s += rates[j] * Math.sin(thetas[j]);
    t += rates[j];
  }
  return { angle: Math.atan2(s, c), amplitude: t > 0 ? Math.hypot(c, s) / t : 0 };
}

/** Signed angular difference a - b wrapped into (-pi, pi]. */
export function wrapAngle(d: number): number {
  const w = d - 2 * Math.PI * Math.round(d / (2 * Math.PI));
  return w <= -Math.PI ? w + 2 * Math.PI : w;
}

/** Least-squares slope of an unwrapped angle track (rad per unit of `times`). */
export function angularSpeed(times: ArrayLike<number>, angles: ArrayLike<number>): number {
  const un = [angles[0]];
  for (let i = 1; i < angles.length; i++) un.push(un[i - 1] + wrapAngle(angles[i] - angles[i - 1]));
  const mt = mean(times);
  const ma = mean(un);
  let sxy = 0;
  let sxx = 0;
  for (let i = 0; i < un.length; i++) {
    sxy += (times[i] - mt) * (un[i] - ma);
    sxx += (times[i] - mt) ** 2;
  }
  return sxy / sxx;
}

/**
 * Power spectrum of a side x side map on the torus (mean removed), by a direct 2-D DFT: power[ky][kx] for
 * integer wave numbers in [0, side). O(side^3) with separable transforms.
 */
function spatialPowerSpectrum(map: ArrayLike<number>, side: number): Float64Array {
  const m = mean(map);
  const re1 = new Float64Array(side * side);
  const im1 = new Float64Array(side * side);
  const cos = Float64Array.from({ length: side }, (_, k) => Math.cos((2 * Math.PI * k) / side));
  const sin = Float64Array.from({ length: side }, (_, k) => Math.sin((2 * Math.PI * k) / side));
  // Rows: transform along x.
  for (let y = 0; y < side; y++) {
    for (let kx = 0; kx < side; kx++) {
      let re = 0;
      let im = 0;
      for (let x = 0; x < side; x++) {
        const v = map[y * side + x] - m;
        const q = (kx * x) % side;
        re += v * cos[q];
        im -= v * sin[q];
      }
      re1[y * side + kx] = re;
      im1[y * side + kx] = im;
    }
  }
  const power = new Float64Array(side * side);
  for (let kx = 0; kx < side; kx++) {
    for (let ky = 0; ky < side; ky++) {
      let re = 0;
      let im = 0;
      for (let y = 0; y < side; y++) {
        const q = (ky * y) % side;
        const a = re1[y * side + kx];
        const b = im1[y * side + kx];
        re += a * cos[q] + b * sin[q];
        im += b * cos[q] - a * sin[q];
      }
      power[ky * side + kx] = re * re + im * im;
    }
  }
  return power;
}

/** The map's dominant wavelength in sites: 2 pi / |k| at the spectrum's peak (signed wave numbers), with the peak's wave vector. */
export function dominantWavelength(map: ArrayLike<number>, side: number): { wavelengthSites: number; kx: number; ky: number; peakShare: number } {
  const p = spatialPowerSpectrum(map, side);
  let best = -1;
  let total = 0;
  for (let q = 1; q < p.length; q++) {
    total += p[q];
    if (best < 0 || p[q] > p[best]) best = q;
  }
  const signed = (k: number) => (k > side / 2 ? k - side : k);
  const kx = signed(best % side);
  const ky = signed(Math.floor(best / side));
  // The peak and its mirror image (-k) carry the same power.
  return { wavelengthSites: side / Math.hypot(kx, ky), kx, ky, peakShare: (2 * p[best]) / total };
}

/** Local maxima of a side x side torus map (8 neighbours, strict against earlier ties) above `threshold`. */
export function countBumps(map: ArrayLike<number>, side: number, threshold: number): { count: number; positions: [number, number][] } {
  const positions: [number, number][] = [];
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      const v = map[y * side + x];
      if (!(v > threshold)) continue;
      let isMax = true;
      for (let dy = -1; dy <= 1 && isMax; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          if (dx === 0 && dy === 0) continue;
          const w = map[((y + dy + side) % side) * side + ((x + dx + side) % side)];
          // Plateaus count once: a neighbour equal and earlier in scan order wins.
          if (w > v || (w === v && (dy < 0 || (dy === 0 && dx < 0)))) {
            isMax = false;
            break;
          }
        }
      }
      if (isMax) positions.push([x, y]);
    }
  }
  return { count: positions.length, positions };
}

/** Box-blurs a torus map with radius `r` (smooths spike-count noise before counting bumps). */
export function blurTorus(map: ArrayLike<number>, side: number, r: number): Float64Array {
  const out = new Float64Array(side * side);
  const k = (2 * r + 1) ** 2;
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let s = 0;
      for (let dy = -r; dy <= r; dy++) for (let dx = -r; dx <= r; dx++) s += map[((y + dy + side) % side) * side + ((x + dx + side) % side)];
      out[y * side + x] = s / k;
    }
  }
  return out;
}

/** Empirical input rates in Hz of instance b over its measured steps (the spec's mean input, as the authors measure it). */
export function empiricalInputRatesHz(r: MinimaxRunResult, b: number, nIn: number, dt: number): Float64Array {
  const T = r.measuredSteps[b] * dt;
  return Float64Array.from(r.inputCounts.subarray(b * nIn, (b + 1) * nIn), (c) => c / T);
}
