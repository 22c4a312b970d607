// WebGPU backend: many steps per submit for a PopulationModel's step kernel, recording into GPU buffers read back per chunk.
import { AdapterLimitError, DisposedError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { packStruct, packStructArray, structLayout } from '../../gpu/pack.ts';
import { createComputeKernel, makeDispatchSize, readBuffer, type ComputeKernel } from '../../gpu/shaders.ts';
import { createBufferSet, type BufferSet } from '../../gpu/buffer-set.ts';
import { packStepSlots, type StepSlot } from '../../gpu/step-slots.ts';
import { checkSimulationSpec, checkStepBudget, makeChunkSteps, type RecordChunk, type RunOptions, type Simulation, type SimulationSpec } from './simulation.ts';

/** Threads per workgroup of step kernels (a power of two: the in-workgroup reduction halves it). */

/** Bytes of a workgroup's moment partial, from the reflected WGSL layout (the estimate counts them). */
export const momentPartialBytes = structLayout('MomentPartial').size;

export const stepWorkgroupSize = 64;
const workgroupSize = stepWorkgroupSize;

/**
 * Neurons each thread updates. Software adapters pay per barrier round per thread, so they get more
 * neurons per thread; hardware GPUs want threads for latency hiding. Override with EI_NEURONS_PER_THREAD.
 */
export function makeNeuronsPerThread(isSoftware: boolean, env: Record<string, string | undefined> = typeof process !== 'undefined' ? process.env : {}): number {
  const forced = Number(env.EI_NEURONS_PER_THREAD);
  if (Number.isInteger(forced) && forced >= 1 && forced <= 1024) return forced;
  return isSoftware ? 32 : 4;
}
/** Budget for one chunk's recording buffers. */
const recordBudgetBytes = 64 << 20;

export class WebGpuPopulationSimulation implements Simulation {
  readonly backend = 'webgpu' as const;
  readonly n: number;
  readonly batch: number;
  readonly dt: number;
  private stepCount = 0;
  private disposed = false;
  private owned: BufferSet | null = null;

  private constructor(
    private readonly ctx: GpuContext,
    private readonly spec: SimulationSpec,
    private readonly res: {
      step: ComputeKernel;
      reduce: ComputeKernel;
      gather: ComputeKernel | null;
      potential: GPUBuffer;
      stepSlots: GPUBuffer;
      slotStride: number;
      popCounts: GPUBuffer;
      partials: GPUBuffer;
      spikeBits: GPUBuffer;
      population: GPUBuffer;
      traces: GPUBuffer | null;
      staging: GPUBuffer;
      groups: { step0: GPUBindGroup; step1: GPUBindGroup; step2: GPUBindGroup; reduce: GPUBindGroup; gather0: GPUBindGroup | null; gather1: GPUBindGroup | null };
      chunkSteps: number;
      workgroupsPerInstance: number;
      spikeWords: number;
      traceCount: number;
      traceRowsMax: number;
    },
  ) {
    this.n = spec.n;
    this.batch = spec.params.length;
    this.dt = spec.dt;
  }

  /** Allocates buffers and pipelines; throws AdapterLimitError when the run does not fit the device. */
  static async create(ctx: GpuContext, spec: SimulationSpec): Promise<WebGpuPopulationSimulation> {
    checkSimulationSpec(spec);
    ctx.assertUsable();
    const { n, model } = spec;
    const batch = spec.params.length;
    const dev = ctx.device;
    const maxBinding = dev.limits.maxStorageBufferBindingSize;
    const stateBytes = n * batch * 4;
    if (stateBytes > maxBinding) {
      throw new AdapterLimitError('maxStorageBufferBindingSize', stateBytes, maxBinding, `n x batch = ${n * batch} neurons need ${stateBytes} bytes of state in one binding; reduce --n or --batch, or split the sweep with --shard`);
    }
    const neuronsPerThread = makeNeuronsPerThread(ctx.info.isSoftware);
    const wpi = Math.ceil(n / (workgroupSize * neuronsPerThread));
    const spikeNeurons = spec.recorders?.spikes?.neurons ?? [];
    const spikeWords = Math.ceil(spikeNeurons.length / 32);
    const traceNeurons = spec.recorders?.traces?.neurons ?? [];
    const traceEvery = spec.recorders?.traces?.every ?? 1;
    const slotStride = Math.max(256, dev.limits.minUniformBufferOffsetAlignment);
    const partialBytes = structLayout('MomentPartial').size;
    const bytesPerStep = batch * (4 + wpi * partialBytes + 16 + 4 * spikeWords) + slotStride;
    const chunkSteps = makeChunkSteps(spec.recorders?.chunkSteps, bytesPerStep, Math.min(recordBudgetBytes, maxBinding));
    if (batch * wpi * partialBytes > maxBinding) {
      throw new AdapterLimitError('maxStorageBufferBindingSize', batch * wpi * partialBytes, maxBinding);
    }
    const traceRowsMax = traceNeurons.length ? Math.ceil(chunkSteps / traceEvery) + 1 : 0;

    const owned = createBufferSet(ctx, 'PopulationSimulation');
    const buf = owned.create;
    const S = GPUBufferUsage.STORAGE;
    const U = GPUBufferUsage.UNIFORM;
    const CD = GPUBufferUsage.COPY_DST;
    const CS = GPUBufferUsage.COPY_SRC;
    try {
      const step = await createComputeKernel(ctx, model.shader, { workgroupSize, neuronsPerThread }, { dynamicOffsets: ['stepInfo'] });
      const reduce = await createComputeKernel(ctx, 'engine/reduce-population.wgsl');
      const gather = traceNeurons.length ? await createComputeKernel(ctx, 'engine/gather-traces.wgsl', {}, { dynamicOffsets: ['stepInfo'] }) : null;

      const simUniform = await buf('sim', structLayout('SimUniforms').size, U | CD);
      dev.queue.writeBuffer(simUniform, 0, packStruct('SimUniforms', {
        n, batch, seed: [spec.key[0], spec.key[1]], workgroupsPerInstance: wpi, spikeWords, recordSpikes: spikeWords > 0 ? 1 : 0, pad: 0,
      }));
      const instData = packStructArray(model.instanceStruct, spec.params.map((p) => model.makeInstance(p, spec.dt)));
      const instances = await buf('instances', instData.byteLength, S | CD);
      dev.queue.writeBuffer(instances, 0, instData);

      const ids = await buf('instanceIds', batch * 4, S | CD);
      dev.queue.writeBuffer(ids, 0, Uint32Array.from(spec.instanceIds ?? spec.params.map((_, b) => b)));
      const potential = await buf('potential', stateBytes, S | CD | CS);
      const init = new Float32Array(n * batch);
      spec.params.forEach((p, b) => init.fill(model.initialPotential(p), b * n, (b + 1) * n));
      dev.queue.writeBuffer(potential, 0, init);

      const stepSlots = await buf('stepSlots', chunkSteps * slotStride, U | CD);
      const popCounts = await buf('popCounts', chunkSteps * batch * 4, S | CD | CS);
      const partials = await buf('partials', chunkSteps * batch * wpi * partialBytes, S);
      const spikeBits = await buf('spikeBits', chunkSteps * batch * spikeWords * 4, S | CD | CS);
      const slots = new Uint32Array(spikeWords ? n : 4).fill(0xffffffff);
      spikeNeurons.forEach((k, j) => (slots[k] = j));
      const recordSlot = await buf('recordSlot', slots.byteLength, S | CD);
      dev.queue.writeBuffer(recordSlot, 0, slots);
      const population = await buf('population', chunkSteps * batch * 16, S | CS);
      const recordParams = await buf('recordParams', structLayout('RecordParams').size, U | CD);
      const traces = traceNeurons.length ? await buf('traces', traceRowsMax * batch * traceNeurons.length * 4, S | CS) : null;
      const stagingBytes = chunkSteps * batch * (4 + 16 + 4 * spikeWords) + traceRowsMax * batch * traceNeurons.length * 4;
      const staging = await buf('staging', stagingBytes, GPUBufferUsage.MAP_READ | CD);

      const slotBinding = { buffer: stepSlots, offset: 0, size: structLayout('StepUniforms').size };
      const groups = {
        step0: step.bind(0, { sim: simUniform, instances, instanceIds: ids }, 'PopulationSimulation.step.group0'),
        step1: step.bind(1, { potential }, 'PopulationSimulation.step.group1'),
        step2: step.bind(2, { stepInfo: slotBinding, popCounts, partials, spikeBits, recordSlot }, 'PopulationSimulation.step.group2'),
        reduce: reduce.bind(0, { record: recordParams, partials, population }, 'PopulationSimulation.reduce.group0'),
        gather0: null as GPUBindGroup | null,
        gather1: null as GPUBindGroup | null,
      };
      dev.queue.writeBuffer(recordParams, 0, packStruct('RecordParams', { batch, rows: chunkSteps, partialsPerInstance: wpi, pad: 0 }));
      if (gather && traces) {
        const traceParams = await buf('traceParams', structLayout('TraceParams').size, U | CD);
        dev.queue.writeBuffer(traceParams, 0, packStruct('TraceParams', { n, batch, count: traceNeurons.length, pad: 0 }));
        const traceList = await buf('traceNeurons', traceNeurons.length * 4, S | CD);
        dev.queue.writeBuffer(traceList, 0, Uint32Array.from(traceNeurons));
        groups.gather0 = gather.bind(0, { traceParams, traceNeurons: traceList, potential, traces }, 'PopulationSimulation.gather.group0');
        groups.gather1 = gather.bind(1, { stepInfo: slotBinding }, 'PopulationSimulation.gather.group1');
      }
      const sim = new WebGpuPopulationSimulation(ctx, spec, {
        step, reduce, gather, potential, stepSlots, slotStride, popCounts, partials, spikeBits, population, traces, staging, groups,
        chunkSteps, workgroupsPerInstance: wpi, spikeWords, traceCount: traceNeurons.length, traceRowsMax,
      });
      sim.owned = owned;
      return sim;
    } catch (e) {
      owned.release();
      throw e;
    }
  }

  get step(): number {
    return this.stepCount;
  }

  async run(steps: number, options: RunOptions = {}): Promise<void> {
    if (this.disposed) throw new DisposedError('WebGpuPopulationSimulation');
    checkStepBudget(this.stepCount, steps);
    const r = this.res;
    let done = 0;
    while (done < steps) {
      const m = Math.min(r.chunkSteps, steps - done);
      const chunk = await this.runChunk(m);
      done += m;
      options.onChunk?.(chunk);
      options.onProgress?.(done, steps);
    }
  }

  private async runChunk(m: number): Promise<RecordChunk> {
    this.ctx.assertUsable('WebGpuPopulationSimulation');
    const r = this.res;
    const dev = this.ctx.device;
    const { batch } = this;
    const every = this.spec.recorders?.traces?.every ?? 0;
    const stepStart = this.stepCount;
    const slots: StepSlot[] = [];
    const traceSteps: number[] = [];
    for (let s = 0; s < m; s++) {
      const step = stepStart + s;
      const traced = every > 0 && (step + 1) % every === 0;
      slots.push({ at: s, step, row: s, traceRow: traced ? traceSteps.length : 0 });
      if (traced) traceSteps.push(step);
    }
    dev.queue.writeBuffer(r.stepSlots, 0, packStepSlots(slots, r.slotStride));
    const enc = dev.createCommandEncoder({ label: 'PopulationSimulation.chunk' });
    enc.clearBuffer(r.popCounts, 0, m * batch * 4);
    if (r.spikeWords) enc.clearBuffer(r.spikeBits, 0, m * batch * r.spikeWords * 4);
    const pass = enc.beginComputePass({ label: 'PopulationSimulation.steps' });
    const stepPipeline = r.step.pipelines.get(this.spec.model.entryPoint)!;
    const [gx, gy] = makeDispatchSize(r.workgroupsPerInstance * batch, dev.limits.maxComputeWorkgroupsPerDimension);
    const gatherPipeline = r.gather?.pipelines.get('gatherTraces');
    for (let s = 0; s < m; s++) {
      pass.setPipeline(stepPipeline);
      pass.setBindGroup(0, r.groups.step0);
      pass.setBindGroup(1, r.groups.step1);
      pass.setBindGroup(2, r.groups.step2, [s * r.slotStride]);
      pass.dispatchWorkgroups(gx, gy);
      if (gatherPipeline && (stepStart + s + 1) % every === 0) {
        pass.setPipeline(gatherPipeline);
        pass.setBindGroup(0, r.groups.gather0!);
        pass.setBindGroup(1, r.groups.gather1!, [s * r.slotStride]);
        pass.dispatchWorkgroups(Math.ceil(r.traceCount / 64), batch);
      }
    }
    // Only the m rows this chunk ran (a few threads past them may merge stale rows; those are never read).
    pass.setPipeline(r.reduce.pipelines.get('reducePopulation')!);
    pass.setBindGroup(0, r.groups.reduce);
    const [rx, ry] = makeDispatchSize(Math.ceil((m * batch) / 64), dev.limits.maxComputeWorkgroupsPerDimension);
    pass.dispatchWorkgroups(rx, ry);
    pass.end();

    const countBytes = m * batch * 4;
    const popBytes = m * batch * 16;
    const spikeBytes = m * batch * r.spikeWords * 4;
    const traceBytes = traceSteps.length * batch * r.traceCount * 4;
    let off = 0;
    enc.copyBufferToBuffer(r.popCounts, 0, r.staging, off, countBytes);
    off += countBytes;
    enc.copyBufferToBuffer(r.population, 0, r.staging, off, popBytes);
    off += popBytes;
    if (spikeBytes) enc.copyBufferToBuffer(r.spikeBits, 0, r.staging, off, spikeBytes);
    off += spikeBytes;
    if (traceBytes && r.traces) enc.copyBufferToBuffer(r.traces, 0, r.staging, off, traceBytes);
    off += traceBytes;
    dev.queue.submit([enc.finish()]);
    await r.staging.mapAsync(GPUMapMode.READ, 0, Math.max(4, off));
    this.ctx.assertUsable('WebGpuPopulationSimulation');
    const data = r.staging.getMappedRange(0, Math.max(4, off)).slice(0);
    r.staging.unmap();
    this.stepCount += m;

    let o = 0;
    const counts = new Uint32Array(data, o, m * batch);
    o += countBytes;
    const pop32 = new Float32Array(data, o, m * batch * 4);
    o += popBytes;
    const spikeBits = r.spikeWords ? new Uint32Array(data, o, m * batch * r.spikeWords) : null;
    o += spikeBytes;
    const traces = r.traceCount ? new Float32Array(data, o, traceSteps.length * batch * r.traceCount) : null;
    return { stepStart, steps: m, batch, counts, population: Float64Array.from(pop32), spikeWords: r.spikeWords, spikeBits, traces, traceSteps };
  }

  async readState(): Promise<Float32Array> {
    if (this.disposed) throw new DisposedError('WebGpuPopulationSimulation');
    return new Float32Array(await readBuffer(this.ctx, this.res.potential));
  }

  /** Releases this simulation's buffers (the context stays); safe to call twice. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.owned?.release();
  }
}
