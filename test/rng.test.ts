// Unit tier for src/rng: Philox known answers, counter layout, seed mapping, detmath accuracy in f64, sampler edge cases and CPU goodness-of-fit.
import { describe, expect, it } from 'vitest';
import {
  detCos2Pi,
  detExp,
  detLog,
  detLog1p,
  detLogistic,
  detNormalCdf,
  detRecip,
  detSqrt,
  f32Bits,
  mulHi32,
  philox4x32_10,
  rngBernoulli,
  rngBinomial,
  rngCreate,
  rngNextU32,
  rngNormal,
  rngPoisson,
  rngReset,
  rngUniform,
  seedToKey,
} from '../src/rng/index.ts';
import { binomialLogPmf, discreteChiSquareTest, ksTest, momentZScores, normalCdf, poissonLogPmf } from '../src/analysis/stats.ts';
import { ParameterError } from '../src/errors.ts';

const hex = (w: ArrayLike<number>) => Array.from(w, (v) => v.toString(16).padStart(8, '0')).join(' ');
const f = Math.fround;

/** Grid of f32 values between lo and hi (inclusive), evenly spaced in value or in log. */
function grid(lo: number, hi: number, n: number, log = false): number[] {
  const out: number[] = [];
  for (let i = 0; i <= n; i++) {
    const t = i / n;
    out.push(f(log ? lo * (hi / lo) ** t : lo + (hi - lo) * t));
  }
  return out;
}

function maxRelError(xs: number[], got: (x: number) => number, want: (x: number) => number): number {
  let m = 0;
  for (const x of xs) {
    const w = want(x);
    m = Math.max(m, Math.abs(got(x) - w) / Math.abs(w));
  }
  return m;
}

describe('Philox4x32-10', () => {
  it('matches the Random123 known-answer vectors', () => {
    expect(hex(philox4x32_10([0, 0, 0, 0], [0, 0]))).toBe('6627e8d5 e169c58d bc57ac4c 9b00dbd8');
    expect(hex(philox4x32_10([0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff]))).toBe('408f276d 41c83b0e a20bc7c6 6d5451fd');
    expect(hex(philox4x32_10(new Uint32Array([0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344]), new Uint32Array([0xa4093822, 0x299f31d0])))).toBe(
      'd16cfe09 94fdcceb 5001e420 24126ea1',
    );
  });

  it('mulHi32 equals the BigInt high word', () => {
    const cases = [[0, 0], [0xffffffff, 0xffffffff], [0xd2511f53, 0x243f6a88], [0xcd9e8d57, 1], [65536, 65536], [0x80000000, 2]];
    let s = 12345;
    for (let i = 0; i < 2000; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const a = s;
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      cases.push([a, s]);
    }
    for (const [a, b] of cases) expect(mulHi32(a, b)).toBe(Number((BigInt(a) * BigInt(b)) >> 32n));
  });

  it('uses the counter (neuron, instance, step, stream << 16 | block) and the seed as key', () => {
    const seed: [number, number] = [0xdeadbeef, 7];
    const r = rngCreate(seed, 5, 1234, 9, 42);
    const words: number[] = [];
    for (let i = 0; i < 12; i++) words.push(rngNextU32(r));
    const expected = [0, 1, 2].flatMap((block) => [...philox4x32_10([42, 9, 1234, (5 << 16) | block], seed)]);
    expect(words).toEqual(expected);
    expect(r.ctr[3]).toBe((5 << 16) | 3);
    // rngReset gives the same stream without allocating.
    rngReset(r, seed, 5, 1234, 9, 42);
    expect(rngNextU32(r)).toBe(expected[0]);
  });

  it('rejects streams that do not fit 16 bits and non-u32 counters', () => {
    expect(() => rngCreate([0, 0], 65536, 0, 0, 0)).toThrow(ParameterError);
    expect(() => rngCreate([0, 0], 0, -1, 0, 0)).toThrow(ParameterError);
    expect(() => rngCreate([0, 0], 0, 0, 0, 2 ** 32)).toThrow(ParameterError);
  });

  it('maps seeds to keys as low and high 32-bit words', () => {
    expect(seedToKey(0)).toEqual([0, 0]);
    expect(seedToKey(1)).toEqual([1, 0]);
    expect(seedToKey(2 ** 32 + 5)).toEqual([5, 1]);
    expect(seedToKey(Number.MAX_SAFE_INTEGER)).toEqual([0xffffffff, 0x1fffff]);
    expect(seedToKey(0xffffffffffffffffn)).toEqual([0xffffffff, 0xffffffff]);
    expect(seedToKey('4294967301')).toEqual([5, 1]);
    expect(seedToKey('0x100000005')).toEqual([5, 1]);
    expect(() => seedToKey(-1)).toThrow(ParameterError);
    expect(() => seedToKey(1.5)).toThrow(ParameterError);
    expect(() => seedToKey(2 ** 53)).toThrow(ParameterError);
    expect(() => seedToKey('seven')).toThrow(ParameterError);
    expect(() => seedToKey(1n << 64n)).toThrow(ParameterError);
  });
});

