// Annealed and exact all-to-all Markov chains of the binary E-I network (a reconstruction from the abstract of
// Agrawal et al., arXiv 1804.05266; see docs/models/binary-entropy.md), entropy and robustness helpers.
import { describe, expect, it } from 'vitest';
import { ParameterError } from '../src/errors.ts';
import { binomialLogPmf } from '../src/analysis/stats.ts';
import {
  activationProbability,
  annealedChain,
  boundaryW,
  entropyBits,
  exactAllToAllChain,
  lambdaOf,
  robustness,
  type BinaryChainParams,
} from '../src/models/binary/chain.ts';

/** WE = WI = W chosen so that lambda = (1 - 2 alpha) W hits the target. */
function atLambda(lambda: number, base: Omit<BinaryChainParams, 'WE' | 'WI'>): BinaryChainParams {
  const W = lambda / (1 - 2 * base.alpha);
  return { ...base, WE: W, WI: W };
}

describe('lambda and the WE = WI boundary', () => {
  it('lambda = (1 - alpha) WE - alpha WI and W* = 1 / (1 - 2 alpha) puts lambda at 1', () => {
    expect(lambdaOf({ alpha: 0.2, WE: 2, WI: 3 })).toBeCloseTo(1.6 - 0.6, 15);
    for (const a of [0, 0.1, 0.2, 0.4]) {
      const W = boundaryW(a);
      expect(lambdaOf({ alpha: a, WE: W, WI: W })).toBeCloseTo(1, 14);
    }
    expect(() => boundaryW(0.5)).toThrow(ParameterError);
  });
});

describe('activationProbability', () => {
  const base = { N: 200, k: 50, alpha: 0.2, p0: 1e-3 };
  it('equals p0 at S = 0 and stays in [p0, 1]', () => {
    for (const W of [0.5, 1.7, 5]) {
      const p = { ...base, WE: W, WI: W };
      expect(activationProbability(p, 0)).toBe(1e-3);
      for (const S of [0.1, 0.5, 1]) {
        const v = activationProbability(p, S);
        expect(v).toBeGreaterThanOrEqual(1e-3);
        expect(v).toBeLessThanOrEqual(1);
      }
    }
  });
  it('is monotone in S without inhibition', () => {
    const p = { ...base, WE: 3, WI: 0 };
    let prev = -1;
    for (let i = 0; i <= 100; i++) {
      const v = activationProbability(p, i / 100);
      expect(v).toBeGreaterThanOrEqual(prev - 1e-15);
      prev = v;
    }
  });
  it('is exact in the linear regime and stable for k = 1000', () => {
    // WI = 0, WE <= 1: x = WE a / k in [0, 1], so p(S) = p0 + (1 - p0) WE kE S / k exactly.
    const p = { N: 2000, k: 1000, alpha: 0.2, WE: 0.9, WI: 0, p0: 1e-3 };
    for (const S of [1e-4, 0.01, 0.3, 0.77, 0.999]) {
      const expected = 1e-3 + (1 - 1e-3) * (0.9 * 800 * S) / 1000;
      expect(activationProbability(p, S)).toBeCloseTo(expected, 12);
    }
    const q = { N: 2000, k: 1000, alpha: 0.2, WE: 2, WI: 2.5, p0: 1e-3 };
    const v = activationProbability(q, 0.4);
    expect(Number.isFinite(v) && v >= 1e-3 && v <= 1).toBe(true);
  });
  it('rejects bad input with ParameterError', () => {
    expect(() => activationProbability({ ...base, WE: 1, WI: 1 }, 1.5)).toThrow(ParameterError);
    expect(() => activationProbability({ ...base, alpha: 1, WE: 1, WI: 1 }, 0.5)).toThrow(ParameterError);
    expect(() => annealedChain({ ...base, N: 0, WE: 1, WI: 1 })).toThrow(ParameterError);
    expect(() => exactAllToAllChain({ ...base, N: 100, WE: 1, WI: 1 })).toThrow(ParameterError);
  });
});

