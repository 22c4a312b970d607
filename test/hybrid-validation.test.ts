// The hybrid network against exact references: tau-leaping vs the exact event-driven simulator, and
// particles vs the large-n limit (fixed seeds; tolerances stated per assertion).
import { describe, expect, it } from 'vitest';
import { CpuHybridSimulation } from '../src/models/hybrid/cpu-simulation.ts';
import { resolveParams } from '../src/core/params.ts';
import { hybridParameters, makeHybridModelParams } from '../src/models/hybrid/params.ts';
import { simulateEventDriven } from '../src/models/hybrid/event-driven.ts';
import { makeHybridState, runHybrid } from '../src/models/hybrid/runner.ts';
import { seedToKey } from '../src/rng/index.ts';

function meanSe(xs: number[]): { mean: number; se: number } {
  const m = xs.reduce((s, x) => s + x, 0) / xs.length;
  const v = xs.reduce((s, x) => s + (x - m) ** 2, 0) / (xs.length - 1);
  return { mean: m, se: Math.sqrt(v / xs.length) };
}

describe('hybrid: tau-leaping (the kernel\'s scheme) vs exact event-driven simulation', () => {
  it('agrees on the law of the population state at T = 1 (B1, n = 50, 60 replicas each)', async () => {
    const n = 50;
    const R = 60;
    const T = 1;
    const dt = 0.002;
    const p = resolveParams('hybrid', hybridParameters, {});
    const init = { mE: p.mE0 as number, mI: p.mI0 as number, vE: p.vE0 as number, vI: p.vI0 as number };
    const exact = Array.from({ length: R }, (_, r) => simulateEventDriven(makeHybridModelParams(p), { n, T, sampleTimes: [T], seed: 5, replica: r, init }));
    const sim = new CpuHybridSimulation({ params: Array.from({ length: R }, () => p), n, dt, key: seedToKey(6) });
    let last: ReturnType<typeof makeHybridState>[] = [];
    await sim.run(Math.round(T / dt), { onChunk: (c) => { if (c.stepStart + c.steps === Math.round(T / dt)) last = c.records.slice(-R).map((r) => makeHybridState(p, n, r)); } });
    expect(last.length).toBe(R);
    for (const k of ['mE', 'mI', 'vE', 'vI', 'nuE', 'nuI', 'X'] as const) {
      const a = meanSe(exact.map((e) => e[k][0]));
      const b = meanSe(last.map((s) => s[k]));
      // Independent replicas: the difference of means is ~N(bias, se_a^2 + se_b^2). 4.5 s.e. is a 7e-6
      // two-sided level per quantity, so a failure means a real discretisation or modelling error.
      expect(Math.abs(a.mean - b.mean), `${k}: exact ${a.mean} +- ${a.se}, tau-leap ${b.mean} +- ${b.se}`).toBeLessThan(4.5 * Math.hypot(a.se, b.se));
    }
  });
});

describe('hybrid: particles converge to the Gaussian limit', () => {
  it('the distance to the limit shrinks with n (B1 defaults, n = 100 vs 1600)', async () => {
    const err: Record<number, { mE: number; X: number; vE: number }> = {};
    for (const n of [100, 1600]) {
      const r = await runHybrid({ n, T: 3, seed: 2, params: { burnin: 1 } }, { backend: 'cpu' });
      const i = r.instances[0];
      expect(i.blowup).toBeNull();
      err[n] = { mE: i.rmsError.mE, X: i.rmsError.X, vE: i.rmsError.vE };
    }
    // Fluctuations and finite-size bias are O(n^-1/2): a 16x larger n should cut the rms distance ~4x.
    // We require at least 2x (a wrong coupling scale or a missing own-term would leave an O(1) gap).
    for (const k of ['mE', 'X', 'vE'] as const) {
      expect(err[1600][k], `${k}: n=100 ${err[100][k]}, n=1600 ${err[1600][k]}`).toBeLessThan(err[100][k] / 2);
    }
    expect(err[1600].mE).toBeLessThan(0.05);
  });

  it('reports blow-up conditions instead of NaN', async () => {
    // JE > JI with muE > muI: excitation wins any common shift (JE gE > JI gI).
    const r = await runHybrid({ n: 100, T: 0.5, seed: 1, params: { JE: 3, JI: 1, burnin: 0 } }, { backend: 'cpu' });
    const b = r.instances[0].blowup;
    expect(b).not.toBeNull();
    expect(b!.condition.length).toBeGreaterThan(0);
    const d = await runHybrid({ n: 100, T: 0.5, seed: 1, params: { variant: 'B2', JEE: 2, JII: 2, JEI: 1, JIE: 1, burnin: 0 } }, { backend: 'cpu' });
    expect(d.instances[0].blowup?.condition).toMatch(/D <= 0/);
  });
});