describe('detmath accuracy (f64 reference)', () => {
  it('detExp: relative error < 4e-7 on [-86.9, 88.7]', () => {
    expect(maxRelError(grid(-86.9, 88.7, 200_000), detExp, Math.exp)).toBeLessThan(4e-7);
    expect(detExp(-88)).toBe(0);
    expect(detExp(0)).toBe(1);
    expect(detExp(200)).toBe(f(3.4028234663852886e38));
  });

  it('detLog and detLog1p: relative error < 4e-7, including next to 1 and for tiny arguments', () => {
    const xs = grid(1.2e-38, 3e38, 200_000, true);
    expect(maxRelError(xs.filter((x) => x !== 1), detLog, Math.log)).toBeLessThan(4e-7);
    const near1 = grid(0.999, 1.001, 20_000).filter((x) => x !== 1);
    expect(maxRelError(near1, detLog, Math.log)).toBeLessThan(4e-7);
    const p = [...grid(-0.999, 10, 50_000), ...grid(1e-12, 0.5, 20_000, true).flatMap((x) => [x, -x])];
    expect(maxRelError(p.filter((x) => x !== 0), detLog1p, Math.log1p)).toBeLessThan(4e-7);
    expect(detLog(0)).toBe(-f(3.4028234663852886e38));
    expect(detLog(1)).toBe(0);
  });

  it('detRecip and detSqrt: relative error < 2.5e-7', () => {
    const xs = grid(2.4e-38, 4e37, 200_000, true);
    expect(maxRelError(xs, detRecip, (x) => 1 / x)).toBeLessThan(2.5e-7);
    expect(maxRelError(xs.map((x) => -x), detRecip, (x) => 1 / x)).toBeLessThan(2.5e-7);
    expect(maxRelError(grid(2.4e-38, 3e38, 200_000, true), detSqrt, Math.sqrt)).toBeLessThan(2.5e-7);
    expect(detSqrt(0)).toBe(0);
    expect(detSqrt(-4)).toBe(0);
  });

  it('detNormalCdf: absolute error < 1e-6 over the real line; detLogistic relative error < 4e-7', () => {
    let worst = 0;
    for (const x of grid(-40, 40, 400_000)) worst = Math.max(worst, Math.abs(detNormalCdf(x) - normalCdf(x)));
    expect(worst).toBeLessThan(1e-6);
    expect(detNormalCdf(-1e30)).toBe(0);
    expect(detNormalCdf(1e30)).toBe(1);
    expect(maxRelError(grid(-80, 80, 200_000), detLogistic, (x) => 1 / (1 + Math.exp(-x)))).toBeLessThan(4e-7);
    expect(detLogistic(-200)).toBe(0);
  });

  it('detCos2Pi: absolute error < 2e-7 on [0, 1]', () => {
    let worst = 0;
    for (const u of grid(0, 1, 200_000)) worst = Math.max(worst, Math.abs(detCos2Pi(u) - Math.cos(2 * Math.PI * u)));
    expect(worst).toBeLessThan(2e-7);
  });
});

