// The pieces behind the binary claims table: the verdict rule, the annealed chain's mean-field boundary with and without
// per-input clipping, bimodality of a stationary law, clipped-input fractions (chain and simulation), the activity variance,
// and that the networks of one point are different quenched networks. Fixed seeds; tolerances stated per check.
import { describe, expect, it } from 'vitest';
import { clippedInputFractions, fixedPoints, isBimodal, meanFieldBoundary, meanFieldMap } from '../src/models/binary/chain.ts';
import { measureBinaryClipping, runBinaryBatch } from '../src/models/binary/experiment.ts';
import { CpuBinarySimulation, makeBinaryPartners } from '../src/models/binary/network.ts';
import { judge, makeClaim } from '../src/models/binary/reproductions/claims.ts';
import { binaryBoundary, binaryHeatmap } from '../src/models/binary/reproductions/entropy.ts';
import '../src/wasm/node-threads.ts';

const lin = (a: number, b: number, n: number) => Array.from({ length: n }, (_, i) => a + ((b - a) * i) / (n - 1));

describe('the verdict rule', () => {
  const yes = { holds: true, opposite: false };
  const no = { holds: false, opposite: true };
  const neither = { holds: false, opposite: false };
  it('confirmed only when the mean and every network hold; contradicted only when all show the opposite', () => {
    expect(judge(yes, [yes, yes])).toBe('confirmed');
    expect(judge(yes, [yes, no])).toBe('not confirmed');
    expect(judge(no, [no, no])).toBe('contradicted');
    expect(judge(no, [no, neither])).toBe('not confirmed');
    expect(judge(neither, [neither, neither])).toBe('not confirmed');
  });
  it('makeClaim evaluates the mean (net -1) and each network and lists every network', () => {
    const c = makeClaim({ claim: 'x', source: 'abstract', criterion: 'v > 1', opposite: 'v < 0' }, 2, (net) => [5, 2, 0.5][net + 1], (v) => v > 1, (v) => v < 0, (v) => `${v}`);
    expect(c.verdict).toBe('not confirmed');
    expect(c.measured).toBe('5');
    expect(c.perNetwork).toBe('network 0: 2; network 1: 0.5');
  });
});

describe('mean-field fixed points of the annealed chain', () => {
  it('finds the root and slope of a linear map (root to 1e-9, slope to 1e-6)', () => {
    const fps = fixedPoints((S) => 0.01 + 0.5 * S);
    expect(fps.length).toBe(1);
    expect(fps[0].S).toBeCloseTo(0.02, 9);
    expect(fps[0].slope).toBeCloseTo(0.5, 6);
    expect(fps[0].stable).toBe(true);
  });

  it('counts three roots of a bistable map, the middle one unstable', () => {
    // p(S) = S - c (S - 0.1)(0.5 - S)(0.9 - S), c = 25 / 9: roots 0.1, 0.5, 0.9 with slopes 0.11, 1.44, 0.11.
    const fps = fixedPoints((S) => S - (25 / 9) * (S - 0.1) * (0.5 - S) * (0.9 - S));
    expect(fps.map((f) => Number(f.S.toFixed(6)))).toEqual([0.1, 0.5, 0.9]);
    expect(fps.map((f) => f.stable)).toEqual([true, false, true]);
  });

  it('weak synapses: the largest slope p\'(S*) reaches 1 at lambda = 1, with or without per-input clipping (|lambda - 1| < 0.01)', () => {
    const base = { N: 200, k: 20, alpha: 0.2, WI: 0.25, p0: 1e-3 };
    const WEs = lin(0.5, 3, 26);
    const clip = meanFieldBoundary(base, WEs);
    const free = meanFieldBoundary(base, WEs, 'mean-input');
    expect(Math.abs(clip.lambda - 1)).toBeLessThan(0.01);
    expect(clip.slope).toBeGreaterThan(0.99);
    // Without per-input clipping the map is p0 + (1 - p0) min(1, lambda S): its fixed point below 1 exists up to lambda = 1,
    // with slope (1 - p0) lambda there.
    expect(Math.abs(free.lambda - 1)).toBeLessThan(2e-3);
    expect(free.slope).toBeGreaterThan(0.99);
    expect(clip.bistable).toBeNull();
  });

  it('the unclipped map depends on lambda only; the clipped one exceeds it at low activity for strong synapses (rectification)', () => {
    const strong = { N: 200, k: 20, alpha: 0.2, WE: 2, WI: 4, p0: 1e-3 };
    const weak = { ...strong, WE: 1.1, WI: 0.4 }; // the same lambda = 0.8
    expect(meanFieldMap(strong, 'mean-input')(0.1)).toBeCloseTo(meanFieldMap(weak, 'mean-input')(0.1), 12);
    // x < 0 is set to 0 instead of subtracting: E[sigma(x)] > sigma(E[x]) when inputs are few and strong.
    expect(meanFieldMap(strong)(0.05)).toBeGreaterThan(meanFieldMap(strong, 'mean-input')(0.05) + 0.01);
  });
});

