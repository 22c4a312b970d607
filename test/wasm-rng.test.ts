// The wasm RNG, samplers and deterministic f32 math (src/wasm/assembly) equal the TypeScript mirrors in src/rng bit
// for bit: the same Philox words, the same sampled integers, the same f32 bits, on many fixed-seed inputs.
import { beforeAll, describe, expect, it } from 'vitest';
import { detCos2Pi, detExp, detLog, detLog1p, detLogistic, detNormalCdf, detRecip, detSqrt, detU32ToF32, f32Bits, f32FromBits, philox4x32_10, rngBernoulli, rngBd0, rngBinomial, rngBinomialLogPmf, rngCreate, rngNextU32, rngNormal, rngPoisson, rngPoissonLogPmf, rngStirlerr, rngUniform } from '../src/rng/index.ts';
import { heapBase, instantiateKernels, poissonCacheBytes, threadScratchBytes, type KernelExports } from '../src/wasm/kernels.ts';

let w: KernelExports;
beforeAll(async () => {
  w = await instantiateKernels(4096 + poissonCacheBytes);
});

/** A fixed stream of u32 test inputs (xorshift32). */
function makeInputs(seed: number) {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    return (s >>>= 0);
  };
}

/** Mismatches of two f32 functions over inputs, as readable rows (empty when bit-identical). */
function mismatches(xs: readonly number[], a: (x: number) => number, b: (x: number) => number): string[] {
  const out: string[] = [];
  for (const x of xs) {
    const ra = f32Bits(a(x));
    const rb = f32Bits(b(x));
    if (ra !== rb && out.length < 10) out.push(`x=${x} (bits ${f32Bits(x).toString(16)}): ts ${ra.toString(16)} wasm ${rb.toString(16)}`);
  }
  return out;
}

/** f32 inputs: uniform in each range, plus random finite bit patterns and edge values. */
function floatInputs(ranges: readonly [number, number][], perRange: number, seed = 7): number[] {
  const next = makeInputs(seed);
  const xs: number[] = [0, -0, 1, -1, 0.5, 2, 10, 1e-30, -1e-30, 1.1754944e-38, 3.4e38, -3.4e38, 88.7, 88.8, -87, -87.1, 20, -20];
  for (const [lo, hi] of ranges) for (let i = 0; i < perRange; i++) xs.push(Math.fround(lo + ((hi - lo) * next()) / 4294967296));
  for (let i = 0; i < perRange; i++) {
    const bits = next();
    if (((bits >>> 23) & 0xff) === 0xff) continue; // no inf/NaN (unsupported by the det functions)
    xs.push(f32FromBits(bits));
  }
  return xs;
}