describe('samplers', () => {
  it('uniforms are exact odd multiples of 2^-24 strictly inside (0,1)', () => {
    const r = rngCreate([1, 2], 0, 0, 0, 0);
    for (let i = 0; i < 10_000; i++) {
      const u = rngUniform(r);
      expect(f(u)).toBe(u);
      const j = u * 2 ** 24;
      expect(Number.isInteger(j) && j % 2 === 1).toBe(true);
    }
    // The extremes of the map: word 0 -> 2^-24, word 0xffffffff -> 1 - 2^-24.
    const lo = { key: new Uint32Array(2), ctr: new Uint32Array(4), buf: new Uint32Array([0, 0xffffffff, 0, 0]), used: 0 };
    expect(rngUniform(lo)).toBe(2 ** -24);
    expect(rngUniform(lo)).toBe(1 - 2 ** -24);
  });

  it('edge parameters: mean <= 0 uses no word, Bernoulli always uses one, binomial limits and reflection', () => {
    const r = rngCreate([3, 4], 1, 2, 3, 4);
    expect(rngPoisson(r, 0)).toBe(0);
    expect(rngPoisson(r, -5)).toBe(0);
    expect(r.used).toBe(4); // nothing drawn yet
    expect(rngBernoulli(r, 0)).toBe(0);
    expect(rngBernoulli(r, 1)).toBe(1);
    expect(rngBernoulli(r, -1)).toBe(0);
    expect(r.used).toBe(3);
    expect(rngBinomial(r, 0, 0.5)).toBe(0);
    expect(rngBinomial(r, 17, 0)).toBe(0);
    expect(rngBinomial(r, 17, 1)).toBe(17);
    // Binomial(n, p) and n - Binomial(n, 1 - p) are the same draw (p > 1/2 is reflected).
    for (const [n, p] of [[30, 0.75], [1000, 0.875], [5, 0.625]]) {
      const a = rngCreate([9, 9], 0, 0, 0, n);
      const b = rngCreate([9, 9], 0, 0, 0, n);
      expect(rngBinomial(a, n, p)).toBe(n - rngBinomial(b, n, 1 - p));
    }
    expect(() => rngPoisson(r, 2e7)).toThrow(ParameterError);
    expect(() => rngPoisson(r, NaN)).toThrow(ParameterError);
    expect(() => rngBinomial(r, 1.5, 0.5)).toThrow(ParameterError);
    expect(() => rngBinomial(r, 10, NaN)).toThrow(ParameterError);
  });

  // CPU goodness-of-fit at points the GPU test does not cover (significance 1e-3 each, fixed seed).
  it('Poisson and binomial pass chi-square at extra points, including mean 1e7', () => {
    const n = 40_000;
    for (const mean of [0.001, 2, 9.5, 12, 250, 1e7]) {
      const x = new Float64Array(n);
      for (let i = 0; i < n; i++) x[i] = rngPoisson(rngCreate([77, 0], 2, 5, 1, i), mean);
      const lam = f(mean);
      const sd = Math.sqrt(lam);
      const r = discreteChiSquareTest(x, (k) => poissonLogPmf(k, lam), Math.max(0, Math.floor(lam - 8 * sd)), Math.ceil(lam + 8 * sd + 20), { minExpected: 10 });
      expect(r.pValue, `Poisson(${mean})`).toBeGreaterThan(1e-3);
      const m = momentZScores(x, lam, lam, lam * (1 + 3 * lam));
      expect(Math.abs(m.zMean)).toBeLessThan(5);
      expect(Math.abs(m.zVariance)).toBeLessThan(5);
    }
    for (const [nn, p] of [[3, 0.5], [40, 0.25], [16_000_000, 0.3]] as const) {
      const x = new Float64Array(n);
      for (let i = 0; i < n; i++) x[i] = rngBinomial(rngCreate([78, 0], 2, 5, 1, i), nn, p);
      const pf = f(p);
      const mu = nn * pf;
      const sd = Math.sqrt(mu * (1 - pf));
      const r = discreteChiSquareTest(x, (k) => binomialLogPmf(k, nn, pf), Math.max(0, Math.floor(mu - 8 * sd)), Math.min(nn, Math.ceil(mu + 8 * sd)), { minExpected: 10 });
      expect(r.pValue, `Binomial(${nn}, ${p})`).toBeGreaterThan(1e-3);
    }
  });

  it('normals pass KS; streams and neighbouring counters are uncorrelated', () => {
    const n = 50_000;
    const z = new Float64Array(n);
    const a = new Float64Array(n);
    const b = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      z[i] = rngNormal(rngCreate([5, 6], 0, 0, 0, i));
      a[i] = rngUniform(rngCreate([5, 6], 0, 0, 0, i));
      b[i] = rngUniform(rngCreate([5, 6], 1, 0, 0, i));
    }
    expect(ksTest(z, normalCdf).pValue).toBeGreaterThan(1e-3);
    // Correlation of independent uniforms has sd 1/sqrt(n): 5 sd bounds.
    let sab = 0;
    let sneighbour = 0;
    for (let i = 0; i < n; i++) {
      sab += (a[i] - 0.5) * (b[i] - 0.5);
      if (i > 0) sneighbour += (a[i] - 0.5) * (a[i - 1] - 0.5);
    }
    expect(Math.abs((sab / n) * 12)).toBeLessThan(5 / Math.sqrt(n));
    expect(Math.abs((sneighbour / n) * 12)).toBeLessThan(5 / Math.sqrt(n));
  });

  it('the same counter always gives the same draws, whatever was drawn elsewhere', () => {
    const one = rngPoisson(rngCreate([1, 1], 0, 3, 2, 100), 55.5);
    for (let i = 0; i < 50; i++) rngPoisson(rngCreate([1, 1], 0, 3, 2, i), 55.5);
    expect(rngPoisson(rngCreate([1, 1], 0, 3, 2, 100), 55.5)).toBe(one);
    expect(f32Bits(rngNormal(rngCreate([1, 1], 0, 3, 2, 100)))).toBe(f32Bits(rngNormal(rngCreate([1, 1], 0, 3, 2, 100))));
  });
});
