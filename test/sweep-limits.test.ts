// Sweeps get the memory and time checks of runs, from their grids, before any point is expanded.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ei } from './helpers/cli.ts';
import { estimateModelSweep, sweepInstanceCounts } from '../src/engine/sweep.ts';
import { getModelDefinition } from '../src/engine/models.ts';
import { parseGridSpec } from '../src/core/sweep-grid.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-sweep-limits-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refused(args: string[], re: RegExp[]) {
  const out = join(dir, `bad-${args.join('_').replace(/[^a-z0-9]/gi, '')}`.slice(0, 120));
  const t0 = performance.now();
  const r = await ei('sweep', ...args, '--quiet', '--out', out);
  expect(r.code, `${args.join(' ')}\n${r.err}`).toBe(2);
  for (const x of re) expect(r.err, args.join(' ')).toMatch(x);
  expect(r.err).toMatch(/fix: /);
  expect(existsSync(out)).toBe(false);
  expect((performance.now() - t0) / 1000, args.join(' ')).toBeLessThan(30);
}

describe('ei sweep refuses sweeps that cannot fit or finish (they hung)', () => {
  it('1e7 instances from 100 points x 100000 replicas', async () => {
    await refused(['poisson', '--grid', 'rIn=1000:2000:100', '--replicas', '100000', '--n', '50', '--steps', '10', '--backend', 'webgpu'], [/invalid --grid\/--replicas\/--shard/, /1e7 of 1e7 instances/, /sweep\.csv would be about [\d.]+ GiB/, /split it into more shards/]);
  });

  it('a grid of 1e7 values', async () => {
    await refused(['poisson', '--grid', 'rIn=1000:3000:10000000', '--backend', 'webgpu'], [/1e7 of 1e7 instances x --n 10000 x 3000 steps/]);
  });

  it('a sweep that would take years on the CPU reference', async () => {
    await refused(['poisson', '--grid', 'rIn=1000:2000:10', '--n', '100000', '--steps', '4000000000', '--set', 'burnin=0', '--backend', 'cpu'], [/sweep poisson 10 of 10 instances/, /would take about [\d.e]+ years/]);
  });

  it('binary sweeps too', async () => {
    await refused(['binary', '--grid', 'WE=0.5:2:1000', '--replicas', '10000', '--n', '50', '--set', 'k=5', '--backend', 'cpu'], [/sweep binary 1e7 of 1e7 instances/, /sweep\.csv|heap/]);
    await refused(['binary', '--grid', 'WE=0.5:2:4', '--n', '100000', '--steps', '4000000000', '--backend', 'cpu'], [/sweep binary 4 of 4 instances/, /would take about/]);
  });

  it('a shard counts only its own rows', () => {
    expect(sweepInstanceCounts([parseGridSpec('rIn=1:2:10')], 3)).toEqual({ total: 30, points: 10, mine: 30 });
    expect(sweepInstanceCounts([parseGridSpec('rIn=1:2:10')], 3, '0/4')).toEqual({ total: 30, points: 10, mine: 8 });
    expect(sweepInstanceCounts([parseGridSpec('rIn=1:2:10')], 3, '3/4')).toEqual({ total: 30, points: 10, mine: 7 });
    const poisson = getModelDefinition('poisson');
    const grids = [parseGridSpec('rIn=1000:2000:100')];
    const request = { seed: 1, n: 50, steps: 10 };
    const whole = estimateModelSweep(poisson, poisson.sweep!, request, grids, sweepInstanceCounts(grids, 100_000), { backend: 'cpu' });
    const shard = estimateModelSweep(poisson, poisson.sweep!, request, grids, sweepInstanceCounts(grids, 100_000, '0/10'), { backend: 'cpu' });
    expect(shard.outputs[0].rows).toBe(whole.outputs[0].rows / 10);
    expect(shard.work.seconds.cpu).toBeCloseTo(whole.work.seconds.cpu / 10, 6);
  });

  it('a sweep that fits still runs', async () => {
    const out = join(dir, 'ok');
    const r = await ei('sweep', 'poisson', '--grid', 'rIn=1000:3000:3', '--replicas', '2', '--n', '50', '--steps', '100', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(existsSync(join(out, 'sweep.csv'))).toBe(true);
  });
});
