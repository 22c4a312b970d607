// The large-n limit of the balanced hybrid network (B1, B2; a reconstruction from the paper's abstract, see docs/models/hybrid-balanced.md): sigmoid rates and derivatives, steady states, trajectories and blow-up reports.
import { describe, expect, it } from 'vitest';
import {
  balanceRatesB2,
  checkConditionsB1,
  checkConditionsB2,
  findBalancingShift,
  gaussHermiteNormal,
  invRate,
  invRateProbit,
  rateDerivs,
  rateOf,
  solveLimitB1,
  solveLimitB2,
  steadyStateB1,
  steadyStateB2,
  type HybridLimitParams,
  type LimitTrajectory,
} from '../src/models/hybrid/limit.ts';
import { ParameterError } from '../src/errors.ts';

// The spec's check: tau = 1, JE = 1, JI = 2, muE = 1, muI = 0, f = Phi.
const specB1: HybridLimitParams = {
  variant: 'B1', tau: 1, JE: 1, JI: 2, muE: 1, muI: 0,
  JEE: 1, JEI: 2, JIE: 2, JII: 2, muhatE: 1, muhatI: 0.8,
  sigmoid: 'probit', numax: 1, theta: 0, s: 1, beta: 4,
};
const logisticB1: HybridLimitParams = { ...specB1, sigmoid: 'logistic', beta: 3, theta: 0.2, numax: 2 };
// van Vreeswijk-Sompolinsky ordering muhatE/muhatI > JEI/JII > JEE/JIE: nuE = 0.2, nuI = 0.6.
const specB2: HybridLimitParams = { ...specB1, variant: 'B2' };

/** Composite Simpson on z in [-12, 12] of f(m + sqrt(v) z) phi(z): the brute-force reference. */
function bruteRate(p: HybridLimitParams, m: number, v: number): number {
  const N = 40_000;
  const L = 12;
  const h = (2 * L) / N;
  let sum = 0;
  for (let i = 0; i <= N; i++) {
    const z = -L + i * h;
    const x = p.beta * (m + Math.sqrt(v) * z - p.theta);
    const f = p.numax / (1 + Math.exp(-x));
    const w = i === 0 || i === N ? 1 : i % 2 ? 4 : 2;
    sum += (w * f * Math.exp(-0.5 * z * z)) / Math.sqrt(2 * Math.PI);
  }
  return (sum * h) / 3;
}

function expectFiniteTrajectory(r: LimitTrajectory): void {
  for (const key of ['t', 'mE', 'mI', 'vE', 'vI', 'nuE', 'nuI', 'X'] as const) {
    expect(r[key].length).toBe(r.t.length);
    for (const x of r[key]) expect(Number.isFinite(x)).toBe(true);
  }
}

describe('sigmoid population rates', () => {
  it('Gauss-Hermite rule integrates normal moments exactly', () => {
    const { nodes, weights } = gaussHermiteNormal(96);
    const moment = (k: number) => nodes.reduce((s, z, i) => s + weights[i] * z ** k, 0);
    expect(moment(0)).toBeCloseTo(1, 14);
    expect(moment(1)).toBeCloseTo(0, 14);
    expect(moment(2)).toBeCloseTo(1, 13);
    expect(moment(8) / 105).toBeCloseTo(1, 12);
    const five = gaussHermiteNormal(5);
    expect(five.nodes[4]).toBeCloseTo(Math.sqrt(5 + Math.sqrt(10)), 14);
  });

  it('probit has the closed form and v = 0 gives f(m)', () => {
    expect(rateOf(specB1, 0, 3)).toBeCloseTo(0.5, 15);
    expect(rateOf(logisticB1, 0.7, 0)).toBeCloseTo(2 / (1 + Math.exp(-3 * 0.5)), 14);
  });

  it('logistic quadrature matches brute-force integration in every rule regime', () => {
    // beta sqrt(v) = 0.3 and 1.5 (Gauss-Hermite), 3 and 12 (trapezoid), 45 (dual form).
    for (const [beta, v, m] of [[3, 0.01, 0.5], [3, 0.25, -0.4], [3, 1, 1.3], [6, 4, -2], [15, 9, 0.9]]) {
      const p = { ...logisticB1, beta };
      const ref = bruteRate(p, m, v);
      expect(Math.abs(rateOf(p, m, v) - ref)).toBeLessThan(1e-11);
    }
  });

  it('g and h match finite differences for probit and logistic', () => {
    const cases: [HybridLimitParams, number, number][] = [
      [specB1, 0.3, 0.8], [specB1, -2.5, 0.1], [{ ...specB1, s: 0.4 }, 1.1, 2],
      [logisticB1, 0.3, 0.1], [logisticB1, -0.6, 1.5], [{ ...logisticB1, beta: 15 }, 0.5, 9],
    ];
    for (const [p, m, v] of cases) {
      const d = rateDerivs(p, m, v);
      const e = 1e-5;
      const gFd = (rateOf(p, m + e, v) - rateOf(p, m - e, v)) / (2 * e);
      const hFd = (rateOf(p, m, v + e) - rateOf(p, m, v - e)) / (2 * e);
      expect(Math.abs(d.g - gFd)).toBeLessThan(1e-8 * Math.max(1, Math.abs(d.g)));
      expect(Math.abs(d.h - hFd)).toBeLessThan(1e-8 * Math.max(1, Math.abs(d.h)));
    }
  });

  it('invRate inverts rateOf in m (probit closed form, logistic solve)', () => {
    expect(invRateProbit(specB1, 0.5, 2)).toBeCloseTo(0, 14);
    for (const p of [specB1, logisticB1, { ...logisticB1, beta: 15 }]) {
      for (const [q, v] of [[0.01, 0.3], [0.4, 0], [0.97, 2.5]]) {
        const nu = q * p.numax;
        expect(rateOf(p, invRate(p, nu, v), v) / nu).toBeCloseTo(1, 11);
      }
    }
    expect(() => invRate(specB1, 1.2, 1)).toThrow(ParameterError);
  });
});

