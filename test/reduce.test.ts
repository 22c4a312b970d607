// Unit tests (no GPU) for the reduction CPU references, plus a TS mirror of the GPU's f32 moments tree at N = 1e8.
import { describe, expect, it } from 'vitest';
import { moments, sumU32 } from '../src/analysis/moments.ts';
import { binF32, histogram, histogramF32, makeF32Binning } from '../src/analysis/histogram.ts';
import { entropyBits, entropyBitsBatch } from '../src/analysis/entropy.ts';
import { ParameterError } from '../src/errors.ts';

/** Deterministic uniform in [0, 1) (mulberry32): fixed seeds, no Math.random. */
export function makeUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Standard normals by Box-Muller on the generator above. */
export function makeNormal(seed: number): () => number {
  const u = makeUniform(seed);
  let spare: number | null = null;
  return () => {
    if (spare !== null) {
      const s = spare;
      spare = null;
      return s;
    }
    const r = Math.sqrt(-2 * Math.log(1 - u()));
    const a = 2 * Math.PI * u();
    spare = r * Math.sin(a);
    return r * Math.cos(a);
  };
}

/**
 * Operation-for-operation f32 mirror of reduceMomentsPartials / mergeMomentPartials / finalizeMoments
 * in shaders/common/reduce.wgsl for one instance, streaming values from `next` (which must return
 * f32 values). It exists to prove the algorithm's accuracy at sizes SwiftShader cannot run in CI.
 */
function mirrorMomentsF32(next: () => number, n: number, wg: number, itemsPerThread: number): { mean: number; variance: number } {
  const f = Math.fround;
  type M = [count: number, mean: number, m2: number];
  const merge = (a: M, b: M): M => {
    if (b[0] === 0) return a;
    if (a[0] === 0) return b;
    const count = a[0] + b[0];
    const wb = f(f(b[0]) / f(count));
    const delta = f(b[1] - a[1]);
    return [count, f(a[1] + f(delta * wb)), f(f(a[2] + b[2]) + f(f(f(delta * delta) * f(a[0])) * wb))];
  };
  const tree = (items: M[]): M => {
    for (let stride = wg >> 1; stride > 0; stride >>= 1) for (let l = 0; l < stride; l++) items[l] = merge(items[l], items[l + stride]);
    return items[0];
  };
  const chunk = wg * itemsPerThread;
  const chunks = Math.ceil(n / chunk);
  let shift = NaN;
  let level: M[] = [];
  const acc: M[] = Array.from({ length: wg }, (): M => [0, 0, 0]);
  const buf = new Float64Array(chunk);
  for (let c = 0; c < chunks; c++) {
    const len = Math.min(chunk, n - c * chunk);
    for (let i = 0; i < len; i++) buf[i] = next();
    if (c === 0) shift = buf[0];
    for (let l = 0; l < wg; l++) {
      let cnt = 0;
      let mean = 0;
      let m2 = 0;
      for (let i = l; i < len; i += wg) {
        const y = f(buf[i] - shift);
        cnt++;
        const d = f(y - mean);
        mean = f(mean + f(d / f(cnt)));
        m2 = f(m2 + f(d * f(y - mean)));
      }
      acc[l] = [cnt, mean, m2];
    }
    level.push(tree(acc.slice()));
  }
  while (level.length > 1) {
    const next: M[] = [];
    for (let begin = 0; begin < level.length; begin += chunk) {
      const end = Math.min(begin + chunk, level.length);
      const items: M[] = [];
      for (let l = 0; l < wg; l++) {
        let a: M = [0, 0, 0];
        for (let i = begin + l; i < end; i += wg) a = merge(a, level[i]);
        items.push(a);
      }
      next.push(tree(items));
    }
    level = next;
  }
  const [count, meanY, m2] = level[0];
  return { mean: f(shift + meanY), variance: f(m2 / f(count)) };
}

describe('moments reference', () => {
  it('matches hand-computed values per instance', () => {
    const r = moments([1, 2, 3, 4, 10, 10, 10, 10], 2, 4);
    expect(r.count).toBe(4);
    expect([...r.mean]).toEqual([2.5, 10]);
    expect([...r.variance]).toEqual([1.25, 0]);
    expect([...r.sum]).toEqual([10, 40]);
  });

  it('keeps full precision under a large common offset', () => {
    // 1e9 + {0, 1, 2, 3}: a one-pass sum-of-squares formula would lose every digit here.
    const r = moments([1e9, 1e9 + 1, 1e9 + 2, 1e9 + 3], 1, 4);
    expect(r.mean[0]).toBe(1e9 + 1.5);
    expect(r.variance[0]).toBe(1.25);
  });

  it('honours the element offset', () => {
    const r = moments([99, 99, 1, 3, 5, 7], 2, 2, 2);
    expect([...r.mean]).toEqual([2, 6]);
  });

  it('rejects bad shapes with ParameterError naming the field', () => {
    expect(() => moments([1, 2], 1, 0)).toThrow(ParameterError);
    expect(() => moments([1, 2], 0, 1)).toThrow(/invalid batch/);
    expect(() => moments([1, 2, 3], 2, 2)).toThrow(/invalid values: holds 3 values/);
    expect(() => moments([1, 2], 1, 1.5)).toThrow(/invalid n/);
  });
});

