// The rate-circuit analysis (equilibria, Nash residual, spectra, LDS, regimes, contrast gain) against closed forms and Euler integration.
import { describe, expect, it } from 'vitest';
import { applyActivation, makeColumn, makeLateralCircuit, makeWilsonCowan, type Circuit } from '../src/models/rate/circuit.ts';
import {
  classifyWilsonCowan, contrast, contrastGainTheory, eigenvalues, energies, hopfieldEnergy, isPMatrix, jacobian, lateralRegimeBoundary,
  lds2x2, ldsTest, nashResidual, pseudoGradient, solveEquilibrium, solveLinear, stabilityMatrix,
} from '../src/models/rate/analysis.ts';
import { ParameterError } from '../src/errors.ts';

function euler(c: Circuit, x0: ArrayLike<number>, T: number, dt = 0.01, onStep?: (x: Float64Array) => void): Float64Array {
  const n = c.n, x = Float64Array.from(x0), net = new Float64Array(n);
  for (let s = 0; s < Math.round(T / dt); s++) {
    for (let i = 0; i < n; i++) { let v = c.u[i]; for (let j = 0; j < n; j++) v += c.W[i * n + j] * x[j]; net[i] = v; }
    for (let i = 0; i < n; i++) x[i] += (dt / c.tau[i]) * (applyActivation(c.activation, net[i]) - x[i]);
    onStep?.(x);
  }
  return x;
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
function rng(seed: number) { let s = seed >>> 0; return () => ((s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32); }

// Hand-picked Wilson-Cowan pairs, one per regime (relu, tau = 1); the comments give the equilibrium algebra.
const WC = {
  unique: { wEE: 0.5, wEI: 1, wIE: 1, wII: 0.5, uE: 1, uI: 0.2 },
  isn: { wEE: 2, wEI: 2.5, wIE: 2, wII: 0.5, uE: 1, uI: 0 }, // x* = (3/7, 4/7); J = [[1, -2.5], [2, -1.5]]: tr < 0, det > 0
  bistable: { wEE: 2, wEI: 2, wIE: 1, wII: 0.5, uE: -0.5, uI: -1 }, // stable 0 and (2.5, 1); saddle (0.5, 0)
  oscillatory: { wEE: 3, wEI: 2, wIE: 2, wII: 0, uE: 1, uI: 0 }, // x* = (0.5, 1), J = [[2, -2], [2, -1]]: 0.5 +- i sqrt(7)/2
  runaway: { wEE: 3, wEI: 1, wIE: 1, wII: 0, uE: 1, uI: 0 }, // no equilibrium at all
};

describe('rate circuit builders', () => {
  it('Wilson-Cowan, lateral and column weight matrices follow Dale and the wiring rules', () => {
    const wc = makeWilsonCowan({ ...WC.isn, tauI: 2 });
    expect(Array.from(wc.W)).toEqual([2, -2.5, 2, -0.5]);
    expect(Array.from(wc.tau)).toEqual([1, 2]);
    const lat = makeLateralCircuit({ channels: 3, wEE: 0.4, wIE: 1.5, wEI: 0.7, wII: 0.2, inputs: [1, 2, 3], tauE: 1, tauI: 0.5, activation: { kind: 'relu' } });
    const w = (i: number, j: number) => lat.W[i * 6 + j];
    expect(lat.labels).toEqual(['E1', 'E2', 'E3', 'I1', 'I2', 'I3']);
    for (let k = 0; k < 3; k++) {
      expect(w(k, k)).toBe(0.4);
      expect(w(3 + k, k)).toBe(1.5);
      expect(w(3 + k, 3 + k)).toBe(-0.2);
      for (let j = 0; j < 3; j++) expect(w(j, 3 + k)).toBe(j === k ? 0 : -0.7);
    }
    expect(Array.from(lat.u)).toEqual([1, 2, 3, 0, 0, 0]);
    let nonzero = 0;
    lat.W.forEach((v) => (nonzero += v !== 0 ? 1 : 0));
    expect(nonzero).toBe(3 * 3 + 3 * 2); // E->E, E->I, I->I per channel plus 2 cross-inhibitions per I
    const col = makeColumn({ layers: 3, channels: 2, wEE: 0.5, wIE: 1, wEI: 0.3, wII: 0, wFF: 0.9, inputs: [1, 1.2] });
    expect(col.n).toBe(12);
    expect(col.W[4 * 12 + 0]).toBe(0.9);
    expect(col.W[9 * 12 + 5]).toBe(0.9);
    expect(col.W[0 * 12 + 4]).toBe(0); // feedforward only
    expect(col.W[5 * 12 + 6]).toBe(-0.3); // L1.I1 (6) -> L1.E2 (5)
    expect(col.W[4 * 12 + 6]).toBe(0); // no I_k -> E_k
    expect(col.excitatory.filter(Boolean).length).toBe(6);
  });

  it('rejects bad parameters with ParameterError', () => {
    const lat = { channels: 2, wEE: 0.5, wIE: 1, wEI: 0.3, wII: 0, inputs: [1, 1] };
    expect(() => makeLateralCircuit({ ...lat, channels: 1, inputs: [1] })).toThrow(ParameterError);
    expect(() => makeLateralCircuit({ ...lat, wEI: -1 })).toThrow(ParameterError);
    expect(() => makeLateralCircuit({ ...lat, inputs: [1] })).toThrow(ParameterError);
    expect(() => makeLateralCircuit({ ...lat, tauI: 0 })).toThrow(ParameterError);
    expect(() => makeWilsonCowan({ ...WC.unique, activation: { kind: 'clip', xmax: 0 } })).toThrow(ParameterError);
    expect(() => makeColumn({ ...lat, layers: 0, wFF: 1 })).toThrow(ParameterError);
  });
});

describe('equilibria and the Nash view', () => {
  const circuits: Record<string, Circuit> = {
    unique: makeWilsonCowan(WC.unique),
    bistable: makeWilsonCowan(WC.bistable),
    lateral: makeLateralCircuit({ channels: 3, wEE: 0.5, wIE: 1, wEI: 0.3, wII: 0.2, inputs: [1, 1.3, 0.6] }),
    wta: makeLateralCircuit({ channels: 2, wEE: 0.5, wIE: 1, wEI: 0.8, wII: 0, inputs: [1, 0.95] }),
    column: makeColumn({ layers: 2, channels: 2, wEE: 0.5, wIE: 1, wEI: 0.3, wII: 0, wFF: 1, inputs: [1, 0.9] }),
    clip: makeWilsonCowan({ ...WC.runaway, uE: 0.2, wEI: 1.5, activation: { kind: 'clip', xmax: 1 } }),
  };

  it('support enumeration returns LCP solutions (complementarity) with zero Nash residual', () => {
    for (const [name, c] of Object.entries(circuits)) {
      const { solutions, method } = solveEquilibrium(c);
      expect(method, name).toBe('support-enumeration');
      expect(solutions.length, name).toBeGreaterThan(0);
      const xmax = c.activation.kind === 'relu' ? Infinity : c.activation.xmax;
      for (const x of solutions) {
        const F = pseudoGradient(c, x);
        for (let i = 0; i < c.n; i++) {
          expect(x[i]).toBeGreaterThanOrEqual(0);
          // relu: x >= 0, F >= 0, x F = 0; box: F >= 0 at 0, F = 0 inside, F <= 0 at xmax.
          if (x[i] === 0) expect(F[i]).toBeGreaterThan(-1e-9);
          else if (x[i] === xmax) expect(F[i]).toBeLessThan(1e-9);
          else expect(Math.abs(F[i])).toBeLessThan(1e-9);
        }
        const diag = Array.from({ length: c.n }, (_, i) => c.W[i * c.n + i]);
        if (diag.every((w) => w < 1)) expect(nashResidual(c, x).residual, name).toBeLessThan(1e-9);
      }
    }
    expect(solveEquilibrium(circuits.bistable).solutions.map((x) => Array.from(x))).toEqual([[0, 0], [0.5, 0], [2.5, 1]].map((r) => r.map((v) => expect.closeTo(v, 12))));
    expect(solveEquilibrium(circuits.wta).solutions.length).toBe(3); // two winners and the all-active saddle
  });

  it('stable equilibria equal long Euler integration; the fallback solvers agree', () => {
    for (const name of ['unique', 'lateral', 'column', 'clip']) {
      const c = circuits[name];
      const sols = solveEquilibrium(c).solutions;
      const stable = sols.filter((x) => eigenvalues(jacobian(c, x)).every((e) => e.re < 0));
      expect(stable.length, name).toBe(1);
      expect(maxAbsDiff(euler(c, new Float64Array(c.n), 200), stable[0]), name).toBeLessThan(1e-8);
      const pgs = solveEquilibrium(c, { maxEnumerate: 0 });
      expect(pgs.method).toMatch(/projected-gauss-seidel|newton/);
      expect(pgs.solutions.some((x) => maxAbsDiff(x, stable[0]) < 1e-9), name).toBe(true);
    }
    const b = circuits.bistable;
    expect(maxAbsDiff(euler(b, [0.1, 0.1], 100), [0, 0])).toBeLessThan(1e-8);
    expect(maxAbsDiff(euler(b, [2, 1], 100), [2.5, 1])).toBeLessThan(1e-8);
  });

  it('softclip: Newton equilibria match integration and are Nash equilibria (w_ii < 1)', () => {
    const c = makeLateralCircuit({ channels: 2, wEE: 0.6, wIE: 1.2, wEI: 0.4, wII: 0.3, inputs: [1.5, 1], activation: { kind: 'softclip', xmax: 2 } });
    const { solutions, method } = solveEquilibrium(c);
    expect(method).toBe('newton');
    expect(solutions.length).toBe(1);
    expect(maxAbsDiff(euler(c, new Float64Array(4), 200), solutions[0])).toBeLessThan(1e-8);
    expect(nashResidual(c, solutions[0]).residual).toBeLessThan(1e-10);
    const e = energies(c, solutions[0]);
    expect(e.every(Number.isFinite)).toBe(true);
  });

  it('Nash residual is positive away from equilibria, Infinity when w_ii >= 1, and energies are minimised by the best response', () => {
    const c = circuits.lateral;
    const x = solveEquilibrium(c).solutions[0];
    const y = x.slice();
    y[1] += 0.1;
    expect(nashResidual(c, y).residual).toBeGreaterThan(0.01);
    const e0 = energies(c, x)[0];
    for (const d of [-0.01, 0.01]) { const z = x.slice(); z[0] += d; expect(energies(c, z)[0]).toBeGreaterThan(e0); }
    const isn = nashResidual(makeWilsonCowan(WC.isn), [0.3, 0.6]);
    expect(isn.residual).toBe(Infinity);
    expect(isn.explanation).toMatch(/not convex/);
  });
});

describe('spectra', () => {
  it('2x2 closed form', () => {
    const ev = eigenvalues(Float64Array.of(1, 2, 3, 4));
    expect(ev[0].re).toBeCloseTo((5 + Math.sqrt(33)) / 2, 13);
    expect(ev[1].re).toBeCloseTo((5 - Math.sqrt(33)) / 2, 13);
    const osc = eigenvalues(jacobian(makeWilsonCowan(WC.oscillatory), [0.5, 1]));
    expect(osc[0]).toEqual({ re: expect.closeTo(0.5, 14), im: expect.closeTo(Math.sqrt(7) / 2, 14) });
  });

  it('a rotation-like 3x3 under a similarity transform', () => {
    const r = 0.9, th = 0.7;
    const R = Float64Array.of(r * Math.cos(th), -r * Math.sin(th), 0, r * Math.sin(th), r * Math.cos(th), 0, 0, 0, -0.4);
    const S = Float64Array.of(1, 2, 0.5, -1, 1, 0.3, 0.2, -0.7, 2);
    const Sinv = new Float64Array(9);
    for (let j = 0; j < 3; j++) { const e = new Float64Array(3); e[j] = 1; const col = solveLinear(S, e)!; for (let i = 0; i < 3; i++) Sinv[i * 3 + j] = col[i]; }
    const mul = (A: Float64Array, B: Float64Array) => Float64Array.from({ length: 9 }, (_, k) => [0, 1, 2].reduce((s, m) => s + A[Math.floor(k / 3) * 3 + m] * B[m * 3 + (k % 3)], 0));
    const ev = eigenvalues(mul(mul(S, R), Sinv));
    expect(ev.map((e) => [e.re, e.im])).toEqual([
      [expect.closeTo(r * Math.cos(th), 12), expect.closeTo(r * Math.sin(th), 12)],
      [expect.closeTo(r * Math.cos(th), 12), expect.closeTo(-r * Math.sin(th), 12)],
      [expect.closeTo(-0.4, 12), 0],
    ]);
  });

  it('a triangular 5x5 and a companion matrix with known complex roots', () => {
    const T = Float64Array.from({ length: 25 }, (_, k) => (Math.floor(k / 5) <= k % 5 ? (k % 5 === Math.floor(k / 5) ? [3, -1, 0.5, 2, -2][k % 5] : k * 0.37 - 2) : 0));
    expect(eigenvalues(T).map((e) => e.re)).toEqual([3, 2, 0.5, -1, -2]);
    // Companion matrix of (z - 1)(z - 2)(z - 3)(z^2 + 2z + 5): roots 3, 2, 1, -1 +- 2i (coefficients expanded below).
    const roots: [number, number][] = [[1, 0], [2, 0], [3, 0], [-1, 2], [-1, -2]];
    let poly: [number, number][] = [[1, 0]];
    for (const [rr, ri] of roots) {
      const next = Array.from({ length: poly.length + 1 }, (): [number, number] => [0, 0]);
      poly.forEach(([pr, pi], k) => { next[k][0] += pr; next[k][1] += pi; next[k + 1][0] -= pr * rr - pi * ri; next[k + 1][1] -= pr * ri + pi * rr; });
      poly = next;
    }
    const C = new Float64Array(25);
    for (let j = 0; j < 5; j++) C[j] = -poly[j + 1][0];
    for (let i = 1; i < 5; i++) C[i * 5 + i - 1] = 1;
    const ev = eigenvalues(C);
    expect(ev.map((e) => [e.re, e.im])).toEqual([[3, 0], [2, 0], [1, 0], [-1, 2], [-1, -2]].map(([a, b]) => [expect.closeTo(a, 9), expect.closeTo(b, 9)]));
  });

  it('random 8x8: trace and determinant from the spectrum', () => {
    const rand = rng(5), n = 8, A = Float64Array.from({ length: n * n }, () => rand() * 2 - 1);
    const ev = eigenvalues(A);
    let tr = 0, pr = 1, pi = 0;
    for (const e of ev) { tr += e.re; [pr, pi] = [pr * e.re - pi * e.im, pr * e.im + pi * e.re]; }
    let trace = 0;
    for (let i = 0; i < n; i++) trace += A[i * n + i];
    const LU = Float64Array.from(A);
    let det = 1;
    for (let c = 0; c < n; c++) { let p = c; for (let r = c + 1; r < n; r++) if (Math.abs(LU[r * n + c]) > Math.abs(LU[p * n + c])) p = r; if (p !== c) { det = -det; for (let j = 0; j < n; j++) [LU[c * n + j], LU[p * n + j]] = [LU[p * n + j], LU[c * n + j]]; } det *= LU[c * n + c]; for (let r = c + 1; r < n; r++) { const f = LU[r * n + c] / LU[c * n + c]; for (let j = c; j < n; j++) LU[r * n + j] -= f * LU[c * n + j]; } }
    expect(tr).toBeCloseTo(trace, 10);
    expect(pr).toBeCloseTo(det, 10);
    expect(Math.abs(pi)).toBeLessThan(1e-10);
  });
});

describe('Lyapunov diagonal stability and P-matrices', () => {
  it('ldsTest agrees with the exact 2x2 rule on random matrices', () => {
    const rand = rng(11);
    let checked = 0, lds = 0;
    for (let k = 0; k < 2000; k++) {
      const A = Float64Array.from({ length: 4 }, () => rand() * 4 - 2);
      if (Math.min(Math.abs(A[0]), Math.abs(A[3]), Math.abs(A[0] * A[3] - A[1] * A[2])) < 1e-6) continue;
      const r = ldsTest(A);
      expect(r.isLDS, Array.from(A).join(',')).toBe(lds2x2(A));
      checked++; lds += r.isLDS ? 1 : 0;
    }
    expect(checked).toBeGreaterThan(1900);
    expect(lds).toBeGreaterThan(100);
  });

  it('margin of -I is 2/n (P = I/n)', () => {
    expect(ldsTest(Float64Array.of(-1, 0, 0, -1)).margin).toBeCloseTo(1, 12);
    const r = ldsTest(Float64Array.of(-1, 0, 0, 0, -1, 0, 0, 0, -1));
    expect(r.margin).toBeCloseTo(2 / 3, 6);
    expect(Array.from(r.P).map((v) => v * 3)).toEqual([1, 1, 1].map((v) => expect.closeTo(v, 5)));
  });

  it('mirror ascent reaches the exact 2x2 margin, and the certificate P is valid', () => {
    const rand = rng(3);
    let tested = 0;
    for (let k = 0; k < 200 && tested < 20; k++) {
      const A = Float64Array.from({ length: 4 }, () => rand() * 4 - 2);
      const exact = ldsTest(A);
      if (Math.abs(exact.margin) < 0.05) continue;
      const ascent = ldsTest(A, { exact2x2: false });
      expect(ascent.isLDS).toBe(exact.isLDS);
      expect(ascent.margin).toBeLessThanOrEqual(exact.margin + 1e-9);
      expect(ascent.margin).toBeGreaterThan(exact.margin - 0.02 * Math.max(1, Math.abs(exact.margin)));
      tested++;
    }
    expect(tested).toBe(20);
  });

  it('W - I of the 2-channel lateral circuit is LDS exactly on the soft-competition side (a > b)', () => {
    const base = { channels: 2, wEE: 0.5, wIE: 1, wII: 0, inputs: [1, 1] };
    const soft = makeLateralCircuit({ ...base, wEI: 0.3 }), hard = makeLateralCircuit({ ...base, wEI: 0.8 });
    expect(lateralRegimeBoundary({ ...base, wEI: 0.3 }).lds).toBe(true);
    expect(lateralRegimeBoundary({ ...base, wEI: 0.8 }).lds).toBe(false);
    expect(ldsTest(stabilityMatrix(soft)).isLDS).toBe(true);
    expect(ldsTest(stabilityMatrix(hard)).isLDS).toBe(false);
  });

  it('P-matrix test; LDS of A implies -A is a P-matrix', () => {
    expect(isPMatrix(Float64Array.of(1, 2, 2, 1))).toBe(false);
    expect(isPMatrix(Float64Array.of(1, 2, -2, 1))).toBe(true);
    expect(isPMatrix(Float64Array.of(-1, 0, 0, 1))).toBe(false);
    const rand = rng(19);
    let lds = 0;
    for (let k = 0; k < 60; k++) {
      const A = Float64Array.from({ length: 9 }, (_, i) => (i % 4 === 0 ? -1.5 : 0) + rand() * 2 - 1);
      if (ldsTest(A, { iterations: 1500 }).isLDS) { lds++; expect(isPMatrix(A.map((v) => -v))).toBe(true); }
    }
    expect(lds).toBeGreaterThan(5);
    expect(() => isPMatrix(new Float64Array(17 * 17))).toThrow(ParameterError);
  });
});

describe('potential game', () => {
  it('the Hopfield energy decreases along Euler trajectories for symmetric W (relu and softclip)', () => {
    const W = Float64Array.of(0.2, 0.5, -0.3, 0.1, 0.5, -0.4, 0.6, 0.2, -0.3, 0.6, 0.3, -0.5, 0.1, 0.2, -0.5, 0);
    for (const activation of [{ kind: 'relu' } as const, { kind: 'softclip', xmax: 1.5 } as const]) {
      const c: Circuit = { n: 4, W, u: Float64Array.of(1, -0.2, 0.5, 0.8), tau: Float64Array.of(1, 2, 0.5, 1), activation, labels: ['a', 'b', 'c', 'd'], excitatory: [true, true, true, true] };
      let prev = hopfieldEnergy(c, [1.2, 0, 0.3, 1]), steps = 0;
      euler(c, [1.2, 0, 0.3, 1], 30, 0.005, (x) => { const e = hopfieldEnergy(c, x); expect(e).toBeLessThanOrEqual(prev + 1e-12); prev = e; steps++; });
      expect(steps).toBe(6000);
    }
    expect(() => hopfieldEnergy(makeWilsonCowan(WC.unique), [1, 1])).toThrow(ParameterError);
  });
});

describe('Wilson-Cowan regimes', () => {
  it('one hand-picked parameter set per regime', () => {
    expect(classifyWilsonCowan(makeWilsonCowan(WC.unique)).regime).toBe('unique-stable');
    const isn = classifyWilsonCowan(makeWilsonCowan(WC.isn));
    expect(isn.regime).toBe('inhibition-stabilised');
    expect(Array.from(isn.equilibria[0].x)).toEqual([expect.closeTo(3 / 7, 12), expect.closeTo(4 / 7, 12)]);
    expect(classifyWilsonCowan(makeWilsonCowan(WC.bistable)).regime).toBe('bistable');
    expect(classifyWilsonCowan(makeWilsonCowan(WC.oscillatory)).regime).toBe('oscillatory');
    expect(classifyWilsonCowan(makeWilsonCowan(WC.runaway)).regime).toBe('runaway');
    // Clip: strong self-excitation, weak inhibition -> E pinned at xmax.
    expect(classifyWilsonCowan(makeWilsonCowan({ ...WC.runaway, activation: { kind: 'clip', xmax: 1 } })).regime).toBe('runaway');
  });

  it('the regimes show in the trajectories', () => {
    const osc = makeWilsonCowan(WC.oscillatory);
    let lo = Infinity, hi = -Infinity, top = 0;
    euler(osc, [0.6, 1], 200, 0.002, (x) => { top = Math.max(top, x[0], x[1]); });
    euler(osc, euler(osc, [0.6, 1], 150, 0.002), 50, // settled onto the cycle
      0.002, (x) => { lo = Math.min(lo, x[0]); hi = Math.max(hi, x[0]); });
    expect(top).toBeLessThan(50); // bounded
    expect(hi - lo).toBeGreaterThan(0.2); // sustained oscillation
    const run = euler(makeWilsonCowan(WC.runaway), [0, 0], 20);
    expect(run[0]).toBeGreaterThan(1e6);
    const isn = makeWilsonCowan(WC.isn);
    expect(maxAbsDiff(euler(isn, [0, 0], 100), [3 / 7, 4 / 7])).toBeLessThan(1e-8);
  });
});

describe('contrast gain of the lateral-inhibition circuit', () => {
  const p = { wEE: 0.5, wIE: 1, wEI: 0.3, wII: 0.25 }; // a = 0.5, b = 0.24, G = 0.74 / 0.26
  const G = (1 - p.wEE + (p.wEI * p.wIE) / (1 + p.wII)) / (1 - p.wEE - (p.wEI * p.wIE) / (1 + p.wII));
  const cOut = (cIn: number, U = 2, q = p) => {
    const c = makeLateralCircuit({ channels: 2, ...q, inputs: [(U * (1 + cIn)) / 2, (U * (1 - cIn)) / 2] });
    const sols = solveEquilibrium(c).solutions;
    return sols.map((x) => contrast(x[0], x[1]));
  };

  it('all-active: dC_out/dC_in (finite difference on the solved equilibrium) equals (a + b)/(a - b) at any total input', () => {
    expect(contrastGainTheory(p, 0.1).gain).toBeCloseTo(G, 14);
    for (const U of [0.5, 2, 7]) {
      const h = 1e-4, c0 = 0.1;
      const [up] = cOut(c0 + h, U), [dn] = cOut(c0 - h, U);
      expect((up - dn) / (2 * h)).toBeCloseTo(G, 8);
      expect(cOut(c0, U)[0]).toBeCloseTo(contrastGainTheory(p, c0).cOut, 12);
    }
  });

  it('weaker channel silenced above C_in = 1/G, winner-take-all beyond the LDS boundary', () => {
    const t = contrastGainTheory(p, 0.5);
    expect(t.regime).toBe('weaker-silenced');
    expect(t.cOut).toBe(1);
    expect(cOut(0.5)).toEqual([1]);
    const hard = { ...p, wEI: 0.8 }; // b = 0.64 > a
    expect(contrastGainTheory(hard, 0.02).regime).toBe('winner-take-all');
    const outs = cOut(0.02, 2, hard).sort((x, y) => x - y);
    expect(outs.length).toBe(3); // both winners and the all-active saddle (C_out = G C_in < 0 with G < 0)
    expect(outs[0]).toBe(-1);
    expect(outs[outs.length - 1]).toBe(1);
    expect(lateralRegimeBoundary(hard).wEEcritical).toBeCloseTo(1 - 0.64, 14);
    expect(contrastGainTheory({ ...p, wEE: 1.2 }).regime).toBe('runaway');
  });

  it('a column sharpens contrast by G per layer', () => {
    const L = 3, cIn = 0.01;
    const c = makeColumn({ layers: L, channels: 2, ...p, wFF: 1, inputs: [1 + cIn, 1 - cIn] });
    const { solutions } = solveEquilibrium(c, { maxEnumerate: 0 });
    expect(solutions.length).toBe(1);
    for (let l = 0; l < L; l++) expect(contrast(solutions[0][4 * l], solutions[0][4 * l + 1])).toBeCloseTo(cIn * G ** (l + 1), 10);
  });
});