describe('B1 limit', () => {
  it("reproduces the spec's steady state", () => {
    const s = steadyStateB1(specB1);
    expect(s.mE).toBeCloseTo(0.2136, 4);
    expect(s.mI).toBeCloseTo(-0.7864, 4);
    expect(s.vE).toBeCloseTo(0.8438, 4);
    expect(s.vI).toBe(s.vE);
    expect(s.nuE).toBeCloseTo(0.5625, 4);
    expect(s.nuI).toBeCloseTo(0.2813, 4);
    expect(s.X).toBeCloseTo(-0.7864, 4);
    // The defining relations, to solver precision.
    expect(s.nuE - 2 * s.nuI).toBeCloseTo(0, 12);
    expect(s.vE - (s.nuE + 4 * s.nuI) / 2).toBeCloseTo(0, 12);
    expect(s.mE - s.mI).toBeCloseTo(1, 12);
    expect(-s.mE + 1 + s.X).toBeCloseTo(0, 12);
  });

  it('the trajectory jumps by c0 onto the balance, keeps it without projection, and converges to the steady state', () => {
    const init = { mE: 0.5, mI: -1, vE: 0, vI: 0.3 };
    // The slowest mode (mE - mI) relaxes like exp(-t/tau): T = 20 leaves ~2e-9.
    const r = solveLimitB1(specB1, init, { T: 20, project: false, sampleTimes: Array.from({ length: 201 }, (_, k) => k / 10) });
    expect(r.blowup).toBeNull();
    expectFiniteTrajectory(r);
    const c0 = r.c0 as number;
    expect(r.mE[0]).toBe(init.mE + c0);
    expect(r.mI[0]).toBe(init.mI + c0);
    // c0 restores the balance at t = 0+.
    const bal0 = rateOf(specB1, init.mE + c0, init.vE) - 2 * rateOf(specB1, init.mI + c0, init.vI);
    expect(Math.abs(bal0)).toBeLessThan(1e-13);
    // Balance along the trajectory comes from X alone here (no projection).
    for (let k = 0; k < r.t.length; k++) expect(Math.abs(r.nuE[k] - 2 * r.nuI[k])).toBeLessThan(1e-9);
    // X is the mean equations' multiplier: dm/dt + m/tau - mu, by central differences of the samples.
    for (const k of [5, 30, 80]) {
      const dm = (r.mE[k + 1] - r.mE[k - 1]) / 0.2;
      expect(dm + r.mE[k] - 1).toBeCloseTo(r.X[k], 2);
      const dmI = (r.mI[k + 1] - r.mI[k - 1]) / 0.2;
      expect(dmI + r.mI[k]).toBeCloseTo(r.X[k], 2);
    }
    const s = steadyStateB1(specB1);
    const last = r.t.length - 1;
    expect(Math.abs(r.mE[last] - s.mE)).toBeLessThan(1e-6);
    expect(Math.abs(r.mI[last] - s.mI)).toBeLessThan(1e-6);
    expect(Math.abs(r.vE[last] - s.vE)).toBeLessThan(1e-6);
    expect(Math.abs(r.vI[last] - s.vI)).toBeLessThan(1e-6);
    expect(Math.abs(r.X[last] - s.X)).toBeLessThan(1e-6);
  });

  it('logistic: balanced trajectory converges to the logistic steady state', () => {
    const init = { mE: 1, mI: 0, vE: 0.2, vI: 0 };
    const r = solveLimitB1(logisticB1, init, { T: 20, dt: 0.02, sampleTimes: [0, 1, 5, 20] });
    expect(r.blowup).toBeNull();
    expectFiniteTrajectory(r);
    for (let k = 0; k < r.t.length; k++) expect(Math.abs(r.nuE[k] - 2 * r.nuI[k])).toBeLessThan(1e-12);
    const s = steadyStateB1(logisticB1);
    expect(s.mE - s.mI).toBeCloseTo(1, 12);
    expect(s.nuE - 2 * s.nuI).toBeCloseTo(0, 12);
    expect(Math.abs(r.mE[3] - s.mE)).toBeLessThan(1e-6);
    expect(Math.abs(r.vI[3] - s.vI)).toBeLessThan(1e-6);
  });

  it('JE gE > JI gI at the balancing shift is reported at t = 0', () => {
    const p = { ...specB1, JE: 2, JI: 1, muE: 0, muI: 1 };
    const init = { mE: 0, mI: 1, vE: 0.5, vI: 0.5 };
    const shift = findBalancingShift(p, init.mE, init.vE, init.mI, init.vI);
    expect(shift.stable).toBe(false);
    expect(shift.slope).toBeGreaterThan(0);
    const rep = checkConditionsB1(p, init);
    expect(rep.ok).toBe(false);
    expect(rep.failures[0].condition).toBe('JE gE >= JI gI');
    expect(rep.failures[0].detail).toMatch(/raise JI or lower JE/);
    const r = solveLimitB1(p, init, { T: 1 });
    expect(r.blowup?.condition).toBe('JE gE >= JI gI');
    expect(r.blowup?.t).toBe(0);
    expect(r.t).toEqual([]);
    expect(() => steadyStateB1(p)).toThrow(ParameterError);
  });

  it('JE gE reaching JI gI during integration stops the solve with a report', () => {
    // Unequal variances make a fold: the balance starts stable and loses stability at t ~ 0.64.
    const p = { ...specB1, JE: 1, JI: 1.25, muE: -0.8, muI: 0, s: 0.5 };
    const init = { mE: 1.2, mI: 0, vE: 0, vI: 0.8 };
    expect(checkConditionsB1(p, init).ok).toBe(true);
    const r = solveLimitB1(p, init, { T: 3, dt: 1e-2 });
    expect(r.blowup?.condition).toBe('JE gE >= JI gI');
    expect(r.blowup?.t).toBeGreaterThan(0.5);
    expect(r.blowup?.t).toBeLessThan(0.8);
    expect(r.blowup?.detail).toMatch(/JI gI > JE gE/);
    expectFiniteTrajectory(r);
    expect(r.t.at(-1)).toBeLessThanOrEqual(r.blowup?.t as number);
  });

  it('no balancing shift is reported, never NaN', () => {
    const init = { mE: -1, mI: 1, vE: 0, vI: 0 };
    const rep = checkConditionsB1(specB1, init);
    expect(rep.ok).toBe(false);
    expect(rep.failures[0].condition).toBe('no balancing shift');
    expect(rep.failures[0].detail).toMatch(/mE > mI/);
    const r = solveLimitB1(specB1, init, { T: 1 });
    expect(r.c0).toBeNull();
    expect(r.blowup?.condition).toBe('no balancing shift');
    expect(r.blowup?.detail).not.toMatch(/NaN/);
  });

  it('losing the balance mid-run (mE - mI driven to 0) ends with a finite report', () => {
    const p = { ...specB1, muE: 0, muI: 1 };
    const r = solveLimitB1(p, { mE: 2, mI: 0, vE: 0.5, vI: 0.5 }, { T: 5, dt: 1e-2 });
    expect(r.blowup).not.toBeNull();
    expect(r.blowup?.t).toBeGreaterThan(0);
    expect(r.blowup?.detail).not.toMatch(/NaN/);
    expectFiniteTrajectory(r);
  });

  it('degenerate and invalid parameters', () => {
    const deg = { ...specB1, JI: 1, muE: 0.5, muI: 0.5 };
    const rep = checkConditionsB1(deg, { mE: 0, mI: 0, vE: 0, vI: 0 });
    expect(rep.failures.map((f) => f.condition)).toContain('degenerate: JE = JI and muE = muI');
    expect(() => solveLimitB1(deg, { mE: 0, mI: 0, vE: 0, vI: 0 }, { T: 1 })).toThrow(ParameterError);
    const badTau = checkConditionsB1({ ...specB1, tau: 0 }, { mE: 0, mI: 0, vE: 0, vI: 0 });
    expect(badTau.failures[0].condition).toBe('tau <= 0');
    expect(() => solveLimitB1({ ...specB1, tau: -1 }, { mE: 1, mI: 0, vE: 0, vI: 0 }, { T: 1 })).toThrow(/tau/);
    expect(() => solveLimitB1(specB1, { mE: 1, mI: 0, vE: -1, vI: 0 }, { T: 1 })).toThrow(ParameterError);
  });
});

