// The hybrid runner: split run() calls give exactly the result of one call (snapshots and blow-up stops included),
// aborts stop at a chunk boundary, and a sweep's rows do not depend on how its instances are batched.
import { describe, expect, it } from 'vitest';
import { hybridModel } from '../src/models/hybrid/index.ts';
import { resolveHybridRun, type HybridExtras } from '../src/models/hybrid/resolve.ts';
import { HybridRunner, type HybridResult } from '../src/models/hybrid/runner.ts';
import { hybridSweep, hybridSweepSchema } from '../src/models/hybrid/sweep.ts';
import { makeSweepPoints, type SweepConfig } from '../src/core/sweep-grid.ts';
import type { RunRequest } from '../src/core/contract.ts';

async function runSplit(request: RunRequest, extras: HybridExtras, parts: number[]): Promise<HybridResult> {
  const r = resolveHybridRun(request, extras);
  const runner = await HybridRunner.create(r, { backend: 'cpu' });
  try {
    for (const p of parts) await runner.run(p);
    expect(runner.stepsDone).toBe(r.steps);
    return await runner.result();
  } finally {
    runner.dispose();
    runner.dispose();
  }
}

function plain(x: HybridResult) {
  const { wallSeconds: _w, ...rest } = x;
  return { ...rest, finalState: [...rest.finalState], snapshots: rest.snapshots.map((s) => ({ ...s, counts: [...s.counts], state: s.state ? [...s.state] : null })) };
}

describe('hybrid runner', () => {
  it('split run() calls equal one call (snapshots, histograms, states, time series)', async () => {
    // Chunks of 64 steps: the parts cross chunk and snapshot boundaries.
    const request: RunRequest = { n: 100, batch: 2, steps: 1200, seed: 5, params: { burnin: 0.3 }, recordEvery: 7 };
    const extras: HybridExtras = { snapshotTimes: [0, 0.5, 1.1], keepSnapshotStates: true, histogramBins: 20, chunkSteps: 64 };
    const one = await runSplit(request, extras, [1200]);
    const split = await runSplit(request, extras, [1, 262, 300, 0, 437, 200]);
    expect(one.snapshots.map((s) => s.step)).toEqual([0, 250, 550]);
    expect(plain(split)).toEqual(plain(one));
  }, 60_000);

  it('split calls equal one call when a diverging instance stops the batch (final state included)', async () => {
    const request: RunRequest = { n: 50, batch: 3, steps: 300, params: { JE: 1e9, JI: 2e9, burnin: 0 } };
    const one = await runSplit(request, { chunkSteps: 128 }, [300]);
    const split = await runSplit(request, { chunkSteps: 128 }, [10, 90, 200]);
    expect(one.instances[0].blowup?.source).toBe('simulation');
    expect(plain(split)).toEqual(plain(one));
  });

  it('stops at a chunk boundary when aborted, and stays disposable', async () => {
    const r = resolveHybridRun({ n: 100, steps: 500, params: { burnin: 0 } }, { chunkSteps: 50 });
    const runner = await hybridModel.createRunner(r, { backend: 'cpu' });
    const ac = new AbortController();
    let chunks = 0;
    const p = runner.run(500, { signal: ac.signal, onChunk: () => { chunks++; ac.abort(); } });
    await expect(p).rejects.toThrow(/abort/i);
    expect(chunks).toBe(1);
    expect(runner.stepsDone).toBe(50);
    runner.dispose();
    runner.dispose();
  });
});

describe('hybrid sweep', () => {
  // B2 with drives scaled by 1e7: balanced rates 2e5 and stationary variances above 1e9, so the particles cross the
  // divergence bound (at t ~ 0.14) while the limit exists; the unscaled point is an ordinary one.
  const request: RunRequest = { n: 60, steps: 1000, seed: 3, params: { variant: 'B2', JEE: 50, JEI: 100, JIE: 50, JII: 75, numax: 1e6, burnin: 0.05 } };
  const grids = [{ name: 'muhatE', values: [1, 1e7] }, { name: 'muhatI', values: [0.5, 5e6] }];

  it('refuses a point whose limit does not reach T, naming it', () => {
    expect(() => hybridSweep.resolve(request, makeSweepPoints(grids).map((p) => p.point), grids)).toThrow(/at muhatE=1, muhatI=5000000 the limit does not exist \(nu outside \(0, numax\)\)/);
  });

  it('rows are independent of batching, pass the schema checks, and a diverging instance does not stop its batch', async () => {
    const all = makeSweepPoints(grids, 2).filter((p) => p.point.muhatE === 2 * (p.point.muhatI as number));
    const s = hybridSweep.resolve(request, all.map((p) => p.point), grids);
    const target = { backend: 'cpu' as const };
    const together = await hybridSweep.runBatch(s, all, target, {});
    const alone = [];
    for (const p of all) alone.push(...(await hybridSweep.runBatch(s, [p], target, {})));
    expect(together).toEqual(alone);
    const col = (name: string) => hybridSweepSchema.resultColumns.indexOf(name);
    expect(together.map((row) => row[col('blowup')])).toEqual([0, 0, 1, 1]);
    expect(together.map((row) => row[col('averagedSteps')])).toEqual([976, 976, expect.any(Number), expect.any(Number)]);
    expect(together[2][col('averagedSteps')]).toBeGreaterThan(0);
    expect(together[0]).not.toEqual(together[1]);
    const config: SweepConfig = { model: 'hybrid', n: s.n, steps: s.steps, dt: s.dt, fixed: s.fixed, seed: 3, grids, replicas: 2, totalInstances: 8, columns: [], shard: null, sweepHash: '' };
    expect(hybridSweep.config(s)).toEqual({ n: 60, steps: 1000, dt: 0.002, fixed: s.fixed });
    for (const [k, row] of together.entries()) {
      const values = Object.fromEntries(hybridSweepSchema.resultColumns.map((c, i) => [c, row[i] as number]));
      for (const v of Object.values(values)) expect(Number.isFinite(v)).toBe(true);
      const params = { ...s.fixed, ...all[k].point };
      expect(hybridSweepSchema.checkRow?.(values, params, config)).toBeNull();
      // Damaged values are caught.
      expect(hybridSweepSchema.checkRow?.({ ...values, X: values.X + 0.01 * (1 + Math.abs(values.X)) }, params, config)).not.toBeNull();
      expect(hybridSweepSchema.checkRow?.({ ...values, averagedSteps: values.averagedSteps + 1 }, params, config)).not.toBeNull();
      expect(hybridSweepSchema.checkRow?.({ ...values, limitVE: values.limitVE * 1.001 }, params, config)).not.toBeNull();
    }
  }, 60_000);
});