describe('sumU32 reference', () => {
  it('is exact past 2^32 and 2^53', () => {
    const big = new Uint32Array(3 << 20).fill(0xffffffff);
    const [s] = sumU32(big, 1, big.length);
    expect(s).toBe(BigInt(big.length) * 0xffffffffn);
    expect(s > 2n ** 53n).toBe(true);
    expect([...sumU32([1, 2, 3, 4], 2, 2)]).toEqual([3n, 7n]);
  });

  it('rejects values that are not u32', () => {
    expect(() => sumU32([1, -1], 1, 2)).toThrow(ParameterError);
    expect(() => sumU32([2 ** 32], 1, 1)).toThrow(/not a u32/);
  });
});

describe('histogram references', () => {
  it('clamps values >= bins into the last bin', () => {
    const h = histogram([0, 1, 2, 3, 9, 0xffffffff, 1, 1], 2, 4, 3);
    expect([...h]).toEqual([1, 1, 2, /* instance 1 */ 0, 2, 2]);
  });

  it('bins f32 values with closed last bin and clamped tails', () => {
    // [0, 1] in 4 bins: edges 0, .25, .5, .75, 1; below 0 -> bin 0, 1 and above -> bin 3.
    const h = histogramF32([-5, 0, 0.25, 0.2499, 0.5, 0.75, 0.99, 1, 7], 1, 9, 4, 0, 1);
    expect([...h]).toEqual([3, 1, 1, 4]);
  });

  it('uses f32 arithmetic, not f64, at edges', () => {
    // f32 values a few ulps around each edge of [-3, 3] in 100 bins: evaluating the same formula
    // in f64 puts some of them in another bin, so the reference must round like the GPU does.
    const b = makeF32Binning(100, -3, 3);
    const bits = new Uint32Array(1);
    const asF32 = new Float32Array(bits.buffer);
    let disagreements = 0;
    for (let k = 1; k < 100; k++) {
      asF32[0] = b.min + k / b.scale;
      const center = bits[0];
      for (let d = -3; d <= 3; d++) {
        bits[0] = center + d;
        const x = asF32[0];
        const t = Math.fround(Math.fround(x - b.min) * b.scale);
        expect(binF32(x, b)).toBe(Math.min(99, Math.max(0, Math.floor(t))));
        if (binF32(x, b) !== Math.min(99, Math.max(0, Math.floor((x - b.min) * b.scale)))) disagreements++;
      }
    }
    expect(disagreements).toBeGreaterThan(0);
  });

  it('rejects bad bins and ranges', () => {
    expect(() => histogram([1], 1, 1, 0)).toThrow(/invalid bins/);
    expect(() => histogramF32([1], 1, 1, 4, 1, 1)).toThrow(/invalid min\/max/);
    expect(() => histogramF32([1], 1, 1, 4, 0, Infinity)).toThrow(ParameterError);
  });
});

describe('entropy reference', () => {
  it('is log2 k for a uniform histogram over k bins', () => {
    for (const k of [1, 2, 3, 8, 1000]) expect(entropyBits(new Array(k).fill(17))).toBeCloseTo(Math.log2(k), 12);
  });

  it('is 0 for a delta and H(p) for a two-point distribution', () => {
    expect(entropyBits([0, 0, 42, 0])).toBe(0);
    const p = 0.1;
    expect(entropyBits([1, 0, 9])).toBeCloseTo(-p * Math.log2(p) - (1 - p) * Math.log2(1 - p), 14);
  });

  it('batches instance-major histograms and refuses empty ones', () => {
    const h = entropyBitsBatch([1, 1, 0, 0, 0, 5, 0, 0, 1, 1, 1, 1], 3, 4);
    expect(h[0]).toBeCloseTo(1, 14);
    expect(h[1]).toBe(0);
    expect(h[2]).toBeCloseTo(2, 14);
    expect(() => entropyBits([0, 0])).toThrow(/histogram is empty/);
    expect(() => entropyBits([1, -1])).toThrow(ParameterError);
  });
});

describe('f32 moments tree (mirror of shaders/common/reduce.wgsl)', () => {
  // The GPU test runs N = 1e7 on SwiftShader; N = 1e8 is proven here on the same f32 algorithm
  // (SwiftShader would need minutes). Tolerances are those promised by the reducer.
  for (const n of [1e6, 1e8]) {
    it(`mean within 1e-6 and variance within 1e-5 (relative) at N = ${n.toExponential()} with offset 1e4`, () => {
      const normal = makeNormal(12345);
      // f64 reference accumulated alongside (on the same f32-rounded values), shifted by the exact offset.
      let s = 0;
      let q = 0;
      const next = () => {
        const x = Math.fround(1e4 + normal());
        const d = x - 1e4;
        s += d;
        q += d * d;
        return x;
      };
      const got = mirrorMomentsF32(next, n, 256, 16);
      const meanRef = 1e4 + s / n;
      const varRef = q / n - (s / n) ** 2;
      expect(Math.abs(got.mean - meanRef) / meanRef).toBeLessThan(1e-6);
      expect(Math.abs(got.variance - varRef) / varRef).toBeLessThan(1e-5);
    }, 120_000);
  }
});
