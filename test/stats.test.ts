// Unit tests of the f64 goodness-of-fit helpers against published values and identities.
import { describe, expect, it } from 'vitest';
import {
  binomialLogPmf,
  chiSquareSurvival,
  chiSquareTest,
  discreteChiSquareTest,
  kolmogorovSurvival,
  ksPValue,
  ksStatistic,
  ksTest,
  logGamma,
  momentZScores,
  normalCdf,
  normalPdf,
  normalQuantile,
  poissonLogPmf,
  regularizedGammaP,
  regularizedGammaQ,
  replicateEnvelope,
} from '../src/analysis/stats.ts';
import { ParameterError } from '../src/errors.ts';

const rel = (a: number, b: number) => Math.abs(a - b) / Math.abs(b);

describe('special functions', () => {
  it('logGamma matches exact values and the recurrence', () => {
    expect(rel(logGamma(0.5), 0.5 * Math.log(Math.PI))).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(1))).toBeLessThan(1e-14);
    expect(Math.abs(logGamma(2))).toBeLessThan(1e-14);
    expect(rel(logGamma(10), Math.log(362880))).toBeLessThan(1e-14);
    let lf = 0;
    for (let n = 2; n <= 170; n++) lf += Math.log(n);
    expect(rel(logGamma(171), lf)).toBeLessThan(1e-13);
    for (const x of [1e-3, 0.3, 2.5, 14.9, 15.1, 1e4, 1e7]) expect(Math.abs(logGamma(x + 1) - logGamma(x) - Math.log(x))).toBeLessThan(1e-9 * Math.max(1, Math.abs(logGamma(x))));
    expect(() => logGamma(0)).toThrow(ParameterError);
  });

  it('regularized incomplete gamma: closed forms for a = 1 and a = 1/2, P + Q = 1', () => {
    for (const x of [0.01, 0.5, 1, 3, 10, 50]) {
      expect(rel(regularizedGammaQ(1, x), Math.exp(-x))).toBeLessThan(1e-13);
      expect(Math.abs(regularizedGammaP(1, x) + regularizedGammaQ(1, x) - 1)).toBeLessThan(1e-14);
    }
    // Q(2, x) = (1 + x) e^-x
    for (const x of [0.2, 2, 7, 40]) expect(rel(regularizedGammaQ(2, x), (1 + x) * Math.exp(-x))).toBeLessThan(1e-13);
    expect(regularizedGammaP(3, 0)).toBe(0);
  });

  it('chi-square survival matches tabulated critical values', () => {
    expect(chiSquareSurvival(3.841458820694124, 1)).toBeCloseTo(0.05, 12);
    expect(chiSquareSurvival(6.634896601021214, 1)).toBeCloseTo(0.01, 12);
    expect(chiSquareSurvival(18.307038053275146, 10)).toBeCloseTo(0.05, 12);
    expect(chiSquareSurvival(124.34211340400407, 100)).toBeCloseTo(0.05, 11);
    expect(rel(chiSquareSurvival(5, 2), Math.exp(-2.5))).toBeLessThan(1e-13);
    expect(chiSquareSurvival(0, 3)).toBe(1);
  });

  it('normal cdf, pdf and quantile match known values in the body and the tails', () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 14);
    expect(rel(normalCdf(-8), 6.22096057427178e-16)).toBeLessThan(1e-12);
    expect(rel(normalCdf(-1), 0.15865525393145707)).toBeLessThan(1e-13);
    expect(rel(normalPdf(1), Math.exp(-0.5) / Math.sqrt(2 * Math.PI))).toBeLessThan(1e-15);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 12);
    expect(normalQuantile(0.5)).toBeCloseTo(0, 14);
    expect(rel(normalQuantile(1e-10), -6.361340902404056)).toBeLessThan(1e-12);
    expect(rel(normalQuantile(1 - 1e-6), 4.753424308822899)).toBeLessThan(1e-9);
    for (const p of [1e-300, 1e-20, 0.01, 0.3, 0.7, 0.99]) expect(rel(normalCdf(normalQuantile(p)), p)).toBeLessThan(1e-12);
    expect(normalQuantile(0)).toBe(-Infinity);
    expect(() => normalQuantile(1.5)).toThrow(ParameterError);
  });

  it('Poisson and binomial pmfs sum to 1 and match direct formulas', () => {
    let s = 0;
    for (let k = 0; k < 200; k++) s += Math.exp(poissonLogPmf(k, 30));
    expect(s).toBeCloseTo(1, 12);
    expect(rel(Math.exp(poissonLogPmf(3, 2)), (8 * Math.exp(-2)) / 6)).toBeLessThan(1e-13);
    s = 0;
    for (let k = 0; k <= 50; k++) s += Math.exp(binomialLogPmf(k, 50, 0.3));
    expect(s).toBeCloseTo(1, 12);
    expect(rel(Math.exp(binomialLogPmf(2, 5, 0.5)), 10 / 32)).toBeLessThan(1e-13);
    expect(binomialLogPmf(6, 5, 0.5)).toBe(-Infinity);
  });
});

