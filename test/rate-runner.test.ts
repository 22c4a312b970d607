// The rate model through its ModelDefinition (CPU): resolve, split run() calls = one call, abort, dispose, chunks, and
// the sweep's rows (independent of batching, row 0 = `ei run`'s start, accepted by the schema's checks).
import { describe, expect, it } from 'vitest';
import { rateModel } from '../src/models/rate/index.ts';
import type { RateChunk, RateResult } from '../src/models/rate/experiment.ts';
import { rateSweepColumns, rateSweepSchema, type RateSweep } from '../src/models/rate/sweep.ts';
import { makeSweepPoints, type GridAxis, type SweepConfig } from '../src/core/sweep-grid.ts';
import { ParameterError } from '../src/errors.ts';

const cpu = { backend: 'cpu' as const };

async function runSplit(request: Parameters<typeof rateModel.resolve>[0], parts: number[]): Promise<{ result: RateResult; chunks: RateChunk[] }> {
  const r = rateModel.resolve(request);
  const runner = await rateModel.createRunner(r, cpu);
  const chunks: RateChunk[] = [];
  try {
    for (const k of parts) await runner.run(k, { onChunk: (c) => chunks.push(c) });
    expect(runner.stepsDone).toBe(r.steps);
    return { result: await runner.result(), chunks };
  } finally {
    runner.dispose();
    runner.dispose();
  }
}

describe('rate runner', () => {
  it('resolves the circuit, the initial states as the batch and refuses what it would ignore', () => {
    const r = rateModel.resolve({ params: { circuit: 'lateral', channels: 3, initial: 5 }, T: 2 });
    expect(r).toMatchObject({ n: 6, batch: 5, steps: 200, dt: 0.01, neuronsPerStep: 30, seed: 1 });
    expect(r.params).toHaveLength(5);
    expect(r.options.labels).toEqual(['E1', 'E2', 'E3', 'I1', 'I2', 'I3']);
    expect(() => rateModel.resolve({ n: 7 })).toThrow(/--n is not used by rate.*the circuit sets its cells/s);
    expect(() => rateModel.resolve({ batch: 3 })).toThrow(ParameterError);
    expect(() => rateModel.resolve({ steps: 5 })).toThrow(/--steps/);
    expect(() => rateModel.resolve({ T: 0.01, dt: 0.01 })).toThrow(/rate needs at least 2/);
  });

  it('split run() calls give bit-identical samples, finals and summary to one call', async () => {
    const request = { params: { circuit: 'wilson-cowan', wEE: 1.5, wEI: 2, wIE: 2, initial: 4 }, T: 12.34, dt: 0.01, seed: 3 };
    const one = await runSplit(request, [1234]);
    const split = await runSplit(request, [1, 2, 999, 7, 0, 225]);
    expect(Array.from(split.result.samples)).toEqual(Array.from(one.result.samples));
    expect(Array.from(split.result.final)).toEqual(Array.from(one.result.final));
    expect(split.result.sampleSteps).toEqual(one.result.sampleSteps);
    expect(split.result.summary).toEqual(one.result.summary);
    // The chunks hand out every sample row once, in order.
    for (const { chunks, result } of [one, split]) {
      expect(chunks.flatMap((c) => c.sampleSteps)).toEqual(result.sampleSteps);
      const rows = new Float32Array(chunks.reduce((s, c) => s + c.samples.length, 0));
      let at = 0;
      for (const c of chunks) rows.set(c.samples, (at += c.samples.length) - c.samples.length);
      expect(Array.from(rows)).toEqual(Array.from(result.samples));
    }
    const outputs = rateModel.outputs(split.result, rateModel.resolve(request), { backend: 'cpu', wallSeconds: 1 });
    expect(outputs.files.map((f) => f.name)).toEqual(['timeseries.csv', 'phase-portrait.svg', 'rates.svg']);
    expect(outputs.files[0].content).toBe(rateModel.outputs(one.result, rateModel.resolve(request), { backend: 'cpu', wallSeconds: 2 }).files[0].content);
    expect(outputs.line).toMatch(/^rate wilson-cowan: regime /);
  });

  it('stops at a chunk boundary when aborted, and refuses steps past the end', async () => {
    const r = rateModel.resolve({ params: { initial: 2 }, T: 50 });
    const runner = await rateModel.createRunner(r, cpu);
    const ac = new AbortController();
    ac.abort(new Error('stop here'));
    await expect(runner.run(r.steps, { signal: ac.signal })).rejects.toThrow('stop here');
    expect(runner.stepsDone).toBe(0);
    await expect(runner.run(r.steps + 1)).rejects.toThrow(ParameterError);
    await runner.run(1000);
    expect(runner.stepsDone).toBe(1000);
    expect((await runner.readState()).length).toBe(4);
    runner.dispose();
    runner.dispose();
  });
});

function sweepConfig(s: RateSweep, grids: GridAxis[], replicas: number, total: number): SweepConfig {
  return { ...rateModel.sweep!.config(s), model: 'rate', n: s.n, steps: s.steps, dt: s.dt, fixed: s.fixed, seed: 1, grids, replicas, totalInstances: total, columns: [], shard: null, sweepHash: '' };
}