describe('annealedChain', () => {
  const base = { N: 200, k: 50, alpha: 0.2, p0: 1e-3 };

  it('pi sums to 1 and is stationary for an independently built T to 1e-12', () => {
    const p = atLambda(0.9, { N: 100, k: 30, alpha: 0.2, p0: 1e-3 });
    const r = annealedChain(p);
    expect(r.method).toBe('gth');
    let sum = 0;
    for (const v of r.pi) sum += v;
    expect(Math.abs(sum - 1)).toBeLessThan(1e-13);
    const N = p.N;
    const piT = new Float64Array(N + 1);
    for (let m = 0; m <= N; m++) {
      const q = activationProbability(p, m / N);
      for (let j = 0; j <= N; j++) piT[j] += r.pi[m]! * Math.exp(binomialLogPmf(j, N, q));
    }
    let res = 0;
    for (let j = 0; j <= N; j++) res += Math.abs(piT[j]! - r.pi[j]!);
    expect(res).toBeLessThan(1e-12);
    expect(r.residual).toBeLessThan(1e-12);
  });

  it('is quiet deep in the inhibition-dominant regime: H small, activity ~ p0', () => {
    const r = annealedChain(atLambda(0.1, { ...base, p0: 1e-4 }));
    expect(r.entropyBits).toBeLessThan(0.3);
    // mean field: S* = p0 / (1 - lambda (1 - p0))
    expect(r.meanActivity).toBeGreaterThan(1e-4);
    expect(r.meanActivity).toBeLessThan(1.3e-4);
  });

  it('entropy peaks just below lambda = 1 and the saturated state absorbs above it', () => {
    const curve = [0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.98, 1.05, 1.2].map((lambda) => ({ lambda, H: annealedChain(atLambda(lambda, base)).entropyBits }));
    const rb = robustness(curve);
    expect(rb.peakLambda).toBeGreaterThanOrEqual(0.9);
    expect(rb.peakLambda).toBeLessThan(1);
    expect(rb.peakH).toBeGreaterThan(4);
    expect(rb.peakH).toBeLessThanOrEqual(Math.log2(base.N + 1));
    const above = annealedChain(atLambda(1.2, base));
    expect(above.entropyBits).toBe(0);
    expect(above.meanActivity).toBe(1);
  });

  it('GTH agrees with power iteration where both converge', () => {
    for (const lambda of [0.4, 0.8]) {
      const p = atLambda(lambda, base);
      const g = annealedChain(p, { method: 'gth' });
      const w = annealedChain(p, { method: 'power' });
      expect(w.method).toBe('power');
      let d = 0;
      for (let m = 0; m <= base.N; m++) d = Math.max(d, Math.abs(g.pi[m]! - w.pi[m]!));
      expect(d).toBeLessThan(1e-10);
      expect(w.entropyBits).toBeCloseTo(g.entropyBits, 9);
    }
  });

  it('uses power iteration above N = 1500', () => {
    const r = annealedChain(atLambda(0.3, { N: 1600, k: 20, alpha: 0.2, p0: 1e-2 }));
    expect(r.method).toBe('power');
    expect(r.residual).toBeLessThan(1e-12);
  });
});

describe('exactAllToAllChain', () => {
  it('agrees with the annealed chain on mean activity for weak synapses, entropy within [0, log2(N+1)]', () => {
    for (const W of [0.3, 0.5]) {
      const p = { N: 40, k: 39, alpha: 0.25, WE: W, WI: W, p0: 0.05 };
      const ex = exactAllToAllChain(p);
      const an = annealedChain(p);
      let sum = 0;
      for (const v of ex.pi) sum += v;
      expect(Math.abs(sum - 1)).toBeLessThan(1e-12);
      expect(ex.NE + ex.NI).toBe(40);
      // tolerance: 3 % relative (self-exclusion and clipping differ between the two chains)
      expect(Math.abs(ex.meanActivity - an.meanActivity) / an.meanActivity).toBeLessThan(0.03);
      expect(ex.entropyBitsOfCount).toBeGreaterThan(0);
      expect(ex.entropyBitsOfCount).toBeLessThanOrEqual(Math.log2(41));
    }
  });
});

describe('entropyBits and robustness', () => {
  it('entropy of uniform and point masses', () => {
    expect(entropyBits([0.25, 0.25, 0.25, 0.25])).toBeCloseTo(2, 15);
    expect(entropyBits([0, 1, 0])).toBe(0);
  });
  it('widths of a triangle curve by linear interpolation', () => {
    // H = 1 - |lambda - 1| / 0.5 (clipped at 0): H >= 0.5 on [0.75, 1.25], H >= 0.9 on [0.95, 1.05]
    const curve = [];
    for (let i = 0; i <= 24; i++) {
      const lambda = 0.4 + 0.05 * i;
      curve.push({ lambda, H: Math.max(0, 1 - Math.abs(lambda - 1) / 0.5) });
    }
    const r = robustness(curve.reverse());
    expect(r.peakLambda).toBeCloseTo(1, 12);
    expect(r.peakH).toBeCloseTo(1, 12);
    expect(r.width50).toBeCloseTo(0.5, 12);
    expect(r.width90).toBeCloseTo(0.1, 12);
    // clipped at the end of the curve when H never falls below the level
    expect(robustness([{ lambda: 0, H: 1 }, { lambda: 1, H: 0.8 }]).width50).toBe(1);
    expect(() => robustness([])).toThrow(ParameterError);
  });
});