describe('the quenched-in-degree mean field', () => {
  it('equals the chain\'s map without inhibitory neurons (every neuron has k E partners; to 1e-12), and is below it at saturation for strong synapses', () => {
    const p = { N: 300, k: 30, alpha: 0, WE: 1.4, WI: 0, p0: 1e-3 };
    for (const S of [0.01, 0.2, 0.7]) expect(meanFieldMap(p, 'quenched-indegree')(S)).toBeCloseTo(meanFieldMap(p)(S), 12);
    // At S = 1 every input is active and x_i = (WE nE - WI (k - nE)) / k: neurons with fewer E partners than kE are not saturated.
    const strong = { N: 300, k: 30, alpha: 0.2, WE: 3.25, WI: 8, p0: 1e-3 };
    expect(meanFieldMap(strong)(1)).toBe(1);
    expect(meanFieldMap(strong, 'quenched-indegree')(1)).toBeLessThan(0.95);
  });
});

describe('bimodality of a distribution over m', () => {
  const bump = (n: number, c: number, w: number) => Array.from({ length: n }, (_, i) => Math.exp(-(((i - c) / w) ** 2)));
  it('two separated bumps are bimodal; one bump, a point mass and a shallow dip are not', () => {
    const two = bump(101, 20, 5).map((v, i) => v + 0.5 * bump(101, 80, 5)[i]);
    expect(isBimodal(two)).toBe(true);
    expect(isBimodal(bump(101, 40, 10))).toBe(false);
    const point = new Array(101).fill(0);
    point[100] = 1;
    expect(isBimodal(point)).toBe(false);
    // Two bumps overlapping so much that the dip stays above half the smaller one.
    const close = bump(101, 45, 8).map((v, i) => v + bump(101, 55, 8)[i]);
    expect(isBimodal(close)).toBe(false);
  });
});

describe('clipped inputs', () => {
  it('chain: matches brute-force enumeration of the k = 5 input patterns (to 1e-12)', () => {
    const p = { N: 100, k: 5, alpha: 0.2, WE: 3, WI: 6, p0: 1e-3 };
    const S = 0.3;
    let below = 0;
    let above = 0;
    for (let mask = 0; mask < 32; mask++) {
      let a = 0;
      let b = 0;
      let pr = 1;
      for (let j = 0; j < 5; j++) {
        const on = (mask >> j) & 1;
        pr *= on ? S : 1 - S;
        if (on) (j < 4 ? a++ : b++);
      }
      const x = (p.WE * a - p.WI * b) / p.k;
      if (x < 0) below += pr;
      else if (x > 1) above += pr;
    }
    const r = clippedInputFractions(p, S);
    expect(r.below).toBeCloseTo(below, 12);
    expect(r.above).toBeCloseTo(above, 12);
  });

  it('simulation: none with WI = 0 and WE <= 1; with WE = 0 nothing is above 1; wasm equals cpu exactly', async () => {
    const common = { N: 120, k: 12, steps: 400, burnin: 100, seed: 3, every: 3 };
    const none = await measureBinaryClipping({ ...common, points: [{ WE: 1, WI: 0, alpha: 0.2, p0: 0.05 }], backend: 'cpu' });
    expect(none[0]).toEqual({ below: 0, above: 0 });
    const pts = [{ WE: 0, WI: 2, alpha: 0.2, p0: 0.3 }, { WE: 3, WI: 8, alpha: 0.2, p0: 1e-3 }];
    const cpu = await measureBinaryClipping({ ...common, points: pts, backend: 'cpu' });
    expect(cpu[0].above).toBe(0);
    expect(cpu[0].below).toBeGreaterThan(0.1);
    const wasm = await measureBinaryClipping({ ...common, points: pts, backend: 'wasm', threads: 2 });
    expect(wasm).toEqual(cpu);
  });
});

