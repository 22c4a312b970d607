// "Nothing ignored, no hang": parameters that do not apply to the chosen variant, EI_ADAPTER, strict decimals and the
// f32 range, the solvers that used to spin, and messages that name the user's option instead of an internal field.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ei } from './helpers/cli.ts';
import { F32_MAX, givenParams, makeParamTable, resolveParams } from '../src/core/params.ts';
import { ParameterError } from '../src/errors.ts';
import { modelList } from '../src/models/index.ts';
import { poissonParameters } from '../src/models/poisson/params.ts';
import { hybridParameters, makeHybridModelParams } from '../src/models/hybrid/params.ts';
import { findBalancingShift, solveLimitB1 } from '../src/models/hybrid/limit.ts';
import { annealedChain } from '../src/models/binary/chain.ts';
import { adapterChoiceFromEnv } from '../src/gpu/context.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-params-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

let outCount = 0;
const freshOut = () => join(dir, `out-${outCount++}`);

/** Runs `ei`, expecting exit code 2, a message matching every pattern and no result folder. */
async function rejects(argv: string[], ...patterns: RegExp[]): Promise<string> {
  const out = freshOut();
  const r = await ei(...argv, '--backend', 'cpu', '--quiet', '--out', out);
  expect(r.code, `${argv.join(' ')}\n${r.err}`).toBe(2);
  for (const p of patterns) expect(r.err, argv.join(' ')).toMatch(p);
  expect(r.err).toMatch(/fix: /);
  expect(existsSync(out)).toBe(false);
  return r.err;
}

/** Runs `ei`, expecting success; returns summary.json as text. */
async function runs(argv: string[]): Promise<string> {
  const out = freshOut();
  const r = await ei(...argv, '--backend', 'cpu', '--quiet', '--out', out);
  expect(r.code, `${argv.join(' ')}\n${r.err}`).toBe(0);
  return readFileSync(join(out, 'summary.json'), 'utf8');
}

