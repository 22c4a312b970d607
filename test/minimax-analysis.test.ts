// Measurement functions of the minimax reproductions on inputs with known answers.
import { describe, expect, it } from 'vitest';
import { angularSpeed, binRaster, blurTorus, countBumps, dominantWavelength, isiCv, pearson, populationVector, predictionStats, spikeSteps, wrapAngle } from '../src/models/minimax/analysis.ts';
import type { MinimaxRunResult } from '../src/models/minimax/network.ts';

/** A hexagonal lattice of bumps: the sum of three plane waves 120 degrees apart, with wave vector of integer torus components. */
function hexMap(side: number, k: [number, number]): Float64Array {
  const map = new Float64Array(side * side);
  const angles = [0, (2 * Math.PI) / 3, (4 * Math.PI) / 3];
  const kk = Math.hypot(k[0], k[1]);
  const base = Math.atan2(k[1], k[0]);
  for (let y = 0; y < side; y++) {
    for (let x = 0; x < side; x++) {
      let v = 0;
      for (const a of angles) v += Math.cos(((2 * Math.PI * kk) / side) * (x * Math.cos(base + a) + y * Math.sin(base + a)));
      map[y * side + x] = Math.max(0, v);
    }
  }
  return map;
}

describe('minimax analysis', () => {
  it('pearson and prediction stats', () => {
    expect(pearson([1, 2, 3, 4], [2, 4, 6, 8])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4], [4, 3, 2, 1])).toBeCloseTo(-1, 12);
    const s = predictionStats([10, 20, 30], [10, 20, 34]);
    expect(s.errorHz).toBeCloseTo(4 / 3, 12);
  });

  it('finds the wavelength of a plane wave and of a hexagonal lattice on the torus', () => {
    const side = 63;
    const wave = Float64Array.from({ length: side * side }, (_, i) => Math.cos((2 * Math.PI * (7 * (i % side) + 2 * Math.floor(i / side))) / side));
    const w = dominantWavelength(wave, side);
    expect(w.wavelengthSites).toBeCloseTo(side / Math.hypot(7, 2), 9);
    expect(w.peakShare).toBeCloseTo(1, 6);
    // A lattice built from waves of length 9 sites (rotated copies are not on integer wave vectors, so allow leakage).
    const hex = hexMap(side, [7, 0]);
    const h = dominantWavelength(hex, side);
    expect(Math.abs(h.wavelengthSites - 9)).toBeLessThan(0.8);
    // One bump per 2 L^2 / sqrt(3) sites: 63^2 sqrt(3) / (2 * 81) = 42.4.
    const bumps = countBumps(blurTorus(hex, side, 1), side, 0.5);
    expect(bumps.count).toBeGreaterThan(30);
    expect(bumps.count).toBeLessThan(55);
  });

  it('counts plateaus once and respects the torus', () => {
    const side = 8;
    const map = new Float64Array(side * side);
    map[0] = 5;
    map[1] = 5; // plateau of two cells
    map[side * side - 1] = 3; // (7, 7) touches (0, 0) across both edges: not a maximum there
    map[4 * side + 4] = 2;
    // The plateau counts once, (7, 7) is beaten across the corner, (4, 4) is a maximum.
    expect(countBumps(map, side, 1).count).toBe(2);
    expect(countBumps(map, side, 2.5).count).toBe(1);
  });

  it('population vector, angle wrapping and angular speed', () => {
    const thetas = Float64Array.from({ length: 100 }, (_, j) => (2 * Math.PI * j) / 100);
    const rates = Array.from(thetas, (t) => Math.exp(3 * Math.cos(t - 1)));
    expect(populationVector(rates, thetas).angle).toBeCloseTo(1, 10);
    expect(wrapAngle(3 * Math.PI)).toBeCloseTo(Math.PI, 12);
    expect(wrapAngle(-Math.PI / 2 - 4 * Math.PI)).toBeCloseTo(-Math.PI / 2, 12);
    const times = Array.from({ length: 50 }, (_, k) => k * 0.1);
    const angles = times.map((t) => wrapAngle(2.5 * t + 0.3));
    expect(angularSpeed(times, angles)).toBeCloseTo(2.5, 10);
  });

  it('bins a raster and reads spike times and ISI CV', () => {
    const nE = 33;
    const nI = 2;
    const words = 2;
    const steps = 6;
    const raster = new Uint32Array(steps * words);
    // Neuron 0 spikes at steps 0, 2, 4; neuron 33 (I_0, bit 1 of word 1) at step 5; neuron 31 at step 1.
    for (const s of [0, 2, 4]) raster[s * words] |= 1;
    raster[5 * words + 1] |= 2;
    raster[1 * words] |= 1 << 31;
    const r: MinimaxRunResult = {
      backend: 'cpu', batch: 1, nE, nI, steps, measuredSteps: Uint32Array.of(steps), spikeCounts: new Uint32Array(nE + nI), inputCounts: new Uint32Array(1), meanTrace: new Float64Array(nE + nI),
      inputMoments: new Float64Array(5 * (nE + nI)), isiCount: new Uint32Array(nE + nI), isiMean: new Float64Array(nE + nI), isiVar: new Float64Array(nE + nI),
      raster, rasterWords: words, wallSeconds: 0,
    };
    const { bins, counts } = binRaster(r, 0, 3);
    expect(bins).toBe(2);
    expect(counts[0]).toBe(2);
    expect(counts[nE + nI]).toBe(1);
    expect(counts[31]).toBe(1);
    expect(counts[nE + nI + 33]).toBe(1);
    expect(spikeSteps(r, 0, 0)).toEqual([0, 2, 4]);
    r.isiCount[0] = 20;
    r.isiMean[0] = 10;
    r.isiVar[0] = 4;
    expect(isiCv(r, 0)[0]).toBeCloseTo(0.2, 12);
    expect(Number.isNaN(isiCv(r, 0)[1])).toBe(true);
  });
});
