// The minimax theory (KKT / LCP solver, well-posedness, stability, grid wavelength) and the figure networks, against closed forms.
import { describe, expect, it } from 'vitest';
import { ConfigError, ParameterError } from '../src/errors.ts';
import type { MinimaxNetwork } from '../src/models/minimax/network.ts';
import {
  checkDale, decoderTarget, makeDecoderNetwork, makeGridNetwork, makeMemoryNetwork, makeRingNetwork, makeTightBalanceNetwork, memoryBackgroundRates,
  memoryCueRates, ringCueRates,
} from '../src/models/minimax/networks.ts';
import {
  assertMinimaxWellPosed, checkMinimaxWellPosed, gridKernel, gridKernelParams, gridPredictedWavelength, kktResidualAt, solveDense, solveLcp,
  solveMinimaxRates, stabilityAt, symmetricEigenvalues,
} from '../src/models/minimax/theory.ts';

function rng(seed: number) {
  let s = seed >>> 0;
  return () => (s = (Math.imul(s, 1664525) + 1013904223) >>> 0) / 2 ** 32;
}
const maxAbsDiff = (a: ArrayLike<number>, b: ArrayLike<number>) => Array.from(a).reduce((m, v, i) => Math.max(m, Math.abs(v - b[i])), 0);
const maxAbs = (a: ArrayLike<number>) => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function tiny(wEE: number, wEI: number, wIE: number, wII: number, opts: Partial<MinimaxNetwork> = {}): MinimaxNetwork {
  const f = (v: number) => Float64Array.of(v);
  return { nE: 1, nI: 1, nIn: 1, wEE: f(wEE), wEI: f(wEI), wIE: f(wIE), wII: f(wII), F: f(1), ...opts };
}

/** A random convex-concave network: W_EE = A - I with A >= 0 symmetric and Perron root about 1/2, W_II = W_EI^T W_EI / nE + I/2. */
function randomWellPosed(seed: number, nE: number, nI: number, nIn: number, thresholds: boolean): { net: MinimaxNetwork; xbar: Float64Array } {
  const u = rng(seed);
  const wEE = new Float64Array(nE * nE);
  for (let i = 0; i < nE; i++) {
    wEE[i * nE + i] = -1;
    for (let j = 0; j < i; j++) wEE[i * nE + j] = wEE[j * nE + i] = u() / nE;
  }
  const wEI = Float64Array.from({ length: nE * nI }, u);
  const wIE = new Float64Array(nI * nE);
  for (let i = 0; i < nE; i++) for (let k = 0; k < nI; k++) wIE[k * nE + i] = wEI[i * nI + k];
  const wII = new Float64Array(nI * nI);
  for (let a = 0; a < nI; a++) {
    for (let b = 0; b < nI; b++) {
      let s = a === b ? 0.5 : 0;
      for (let i = 0; i < nE; i++) s += (wEI[i * nI + a] * wEI[i * nI + b]) / nE;
      wII[a * nI + b] = s;
    }
  }
  const F = Float64Array.from({ length: nE * nIn }, () => 0.1 + (u() - 0.5));
  const net: MinimaxNetwork = { nE, nI, nIn, wEE, wEI, wIE, wII, F };
  if (thresholds) {
    net.thE = Float64Array.from({ length: nE }, () => u() - 0.5);
    net.thI = Float64Array.from({ length: nI }, () => u());
  }
  return { net, xbar: Float64Array.from({ length: nIn }, () => 20 * u()) };
}

