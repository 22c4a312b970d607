// Step counts: whole numbers up to 2^32 - 1 (the u32 step counter of the kernels and random streams); --T with --dt
// must be a whole number of steps; --T with the default dt lowers dt to fit, says so and records it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ei } from './helpers/cli.ts';
import { maxSteps, resolveSteps } from '../src/core/limits.ts';
import { ParameterError } from '../src/errors.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-steps-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

async function refused(args: string[], re: RegExp[]) {
  const out = join(dir, `bad-${args.join('_').replace(/[^a-z0-9]/gi, '')}`.slice(0, 120));
  const t0 = performance.now();
  const r = await ei('run', ...args, '--backend', 'cpu', '--quiet', '--out', out);
  expect(r.code, `${args.join(' ')}\n${r.err}`).toBe(2);
  for (const x of re) expect(r.err, args.join(' ')).toMatch(x);
  expect(r.err).toMatch(/fix: /);
  expect(existsSync(out)).toBe(false);
  expect((performance.now() - t0) / 1000).toBeLessThan(20);
  return r.err;
}

describe('step counts above 2^32 - 1 are refused up front (they hung or ran "forever")', () => {
  it('poisson --steps 1e12, --T 1e9, --dt 1e-30 --T 0.01', async () => {
    await refused(['poisson', '--steps', '1e12', '--n', '10'], [/invalid --steps/, /1e12 steps/, /4294967295 \(2\^32 - 1\)/, /u32/]);
    await refused(['poisson', '--T', '1e9', '--n', '10'], [/invalid --T/, /--T 1000000000 with the default dt 0\.0001 s is 1e13 steps/, /use --T <= 429496\.7/]);
    await refused(['poisson', '--dt', '1e-30', '--T', '0.01'], [/invalid --T/, /--dt 1e-30 is 1e28 steps/]);
  });

  it('rate --T 1e9 says so plainly (was "invalid steps: is 100000000000")', async () => {
    await refused(['rate', '--T', '1e9'], [/invalid --T/, /--T 1000000000 with the default dt 0\.01 is 1e11 steps, more than the 4294967295/]);
  });

  it('hybrid, binary and minimax too', async () => {
    await refused(['hybrid', '--steps', '5000000000', '--n', '10'], [/invalid --steps/, /5e9 steps/]);
    await refused(['binary', '--steps', '5000000000'], [/invalid --steps/, /5e9 steps/]);
    await refused(['minimax', '--T', '1e6', '--dt', '1e-4'], [/invalid --T/, /1e10 steps/]);
  });

  it('2^32 - 1 itself is a valid count', () => {
    expect(resolveSteps({ model: 'm', steps: maxSteps, dtDefault: 1e-4, defaultT: 1 }).steps).toBe(maxSteps);
    expect(() => resolveSteps({ model: 'm', steps: maxSteps + 1, dtDefault: 1e-4, defaultT: 1 })).toThrow(ParameterError);
  });
});

describe('--T and --dt', () => {
  it('both given and T / dt not whole: an error naming both, with values that work', async () => {
    const err = await refused(['poisson', '--dt', '0.003', '--T', '0.01', '--set', 'burnin=0'], [/invalid --T: --T 0\.01 is 3\.333333 steps of --dt 0\.003, not a whole number/]);
    expect(err).toMatch(/use --T 0\.009 \(3 steps\) or --T 0\.012 \(4 steps\), or --dt 0\.0025 \(4 steps of --T 0\.01\)/);
    // The suggestions work.
    for (const args of [['--dt', '0.003', '--T', '0.009'], ['--dt', '0.0025', '--T', '0.01']]) {
      const r = await ei('run', 'poisson', ...args, '--n', '10', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', join(dir, `ok${args.join('')}`));
      expect(r.code, r.err).toBe(0);
    }
    await refused(['hybrid', '--n', '50', '--dt', '0.003', '--T', '0.01', '--set', 'burnin=0'], [/invalid --T/, /not a whole number/]);
    await refused(['rate', '--dt', '0.01', '--T', '0.015'], [/invalid --T/, /1\.5 steps/]);
    await refused(['minimax', '--dt', '3e-5', '--T', '0.02'], [/invalid --T/, /666\.6667 steps/]);
  });

  it('less than one step of a given --dt is an error too (was: silently one step)', async () => {
    await refused(['poisson', '--dt', '1e-4', '--T', '0.00001', '--set', 'burnin=0'], [/invalid --T/, /0\.1 steps/, /--T 0\.0001 \(1 step\)/]);
  });

  it('decimal round-off is not an error: 0.3 / 1e-4 is 3000 steps', async () => {
    const out = join(dir, 'whole');
    const r = await ei('run', 'poisson', '--dt', '1e-4', '--T', '0.3', '--n', '10', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).not.toMatch(/note:/);
    expect(json(join(out, 'config.json'))).toMatchObject({ steps: 3000, dt: 1e-4, dtAdjusted: null });
  });

  it('--T with the default dt: dt is lowered so T is exact, with a notice and a record in config.json', async () => {
    const out = join(dir, 'adjusted');
    const r = await ei('run', 'poisson', '--T', '0.30005', '--n', '10', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/note: --T 0\.30005 is 3000\.5 steps of the default dt 0\.0001 s; using dt = 0\.00009998334 s \(3001 steps\)/);
    const c = json(join(out, 'config.json'));
    expect(c.steps).toBe(3001);
    expect(c.dt).toBeCloseTo(0.30005 / 3001, 15);
    expect(c.dt).toBeLessThan(1e-4);
    expect(c.T).toBeCloseTo(0.30005, 12);
    expect(c.dtAdjusted).toMatchObject({ from: 1e-4, to: c.dt });
    // Formerly one step of 1e-4 s: now one step of 1e-5 s, exactly --T.
    const one = join(dir, 'one-step');
    const r1 = await ei('run', 'poisson', '--T', '0.00001', '--n', '10', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', one);
    expect(r1.code, r1.err).toBe(0);
    expect(json(join(one, 'config.json'))).toMatchObject({ steps: 1, dt: 0.00001 });
  });

  it('hybrid and rate adjust their default dt the same way', async () => {
    // n = 2600: the default dt is 0.1 / sqrt(2600) tau, not a divisor of 0.01.
    const h = join(dir, 'hybrid-adjusted');
    const r = await ei('run', 'hybrid', '--n', '2600', '--T', '0.01', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', h);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/note: --T 0\.01 is 5\.09902 steps of the default dt 0\.001961161; using dt = 0\.001666667 \(6 steps\)/);
    expect(json(join(h, 'config.json'))).toMatchObject({ steps: 6, dtAdjusted: { from: 0.1 / Math.sqrt(2600) } });
    const q = join(dir, 'rate-adjusted');
    const rr = await ei('run', 'rate', '--T', '0.555', '--set', 'initial=2', '--backend', 'cpu', '--quiet', '--out', q);
    expect(rr.code, rr.err).toBe(0);
    expect(rr.err).toMatch(/note: --T 0\.555 is 55\.5 steps of the default dt 0\.01; using dt = 0\.009910714 \(56 steps\)/);
    expect(json(join(q, 'config.json'))).toMatchObject({ steps: 56, dtAdjusted: { from: 0.01 } });
  });

  it('rate needs two steps: fewer is reported, not padded', async () => {
    await refused(['rate', '--T', '0.01', '--dt', '0.01'], [/invalid --T/, /1 step of --dt 0\.01, but rate needs at least 2/]);
  });
});
