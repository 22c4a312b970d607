// `ei run rate` and the rate reproductions end to end: output contract, theory vs simulation, GPU = CPU, errors.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ei } from './helpers/cli.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-rate-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('ei run rate', () => {
  it('wilson-cowan: the directly solved equilibrium is where every trajectory ends, on both backends', async () => {
    const out: Record<string, Record<string, unknown>> = {};
    for (const backend of ['cpu', 'webgpu']) {
      const d = join(dir, `wc-${backend}`);
      const r = await ei('run', 'rate', '--set', 'circuit=wilson-cowan', '--set', 'wEE=0.8', '--set', 'initial=4', '--backend', backend, '--quiet', '--out', d);
      expect(r.code, r.err).toBe(0);
      out[backend] = json(join(d, 'summary.json'));
    }
    const s = out.cpu;
    for (const k of ['equilibrium', 'nashResidual', 'ldsMargin', 'isLDS', 'eigenvalues', 'regime']) expect(s, k).toHaveProperty(k);
    expect(s.regime).toBe('unique-stable');
    expect(s.isLDS).toBe(true);
    expect(s.nashResidual as number).toBeLessThan(1e-12);
    const eq = s.equilibrium as number[];
    for (const f of (s.simulated as { finals: number[][] }).finals) for (let i = 0; i < 2; i++) expect(Math.abs(f[i] - eq[i])).toBeLessThan(1e-4);
    // The batched integrator is bit-identical across backends on the software adapter.
    expect((out.webgpu.simulated as { finals: number[][] }).finals).toEqual((s.simulated as { finals: number[][] }).finals);
  });

  it('--threads 2 on 8 circuits (one group of sixteen lanes) runs on 1 thread: said on stderr and recorded in config.json', async () => {
    const d = join(dir, 'wc-threads');
    const r = await ei('run', 'rate', '--set', 'circuit=wilson-cowan', '--backend', 'wasm', '--threads', '2', '--quiet', '--out', d);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/rate ran on 1 of the 2 threads given/);
    const c = json(join(d, 'config.json'));
    expect([c.threads, c.threadsRequested]).toEqual([1, 2]);
    // 40 circuits fill three groups: both threads work, and nothing is said.
    const d2 = join(dir, 'wc-threads-40');
    const r2 = await ei('run', 'rate', '--set', 'circuit=wilson-cowan', '--set', 'initial=40', '--backend', 'wasm', '--threads', '2', '--quiet', '--out', d2);
    expect(r2.code, r2.err).toBe(0);
    expect(r2.err).not.toMatch(/threads given/);
    const c2 = json(join(d2, 'config.json'));
    expect([c2.threads, c2.threadsRequested]).toEqual([2, undefined]);
  });

  it('lateral and column report contrasts that match the derived gain', async () => {
    const lat = join(dir, 'lat');
    expect((await ei('run', 'rate', '--set', 'circuit=lateral', '--set', 'contrast=0.1', '--backend', 'cpu', '--quiet', '--out', lat)).code).toBe(0);
    const l = json(join(lat, 'summary.json'));
    expect(l.regime).toBe('all-active');
    // Integration to T = 60 tau leaves < 1e-3 of the slowest mode (rate 0.134).
    expect(Math.abs(l.contrastOut - l.contrastOutTheory)).toBeLessThan(1e-3);
    expect(l.contrastGainTheory).toBeCloseTo(5, 10);
    // n channels: G_n = (a + (n - 1) b)/(a - b), derived in src/models/rate/analysis.ts.
    const lat4 = join(dir, 'lat4');
    expect((await ei('run', 'rate', '--set', 'circuit=lateral', '--set', 'channels=4', '--set', 'contrast=0.03', '--backend', 'cpu', '--quiet', '--out', lat4)).code).toBe(0);
    const l4 = json(join(lat4, 'summary.json'));
    expect(l4.contrastGainTheory).toBeCloseTo(9, 10);
    expect(Math.abs(l4.contrastOut - l4.contrastOutTheory)).toBeLessThan(1e-3);
    const col = join(dir, 'col');
    expect((await ei('run', 'rate', '--set', 'circuit=column', '--set', 'layers=3', '--set', 'wEE=0.2', '--set', 'contrast=0.01', '--backend', 'cpu', '--quiet', '--out', col)).code).toBe(0);
    const c = json(join(col, 'summary.json'));
    expect(c.contrastPerLayer).toHaveLength(3);
    c.contrastPerLayer.forEach((x: number, i: number) => expect(Math.abs(x - c.contrastPerLayerTheory[i])).toBeLessThan(2e-3));
  });

  it('rejects bad circuits with the field named and leaves no folder', async () => {
    for (const [set, re] of [['circuit=ring', /rate\.circuit/], ['channels=1', /rate\.channels/], ['tauE=0', /rate\.tauE/]] as const) {
      const d = join(dir, `bad-${set}`);
      const r = await ei('run', 'rate', '--set', set, '--backend', 'cpu', '--out', d);
      expect(r.code).toBe(2);
      expect(r.err).toMatch(re);
      expect(existsSync(d)).toBe(false);
    }
  });
});

describe('rate reproductions (quick)', () => {
  for (const id of ['rate-wilson-cowan', 'rate-lateral', 'rate-column']) {
    it(`${id}: every check passes`, async () => {
      const d = join(dir, id);
      const r = await ei('reproduce', id, '--quick', '--backend', 'cpu', '--quiet', '--out', d);
      expect(r.code, r.err).toBe(0);
      expect(json(join(d, 'summary.json')).allPassed).toBe(true);
    });
  }
});