describe('dense linear algebra', () => {
  it('solves linear systems with pivoting and finds symmetric eigenvalues', () => {
    expect(Array.from(solveDense(Float64Array.of(0, 1, 1, 0), Float64Array.of(2, 3))!)).toEqual([3, 2]);
    expect(solveDense(Float64Array.of(1, 2, 2, 4), Float64Array.of(1, 1))).toBeNull();
    const u = rng(7);
    const n = 40;
    const A = Float64Array.from({ length: n * n }, () => u() - 0.5);
    const x = Float64Array.from({ length: n }, () => u());
    const b = Float64Array.from({ length: n }, (_, i) => x.reduce((s, v, j) => s + A[i * n + j] * v, 0));
    expect(maxAbsDiff(solveDense(A, b)!, x)).toBeLessThan(1e-12);
    expect(Array.from(symmetricEigenvalues(Float64Array.of(2, 1, 1, 2), 2)).map((v) => +v.toFixed(12))).toEqual([1, 3]);
    // Symmetric part of A: its eigenvalues sum to the trace and their squares to the Frobenius norm.
    const ev = symmetricEigenvalues(A, n);
    let tr = 0;
    let fro = 0;
    for (let i = 0; i < n; i++) {
      tr += A[i * n + i];
      for (let j = 0; j < n; j++) fro += (0.5 * (A[i * n + j] + A[j * n + i])) ** 2;
    }
    expect(ev.reduce((s, v) => s + v, 0)).toBeCloseTo(tr, 10);
    expect(ev.reduce((s, v) => s + v * v, 0)).toBeCloseTo(fro, 10);
    for (let i = 1; i < n; i++) expect(ev[i]).toBeGreaterThanOrEqual(ev[i - 1]);
  });
});

describe('solveMinimaxRates', () => {
  it('matches the 1E/1I closed forms (both active, E alone, silent)', () => {
    // V_E = -rE - 2 rI + 7, V_I = 2 rE - 3 rI: rE = c x / (a c + b^2) = 21/7 = 3, rI = 2.
    const both = solveMinimaxRates(tiny(-1, 2, 2, 3), [7]);
    expect(both.rE[0]).toBeCloseTo(3, 13);
    expect(both.rI[0]).toBeCloseTo(2, 13);
    expect(both.residual).toBeLessThan(1e-13);
    expect(both.supportE).toEqual([0]);
    // A high I threshold silences I: rE = (x - thE)/1 = 6.5 and V_I = 13 - 100 < 0.
    const eOnly = solveMinimaxRates(tiny(-1, 2, 2, 3, { thE: Float64Array.of(0.5), thI: Float64Array.of(100) }), [7]);
    expect(eOnly.rE[0]).toBeCloseTo(6.5, 13);
    expect(eOnly.rI[0]).toBe(0);
    expect(eOnly.vI[0]).toBeCloseTo(-87, 12);
    const silent = solveMinimaxRates(tiny(-1, 2, 2, 3), [-7]);
    expect(silent.method).toBe('trivial');
    expect([silent.rE[0], silent.rI[0], silent.vE[0]]).toEqual([0, 0, -7]);
  });

  it('finds the KKT point of random well-posed networks to 1e-10, the same from the active-set path', () => {
    const cases: [number, number, number, boolean][] = [[4, 3, 2, false], [30, 10, 12, true], [60, 60, 20, false], [120, 80, 30, true]];
    cases.forEach(([nE, nI, nIn, th], c) => {
      const { net, xbar } = randomWellPosed(100 + c, nE, nI, nIn, th);
      expect(checkMinimaxWellPosed(net).reducedPositiveDefinite).toBe(true);
      const sol = solveMinimaxRates(net, xbar);
      for (const r of [...sol.rE, ...sol.rI]) expect(r).toBeGreaterThanOrEqual(0);
      for (const v of [...sol.vE, ...sol.vI]) expect(v).toBeLessThanOrEqual(1e-10);
      for (let i = 0; i < nE; i++) expect(Math.abs(sol.rE[i] * sol.vE[i])).toBeLessThan(1e-10);
      expect(sol.residual).toBeLessThan(1e-10);
      expect(sol.supportE.length).toBeGreaterThan(0);
      expect(sol.supportE.length).toBeLessThan(nE + 1);
      // The problem is convex-concave, so the KKT point is unique: the active-set path from zero agrees.
      const alt = solveMinimaxRates(net, xbar, { start: { rE: new Float64Array(nE), rI: new Float64Array(nI) } });
      expect(maxAbsDiff(alt.rE, sol.rE)).toBeLessThan(1e-9 * Math.max(1, maxAbs(sol.rE)));
      expect(maxAbsDiff(alt.rI, sol.rI)).toBeLessThan(1e-9 * Math.max(1, maxAbs(sol.rI)));
    });
  });

  it('solves a monotone LCP: Lemke, the active-set path and projected gradient descent agree', () => {
    const u = rng(3);
    const n = 25;
    const B = Float64Array.from({ length: n * n }, () => u() - 0.5);
    const M = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) for (let k = 0; k < n; k++) M[i * n + j] += B[k * n + i] * B[k * n + j];
    for (let i = 0; i < n; i++) M[i * n + i] += 0.5;
    const q = Float64Array.from({ length: n }, () => u() - 0.5);
    const { solution } = solveLcp(M, q);
    const fromZero = solveLcp(M, q, { start: new Float64Array(n) }).solution!;
    expect(solution!.method).toBe('lemke');
    expect(fromZero.method).toBe('active-set');
    expect(maxAbsDiff(fromZero.z, solution!.z)).toBeLessThan(1e-12);
    for (let i = 0; i < n; i++) expect(Math.abs(solution!.z[i] * solution!.w[i])).toBeLessThan(1e-14);
    // M symmetric positive definite: the LCP is the KKT system of min 1/2 z'Mz + q'z over z >= 0.
    const L = symmetricEigenvalues(M, n)[n - 1];
    const z = new Float64Array(n);
    for (let it = 0; it < 20000; it++) {
      const g = Float64Array.from(q, (qi, i) => qi + z.reduce((s, v, j) => s + M[i * n + j] * v, 0));
      for (let i = 0; i < n; i++) z[i] = Math.max(0, z[i] - g[i] / L);
    }
    expect(maxAbsDiff(z, solution!.z)).toBeLessThan(1e-8);
  });

  it('names the bad field, and throws ConfigError when no KKT point exists', () => {
    expect(() => solveMinimaxRates(tiny(-1, 2, 2, 3), [1, 2])).toThrow(ParameterError);
    expect(() => solveMinimaxRates(tiny(-1, 2, 2, 3), [1, 2])).toThrow(/invalid xbar/);
    expect(() => solveMinimaxRates(tiny(-1, 2, 2, 3), [1], { start: { rE: [1, 2], rI: [0] } })).toThrow(/options.start/);
    // Self-excitation without inhibition: V_E = rE + 1 > 0 for every rE >= 0.
    const runaway = tiny(1, 0, 0, 1);
    expect(() => solveMinimaxRates(runaway, [1])).toThrow(ConfigError);
    expect(() => solveMinimaxRates(runaway, [1])).toThrow(/no KKT point.*Lemke/);
  });
});

