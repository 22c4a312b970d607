// `ei merge` verifies before it joins: every kind of damage to a shard (edited values, NaN or empty fields, grid values
// that contradict config.json, truncation, an edited config, a foreign or digest-less shard, --out on an input) is
// refused with exit code 2, naming the file, line and field, and leaves no --out folder. Clean shards merge to the
// unsharded sweep byte for byte. Also: categorical grids and the messages for run options in a grid. CPU backend, tiny runs.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { ei } from './helpers/cli.ts';
import { parseCsv } from '../src/io/csv.ts';

let dir = '';
const base = ['sweep', 'poisson', '--grid', 'rIn=1000,3000', '--grid', 'theta=0,0.5', '--replicas', '2', '--n', '50', '--steps', '40', '--set', 'burnin=0', '--backend', 'cpu', '--quiet'];
const shards = [0, 1, 2].map((i) => `s${i}`);
const path = (name: string) => join(dir, name);
const read = (name: string, file: string) => readFileSync(join(path(name), file), 'utf8');
const json = (name: string, file: string) => JSON.parse(read(name, file));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
// Regex-safe path of a file in a shard folder, as the error messages print it.
const fileRe = (name: string, file: string) => join(path(name), file).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ei-merge-verify-'));
  const whole = await ei(...base, '--out', path('whole'));
  expect(whole.code, whole.err).toBe(0);
  for (let i = 0; i < 3; i++) {
    const r = await ei(...base, '--shard', `${i}/3`, '--out', path(shards[i]));
    expect(r.code, r.err).toBe(0);
  }
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A copy of shard `from` with `edit` applied to it. */
function damaged(name: string, from: string, edit: (d: string) => void): string {
  cpSync(path(from), path(name), { recursive: true });
  edit(path(name));
  return name;
}

/** Replaces field `column` of 1-based `line` in DIR/sweep.csv. */
function editField(d: string, line: number, column: string, f: (old: string) => string): void {
  const p = join(d, 'sweep.csv');
  const lines = readFileSync(p, 'utf8').split('\n');
  const c = lines[0].split(',').indexOf(column);
  expect(c, column).toBeGreaterThanOrEqual(0);
  const fields = lines[line - 1].split(',');
  fields[c] = f(fields[c]);
  lines[line - 1] = fields.join(',');
  writeFileSync(p, lines.join('\n'));
}

function editJson(d: string, file: string, f: (o: Record<string, unknown>) => void): void {
  const p = join(d, file);
  const o = JSON.parse(readFileSync(p, 'utf8'));
  f(o);
  writeFileSync(p, JSON.stringify(o, null, 2) + '\n');
}

/** Merges s0, s2 and `bad` (in place of s1); expects exit 2, every pattern in stderr, and no --out folder (not even a partial one). */
async function expectRefused(bad: string, patterns: RegExp[], inputs = [shards[0], bad, shards[2]]): Promise<string> {
  const out = path(`merged-${bad}`);
  const r = await ei('merge', ...inputs.map(path), '--out', out);
  expect(r.code, r.err).toBe(2);
  for (const re of patterns) expect(r.err).toMatch(re);
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(dir).filter((n) => n.includes(basename(out)))).toEqual([]);
  return r.err;
}