describe('rate sweep', () => {
  const sweep = rateModel.sweep!;

  it('rows do not depend on batching; row 0 starts where `ei run` does; the schema accepts every row', async () => {
    const grids: GridAxis[] = [{ name: 'wEE', values: [0.2, 0.5, 0.8, 1.2] }, { name: 'uE', values: [0.5, 2] }];
    const points = makeSweepPoints(grids, 2);
    const request = { params: { circuit: 'lateral', contrast: 0.1, initial: 3 }, T: 30, seed: 1 };
    // As `ei sweep` calls it: the point of every instance (replicas included).
    const s = sweep.resolve(request, points.map((p) => p.point), grids);
    const all = await sweep.runBatch(s, points, cpu, {});
    const oneByOne = [];
    for (const p of points) oneByOne.push(...(await sweep.runBatch(s, [p], cpu, {})));
    expect(oneByOne).toEqual(all);
    // Given one point per grid point instead, the rows are the same.
    const distinct = sweep.resolve(request, points.filter((p) => p.replica === 0).map((p) => p.point), grids);
    expect(await sweep.runBatch(distinct, points, cpu, {})).toEqual(all);
    // Each instance gets its own point: the all-active equilibrium is linear in the input (uE 0.5 -> 2: x4).
    const eqE = rateSweepColumns.indexOf('equilibriumE');
    expect(all[2][eqE] as number).toBeCloseTo(4 * (all[0][eqE] as number), 12);
    expect(all[0]).toHaveLength(rateSweepColumns.length);
    // Replicas share the point-only columns.
    const per = rateSweepSchema.perPointColumns.map((c) => rateSweepColumns.indexOf(c as (typeof rateSweepColumns)[number]));
    for (let i = 0; i < all.length; i += 2) expect(per.map((c) => all[i + 1][c])).toEqual(per.map((c) => all[i][c]));
    const config = sweepConfig(s, grids, 2, points.length);
    expect(rateSweepSchema.emptyColumns(config)).toEqual({});
    for (const [k, p] of points.entries()) {
      const row = Object.fromEntries(rateSweepColumns.map((c, j) => [c, all[k][j] as number]));
      expect(rateSweepSchema.checkRow!(row, { ...config.fixed, ...p.point }, config)).toBeNull();
      expect(Number.isFinite(row.ldsMargin)).toBe(true);
    }
    // The same point through `ei run`'s runner: same convergence count and equilibrium.
    const r = rateModel.resolve({ ...request, params: { ...request.params, wEE: 0.2, uE: 0.5 } });
    const runner = await rateModel.createRunner(r, cpu);
    await runner.run(r.steps);
    const res = await runner.result();
    runner.dispose();
    const row0 = Object.fromEntries(rateSweepColumns.map((c, j) => [c, all[0][j]]));
    expect(row0.converged).toBe(res.outcome.converged.filter(Boolean).length);
    expect(row0.equilibria).toBe(res.analysis.equilibria.length);
    expect(row0.ldsMargin).toBe(res.analysis.lds.margin);
    // A damaged row is refused with the field named.
    const bad = Object.fromEntries(rateSweepColumns.map((c, j) => [c, all[0][j] as number]));
    bad.contrastOutTheory += 0.01;
    expect(rateSweepSchema.checkRow!(bad, { ...config.fixed, ...points[0].point }, config)).toMatch(/contrastOutTheory/);
  });

  it('wilson-cowan sweeps leave the contrast columns empty; shape parameters cannot be swept', async () => {
    const grids: GridAxis[] = [{ name: 'wEE', values: [0.5, 1.5, 2.8] }, { name: 'uI', values: [0, 0.5] }];
    const points = makeSweepPoints(grids, 1);
    const s = sweep.resolve({ params: { initial: 2, activation: 'clip', xmax: 50, wEI: 2, wIE: 2 }, T: 20 }, points.map((p) => p.point), grids);
    const rows = await sweep.runBatch(s, points, cpu, {});
    const config = sweepConfig(s, grids, 1, points.length);
    expect(Object.keys(rateSweepSchema.emptyColumns(config)).sort()).toEqual(['contrastOutTheory', 'equilibriumContrast']);
    for (const [k, p] of points.entries()) {
      expect(rows[k].slice(-2)).toEqual([null, null]);
      const row = Object.fromEntries(rateSweepColumns.slice(0, -2).map((c, j) => [c, rows[k][j] as number]));
      expect(rateSweepSchema.checkRow!(row, { ...config.fixed, ...p.point }, config)).toBeNull();
    }
    for (const name of ['circuit', 'channels', 'layers', 'method', 'initial']) {
      expect(() => sweep.resolve({}, [{ [name]: 2 }], [{ name, values: [2] }])).toThrow(/cannot be swept/);
    }
    expect(sweep.sweepable?.names).not.toContain('circuit');
    const e = sweep.estimate({ T: 20 }, grids, { total: 6, points: 6, mine: 6 }, cpu);
    expect(e.work.units).toBeGreaterThan(0);
  });
});
