import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { createComputeKernel, createShaderModule, readBuffer, makeDispatchSize } from '../src/gpu/shaders.ts';
import { packStruct, structLayout, unpackStruct } from '../src/gpu/pack.ts';
import { createGpuContext } from '../src/gpu/context.ts';
import { AdapterLimitError, DeviceLostError, DisposedError, ParameterError, ShaderCompileError } from '../src/errors.ts';
import { shaderSources } from '../src/gpu/shaders.generated.ts';

const gpu = useGpu();

describe('GPU context', () => {
  it('names its adapter and requests the adapter maxima', () => {
    const { info, device, adapter } = gpu.ctx;
    expect(info.vendor.length + info.architecture.length).toBeGreaterThan(0);
    expect(device.limits.maxStorageBufferBindingSize).toBe(adapter.limits.maxStorageBufferBindingSize);
    expect(device.limits.maxBufferSize).toBe(adapter.limits.maxBufferSize);
    expect(info.limits.maxComputeWorkgroupsPerDimension).toBeGreaterThanOrEqual(65535);
  });

  it('packer output round-trips through a kernel bit for bit', async () => {
    const { ctx } = gpu;
    const values = {
      count: 4_000_000_001,
      scale: Math.fround(0.1),
      offset: -123456,
      origin: [1.5, -2.25, 3e-8],
      weights: [0.5, 1e30, -0, 7],
      taps: [1, 2, 3, 4, 0xffffffff, 6, 7, 8],
      last: Math.fround(Math.PI),
    };
    const kernel = await createComputeKernel(ctx, 'common/pack-echo.wgsl');
    const paramBuf = await ctx.createBuffer({ label: 'test.params', size: structLayout('EchoParams').size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    const out = await ctx.createBuffer({ label: 'test.echoed', size: 19 * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
    const packed = packStruct('EchoParams', values);
    ctx.device.queue.writeBuffer(paramBuf, 0, packed);
    const enc = ctx.device.createCommandEncoder();
    const pass = enc.beginComputePass();
    pass.setPipeline(kernel.pipelines.get('echoParams')!);
    pass.setBindGroup(0, kernel.bind(0, { params: paramBuf, echoed: out }, 'test.bind'));
    pass.dispatchWorkgroups(1);
    pass.end();
    ctx.device.queue.submit([enc.finish()]);
    const echoed = new Uint32Array(await readBuffer(ctx, out));
    const view = new DataView(packed);
    const layout = structLayout('EchoParams');
    const expected: number[] = [];
    const u = (o: number) => view.getUint32(o, true);
    const off = Object.fromEntries(layout.fields.map((f) => [f.name, f.offset]));
    expected.push(u(off.count), u(off.scale), u(off.offset));
    for (let i = 0; i < 3; i++) expected.push(u(off.origin + 4 * i));
    for (let i = 0; i < 4; i++) expected.push(u(off.weights + 4 * i));
    for (let i = 0; i < 8; i++) expected.push(u(off.taps + 16 * Math.floor(i / 4) + 4 * (i % 4)));
    expected.push(u(off.last));
    expect([...echoed]).toEqual(expected);
    // And the host-side view of the same bytes matches what was packed.
    expect(unpackStruct(layout, view)).toMatchObject({ count: 4_000_000_001, offset: -123456, taps: values.taps });
    ctx.release(paramBuf);
    ctx.release(out);
  });

  it('rejects unknown and missing struct fields by name', () => {
    expect(() => packStruct('EchoParams', { count: 1 } as never)).toThrow(ParameterError);
    expect(() => packStruct('EchoParams', { bogus: 1 } as never)).toThrow(/EchoParams\.bogus/);
  });

  it('reports a WGSL compile error with file and line', async () => {
    const { ctx } = gpu;
    const original = shaderSources['common/pack-echo.wgsl'];
    shaderSources['test/broken.wgsl'] = '// @include common/pack-echo.wgsl\n\nfn broken() -> f32 {\n  return 1.0 +;\n}\n';
    try {
      const err = await createShaderModule(ctx, 'test/broken.wgsl').catch((e) => e);
      expect(err).toBeInstanceOf(ShaderCompileError);
      expect(err.file).toBe('test/broken.wgsl');
      expect(err.line).toBe(4);
    } finally {
      delete shaderSources['test/broken.wgsl'];
      expect(shaderSources['common/pack-echo.wgsl']).toBe(original);
    }
  });

  it('folds large dispatches into two dimensions', () => {
    expect(makeDispatchSize(10, 65535)).toEqual([10, 1]);
    const [x, y] = makeDispatchSize(200_000, 65535);
    expect(x).toBeLessThanOrEqual(65535);
    expect(x * y).toBeGreaterThanOrEqual(200_000);
  });

  it('dispose is idempotent and use after dispose throws a named error', async () => {
    const ctx2 = await createGpuContext({ notify: () => {} });
    await ctx2.createBuffer({ label: 'test.tmp', size: 256, usage: GPUBufferUsage.STORAGE });
    ctx2.dispose();
    ctx2.dispose();
    await expect(ctx2.createBuffer({ label: 'x', size: 4, usage: GPUBufferUsage.STORAGE })).rejects.toBeInstanceOf(DisposedError);
  });

  it('a buffer above the device limit is an AdapterLimitError naming the limit', async () => {
    const ctx = gpu.ctx;
    const err = await ctx.createBuffer({ label: 'test.huge', size: ctx.device.limits.maxBufferSize + 4, usage: GPUBufferUsage.STORAGE }).catch((e) => e);
    expect(err).toBeInstanceOf(AdapterLimitError);
    expect(err.message).toMatch(/maxBufferSize/);
  });

  it('a lost device is reported as DeviceLostError, not a hang or a silent result', async () => {
    const ctx = await createGpuContext({ notify: () => {} });
    ctx.device.destroy(); // as a driver reset would
    await ctx.device.lost;
    await expect(ctx.createBuffer({ label: 'x', size: 4, usage: GPUBufferUsage.STORAGE })).rejects.toBeInstanceOf(DeviceLostError);
    ctx.dispose();
  });

  it('can run without the subgroups feature', async () => {
    const ctx3 = await createGpuContext({ notify: () => {}, disableSubgroups: true });
    expect(ctx3.hasSubgroups).toBe(false);
    ctx3.dispose();
  });
});