describe('ei merge of clean shards', () => {
  it('equals the unsharded sweep.csv byte for byte and records verifiable digests of its own', async () => {
    const r = await ei('merge', path('s2'), path('s0'), path('s1'), '--out', path('merged'));
    expect(r.code, r.err).toBe(0);
    const merged = read('merged', 'sweep.csv');
    expect(merged).toBe(read('whole', 'sweep.csv'));
    // Some spikes at all, so the spike/rate cross-check below is not checking zeros only.
    expect(parseCsv(merged).rows.some((row) => (row[9] as number) > 0)).toBe(true);
    const summary = json('merged', 'summary.json');
    expect(summary.rowsSha256).toBe(sha256(merged));
    expect(summary.shard).toBeNull();
    const config = json('merged', 'config.json');
    expect(config.sweepHash).toMatch(/^[0-9a-f]{64}$/);
    expect(config.sweepHash).toBe(json('s0', 'config.json').sweepHash);
    expect(config.sweepHash).toBe(json('whole', 'config.json').sweepHash);
    expect(summary.sweepHash).toBe(config.sweepHash);
    // Each shard's summary holds the digest of its own bytes.
    for (const s of shards) expect(json(s, 'summary.json').rowsSha256).toBe(sha256(read(s, 'sweep.csv')));

    // A merged folder verifies (and merges) like a shard of one.
    const again = await ei('merge', path('merged'), '--out', path('merged-again'));
    expect(again.code, again.err).toBe(0);
    expect(read('merged-again', 'sweep.csv')).toBe(merged);
  });

  it('replaces an earlier merge only with --overwrite', async () => {
    const inputs = shards.map(path);
    const out = path('merged-twice');
    expect((await ei('merge', ...inputs, '--out', out)).code).toBe(0);
    const refused = await ei('merge', ...inputs, '--out', out);
    expect(refused.code).toBe(2);
    expect(refused.err).toMatch(/--overwrite/);
    const r = await ei('merge', ...inputs, '--out', out, '--overwrite');
    expect(r.code, r.err).toBe(0);
    expect(read('merged-twice', 'sweep.csv')).toBe(read('whole', 'sweep.csv'));
  });
});

