// The minimax model on the contract: resolve (options, defaults, the step), the incremental runner (split run() calls
// give exactly one call's result, abort, dispose) and the sweep (rows independent of batching, honest row checks).
import { describe, expect, it } from 'vitest';
import { ParameterError } from '../src/errors.ts';
import { makeSweepPoints, type GridAxis, type SweepConfig } from '../src/core/sweep-grid.ts';
import { minimaxModel } from '../src/models/minimax/index.ts';
import type { MinimaxRunResult, MinimaxRunSpec } from '../src/models/minimax/network.ts';
import { makeTightBalanceNetwork } from '../src/models/minimax/networks.ts';
import { createMinimaxSpecRunner } from '../src/models/minimax/runner.ts';
import { runMinimaxCpu } from '../src/models/minimax/simulate-cpu.ts';

const fig1 = makeTightBalanceNetwork(3);
const twoSegments = new Float64Array(40);
twoSegments.set(fig1.inputRates, 0);
twoSegments.set(fig1.inputRates.map((r) => 0.5 * r), 20);
const spec: MinimaxRunSpec = {
  networks: [fig1.network],
  instances: [
    { network: 0, dt: 1e-3, tauE: 0.1, tauI: 0.1, tauX: 0.1, inputRates: fig1.inputRates, segments: 1, segmentSteps: 1, measureFrom: 1500, instanceId: 4 },
    { network: 0, dt: 5e-4, tauE: 0.5, tauI: 0.25, tauX: 0.8, inputRates: twoSegments, segments: 2, segmentSteps: 1700, measureFrom: 2222, instanceId: 9 },
  ],
  steps: 4000,
  seed: 11,
  raster: { from: 1000, steps: 2500 },
};

/** Every array of two results, exactly. */
function expectSameResult(a: MinimaxRunResult, b: MinimaxRunResult): void {
  for (const k of ['measuredSteps', 'spikeCounts', 'inputCounts', 'meanTrace', 'inputMoments', 'isiCount', 'isiMean', 'isiVar', 'raster'] as const) {
    expect(Array.from(a[k] ?? []), k).toEqual(Array.from(b[k] ?? []));
  }
  expect(a.steps).toBe(b.steps);
}

describe('minimax runner (CPU)', () => {
  it('split run() calls give exactly the result of one call (across measureFrom, the raster window and segments)', async () => {
    const whole = runMinimaxCpu(spec);
    expect(whole.spikeCounts.reduce((x, y) => x + y, 0)).toBeGreaterThan(500);
    const runner = await createMinimaxSpecRunner(spec, { backend: 'cpu' });
    const progress: number[] = [];
    for (const k of [1, 999, 501, 1, 1222, 1276]) await runner.run(k, { onProgress: (d, t) => progress.push(d / t) });
    expect(runner.stepsDone).toBe(4000);
    expect(progress.at(-1)).toBe(1);
    expectSameResult(await runner.result(), whole);
    const state = await runner.readState();
    expect(state.length).toBe(2 * 40 * 4);
    expect(Array.from(state).every(Number.isFinite)).toBe(true);
    runner.dispose();
    runner.dispose();
    await expect(runner.run(0)).rejects.toThrow(/dispose/);
  });

  it('refuses steps past the end, and stops at a chunk boundary when aborted', async () => {
    const runner = await createMinimaxSpecRunner(spec, { backend: 'cpu' });
    await expect(runner.run(4001)).rejects.toThrow(ParameterError);
    await expect(runner.run(1.5)).rejects.toThrow(ParameterError);
    const ac = new AbortController();
    let chunks = 0;
    const p = runner.run(4000, { signal: ac.signal, onChunk: () => (++chunks === 1 ? ac.abort() : undefined) });
    await expect(p).rejects.toSatisfy((e) => (e as Error).name === 'AbortError');
    expect(runner.stepsDone).toBeGreaterThan(0);
    expect(runner.stepsDone).toBeLessThan(4000);
    runner.dispose();
  });

  it('the model runner: two run() calls = one, and the same as the spec run of `ei run minimax`', async () => {
    const r = minimaxModel.resolve({ T: 0.02, batch: 2, seed: 5, params: { tau: 0.05 } });
    expect(r.steps).toBe(4000);
    expect(r.measureFrom).toBe(2000);
    expect(r.raster).toEqual({ from: 0, steps: 4000 });
    expect(r.neuronsPerStep).toBe(80);
    const one = await minimaxModel.createRunner(r, { backend: 'cpu' });
    await one.run(r.steps);
    const split = await minimaxModel.createRunner(r, { backend: 'cpu' });
    await split.run(1234);
    await split.run(r.steps - 1234);
    const a = await one.result();
    expectSameResult(await split.result(), a);
    const out = minimaxModel.outputs(a, r, { backend: 'cpu', wallSeconds: 1 });
    expect(out.files.map((f) => f.name)).toEqual(['rates.csv', 'raster.svg']);
    expect((out.summary.instances as unknown[]).length).toBe(2);
    expect(out.summary.kktResidual as number).toBeLessThan(1e-8);
    expect(out.line).toMatch(/^minimax tight-balance: mean E rate/);
    one.dispose();
    split.dispose();
  });
});