describe('B2 limit', () => {
  it('rates solve the linear balance; v follows the closed form; m is slaved to v', () => {
    const { nuE, nuI, D } = balanceRatesB2(specB2);
    expect(D).toBe(2);
    expect(specB2.muhatE + specB2.JEE * nuE - specB2.JEI * nuI).toBeCloseTo(0, 14);
    expect(specB2.muhatI + specB2.JIE * nuE - specB2.JII * nuI).toBeCloseTo(0, 14);
    expect(checkConditionsB2(specB2).ok).toBe(true);
    for (const p of [specB2, { ...specB2, sigmoid: 'logistic' as const }]) {
      const init = { mE: 0, mI: 0, vE: 0.1, vI: 3 };
      const r = solveLimitB2(p, init, { T: 4, sampleTimes: [0, 0.5, 0.5001, 4] });
      expect(r.blowup).toBeNull();
      expectFiniteTrajectory(r);
      const s = steadyStateB2(p);
      for (let k = 0; k < r.t.length; k++) {
        expect(r.nuE[k]).toBe(nuE);
        expect(r.X[k]).toBe(0);
        // v(t) = v* + (v0 - v*) exp(-2t/tau), v*_E = tau (JEE^2 nuE + JEI^2 nuI)/2.
        const vStarE = (1 * nuE + 4 * nuI) / 2;
        expect(r.vE[k]).toBeCloseTo(vStarE + (0.1 - vStarE) * Math.exp(-2 * r.t[k]), 13);
        expect(rateOf(p, r.mE[k], r.vE[k]) / nuE).toBeCloseTo(1, 11);
        expect(rateOf(p, r.mI[k], r.vI[k]) / nuI).toBeCloseTo(1, 11);
      }
      // dv/dt = -2 v/tau + J_IE^2 nuE + J_II^2 nuI, by a difference quotient.
      const dvI = (r.vI[2] - r.vI[1]) / 1e-4;
      expect(dvI).toBeCloseTo(-2 * 0.5 * (r.vI[1] + r.vI[2]) + 4 * nuE + 4 * nuI, 6);
      expect(r.vI[3]).toBeCloseTo(s.vI, 2);
      expect(r.jump.E).toBe(r.mE[0] - init.mE);
    }
  });

  it('D <= 0 is reported', () => {
    const p = { ...specB2, JEE: 3 };
    const rep = checkConditionsB2(p);
    expect(rep.ok).toBe(false);
    expect(rep.failures[0].condition).toBe('D <= 0');
    expect(rep.failures[0].detail).toMatch(/JEI JIE > JEE JII/);
    const r = solveLimitB2(p, { mE: 0, mI: 0, vE: 0, vI: 0 }, { T: 1 });
    expect(r.blowup?.condition).toBe('D <= 0');
    expect(r.t).toEqual([]);
    expect(() => steadyStateB2(p)).toThrow(ParameterError);
  });

  it('rates outside (0, numax) are reported', () => {
    const neg = { ...specB2, muhatI: 1.5 };
    expect(balanceRatesB2(neg).nuE).toBeLessThan(0);
    const rep = checkConditionsB2(neg);
    expect(rep.failures[0].condition).toBe('nu outside (0, numax)');
    expect(rep.failures[0].detail).toMatch(/nuE/);
    const high = { ...specB2, numax: 0.5 };
    const rep2 = checkConditionsB2(high);
    expect(rep2.failures.map((f) => f.detail).join()).toMatch(/nuI = 0\.6/);
    const r = solveLimitB2(high, { mE: 0, mI: 0, vE: 0, vI: 0 }, { T: 1 });
    expect(r.blowup?.condition).toBe('nu outside (0, numax)');
    expect(r.blowup?.detail).not.toMatch(/NaN/);
  });
});
