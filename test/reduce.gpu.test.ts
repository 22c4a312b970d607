// GPU tests of the batched reducer against the f64/exact CPU references (SwiftShader in CI).
import { beforeAll, describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { createReducer, type Reducer } from '../src/gpu/reducer.ts';
import { moments, sumU32 } from '../src/analysis/moments.ts';
import { histogram, histogramF32, makeF32Binning } from '../src/analysis/histogram.ts';
import { entropyBits, entropyBitsBatch } from '../src/analysis/entropy.ts';
import { readBuffer } from '../src/gpu/shaders.ts';
import { structLayout, structStride } from '../src/gpu/pack.ts';
import { AdapterLimitError, DisposedError, ParameterError } from '../src/errors.ts';
import type { GpuContext } from '../src/gpu/context.ts';

const gpu = useGpu();

// Compiling reduce.wgsl on SwiftShader takes seconds, so the tests share two reducers: the default
// one, and a tiny one (4 invocations, 1 value each, 64 shared bins) that reaches more than 65535
// workgroups, deep merge trees and the global-atomics histogram path with little data.
let reducer: Reducer;
let tiny: Reducer;
beforeAll(async () => {
  reducer = await createReducer(gpu.ctx);
  tiny = await createReducer(gpu.ctx, { workgroupSize: 4, itemsPerThread: 1, sharedBins: 64 });
});

/** Deterministic uniform in [0, 1) (mulberry32): fixed seeds, no Math.random. */
function makeUniform(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function makeNormal(seed: number): () => number {
  const u = makeUniform(seed);
  return () => Math.sqrt(-2 * Math.log(1 - u())) * Math.cos(2 * Math.PI * u());
}

async function upload(ctx: GpuContext, label: string, data: Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, usage = 0): Promise<GPUBuffer> {
  const buffer = await ctx.createBuffer({ label, size: Math.max(16, data.byteLength), usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST | usage });
  ctx.device.queue.writeBuffer(buffer, 0, data);
  return buffer;
}

/**
 * Float tolerances. The GPU runs f32 Welford per invocation and Chan merges in a tree of depth
 * ~log2(N) on values shifted by each instance's first value, so rounding grows like
 * eps_f32 * log2(N) (6e-8 * 27 < 2e-6 at 1e8) relative to the spread, not to the offset; the
 * final f32 store adds 6e-8 relative. Hence: mean within 1e-6 * (|mean| + sd), variance within
 * 1e-5 relative, sum within 1e-6 * n * (|mean| + sd).
 */
function expectMomentsClose(got: { mean: Float64Array; variance: Float64Array; sum: Float64Array }, ref: ReturnType<typeof moments>, what: string): void {
  for (let b = 0; b < ref.mean.length; b++) {
    const scale = Math.abs(ref.mean[b]) + Math.sqrt(ref.variance[b]);
    expect(Math.abs(got.mean[b] - ref.mean[b]), `${what} mean[${b}]`).toBeLessThanOrEqual(1e-6 * scale);
    expect(Math.abs(got.variance[b] - ref.variance[b]), `${what} variance[${b}]`).toBeLessThanOrEqual(1e-5 * ref.variance[b]);
    expect(Math.abs(got.sum[b] - ref.sum[b]), `${what} sum[${b}]`).toBeLessThanOrEqual(1e-6 * ref.count * scale);
  }
}

describe('Reducer.moments', () => {
  it('matches f64 per instance for a batch of different distributions, N not a multiple of the workgroup', async () => {
    const { ctx } = gpu;
    const n = 10_007;
    const batch = 5;
    const data = new Float32Array(batch * n);
    const normal = makeNormal(1);
    const uniform = makeUniform(2);
    for (let i = 0; i < n; i++) {
      data[i] = normal();
      data[n + i] = 1e4 + normal();
      data[2 * n + i] = -100 * Math.log(1 - uniform());
      data[3 * n + i] = 3.25;
      data[4 * n + i] = 2000 * uniform() - 1000;
    }
    const input = await upload(ctx, 'test.moments.input', data);
    const got = await reducer.moments(input, { batch, n });
    const ref = moments(data, batch, n);
    expect(got.count).toBe(n);
    expectMomentsClose(got, ref, 'batch');
    // A constant instance: every shifted value is exactly 0, so the GPU is exact too.
    expect(got.mean[3]).toBe(3.25);
    expect(got.variance[3]).toBe(0);
    ctx.release(input);
  });

  it('reads from an element offset that is not binding-aligned', async () => {
    const { ctx } = gpu;
    const n = 1000;
    const data = new Float32Array(67 + 2 * n).fill(-1e30);
    const u = makeUniform(3);
    for (let i = 67; i < data.length; i++) data[i] = 5 + u();
    const input = await upload(ctx, 'test.moments.offsetInput', data);
    const got = await reducer.moments(input, { batch: 2, n, offset: 67 });
    expectMomentsClose(got, moments(data, 2, n, 67), 'offset');
    ctx.release(input);
  });

  it('stays accurate at N = 1e7 with a common offset of 1e4 (values 1e4 + N(0,1))', async () => {
    // N = 1e8 passes too but takes 25-40 s on SwiftShader (over this file's budget); it is proven
    // in test/reduce.test.ts on an operation-for-operation f32 mirror of the same tree.
    const { ctx } = gpu;
    const n = 10_000_000;
    const normal = makeNormal(4);
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = 1e4 + normal();
    const input = await upload(ctx, 'test.moments.big', data);
    expectMomentsClose(await reducer.moments(input, { batch: 1, n }), moments(data, 1, n), 'N=1e7');
    ctx.release(input);
  }, 120_000);

  it('encodeMoments reduces inside a loop of steps with one submit and no readback in between', async () => {
    const { ctx } = gpu;
    const batch = 3;
    const n = 5000;
    const steps = 4;
    const all = new Float32Array(steps * batch * n);
    const normal = makeNormal(5);
    for (let i = 0; i < all.length; i++) all[i] = 10 * Math.floor(i / (batch * n)) + normal() * (1 + (Math.floor(i / n) % batch));
    const source = await upload(ctx, 'test.encode.source', all, GPUBufferUsage.COPY_SRC);
    const state = await ctx.createBuffer({ label: 'test.encode.state', size: batch * n * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_DST });
    const stride = structStride(structLayout('MomentStats'));
    const record = await ctx.createBuffer({ label: 'test.encode.record', size: steps * batch * stride, usage: GPUBufferUsage.COPY_DST | GPUBufferUsage.COPY_SRC });
    const plan = await reducer.prepareMoments(state, { batch, n });
    expect(plan.output.label).toMatch(/^Reducer\.moments#\d+\.output$/);
    const encoder = ctx.device.createCommandEncoder({ label: 'test.encode.loop' });
    for (let s = 0; s < steps; s++) {
      // Stands in for a simulation step that rewrites the state.
      encoder.copyBufferToBuffer(source, s * batch * n * 4, state, 0, batch * n * 4);
      reducer.encodeMoments(encoder, plan);
      encoder.copyBufferToBuffer(plan.output, plan.outputOffset, record, s * batch * stride, batch * stride);
    }
    ctx.device.queue.submit([encoder.finish()]);
    const view = new DataView(await readBuffer(ctx, record));
    const off = Object.fromEntries(structLayout('MomentStats').fields.map((f) => [f.name, f.offset]));
    for (let s = 0; s < steps; s++) {
      const ref = moments(all, batch, n, s * batch * n);
      const got = { mean: new Float64Array(batch), variance: new Float64Array(batch), sum: new Float64Array(batch) };
      for (let b = 0; b < batch; b++) {
        const at = (s * batch + b) * stride;
        expect(view.getUint32(at + off.count, true)).toBe(n);
        got.mean[b] = view.getFloat32(at + off.mean, true);
        got.variance[b] = view.getFloat32(at + off.variance, true);
        got.sum[b] = view.getFloat32(at + off.sum, true);
      }
      expectMomentsClose(got, ref, `step ${s}`);
    }
    // The same plan, read directly, holds the last step.
    const last = await plan.read();
    expect(last.mean[2]).toBe(Math.fround(last.mean[2]));
    plan.dispose();
    plan.dispose();
    expect(() => plan.encode(ctx.device.createCommandEncoder())).toThrow(DisposedError);
    for (const b of [source, state, record]) ctx.release(b);
  });
});

describe('Reducer.sumU32', () => {
  it('is exact per instance, including totals far past 2^32', async () => {
    const { ctx } = gpu;
    const n = 70_001;
    const batch = 3;
    const data = new Uint32Array(batch * n);
    const u = makeUniform(6);
    for (let i = 0; i < n; i++) {
      data[i] = 0xffffffff;
      data[n + i] = Math.floor(u() * 4294967296);
      data[2 * n + i] = i % 7;
    }
    const input = await upload(ctx, 'test.sum.input', data);
    const got = await reducer.sumU32(input, { batch, n });
    expect([...got]).toEqual([...sumU32(data, batch, n)]);
    expect(got[0]).toBe(BigInt(n) * 0xffffffffn);
    ctx.release(input);
  });
});

describe('Reducer.histogram', () => {
  it('equals the CPU exactly for a batch, clamping values >= bins into the last bin', async () => {
    const { ctx } = gpu;
    const n = 10_007;
    const batch = 4;
    const bins = 16;
    const data = new Uint32Array(batch * n);
    const u = makeUniform(7);
    for (let i = 0; i < n; i++) {
      data[i] = Math.floor(u() * bins);
      data[n + i] = Math.floor(-8 * Math.log(1 - u())); // geometric-like tail past the last bin
      data[2 * n + i] = 0;
      data[3 * n + i] = 0xffffffff;
    }
    const input = await upload(ctx, 'test.hist.input', data);
    const got = await reducer.histogram(input, { batch, n, bins });
    expect([...got]).toEqual([...histogram(data, batch, n, bins)]);
    expect(got[2 * bins]).toBe(n);
    expect(got[4 * bins - 1]).toBe(n);
    ctx.release(input);
  });

  it('equals the CPU exactly with more bins than the shared-memory limit (global atomics)', async () => {
    const { ctx } = gpu;
    const n = 20_000;
    const bins = 3000;
    const data = new Uint32Array(2 * n);
    const u = makeUniform(8);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(u() * 3500);
    const input = await upload(ctx, 'test.hist.wide', data);
    const got = await tiny.histogram(input, { batch: 2, n, bins });
    expect([...got]).toEqual([...histogram(data, 2, n, bins)]);
    ctx.release(input);
  });

  it('f32 histogram equals the CPU exactly, values on and around every edge included', async () => {
    const { ctx } = gpu;
    const bins = 50;
    const [min, max] = [-3, 3];
    const binning = makeF32Binning(bins, min, max);
    const special: number[] = [min, max, -1e30, 1e30, -3.0000002, 2.9999998];
    const bits = new Uint32Array(1);
    const f = new Float32Array(bits.buffer);
    for (let k = 1; k < bins; k++) {
      f[0] = binning.min + k / binning.scale;
      const c = bits[0];
      for (let d = -2; d <= 2; d++) {
        bits[0] = c + d;
        special.push(f[0]);
      }
    }
    const n = 10_007;
    const batch = 3;
    const data = new Float32Array(batch * n);
    const normal = makeNormal(9);
    for (let i = 0; i < data.length; i++) data[i] = (1 + Math.floor(i / n)) * normal();
    data.set(special, n + 11); // edges inside instance 1, away from its start
    const input = await upload(ctx, 'test.histF32.input', data);
    const got = await reducer.histogramF32(input, { batch, n, bins, min, max });
    expect([...got]).toEqual([...histogramF32(data, batch, n, bins, min, max)]);
    ctx.release(input);
  });
});

describe('Reducer.entropy', () => {
  /**
   * Tolerance: |H_gpu - H_f64| <= 2e-6 + 2e-6 * H bits. Each term -p log2 p is non-negative (no
   * cancellation); f32 division (2.5 ulp) and log2 (3 ulp, or 2^-21 absolute for p in [0.5, 1])
   * bound each term's error to ~4e-7 relative or 5e-7 absolute, and the tree sum adds
   * log2(bins) * 6e-8 relative.
   */
  const tol = (h: number) => 2e-6 + 2e-6 * h;

  it('gives log2 k for uniform, 0 for a delta and H(p) for two-point distributions', async () => {
    const { ctx } = gpu;
    const bins = 8;
    const counts = new Uint32Array([
      ...[1000, 1000, 1000, 1000, 1000, 1000, 1000, 1000], // uniform over 8: 3 bits
      ...[0, 0, 0, 123456, 0, 0, 0, 0], // delta: 0
      ...[1, 3, 0, 0, 0, 0, 0, 0], // two-point p = 1/4
      ...[7, 0, 7, 0, 7, 0, 7, 7], // uniform over 5 bins: log2 5
      ...[0xffffffff, 0xffffffff, 0, 0, 0, 0, 0, 0], // total past 2^32: 1 bit
    ]);
    const input = await upload(ctx, 'test.entropy.known', counts);
    const got = await reducer.entropy(input, { batch: 5, bins });
    const h2 = (p: number) => -p * Math.log2(p) - (1 - p) * Math.log2(1 - p);
    const expected = [3, 0, h2(0.25), Math.log2(5), 1];
    expected.forEach((h, b) => expect(Math.abs(got[b] - h), `instance ${b}`).toBeLessThanOrEqual(tol(h)));
    expect(got[1]).toBe(0);
    ctx.release(input);
  });

  it('of GPU histograms (never read back) matches the f64 entropy of the CPU histograms', async () => {
    const { ctx } = gpu;
    const n = 20_000;
    const batch = 4;
    const bins = 300;
    const data = new Uint32Array(batch * n);
    const u = makeUniform(10);
    for (let i = 0; i < data.length; i++) data[i] = Math.floor(-(10 + 40 * Math.floor(i / n)) * Math.log(1 - u()));
    const input = await upload(ctx, 'test.entropy.values', data);
    const hist = await reducer.prepareHistogram(input, { batch, n, bins });
    const ent = await reducer.prepareEntropy(hist.output, { batch, bins, offset: hist.outputOffset / 4 });
    const encoder = ctx.device.createCommandEncoder({ label: 'test.entropy.chain' });
    hist.encode(encoder);
    ent.encode(encoder);
    ctx.device.queue.submit([encoder.finish()]);
    const got = await ent.read();
    const ref = entropyBitsBatch(histogram(data, batch, n, bins), batch, bins);
    for (let b = 0; b < batch; b++) expect(Math.abs(got[b] - ref[b]), `instance ${b}`).toBeLessThanOrEqual(tol(ref[b]));
    expect(ref[0]).toBeLessThan(ref[3]);
    ent.dispose();
    hist.dispose();
    ctx.release(input);
  });

  it('refuses an empty histogram instead of returning NaN', async () => {
    const { ctx } = gpu;
    const input = await upload(ctx, 'test.entropy.empty', new Uint32Array([1, 2, 0, 0]));
    await expect(reducer.entropy(input, { batch: 2, bins: 2 })).rejects.toThrow(/instance 1 is empty/);
    expect(() => entropyBits([0, 0])).toThrow(ParameterError);
    ctx.release(input);
  });
});

describe('dispatches above 65535 workgroups (2-D folding)', () => {
  it('reduces one instance spread over 66005 workgroups (a 10-level merge tree) and 70000 instances', async () => {
    const { ctx } = gpu;
    expect(tiny.itemsPerWorkgroup).toBe(4);
    const n = 4 * 66_000 + 17;
    const values = new Float32Array(n);
    const counts = new Uint32Array(n);
    const u = makeUniform(11);
    for (let i = 0; i < n; i++) {
      values[i] = 100 + u();
      counts[i] = Math.floor(u() * 20);
    }
    const vIn = await upload(ctx, 'test.fold.values', values);
    const cIn = await upload(ctx, 'test.fold.counts', counts);
    expectMomentsClose(await tiny.moments(vIn, { batch: 1, n }), moments(values, 1, n), 'one instance');
    expect([...(await tiny.sumU32(cIn, { batch: 1, n }))]).toEqual([...sumU32(counts, 1, n)]);
    expect([...(await tiny.histogram(cIn, { batch: 1, n, bins: 16 }))]).toEqual([...histogram(counts, 1, n, 16)]);
    // 70000 instances of 3 values: 70000 workgroups for moments, histogram and entropy alike.
    const batch = 70_000;
    const small = counts.subarray(0, batch * 3);
    const smallF = values.subarray(0, batch * 3);
    expectMomentsClose(await tiny.moments(vIn, { batch, n: 3 }), moments(smallF, batch, 3), 'many instances');
    const h = await tiny.histogram(cIn, { batch, n: 3, bins: 4 });
    const hRef = histogram(small, batch, 3, 4);
    expect(h).toEqual(hRef);
    const hBuf = await upload(ctx, 'test.fold.hist', hRef);
    const e = await tiny.entropy(hBuf, { batch, bins: 4 });
    const eRef = entropyBitsBatch(hRef, batch, 4);
    let worst = 0;
    for (let b = 0; b < batch; b++) worst = Math.max(worst, Math.abs(e[b] - eRef[b]) - (2e-6 + 2e-6 * eRef[b]));
    expect(worst).toBeLessThanOrEqual(0);
    for (const b of [vIn, cIn, hBuf]) ctx.release(b);
  }, 120_000);
});

describe('Reducer validation and lifetime', () => {
  it('rejects bad shapes, small buffers and over-limit batches with typed errors', async () => {
    const { ctx } = gpu;
    const input = await upload(ctx, 'test.validate.input', new Float32Array(100));
    await expect(reducer.moments(input, { batch: 1, n: 0 })).rejects.toThrow(/invalid n/);
    await expect(reducer.moments(input, { batch: 0, n: 4 })).rejects.toBeInstanceOf(ParameterError);
    await expect(reducer.moments(input, { batch: 2, n: 60 })).rejects.toThrow(/holds 100 values but offset \+ batch\*n = 120/);
    await expect(reducer.histogram(input, { batch: 1, n: 10, bins: 0 })).rejects.toThrow(/invalid bins/);
    await expect(reducer.histogramF32(input, { batch: 1, n: 10, bins: 4, min: 1, max: 0 })).rejects.toThrow(/invalid min\/max/);
    const max = ctx.device.limits.maxStorageBufferBindingSize;
    const err = await reducer.sumU32(input, { batch: 2, n: max / 4 }).catch((e) => e);
    expect(err).toBeInstanceOf(AdapterLimitError);
    expect(err.message).toMatch(/split the batch/);
    const noStorage = await ctx.createBuffer({ label: 'test.validate.uniform', size: 64, usage: GPUBufferUsage.UNIFORM });
    await expect(reducer.moments(noStorage, { batch: 1, n: 4 })).rejects.toThrow(/lacks STORAGE usage/);
    const out = await ctx.createBuffer({ label: 'test.validate.out', size: 64, usage: GPUBufferUsage.STORAGE });
    await expect(reducer.prepareHistogram(input, { batch: 1, n: 10, bins: 4 }, { buffer: out })).rejects.toThrow(/COPY_DST/);
    await expect(reducer.prepareMoments(input, { batch: 1, n: 10 }, { buffer: out, offset: 4 })).rejects.toThrow(/multiple of 16/);
    await expect(createReducer(ctx, { workgroupSize: 48 })).rejects.toThrow(/power of two/);
    for (const b of [input, noStorage, out]) ctx.release(b);
  });

  it('dispose is idempotent, frees live plans, and use after dispose throws DisposedError', async () => {
    const { ctx } = gpu;
    // Same constants as the shared reducer, so Dawn reuses its compiled pipelines.
    const own = await createReducer(ctx);
    const input = await upload(ctx, 'test.dispose.input', new Float32Array([1, 2, 3, 4]));
    const plan = await own.prepareSumU32(input, { batch: 1, n: 4 });
    own.dispose();
    own.dispose();
    expect(() => plan.encode(ctx.device.createCommandEncoder())).toThrow(DisposedError);
    await expect(own.moments(input, { batch: 1, n: 4 })).rejects.toBeInstanceOf(DisposedError);
    ctx.release(input);
  });
});
