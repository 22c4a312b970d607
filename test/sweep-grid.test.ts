// Unit tests of sweep grids: spec parsing and its errors, cartesian order, shard partitioning, environment shards and merging.
import { describe, expect, it } from 'vitest';
import {
  canonicalJson,
  checkPerPointColumns,
  describeSweepDifference,
  firstChangedLines,
  lineDigestsOf,
  makeSweepPoints,
  MAX_LINE_DIGESTS,
  mergeShardCsvs,
  parseGridSpec,
  parseShard,
  resolveShard,
  selectShard,
  shardFromEnv,
  sweepFieldDigests,
  sweepHashOf,
  type SweepPoint,
  type SweepSchema,
  type VerifiedShard,
} from '../src/core/sweep-grid.ts';
import { poissonParameters } from '../src/models/poisson/params.ts';
import { makeCsv, parseCsv } from '../src/io/csv.ts';
import { ConfigError, ParameterError } from '../src/errors.ts';

describe('parseGridSpec', () => {
  it('parses inclusive linspace', () => {
    const g = parseGridSpec('WE=0.5:8:64');
    expect(g.name).toBe('WE');
    expect(g.values.length).toBe(64);
    expect(g.values[0]).toBe(0.5);
    expect(g.values[63]).toBe(8);
    expect(parseGridSpec('x=0:1:11').values).toEqual([0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 1]);
    expect(parseGridSpec('x=1:-1:3').values).toEqual([1, 0, -1]);
    expect(parseGridSpec('x=2:2:1').values).toEqual([2]);
    expect(parseGridSpec(' g = 1 : 3 : 3 : lin ').values).toEqual([1, 2, 3]);
  });

  it('parses logspace with exact decades', () => {
    expect(parseGridSpec('N=100:100000:4:log').values).toEqual([100, 1000, 10000, 100000]);
    const v = parseGridSpec('N=1e2:1e6:9:log').values;
    expect(v[2]).toBe(1000);
    expect(v[8]).toBe(1e6);
  });

  it('parses lists and single values', () => {
    expect(parseGridSpec('sigma=1,2.5,-3e-2').values).toEqual([1, 2.5, -0.03]);
    expect(parseGridSpec('tau=0.02').values).toEqual([0.02]);
  });

  it('rejects malformed specs, naming the flag and the expected form', () => {
    const bad = ['WE', '=1:2:3', 'WE=', 'WE=a:2:3', 'WE=1:2', 'WE=1:2:0', 'WE=1:2:2.5', 'WE=1:2:3:cubic', 'WE=0:2:3:log', 'WE=1,,2', 'WE=1:2:1', '9x=1', 'WE=1:2:3:log:5'];
    for (const spec of bad) {
      let err: unknown;
      try {
        parseGridSpec(spec);
      } catch (e) {
        err = e;
      }
      expect(err, spec).toBeInstanceOf(ParameterError);
      expect((err as ParameterError).field).toBe('--grid');
      expect((err as Error).message, spec).toMatch(/--grid/);
      expect((err as Error).message, spec).toMatch(/fix: /);
    }
    expect(() => parseGridSpec('WE=1:2:x')).toThrow(/start:stop:count/);
    expect(() => parseGridSpec('WE', '--sweep')).toThrow(/invalid --sweep/);
  });
});