describe('well-posedness and stability', () => {
  it('reports W_II and the reduced matrix, and asserts W_II > 0 naming the field', () => {
    const bad: MinimaxNetwork = {
      nE: 2, nI: 2, nIn: 2, wEE: Float64Array.of(-1, 0, 0, -1), wEI: Float64Array.of(1, 0, 0, 1), wIE: Float64Array.of(1, 0, 0, 1), wII: Float64Array.of(1, 2, 2, 1),
      F: Float64Array.of(1, 0, 0, 1),
    };
    const rep = checkMinimaxWellPosed(bad);
    expect(rep.wiiPositiveDefinite).toBe(false);
    expect(rep.minEigWII).toBeCloseTo(-1, 12);
    expect(rep.reducedPositiveDefinite).toBe(false);
    expect(rep.message).toMatch(/W_II is not positive definite/);
    expect(() => assertMinimaxWellPosed(bad, 'networks[3]')).toThrow(ParameterError);
    expect(() => assertMinimaxWellPosed(bad, 'networks[3]')).toThrow(/invalid networks\[3\]\.wII/);
    try {
      assertMinimaxWellPosed(bad, 'networks[3]');
    } catch (e) {
      expect((e as ParameterError).field).toBe('networks[3].wII');
      expect((e as ParameterError).hint).toMatch(/diagonal/);
    }
    const good = { ...bad, wII: Float64Array.of(3, 1, 1, 3) };
    expect(() => assertMinimaxWellPosed(good)).not.toThrow();
    // Reduced = W_II^-1 - W_EE = [[3, -1], [-1, 3]]/8 + I: eigenvalues 1/4 + 1 and 1/2 + 1.
    const ok = checkMinimaxWellPosed(good);
    expect(ok.minEigWII).toBeCloseTo(2, 12);
    expect(ok.minEigReduced).toBeCloseTo(1.25, 12);
    expect(ok.reducedPositiveDefinite).toBe(true);
  });

  it('stabilityAt: strict complementarity and the reduced Hessian of a KKT point', () => {
    const net = tiny(-1, 2, 2, 3);
    const st = stabilityAt(net, [7], [3], [2]);
    // Hessian b^2/c - W_EE = 4/3 + 1.
    expect(st.reducedHessianMinEig).toBeCloseTo(7 / 3, 12);
    expect(st.offSupportMarginE).toBe(Infinity);
    expect(st.stable).toBe(true);
    const silent = stabilityAt(net, [-7], [0], [0]);
    expect(silent.offSupportMarginE).toBe(7);
    expect(silent.offSupportMarginI).toBe(0);
    expect(silent.stable).toBe(false);
  });
});