describe('tests', () => {
  it('chiSquareTest merges sparse bins and computes the statistic', () => {
    // Bins expecting 2, 2, 6, 10: the first two merge into one bin expecting 4 + the third = 10.
    const r = chiSquareTest([1, 3, 6, 10], [2, 2, 6, 10]);
    expect(r.bins).toBe(2);
    expect(r.df).toBe(1);
    expect(r.statistic).toBe(0);
    expect(r.pValue).toBe(1);
    const r2 = chiSquareTest([60, 40], [50, 50]);
    expect(r2.statistic).toBeCloseTo(4, 12);
    expect(r2.pValue).toBeCloseTo(0.04550026389635842, 12);
    expect(() => chiSquareTest([1], [1, 2])).toThrow(ParameterError);
  });

  it('discreteChiSquareTest rejects a wrong pmf and accepts the right one', () => {
    // Deterministic "samples" with exactly the Poisson(3) proportions.
    const samples: number[] = [];
    for (let k = 0; k < 20; k++) {
      const c = Math.round(10_000 * Math.exp(poissonLogPmf(k, 3)));
      for (let i = 0; i < c; i++) samples.push(k);
    }
    expect(discreteChiSquareTest(samples, (k) => poissonLogPmf(k, 3), 0, 25).pValue).toBeGreaterThan(0.99);
    expect(discreteChiSquareTest(samples, (k) => poissonLogPmf(k, 3.2), 0, 25).pValue).toBeLessThan(1e-6);
  });

  it('Kolmogorov distribution: known critical values and continuity between its two series', () => {
    expect(kolmogorovSurvival(1.3580986393225507)).toBeCloseTo(0.05, 6);
    expect(kolmogorovSurvival(1.6276236115189)).toBeCloseTo(0.01, 6);
    expect(kolmogorovSurvival(0.8275735551899077)).toBeCloseTo(0.5, 6);
    expect(Math.abs(kolmogorovSurvival(1.18 - 1e-9) - kolmogorovSurvival(1.18 + 1e-9))).toBeLessThan(1e-8);
    expect(kolmogorovSurvival(0)).toBe(1);
    expect(ksPValue(0.01, 10_000)).toBeGreaterThan(0.2);
  });

  it('ksStatistic on a hand-worked example; ksTest rejects a shifted distribution', () => {
    expect(ksStatistic([0.1, 0.5, 0.9], (x) => x)).toBeCloseTo(0.9 - 2 / 3, 14);
    const even = Array.from({ length: 1000 }, (_, i) => (i + 0.5) / 1000);
    expect(ksTest(even, (x) => x).pValue).toBeGreaterThan(0.999);
    expect(ksTest(even, (x) => Math.min(1, Math.max(0, x - 0.1))).pValue).toBeLessThan(1e-6);
  });

  it('momentZScores standardises mean and variance errors', () => {
    const z = momentZScores([0, 2, 0, 2], 1, 1, 1);
    expect(z.mean).toBe(1);
    expect(z.variance).toBeCloseTo(4 / 3, 14);
    expect(z.zMean).toBe(0);
    expect(z.zVariance).toBe(Infinity);
    const w = momentZScores([1, 3], 1, 4, 48);
    expect(w.zMean).toBeCloseTo(1 / Math.sqrt(2), 14);
    expect(w.zVariance).toBeCloseTo((2 - 4) / Math.sqrt((48 - 16) / 2), 14);
  });
});

describe('replicateEnvelope', () => {
  it('gives the mean and the min-max envelope point by point, and refuses empty or ragged input', () => {
    const e = replicateEnvelope([[1, 5, 0], [3, 1, 0], [2, 3, 3]]);
    expect(e.mean).toEqual([2, 3, 1]);
    expect(e.lo).toEqual([1, 1, 0]);
    expect(e.hi).toEqual([3, 5, 3]);
    expect(() => replicateEnvelope([])).toThrow(ParameterError);
    expect(() => replicateEnvelope([[1, 2], [1]])).toThrow(/lengths 2 and 1/);
  });
});
