// GPU tier for the counter-based RNG: Philox golden vectors on the device, bit-equality of every sampler and detmath function with the TS mirror, and goodness-of-fit of GPU samples.
import { beforeAll, describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { createComputeKernel, makeDispatchSize, readBuffer, type ComputeKernel } from '../src/gpu/shaders.ts';
import { packStruct } from '../src/gpu/pack.ts';
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
  f32FromBits,
  philox4x32_10,
  rngBernoulli,
  rngBinomial,
  rngCreate,
  rngNextU32,
  rngNormal,
  rngPoisson,
  rngUniform,
} from '../src/rng/index.ts';
import { binomialLogPmf, chiSquareTest, discreteChiSquareTest, ksTest, momentZScores, normalCdf, poissonLogPmf } from '../src/analysis/stats.ts';

const gpu = useGpu();
let kernel: ComputeKernel;

beforeAll(async () => {
  kernel = await createComputeKernel(gpu.ctx, 'common/rng-check.wgsl');
});

interface CheckParams {
  seed?: [number, number];
  count: number;
  stream?: number;
  step?: number;
  which?: number;
  n?: number;
  p?: number;
  mean?: number;
}

/** Runs one entry point of rng-check.wgsl over `count` elements and returns the output words. */
async function runCheck(entry: string, params: CheckParams, input: Uint32Array<ArrayBuffer>, outWords: number): Promise<Uint32Array> {
  const { ctx } = gpu;
  const values = { seed: params.seed ?? [0, 0], count: params.count, stream: params.stream ?? 0, step: params.step ?? 0, which: params.which ?? 0, n: params.n ?? 0, p: params.p ?? 0, mean: params.mean ?? 0 };
  const packed = packStruct('RngCheckParams', values);
  const paramBuf = await ctx.createBuffer({ label: 'rngCheck.params', size: packed.byteLength, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const inBuf = await ctx.createBuffer({ label: 'rngCheck.in', size: Math.max(16, input.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
  const outBuf = await ctx.createBuffer({ label: 'rngCheck.out', size: Math.max(16, outWords * 4), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  try {
    ctx.device.queue.writeBuffer(paramBuf, 0, packed);
    if (input.length > 0) ctx.device.queue.writeBuffer(inBuf, 0, input);
    const enc = ctx.device.createCommandEncoder({ label: `rngCheck.${entry}` });
    const pass = enc.beginComputePass({ label: `rngCheck.${entry}` });
    pass.setPipeline(kernel.pipelines.get(entry)!);
    pass.setBindGroup(0, kernel.bind(0, { check: paramBuf, checkIn: inBuf, checkOut: outBuf }, 'rngCheck.bind'));
    const [x, y] = makeDispatchSize(Math.ceil(params.count / 64), ctx.device.limits.maxComputeWorkgroupsPerDimension);
    pass.dispatchWorkgroups(x, y);
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    return new Uint32Array(await readBuffer(ctx, outBuf, outWords * 4));
  } finally {
    ctx.release(paramBuf);
    ctx.release(inBuf);
    ctx.release(outBuf);
  }
}

/** Deterministic xorshift for choosing test inputs (not the RNG under test). */
function makeInputRng(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}

const hex = (w: ArrayLike<number>) => Array.from(w, (v) => v.toString(16).padStart(8, '0')).join(' ');

describe('Philox4x32-10 on the GPU', () => {
  it('reproduces the Random123 known-answer vectors and the TS implementation', async () => {
    const vectors: [number[], number[], string][] = [
      [[0, 0, 0, 0], [0, 0], '6627e8d5 e169c58d bc57ac4c 9b00dbd8'],
      [[0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff], [0xffffffff, 0xffffffff], '408f276d 41c83b0e a20bc7c6 6d5451fd'],
      [[0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344], [0xa4093822, 0x299f31d0], 'd16cfe09 94fdcceb 5001e420 24126ea1'],
    ];
    const rnd = makeInputRng(7);
    const count = 1024;
    const input = new Uint32Array(8 * count);
    for (let i = 0; i < count; i++) {
      const v = vectors[i];
      for (let j = 0; j < 6; j++) input[8 * i + j] = v ? (j < 4 ? v[0][j] : v[1][j - 4]) : Math.floor(rnd() * 4294967296);
    }
    const out = await runCheck('checkPhilox', { count }, input, 4 * count);
    for (let i = 0; i < vectors.length; i++) expect(hex(out.subarray(4 * i, 4 * i + 4))).toBe(vectors[i][2]);
    const expected = new Uint32Array(4 * count);
    for (let i = 0; i < count; i++) expected.set(philox4x32_10(input.subarray(8 * i, 8 * i + 4), input.subarray(8 * i + 4, 8 * i + 6)), 4 * i);
    expect(out).toEqual(expected);
  });
});

describe('GPU and TS mirror are bit-identical', () => {
  it('a*b+c is not contracted into an FMA on this adapter (the assumption behind float bit-equality)', async () => {
    // Inputs where fma(a,b,c) differs from round(round(a*b)+c): a = b = 1 + 2^-12, c = -(1 + 2^-11),
    // and random a, b with c close to -a*b (the residual is where fusing shows).
    const rnd = makeInputRng(11);
    const count = 256;
    const input = new Uint32Array(3 * count);
    for (let i = 0; i < count; i++) {
      const a = i === 0 ? 1 + 2 ** -12 : Math.fround(1 + rnd());
      const b = i === 0 ? 1 + 2 ** -12 : Math.fround(1 + rnd());
      const c = i === 0 ? -(1 + 2 ** -11) : Math.fround(-Math.fround(a * b) * (1 + (rnd() - 0.5) * 1e-6));
      input.set([f32Bits(a), f32Bits(b), f32Bits(c)], 3 * i);
    }
    const out = await runCheck('checkContraction', { count }, input, 2 * count);
    let fusedWouldDiffer = 0;
    for (let i = 0; i < count; i++) {
      const [a, b, c] = [0, 1, 2].map((j) => f32FromBits(input[3 * i + j]));
      const unfused = Math.fround(Math.fround(a * b) + c);
      expect(out[2 * i], `a*b+c for element ${i}`).toBe(f32Bits(unfused));
      // a*b is exact in f64, so this is the fused result up to a negligible double rounding.
      if (Math.fround(a * b + c) !== unfused) fusedWouldDiffer++;
    }
    // The probe has teeth: a contracting compiler would have produced other bits for these inputs.
    expect(fusedWouldDiffer).toBeGreaterThan(count / 4);
  });

  it('detmath functions agree bit for bit over their whole ranges', async () => {
    // Subnormal inputs are outside the contract (GPUs may flush them to zero), so none appear here.
    const xs: number[] = [0, -0, 1, -1, 0.5, 2, 10, -10, 87, -87, -87.5, 88.7, 88.71, 100, -100, 1.2e-38, 2.4e-38, 3e38, 1e30, -1e30, 1e-7, -1e-7, 0.999999, 1.000001];
    const rnd = makeInputRng(3);
    // Log-uniform magnitudes of both signs over the normal f32 range, plus dense grids where the functions bend.
    for (let i = 0; i < 4000; i++) xs.push((rnd() < 0.5 ? -1 : 1) * 2 ** (-120 + 240 * rnd()));
    for (let i = 0; i < 4000; i++) xs.push(-90 + 180 * rnd());
    for (let i = 0; i < 2000; i++) xs.push(-8 + 16 * rnd());
    for (let i = 0; i < 2000; i++) xs.push(rnd());
    const count = xs.length;
    const input = Uint32Array.from(xs, f32Bits);
    const out = await runCheck('checkDetmath', { count }, input, 8 * count);
    const fns = [detExp, detLog, detNormalCdf, detLogistic, detRecip, detSqrt, detLog1p, detCos2Pi];
    const names = ['detExp', 'detLog', 'detNormalCdf', 'detLogistic', 'detRecip', 'detSqrt', 'detLog1p', 'detCos2Pi'];
    const mismatches: string[] = [];
    for (let i = 0; i < count; i++) {
      const x = f32FromBits(input[i]);
      for (let j = 0; j < fns.length; j++) {
        // detLog1p is only defined above -1, detCos2Pi on [0, 1].
        if (j === 6 && !(x > -1)) continue;
        if (j === 7 && !(x >= 0 && x <= 1)) continue;
        const want = f32Bits(fns[j](x));
        if (out[8 * i + j] !== want) mismatches.push(`${names[j]}(${x}): gpu ${f32FromBits(out[8 * i + j])} ts ${f32FromBits(want)}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
  });

  it('every sampler draws the same bits and integers as the TS mirror', async () => {
    const rnd = makeInputRng(5);
    const means: number[] = [0, -1, 1e-3, 0.01, 0.5, 1, 3, 9.99, 9.999999, 10, 10.000001, 10.5, 30, 1000, 1e5, 1e6, 4194304.5, 8388607.5, 1e7];
    const ps: number[] = [0, 1, 1e-7, 0.5, 0.5000001, 0.9999999, 0.3, 0.7];
    const count = 6144;
    const input = new Uint32Array(4 * count);
    const cases: { mean: number; p: number; n: number; inst: number }[] = [];
    for (let i = 0; i < count; i++) {
      // Poisson means log-uniform over 1e-3..1e6 plus the fixed points (incl. the switch at 10).
      const mean = i < means.length ? means[i] : i % 4 === 0 ? 10 * (1 + 1e-6 * (rnd() - 0.5)) : 10 ** (-3 + 9 * rnd());
      const p = i < ps.length ? ps[i] : rnd() < 0.1 ? Math.round(rnd() * 1000) / 1000 : rnd();
      // n spans the inversion and BTRS regimes, up to 2^24.
      const n = i % 7 === 0 ? Math.floor(rnd() * 20) : Math.floor(10 ** (6 * rnd()) * (1 + (rnd() < 0.05 ? 16 : 0)));
      const inst = Math.floor(rnd() * 4);
      const c = { mean: Math.fround(mean), p: Math.fround(p), n: Math.min(n, 2 ** 24), inst };
      cases.push(c);
      input.set([f32Bits(c.mean), f32Bits(c.p), c.n, c.inst], 4 * i);
    }
    const seed: [number, number] = [0x12345678, 0x9abcdef0];
    const step = 77;
    const stream = 3;
    const out = await runCheck('checkDraws', { count, seed, step, stream }, input, 12 * count);
    const expected = new Uint32Array(12 * count);
    for (let i = 0; i < count; i++) {
      const { mean, p, n, inst } = cases[i];
      const r = rngCreate(seed, stream, step, inst, i);
      const o = 12 * i;
      expected[o] = rngNextU32(r);
      expected[o + 1] = rngNextU32(r);
      expected[o + 2] = f32Bits(rngUniform(r));
      expected[o + 3] = f32Bits(rngNormal(r));
      expected[o + 4] = rngBernoulli(r, p);
      expected[o + 5] = rngPoisson(r, Math.max(mean, 0));
      expected[o + 6] = rngBinomial(r, n, p);
      const r2 = rngCreate(seed, stream + 1, step, inst, i);
      expected[o + 7] = rngPoisson(r2, Math.max(mean, 0));
      expected[o + 8] = rngBinomial(r2, n, p);
      expected[o + 9] = (r.ctr[3] & 0xffff) * 4 + r.used;
      expected[o + 10] = rngNextU32(r);
      expected[o + 11] = rngNextU32(r2);
    }
    const fields = ['u32a', 'u32b', 'uniform', 'normal', 'bernoulli', 'poisson', 'binomial', 'poisson2', 'binomial2', 'wordsUsed', 'u32c', 'u32d'];
    const mismatches: string[] = [];
    for (let i = 0; i < 12 * count; i++) {
      if (out[i] !== expected[i]) {
        const c = cases[Math.floor(i / 12)];
        mismatches.push(`element ${Math.floor(i / 12)} ${fields[i % 12]} (mean ${c.mean}, n ${c.n}, p ${c.p}): gpu ${out[i]} ts ${expected[i]}`);
      }
    }
    expect(mismatches.slice(0, 10)).toEqual([]);
    // The inputs really covered both Poisson regimes and both binomial regimes.
    expect(cases.filter((c) => c.mean >= 10).length).toBeGreaterThan(1000);
    expect(cases.filter((c) => c.mean > 0 && c.mean < 10).length).toBeGreaterThan(1000);
    expect(cases.filter((c) => c.n * Math.min(c.p, 1 - c.p) >= 10).length).toBeGreaterThan(1000);
    expect(cases.filter((c) => c.n * Math.min(c.p, 1 - c.p) < 10 && c.n > 0).length).toBeGreaterThan(1000);
  });
});

/** Draws `count` variates on the GPU with sampleMany (one counter per element). */
async function sample(which: number, count: number, opts: { mean?: number; n?: number; p?: number; seed?: [number, number]; step?: number }): Promise<Uint32Array> {
  return runCheck('sampleMany', { count, which, seed: opts.seed ?? [2024, 1], step: opts.step ?? which, mean: opts.mean ?? 0, n: opts.n ?? 0, p: opts.p ?? 0 }, new Uint32Array(0), count);
}

// Every test below uses fixed seeds and significance 1e-3 (a correct sampler fails each with
// probability 1e-3); moments must lie within 5 standard errors.
const ALPHA = 1e-3;

describe('GPU samples follow their distributions', () => {
  it('uniform: KS against U(0,1), mean and variance', async () => {
    const bits = await sample(1, 100_000, {});
    const u = Float64Array.from(bits, f32FromBits);
    expect(Math.min(...u)).toBeGreaterThan(0);
    expect(Math.max(...u)).toBeLessThan(1);
    expect(ksTest(u, (x) => x).pValue).toBeGreaterThan(ALPHA);
    const z = momentZScores(u, 0.5, 1 / 12, 1 / 80);
    expect(Math.abs(z.zMean)).toBeLessThan(5);
    expect(Math.abs(z.zVariance)).toBeLessThan(5);
  });

  it('normal: KS against N(0,1), mean and variance', async () => {
    const bits = await sample(2, 100_000, {});
    const z = Float64Array.from(bits, f32FromBits);
    expect(ksTest(z, normalCdf).pValue).toBeGreaterThan(ALPHA);
    const m = momentZScores(z, 0, 1, 3);
    expect(Math.abs(m.zMean)).toBeLessThan(5);
    expect(Math.abs(m.zVariance)).toBeLessThan(5);
  });

  it('Bernoulli: frequency matches p', async () => {
    for (const p of [0.001, 0.3, 0.75]) {
      const n = 100_000;
      const x = await sample(3, n, { p });
      const ones = x.reduce((s, v) => s + v, 0);
      const pf = Math.fround(p);
      const r = chiSquareTest([n - ones, ones], [n * (1 - pf), n * pf]);
      expect(r.pValue, `Bernoulli(${p}): ${ones} ones`).toBeGreaterThan(ALPHA);
    }
  });

  it('Poisson: chi-square and moments at means across both algorithms', async () => {
    for (const mean of [0.01, 0.5, 3, 9.99, 10, 30, 1000, 1e5]) {
      const n = 50_000;
      const x = await sample(4, n, { mean });
      const lam = Math.fround(mean);
      const sd = Math.sqrt(lam);
      const lo = Math.max(0, Math.floor(lam - 8 * sd));
      const hi = Math.ceil(lam + 8 * sd + 20);
      const r = discreteChiSquareTest(x, (k) => poissonLogPmf(k, lam), lo, hi, { minExpected: 10 });
      expect(r.pValue, `Poisson(${mean}): chi2 ${r.statistic.toFixed(1)} on ${r.df} df`).toBeGreaterThan(ALPHA);
      const m = momentZScores(x, lam, lam, lam * (1 + 3 * lam));
      expect(Math.abs(m.zMean), `Poisson(${mean}) mean ${m.mean}`).toBeLessThan(5);
      expect(Math.abs(m.zVariance), `Poisson(${mean}) variance ${m.variance}`).toBeLessThan(5);
    }
  });

  it('binomial: chi-square and moments across inversion and BTRS', async () => {
    const cases: [number, number][] = [[10, 0.3], [50, 0.1], [19, 0.5], [20, 0.5], [100, 0.15], [1000, 0.5], [5000, 0.97], [100_000, 0.01], [2_000_000, 0.4]];
    for (const [nn, p] of cases) {
      const n = 50_000;
      const x = await sample(5, n, { n: nn, p });
      const pf = Math.fround(p);
      const mu = nn * pf;
      const v = mu * (1 - pf);
      const sd = Math.sqrt(v);
      const lo = Math.max(0, Math.floor(mu - 8 * sd - 10));
      const hi = Math.min(nn, Math.ceil(mu + 8 * sd + 10));
      const r = discreteChiSquareTest(x, (k) => binomialLogPmf(k, nn, pf), lo, hi, { minExpected: 10 });
      expect(r.pValue, `Binomial(${nn}, ${p}): chi2 ${r.statistic.toFixed(1)} on ${r.df} df`).toBeGreaterThan(ALPHA);
      const mu4 = v * (1 + 3 * (nn - 2) * pf * (1 - pf));
      const m = momentZScores(x, mu, v, mu4);
      expect(Math.abs(m.zMean), `Binomial(${nn}, ${p}) mean ${m.mean}`).toBeLessThan(5);
      expect(Math.abs(m.zVariance), `Binomial(${nn}, ${p}) variance ${m.variance}`).toBeLessThan(5);
    }
  });
});
