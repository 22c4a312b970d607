// GC stress: Dawn aborts the process if a GPU instance is collected, so contexts must survive collection at any point.
import { describe, expect, it } from 'vitest';
import { createGpuContext } from '../src/gpu/context.ts';
import { createComputeKernel, readBuffer } from '../src/gpu/shaders.ts';
import { packStruct, structLayout } from '../src/gpu/pack.ts';
import { runExperiment } from '../src/models/poisson/experiment.ts';

const gc = (globalThis as { gc?: () => void }).gc;

async function echoOnce(): Promise<number> {
  const ctx = await createGpuContext({ notify: () => {} });
  gc!();
  const kernel = await createComputeKernel(ctx, 'common/pack-echo.wgsl');
  const params = await ctx.createBuffer({ label: 'gc.params', size: structLayout('EchoParams').size, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const out = await ctx.createBuffer({ label: 'gc.out', size: 19 * 4, usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC });
  ctx.device.queue.writeBuffer(params, 0, packStruct('EchoParams', { count: 77, scale: 1, offset: 0, origin: [0, 0, 0], weights: [0, 0, 0, 0], taps: [0, 0, 0, 0, 0, 0, 0, 0], last: 0 }));
  const enc = ctx.device.createCommandEncoder();
  const pass = enc.beginComputePass();
  pass.setPipeline(kernel.pipelines.get('echoParams')!);
  pass.setBindGroup(0, kernel.bind(0, { params, echoed: out }, 'gc.bind'));
  pass.dispatchWorkgroups(1);
  pass.end();
  ctx.device.queue.submit([enc.finish()]);
  gc!();
  const v = new Uint32Array(await readBuffer(ctx, out))[0];
  ctx.dispose();
  gc!();
  return v;
}

describe('Dawn instance lifetime under garbage collection', () => {
  it('runs with --expose-gc (configured in vitest.config.ts)', () => {
    expect(typeof gc).toBe('function');
  });

  it('survives gc() between create, dispatch, readback and dispose, repeatedly', async () => {
    for (let i = 0; i < 4; i++) expect(await echoOnce()).toBe(77);
  });

  // The pattern that aborted the process ("The futex facility returned an unexpected error code")
  // before instances were cached: a disposed context, then allocation-heavy JS that lets V8 collect it.
  it('survives allocation-heavy work after contexts were disposed', async () => {
    for (let i = 0; i < 3; i++) {
      const ctx = await createGpuContext({ notify: () => {} });
      ctx.dispose();
    }
    let calls = 0;
    const r = await runExperiment({ n: 500, steps: 3000, backend: 'cpu', seed: 1, set: { burnin: 0 }, recorders: { chunkSteps: 100 }, onProgress: () => (++calls % 3 === 0 ? gc!() : undefined) });
    gc!();
    expect(r.instances[0].sim.steps).toBe(3000);
    expect(await echoOnce()).toBe(77);
  });
});