describe('minimax resolve', () => {
  it('refuses the options it does not take, naming what to use instead', () => {
    expect(() => minimaxModel.resolve({ n: 10 })).toThrow(/--set network=/);
    expect(() => minimaxModel.resolve({ steps: 10 })).toThrow(/give --T/);
    expect(() => minimaxModel.resolve({ recordEvery: 3 })).toThrow(/--record-every is not used by minimax/);
  });

  it('defaults: 100 tau at dt = 1e-4 tau; --T alone lowers the default dt; a batch of 1e9 is refused before it is built', () => {
    const d = minimaxModel.resolve({});
    expect(d.steps).toBe(1_000_000);
    expect(d.dt).toBeCloseTo(1e-5, 18);
    expect(d.dtAdjusted).toBeNull();
    const adj = minimaxModel.resolve({ T: 0.000255 });
    expect(adj.dtAdjusted).not.toBeNull();
    expect(adj.steps).toBe(26);
    expect(() => minimaxModel.resolve({ batch: 1e9, T: 0.02, dt: 1e-4 })).toThrow(/--batch 1e9.*elements/);
  });
});

describe('minimax sweep', () => {
  const sweep = minimaxModel.sweep!;
  const grids: GridAxis[] = [{ name: 'tau', values: [0.05, 0.1] }];
  const request = { seed: 3, T: 0.02, dt: 1e-4 };
  const points = makeSweepPoints(grids, 2);

  it('rows do not depend on the batching, and pass the schema checks', async () => {
    const s = sweep.resolve(request, points.map((p) => p.point), grids);
    const config: SweepConfig = { ...sweep.config(s), model: 'minimax', n: s.nE + s.nI, steps: s.steps, dt: s.dt, fixed: s.fixed, seed: 3, grids, replicas: 2, totalInstances: 4, columns: [], shard: null, sweepHash: '' };
    const all = await sweep.runBatch(s, points, { backend: 'cpu' }, {});
    const single = [];
    for (const p of points) single.push(...(await sweep.runBatch(s, [p], { backend: 'cpu' }, {})));
    expect(single).toEqual(all);
    const cols = sweep.schema.resultColumns;
    all.forEach((row, i) => {
      expect(row).toHaveLength(cols.length);
      const rec = Object.fromEntries(cols.map((c, k) => [c, row[k] as number]));
      expect(sweep.schema.checkRow!(rec, { ...s.fixed, ...points[i].point }, config)).toBeNull();
      expect(rec.spikesE).toBeGreaterThan(0);
      // A damaged row is caught.
      expect(sweep.schema.checkRow!({ ...rec, inputRateHz: rec.inputRateHz * 1.01 }, { ...s.fixed, ...points[i].point }, config)).toMatch(/inputRateHz/);
      expect(sweep.schema.checkRow!({ ...rec, dt: 2e-4 }, { ...s.fixed, ...points[i].point }, config)).toMatch(/dt/);
    });
    // Replicas of a point: same per-point columns, different noise.
    expect(all[0][0]).toBe(all[1][0]);
    expect(all[0][cols.indexOf('predictedRateEHz')]).toBe(all[1][cols.indexOf('predictedRateEHz')]);
    expect(all[0][cols.indexOf('spikesE')]).not.toBe(all[1][cols.indexOf('spikesE')]);
  });

  it('refuses points with different step counts, and shape parameters', () => {
    expect(() => sweep.resolve({ seed: 1, T: 0.02 }, [{ dtOverTau: 1e-3 }, { dtOverTau: 2e-3 }], [{ name: 'dtOverTau', values: [1e-3, 2e-3] }])).toThrow(/one step count/);
    expect(sweep.sweepable!.names).not.toContain('network');
    expect(sweep.sweepable!.names).not.toContain('side');
    expect(sweep.sweepable!.names).toContain('tau');
  });
});