describe('networks of one point', () => {
  it('different instance ids are different quenched networks (partners differ) with different results; the same id repeats', async () => {
    const seed = 1;
    let same = 0;
    for (let i = 0; i < 50; i++) {
      const a = makeBinaryPartners(seed, 0, i, 200, 20);
      const b = makeBinaryPartners(seed, 1, i, 200, 20);
      if (a.every((x, t) => x === b[t])) same++;
    }
    expect(same).toBe(0);
    const pt = { WE: 2, WI: 3, alpha: 0.2, p0: 1e-3 };
    const o = { N: 200, k: 20, steps: 600, burnin: 100, seed, backend: 'cpu' as const };
    const two = await runBinaryBatch({ ...o, points: [pt, pt], instanceIds: [0, 1] });
    expect(two[0].entropyBits).not.toBe(two[1].entropyBits);
    const again = await runBinaryBatch({ ...o, points: [pt], instanceIds: [1] });
    expect(again[0]).toEqual(two[1]);
  });

  it('countVariance is the variance of the post-burn-in active counts (relative 1e-9)', async () => {
    const pt = { N: 150, k: 15, alpha: 0.2, WE: 1.6, WI: 1.6, p0: 1e-3 };
    const sim = new CpuBinarySimulation({ params: [pt], seed: 5, burnin: 100 });
    const counts: number[] = [];
    await sim.run(900, { onChunk: (c) => c.counts.forEach((m, s) => c.stepStart + s >= 100 && counts.push(m)) });
    const mean = counts.reduce((a, x) => a + x, 0) / counts.length;
    const v = counts.reduce((a, x) => a + (x - mean) ** 2, 0) / counts.length;
    const [r] = await runBinaryBatch({ points: [pt], N: 150, k: 15, steps: 900, burnin: 100, seed: 5, backend: 'cpu' });
    expect(Math.abs(r.countVariance - v) / v).toBeLessThan(1e-9);
  });
});

describe('sizes and plans', () => {
  it('the default sizes are N = 1000, k = 100 with 2 networks; --full-size is the 100 x 100 x 4 x 5e4 heat map, refused elsewhere', () => {
    expect(binaryHeatmap.plan!({ quick: false })).toMatch(/24 x 24 x 2 networks, N = 1000, k = 100, 21000 steps/);
    const full = binaryHeatmap.plan!({ quick: false, fullSize: true });
    expect(full).toMatch(/100 x 100 x 4 networks, N = 1000, k = 100, 51000 steps/);
    expect(full).toMatch(/webgpu hardware GPU ~/);
    expect(binaryHeatmap.acceptsFullSize).toBe(true);
    expect(binaryBoundary.acceptsFullSize).toBeUndefined();
    expect(() => binaryBoundary.plan!({ quick: false, fullSize: true })).toThrow(/no full size/);
    expect(binaryBoundary.plan!({ quick: false })).toMatch(/5 strengths x 35 points x 2 networks, N = 1000, k = 100, 31000 steps/);
  });
});
