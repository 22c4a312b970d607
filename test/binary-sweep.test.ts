// `ei sweep binary` (CSV contract, shard/batch independence via `ei merge`), the batched experiment against the annealed chain,
// the entropy peak near lambda = 1, and one quick reproduction end to end. CPU backend, small networks.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ei } from './helpers/cli.ts';
import { parseCsv } from '../src/io/csv.ts';
import { runBinaryBatch, binaryRobustness } from '../src/models/binary/experiment.ts';
import { annealedChain } from '../src/models/binary/chain.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-binary-sweep-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


/** `line` with field `column` (named in `header`) replaced. */
function setField(header: string, line: string, column: string, f: (old: string) => string): string {
  const c = header.split(',').indexOf(column);
  expect(c, column).toBeGreaterThanOrEqual(0);
  const fields = line.split(',');
  fields[c] = f(fields[c]);
  return fields.join(',');
}

const sweepArgs = ['sweep', 'binary', '--grid', 'WE=0.5:2:4', '--grid', 'WI=1,2', '--replicas', '2', '--n', '60', '--set', 'k=6', '--set', 'burnin=50', '--steps', '300', '--backend', 'cpu', '--quiet'];

describe('ei sweep binary', () => {
  it('writes one row per point and replica with the documented columns', async () => {
    const out = join(dir, 'full');
    expect((await ei(...sweepArgs, '--out', out)).code).toBe(0);
    const t = parseCsv(readFileSync(join(out, 'sweep.csv'), 'utf8'));
    expect(t.columns).toEqual(['index', 'pointIndex', 'replica', 'WE', 'WI', 'lambda', 'entropyBits', 'meanActivity', 'chainEntropyBits', 'chainMeanActivity']);
    expect(t.rows.length).toBe(16);
    for (const f of ['config.json', 'summary.json']) expect(existsSync(join(out, f))).toBe(true);
    const cfg = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(cfg.totalInstances).toBe(16);
    expect(cfg.k).toBe(6);
  });

  it('shards (and a different batching) merge to the unsharded CSV', async () => {
    const full = readFileSync(join(dir, 'full', 'sweep.csv'), 'utf8');
    const shards = [0, 1, 2].map((i) => join(dir, `shard${i}`));
    for (let i = 0; i < 3; i++) expect((await ei(...sweepArgs, '--shard', `${i}/3`, '--max-batch', '2', '--out', shards[i])).code).toBe(0);
    const merged = join(dir, 'merged');
    expect((await ei('merge', ...shards, '--out', merged)).code).toBe(0);
    expect(readFileSync(join(merged, 'sweep.csv'), 'utf8')).toBe(full);
    // The merge records the digest of its own rows and the shards' sweep hash, so it verifies like a shard.
    const summary = JSON.parse(readFileSync(join(merged, 'summary.json'), 'utf8'));
    expect(summary.rowsSha256).toBe(createHash('sha256').update(full).digest('hex'));
    expect(summary.sweepHash).toBe(JSON.parse(readFileSync(join(shards[1], 'config.json'), 'utf8')).sweepHash);
    expect((await ei('merge', merged, '--out', join(dir, 'merged-again'))).code).toBe(0);
  });

  it('merge refuses damaged binary shards, naming file, line and field, and writes nothing', async () => {
    const shards = [0, 1, 2].map((i) => join(dir, `shard${i}`));
    // Shard 1/3 holds sweep indices 1, 4, 7, 10, 13 on lines 2..6.
    const cases: [string, (csv: string[]) => void, RegExp][] = [
      ['lambda', (l) => void (l[2] = setField(l[0], l[2], 'lambda', (v) => String(Number(v) + 0.25))), /line 3 \(sweep index 4\): field 'lambda' \([^)]*\) disagrees with the point/],
      ['chain-empty', (l) => void (l[1] = setField(l[0], l[1], 'chainEntropyBits', () => '')), /line 2 \(sweep index 1\), field 'chainEntropyBits': is empty/],
      ['activity', (l) => void (l[3] = setField(l[0], l[3], 'meanActivity', () => '1.5')), /line 4 \(sweep index 7\), field 'meanActivity': 1\.5 is outside \[0, 1\]/],
      ['grid', (l) => void (l[4] = setField(l[0], l[4], 'WI', (v) => (v === '1' ? '2' : '1'))), /line 5 \(sweep index 10\), field 'WI': .*config\.json grids give/],
      ['entropy', (l) => void (l[5] = setField(l[0], l[5], 'entropyBits', (v) => String(Number(v) * 0.99))), /line 6 \(sweep index 13\) differs from what the sweep wrote/],
    ];
    for (const [name, edit, re] of cases) {
      const bad = join(dir, `bad-shard-${name}`);
      cpSync(shards[1], bad, { recursive: true });
      const lines = readFileSync(join(bad, 'sweep.csv'), 'utf8').split('\n');
      edit(lines);
      writeFileSync(join(bad, 'sweep.csv'), lines.join('\n'));
      const out = join(dir, `bad-merge-${name}`);
      const r = await ei('merge', shards[0], bad, shards[2], '--out', out);
      expect(r.code, name).toBe(2);
      expect(r.err).toContain(join(bad, 'sweep.csv'));
      expect(r.err).toMatch(re);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('rejects bad grids naming the field, leaving no folder', async () => {
    const cases: [string[], RegExp][] = [
      [['--grid', 'k=5,6'], /--grid/],
      [['--grid', 'WE=-1,1'], /binary\.WE/],
      [['--grid', 'alpha=0.2,1'], /binary\.alpha/],
      [['--grid', 'connectivity=all-to-all'], /'connectivity' cannot be swept in one binary sweep/],
      [['--grid', 'seed=1,2'], /seed is a run option \(--seed\)[\s\S]*--replicas/],
    ];
    for (const [g, re] of cases) {
      const d = join(dir, `bad-${g.join('')}`);
      const r = await ei('sweep', 'binary', ...g, '--n', '50', '--set', 'k=5', '--backend', 'cpu', '--quiet', '--out', d);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
      expect(existsSync(d)).toBe(false);
    }
  });
});

describe('binary experiments', () => {
  it('weak synapses, lambda < 1: simulated mean activity matches the annealed chain within 0.002 + 20%', async () => {
    const N = 200;
    const k = 20;
    const alpha = 0.2;
    const points = [0.3, 0.6, 0.85].map((lambda) => ({ WE: (lambda + alpha * 0.25) / (1 - alpha), WI: 0.25, alpha, p0: 0.01 }));
    const r = await runBinaryBatch({ points, N, k, steps: 2100, burnin: 100, seed: 3, backend: 'cpu', chain: true });
    for (const x of r) {
      const ch = annealedChain({ N, k, ...points[r.indexOf(x)] });
      expect(x.chainMeanActivity).toBe(ch.meanActivity);
      expect(Math.abs(x.meanActivity - ch.meanActivity)).toBeLessThan(0.002 + 0.2 * ch.meanActivity);
    }
  });

  it('the entropy peak of a small network lies within 0.15 of lambda = 1 (weak synapses)', async () => {
    const alpha = 0.2;
    const lambdas = Array.from({ length: 13 }, (_, i) => 0.4 + 0.1 * i);
    const points = lambdas.map((lambda) => ({ WE: (lambda + alpha * 0.5) / (1 - alpha), WI: 0.5, alpha, p0: 1e-3 }));
    const r = await runBinaryBatch({ points, N: 100, k: 10, steps: 2100, burnin: 100, seed: 1, backend: 'cpu' });
    const curve = r.map((x) => ({ lambda: x.lambda, H: x.entropyBits }));
    const rob = binaryRobustness(curve, curve[6].H, [curve[3].H, curve[5].H, curve[7].H, curve[9].H]);
    expect(Math.abs(rob.peakLambda - 1)).toBeLessThanOrEqual(0.15 + 1e-9);
    expect(rob.width50).toBeGreaterThan(0);
    expect(rob.meanPerturbedH).toBeLessThan(rob.peakH);
  });

  it('results do not depend on batching', async () => {
    const points = [0.5, 1, 1.5].map((WE) => ({ WE, WI: 1, alpha: 0.2, p0: 1e-3 }));
    const a = await runBinaryBatch({ points, N: 50, k: 5, steps: 300, burnin: 50, seed: 2, backend: 'cpu', instanceIds: [7, 8, 9] });
    const b = await runBinaryBatch({ points, N: 50, k: 5, steps: 300, burnin: 50, seed: 2, backend: 'cpu', instanceIds: [7, 8, 9], maxBatch: 1 });
    expect(b).toEqual(a);
  });
});

describe('ei reproduce binary-alpha --quick', () => {
  it('runs end to end and writes checks with pass flags', async () => {
    const out = join(dir, 'alpha');
    const r = await ei('reproduce', 'binary-alpha', '--quick', '--backend', 'cpu', '--out', out);
    expect([0, 3]).toContain(r.code);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(s.checks.length).toBe(3);
    for (const c of s.checks) expect(typeof c.pass).toBe('boolean');
    for (const c of s.claims) expect(['confirmed', 'not confirmed', 'contradicted']).toContain(c.verdict);
    for (const f of ['alpha.csv', 'alpha.svg', 'report.html']) expect(existsSync(join(out, f))).toBe(true);
    // Entropy columns carry their unit in the header.
    const header = readFileSync(join(out, 'alpha.csv'), 'utf8').split('\n')[0].split(',');
    expect(header).toEqual(expect.arrayContaining(['Hdelta0_bits', 'Hdelta-0.1_bits', 'robustH_bits']));
    expect(header.some((h) => h.startsWith('H_delta'))).toBe(false);
  }, 40_000);
});

describe('ei reproduce binary-boundary --quick', () => {
  it('refines each curve at its peak and confirms the weak/strong contrast of the abstract in both networks (seed 1)', async () => {
    const out = join(dir, 'boundary');
    const r = await ei('reproduce', 'binary-boundary', '--quick', '--backend', 'cpu', '--quiet', '--out', out);
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    // 3 strengths x (11 coarse + 10 refined between the neighbours of the coarse maximum, fewer where one coincides), plus the header.
    const rows = readFileSync(join(out, 'curves.csv'), 'utf8').trim().split('\n').length - 1;
    expect(rows).toBeGreaterThanOrEqual(3 * 20);
    expect(rows).toBeLessThanOrEqual(3 * 21);
    // Without the refinement the weak peak (width90 ~ 0.01 in lambda) falls between grid points; refined, the three
    // claims of the abstract hold in each of the two networks at this size. The fourth (a monotone trend over the
    // strengths) needs more than three strengths and is not confirmed here. Then the four mechanism claims: at k = 20
    // the strong-synapse boundary moves to lambda ~ 0.6, which neither annealed picture puts within a lambda step.
    expect(s.claims.map((c: { verdict: string }) => c.verdict)).toEqual(['confirmed', 'confirmed', 'confirmed', 'not confirmed', 'confirmed', 'not confirmed', 'not confirmed', 'confirmed']);
    expect(readFileSync(join(out, 'boundaries.csv'), 'utf8').trim().split('\n').length).toBe(4);
    for (const c of s.claims) expect(c.perNetwork).toMatch(/network 0: .*; network 1: /);
    expect(r.code).toBe(3);
  }, 90_000);
});

describe('ei sweep binary keeps the connectivity', () => {
  it('an Erdos-Renyi sweep row equals `ei run binary` of the same point, and differs from fixed in-degree', async () => {
    const common = ['--n', '60', '--set', 'k=6', '--set', 'burnin=50', '--steps', '300', '--backend', 'cpu', '--quiet'];
    const er = join(dir, 'sweep-er');
    const fixed = join(dir, 'sweep-fixed');
    const run = join(dir, 'run-er');
    expect((await ei('sweep', 'binary', '--grid', 'WE=1.5,2', ...common, '--set', 'connectivity=erdos-renyi', '--out', er)).code).toBe(0);
    expect((await ei('sweep', 'binary', '--grid', 'WE=1.5,2', ...common, '--out', fixed)).code).toBe(0);
    expect((await ei('run', 'binary', ...common, '--set', 'WE=1.5', '--set', 'connectivity=erdos-renyi', '--out', run)).code).toBe(0);
    const row0 = (d: string) => {
      const t = parseCsv(readFileSync(join(d, 'sweep.csv'), 'utf8'));
      return t.rows[0][t.columns.indexOf('entropyBits')];
    };
    const single = JSON.parse(readFileSync(join(run, 'summary.json'), 'utf8'));
    expect(row0(er)).toBe(single.entropyBits);
    expect(row0(fixed)).not.toBe(single.entropyBits);
  });
});
