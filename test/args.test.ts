// Unit tests of the ei argv parser: flag types, defaults, bounds, typos, --set assignments and help text.
import { describe, expect, expectTypeOf, it } from 'vitest';
import { editDistance, makeHelpText, parseArgs, parseSetAssignments, suggest, type ArgSpec } from '../src/cli/args.ts';
import { ConfigError, ParameterError } from '../src/errors.ts';

const spec = {
  command: 'ei sweep',
  description: 'Run a model over a grid of parameters, with replicas, optionally as one shard of a larger job.',
  positionals: [{ name: 'model', help: 'model family, e.g. hybrid-balanced', required: true }],
  flags: {
    n: { type: 'integer', short: 'n', default: 1000, min: 1, help: 'neurons per population' },
    dt: { type: 'number', default: 1e-4, min: 0, help: 'time step in seconds' },
    bias: { type: 'number', help: 'external drive; may be negative' },
    seed: { type: 'integer', min: 0, help: 'random seed' },
    out: { type: 'string', required: true, valueName: 'dir', help: 'results folder' },
    backend: { type: 'string', default: 'webgpu', choices: ['webgpu', 'cpu'], help: 'where to run' },
    grid: { type: 'strings', valueName: 'name=a:b:n', help: 'a swept parameter' },
    set: { type: 'strings', valueName: 'name=value', help: 'override a model parameter' },
    quiet: { type: 'boolean', short: 'q', help: 'no progress output' },
    report: { type: 'boolean', default: true, help: 'write report.html' },
    shard: { type: 'string', valueName: 'i/N', help: 'run shard i of N (0-based)' },
  },
} as const satisfies ArgSpec;

function catchErr(f: () => unknown): Error {
  try {
    f();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error');
}

describe('parseArgs', () => {
  it('parses all flag forms with typed results and defaults', () => {
    const r = parseArgs(['hybrid', '--n', '5000', '--dt=2e-4', '--bias', '-0.5', '--out', 'res', '--grid', 'WE=0.5:8:64', '--grid=WI=1,2', '--set', 'tau=0.02', '-q', '--no-report'], spec);
    expect(r.positionals).toEqual(['hybrid']);
    expect(r.flags).toEqual({ n: 5000, dt: 2e-4, bias: -0.5, seed: undefined, out: 'res', backend: 'webgpu', grid: ['WE=0.5:8:64', 'WI=1,2'], set: ['tau=0.02'], quiet: true, report: false, shard: undefined });
    expect([...r.given].sort()).toEqual(['bias', 'dt', 'grid', 'n', 'out', 'quiet', 'report', 'set']);
    expect(r.help).toBe(false);
    expectTypeOf(r.flags.n).toEqualTypeOf<number>();
    expectTypeOf(r.flags.seed).toEqualTypeOf<number | undefined>();
    expectTypeOf(r.flags.out).toEqualTypeOf<string>();
    expectTypeOf(r.flags.grid).toEqualTypeOf<string[]>();
    expectTypeOf(r.flags.quiet).toEqualTypeOf<boolean>();
  });

  it('accepts short forms, --flag=false, -- and negative positionals', () => {
    const r = parseArgs(['-n5', '--out', 'o', '--quiet=false', '--', '--not-a-flag'], spec);
    expect(r.flags.n).toBe(5);
    expect(r.flags.quiet).toBe(false);
    expect(r.positionals).toEqual(['--not-a-flag']);
    expect(parseArgs(['-3', '--out', 'o'], spec).positionals).toEqual(['-3']);
  });

  it('reports unknown flags with the valid list and a suggestion', () => {
    const e = catchErr(() => parseArgs(['m', '--out', 'o', '--seeed', '3'], spec));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/unknown flag --seeed for 'ei sweep'/);
    expect(e.message).toMatch(/did you mean --seed\?/);
    expect(e.message).toMatch(/valid flags: --n, --dt, .*--shard, --help/);
    expect(catchErr(() => parseArgs(['m', '--out', 'o', '--back', 'cpu'], spec)).message).toMatch(/did you mean --backend/);
    expect(catchErr(() => parseArgs(['m', '--out', 'o', '--zzzzzz'], spec)).message).not.toMatch(/did you mean/);
    expect(catchErr(() => parseArgs(['m', '--out', 'o', '-x'], spec))).toBeInstanceOf(ConfigError);
  });

  it('gives ParameterErrors naming the flag for bad values', () => {
    const cases: [string[], RegExp][] = [
      [['m', '--out'], /invalid --out: expects a value \(dir\)/],
      [['m', '--out', 'o', '--n', '--quiet'], /invalid --n: expects a value/],
      [['m', '--out', 'o', '--n', 'many'], /invalid --n: 'many' is not an integer/],
      [['m', '--out', 'o', '--n', '2.5'], /invalid --n: '2\.5' is not an integer/],
      [['m', '--out', 'o', '--n', '0'], /invalid --n: 0 is below the minimum 1/],
      [['m', '--out', 'o', '--dt', '-1e-4'], /invalid --dt: -1e-4 is negative[\s\S]*fix: give a value >= 0/],
      [['m', '--out', 'o', '--dt', '1e-4x'], /invalid --dt: '1e-4x' is not a number/],
      [['m', '--out', 'o', '--dt', 'Infinity'], /invalid --dt/],
      [['m', '--out', 'o', '--backend', 'cpux'], /invalid --backend: 'cpux' is not one of webgpu, cpu[\s\S]*did you mean --backend cpu/],
      [['m', '--out', 'o', '--quiet=maybe'], /invalid --quiet: 'maybe' is not a boolean/],
      [['m', '--out', 'o', '--n', '1', '--n', '2'], /invalid --n: was given twice/],
      [['m'], /invalid --out: is required/],
      [['--out', 'o'], /invalid <model>: is missing/],
    ];
    for (const [argv, re] of cases) {
      const e = catchErr(() => parseArgs(argv, spec));
      expect(e, argv.join(' ')).toBeInstanceOf(ParameterError);
      expect(e.message, argv.join(' ')).toMatch(re);
    }
  });

  it('rejects extra positionals and hints at --set for name=value', () => {
    const e = catchErr(() => parseArgs(['m', 'tau=0.1', '--out', 'o'], spec));
    expect(e).toBeInstanceOf(ConfigError);
    expect(e.message).toMatch(/--set tau=0\.1/);
  });

  it('reports --help without failing on missing required flags', () => {
    expect(parseArgs(['--help'], spec).help).toBe(true);
    expect(parseArgs(['-h'], spec).help).toBe(true);
  });
});

