// WebGPU backend for batched rate circuits: thousands of independent circuits, one thread each, many steps per dispatch.
// Incremental: run(k) continues from the state buffer (the kernel takes its global start step), sampled rows are read
// back when the sample buffer is full and at the end of each run() call, the final state on readState().
import { AdapterLimitError, ParameterError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { packStruct, packStructArray, structLayout } from '../../gpu/pack.ts';
import { getCachedKernel, makeDispatchSize } from '../../gpu/shaders.ts';
import { shaderSources } from '../../gpu/shaders.generated.ts';
import { checkRunSteps, makeRateBatchArrays, type RateBatch, type RateBatchResult, type RateIntegrator, type RateRunControl } from './integrate-cpu.ts';
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

type Kernel = Awaited<ReturnType<typeof getCachedKernel>>;

/** The WebGPU integrator of a batch; same contract and f32 arithmetic as RateCpuIntegrator. Create with RateGpuIntegrator.create. */
export class RateGpuIntegrator implements RateIntegrator {
  readonly backend = 'webgpu' as const;
  readonly batch: number;
  readonly n: number;
  readonly stepsTotal: number;
  readonly samples: Float32Array | null;
  readonly sampleSteps: readonly number[];
  private done = 0;
  /** Global sample number held by row 0 of the GPU sample buffer (the next row to read back). */
  private sampleBase = 1;
  private disposed = false;

  private constructor(
    private readonly ctx: GpuContext,
    private readonly owned: ReturnType<typeof createBufferSet>,
    private readonly g: {
      sampleEvery: number;
      rowsPerChunk: number;
      rowBytes: number;
      stepsPerDispatch: number;
      perSubmit: number;
      dispatch: readonly [number, number];
      slotStride: number;
      slotSize: number;
      pipeline: GPUComputePipeline;
      bindGroups: GPUBindGroup[];
      slots: GPUBuffer;
      state: GPUBuffer;
      sampleRows: GPUBuffer;
      staging: GPUBuffer;
    },
    a: { batch: number; n: number; sampleSteps: number[]; x0: Float32Array },
    steps: number,
  ) {
    this.batch = a.batch;
    this.n = a.n;
    this.stepsTotal = steps;
    this.sampleSteps = a.sampleSteps;
    this.samples = g.sampleEvery > 0 ? new Float32Array(a.sampleSteps.length * a.batch * a.n) : null;
    this.samples?.set(a.x0, 0);
  }

  static async create(ctx: GpuContext, batch: RateBatch, options: RateIntegratorOptions = {}): Promise<RateGpuIntegrator> {
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
    const kernel: Kernel = await getCachedKernel(ctx, shaderPath, { workgroupSize, circuitSize: n, useRk4: batch.method === 'rk4' ? 1 : 0 }, { dynamicOffsets: ['dispatchInfo'] });
    const totalRows = sampleEvery > 0 ? Math.floor(batch.steps / sampleEvery) : 0; // sampled rows after step 0
    const rowsPerChunk = sampleEvery > 0 ? Math.max(1, Math.min(totalRows, Math.floor(Math.min(sampleBudget, maxBinding) / rowBytes))) : 0;

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
      return new RateGpuIntegrator(
        ctx,
        owned,
        { sampleEvery, rowsPerChunk, rowBytes, stepsPerDispatch, perSubmit, dispatch, slotStride, slotSize, pipeline, bindGroups, slots, state, sampleRows, staging },
        a,
        batch.steps,
      );
    } catch (e) {
      owned.release();
      throw e;
    }
  }

  get stepsDone(): number {
    return this.done;
  }

  private async readInto(src: GPUBuffer, bytes: number, out: Float32Array, at: number): Promise<void> {
    const dev = this.ctx.device;
    const enc = dev.createCommandEncoder({ label: 'RateIntegrator.readback' });
    enc.copyBufferToBuffer(src, 0, this.g.staging, 0, bytes);
    dev.queue.submit([enc.finish()]);
    await this.g.staging.mapAsync(GPUMapMode.READ, 0, bytes);
    this.ctx.assertUsable('integrateRateBatchGpu');
    out.set(new Float32Array(this.g.staging.getMappedRange(0, bytes)), at);
    this.g.staging.unmap();
  }

  /** Reads back the sample rows written since the last readback (global rows sampleBase .. floor(done / sampleEvery)). */
  private async flushSamples(): Promise<void> {
    const { sampleEvery, rowBytes } = this.g;
    if (!this.samples) return;
    const rows = Math.floor(this.done / sampleEvery) - this.sampleBase + 1;
    if (rows > 0) await this.readInto(this.g.sampleRows, rows * rowBytes, this.samples, this.sampleBase * this.batch * this.n);
    this.sampleBase += Math.max(0, rows);
  }

  async run(steps: number, control: RateRunControl = {}): Promise<void> {
    if (this.disposed) throw new ParameterError('integrator', 'is disposed', 'create a new one');
    checkRunSteps(steps, this.done, this.stepsTotal);
    this.ctx.assertUsable('integrateRateBatchGpu');
    const dev = this.ctx.device;
    const g = this.g;
    const start = this.done;
    const end = start + steps;
    const wait = control.onProgress !== undefined || control.signal !== undefined;
    let aborted = false;
    // Windows end where the sample buffer is full (or at the end of this call); each is split into dispatches.
    while (this.done < end && !aborted) {
      const windowEnd = g.sampleEvery > 0 ? Math.min(end, (this.sampleBase + g.rowsPerChunk - 1) * g.sampleEvery) : end;
      while (this.done < windowEnd) {
        if (control.signal?.aborted) {
          aborted = true;
          break;
        }
        const slotData = new ArrayBuffer(g.perSubmit * g.slotStride);
        const enc = dev.createCommandEncoder({ label: 'RateIntegrator.steps' });
        const pass = enc.beginComputePass({ label: 'RateIntegrator.steps' });
        pass.setPipeline(g.pipeline);
        pass.setBindGroup(0, g.bindGroups[0]);
        pass.setBindGroup(1, g.bindGroups[1]);
        for (let d = 0; d < g.perSubmit && this.done < windowEnd; d++) {
          const k = Math.min(g.stepsPerDispatch, windowEnd - this.done);
          new Uint8Array(slotData, d * g.slotStride, g.slotSize).set(new Uint8Array(packStruct('RateDispatch', { stepStart: this.done, steps: k, sampleBase: this.sampleBase })));
          pass.setBindGroup(2, g.bindGroups[2], [d * g.slotStride]);
          pass.dispatchWorkgroups(g.dispatch[0], g.dispatch[1]);
          this.done += k;
        }
        pass.end();
        // Queue order puts this write after the previous submit's reads of the slots.
        dev.queue.writeBuffer(g.slots, 0, slotData);
        dev.queue.submit([enc.finish()]);
        if (wait) {
          await dev.queue.onSubmittedWorkDone();
          this.ctx.assertUsable('integrateRateBatchGpu');
          control.onProgress?.(this.done - start, steps);
        }
      }
      // The rows of this window, also when aborted: the samples stay consistent with stepsDone.
      await this.flushSamples();
    }
    if (aborted) control.signal?.throwIfAborted();
  }

  async readState(): Promise<Float32Array> {
    if (this.disposed) throw new ParameterError('integrator', 'is disposed', 'create a new one');
    this.ctx.assertUsable('integrateRateBatchGpu');
    const out = new Float32Array(this.batch * this.n);
    await this.readInto(this.g.state, this.g.rowBytes, out, 0);
    return out;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.owned.release();
  }
}

/** Integrates every circuit of the batch on the GPU; same contract and f32 arithmetic as integrateRateBatchCpu. */
export async function integrateRateBatchGpu(
  ctx: GpuContext,
  batch: RateBatch,
  onProgress?: (done: number, total: number) => void,
  options: RateIntegratorOptions = {},
): Promise<RateBatchResult> {
  const t0 = performance.now();
  const it = await RateGpuIntegrator.create(ctx, batch, options);
  try {
    await it.run(batch.steps, { onProgress });
    const final = await it.readState();
    return { final, samples: it.samples, sampleSteps: [...it.sampleSteps], wallSeconds: (performance.now() - t0) / 1000, backend: 'webgpu' };
  } finally {
    it.dispose();
  }
}