describe('ei merge refuses damaged or foreign shards', () => {
  // Shard 1/3 holds sweep indices 1, 4, 7 on lines 2, 3, 4.
  it('an edited spike count', async () => {
    const bad = damaged('spikes', 's1', (d) => editField(d, 3, 'spikes', (v) => String(Number(v) + 1)));
    await expectRefused(bad, [new RegExp(`${fileRe(bad, 'sweep.csv')} line 3 \\(sweep index 4\\)`), /'spikes'/, /'rateHz'/]);
  });

  it('an edited rate', async () => {
    const bad = damaged('rate', 's1', (d) => editField(d, 2, 'rateHz', (v) => String(Number(v) + 12.5)));
    await expectRefused(bad, [new RegExp(`${fileRe(bad, 'sweep.csv')} line 2 \\(sweep index 1\\)`), /'rateHz'/]);
  });

  it('a NaN field', async () => {
    const bad = damaged('nan', 's1', (d) => editField(d, 2, 'meanU', () => 'NaN'));
    await expectRefused(bad, [new RegExp(`${fileRe(bad, 'sweep.csv')} line 2 \\(sweep index 1\\), field 'meanU': NaN is not finite`)]);
  });

  it('an empty field', async () => {
    const bad = damaged('empty', 's1', (d) => editField(d, 4, 'varUTheory', () => ''));
    await expectRefused(bad, [new RegExp(`${fileRe(bad, 'sweep.csv')} line 4 \\(sweep index 7\\), field 'varUTheory': is empty`)]);
  });

  it('a grid value that contradicts config.json', async () => {
    // Index 4 is point 2 (rIn 3000, theta 0); 0.5 is a valid theta, just not this row's.
    const bad = damaged('grid', 's1', (d) => editField(d, 3, 'theta', () => '0.5'));
    await expectRefused(bad, [new RegExp(`${fileRe(bad, 'sweep.csv')} line 3 \\(sweep index 4\\), field 'theta': 0.5, but .*config\\.json grids give 0 for point 2`)]);
  });

  it('a file truncated inside its last number', async () => {
    const bad = damaged('truncated', 's1', (d) => {
      const text = readFileSync(join(d, 'sweep.csv'), 'utf8');
      // Drop the newline and two digits: the last number still parses, only shorter.
      expect(text.slice(-3, -1)).toMatch(/^\d\d$/);
      writeFileSync(join(d, 'sweep.csv'), text.slice(0, -3));
    });
    await expectRefused(bad, [new RegExp(`${fileRe(bad, 'sweep.csv')} line 4 ends without a newline: the file was truncated inside field 'spikeCountZ'`)]);
  });

  it('a value edited where no cross-check reaches: the digest names the line', async () => {
    const bad = damaged('meanu', 's1', (d) => editField(d, 3, 'meanU', (v) => String(Number(v) * 1.01)));
    await expectRefused(bad, [new RegExp(`${fileRe(bad, 'sweep.csv')} line 3 \\(sweep index 4\\) differs from what the sweep wrote`), /rowsSha256/]);
  });

  it('a row copied in from another shard', async () => {
    const row0 = read('s0', 'sweep.csv').split('\n')[1];
    const bad = damaged('foreign-row', 's1', (d) => {
      const lines = readFileSync(join(d, 'sweep.csv'), 'utf8').split('\n');
      lines[1] = row0;
      writeFileSync(join(d, 'sweep.csv'), lines.join('\n'));
    });
    await expectRefused(bad, [new RegExp(`${fileRe(bad, 'sweep.csv')} line 2, field 'index': 0 does not belong to shard 1/3`)]);
  });

  it('an edited config.json', async () => {
    const bad = damaged('config', 's1', (d) => editJson(d, 'config.json', (c) => void (c.steps = 41)));
    await expectRefused(bad, [new RegExp(`${fileRe(bad, 'config.json')} was edited after the sweep wrote it: field 'steps' changed`)]);
    const fixed = damaged('config-fixed', 's1', (d) => editJson(d, 'config.json', (c) => void ((c.fixed as Record<string, number>).tau = 0.03)));
    await expectRefused(fixed, [new RegExp(`${fileRe(fixed, 'config.json')} was edited.*field 'fixed' changed`)]);
  });

  it('a shard of another sweep, naming what differs', async () => {
    const r = await ei(...base, '--seed', '2', '--set', 'tau=0.03', '--shard', '1/3', '--out', path('other'));
    expect(r.code, r.err).toBe(0);
    await expectRefused('other', [new RegExp(`${fileRe('other', '')}? belongs to a different sweep than`), /seed \(1 vs 2\)/, /fixed\.tau \(0\.02 vs 0\.03\)/]);
  });

  it('a shard without digests (written before verified merges)', async () => {
    const bad = damaged('old', 's1', (d) => {
      editJson(d, 'config.json', (c) => void delete c.sweepHash);
      editJson(d, 'summary.json', (s) => {
        for (const k of ['sweepHash', 'sweepFieldSha256', 'rowsSha256', 'lineDigests']) delete s[k];
      });
    });
    await expectRefused(bad, [/has no digests to verify it by/, new RegExp(`sweepHash in ${fileRe(bad, 'config.json')}`), new RegExp(`rowsSha256 in ${fileRe(bad, 'summary.json')}`), /rerun that shard with this version/]);
  });

  it('a shard given twice, and a shard left out', async () => {
    await expectRefused('s1', [/sweep index 1 appears in both .*s1[\/\\]sweep\.csv and .*s1[\/\\]sweep\.csv/], ['s0', 's1', 's1', 's2']);
    await expectRefused('s1', [/sweep indices missing from the merge: 2, 5/], ['s0', 's1']);
  });

  it('an --out that is one of the inputs, with or without --overwrite, by any path', async () => {
    const before = read('s1', 'sweep.csv');
    symlinkSync(path('s1'), path('s1-link'));
    for (const out of [path('s1'), join(dir, '.', 's1', '.'), path('s1-link')]) {
      for (const extra of [[], ['--overwrite']]) {
        const r = await ei('merge', ...shards.map(path), '--out', out, ...extra);
        expect(r.code, r.err).toBe(2);
        expect(r.err).toMatch(/invalid --out: .* is the input shard/);
      }
    }
    // A folder holding an input would delete it when replaced.
    const r = await ei('merge', ...shards.map(path), '--out', dir, '--overwrite');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/contains the input shard/);
    expect(read('s1', 'sweep.csv')).toBe(before);
    expect(readdirSync(path('s1')).sort()).toEqual(readdirSync(path('s0')).sort());
  });
});

