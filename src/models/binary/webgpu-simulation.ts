// WebGPU backend of the binary E-I network: many steps per submit (one dynamic-offset StepUniforms slot per
// step), active counts read back per chunk, the histogram of m accumulated on the GPU and read back on demand;
// likewise the joint-pattern histogram of neurons [0, M) and the per-neuron post-burnin active counts.
import { packStepSlots, type StepSlot } from '../../gpu/step-slots.ts';
import { createReducer, type Reducer } from '../../gpu/reducer.ts';
import { AdapterLimitError, DisposedError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { packStruct, packStructArray, structLayout } from '../../gpu/pack.ts';
import { createComputeKernel, makeDispatchSize, readBuffer, type ComputeKernel } from '../../gpu/shaders.ts';
import type { BinaryUniforms } from '../../gpu/shaders.generated.ts';
import { createBufferSet, type BufferSet } from '../../gpu/buffer-set.ts';
import { makeNeuronsPerThread, stepWorkgroupSize } from '../../gpu/neurons-per-thread.ts';
import { seedToKey } from '../../rng/index.ts';
import {
  binaryConnectivity,
  checkBinarySpec,
  checkBinaryStepBudget,
  makeBinaryInstance,
  makeErScale,
  makeHalfBits,
  meanSingleNeuronEntropyBits,
  type BinaryRunOptions,
  type BinarySimulationSpec,
} from './network.ts';

const countBudgetBytes = 16 << 20;

/** The simulation-wide uniforms (shaders/binary/step.wgsl BinaryUniforms). */
function makeBinaryUniforms(spec: BinarySimulationSpec, workgroupsPerInstance: number): BinaryUniforms {
  const { N, k } = spec.params[0];
  const er = binaryConnectivity(spec.params[0]) === 'erdos-renyi';
  return {
    n: N, batch: spec.params.length, seed: seedToKey(spec.seed), k, halfBits: makeHalfBits(N), workgroupsPerInstance, burnin: spec.burnin,
    connectivity: er ? 1 : 0, erScale: er ? makeErScale(N, k) : 0, patternNeurons: spec.patternNeurons ?? 0, pad0: 0,
  };
}

interface Resources {
  kernel: ComputeKernel;
  owned: BufferSet;
  state: GPUBuffer;
  counts: GPUBuffer;
  hist: GPUBuffer;
  patterns: GPUBuffer;
  patternHist: GPUBuffer;
  active: GPUBuffer;
  stepSlots: GPUBuffer;
  staging: GPUBuffer;
  groups: GPUBindGroup[];
  slotStride: number;
  chunkSteps: number;
  stepDispatch: [number, number];
  maxDim: number;
}

export class WebGpuBinarySimulation {
  private reducer: Reducer | null = null;
  readonly backend = 'webgpu' as const;
  readonly n: number;
  readonly batch: number;
  private stepCount = 0;
  private disposed = false;

  private constructor(private readonly ctx: GpuContext, private readonly r: Resources, n: number, batch: number, private readonly patternNeurons: number, private readonly burnin: number) {
    this.n = n;
    this.batch = batch;
  }

  static async create(ctx: GpuContext, spec: BinarySimulationSpec): Promise<WebGpuBinarySimulation> {
    checkBinarySpec(spec);
    ctx.assertUsable();
    const dev = ctx.device;
    const n = spec.params[0].N;
    const batch = spec.params.length;
    const maxBinding = dev.limits.maxStorageBufferBindingSize;
    const stateBytes = 2 * n * batch * 4;
    if (stateBytes > maxBinding) throw new AdapterLimitError('maxStorageBufferBindingSize', stateBytes, maxBinding, `2 x N x batch states need ${stateBytes} bytes in one binding; reduce N or the batch`);
    const histBytes = (n + 1) * batch * 4;
    if (histBytes > maxBinding) throw new AdapterLimitError('maxStorageBufferBindingSize', histBytes, maxBinding, 'the histogram (N + 1) x batch does not fit one binding; reduce N or the batch');
    const npt = makeNeuronsPerThread(ctx.info.isSoftware);
    const wpi = Math.ceil(n / (stepWorkgroupSize * npt));
    const slotStride = Math.max(256, dev.limits.minUniformBufferOffsetAlignment);
    const chunkSteps = Math.max(1, Math.min(spec.chunkSteps ?? 1000, Math.floor(countBudgetBytes / (batch * 4 + slotStride))));
    const owned = createBufferSet(ctx, 'BinarySimulation');
    const buf = owned.create;
    const S = GPUBufferUsage.STORAGE;
    const CD = GPUBufferUsage.COPY_DST;
    const CS = GPUBufferUsage.COPY_SRC;
    try {
      const kernel = await createComputeKernel(ctx, 'binary/step.wgsl', { workgroupSize: stepWorkgroupSize, neuronsPerThread: npt }, { dynamicOffsets: ['stepInfo'] });
      const sim = await buf('sim', structLayout('BinaryUniforms').size, GPUBufferUsage.UNIFORM | CD);
      dev.queue.writeBuffer(sim, 0, packStruct('BinaryUniforms', makeBinaryUniforms(spec, wpi)));
      const instData = packStructArray('BinaryInstance', spec.params.map(makeBinaryInstance));
      const instances = await buf('instances', instData.byteLength, S | CD);
      dev.queue.writeBuffer(instances, 0, instData);
      const instanceIds = await buf('instanceIds', batch * 4, S | CD);
      dev.queue.writeBuffer(instanceIds, 0, Uint32Array.from(spec.instanceIds ?? spec.params.map((_, b) => b)));
      const state = await buf('state', stateBytes, S | CS);
      const counts = await buf('counts', chunkSteps * batch * 4, S | CS | CD);
      const hist = await buf('hist', histBytes, S | CS | CD);
      const M = spec.patternNeurons ?? 0;
      const patterns = await buf('patterns', chunkSteps * batch * 4, S | CD);
      const patternHist = await buf('patternHist', (batch << M) * 4, S | CS);
      const active = await buf('active', n * batch * 4, S | CS);
      // Slots 0..chunkSteps-1: the chunk's steps; slot chunkSteps: the histogram pass (and init).
      const stepSlots = await buf('stepSlots', (chunkSteps + 1) * slotStride, GPUBufferUsage.UNIFORM | CD);
      const staging = await buf('staging', chunkSteps * batch * 4, GPUBufferUsage.MAP_READ | CD);
      const slot = { buffer: stepSlots, offset: 0, size: structLayout('StepUniforms').size };
      const groups = [
        kernel.bind(0, { sim, instances, instanceIds }, 'BinarySimulation.group0'),
        kernel.bind(1, { state, counts, hist, patterns, patternHist, activeCounts: active }, 'BinarySimulation.group1'),
        kernel.bind(2, { stepInfo: slot }, 'BinarySimulation.group2'),
      ];
      const maxDim = dev.limits.maxComputeWorkgroupsPerDimension;
      const s = new WebGpuBinarySimulation(ctx, { kernel, owned, state, counts, hist, patterns, patternHist, active, stepSlots, staging, groups, slotStride, chunkSteps, stepDispatch: makeDispatchSize(batch * wpi, maxDim), maxDim }, n, batch, M, spec.burnin);
      s.encodeAndSubmit('initBinaryNeurons', [{ step: 0, row: 0, at: chunkSteps }]);
      return s;
    } catch (e) {
      owned.release();
      throw e;
    }
  }

  get step(): number {
    return this.stepCount;
  }

  private writeSlots(rows: StepSlot[]): void {
    this.ctx.device.queue.writeBuffer(this.r.stepSlots, 0, packStepSlots(rows, this.r.slotStride));
  }

  private encodeAndSubmit(entry: 'initBinaryNeurons', rows: StepSlot[]): void {
    this.writeSlots(rows);
    const r = this.r;
    const enc = this.ctx.device.createCommandEncoder({ label: 'BinarySimulation.init' });
    const pass = enc.beginComputePass({ label: 'BinarySimulation.init' });
    pass.setBindGroup(0, r.groups[0]);
    pass.setBindGroup(1, r.groups[1]);
    pass.setBindGroup(2, r.groups[2], [rows[0].at * r.slotStride]);
    pass.setPipeline(r.kernel.pipelines.get(entry)!);
    pass.dispatchWorkgroups(...r.stepDispatch);
    pass.end();
    this.ctx.device.queue.submit([enc.finish()]);
  }

  async run(steps: number, options: BinaryRunOptions = {}): Promise<void> {
    if (this.disposed) throw new DisposedError('WebGpuBinarySimulation');
    checkBinaryStepBudget(this.stepCount, steps);
    const r = this.r;
    const dev = this.ctx.device;
    let done = 0;
    while (done < steps) {
      const m = Math.min(r.chunkSteps, steps - done);
      const stepStart = this.stepCount;
      const rows = Array.from({ length: m }, (_, s) => ({ step: stepStart + s, row: s, at: s }));
      rows.push({ step: stepStart, row: m, at: r.chunkSteps });
      this.writeSlots(rows);
      const bytes = m * this.batch * 4;
      const enc = dev.createCommandEncoder({ label: 'BinarySimulation.chunk' });
      enc.clearBuffer(r.counts, 0, bytes);
      enc.clearBuffer(r.patterns, 0, bytes);
      const pass = enc.beginComputePass({ label: 'BinarySimulation.steps' });
      pass.setBindGroup(0, r.groups[0]);
      pass.setBindGroup(1, r.groups[1]);
      pass.setPipeline(r.kernel.pipelines.get('stepBinaryNeurons')!);
      for (let s = 0; s < m; s++) {
        pass.setBindGroup(2, r.groups[2], [s * r.slotStride]);
        pass.dispatchWorkgroups(...r.stepDispatch);
      }
      pass.setBindGroup(2, r.groups[2], [r.chunkSteps * r.slotStride]);
      pass.setPipeline(r.kernel.pipelines.get('accumulateHistogram')!);
      pass.dispatchWorkgroups(...makeDispatchSize(Math.ceil((m * this.batch) / stepWorkgroupSize), r.maxDim));
      pass.end();
      enc.copyBufferToBuffer(r.counts, 0, r.staging, 0, bytes);
      dev.queue.submit([enc.finish()]);
      await r.staging.mapAsync(GPUMapMode.READ, 0, bytes);
      this.ctx.assertUsable('WebGpuBinarySimulation');
      const counts = new Uint32Array(r.staging.getMappedRange(0, bytes).slice(0));
      r.staging.unmap();
      this.stepCount += m;
      done += m;
      options.onChunk?.({ stepStart, steps: m, batch: this.batch, counts });
      options.onProgress?.(done, steps);
    }
  }

  /** [instance][m], m in [0, N]: steps t >= burnin by the active count after them. */
  async histogram(): Promise<Uint32Array> {
    if (this.disposed) throw new DisposedError('WebGpuBinarySimulation');
    return new Uint32Array(await readBuffer(this.ctx, this.r.hist, this.batch * (this.n + 1) * 4));
  }

  /** Shannon entropy (bits) of each instance's histogram of m, reduced on the GPU (src/gpu/reducer.ts). */
  async entropyBits(): Promise<Float64Array> {
    if (this.disposed) throw new DisposedError('WebGpuBinarySimulation');
    this.reducer ??= await createReducer(this.ctx);
    return this.reducer.entropy(this.r.hist, { batch: this.batch, bins: this.n + 1 });
  }

  /** [instance][pattern], pattern in [0, 2^M): steps t >= burnin by the joint state of neurons [0, M) after them (bit i = s_i). */
  async patternHistogram(): Promise<Uint32Array> {
    if (this.disposed) throw new DisposedError('WebGpuBinarySimulation');
    return new Uint32Array(await readBuffer(this.ctx, this.r.patternHist, (this.batch << this.patternNeurons) * 4));
  }

  /** [instance][neuron]: steps t >= burnin after which the neuron was active. */
  async activeCounts(): Promise<Uint32Array> {
    if (this.disposed) throw new DisposedError('WebGpuBinarySimulation');
    return new Uint32Array(await readBuffer(this.ctx, this.r.active, this.batch * this.n * 4));
  }

  /** Per instance: mean over neurons of the binary entropy (bits) of each neuron's post-burnin activity fraction (f64 on the host from exact counts). */
  async meanSingleNeuronEntropyBits(): Promise<Float64Array> {
    return meanSingleNeuronEntropyBits(await this.activeCounts(), this.batch, this.n, Math.max(0, this.stepCount - this.burnin));
  }

  /** [instance][neuron] current states (0/1). */
  async readState(): Promise<Uint32Array> {
    if (this.disposed) throw new DisposedError('WebGpuBinarySimulation');
    const half = this.batch * this.n * 4;
    return new Uint32Array(await readBuffer(this.ctx, this.r.state, half, (this.stepCount & 1) * half));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.reducer?.dispose();
    this.r.owned.release();
  }
}