describe('Fig. 1 tight-balance network', () => {
  it('is seeded, Dale-conform, well posed, and its KKT residual is below 1e-8', () => {
    const a = makeTightBalanceNetwork(0);
    const again = makeTightBalanceNetwork(0);
    const other = makeTightBalanceNetwork(1);
    expect(Array.from(again.network.wEE)).toEqual(Array.from(a.network.wEE));
    expect(Array.from(again.inputRates)).toEqual(Array.from(a.inputRates));
    expect(maxAbsDiff(other.network.F, a.network.F)).toBeGreaterThan(0.1);
    const { network: net, inputRates } = a;
    expect([net.nE, net.nI, net.nIn]).toEqual([20, 20, 20]);
    expect(a.dale.ok).toBe(true);
    for (let i = 0; i < 20; i++) {
      expect(net.wEE[i * 20 + i]).toBe(-1);
      expect(net.wII[i * 20 + i]).toBeGreaterThan(0);
      for (let j = 0; j < 20; j++) expect(net.wIE[j * 20 + i]).toBe(net.wEI[i * 20 + j]);
    }
    for (const r of inputRates) expect(r >= 0 && r < 150).toBe(true);
    const fMean = net.F.reduce((s, v) => s + v, 0) / net.F.length;
    expect(Math.abs(fMean - 0.1)).toBeLessThan(0.1);
    expect(a.a).toBeCloseTo(1 / (a.maxEigW0 + 1), 15);
    // W_EI is square and invertible, so the reduced matrix is (max eig W0 + 1) I - W_EE >= 2 I.
    const wp = checkMinimaxWellPosed(net);
    expect(wp.wiiPositiveDefinite && wp.reducedPositiveDefinite).toBe(true);
    expect(wp.minEigReduced).toBeGreaterThanOrEqual(2 - 1e-9);
    for (const seed of [0, 1, 2]) {
      const f = makeTightBalanceNetwork(seed);
      const sol = solveMinimaxRates(f.network, f.inputRates);
      expect(sol.residual).toBeLessThan(1e-8);
      expect(sol.supportE.length).toBeGreaterThan(5);
      expect(kktResidualAt(f.network, f.inputRates, sol.rE, sol.rI).residual).toBe(sol.residual);
    }
  });
});