describe('categorical grids', () => {
  const cat = ['sweep', 'poisson', '--grid', 'sigmoid=probit,logistic', '--grid', 'theta=0,0.5', '--n', '50', '--steps', '40', '--set', 'burnin=0', '--backend', 'cpu', '--quiet'];

  it('sweeps a choice parameter; the CSV holds its names; shards merge and are checked', async () => {
    const r = await ei(...cat, '--out', path('cat'));
    expect(r.code, r.err).toBe(0);
    const t = parseCsv(read('cat', 'sweep.csv'));
    expect(t.columns.slice(0, 5)).toEqual(['index', 'pointIndex', 'replica', 'sigmoid', 'theta']);
    expect(t.rows.map((x) => x[3])).toEqual(['probit', 'probit', 'logistic', 'logistic']);
    // The sigmoid really changes the model: the theoretical rate differs at equal theta.
    expect(t.rows[0][12]).not.toBe(t.rows[2][12]);
    expect(json('cat', 'config.json').grids[0]).toEqual({ name: 'sigmoid', values: ['probit', 'logistic'] });
    for (const i of [0, 1]) expect((await ei(...cat, '--shard', `${i}/2`, '--out', path(`cat${i}`))).code).toBe(0);
    const m = await ei('merge', path('cat1'), path('cat0'), '--out', path('cat-merged'));
    expect(m.code, m.err).toBe(0);
    expect(read('cat-merged', 'sweep.csv')).toBe(read('cat', 'sweep.csv'));

    // Shard 0/2 holds indices 0 and 2; index 2 (logistic) is on its line 3.
    const bad = damaged('cat-bad', 'cat0', (d) => editField(d, 3, 'sigmoid', () => 'probit'));
    await expectRefused(bad, [new RegExp(`${fileRe(bad, 'sweep.csv')} line 3 \\(sweep index 2\\), field 'sigmoid': 'probit', but .*grids give 'logistic'`)], ['cat1', bad]);
  });

  it('rejects values that are not among the choices, and ranges', async () => {
    const cases: [string, RegExp][] = [
      ['sigmoid=probit,logstic', /invalid --grid: 'sigmoid=probit,logstic': list entry 2 'logstic' is not one of probit, logistic \(did you mean logistic\?\)/],
      ['sigmoid=0:1:2', /sigmoid is a choice parameter \(probit, logistic\), so it takes a list, not a range/],
      ['tau=probit', /list entry 1 'probit' is not a finite number/],
      ['tau=0x10', /'0x10' is not a finite number/],
    ];
    for (const [g, re] of cases) {
      const out = path(`cat-${g}`);
      const r = await ei('sweep', 'poisson', '--grid', g, '--backend', 'cpu', '--quiet', '--out', out);
      expect(r.code, g).toBe(2);
      expect(r.err).toMatch(re);
      expect(existsSync(out)).toBe(false);
    }
  });
});

describe('grids over run options', () => {
  it('says n, seed, steps, dt and T are run options and what to do instead', async () => {
    const cases: [string[], RegExp[]][] = [
      [['poisson', '--grid', 'n=100,200'], [/n is a run option \(--n\), not a parameter of poisson/, /one sweep per size with --n/]],
      [['poisson', '--grid', 'seed=1,2'], [/seed is a run option \(--seed\)/, /--replicas R/]],
      [['poisson', '--grid', 'steps=10,20'], [/steps is a run option \(--steps\)/, /--steps/]],
      [['poisson', '--grid', 'dt=1e-4,2e-4'], [/dt is a run option \(--dt\)/]],
      [['poisson', '--grid', 'T=0.1,0.2'], [/T is a run option \(--T\)/]],
      [['binary', '--grid', 'n=100,200', '--set', 'k=5'], [/n is a run option \(--n\), not a parameter of binary/]],
      [['poisson', '--grid', 'thta=1,2'], [/'thta' is not a parameter of poisson \(did you mean theta\?\)/]],
    ];
    for (const [args, res] of cases) {
      const out = path(`runopt-${args.join('')}`);
      const r = await ei('sweep', ...args, '--backend', 'cpu', '--quiet', '--out', out);
      expect(r.code, args.join(' ')).toBe(2);
      for (const re of res) expect(r.err).toMatch(re);
      // The old message suggested a model parameter for a run option.
      if (!args.includes('thta=1,2')) expect(r.err).not.toMatch(/did you mean/);
      expect(existsSync(out)).toBe(false);
    }
  });

  it('reports a negative shard index as such', async () => {
    const r = await ei('sweep', 'poisson', '--grid', 'theta=0,1', '--shard', '-1/4', '--backend', 'cpu', '--quiet', '--out', path('neg'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/invalid --shard: shard index -1 is negative/);
    expect(existsSync(path('neg'))).toBe(false);
  });
});