describe('parseGridSpec with a model', () => {
  const poisson = { id: 'poisson', parameters: poissonParameters };
  const err = (spec: string) => {
    try {
      parseGridSpec(spec, '--grid', poisson);
    } catch (e) {
      expect(e).toBeInstanceOf(ParameterError);
      return (e as Error).message;
    }
    throw new Error(`${spec} was accepted`);
  };

  it('takes lists of a choice parameter, validated against its choices', () => {
    expect(parseGridSpec('sigmoid=logistic, probit', '--grid', poisson)).toEqual({ name: 'sigmoid', values: ['logistic', 'probit'] });
    expect(makeSweepPoints([parseGridSpec('sigmoid=probit,logistic', '--grid', poisson), parseGridSpec('tau=0.01,0.02', '--grid', poisson)]).map((p) => p.point)).toEqual([
      { sigmoid: 'probit', tau: 0.01 },
      { sigmoid: 'probit', tau: 0.02 },
      { sigmoid: 'logistic', tau: 0.01 },
      { sigmoid: 'logistic', tau: 0.02 },
    ]);
    expect(err('sigmoid=probit,Logistic')).toMatch(/'Logistic' is not one of probit, logistic \(did you mean logistic\?\)/);
    expect(err('sigmoid=probit:logistic:2')).toMatch(/choice parameter .* takes a list, not a range/);
    expect(err('sigmoid=probit,')).toMatch(/list entry 2 '' is not one of/);
    // Without a model, lists stay numeric (and strictly decimal).
    expect(() => parseGridSpec('sigmoid=probit,logistic')).toThrow(/'probit' is not a finite number/);
    expect(() => parseGridSpec('x=0x10,1')).toThrow(/'0x10' is not a finite number/);
    expect(() => parseGridSpec('x=1:Infinity:3')).toThrow(/'Infinity' is not a finite number/);
  });

  it('names run options as such, and unknown parameters with a suggestion', () => {
    expect(err('n=100,200')).toMatch(/n is a run option \(--n\), not a parameter of poisson[\s\S]*fix: .*one sweep per size with --n/);
    expect(err('N=100,200')).toMatch(/N is a run option \(--n\)/);
    expect(err('seed=1,2')).toMatch(/seed is a run option \(--seed\)[\s\S]*--replicas R/);
    for (const o of ['steps', 'T', 'dt']) expect(err(`${o}=1,2`)).toMatch(new RegExp(`${o} is a run option \\(--${o}\\)[\\s\\S]*with --${o}`));
    expect(err('n=100,200')).not.toMatch(/did you mean/);
    expect(err('numx=1,2')).toMatch(/'numx' is not a parameter of poisson \(did you mean numax\?\)/);
  });
});

describe('makeSweepPoints', () => {
  const grids = [parseGridSpec('a=1,2'), parseGridSpec('b=10,20,30')];

  it('is the cartesian product, first grid outermost, replicas innermost', () => {
    const pts = makeSweepPoints(grids, 2);
    expect(pts.length).toBe(12);
    expect(pts.map((p) => p.index)).toEqual([...Array(12).keys()]);
    expect(pts.slice(0, 4)).toEqual([
      { index: 0, pointIndex: 0, point: { a: 1, b: 10 }, replica: 0 },
      { index: 1, pointIndex: 0, point: { a: 1, b: 10 }, replica: 1 },
      { index: 2, pointIndex: 1, point: { a: 1, b: 20 }, replica: 0 },
      { index: 3, pointIndex: 1, point: { a: 1, b: 20 }, replica: 1 },
    ]);
    expect(pts[11]).toEqual({ index: 11, pointIndex: 5, point: { a: 2, b: 30 }, replica: 1 });
    expect(Object.keys(pts[5].point)).toEqual(['a', 'b']);
    expect(makeSweepPoints(grids, 2)).toEqual(pts);
  });

  it('handles no grids and rejects duplicates and bad replica counts', () => {
    expect(makeSweepPoints([], 3)).toEqual([0, 1, 2].map((r) => ({ index: r, pointIndex: 0, point: {}, replica: r })));
    expect(() => makeSweepPoints([grids[0], grids[0]])).toThrow(/swept twice/);
    expect(() => makeSweepPoints(grids, 0)).toThrow(/--replicas/);
    expect(() => makeSweepPoints([parseGridSpec('a=1:2:5000'), parseGridSpec('b=1:2:5000')])).toThrow(/more than/);
  });
});