describe('parameters that do not apply to the chosen variant', () => {
  it('are errors naming the parameter, its variant and what applies instead', async () => {
    await rejects(['run', 'hybrid', '--set', 'variant=B1', '--set', 'JEE=5'], /invalid hybrid\.JEE: applies only when variant is B2, but variant is B1/, /variant=B1 takes JE, JI, muE, muI instead/, /--set variant=B2/);
    await rejects(['run', 'hybrid', '--set', 'variant=B2', '--set', 'muE=1'], /hybrid\.muE: applies only when variant is B1/, /variant=B2 takes JEE, JEI, JIE, JII, muhatE, muhatI instead/);
    // The default variant counts as chosen.
    await rejects(['run', 'hybrid', '--set', 'muhatI=0.3'], /hybrid\.muhatI: applies only when variant is B2, but variant is B1/);
    await rejects(['run', 'hybrid', '--set', 'beta=3'], /hybrid\.beta: applies only when sigmoid is logistic, but sigmoid is probit/, /sigmoid=probit takes s instead/);
    await rejects(['run', 'poisson', '--set', 'sigmoid=logistic', '--set', 's=0.3'], /poisson\.s: applies only when sigmoid is probit/, /sigmoid=logistic takes beta instead/);
    await rejects(['run', 'rate', '--set', 'circuit=wilson-cowan', '--set', 'channels=5'], /rate\.channels: applies only when circuit is lateral or column, but circuit is wilson-cowan/, /circuit=wilson-cowan takes uI instead/);
    await rejects(['run', 'rate', '--set', 'circuit=lateral', '--set', 'layers=2'], /rate\.layers: applies only when circuit is column/, /circuit=lateral takes channels, contrast instead/);
    await rejects(['run', 'rate', '--set', 'circuit=column', '--set', 'uI=1'], /rate\.uI: applies only when circuit is wilson-cowan/);
    await rejects(['run', 'rate', '--set', 'xmax=5'], /rate\.xmax: applies only when activation is clip or softclip, but activation is relu/);
    await rejects(['run', 'minimax', '--set', 'network=tight-balance', '--set', 'side=10'], /minimax\.side: applies only when network is grid/, /network=tight-balance takes tau, dtOverTau instead/);
    await rejects(['run', 'minimax', '--set', 'network=grid', '--set', 'tau=0.2'], /minimax\.tau: applies only when network is tight-balance or ring, but network is grid/, /network=grid takes side, inputHz instead/);
    await rejects(['run', 'minimax', '--set', 'network=ring', '--set', 'inputHz=3'], /minimax\.inputHz/, /network=ring takes tau, gamma, cueAngle, cueSeconds instead/);
    const k = await rejects(['run', 'binary', '--n', '20', '--set', 'connectivity=all-to-all', '--set', 'k=5'], /binary\.k: applies only when connectivity is fixed-indegree or erdos-renyi, but connectivity is all-to-all/);
    // Nothing else is tied to all-to-all, so no "instead" list.
    expect(k).not.toMatch(/instead/);
  });

  it('leave valid variant-specific settings working', async () => {
    const b2 = JSON.parse(await runs(['run', 'hybrid', '--n', '20', '--T', '0.5', '--set', 'burnin=0.1', '--set', 'variant=B2', '--set', 'JEE=1.2', '--set', 'muhatE=0.6']));
    expect(b2.instances[0].params).toMatchObject({ variant: 'B2', JEE: 1.2, muhatE: 0.6 });
    const logistic = JSON.parse(await runs(['run', 'poisson', '--n', '50', '--steps', '200', '--set', 'burnin=0.01', '--set', 'sigmoid=logistic', '--set', 'beta=3']));
    expect(logistic.instances[0].params).toMatchObject({ sigmoid: 'logistic', beta: 3 });
    const lateral = JSON.parse(await runs(['run', 'rate', '--T', '5', '--set', 'circuit=lateral', '--set', 'channels=3', '--set', 'contrast=0.1', '--set', 'initial=2']));
    expect(lateral.n).toBe(6);
    const er = JSON.parse(await runs(['run', 'binary', '--n', '40', '--steps', '300', '--set', 'burnin=100', '--set', 'connectivity=erdos-renyi', '--set', 'k=5']));
    expect(er.k).toBe(5);
  });

  it('fill in defaults for every parameter and remember which ones were given', () => {
    const p = resolveParams('hybrid', hybridParameters, { variant: 'B2', JEE: '1.5' });
    // Defaults of the B1 parameters are still filled in (nothing downstream reads a missing value).
    expect(p.JE).toBe(1);
    expect(p.JEE).toBe(1.5);
    expect([...givenParams(p)].sort()).toEqual(['JEE', 'variant']);
    expect(makeHybridModelParams(p).variant).toBe('B2');
  });

  it('are declared consistently: every condition names a choice parameter of the same model and valid choices', () => {
    let declared = 0;
    for (const info of modelList) {
      const id = info.id;
      for (const p of info.parameters) {
        for (const [key, values] of Object.entries(p.appliesWhen ?? {})) {
          const choice = info.parameters.find((q) => q.name === key);
          expect(choice?.kind, `${id}.${p.name} depends on ${key}`).toBe('choice');
          expect(values.length).toBeGreaterThan(0);
          for (const v of values) expect(choice?.kind === 'choice' && choice.choices.includes(v), `${id}.${p.name}: ${key}=${v}`).toBe(true);
          declared++;
        }
      }
      expect(() => resolveParams(id, info.parameters, {})).not.toThrow();
    }
    expect(declared).toBeGreaterThanOrEqual(25);
  });

  it('are marked in `ei models` and `ei run <model> --help`', async () => {
    const m = await ei('models');
    expect(m.code).toBe(0);
    expect(m.out).toMatch(/JEE\s+1\s+\[variant=B2\] weight E -> E/);
    expect(m.out).toMatch(/side\s+63 sites\s+\[network=grid\]/);
    expect(m.out).toMatch(/channels\s+2\s+\[circuit=lateral\|column\]/);
    expect(m.out).toMatch(/beta\s+4\s+\[sigmoid=logistic\]/);
    expect(m.out).toMatch(/k\s+50\s+\[connectivity=fixed-indegree\|erdos-renyi\]/);
    const h = await ei('run', 'rate', '--help');
    expect(h.out).toMatch(/layers\s+3\s+\[circuit=column\]/);
    expect(h.out).toMatch(/applies only with that choice/);
    // Parameters without a condition carry no marker.
    expect(makeParamTable(hybridParameters)).toMatch(/\n {2}tau\s+1 time\s+decay time/);
  });
});

