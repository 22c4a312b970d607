// The exact event-driven (thinning) hybrid simulator against closed forms: the deterministic flow, Poisson event counts, the exact mean/variance ODEs at constant rate, determinism and input guards.
import { describe, expect, it } from 'vitest';
import {
  simulateEventDriven,
  makeHybridIntensity,
  phiFast,
  PHI_SQUEEZE,
  expectedCandidates,
  type HybridEventParams,
} from '../src/models/hybrid/event-driven.ts';
import { normalCdf } from '../src/analysis/stats.ts';
import { ParameterError } from '../src/errors.ts';

const base: HybridEventParams = {
  variant: 'B1',
  tau: 1,
  JE: 1,
  JI: 2,
  muE: 1,
  muI: 0,
  JEE: 1,
  JEI: 2,
  JIE: 1.5,
  JII: 2.5,
  muhatE: 0.2,
  muhatI: 0.1,
  sigmoid: 'probit',
  numax: 1,
  theta: 0,
  s: 1,
  beta: 4,
};

function meanSd(xs: number[]): { mean: number; se: number } {
  const m = xs.reduce((a, b) => a + b, 0) / xs.length;
  const v = xs.reduce((a, b) => a + (b - m) ** 2, 0) / (xs.length - 1);
  return { mean: m, se: Math.sqrt(v / xs.length) };
}

