// The five minimax reproductions in their quick form on the CPU backend: files, the summary fields, and the claims
// their quick sizes confirm (each is a claim of the paper that a wrong model or estimator would break).
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createResultDir } from '../src/io/result-dir.ts';
import { getReproduction } from '../src/reproduce/registry.ts';
import { ei } from './helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'ei-minimax-reproduce-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

async function runQuick(id: string) {
  const out = createResultDir(join(root, id));
  const outcome = await getReproduction(id).run({ quick: true, backend: 'cpu', ctx: null, out, seed: 1, onProgress: () => {} });
  out.commit();
  const files = readdirSync(out.path);
  const check = (name: RegExp) => outcome.checks.find((c) => name.test(c.name));
  return { outcome, files, s: outcome.summary as Record<string, unknown>, check, html: readFileSync(join(out.path, 'report.html'), 'utf8') };
}

describe('minimax reproductions (quick, cpu)', () => {
  it('minimax-fig1: per-tau entries; error falls and balance rises with tau; predictions at tau = 1 and 0.1', async () => {
    const r = await runQuick('minimax-fig1');
    expect(r.files).toEqual(expect.arrayContaining(['fig1.csv', 'rates.csv', 'pred-vs-sim.svg', 'error-vs-tau.svg', 'balance-vs-tau.svg', 'cv-vs-tau.svg', 'raster.svg', 'report.html']));
    const rows = r.s.perTau as Record<string, number>[];
    expect(rows.map((x) => x.tau)).toEqual([0.05, 0.1, 1]);
    for (const x of rows) for (const k of ['tau', 'corrE', 'corrI', 'errorHz', 'rho', 'cv', 'kktResidual']) expect(Number.isFinite(x[k]), k).toBe(true);
    // Every check of the quick run holds with seed 1 (values in the report; thresholds are the spec's).
    for (const c of r.outcome.checks) expect(c.pass, `${c.name}: ${c.measured}`).toBe(true);
    expect(r.html).toContain('QUICK RUN');
  });

  it('minimax-fig2a: the readout reconstructs the input (corr, relError)', async () => {
    const r = await runQuick('minimax-fig2a');
    expect(r.s.corr as number).toBeGreaterThan(0.995);
    // The bound: relative error about 5 %; 8 % leaves room for the quick run's 10 s averages.
    expect(r.s.relError as number).toBeLessThan(0.08);
    expect(r.files).toContain('reconstruction.csv');
  });

  it('minimax-fig3: stored patterns are KKT points and noisy cues recall them', async () => {
    const r = await runQuick('minimax-fig3');
    expect(r.s.maxKktResidual as number).toBeLessThan(1e-8);
    expect(r.s.recallAccuracy as number).toBeGreaterThanOrEqual(0.9);
    // The cue overlaps the pattern much less than the recalled state does.
    expect(r.s.meanCosine as number).toBeGreaterThan((r.s.meanCueCosine as number) + 0.2);
  });

  it('minimax-ring: bump at the cue, persistence, speed growing with gamma', async () => {
    const r = await runQuick('minimax-ring');
    expect(r.s.cueError as number).toBeLessThan(0.2);
    expect(r.s.persistencePeakHz as number).toBeGreaterThan(0);
    const speeds = r.s.speeds as Record<string, number>;
    expect(Object.keys(speeds)).toEqual(['0', '0.05', '0.2']);
    expect(Math.abs(speeds['0.2'])).toBeGreaterThan(Math.abs(speeds['0.05']));
    expect(Math.abs(speeds['0.05'])).toBeGreaterThan(Math.abs(speeds['0']));
    for (const c of r.outcome.checks) expect(c.pass, `${c.name}: ${c.measured}`).toBe(true);
  });

  it('minimax-grid: a lattice at the kernel wavelength (31 x 31 sheet)', async () => {
    const r = await runQuick('minimax-grid');
    const w = r.s.wavelengthSites as number;
    const p = r.s.predictedWavelengthSites as number;
    expect(Math.abs(w - p) / p).toBeLessThan(0.15);
    expect(r.s.bumps as number).toBeGreaterThan(5);
    expect(r.files).toContain('rate-map.svg');
  });

  it('--backend auto on a software adapter runs the faster wasm kernels and says so; --backend webgpu still uses the adapter', async () => {
    const auto = join(root, 'auto');
    const r = await ei('run', 'minimax', '--set', 'tau=0.05', '--T', '0.2', '--quiet', '--out', auto);
    expect(r.code, r.err).toBe(0);
    const cfg = JSON.parse(readFileSync(join(auto, 'config.json'), 'utf8'));
    // CI and this machine have only SwiftShader; on a hardware adapter auto keeps WebGPU.
    if (cfg.adapter?.isSoftware !== false) {
      expect(cfg.backend).toBe('wasm');
      expect(cfg.fallbackReason).toMatch(/software adapter/);
      expect(r.err).toMatch(/using the wasm backend/);
    }
    const gpu = join(root, 'gpu');
    const g = await ei('run', 'minimax', '--backend', 'webgpu', '--set', 'tau=0.05', '--T', '0.2', '--quiet', '--out', gpu);
    expect(g.code, g.err).toBe(0);
    expect(JSON.parse(readFileSync(join(gpu, 'config.json'), 'utf8')).backend).toBe('webgpu');
    // Same seed, same spikes on both backends (SwiftShader is bit-identical; see the conformance test).
    expect(readFileSync(join(gpu, 'rates.csv'), 'utf8').split('\n').map((l) => l.split(',').at(-1))).toEqual(readFileSync(join(auto, 'rates.csv'), 'utf8').split('\n').map((l) => l.split(',').at(-1)));
  });

  it('ei run minimax writes the summary and rejects bad input naming the field', async () => {
    const d = join(root, 'run');
    const ok = await ei('run', 'minimax', '--backend', 'cpu', '--set', 'tau=0.05', '--T', '1', '--batch', '2', '--quiet', '--out', d);
    expect(ok.code, ok.err).toBe(0);
    const s = JSON.parse(readFileSync(join(d, 'summary.json'), 'utf8'));
    expect(s.instances).toHaveLength(2);
    expect(s.kktResidual).toBeLessThan(1e-8);
    expect(s.instances[0].corrE).toBeGreaterThan(0.9);
    expect(s.wellPosed.reducedPositiveDefinite).toBe(true);
    for (const [args, re] of [[['--set', 'tau=0'], /minimax\.tau/], [['--set', 'network=torus'], /minimax\.network/], [['--T', '-1'], /\bT\b/]] as [string[], RegExp][]) {
      const bad = join(root, `bad-${args.join('')}`);
      const r = await ei('run', 'minimax', '--backend', 'cpu', ...args, '--quiet', '--out', bad);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
    }
  });
});
