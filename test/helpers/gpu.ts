// GPU test harness: one context per test file, every test inside a validation scope, leaks and errors fail the test.
import { afterAll, afterEach, beforeAll, beforeEach, expect } from 'vitest';
import { createGpuContext, type GpuContext, type GpuContextOptions } from '../../src/gpu/context.ts';

/**
 * Call at the top of a *.gpu.test.ts file. Never skips: no adapter is a failure, since CI must
 * run the GPU tier on SwiftShader.
 */
export function useGpu(options: GpuContextOptions = {}): { readonly ctx: GpuContext } {
  const holder = { ctx: null as unknown as GpuContext };
  beforeAll(async () => {
    holder.ctx = await createGpuContext({ notify: () => {}, ...options });
  });
  beforeEach(() => {
    holder.ctx.device.pushErrorScope('validation');
  });
  afterEach(async () => {
    const err = await holder.ctx.device.popErrorScope();
    expect(err?.message ?? null, 'WebGPU validation error during the test').toBeNull();
    await holder.ctx.checkErrors();
  });
  afterAll(() => {
    holder.ctx?.dispose();
  });
  return holder;
}