describe('hybrid event-driven simulator', () => {
  it('phiFast stays within the squeeze margin of the exact normal cdf', () => {
    // The thinning test is exact only if |phiFast - Phi| < PHI_SQUEEZE everywhere; A&S bound 7.5e-8.
    let worst = 0;
    for (let x = -45; x <= 45; x += 0.001) worst = Math.max(worst, Math.abs(phiFast(x) - normalCdf(x)));
    expect(worst).toBeLessThan(1e-7);
    expect(worst).toBeLessThan(PHI_SQUEEZE / 10);
  });

  it('(a) without coupling every u_k follows the deterministic flow exactly', () => {
    const n = 10;
    const T = 2;
    const u0 = Float64Array.from({ length: 2 * n }, (_, k) => Math.sin(k + 1) * 3);
    const sampleTimes = [0, 0.3, 1, 2];
    for (const variant of ['B1', 'B2'] as const) {
      const p: HybridEventParams = { ...base, variant, JE: 0, JI: 0, JEE: 0, JEI: 0, JIE: 0, JII: 0, tau: 0.7, muE: 1.5, muI: -0.5, numax: 5 };
      const r = simulateEventDriven(p, { n, T, sampleTimes, seed: 11, initialU: u0 });
      const c = variant === 'B1' ? [p.muE, p.muI] : [Math.sqrt(n) * p.muhatE, Math.sqrt(n) * p.muhatI];
      const flow = (k: number, t: number): number => {
        const rest = p.tau * c[k < n ? 0 : 1];
        return rest + (u0[k] - rest) * Math.exp(-t / p.tau);
      };
      // Thousands of lazy updates compose exp factors; rounding stays ~1e-15 per update, far below 1e-12.
      expect(r.events).toBeGreaterThan(1000);
      for (let k = 0; k < 2 * n; k++) expect(Math.abs(r.finalU[k] - flow(k, T))).toBeLessThan(1e-12);
      sampleTimes.forEach((ts, i) => {
        let mE = 0, mI = 0;
        for (let k = 0; k < n; k++) mE += flow(k, ts) / n;
        for (let k = n; k < 2 * n; k++) mI += flow(k, ts) / n;
        expect(r.t[i]).toBe(ts);
        expect(Math.abs(r.mE[i] - mE)).toBeLessThan(1e-12);
        expect(Math.abs(r.mI[i] - mI)).toBeLessThan(1e-12);
      });
      // Without coupling the input u0 is not modified.
      expect(u0[3]).toBe(Math.sin(4) * 3);
    }
  });

  it('(b) accepted events per unit time match E[sum f] when u is frozen', () => {
    const n = 30;
    const T = 20;
    const u0 = Float64Array.from({ length: 2 * n }, (_, k) => -2 + (4 * k) / (2 * n - 1));
    for (const sigmoid of ['logistic', 'probit'] as const) {
      // tau = 1e9 and jumps of 1e-9/sqrt(n) move u by < 1e-6 over the run: f is constant to ~1e-6 relative.
      const p: HybridEventParams = { ...base, sigmoid, tau: 1e9, JE: 1e-9, JI: 1e-9, muE: 0, muI: 0, numax: 3, theta: 0.3, s: 0.7, beta: 2 };
      const r = simulateEventDriven(p, { n, T, sampleTimes: [0, T / 2, T], seed: 5, initialU: u0 });
      const f = makeHybridIntensity(p);
      let sumF = 0;
      for (let k = 0; k < 2 * n; k++) sumF += f(u0[k]);
      const expAcc = T * (2 * n - 1) * sumF;
      // Given the frozen intensities, the accepted count is Poisson(expAcc): |z| < 4 fails with probability 6e-5.
      expect(Math.abs(r.events - expAcc)).toBeLessThan(4 * Math.sqrt(expAcc));
      const expCand = expectedCandidates(p.numax, n, T);
      expect(Math.abs(r.candidates - expCand)).toBeLessThan(4 * Math.sqrt(expCand));
      // Half-time count: Poisson(expAcc/2).
      expect(Math.abs(r.eventCount[1] - expAcc / 2)).toBeLessThan(4 * Math.sqrt(expAcc / 2));
      expect(r.eventCount[0]).toBe(0);
      expect(r.eventCount[2]).toBe(r.events);
      // Population rates at t = 0 are the exact means of f over each population.
      expect(r.nuE[0] + r.nuI[0]).toBeCloseTo(sumF / n, 12);
    }
  });

  it('(c) at constant f the population mean and variance follow their exact ODEs (B1 excitatory only, and B2)', () => {
    // probit with s = 1e12 gives f = numax/2 within 1e-11 relative, so every N_jk is Poisson(phi0)
    // and the u_k are independent: with drift D_a = phi0 sum_j w_ja and shot intensity Q_a =
    // phi0 sum_j w_ja^2, dm_a/dt = -m_a/tau + c_a + D_a and dv_a/dt = -2 v_a/tau + Q_a exactly.
    const n = 20;
    const R = 100;
    const T = 1;
    const sampleTimes = [0.25, 0.5, 1];
    const init = { mE: 0.3, mI: -0.2, vE: 0.5, vI: 0.2 };
    const cases: HybridEventParams[] = [
      { ...base, variant: 'B1', JE: 1, JI: 0, muE: 0.5, muI: -1, numax: 4, s: 1e12, tau: 0.8 },
      { ...base, variant: 'B2', numax: 4, s: 1e12, tau: 0.8 },
    ];
    for (const p of cases) {
      const phi0 = p.numax / 2;
      const sq = Math.sqrt(n);
      const b1 = p.variant === 'B1';
      // [target][source] weights with sign; a target of population a sees n - 1 sources of its own population.
      const wEE = b1 ? p.JE : p.JEE, wEI = -(b1 ? p.JI : p.JEI), wIE = b1 ? p.JE : p.JIE, wII = -(b1 ? p.JI : p.JII);
      const D = [phi0 * ((n - 1) * wEE + n * wEI) / sq, phi0 * (n * wIE + (n - 1) * wII) / sq];
      const Q = [phi0 * ((n - 1) * wEE ** 2 + n * wEI ** 2) / n, phi0 * (n * wIE ** 2 + (n - 1) * wII ** 2) / n];
      const c = b1 ? [p.muE, p.muI] : [sq * p.muhatE, sq * p.muhatI];
      const m0 = [init.mE, init.mI], v0 = [init.vE, init.vI];
      const mTh = (a: number, t: number) => p.tau * (c[a] + D[a]) + (m0[a] - p.tau * (c[a] + D[a])) * Math.exp(-t / p.tau);
      const vTh = (a: number, t: number) => v0[a] * Math.exp(-2 * t / p.tau) + (p.tau * Q[a] / 2) * (1 - Math.exp(-2 * t / p.tau));
      const runs = Array.from({ length: R }, (_, rep) => simulateEventDriven(p, { n, T, sampleTimes, seed: 21, replica: rep, init }));
      sampleTimes.forEach((ts, i) => {
        for (const a of [0, 1]) {
          const m = meanSd(runs.map((r) => (a === 0 ? r.mE[i] : r.mI[i])));
          const v = meanSd(runs.map((r) => (a === 0 ? r.vE[i] : r.vI[i])));
          // The replica average of the population mean has SE sqrt(v/(nR)) (~0.02 here), estimated from the replicas; 4 SE.
          expect(Math.abs(m.mean - mTh(a, ts))).toBeLessThan(4 * m.se);
          // The divisor-n population variance has expectation (n-1)/n v(t); 4 SE.
          expect(Math.abs(v.mean - ((n - 1) / n) * vTh(a, ts))).toBeLessThan(4 * v.se);
        }
        // Accepted events by t, summed over replicas: Poisson with mean R 2n(2n-1) phi0 t; 4 sd.
        const tot = runs.reduce((acc, r) => acc + r.eventCount[i], 0);
        const mu = R * 2 * n * (2 * n - 1) * phi0 * ts;
        expect(Math.abs(tot - mu)).toBeLessThan(4 * Math.sqrt(mu));
      });
      // The mean moved far from m0 (the test has power): tau (c + D) is several SE away.
      expect(Math.abs(mTh(0, 1) - m0[0])).toBeGreaterThan(1);
    }
  });

  it('the Gaussian initial law has the requested moments', () => {
    const n = 4000;
    const init = { mE: 1.2, mI: -0.7, vE: 0.9, vI: 0.25 };
    const r = simulateEventDriven({ ...base, numax: 1e-6 }, { n, T: 1e-6, sampleTimes: [0], seed: 3, init });
    // Sample mean SE sqrt(v/n); sample variance SE v sqrt(2/n); 4 SE each.
    expect(Math.abs(r.mE[0] - init.mE)).toBeLessThan(4 * Math.sqrt(init.vE / n));
    expect(Math.abs(r.mI[0] - init.mI)).toBeLessThan(4 * Math.sqrt(init.vI / n));
    expect(Math.abs(r.vE[0] - init.vE)).toBeLessThan(4 * init.vE * Math.sqrt(2 / n));
    expect(Math.abs(r.vI[0] - init.vI)).toBeLessThan(4 * init.vI * Math.sqrt(2 / n));
  });

  it('(d) the same seed and replica give identical output; another replica or seed differs', () => {
    const opts = { n: 15, T: 1.5, sampleTimes: [0, 0.5, 1.5], seed: 9, init: { mE: 0, mI: 0, vE: 1, vI: 1 } };
    const a = simulateEventDriven({ ...base, numax: 2 }, opts);
    const b = simulateEventDriven({ ...base, numax: 2 }, opts);
    expect(b).toEqual(a);
    const c = simulateEventDriven({ ...base, numax: 2 }, { ...opts, replica: 1 });
    expect(c.finalU).not.toEqual(a.finalU);
    expect(c.mE[0]).not.toBe(a.mE[0]);
    const d = simulateEventDriven({ ...base, numax: 2 }, { ...opts, seed: 10 });
    expect(d.finalU).not.toEqual(a.finalU);
    // B1 reports the same imbalance for both targets, sqrt(n)(JE nuE - JI nuI).
    expect(a.X).toEqual(a.XI);
    expect(a.X[1]).toBeCloseTo(Math.sqrt(15) * (base.JE * a.nuE[1] - base.JI * a.nuI[1]), 12);
  });

  it('(e) the maxEvents guard throws a ParameterError naming maxEvents', () => {
    const opts = { n: 50, T: 2, sampleTimes: [], seed: 1, init: { mE: 0, mI: 0, vE: 1, vI: 1 } };
    // Expected 100 * 99 * 1 * 2 = 19800 candidates.
    expect(() => simulateEventDriven(base, { ...opts, maxEvents: 1000 })).toThrow(ParameterError);
    expect(() => simulateEventDriven(base, { ...opts, maxEvents: 1000 })).toThrow(/maxEvents.*1\.980e\+4[\s\S]*raise maxEvents/);
    // At maxEvents = the expected count the run starts; a seed with more candidates than that trips the in-run guard.
    const expected = expectedCandidates(1, 50, 2);
    let seed = 1;
    while (simulateEventDriven(base, { ...opts, seed }).candidates <= expected) seed++;
    expect(() => simulateEventDriven(base, { ...opts, seed, maxEvents: expected })).toThrow(/maxEvents.*candidate count/);
  });

  it('rejects bad input with the field named', () => {
    const opts = { n: 5, T: 1, sampleTimes: [0.5], seed: 1, init: { mE: 0, mI: 0, vE: 1, vI: 1 } };
    const bad = (p: Partial<HybridEventParams>, o: object = {}) => () => simulateEventDriven({ ...base, ...p }, { ...opts, ...o });
    expect(bad({ tau: 0 })).toThrow(/invalid tau/);
    expect(bad({ numax: -1 })).toThrow(/invalid numax/);
    expect(bad({ s: 0 })).toThrow(/invalid s/);
    expect(bad({ JE: -1 })).toThrow(/invalid JE/);
    expect(bad({ variant: 'B3' as 'B1' })).toThrow(/invalid variant/);
    expect(bad({}, { n: 2.5 })).toThrow(/invalid n/);
    expect(bad({}, { sampleTimes: [0.5, 0.2] })).toThrow(/invalid sampleTimes/);
    expect(bad({}, { sampleTimes: [2] })).toThrow(/invalid sampleTimes/);
    expect(bad({}, { initialU: new Float64Array(10) })).toThrow(/both init and initialU/);
    expect(bad({}, { init: undefined, initialU: new Float64Array(3) })).toThrow(/invalid initialU/);
    expect(bad({}, { init: { mE: 0, mI: 0, vE: -1, vI: 1 } })).toThrow(/invalid init\.vE/);
    expect(bad({}, { replica: -1 })).toThrow(ParameterError);
  });
});