describe('shards', () => {
  it('parses i/N, 0-based', () => {
    expect(parseShard('0/4')).toEqual({ index: 0, count: 4 });
    expect(parseShard(' 3 / 4 ')).toEqual({ index: 3, count: 4 });
    expect(() => parseShard('4/4')).toThrow(/0-based: use 0\.\.3/);
    expect(() => parseShard('1/0')).toThrow(ParameterError);
    expect(() => parseShard('1-4')).toThrow(/--shard i\/N/);
    expect(() => parseShard('-1/4')).toThrow(ParameterError);
    expect(() => parseShard('-1/4')).toThrow(/shard index -1 is negative[\s\S]*0-based/);
    expect(() => parseShard('1/-4')).toThrow(/shard count -4 is not a positive integer/);
  });

  it('partitions the points exactly, for every shard count', () => {
    const pts = makeSweepPoints([parseGridSpec('a=1:5:5'), parseGridSpec('b=1,2,3')], 3);
    for (const count of [1, 2, 3, 7, 45, 50]) {
      const seen: number[] = [];
      for (let i = 0; i < count; i++) {
        const part = selectShard(pts, { index: i, count });
        // Round-robin: sizes differ by at most one, order within a shard is kept.
        expect(part.length).toBeGreaterThanOrEqual(Math.floor(pts.length / count));
        expect(part.length).toBeLessThanOrEqual(Math.ceil(pts.length / count));
        expect(part.every((p) => p.index % count === i)).toBe(true);
        seen.push(...part.map((p) => p.index));
      }
      expect(seen.sort((x, y) => x - y)).toEqual(pts.map((p) => p.index));
    }
    expect(selectShard(pts, null)).toEqual(pts);
    expect(() => selectShard(pts, { index: 2, count: 2 })).toThrow(ParameterError);
  });
});

describe('shardFromEnv', () => {
  it('reads SLURM arrays, 0- or 1-based, with or without a count', () => {
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '8' })).toEqual({ index: 3, count: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '8' })).toEqual({ index: 0, count: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '8', SLURM_ARRAY_TASK_COUNT: '8' })).toEqual({ index: 7, count: 8 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_MIN: '0', SLURM_ARRAY_TASK_MAX: '6', SLURM_ARRAY_TASK_STEP: '2' })).toEqual({ index: 2, count: 4 });
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '2' }, 5)).toEqual({ index: 2, count: 5 });
  });

  it('rejects SLURM settings that cannot map to shards', () => {
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '2' })).toThrow(ConfigError);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '9', SLURM_ARRAY_TASK_MIN: '1', SLURM_ARRAY_TASK_MAX: '9', SLURM_ARRAY_TASK_COUNT: '3' })).toThrow(/not a contiguous range/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '8', SLURM_ARRAY_TASK_COUNT: '8' })).toThrow(/outside 0\.\.7/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: 'x' })).toThrow(/SLURM_ARRAY_TASK_ID='x'/);
    expect(() => shardFromEnv({ SLURM_ARRAY_TASK_ID: '1', SLURM_ARRAY_TASK_COUNT: '4' }, 5)).toThrow(/disagrees/);
  });

  it('reads Kubernetes JOB_COMPLETION_INDEX with a count from a flag or EI_SHARD_COUNT', () => {
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '2' }, 4)).toEqual({ index: 2, count: 4 });
    expect(shardFromEnv({ JOB_COMPLETION_INDEX: '0', EI_SHARD_COUNT: '3' })).toEqual({ index: 0, count: 3 });
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '2' })).toThrow(/--shard-count/);
    expect(() => shardFromEnv({ JOB_COMPLETION_INDEX: '4' }, 4)).toThrow(ParameterError);
  });

  it('returns null without a scheduler, and an explicit --shard wins', () => {
    expect(shardFromEnv({})).toBeNull();
    expect(shardFromEnv({ SLURM_ARRAY_TASK_ID: '' })).toBeNull();
    const env = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '8' };
    expect(resolveShard({ shard: '1/2', env })).toEqual({ index: 1, count: 2 });
    expect(resolveShard({ env })).toEqual({ index: 3, count: 8 });
    expect(resolveShard({ env: {} })).toBeNull();
    expect(() => resolveShard({ shard: '1/2', shardCount: 3, env })).toThrow(/--shard-count/);
  });
});