describe('Fig. 2a decoder', () => {
  const dec = makeDecoderNetwork(0);
  const { network: net, H, beta } = dec;

  it('has the spec layout: H 10 x 60 scaled to std 1/NE, W_EE diagonal -beta, Dale, reduced matrix H^T H + beta I', () => {
    expect([net.nE, net.nI, net.nIn, dec.m, H.length, dec.inputs.length]).toEqual([60, 10, 10, 10, 600, 20]);
    const mean = H.reduce((s, v) => s + v, 0) / H.length;
    const std = Math.sqrt(H.reduce((s, v) => s + (v - mean) ** 2, 0) / (H.length - 1));
    expect(std).toBeCloseTo(1 / 60, 14);
    expect(beta).toBeCloseTo(1e-4, 18);
    for (let i = 0; i < 60; i++) expect(net.wEE[i * 60 + i]).toBeCloseTo(-beta, 18);
    expect(dec.dale.ok).toBe(true);
    for (const x of dec.inputs) for (const v of x) expect(v >= 0 && v < 50).toBe(true);
    const wp = checkMinimaxWellPosed(net);
    expect(wp.reducedPositiveDefinite).toBe(true);
    expect(wp.minEigReduced).toBeCloseTo(beta, 9);
  });

  it('reduces to the NNLS-ridge problem: solveMinimaxRates rE = decoderTarget, rI = |H| rE', () => {
    for (const x of dec.inputs) {
      const sol = solveMinimaxRates(net, x);
      const target = decoderTarget(H, beta, x);
      expect(maxAbsDiff(sol.rE, target)).toBeLessThan(1e-9 * maxAbs(target));
      for (let k = 0; k < 10; k++) {
        const drive = target.reduce((s, r, i) => s + Math.abs(H[k * 60 + i]) * r, 0);
        expect(sol.rI[k]).toBeCloseTo(drive, 8);
      }
      // The target's own optimality: r >= 0, gradient H^T(x - H r) - beta r <= 0, zero where r > 0.
      for (let i = 0; i < 60; i++) {
        let g = -beta * target[i];
        for (let k = 0; k < 10; k++) g += H[k * 60 + i] * (x[k] - H.subarray(k * 60, k * 60 + 60).reduce((s, h, j) => s + h * target[j], 0));
        expect(target[i]).toBeGreaterThanOrEqual(0);
        expect(g).toBeLessThan(1e-9);
        if (target[i] > 0) expect(Math.abs(g)).toBeLessThan(1e-9);
      }
    }
  });
});

describe('grid kernel wavelength', () => {
  it('the continuous closed form is the numeric maximum of the kernel transform', () => {
    for (const [lambda, alpha] of [[6, 1.1], [4, 1.05], [9, 1.3]]) {
      const pred = gridPredictedWavelength({ lambda, alpha });
      const { beta, gamma } = pred;
      const Khat = (k: number) => (alpha / gamma) * Math.exp((-k * k) / (4 * gamma)) - Math.exp((-k * k) / (4 * beta)) / beta;
      let best = 0;
      for (let k = 0; k < 5; k += 1e-4) if (Khat(k) > Khat(best)) best = k;
      // Golden-section refinement around the scan maximum.
      let lo = Math.max(0, best - 1e-4);
      let hi = best + 1e-4;
      for (let i = 0; i < 100; i++) {
        const m1 = hi - 0.618034 * (hi - lo);
        const m2 = lo + 0.618034 * (hi - lo);
        if (Khat(m1) > Khat(m2)) hi = m2;
        else lo = m1;
      }
      expect(pred.continuousK).toBeCloseTo((lo + hi) / 2, 6);
      expect(pred.continuousWavelengthSites).toBeCloseTo((2 * Math.PI) / pred.continuousK, 12);
    }
    expect(gridPredictedWavelength().continuousWavelengthSites).toBeCloseTo(8.5609, 3);
    // gamma^2 <= alpha beta^2: no interior peak.
    expect(gridPredictedWavelength({ alpha: 1.5 }).continuousWavelengthSites).toBe(Infinity);
  });

  it('the lattice peak is the brute-force 2-D DFT maximum of the kernel row (63 x 63)', () => {
    const pred = gridPredictedWavelength({ side: 63 });
    const p = gridKernelParams({ side: 63 });
    const side = 63;
    const row: number[] = [];
    const off: [number, number][] = [];
    for (let dy = -31; dy <= 31; dy++) {
      for (let dx = -31; dx <= 31; dx++) {
        row.push(gridKernel(p, dx * dx + dy * dy));
        off.push([dx, dy]);
      }
    }
    let best = -Infinity;
    const values = new Map<string, number>();
    for (let a = -31; a <= 31; a++) {
      for (let b = -31; b <= 31; b++) {
        let s = 0;
        for (let q = 0; q < row.length; q++) s += row[q] * Math.cos((2 * Math.PI * (a * off[q][0] + b * off[q][1])) / side);
        values.set(`${a},${b}`, s);
        best = Math.max(best, s);
      }
    }
    const argmax = [...values].filter(([, v]) => v >= best - 1e-9).map(([k]) => k).sort();
    expect(argmax).toEqual(pred.latticeWaveVectors.map(([a, b]) => `${a},${b}`).sort());
    expect(pred.kernelPeak).toBeCloseTo(best, 9);
    expect(pred.latticeWavelengthSites).toBeCloseTo(63 / Math.hypot(7, 2), 12);
    expect(pred.reducedMinEig).toBeCloseTo(1 - best, 9);
  });

  it('makeGridNetwork: Dale-tight W_EE, constant W_EI, its DFT peak and reduced spectrum match the prediction', () => {
    const side = 15;
    const g = makeGridNetwork({ side });
    const n = side * side;
    const net = g.network;
    expect(g.dale.ok).toBe(true);
    expect(g.dale.minOffDiagonalEE).toBe(0);
    expect(g.wIEValue).toBeCloseTo(Math.sqrt((201 * Math.abs(g.minK)) / n), 15);
    expect(net.wII[0]).toBe(201);
    expect(net.wEE[0]).toBeCloseTo(Math.abs(g.minK) + g.alpha - 1 - 1, 14);
    // Neuron 0's W_EE row over the sheet, k = 0 left out (it carries the uniform |min K| 11' term).
    const pred = gridPredictedWavelength({ side });
    let best = -Infinity;
    let arg = '';
    for (let a = 0; a < side; a++) {
      for (let b = 0; b < side; b++) {
        if (a === 0 && b === 0) continue;
        let s = 0;
        for (let j = 0; j < n; j++) s += net.wEE[j] * Math.cos((2 * Math.PI * (a * (j % side) + b * Math.floor(j / side))) / side);
        if (s > best + 1e-9) {
          best = s;
          arg = `${a > side / 2 ? a - side : a},${b > side / 2 ? b - side : b}`;
        }
      }
    }
    expect(pred.latticeWaveVectors.map(([a, b]) => `${a},${b}`)).toContain(arg);
    expect(best).toBeCloseTo(pred.kernelPeak - 1, 9);
    expect(checkMinimaxWellPosed(net).minEigReduced).toBeCloseTo(pred.reducedMinEig, 8);
  });
});

