// WebGPU backend for batched rate circuits: thousands of independent circuits, one thread each, many steps per dispatch, one readback at the end (samples per chunk).
import { AdapterLimitError, ParameterError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { packStruct, packStructArray, structLayout } from '../../gpu/pack.ts';
import { getCachedKernel, makeDispatchSize } from '../../gpu/shaders.ts';
import { shaderSources } from '../../gpu/shaders.generated.ts';
import { makeRateBatchArrays, type RateBatch, type RateBatchResult } from './integrate-cpu.ts';
import { positiveIntOption } from '../../util/options.ts';
import { createBufferSet } from '../../gpu/buffer-set.ts';

export type { RateBatch, RateBatchResult } from './integrate-cpu.ts';

const shaderPath = 'rate/integrate.wgsl';

/** The largest n the kernel's private arrays hold, read from the shader so the WGSL stays the one definition. */
export const rateMaxN: number = Number(/const rateMaxN: u32 = (\d+)u;/.exec(shaderSources[shaderPath] ?? '')?.[1] ?? NaN);

export interface RateIntegratorOptions {
  /** Steps each thread takes inside one dispatch (default 1000). */
  stepsPerDispatch?: number;
  /** Dispatches encoded per submit (default 8); progress is reported per submit. */
  dispatchesPerSubmit?: number;
  /** Threads per workgroup (default 64; 1 exercises the 2-D dispatch fold with a small batch). */
  workgroupSize?: number;
  /** GPU memory for sampled rows between readbacks (default 32 MiB). */
  sampleBudgetBytes?: number;
}

/** Integrates every circuit of the batch on the GPU; same contract and f32 arithmetic as integrateRateBatchCpu. */
export async function integrateRateBatchGpu(
  ctx: GpuContext,
  batch: RateBatch,
  onProgress?: (done: number, total: number) => void,
  options: RateIntegratorOptions = {},
): Promise<RateBatchResult> {
  const a = makeRateBatchArrays(batch);
  const { batch: B, n, sampleEvery } = a;
  if (n > rateMaxN) {
    throw new ParameterError('circuits[0].n', `n = ${n} exceeds the GPU kernel's limit of ${rateMaxN} cells per circuit`, `use integrateRateBatchCpu for n > ${rateMaxN}, or raise rateMaxN in shaders/rate/integrate.wgsl and run \`npm run gen\``);
  }
  const stepsPerDispatch = positiveIntOption(options.stepsPerDispatch, 1000, 'stepsPerDispatch');
  const perSubmit = positiveIntOption(options.dispatchesPerSubmit, 8, 'dispatchesPerSubmit');
  const workgroupSize = positiveIntOption(options.workgroupSize, 64, 'workgroupSize');
  const sampleBudget = positiveIntOption(options.sampleBudgetBytes, 32 << 20, 'sampleBudgetBytes');
  ctx.assertUsable('integrateRateBatchGpu');
  const dev = ctx.device;
  const maxBinding = dev.limits.maxStorageBufferBindingSize;
  const rowBytes = B * n * 4;
  if (B * n * n * 4 > maxBinding) {
    throw new AdapterLimitError('maxStorageBufferBindingSize', B * n * n * 4, maxBinding, `the weights of ${B} circuits of n = ${n} do not fit one binding; split the batch`);
  }
  if (rowBytes > maxBinding) throw new AdapterLimitError('maxStorageBufferBindingSize', rowBytes, maxBinding, 'split the batch');

  // One pipeline per (workgroup size, n, method), cached per device.
  const kernel = await getCachedKernel(ctx, shaderPath, { workgroupSize, circuitSize: n, useRk4: batch.method === 'rk4' ? 1 : 0 }, { dynamicOffsets: ['dispatchInfo'] });
  const t0 = performance.now();
  const totalRows = sampleEvery > 0 ? Math.floor(batch.steps / sampleEvery) : 0; // sampled rows after step 0
  const rowsPerChunk = sampleEvery > 0 ? Math.max(1, Math.min(totalRows, Math.floor(Math.min(sampleBudget, maxBinding) / rowBytes))) : 0;
  const samples = sampleEvery > 0 ? new Float32Array((totalRows + 1) * B * n) : null;
  samples?.set(a.x0, 0);

  const owned = createBufferSet(ctx, 'RateIntegrator');
  const S = GPUBufferUsage.STORAGE;
  const CD = GPUBufferUsage.COPY_DST;
  const CS = GPUBufferUsage.COPY_SRC;
  const U = GPUBufferUsage.UNIFORM;
  try {
    const upload = async (label: string, data: Float32Array<ArrayBuffer> | ArrayBuffer, usage = S | CD) => {
      const buffer = await owned.create(label, data.byteLength, usage);
      dev.queue.writeBuffer(buffer, 0, data);
      return buffer;
    };
    const groups = Math.ceil(B / workgroupSize);
    const dispatch = makeDispatchSize(groups, dev.limits.maxComputeWorkgroupsPerDimension);
    const params = await upload('params', packStruct('RateBatchParams', { batch: B, sampleEvery, threadsPerRow: dispatch[0] * workgroupSize }), U | CD);
    const weights = await upload('weights', a.weights);
    const inputs = await upload('inputs', a.inputs);
    const stepScales = await upload('stepScales', a.stepScales);
    const activationData = packStructArray(
      'RateActivation',
      Array.from(a.kinds, (kind, b) => ({ kind, xmax: a.xmax[b], invXmax: a.invXmax[b] })),
    );
    const activations = await upload('activations', activationData);
    const state = await upload('state', a.x0, S | CD | CS);
    const sampleRows = await owned.create('samples', Math.max(1, rowsPerChunk) * rowBytes, S | CS);
    const staging = await owned.create('staging', Math.max(1, rowsPerChunk) * rowBytes, GPUBufferUsage.MAP_READ | CD);
    const slotStride = Math.max(256, dev.limits.minUniformBufferOffsetAlignment);
    const slotSize = structLayout('RateDispatch').size;
    const slots = await owned.create('dispatchSlots', perSubmit * slotStride, U | CD);
    const bindGroups = [
      kernel.bind(0, { params, weights, inputs, stepScales, activations }, 'RateIntegrator.group0'),
      kernel.bind(1, { state, samples: sampleRows }, 'RateIntegrator.group1'),
      kernel.bind(2, { dispatchInfo: { buffer: slots, offset: 0, size: slotSize } }, 'RateIntegrator.group2'),
    ];
    const pipeline = kernel.pipelines.get('integrateRateCircuits')!;

    const readInto = async (src: GPUBuffer, bytes: number, out: Float32Array, at: number) => {
      const enc = dev.createCommandEncoder({ label: 'RateIntegrator.readback' });
      enc.copyBufferToBuffer(src, 0, staging, 0, bytes);
      dev.queue.submit([enc.finish()]);
      await staging.mapAsync(GPUMapMode.READ, 0, bytes);
      ctx.assertUsable('integrateRateBatchGpu');
      out.set(new Float32Array(staging.getMappedRange(0, bytes)), at);
      staging.unmap();
    };

    // Chunks end where the sample buffer is full (or at the last step); each is split into dispatches.
    let done = 0;
    let chunk = 0;
    while (done < batch.steps) {
      const chunkEnd = sampleEvery > 0 ? Math.min(batch.steps, (chunk + 1) * rowsPerChunk * sampleEvery) : batch.steps;
      const sampleBase = chunk * rowsPerChunk + 1;
      while (done < chunkEnd) {
        const slotData = new ArrayBuffer(perSubmit * slotStride);
        const enc = dev.createCommandEncoder({ label: 'RateIntegrator.steps' });
        const pass = enc.beginComputePass({ label: 'RateIntegrator.steps' });
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, bindGroups[0]);
        pass.setBindGroup(1, bindGroups[1]);
        for (let d = 0; d < perSubmit && done < chunkEnd; d++) {
          const steps = Math.min(stepsPerDispatch, chunkEnd - done);
          new Uint8Array(slotData, d * slotStride, slotSize).set(new Uint8Array(packStruct('RateDispatch', { stepStart: done, steps, sampleBase })));
          pass.setBindGroup(2, bindGroups[2], [d * slotStride]);
          pass.dispatchWorkgroups(dispatch[0], dispatch[1]);
          done += steps;
        }
        pass.end();
        // Queue order puts this write after the previous submit's reads of the slots.
        dev.queue.writeBuffer(slots, 0, slotData);
        dev.queue.submit([enc.finish()]);
        if (onProgress) {
          await dev.queue.onSubmittedWorkDone();
          ctx.assertUsable('integrateRateBatchGpu');
          onProgress(done, batch.steps);
        }
      }
      if (samples) {
        const rows = Math.floor(chunkEnd / sampleEvery) - sampleBase + 1;
        if (rows > 0) await readInto(sampleRows, rows * rowBytes, samples, sampleBase * B * n);
      }
      chunk++;
    }
    const final = new Float32Array(B * n);
    await readInto(state, rowBytes, final, 0);
    return { final, samples, sampleSteps: a.sampleSteps, wallSeconds: (performance.now() - t0) / 1000, backend: 'webgpu' };
  } finally {
    owned.release();
  }
}
