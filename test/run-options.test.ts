// Every `ei run` flag against every model: a flag the user typed that the model would not use is refused (exit 2,
// naming the flag and what the model takes instead), never dropped; the flags a model takes are accepted.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ei } from './helpers/cli.ts';
import { parseCsv } from '../src/io/csv.ts';
import { modelList } from '../src/models/index.ts';
import { checkRequest, runOptionFlags } from '../src/core/request.ts';
import { runOptionNames, type RunOptionName } from '../src/core/contract.ts';

/** Each model's run options as CLI flags. */
const takesOf = (m: (typeof modelList)[number]) => m.options.takes.map((o) => runOptionFlags[o].slice(2));

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-options-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A valid value for each model-specific flag (what it would take if the model used it). */
const sample: Record<string, string> = {
  n: '7', steps: '5', T: '5', dt: '0.1', batch: '3', 'record-spikes': '4', 'record-traces': '2', 'trace-every': '3', 'record-every': '3',
};
const allFlags = Object.keys(sample);

describe('ei run refuses flags a model does not use', () => {
  it('the examples: binary --batch/--T/--dt, rate --n/--steps/--batch', async () => {
    const b = await ei('run', 'binary', '--batch', '8', '--T', '5', '--dt', '0.1', '--backend', 'cpu', '--quiet', '--out', join(dir, 'b'));
    expect(b.code).toBe(2);
    expect(b.err).toMatch(/invalid --batch\/--T\/--dt: --batch, --T, --dt are not used by binary, which would ignore them/);
    expect(b.err).toMatch(/ei sweep binary .*--replicas/);
    expect(b.err).toMatch(/discrete-time: give --steps/);
    expect(b.err).toMatch(/binary takes --n, --steps, --record-every and --set/);
    const r = await ei('run', 'rate', '--n', '7', '--steps', '5', '--batch', '3', '--backend', 'cpu', '--quiet', '--out', join(dir, 'r'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--n, --steps, --batch are not used by rate/);
    expect(r.err).toMatch(/--set initial=K/);
    expect(r.err).toMatch(/rate takes --T, --dt and --set/);
    expect(existsSync(join(dir, 'b')) || existsSync(join(dir, 'r'))).toBe(false);
  });

  it('each flag against each model, through the CLI', async () => {
    for (const m of modelList) {
      const model = m.id;
      for (const flag of allFlags.filter((x) => !takesOf(m).includes(x))) {
        const out = join(dir, `${model}-${flag}`);
        const r = await ei('run', model, `--${flag}`, sample[flag], '--backend', 'cpu', '--quiet', '--out', out);
        expect(r.code, `${model} --${flag}: ${r.err}`).toBe(2);
        expect(r.err, `${model} --${flag}`).toMatch(new RegExp(`invalid --${flag}: --${flag} is not used by ${model}`));
        expect(r.err, `${model} --${flag}`).toMatch(/fix: .*takes/);
        expect(existsSync(out)).toBe(false);
      }
    }
  });

  it('the record flags are poisson-only; poisson takes every run flag', () => {
    for (const m of modelList.filter((x) => x.id !== 'poisson')) {
      for (const flag of ['record-spikes', 'record-traces', 'trace-every']) expect(takesOf(m)).not.toContain(flag);
    }
    expect(takesOf(modelList.find((m) => m.id === 'poisson')!).sort()).toEqual([...allFlags].sort());
    // Every option a model refuses has a hint of what to use instead.
    for (const m of modelList) for (const o of runOptionNames.filter((x) => !m.options.takes.includes(x))) expect(m.options.instead[o], `${m.id} ${o}`).toBeTruthy();
  });

  it('flags a model takes, and flags every model takes, pass', () => {
    for (const m of modelList) {
      const request = Object.fromEntries(m.options.takes.map((o: RunOptionName) => [o, 1]));
      expect(() => checkRequest(m.id, m.options, { ...request, params: {}, seed: 1 })).not.toThrow();
      const refused = runOptionNames.find((o) => !m.options.takes.includes(o));
      if (refused) expect(() => checkRequest(m.id, m.options, { [refused]: 1 })).toThrow(new RegExp(`${runOptionFlags[refused]} is not used by ${m.id}`));
    }
  });

  it('flags that do nothing in combination: --adapter with --backend cpu, --trace-every without traces', async () => {
    const a = await ei('run', 'poisson', '--backend', 'cpu', '--adapter', 'software', '--n', '10', '--quiet', '--out', join(dir, 'a'));
    expect(a.code).toBe(2);
    expect(a.err).toMatch(/invalid --adapter: --adapter software has no effect with --backend cpu/);
    const t = await ei('run', 'poisson', '--backend', 'cpu', '--record-traces', '0', '--trace-every', '5', '--n', '10', '--quiet', '--out', join(dir, 't'));
    expect(t.code).toBe(2);
    expect(t.err).toMatch(/invalid --trace-every: has no effect with --record-traces 0/);
  });

  it('binary now takes --record-every: every k-th step of the active count, and the last', async () => {
    const out = join(dir, 'binary-every');
    const r = await ei('run', 'binary', '--n', '60', '--set', 'k=6', '--set', 'burnin=10', '--steps', '100', '--record-every', '3', '--backend', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(0);
    const ts = parseCsv(readFileSync(join(out, 'timeseries.csv'), 'utf8'));
    expect(ts.rows.map((x) => x[0])).toEqual([...Array.from({ length: 33 }, (_, i) => 3 * (i + 1)), 100]);
    // Same simulation as without thinning: the kept rows are rows of the full series.
    const full = join(dir, 'binary-full');
    expect((await ei('run', 'binary', '--n', '60', '--set', 'k=6', '--set', 'burnin=10', '--steps', '100', '--backend', 'cpu', '--quiet', '--out', full)).code).toBe(0);
    const all = parseCsv(readFileSync(join(full, 'timeseries.csv'), 'utf8'));
    expect(all.rows).toHaveLength(100);
    expect(ts.rows).toEqual(all.rows.filter((x) => (x[0] as number) % 3 === 0 || x[0] === 100));
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).recordEvery).toBe(3);
  });
});