describe('mergeShardCsvs', () => {
  const pts = makeSweepPoints([parseGridSpec('WE=0.5:8:4'), parseGridSpec('WI=1,2,3')], 2);
  const columns = ['index', 'WE', 'WI', 'replica', 'rate', 'label'];
  const row = (p: SweepPoint) => [p.index, p.point.WE, p.point.WI, p.replica, (p.point.WE as number) / (p.point.WI as number) + p.replica * 1e-17, p.index % 5 ? `p${p.index}` : null];
  const shardCsv = (i: number, n: number) => makeCsv(columns, selectShard(pts, { index: i, count: n }).map(row));
  const full = makeCsv(columns, pts.map(row));

  it('merges shards back to the unsharded CSV, whatever their order', () => {
    for (const n of [1, 2, 5, 24, 30]) {
      const parts = Array.from({ length: n }, (_, i) => shardCsv(i, n));
      expect(mergeShardCsvs(parts)).toBe(full);
      expect(mergeShardCsvs(parts.slice().reverse(), { expected: pts.length })).toBe(full);
      const shuffled = parts.map((p, i) => [((i * 7919) % 101), p] as const).sort((a, b) => a[0] - b[0]).map((x) => x[1]);
      expect(mergeShardCsvs(shuffled)).toBe(full);
    }
    expect(parseCsv(mergeShardCsvs([shardCsv(1, 2), shardCsv(0, 2)])).rows.length).toBe(24);
  });

  it('fails on missing, duplicate or foreign rows and on mismatched columns', () => {
    expect(() => mergeShardCsvs([shardCsv(0, 3), shardCsv(2, 3)])).toThrow(/missing from the merge: 1, 4, 7/);
    expect(() => mergeShardCsvs([shardCsv(0, 2), shardCsv(1, 2), shardCsv(1, 2)], { sources: ['a.csv', 'b.csv', 'c.csv'] })).toThrow(/both b\.csv and c\.csv/);
    // The last shard lost: only detectable with the expected size.
    const first = makeCsv(columns, pts.slice(0, 20).map(row));
    expect(mergeShardCsvs([first])).toBe(makeCsv(columns, pts.slice(0, 20).map(row)));
    expect(() => mergeShardCsvs([first], { expected: 24 })).toThrow(/20, 21, 22, 23/);
    expect(() => mergeShardCsvs([full], { expected: 10 })).toThrow(/beyond the expected/);
    const other = makeCsv(['index', 'WE', 'WI', 'replica', 'rate', 'extra'], []);
    expect(() => mergeShardCsvs([shardCsv(0, 2), other])).toThrow(/missing \[label\], extra \[extra\]/);
    const reordered = makeCsv(['WE', 'index', 'WI', 'replica', 'rate', 'label'], []);
    expect(() => mergeShardCsvs([shardCsv(0, 2), reordered])).toThrow(/different order/);
    expect(() => mergeShardCsvs([makeCsv(['WE'], [[1]])])).toThrow(/no 'index' column/);
    expect(() => mergeShardCsvs([makeCsv(['index'], [[1.5]])])).toThrow(/not a non-negative integer/);
    expect(() => mergeShardCsvs([''])).toThrow(/empty/);
    expect(() => mergeShardCsvs([])).toThrow(ConfigError);
  });

  it('accepts an empty shard (header only) and a custom index column', () => {
    const empty = makeCsv(columns, []);
    expect(mergeShardCsvs([empty, full])).toBe(full);
    expect(mergeShardCsvs([makeCsv(['k', 'v'], [[1, 'b'], [0, 'a']])], { indexColumn: 'k' })).toBe('k,v\n0,a\n1,b\n');
  });
});