describe('EI_ADAPTER', () => {
  it('is an error naming the variable, the value and the valid values when it is not one', async () => {
    const saved = process.env.EI_ADAPTER;
    try {
      process.env.EI_ADAPTER = 'foo';
      const out = freshOut();
      const r = await ei('run', 'poisson', '--n', '10', '--steps', '10', '--set', 'burnin=0', '--backend', 'auto', '--quiet', '--out', out);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/EI_ADAPTER='foo' is not an adapter choice \(valid: auto, hardware, software\)/);
      expect(existsSync(out)).toBe(false);
      const info = await ei('info');
      expect(info.code).toBe(2);
      expect(info.err).toMatch(/EI_ADAPTER='foo'/);
    } finally {
      if (saved === undefined) delete process.env.EI_ADAPTER;
      else process.env.EI_ADAPTER = saved;
    }
    expect(adapterChoiceFromEnv({ EI_ADAPTER: 'Software' })).toBe('software');
    expect(adapterChoiceFromEnv({ EI_ADAPTER: '' })).toBeUndefined();
    expect(adapterChoiceFromEnv({})).toBeUndefined();
    expect(() => adapterChoiceFromEnv({ EI_ADAPTER: 'gpu' })).toThrow(/EI_ADAPTER='gpu'/);
  });
});

describe('numbers', () => {
  it('take only decimal literals', async () => {
    await rejects(['run', 'poisson', '--set', 'tau=0x10'], /poisson\.tau: '0x10' is not a decimal number/);
    await rejects(['run', 'poisson', '--set', 'w=0b1'], /poisson\.w: '0b1' is not a decimal number/);
    await rejects(['run', 'poisson', '--set', 'w=Infinity'], /poisson\.w: 'Infinity' is not a decimal number/);
    expect(resolveParams('poisson', poissonParameters, { tau: ' 1.5e-2 ' }).tau).toBe(0.015);
    expect(() => resolveParams('poisson', poissonParameters, { w: ' ' })).toThrow(/poisson\.w: ' ' is not a decimal number/);
  });

  it('outside the f32 range are refused', async () => {
    await rejects(['run', 'poisson', '--set', 'u0=1e40'], /poisson\.u0: 1e\+40 is outside the f32 range/);
    await rejects(['run', 'hybrid', '--set', 'theta=-1e39'], /hybrid\.theta: -1e\+39 is outside the f32 range/);
    await rejects(['run', 'minimax', '--set', 'tau=1e-300'], /minimax\.tau: 1e-300 is below the smallest normal f32/);
    const tau = await rejects(['run', 'rate', '--set', 'tauE=1e-300'], /rate\.tauE/);
    // tau must be > 0, so 0 is not offered as the fix.
    expect(tau).not.toMatch(/or 0/);
    expect(() => resolveParams('poisson', poissonParameters, { u0: F32_MAX })).not.toThrow();
    expect(() => resolveParams('poisson', poissonParameters, { u0: 3.5e38 })).toThrow(ParameterError);
  });

  it('whose combination would overflow f32 or give NaN theory are refused up front, naming the culprit', async () => {
    await rejects(['run', 'poisson', '--set', 'u0=1e20'], /poisson\.u0: the potential would reach \|u\| ~ 1\.000e\+20/);
    await rejects(['run', 'poisson', '--set', 'w=1e30'], /poisson\.w: the potential would reach/);
    await rejects(['run', 'poisson', '--set', 'mu=1e20'], /poisson\.mu: the potential would reach/);
    // dt / tau below f32 resolution: the leak rounds to 1 and the theory would divide by 0.
    await rejects(['run', 'poisson', '--steps', '10', '--set', 'tau=1e4', '--set', 'burnin=0'], /poisson\.tau: dt \/ tau = 1e-8 is below the f32 resolution/);
    await rejects(['run', 'hybrid', '--n', '10', '--dt', '1e-6', '--steps', '10', '--set', 'tau=1e3', '--set', 'burnin=0'], /hybrid\.tau: dt \/ tau = .* is below the f32 resolution/);
    // More spikes per step than the u32 count holds.
    await rejects(['run', 'poisson', '--n', '1000000', '--steps', '1', '--dt', '0.01', '--set', 'tau=1', '--set', 'numax=1e6', '--set', 'burnin=0'], /poisson\.numax: .* exceed the u32 spike count/);
    // A large but representable state runs, and summary.json holds numbers only.
    const s = await runs(['run', 'poisson', '--n', '100', '--steps', '100', '--set', 'burnin=0', '--set', 'u0=1e6']);
    expect(s).not.toMatch(/null|NaN|Infinity/);
    expect(JSON.parse(s).instances[0].sim.meanU).toBeGreaterThan(1e5);
  });
});