describe('wasm RNG and deterministic math equal src/rng bit for bit', () => {
  it('Philox4x32-10 words for random counters and keys', () => {
    const next = makeInputs(1);
    const out = heapBase;
    const view = () => new Uint32Array(w.memory.buffer, out, 4);
    for (let i = 0; i < 5000; i++) {
      const c = [next(), next(), next(), next()];
      const k = [next(), next()];
      w.philox4x32_10(out, c[0], c[1], c[2], c[3], k[0], k[1]);
      expect([...view()]).toEqual([...philox4x32_10(c, k)]);
    }
  });

  it('generator streams (counter layout, block increments) for many (key, stream, step, instance, neuron)', () => {
    const next = makeInputs(2);
    for (let i = 0; i < 2000; i++) {
      const key: [number, number] = [next(), next()];
      const stream = next() & 0xffff;
      const [step, inst, neuron] = [next(), next() & 0xff, next()];
      const r = rngCreate(key, stream, step, inst, neuron);
      w.rngReset(key[0], key[1], stream, step, inst, neuron);
      for (let j = 0; j < 11; j++) expect(w.rngNextU32() >>> 0).toBe(rngNextU32(r));
    }
  });

  it('detExp, detLog, detLog1p, detRecip, detSqrt, detNormalCdf, detLogistic, detCos2Pi, detU32ToF32', () => {
    const wide = floatInputs([[-100, 100], [-90, 90], [-1, 1], [-1e-6, 1e-6], [0, 1e7]], 20000);
    expect(mismatches(wide, detExp, w.detExp)).toEqual([]);
    expect(mismatches(wide, detLog, w.detLog)).toEqual([]);
    expect(mismatches(wide, detRecip, w.detRecip)).toEqual([]);
    expect(mismatches(wide, detSqrt, w.detSqrt)).toEqual([]);
    expect(mismatches(wide, detNormalCdf, w.detNormalCdf)).toEqual([]);
    expect(mismatches(wide, detLogistic, w.detLogistic)).toEqual([]);
    const log1p = floatInputs([[-0.999, 1], [-0.3, 0.42], [-1e-7, 1e-7], [1, 1e30]], 20000).filter((x) => x > -1);
    expect(mismatches(log1p, detLog1p, w.detLog1p)).toEqual([]);
    const unit = floatInputs([[0, 1], [0, 0.01], [0.99, 1]], 20000).filter((x) => x >= 0 && x <= 1);
    expect(mismatches(unit, detCos2Pi, w.detCos2Pi)).toEqual([]);
    const next = makeInputs(3);
    for (let i = 0; i < 20000; i++) {
      const u = i < 100 ? 16777216 + i : next();
      expect(f32Bits(w.detU32ToF32(u))).toBe(f32Bits(detU32ToF32(u)));
    }
  });

  it('log-pmf helpers (stirlerr, bd0, Poisson and binomial log pmf)', () => {
    const next = makeInputs(4);
    for (let k = 1; k < 3000; k++) expect(f32Bits(w.rngStirlerr(k))).toBe(f32Bits(rngStirlerr(k)));
    for (let i = 0; i < 20000; i++) {
      const lam = Math.fround(10 + (next() / 4294967296) * (i % 2 ? 100 : 1e6));
      const k = Math.fround(Math.floor(lam + (next() / 4294967296 - 0.5) * 8 * Math.sqrt(lam)));
      if (k < 0) continue;
      expect(f32Bits(w.rngBd0(k, lam, Math.fround(k - lam)))).toBe(f32Bits(rngBd0(k, lam, Math.fround(k - lam))));
      expect(f32Bits(w.rngPoissonLogPmf(k, lam))).toBe(f32Bits(rngPoissonLogPmf(k, lam)));
      const n = 20 + (next() % 100000);
      const p = Math.fround(0.01 + (next() / 4294967296) * 0.49);
      const q = Math.fround(1 - p);
      const nf = detU32ToF32(n);
      const np = Math.fround(nf * p);
      const nq = Math.fround(nf * q);
      const kb = Math.fround(Math.max(0, Math.floor(np + (next() / 4294967296 - 0.5) * 6 * Math.sqrt(np))));
      expect(f32Bits(w.rngBinomialLogPmf(kb, n, nf, p, q, np, nq))).toBe(f32Bits(rngBinomialLogPmf(kb, n, nf, p, q, np, nq)));
    }
  });

  it('samplers draw the same values from the same counters (uniform, normal, Bernoulli, Poisson, binomial)', () => {
    const next = makeInputs(5);
    const key: [number, number] = [0x12345678, 0x9abcdef0];
    const means = [0, 1e-8, 0.01, 0.5, 1, 3, 9.99, 10, 10.01, 15, 30, 100, 1e3, 1e4, 1e5, 1e6, 1e7];
    for (let i = 0; i < 20000; i++) {
      const [step, inst, neuron] = [next(), next() & 0xff, next()];
      const reset = (stream: number) => {
        w.rngReset(key[0], key[1], stream, step, inst, neuron);
        return rngCreate(key, stream, step, inst, neuron);
      };
      let r = reset(1);
      expect(f32Bits(w.rngUniform())).toBe(f32Bits(rngUniform(r)));
      expect(f32Bits(w.rngNormal())).toBe(f32Bits(rngNormal(r)));
      const p = i % 7 === 0 ? [0, 1, 1e-9, 0.999999][i % 4] : next() / 4294967296;
      expect(w.rngBernoulli(p) >>> 0).toBe(rngBernoulli(r, p));
      const mean = i < means.length * 20 ? means[i % means.length] : i % 2 ? (next() / 4294967296) * 20 : (next() / 4294967296) * 2000;
      r = reset(2);
      expect(w.rngPoisson(mean) >>> 0).toBe(rngPoisson(r, mean));
      expect(w.rngNextU32() >>> 0).toBe(rngNextU32(r)); // and the same words consumed
      const n = i % 3 === 0 ? next() % 50 : i % 3 === 1 ? next() % 100000 : next();
      const bp = i % 11 === 0 ? [0, 1, 0.5, 0.9][i % 4] : next() / 4294967296;
      r = reset(3);
      expect(w.rngBinomial(n, bp) >>> 0).toBe(rngBinomial(r, n, bp));
      expect(w.rngNextU32() >>> 0).toBe(rngNextU32(r));
    }
  });

  it("the cached Poisson sampler (the hybrid kernel's) draws what rngPoisson draws, through hits, misses and slot collisions", () => {
    const next = makeInputs(6);
    const key: [number, number] = [0x0badf00d, 0x1234];
    expect((w.POISSON_CACHE_BYTES as unknown as WebAssembly.Global).value).toBe(poissonCacheBytes);
    expect((w.THREAD_SCRATCH_BYTES as unknown as WebAssembly.Global).value).toBe(threadScratchBytes);
    // Means a few ulps apart (hits and neighbouring slots), 1024 ulps apart (the same slot: collisions), both branches.
    const bases = [0.3, 5.5, 9.999999, 10, 57.25, 600.5, 2e4];
    for (let i = 0; i < 20000; i++) {
      const base = bases[i % bases.length];
      const offset = [0, 1, 2, 1024, 2048, 3][next() % 6];
      const mean = f32FromBits(f32Bits(Math.fround(base)) + offset);
      const neuron = next();
      w.rngReset(key[0], key[1], 4, i, 0, neuron);
      const r = rngCreate(key, 4, i, 0, neuron);
      expect(w.rngPoissonWithCache(mean, heapBase + 4096) >>> 0).toBe(rngPoisson(r, mean));
      expect(w.rngNextU32() >>> 0).toBe(rngNextU32(r));
    }
  });

  it('the SIMD lane functions (src/wasm/assembly/simd.ts) equal the scalar ones lane by lane', () => {
    const mem = () => new Float32Array(w.memory.buffer);
    const base = heapBase + 8192;
    const out = base + 64;
    /** Runs op on 4 lanes at a time; extra vectors (bd0's M and d, the log pmf's lam) follow at +16, +32. */
    const lanes = (op: number, args: number[][]) => {
      const res: number[] = [];
      for (let i = 0; i < args[0].length; i += 4) {
        const m = mem();
        args.forEach((a, j) => {
          for (let l = 0; l < 4; l++) m[(base >> 2) + 4 * j + l] = a[Math.min(i + l, a.length - 1)];
        });
        w.simdTest(op, base, out);
        const o = mem();
        for (let l = 0; l < 4 && i + l < args[0].length; l++) res.push(o[(out >> 2) + l]);
      }
      return res;
    };
    const check = (op: number, xs: number[], f: (x: number) => number) => {
      const got = lanes(op, [xs]);
      expect(mismatches(xs.map((_, i) => i), (i) => f(xs[i]), (i) => got[i])).toEqual([]);
    };
    const xs = floatInputs([[-30, 30], [-100, 100], [1e-6, 1e3], [-88, 89]], 3000, 11);
    const positive = floatInputs([[1e-7, 1], [1, 1e6]], 3000, 12).filter((x) => x > 0);
    check(0, xs, detRecip);
    check(1, xs, detExp);
    check(2, xs, detNormalCdf);
    check(3, xs, detLogistic);
    check(6, [...positive, 0, -0, -1, 1e-39], detLog);
    check(9, [...positive, 0, -0, -1, 1e-39, 2.3509887e-38], detSqrt);
    // uniform4 of raw words, compared with rngUniform's formula on the same words.
    const next = makeInputs(13);
    const words = Array.from({ length: 4000 }, () => next());
    const u32 = new Uint32Array(w.memory.buffer);
    for (let i = 0; i < words.length; i += 4) {
      u32.set(words.slice(i, i + 4), base >> 2);
      w.simdTest(4, base, out);
      const o = mem();
      for (let l = 0; l < 4; l++) expect(f32Bits(o[(out >> 2) + l])).toBe(f32Bits(Math.fround(((words[i + l] >>> 8) | 1) * 5.9604644775390625e-8)));
    }
    // bd0 and the Poisson log pmf near the mode of many means (both of bd0's branches), k < 2048.
    const ks: number[] = [];
    const ms: number[] = [];
    for (let i = 0; i < 6000; i++) {
      const lam = Math.fround(10 + (next() / 4294967296) * (i % 3 ? 200 : 1800));
      ms.push(lam);
      ks.push(Math.fround(Math.min(2047, Math.max(0, Math.floor(lam + (next() / 4294967296 - 0.5) * 10 * Math.sqrt(lam))))));
    }
    const ds = ks.map((k, i) => Math.fround(k - ms[i]));
    const bd = lanes(7, [ks, ms, ds]);
    expect(mismatches(ks.map((_, i) => i), (i) => rngBd0(ks[i], ms[i], ds[i]), (i) => bd[i])).toEqual([]);
    const lp = lanes(8, [ks, ms]);
    expect(mismatches(ks.map((_, i) => i), (i) => rngPoissonLogPmf(ks[i], ms[i]), (i) => lp[i])).toEqual([]);
  });

  it('SIMD Philox and the lock-step inversion draw what the scalar generator draws', () => {
    const next = makeInputs(14);
    const base = heapBase + 8192;
    const out = base + 64;
    const u32 = new Uint32Array(w.memory.buffer);
    const f32 = new Float32Array(w.memory.buffer);
    for (let i = 0; i < 3000; i++) {
      const c = [next(), next(), next(), next(), next(), next(), next(), next()];
      u32.set([c[0], c[0] + 1, c[0] + 7, next(), c[1], c[2], c[3], c[4], c[5]], base >> 2);
      w.simdTest(5, base, out);
      for (let l = 0; l < 4; l++) {
        const ref = philox4x32_10([u32[(base >> 2) + l], c[1], c[2], c[3]], [c[4], c[5]]);
        for (let j = 0; j < 4; j++) expect(u32[(out >> 2) + 4 * j + l]).toBe(ref[j]);
      }
    }
    const key: [number, number] = [0x5eed, 0xface];
    for (let i = 0; i < 4000; i++) {
      const lam = [0, 1, 2, 3].map((l) => Math.fround(l === 3 && i % 5 === 0 ? 0.001 : 1e-6 + (next() / 4294967296) * 9.999));
      const rs = lam.map((_, l) => rngCreate(key, 3, i, 1, l));
      const u = rs.map((r) => rngUniform(r));
      const active = lam.map((_, l) => (l === 2 && i % 7 === 0 ? 0 : -1));
      f32.set([...u, ...lam, ...lam.map((x) => detExp(-x))], base >> 2);
      new Int32Array(w.memory.buffer).set(active, (base >> 2) + 12);
      w.simdTestInversion(base, out);
      for (let l = 0; l < 4; l++) expect(u32[(out >> 2) + l]).toBe(active[l] ? rngPoisson(rngCreate(key, 3, i, 1, l), lam[l]) : 0);
    }
  });
});
