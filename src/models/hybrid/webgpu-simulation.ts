// WebGPU backend of the hybrid network: init, then per step one neuron pass and one per-instance reduction,
// many steps per submit; records (exact totals, moments) are read back once per chunk.
import { packStepSlots, type StepSlot } from '../../gpu/step-slots.ts';
import { AdapterLimitError, DisposedError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { packStruct, packStructArray, readStruct, structLayout, structStride } from '../../gpu/pack.ts';
import { createComputeKernel, makeDispatchSize, readBuffer, type ComputeKernel } from '../../gpu/shaders.ts';
import { makeHybridInstance } from './params.ts';
import { checkHybridSpec, checkStepBudget, type HybridChunk, type HybridSimulation, type HybridSimulationSpec, type HybridStepRecord } from './simulation.ts';
import { makeNeuronsPerThread, stepWorkgroupSize } from '../../gpu/neurons-per-thread.ts';
import { createReducer, type Reducer } from '../../gpu/reducer.ts';
import { createBufferSet, type BufferSet } from '../../gpu/buffer-set.ts';

const recordBudgetBytes = 64 << 20;

interface Resources {
  kernel: ComputeKernel;
  owned: BufferSet;
  potential: GPUBuffer;
  stepSlots: GPUBuffer;
  records: GPUBuffer;
  staging: GPUBuffer;
  groups: GPUBindGroup[];
  slotStride: number;
  chunkSteps: number;
  recordStride: number;
  stepDispatch: [number, number];
  reduceDispatch: [number, number];
}


/** Bytes of the GPU records the estimate counts, from the reflected WGSL layouts. */
export const hybridGpuBytes = { record: structStride(structLayout('HybridRecord')), partial: structLayout('MomentPartial').size };

export class WebGpuHybridSimulation implements HybridSimulation {
  readonly backend = 'webgpu' as const;
  readonly n: number;
  readonly batch: number;
  readonly dt: number;
  initial: HybridStepRecord[] = [];
  private stepCount = 0;
  private disposed = false;
  private reducer: Reducer | null = null;

  private constructor(private readonly ctx: GpuContext, private readonly spec: HybridSimulationSpec, private readonly r: Resources) {
    this.n = spec.n;
    this.batch = spec.params.length;
    this.dt = spec.dt;
  }

  static async create(ctx: GpuContext, spec: HybridSimulationSpec): Promise<WebGpuHybridSimulation> {
    checkHybridSpec(spec);
    ctx.assertUsable();
    const dev = ctx.device;
    const { n } = spec;
    const batch = spec.params.length;
    const maxBinding = dev.limits.maxStorageBufferBindingSize;
    const stateBytes = 2 * n * batch * 4;
    if (stateBytes > maxBinding) {
      throw new AdapterLimitError('maxStorageBufferBindingSize', stateBytes, maxBinding, `2 x n x batch = ${2 * n * batch} potentials need ${stateBytes} bytes in one binding; reduce --n or --batch`);
    }
    const npt = makeNeuronsPerThread(ctx.info.isSoftware);
    const wpp = Math.ceil(n / (stepWorkgroupSize * npt));
    const slotStride = Math.max(256, dev.limits.minUniformBufferOffsetAlignment);
    const recordStride = structStride(structLayout('HybridRecord'));
    const chunkSteps = Math.max(1, Math.min(spec.chunkSteps ?? 1000, Math.floor(recordBudgetBytes / (batch * recordStride + slotStride))));
    const owned = createBufferSet(ctx, 'HybridSimulation');
    const buf = owned.create;
    const S = GPUBufferUsage.STORAGE;
    const U = GPUBufferUsage.UNIFORM;
    const CD = GPUBufferUsage.COPY_DST;
    const CS = GPUBufferUsage.COPY_SRC;
    try {
      const kernel = await createComputeKernel(ctx, 'hybrid/step.wgsl', { workgroupSize: stepWorkgroupSize, neuronsPerThread: npt }, { dynamicOffsets: ['stepInfo'] });
      const sim = await buf('sim', structLayout('HybridUniforms').size, U | CD);
      dev.queue.writeBuffer(sim, 0, packStruct('HybridUniforms', { n, batch, seed: [spec.key[0], spec.key[1]], workgroupsPerPopulation: wpp, pad0: 0, pad1: 0, pad2: 0 }));
      const instData = packStructArray('HybridInstance', spec.params.map((p) => makeHybridInstance(p, n, spec.dt)));
      const instances = await buf('instances', instData.byteLength, S | CD);
      dev.queue.writeBuffer(instances, 0, instData);
      const ids = await buf('instanceIds', batch * 4, S | CD);
      dev.queue.writeBuffer(ids, 0, Uint32Array.from(spec.instanceIds ?? spec.params.map((_, b) => b)));
      const potential = await buf('potential', stateBytes, S | CS);
      const totals = await buf('totals', batch * 2 * 8, S);
      const partialCount = batch * 2 * wpp;
      if (partialCount * 16 > maxBinding) throw new AdapterLimitError('maxStorageBufferBindingSize', partialCount * 16, maxBinding);
      const totalPartials = await buf('totalPartials', partialCount * 8, S);
      const momentPartials = await buf('momentPartials', partialCount * structLayout('MomentPartial').size, S);
      // Slot chunkSteps (one past the chunk) is the initial state's record row.
      const stepSlots = await buf('stepSlots', (chunkSteps + 1) * slotStride, U | CD);
      const records = await buf('records', (chunkSteps + 1) * batch * recordStride, S | CS);
      const staging = await buf('staging', (chunkSteps + 1) * batch * recordStride, GPUBufferUsage.MAP_READ | CD);
      const slot = { buffer: stepSlots, offset: 0, size: structLayout('StepUniforms').size };
      const groups = [
        kernel.bind(0, { sim, instances, instanceIds: ids }, 'HybridSimulation.group0'),
        kernel.bind(1, { potential, totals, totalPartials, momentPartials }, 'HybridSimulation.group1'),
        kernel.bind(2, { stepInfo: slot, records }, 'HybridSimulation.group2'),
      ];
      const maxDim = dev.limits.maxComputeWorkgroupsPerDimension;
      const s = new WebGpuHybridSimulation(ctx, spec, {
        kernel, owned, potential, stepSlots, records, staging, groups, slotStride, chunkSteps, recordStride,
        stepDispatch: makeDispatchSize(batch * 2 * wpp, maxDim),
        reduceDispatch: makeDispatchSize(batch, maxDim),
      });
      s.initial = await s.runInit();
      return s;
    } catch (e) {
      owned.release();
      throw e;
    }
  }

  get step(): number {
    return this.stepCount;
  }

  get chunkSteps(): number {
    return this.r.chunkSteps;
  }

  private writeSlots(rows: StepSlot[]): void {
    this.ctx.device.queue.writeBuffer(this.r.stepSlots, 0, packStepSlots(rows, this.r.slotStride));
  }

  private encodeStep(pass: GPUComputePassEncoder, entry: 'initHybridNeurons' | 'stepHybridNeurons', at: number): void {
    const r = this.r;
    pass.setBindGroup(0, r.groups[0]);
    pass.setBindGroup(1, r.groups[1]);
    pass.setBindGroup(2, r.groups[2], [at * r.slotStride]);
    pass.setPipeline(r.kernel.pipelines.get(entry)!);
    pass.dispatchWorkgroups(...r.stepDispatch);
    pass.setPipeline(r.kernel.pipelines.get('reduceHybridPopulations')!);
    pass.dispatchWorkgroups(...r.reduceDispatch);
  }

  private async readRecords(enc: GPUCommandEncoder, firstRow: number, rows: number): Promise<HybridStepRecord[]> {
    const r = this.r;
    const bytes = rows * this.batch * r.recordStride;
    enc.copyBufferToBuffer(r.records, firstRow * this.batch * r.recordStride, r.staging, 0, bytes);
    this.ctx.device.queue.submit([enc.finish()]);
    await r.staging.mapAsync(GPUMapMode.READ, 0, bytes);
    this.ctx.assertUsable('WebGpuHybridSimulation');
    const view = new DataView(r.staging.getMappedRange(0, bytes).slice(0));
    r.staging.unmap();
    const out: HybridStepRecord[] = [];
    for (let i = 0; i < rows * this.batch; i++) {
      const x = readStruct('HybridRecord', view, i * r.recordStride);
      const tE = x.totalE;
      const tI = x.totalI;
      out.push({
        totalE: tE[0] + tE[1] * 4294967296,
        totalI: tI[0] + tI[1] * 4294967296,
        meanE: x.meanE,
        varE: x.m2E / this.n,
        meanI: x.meanI,
        varI: x.m2I / this.n,
      });
    }
    return out;
  }

  private async runInit(): Promise<HybridStepRecord[]> {
    const at = this.r.chunkSteps;
    this.writeSlots([{ step: 0, row: at, at }]);
    const enc = this.ctx.device.createCommandEncoder({ label: 'HybridSimulation.init' });
    const pass = enc.beginComputePass({ label: 'HybridSimulation.init' });
    this.encodeStep(pass, 'initHybridNeurons', at);
    pass.end();
    return this.readRecords(enc, at, 1);
  }

  async run(steps: number, options: { onChunk?: (c: HybridChunk) => void; onProgress?: (done: number, total: number) => void } = {}): Promise<void> {
    if (this.disposed) throw new DisposedError('WebGpuHybridSimulation');
    checkStepBudget(this.stepCount, steps);
    let done = 0;
    while (done < steps) {
      const m = Math.min(this.r.chunkSteps, steps - done);
      const stepStart = this.stepCount;
      this.writeSlots(Array.from({ length: m }, (_, s) => ({ step: stepStart + s, row: s, at: s })));
      const enc = this.ctx.device.createCommandEncoder({ label: 'HybridSimulation.chunk' });
      const pass = enc.beginComputePass({ label: 'HybridSimulation.steps' });
      for (let s = 0; s < m; s++) this.encodeStep(pass, 'stepHybridNeurons', s);
      pass.end();
      const records = await this.readRecords(enc, 0, m);
      this.stepCount += m;
      done += m;
      options.onChunk?.({ stepStart, steps: m, batch: this.batch, records });
      options.onProgress?.(done, steps);
    }
  }

  async readState(): Promise<Float32Array> {
    if (this.disposed) throw new DisposedError('WebGpuHybridSimulation');
    return new Float32Array(await readBuffer(this.ctx, this.r.potential));
  }

  /** On the GPU: the potential buffer seen as 2 x batch rows of n values (one per population). */
  async histogramU(bins: number, min: number, max: number): Promise<Uint32Array> {
    if (this.disposed) throw new DisposedError('WebGpuHybridSimulation');
    this.reducer ??= await createReducer(this.ctx);
    return this.reducer.histogramF32(this.r.potential, { batch: 2 * this.batch, n: this.n, bins, min, max });
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.reducer?.dispose();
    this.r.owned.release();
  }
}