describe('solvers terminate', () => {
  it('hybrid with a far sigmoid midpoint: no hang in the balancing-shift scan', async () => {
    const t0 = performance.now();
    // theta = 1e8 used to scan 1e8 / (1/16) cells; it is now two windows around the sigmoid.
    const s = JSON.parse(await runs(['run', 'hybrid', '--n', '10', '--dt', '0.01', '--T', '0.5', '--set', 'burnin=0.1', '--set', 'theta=1e8']));
    expect(s.limit.mE).toBeGreaterThan(9e7);
    await rejects(['run', 'hybrid', '--n', '10', '--dt', '0.01', '--T', '0.5', '--set', 'burnin=0.1', '--set', 'theta=1e40'], /hybrid\.theta: 1e\+40 is outside the f32 range/);
    // Beyond double resolution of the shift: a typed error naming theta, not a spin.
    await rejects(['run', 'hybrid', '--n', '10', '--dt', '0.01', '--T', '0.5', '--set', 'burnin=0.1', '--set', 'theta=1e20'], /hybrid\.theta: theta = .* cannot be resolved in double precision/);
    await rejects(['run', 'hybrid', '--n', '10', '--dt', '0.01', '--T', '0.5', '--set', 'burnin=0.1', '--set', 'mE0=1e25'], /hybrid\.mE0: .* too far apart/);
    expect(performance.now() - t0).toBeLessThan(30_000);
  });

  it('findBalancingShift finds the shift near a far theta quickly, and its nearest stable root otherwise', () => {
    const base = makeHybridModelParams(resolveParams('hybrid', hybridParameters, {}));
    for (const theta of [1e8, -1e10, 3e11]) {
      const t0 = performance.now();
      const r = findBalancingShift({ ...base, theta }, 0.5, 0.5, -0.5, 0.5);
      expect(performance.now() - t0).toBeLessThan(2000);
      expect(r.stable).toBe(true);
      // The balance JE nuE = JI nuI holds at the returned shift, which sits near theta.
      expect(Math.abs(r.c! - theta)).toBeLessThan(50);
    }
    // The default parameters keep their shift (regression against the old scan).
    const d = findBalancingShift(base, 0.5, 0.5, -0.5, 0.5);
    expect(d.stable).toBe(true);
    expect(Math.abs(d.c!)).toBeLessThan(5);
  });

  it('the B1 limit over T >> tau is bounded in work and stops stepping once stationary', () => {
    const p = makeHybridModelParams(resolveParams('hybrid', hybridParameters, { sigmoid: 'logistic' }));
    const t0 = performance.now();
    const sol = solveLimitB1(p, { mE: 0.5, mI: -0.5, vE: 0.5, vI: 0.5 }, { T: 1e5 });
    expect(performance.now() - t0).toBeLessThan(20_000);
    expect(sol.blowup).toBeNull();
    const last = sol.mE.length - 1;
    expect(Number.isFinite(sol.mE[last])).toBe(true);
    // Converged: the late samples are the steady state.
    expect(Math.abs(sol.mE[last] - sol.mE[last - 10])).toBeLessThan(1e-9);
  });

  it('the annealed chain does not fall back to O(N^3) GTH for large N', () => {
    const t0 = performance.now();
    const r = annealedChain({ N: 4500, k: 50, alpha: 0.2, WE: 1.6, WI: 1.6, p0: 1e-3 }, { maxIter: 3 });
    expect(r.method).toBe('power-unconverged');
    expect(r.residual).toBeGreaterThan(0);
    expect(performance.now() - t0).toBeLessThan(30_000);
  });
});