describe('Fig. 3 associative memory', () => {
  it('stores stable KKT points: residual < 1e-8, silent neurons below -margin, reduced Hessian > 0', () => {
    // The defaults, a design with unequal supports (8-12) and stronger weights, and 10 overlapping patterns.
    const cases: [number, Parameters<typeof makeMemoryNetwork>[1]][] = [[0, {}], [1, { supportJitter: 2, background: 1, margin: 0.5, level: 10 }], [4, { patterns: 10, maxOverlap: 3 }]];
    for (const [seed, opts] of cases) {
      const mem = makeMemoryNetwork(seed, opts);
      const net = mem.network;
      expect(mem.dale.ok).toBe(true);
      for (let i = 0; i < net.nE; i++) for (let j = 0; j < net.nE; j++) expect(net.wEE[i * net.nE + j]).toBe(net.wEE[j * net.nE + i]);
      expect(mem.design.equalityResidual).toBeLessThan(1e-12);
      expect(mem.design.minWeight).toBeGreaterThan(0);
      // Attractor networks break global convexity on purpose.
      expect(checkMinimaxWellPosed(net).reducedPositiveDefinite).toBe(false);
      mem.patterns.forEach((rE, mu) => {
        const kkt = kktResidualAt(net, mem.xbar, rE, mem.patternsI[mu]);
        const st = stabilityAt(net, mem.xbar, rE, mem.patternsI[mu]);
        expect(kkt.residual).toBeLessThan(1e-8);
        expect(st.stable).toBe(true);
        expect(st.supportE).toEqual(mem.supports[mu]);
        expect(st.offSupportMarginE).toBeGreaterThanOrEqual(mem.design.margin * mem.level - 1e-9);
        expect(st.reducedHessianMinEig).toBeGreaterThan(0.49);
        expect(mem.checks[mu].kktResidual).toBe(kkt.residual);
      });
      // A perturbed state is pulled back to the stored pattern by the active-set KKT search.
      const p0 = mem.patterns[0];
      const start = Float64Array.from(p0, (v, i) => v * 0.8 + (i % 9 === 0 ? 2 : 0));
      const back = solveMinimaxRates(net, mem.xbar, { start: { rE: start, rI: mem.patternsI[0] } });
      expect(maxAbsDiff(back.rE, p0)).toBeLessThan(1e-9);
    }
    // With 10 patterns the Hebbian start is infeasible and the projections did work.
    expect(makeMemoryNetwork(4, { patterns: 10, maxOverlap: 3 }).design.iterations).toBeGreaterThan(0);
  });

  it('makes seeded noisy cues and background rates in Hz', () => {
    const mem = makeMemoryNetwork(0);
    const bg = memoryBackgroundRates(mem, 0.5);
    expect(Array.from(new Set(bg))).toEqual([(mem.xbar[0]) / 0.5]);
    const { rates, cued } = memoryCueRates(mem, 2, { seed: 5 });
    const k = mem.supports[2].length;
    expect(cued.length).toBe(k - Math.round(0.3 * k) + 3);
    expect(cued.filter((i) => !mem.supports[2].includes(i)).length).toBe(3);
    rates.forEach((r, i) => expect(r).toBeCloseTo(cued.includes(i) ? mem.xbar[i] + mem.level : mem.xbar[i], 12));
    expect(memoryCueRates(mem, 2, { seed: 5 }).cued).toEqual(cued);
    expect(() => memoryCueRates(mem, 9)).toThrow(/invalid pattern/);
  });
});

