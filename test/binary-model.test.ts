// The binary model on the contract (CPU): resolve checks every option once, the runner advances incrementally (split
// run() calls equal one call), honours an abort signal, and the sweep definition reproduces the rows of the old
// `ei sweep binary` and is independent of batching.
import { describe, expect, it } from 'vitest';
import { binaryModel } from '../src/models/binary/index.ts';
import { binarySweep } from '../src/models/binary/sweep.ts';
import type { RunRequest } from '../src/core/contract.ts';
import { makeCsv } from '../src/io/csv.ts';
import { makeSweepPoints, parseGridSpec, sweepHashOf, type SweepPoint } from '../src/core/sweep-grid.ts';
import { resolveSeed } from '../src/core/request.ts';

const cpu = { backend: 'cpu' as const };
const small: RunRequest = { n: 60, steps: 300, seed: 3, recordEvery: 7, params: { k: 6, burnin: 50, WE: 1.5 } };

async function runSplit(request: RunRequest, parts: number[]) {
  const r = binaryModel.resolve(request);
  const runner = await binaryModel.createRunner(r, cpu);
  const chunks: number[] = [];
  try {
    for (const p of parts) await runner.run(p, { onChunk: (c) => chunks.push(c.stepStart) });
    expect(runner.stepsDone).toBe(r.steps);
    const res = await runner.result();
    return { res, state: await runner.readState(), chunks };
  } finally {
    runner.dispose();
    runner.dispose();
  }
}

describe('binary model: resolve', () => {
  it('takes the model defaults and derives the key once', () => {
    const r = binaryModel.resolve({});
    expect(r.n).toBe(500);
    expect(r.steps).toBe(1000 + 20_000);
    expect(r.dt).toBeNull();
    expect(r.batch).toBe(1);
    expect(r.key).toEqual(resolveSeed(1).key);
    expect(r.options.network.k).toBe(50);
    expect(r.neuronsPerStep).toBe(500);
  });

  it('refuses what binary does not take, saying what to use instead', () => {
    expect(() => binaryModel.resolve({ batch: 8, T: 5, dt: 0.1 })).toThrow(/--batch, --T, --dt are not used by binary[\s\S]*ei sweep binary[\s\S]*binary takes --n, --steps, --record-every/);
    expect(() => binaryModel.resolve({ steps: 100, params: { burnin: 100 } })).toThrow(/100 steps leave nothing after burnin 100/);
    expect(() => binaryModel.resolve({ n: 1 })).toThrow(/invalid --n/);
    expect(() => binaryModel.resolve({ params: { k: 600 } })).toThrow(/binary\.k/);
  });
});