describe('messages name the user option', () => {
  it('--seed above 2^53 - 1 says so and gives the limit', async () => {
    const err = await rejects(['run', 'poisson', '--seed', '9007199254740992'], /--seed: 9007199254740992 is above 2\^53 - 1 = 9007199254740991/, /give a value <= 9007199254740991/);
    expect(err).not.toMatch(/not an integer/);
    await rejects(['run', 'poisson', '--seed', '1.5'], /--seed: '1\.5' is not an integer/);
  });

  it('minimax time steps name --dt, dtOverTau, tau or inputHz and the largest dt that works', async () => {
    const dt = await rejects(['run', 'minimax', '--dt', '0.05'], /invalid --dt: dt = 0\.05 s makes the input spike probability rate x dt = .* exceed 1/, /largest step that works is 1 \/ [\d.]+ Hz = [\d.]+ s/);
    expect(dt).not.toMatch(/instances\[|inputRates/);
    await rejects(['run', 'minimax', '--dt', '0.2'], /invalid --dt: dt = 0\.2 s is not below the smallest time constant 0\.1 s/);
    await rejects(['run', 'minimax', '--set', 'tau=1000'], /minimax\.dtOverTau: dt = dtOverTau x tau/, /--set dtOverTau=/);
    await rejects(['run', 'minimax', '--set', 'network=grid', '--set', 'inputHz=2000', '--T', '0.01'], /minimax\.inputHz: 2000 Hz/, /--set inputHz=1000 or less/);
    await rejects(['run', 'minimax', '--set', 'network=ring', '--set', 'tau=0.001'], /minimax\.tau: the default dt = 0\.001 s/);
    await rejects(['run', 'minimax', '--dt', '0.001', '--set', 'dtOverTau=0.001'], /minimax\.dtOverTau: is ignored when --dt is given/);
    // A valid short run still works.
    expect(JSON.parse(await runs(['run', 'minimax', '--T', '0.2'])).network).toBe('tight-balance');
  });

  it('hybrid limit conditions name the hybrid parameter', async () => {
    const ji = await rejects(['run', 'hybrid', '--n', '10', '--dt', '0.01', '--T', '0.5', '--set', 'burnin=0.1', '--set', 'JI=0'], /hybrid\.JI: 0 must be > 0/);
    expect(ji).not.toMatch(/B1 limit parameters: invalid parameter/);
    await rejects(['run', 'hybrid', '--n', '10', '--dt', '0.01', '--T', '0.5', '--set', 'burnin=0.1', '--set', 'JI=1', '--set', 'muE=0'], /invalid hybrid\.JI: degenerate: JE = JI and muE = muI/, /--set JI=2/);
  });

  it('binary, rate and poisson name --n, --T and the parameter', async () => {
    await rejects(['run', 'binary', '--n', '1', '--steps', '100', '--set', 'burnin=10', '--set', 'connectivity=all-to-all'], /invalid --n: 1 neurons is outside \[2, 2\^20/);
    await rejects(['run', 'binary', '--n', '20', '--set', 'p0=1'], /binary\.p0: 1 must be >= 0 and < 1/);
    await rejects(['run', 'rate', '--set', 'tauE=1e-30'], /invalid --T: T \/ dt = .* steps exceeds 2\^32 - 1/, /bring tauE and tauI closer/);
  });
});