describe('parseSetAssignments', () => {
  it('parses name=value pairs, splitting at the first =', () => {
    expect(parseSetAssignments(['tau=0.02', 'sigmoid=probit', 'expr=a=b'])).toEqual({ tau: '0.02', sigmoid: 'probit', expr: 'a=b' });
    expect(parseSetAssignments([])).toEqual({});
  });

  it('rejects malformed and repeated assignments', () => {
    expect(catchErr(() => parseSetAssignments(['tau']))).toBeInstanceOf(ParameterError);
    expect(catchErr(() => parseSetAssignments(['tau'])).message).toMatch(/invalid --set: 'tau' is not name=value/);
    expect(catchErr(() => parseSetAssignments(['=1'])).message).toMatch(/not name=value/);
    expect(catchErr(() => parseSetAssignments(['tau='])).message).toMatch(/no value/);
    expect(catchErr(() => parseSetAssignments(['tau=1', 'tau=2'])).message).toMatch(/set twice/);
  });
});

describe('helpers', () => {
  it('computes edit distances and suggestions', () => {
    expect(editDistance('kitten', 'sitting')).toBe(3);
    expect(editDistance('', 'abc')).toBe(3);
    expect(editDistance('seed', 'seed')).toBe(0);
    expect(suggest('replcas', ['replicas', 'reports'])).toBe('replicas');
    expect(suggest('qqqq', ['replicas'])).toBeUndefined();
  });

  it('makes help text with usage, types, defaults and choices', () => {
    const h = makeHelpText(spec);
    expect(h).toMatch(/^usage: ei sweep <model> --out dir \[flags\]/);
    expect(h).toMatch(/-n, --n int\s+neurons per population \(default: 1000, >= 1\)/);
    expect(h).toMatch(/--backend webgpu\|cpu\s+where to run \(default: webgpu\)/);
    expect(h).toMatch(/--grid name=a:b:n\s+a swept parameter \(repeatable\)/);
    expect(h).toMatch(/-q, --quiet\s+no progress output/);
    expect(h).toMatch(/-h, --help\s+show this help/);
    for (const line of h.split('\n')) expect(line.length).toBeLessThanOrEqual(80);
  });
});