describe('binary runner', () => {
  it('split run() calls give exactly the result of one call', async () => {
    const one = await runSplit(small, [300]);
    const split = await runSplit(small, [1, 120, 0, 179]);
    expect(split.res).toEqual(one.res);
    expect(split.state).toEqual(one.state);
    expect(one.res.timeseries.steps[0]).toBe(7);
    expect(one.res.timeseries.steps.at(-1)).toBe(300);
    expect(one.res.histogram.reduce((s, x) => s + x, 0)).toBe(250);
  });

  it('stops at a chunk boundary when aborted, and refuses steps past the run', async () => {
    const r = binaryModel.resolve(small);
    const runner = await binaryModel.createRunner(r, cpu);
    const ac = new AbortController();
    ac.abort();
    await expect(runner.run(10, { signal: ac.signal })).rejects.toThrow(/abort/i);
    expect(runner.stepsDone).toBe(0);
    await expect(runner.run(301)).rejects.toThrow(/passes the run's 300/);
    runner.dispose();
    await expect(runner.result()).rejects.toThrow(/after dispose/);
  });

  it('outputs are pure and name the throughput fields nowhere (the writer adds neuronStepsPerSecond)', async () => {
    const { res } = await runSplit(small, [300]);
    const o = binaryModel.outputs(res, binaryModel.resolve(small), { backend: 'cpu', wallSeconds: 1 });
    expect(o.files.map((f) => f.name)).toEqual(['timeseries.csv', 'histogram.csv', 'histogram.svg']);
    expect(o.summary).not.toHaveProperty('neuronUpdatesPerSecond');
    expect(o.summary).toHaveProperty('chain');
    expect(o.line).toMatch(/^binary: N = 60, k = 6/);
  });
});

describe('binary sweep definition', () => {
  const request: RunRequest = { n: 200, steps: 2000, params: { burnin: '200' } };
  const grids = [parseGridSpec('WE=1:3:3', '--grid', binaryModel)];

  it('gives the rows and the sweep hash of the old `ei sweep binary` (saved before the migration)', async () => {
    const points = makeSweepPoints(grids, 2);
    const s = binarySweep.resolve(request, points.map((p) => p.point), grids);
    const rows = await binarySweep.runBatch(s, points, cpu, {});
    const csv = makeCsv(['index', 'pointIndex', 'replica', 'WE', ...binarySweep.schema.resultColumns], points.map((p, i) => [p.index, p.pointIndex, p.replica, p.point.WE, ...rows[i]]));
    // `ei sweep binary --n 200 --steps 2000 --set burnin=200 --grid WE=1:3:3 --replicas 2 --backend cpu` before the model contract.
    expect(csv).toBe(
      [
        'index,pointIndex,replica,WE,lambda,entropyBits,meanActivity,chainEntropyBits,chainMeanActivity',
        '0,0,0,1,0.48,1.5996007530279204,0.003358333333333333,1.6673885004950686,0.003532222868874522',
        '1,0,1,1,0.48,1.6115505050367116,0.0033555555555555556,1.6673885004950686,0.003532222868874522',
        '2,1,0,2,1.28,1.3017953472061201,0.9975277777777778,0,1',
        '3,1,1,2,1.28,1.6396142076928855,0.9960138888888889,0,1',
        '4,2,0,3,2.08,0,1,0,1',
        '5,2,1,3,2.08,0,1,0,1',
        '',
      ].join('\n'),
    );
    const { seed, key } = resolveSeed(request.seed);
    const config = { model: 'binary', ...binarySweep.config(s), seed, rngKey: key, grids, replicas: 2, totalInstances: 6, columns: csv.split('\n')[0].split(',') };
    expect(sweepHashOf(config)).toBe('1d417d88f16a901e40e06aaa4181ffb08753b9c10e87dcbf63b64431d86a0486');
    expect(binarySweep.neuronStepsPerInstance(s)).toBe(200 * 2000);
  }, 60_000);

  it('rows do not depend on batching; refuses what cannot be swept', async () => {
    const g = [parseGridSpec('WE=0.5:2:3', '--grid', binaryModel), parseGridSpec('WI=1,2', '--grid', binaryModel)];
    const req: RunRequest = { n: 40, steps: 150, params: { k: 5, burnin: 20 } };
    const points: SweepPoint[] = makeSweepPoints(g, 2);
    const s = binarySweep.resolve(req, points.map((p) => p.point), g);
    const all = await binarySweep.runBatch(s, points, cpu, {});
    const single: (number | null)[][] = [];
    for (const p of points) single.push(...(await binarySweep.runBatch(s, [p], cpu, {})));
    expect(single).toEqual(all);
    // Replicas have their own streams; the chain columns depend on the point only.
    expect(all.some((row, i) => i % 2 === 0 && row[1] !== all[i + 1][1])).toBe(true);
    for (let i = 0; i < all.length; i += 2) expect(all[i + 1][3]).toBe(all[i][3]);
    expect(() => binarySweep.resolve(req, [{ connectivity: 'all-to-all' }], [{ name: 'connectivity', values: ['all-to-all'] }])).toThrow(/'connectivity' cannot be swept in one binary sweep/);
    expect(() => binarySweep.resolve({ ...req, T: 4 }, points.map((p) => p.point), g)).toThrow(/--T is not used by binary/);
    expect(() => binarySweep.resolve({ ...req, params: { ...req.params, WE: 1 } }, points.map((p) => p.point), g)).toThrow(/WE is both swept and fixed/);
  });

  it('estimates from the request and grids alone', () => {
    const e = binarySweep.estimate({ n: 100_000, steps: 4_000_000_000 }, [parseGridSpec('WE=0.5:2:4')], { total: 4, points: 4, mine: 4 }, cpu);
    expect(e.model).toBe('sweep binary');
    expect(e.size).toBe('4 of 4 instances x --n 100000 x 4e9 steps');
    expect(e.work.seconds.cpu).toBeGreaterThan(365 * 86400);
  });
});