describe('sweep digests', () => {
  const config = {
    engineVersion: '0.1.0', createdAt: '2024-01-01T00:00:00Z', backend: 'cpu', shard: { index: 0, count: 2 },
    model: 'poisson', n: 50, steps: 40, dt: 1e-4, seed: 1, rngKey: [1, 0], fixed: { tau: 0.02, sigmoid: 'probit' },
    grids: [{ name: 'theta', values: [0, 0.5] }], replicas: 2, totalInstances: 4, columns: ['index', 'pointIndex', 'replica', 'theta', 'x'],
  };

  it('canonical JSON sorts keys at every level and drops undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, 'x', null], c: undefined, b: -0 } })).toBe('{"a":{"b":0,"d":[1,"x",null]},"b":1}');
    expect(canonicalJson({ x: 1, y: 2 })).toBe(canonicalJson({ y: 2, x: 1 }));
    expect(canonicalJson([NaN, undefined])).toBe('[null,null]');
  });

  it('sweepHash covers exactly the fields that define the sweep', () => {
    const h = sweepHashOf(config);
    expect(h).toMatch(/^[0-9a-f]{64}$/);
    // Shard, backend, times: not part of the sweep; a JSON round trip keeps the hash.
    expect(sweepHashOf({ ...config, shard: { index: 1, count: 2 }, backend: 'webgpu', createdAt: 'later', engineVersion: '9' })).toBe(h);
    expect(sweepHashOf(JSON.parse(JSON.stringify(config)))).toBe(h);
    expect(sweepHashOf({ ...config, fixed: { sigmoid: 'probit', tau: 0.02 } })).toBe(h);
    for (const change of [{ n: 51 }, { seed: 2 }, { dt: 2e-4 }, { fixed: { tau: 0.03, sigmoid: 'probit' } }, { grids: [{ name: 'theta', values: [0, 0.6] }] }, { replicas: 1 }, { k: 5 }]) {
      expect(sweepHashOf({ ...config, ...change }), JSON.stringify(change)).not.toBe(h);
    }
    const { steps: _, ...noSteps } = config;
    expect(sweepHashOf(noSteps)).not.toBe(h);
    const fields = sweepFieldDigests(config);
    const edited = sweepFieldDigests({ ...config, n: 51 });
    expect(Object.keys(fields).filter((k) => fields[k] !== edited[k])).toEqual(['n']);
  });

  it('line digests locate the changed line, or the block holding it in long files', () => {
    const text = Array.from({ length: 10 }, (_, i) => `${i},${i * i}\n`).join('');
    const d = lineDigestsOf(text);
    expect(d).toMatchObject({ lines: 10, linesPerDigest: 1 });
    expect(d.digests.length).toBe(10);
    expect(firstChangedLines(text, d)).toBeNull();
    expect(firstChangedLines(text.replace('7,49', '7,48'), d)).toEqual([8, 8]);
    expect(firstChangedLines(text.slice(0, -2), d)).toEqual([10, 10]);
    expect(firstChangedLines(text + '10,100\n', d)).toEqual([11, 11]);
    const long = Array.from({ length: 3 * MAX_LINE_DIGESTS + 5 }, (_, i) => `${i}\n`).join('');
    const ld = lineDigestsOf(long);
    expect(ld.linesPerDigest).toBe(4);
    expect(ld.digests.length).toBeLessThanOrEqual(MAX_LINE_DIGESTS);
    expect(firstChangedLines(long.replace('\n5000\n', '\n5001\n'), ld)).toEqual([5001, 5004]);
  });

  it('replicas of one point must agree on point-only columns, across shards', () => {
    const schema: SweepSchema = { resultColumns: ['x', 'theory'], emptyColumns: () => ({}), countColumns: [], perPointColumns: ['theory'] };
    const shard = (name: string, rows: (number | null)[][]) => ({ csvPath: `${name}/sweep.csv`, columns: ['index', 'pointIndex', 'replica', 'x', 'theory'], rows }) as unknown as VerifiedShard;
    const a = shard('a', [[0, 0, 0, 1, 0.5], [2, 1, 0, 1, 0.7]]);
    expect(() => checkPerPointColumns([a, shard('b', [[1, 0, 1, 2, 0.5], [3, 1, 1, 3, 0.7]])], schema)).not.toThrow();
    expect(() => checkPerPointColumns([a, shard('b', [[1, 0, 1, 2, 0.5], [3, 1, 1, 3, 0.75]])], schema)).toThrow(/b\/sweep\.csv line 3, field 'theory': 0\.75, but a\/sweep\.csv line 3 has 0\.7 for the same point 1/);
  });

  it('names the definition fields in which two sweeps differ', () => {
    expect(describeSweepDifference(config, { ...config, seed: 2, fixed: { tau: 0.03, sigmoid: 'probit' }, grids: [] })).toBe('seed (1 vs 2), fixed.tau (0.02 vs 0.03), grids');
    expect(describeSweepDifference(config, { ...config, backend: 'webgpu' })).toBe('');
  });
});

describe('makeEmptyShardNote', () => {
  it('says when a shard holds no rows, and only then', async () => {
    const { makeEmptyShardNote } = await import('../src/core/sweep-grid.ts');
    expect(makeEmptyShardNote(3, { index: 3, count: 4 }, 0)).toMatch(/shard 3\/4 holds none of the 3 instances/);
    expect(makeEmptyShardNote(3, { index: 1, count: 4 }, 1)).toBeNull();
    expect(makeEmptyShardNote(0, null, 0)).toBeNull();
  });
});