describe('Fig. 4 ring', () => {
  it("follows the spec's weights and Dale's law up to |gamma| = sqrt((1 + 2 w0/w1)^2 - 1)", () => {
    const ring = makeRingNetwork({ gamma: 0.5 });
    const net = ring.network;
    const NE = 100;
    const c = Math.sqrt((3 * 3.2) / NE) / Math.sqrt(NE);
    expect(ring.wIEValue).toBeCloseTo(c, 15);
    expect(net.wII[0]).toBe(3);
    const j = 10;
    const k = 37;
    const d = ring.thetas[j] - ring.thetas[k];
    expect(net.wEE[j * NE + k]).toBeCloseTo((NE * c * c) / 3 + (2.7 * Math.cos(d) + 0.5 * 2.7 * Math.sin(d) + 0.5) / NE, 14);
    expect(net.wEE[j * NE + j]).toBeCloseTo(3.2 / NE + 3.2 / NE - 1, 14);
    expect(ring.gammaDaleLimit).toBeCloseTo(Math.sqrt((1 + 1 / 2.7) ** 2 - 1), 14);
    for (const gamma of [0, 0.5, 0.9]) expect(makeRingNetwork({ gamma }).dale.ok).toBe(true);
    for (const gamma of [1, 2, -2]) {
      const bad = makeRingNetwork({ gamma });
      expect(bad.dale.ok).toBe(false);
      expect(bad.dale.message).toMatch(/violated/);
      expect(bad.dale.minOffDiagonalEE).toBeLessThan(0);
    }
    expect(checkDale(net).ok).toBe(true);
    // Reduced matrix I - (1/NE)[w1 cos + w0] (the sine part is antisymmetric): min eigenvalue 1 - w1/2.
    expect(checkMinimaxWellPosed(net).minEigReduced).toBeCloseTo(1 - 2.7 / 2, 10);
  });

  it('a cue gives a stable bump at the cue angle on the 200-neuron problem', () => {
    const cue = ringCueRates(Math.PI / 2);
    expect(cue.length).toBe(100);
    expect(cue[25]).toBeCloseTo(15, 12);
    expect(cue[75]).toBeCloseTo(5, 12);
    const ring = makeRingNetwork();
    const x = cue.map((r) => r * 0.1);
    const t0 = performance.now();
    const sol = solveMinimaxRates(ring.network, x);
    expect(performance.now() - t0).toBeLessThan(5000);
    expect(sol.residual).toBeLessThan(1e-10);
    let peak = 0;
    sol.rE.forEach((r, i) => r > sol.rE[peak] && (peak = i));
    expect(Math.abs(peak - 25)).toBeLessThanOrEqual(1);
    expect(sol.supportE.length).toBeLessThan(100);
    expect(stabilityAt(ring.network, x, sol.rE, sol.rI).stable).toBe(true);
  });
});
