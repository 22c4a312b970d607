// Batched GPU reductions over instance-major buffers (moments, exact u32 sums, histograms, entropy), as re-encodable plans.
import { AdapterLimitError, DisposedError, ParameterError } from '../errors.ts';
import type { GpuContext } from './context.ts';
import { createComputeKernel, makeDispatchSize, readBuffer, type ComputeKernel } from './shaders.ts';
import { packStruct, structLayout, structStride } from './pack.ts';
import type { ReduceParams } from './shaders.generated.ts';
import { validateBatchShape, type MomentsResult } from '../analysis/moments.ts';
import { makeF32Binning, validateBins } from '../analysis/histogram.ts';

export type { MomentsResult } from '../analysis/moments.ts';

const shaderPath = 'common/reduce.wgsl';

export interface ReducerOptions {
  /** Invocations per workgroup, a power of two (default 256). */
  workgroupSize?: number;
  /** Values each invocation folds before the in-workgroup tree (default 16): a workgroup covers workgroupSize * itemsPerThread inputs. */
  itemsPerThread?: number;
  /** Histograms with at most this many bins are privatised in workgroup memory (default 1024 = 4 KiB: small enough not to limit occupancy). */
  sharedBins?: number;
}

/** B instances of n values, value i of instance b at element offset + b*n + i of the input buffer. */
export interface BatchShape {
  batch: number;
  n: number;
  /** Element (not byte) index of instance 0's first value; default 0. */
  offset?: number;
}

export interface HistogramShape extends BatchShape {
  bins: number;
}

/** Bins of width (max - min) / bins in f32 arithmetic; see binF32 in src/analysis/histogram.ts for edges. */
export interface HistogramF32Shape extends HistogramShape {
  min: number;
  max: number;
}

/** B histograms of `bins` u32 counts each, instance-major, starting at element `offset`. */
export interface EntropyShape {
  batch: number;
  bins: number;
  offset?: number;
}

/** Where a plan writes its result; a buffer is created for the plan when omitted. */
export interface OutputTarget {
  buffer: GPUBuffer;
  /** Byte offset: a multiple of the result's element size (16 moments, 8 sums, 4 otherwise). */
  offset?: number;
}

/**
 * A reduction prepared once (scratch buffers, parameters, bind groups) and encoded any number of
 * times, e.g. inside a simulation's time loop. Layout of `output` at `outputOffset`:
 * moments: batch x MomentStats {count u32, mean f32, variance f32, sum f32} (16 bytes);
 * sumU32: batch x u64 as (lo, hi) u32 words; histograms: batch x bins u32; entropy: batch x f32
 * (NaN bits for an empty histogram).
 */
export interface ReducePlan<R> {
  readonly kind: 'moments' | 'sumU32' | 'histogram' | 'histogramF32' | 'entropy';
  readonly label: string;
  readonly output: GPUBuffer;
  readonly outputOffset: number;
  readonly outputSize: number;
  /** Records the reduction (histograms clear their output first). No readback. */
  encode(encoder: GPUCommandEncoder): void;
  /** Copies the output back and decodes it; call after the encoded work was submitted. */
  read(): Promise<R>;
  /** Frees the plan's scratch (and its output buffer if the plan created it); idempotent. */
  dispose(): void;
}

export interface Reducer {
  readonly workgroupSize: number;
  readonly itemsPerWorkgroup: number;
  /** Mean, population variance and sum of each instance of f32 values. */
  moments(input: GPUBuffer, shape: BatchShape): Promise<MomentsResult>;
  prepareMoments(input: GPUBuffer, shape: BatchShape, output?: OutputTarget): Promise<ReducePlan<MomentsResult>>;
  /** Records a moments plan into `encoder`; results stay on the GPU in plan.output. */
  encodeMoments(encoder: GPUCommandEncoder, plan: ReducePlan<MomentsResult>): void;
  /** Exact sum of each instance of u32 values (64-bit, so totals past 2^32 are exact). */
  sumU32(input: GPUBuffer, shape: BatchShape): Promise<BigUint64Array>;
  prepareSumU32(input: GPUBuffer, shape: BatchShape, output?: OutputTarget): Promise<ReducePlan<BigUint64Array>>;
  /** Histogram of u32 values per instance; values >= bins are counted in the last bin. batch x bins. */
  histogram(input: GPUBuffer, shape: HistogramShape): Promise<Uint32Array>;
  prepareHistogram(input: GPUBuffer, shape: HistogramShape, output?: OutputTarget): Promise<ReducePlan<Uint32Array>>;
  /** Histogram of f32 values over [min, max] per instance; below min -> bin 0, max and above -> last bin. */
  histogramF32(input: GPUBuffer, shape: HistogramF32Shape): Promise<Uint32Array>;
  prepareHistogramF32(input: GPUBuffer, shape: HistogramF32Shape, output?: OutputTarget): Promise<ReducePlan<Uint32Array>>;
  /** Shannon entropy (bits, computed in f32 on the GPU) of each u32 histogram; an empty one throws ParameterError. */
  entropy(histogram: GPUBuffer, shape: EntropyShape): Promise<Float64Array>;
  prepareEntropy(histogram: GPUBuffer, shape: EntropyShape, output?: OutputTarget): Promise<ReducePlan<Float64Array>>;
  /** Frees every plan and buffer the reducer made; idempotent. */
  dispose(): void;
}

interface Pass {
  entry: string;
  workgroups: number;
  groups: [GPUBindGroup, GPUBindGroup, GPUBindGroup];
}

interface Range {
  binding: GPUBufferBinding;
  /** Index of the requested byte offset in units of the bound element size. */
  index: number;
}

type Kind = ReducePlan<unknown>['kind'];

const isPowerOfTwo = (v: number) => Number.isInteger(v) && v >= 1 && (v & (v - 1)) === 0;

class Plan<R> implements ReducePlan<R> {
  private disposed = false;
  constructor(
    private readonly owner: ReducerImpl,
    readonly kind: Kind,
    readonly label: string,
    readonly output: GPUBuffer,
    readonly outputOffset: number,
    readonly outputSize: number,
    private readonly passes: Pass[],
    private readonly scratch: GPUBuffer[],
    private readonly clearsOutput: boolean,
    private readonly decode: (data: ArrayBuffer) => R,
  ) {}

  private assertUsable(): void {
    this.owner.assertUsable();
    if (this.disposed) throw new DisposedError(this.label);
  }

  encode(encoder: GPUCommandEncoder): void {
    this.assertUsable();
    if (this.clearsOutput) encoder.clearBuffer(this.output, this.outputOffset, this.outputSize);
    const pass = encoder.beginComputePass({ label: this.label });
    const maxPerDim = this.owner.ctx.device.limits.maxComputeWorkgroupsPerDimension;
    // One pass, several dispatches: WebGPU orders storage writes between dispatches.
    for (const p of this.passes) {
      pass.setPipeline(this.owner.pipeline(p.entry));
      p.groups.forEach((g, i) => pass.setBindGroup(i, g));
      const [x, y] = makeDispatchSize(p.workgroups, maxPerDim);
      pass.dispatchWorkgroups(x, y);
    }
    pass.end();
  }

  async read(): Promise<R> {
    this.assertUsable();
    if (!(this.output.usage & GPUBufferUsage.COPY_SRC)) {
      throw new ParameterError(`${this.label}.output`, 'buffer lacks COPY_SRC usage, so it cannot be read back', 'create the output buffer with GPUBufferUsage.COPY_SRC, or omit it');
    }
    return this.decode(await readBuffer(this.owner.ctx, this.output, this.outputSize, this.outputOffset));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const b of this.scratch) this.owner.ctx.release(b);
    this.owner.forget(this);
  }
}

class ReducerImpl implements Reducer {
  private disposed = false;
  private readonly plans = new Set<Plan<unknown>>();
  readonly itemsPerWorkgroup: number;
  private readonly paramsSize = structLayout('ReduceParams').size;
  private readonly momentStride = structStride(structLayout('MomentStats'));
  private planCounter = 0;

  constructor(
    readonly ctx: GpuContext,
    private readonly kernel: ComputeKernel,
    readonly workgroupSize: number,
    itemsPerThread: number,
    // Bound where a pass does not use a binding (layouts are shared by all entry points).
    private readonly unused: { partials: GPUBuffer; results: GPUBuffer; stats: GPUBuffer; counts: GPUBuffer },
  ) {
    this.itemsPerWorkgroup = workgroupSize * itemsPerThread;
  }

  assertUsable(): void {
    if (this.disposed) throw new DisposedError('Reducer');
    this.ctx.assertUsable('Reducer');
  }

  pipeline(entry: string): GPUComputePipeline {
    const p = this.kernel.pipelines.get(entry);
    if (!p) throw new Error(`shaders/${shaderPath} has no entry point ${entry} (run \`npm run gen\`)`);
    return p;
  }

  forget(plan: Plan<unknown>): void {
    this.plans.delete(plan);
  }

  // ---- validation and binding helpers ----

  private checkInput(input: GPUBuffer, field: string): void {
    if (!(input.usage & GPUBufferUsage.STORAGE)) {
      throw new ParameterError(field, `buffer ${input.label || '(unlabelled)'} lacks STORAGE usage`, 'create it with GPUBufferUsage.STORAGE');
    }
  }

  /** Checks elements against the binding limit first (a too-large batch is an adapter limit, not a bad buffer). */
  private checkElements(elements: number, what: string): void {
    const max = this.ctx.device.limits.maxStorageBufferBindingSize;
    if (elements * 4 > max) {
      throw new AdapterLimitError('maxStorageBufferBindingSize', elements * 4, max, `${what}: split the batch into several calls of at most ${Math.floor(max / 4)} values in all`);
    }
  }

  /** Binds [byteOffset, byteOffset + byteSize) with an aligned start, returning the element index of byteOffset within it. */
  private range(buffer: GPUBuffer, byteOffset: number, byteSize: number, elementBytes: number): Range {
    const limits = this.ctx.device.limits;
    const align = limits.minStorageBufferOffsetAlignment;
    const start = Math.floor(byteOffset / align) * align;
    const size = byteOffset + byteSize - start;
    if (size > limits.maxStorageBufferBindingSize) {
      throw new AdapterLimitError('maxStorageBufferBindingSize', size, limits.maxStorageBufferBindingSize, 'split the batch into several calls, or start the data at offset 0');
    }
    return { binding: { buffer, offset: start, size }, index: (byteOffset - start) / elementBytes };
  }

  private async outputRange(
    label: string,
    output: OutputTarget | undefined,
    byteSize: number,
    elementBytes: number,
    input: GPUBuffer,
    scratch: GPUBuffer[],
  ): Promise<{ range: Range; buffer: GPUBuffer; offset: number }> {
    if (!output) {
      const buffer = await this.ctx.createBuffer({
        label: `${label}.output`,
        size: Math.max(16, byteSize),
        usage: GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST,
      });
      scratch.push(buffer);
      return { range: this.range(buffer, 0, byteSize, elementBytes), buffer, offset: 0 };
    }
    const offset = output.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0 || offset % elementBytes !== 0) {
      throw new ParameterError('output.offset', `${offset} is not a non-negative multiple of ${elementBytes} bytes`, `align the output offset to ${elementBytes} bytes`);
    }
    if (output.buffer === input) throw new ParameterError('output.buffer', 'is the input buffer', 'write the result to a different buffer');
    if (!(output.buffer.usage & GPUBufferUsage.STORAGE)) {
      throw new ParameterError('output.buffer', 'lacks STORAGE usage', 'create it with GPUBufferUsage.STORAGE');
    }
    if (offset + byteSize > output.buffer.size) {
      throw new ParameterError('output.buffer', `holds ${output.buffer.size} bytes but the result needs ${byteSize} from byte ${offset}`, 'pass a larger output buffer');
    }
    return { range: this.range(output.buffer, offset, byteSize, elementBytes), buffer: output.buffer, offset };
  }

  private async scratchBuffer(label: string, size: number, scratch: GPUBuffer[]): Promise<GPUBuffer> {
    const b = await this.ctx.createBuffer({ label, size: Math.max(16, Math.ceil(size / 4) * 4), usage: GPUBufferUsage.STORAGE });
    scratch.push(b);
    return b;
  }

  /** One uniform buffer, one aligned slot per pass. */
  private async paramsBuffer(label: string, list: ReduceParams[], scratch: GPUBuffer[]): Promise<GPUBufferBinding[]> {
    const slot = Math.ceil(this.paramsSize / this.ctx.device.limits.minUniformBufferOffsetAlignment) * this.ctx.device.limits.minUniformBufferOffsetAlignment;
    const buffer = await this.ctx.createBuffer({ label: `${label}.params`, size: slot * list.length, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
    scratch.push(buffer);
    const bytes = new Uint8Array(slot * list.length);
    list.forEach((p, i) => bytes.set(new Uint8Array(packStruct('ReduceParams', p)), i * slot));
    this.ctx.device.queue.writeBuffer(buffer, 0, bytes);
    return list.map((_, i) => ({ buffer, offset: i * slot, size: this.paramsSize }));
  }

  private groups(
    label: string,
    params: GPUBufferBinding,
    read: { values: GPUBufferBinding; partials?: GPUBufferBinding | GPUBuffer },
    write: { results?: GPUBufferBinding | GPUBuffer; stats?: GPUBufferBinding; counts?: GPUBufferBinding },
  ): [GPUBindGroup, GPUBindGroup, GPUBindGroup] {
    const k = this.kernel;
    return [
      k.bind(0, { params }, `${label}.group0`),
      k.bind(1, { values: read.values, partials: read.partials ?? this.unused.partials }, `${label}.group1`),
      k.bind(2, { results: write.results ?? this.unused.results, stats: write.stats ?? this.unused.stats, counts: write.counts ?? this.unused.counts }, `${label}.group2`),
    ];
  }

  private baseParams(batch: number): ReduceParams {
    return {
      batch,
      valueCount: 0,
      valueOffset: 0,
      partialCount: 0,
      chunksPerInstance: 0,
      itemsPerWorkgroup: this.itemsPerWorkgroup,
      outputOffset: 0,
      bins: 0,
      binMin: 0,
      binScale: 0,
    };
  }

  private newLabel(kind: Kind): string {
    return `Reducer.${kind}#${++this.planCounter}`;
  }

  private validateShape(input: GPUBuffer, shape: BatchShape): { batch: number; n: number; offset: number } {
    this.assertUsable();
    const { batch, n } = shape;
    const offset = shape.offset ?? 0;
    this.checkInput(input, 'input');
    validateBatchShape(Number.MAX_SAFE_INTEGER, batch, n, offset);
    this.checkElements(batch * n, 'input');
    validateBatchShape(Math.floor(input.size / 4), batch, n, offset, `input buffer ${input.label || '(unlabelled)'}`);
    return { batch, n, offset };
  }

  /** Chunks per instance at each level of a tree reduction of n inputs: [c0, c1, ..., 1]. */
  private levels(n: number): number[] {
    const out = [Math.ceil(n / this.itemsPerWorkgroup)];
    while (out[out.length - 1] > 1) out.push(Math.ceil(out[out.length - 1] / this.itemsPerWorkgroup));
    return out;
  }

  private register<R>(plan: Plan<R>): Plan<R> {
    this.plans.add(plan as Plan<unknown>);
    return plan;
  }

  private async guard<T>(scratch: GPUBuffer[], build: () => Promise<T>): Promise<T> {
    try {
      return await build();
    } catch (e) {
      for (const b of scratch) this.ctx.release(b);
      throw e;
    }
  }

  // ---- moments ----

  async prepareMoments(input: GPUBuffer, shape: BatchShape, output?: OutputTarget): Promise<ReducePlan<MomentsResult>> {
    const { batch, n, offset } = this.validateShape(input, shape);
    const label = this.newLabel('moments');
    const scratch: GPUBuffer[] = [];
    return this.guard(scratch, async () => {
      const values = this.range(input, offset * 4, batch * n * 4, 4);
      const out = await this.outputRange(label, output, batch * this.momentStride, this.momentStride, input, scratch);
      const levels = this.levels(n);
      const momentBytes = 12;
      const partialBuffers: GPUBuffer[] = [];
      for (let k = 0; k < levels.length; k++) partialBuffers.push(await this.scratchBuffer(`${label}.partials${k}`, batch * levels[k] * momentBytes, scratch));
      const params: ReduceParams[] = [];
      const shapes: { entry: string; workgroups: number }[] = [];
      const base = { ...this.baseParams(batch), valueCount: n, valueOffset: values.index };
      params.push({ ...base, chunksPerInstance: levels[0] });
      shapes.push({ entry: 'reduceMomentsPartials', workgroups: batch * levels[0] });
      for (let k = 1; k < levels.length; k++) {
        params.push({ ...base, partialCount: levels[k - 1], chunksPerInstance: levels[k] });
        shapes.push({ entry: 'mergeMomentPartials', workgroups: batch * levels[k] });
      }
      params.push({ ...base, chunksPerInstance: 1, outputOffset: out.range.index });
      shapes.push({ entry: 'finalizeMoments', workgroups: Math.ceil(batch / this.workgroupSize) });
      const slots = await this.paramsBuffer(label, params, scratch);
      const passes: Pass[] = shapes.map((s, k) => {
        const passLabel = `${label}.pass${k}:${s.entry}`;
        if (k === 0) return { ...s, groups: this.groups(passLabel, slots[k], { values: values.binding }, { results: partialBuffers[0] }) };
        if (k < levels.length) {
          return { ...s, groups: this.groups(passLabel, slots[k], { values: values.binding, partials: partialBuffers[k - 1] }, { results: partialBuffers[k] }) };
        }
        return { ...s, groups: this.groups(passLabel, slots[k], { values: values.binding, partials: partialBuffers[levels.length - 1] }, { stats: out.range.binding }) };
      });
      const layout = structLayout('MomentStats');
      const field = Object.fromEntries(layout.fields.map((f) => [f.name, f.offset]));
      const stride = this.momentStride;
      const decode = (data: ArrayBuffer): MomentsResult => {
        const view = new DataView(data);
        const mean = new Float64Array(batch);
        const variance = new Float64Array(batch);
        const sum = new Float64Array(batch);
        for (let b = 0; b < batch; b++) {
          mean[b] = view.getFloat32(b * stride + field.mean, true);
          variance[b] = view.getFloat32(b * stride + field.variance, true);
          sum[b] = view.getFloat32(b * stride + field.sum, true);
        }
        return { count: n, mean, variance, sum };
      };
      return this.register(new Plan(this, 'moments', label, out.buffer, out.offset, batch * stride, passes, scratch, false, decode));
    });
  }

  encodeMoments(encoder: GPUCommandEncoder, plan: ReducePlan<MomentsResult>): void {
    if (plan.kind !== 'moments' || !this.plans.has(plan as Plan<unknown>)) {
      throw new ParameterError('plan', `${plan.label} is not a live moments plan of this reducer`, 'pass a plan from this reducer\'s prepareMoments()');
    }
    plan.encode(encoder);
  }

  async moments(input: GPUBuffer, shape: BatchShape): Promise<MomentsResult> {
    return this.runOnce(await this.prepareMoments(input, shape));
  }

  private async runOnce<R>(plan: ReducePlan<R>): Promise<R> {
    try {
      const encoder = this.ctx.device.createCommandEncoder({ label: plan.label });
      plan.encode(encoder);
      this.ctx.device.queue.submit([encoder.finish()]);
      return await plan.read();
    } finally {
      plan.dispose();
    }
  }

  // ---- exact u32 sums ----

  async prepareSumU32(input: GPUBuffer, shape: BatchShape, output?: OutputTarget): Promise<ReducePlan<BigUint64Array>> {
    const { batch, n, offset } = this.validateShape(input, shape);
    const label = this.newLabel('sumU32');
    const scratch: GPUBuffer[] = [];
    return this.guard(scratch, async () => {
      const values = this.range(input, offset * 4, batch * n * 4, 4);
      const out = await this.outputRange(label, output, batch * 8, 8, input, scratch);
      const levels = this.levels(n);
      const last = levels.length - 1;
      // The last level writes straight into the output; earlier ones into scratch.
      const targets: { results: GPUBufferBinding | GPUBuffer; index: number }[] = [];
      for (let k = 0; k < last; k++) targets.push({ results: await this.scratchBuffer(`${label}.partials${k}`, batch * levels[k] * 8, scratch), index: 0 });
      targets.push({ results: out.range.binding, index: out.range.index });
      const base = { ...this.baseParams(batch), valueCount: n, valueOffset: values.index };
      const params = levels.map((c, k): ReduceParams => ({ ...base, partialCount: k > 0 ? levels[k - 1] : 0, chunksPerInstance: c, outputOffset: targets[k].index }));
      const slots = await this.paramsBuffer(label, params, scratch);
      const passes: Pass[] = levels.map((c, k) => {
        const entry = k === 0 ? 'reduceSumPartials' : 'mergeSumPartials';
        const read = { values: values.binding, partials: k > 0 ? (targets[k - 1].results as GPUBuffer) : undefined };
        return { entry, workgroups: batch * c, groups: this.groups(`${label}.pass${k}:${entry}`, slots[k], read, { results: targets[k].results }) };
      });
      // Words are (lo, hi) little-endian: exactly a u64.
      const decode = (data: ArrayBuffer) => new BigUint64Array(data.slice(0, batch * 8));
      return this.register(new Plan(this, 'sumU32', label, out.buffer, out.offset, batch * 8, passes, scratch, false, decode));
    });
  }

  async sumU32(input: GPUBuffer, shape: BatchShape): Promise<BigUint64Array> {
    return this.runOnce(await this.prepareSumU32(input, shape));
  }

  // ---- histograms ----

  private async prepareHistogramPlan(
    kind: 'histogram' | 'histogramF32',
    input: GPUBuffer,
    shape: HistogramShape,
    binning: { binMin: number; binScale: number },
    output?: OutputTarget,
  ): Promise<ReducePlan<Uint32Array>> {
    const { batch, n, offset } = this.validateShape(input, shape);
    const { bins } = shape;
    validateBins(bins);
    this.checkElements(batch * bins, 'histogram output');
    const label = this.newLabel(kind);
    const scratch: GPUBuffer[] = [];
    return this.guard(scratch, async () => {
      const values = this.range(input, offset * 4, batch * n * 4, 4);
      const out = await this.outputRange(label, output, batch * bins * 4, 4, input, scratch);
      if (!(out.buffer.usage & GPUBufferUsage.COPY_DST)) {
        throw new ParameterError('output.buffer', 'lacks COPY_DST usage, needed to clear the counts before accumulating', 'create it with GPUBufferUsage.COPY_DST');
      }
      const chunks = Math.ceil(n / this.itemsPerWorkgroup);
      const params: ReduceParams = {
        ...this.baseParams(batch),
        valueCount: n,
        valueOffset: values.index,
        chunksPerInstance: chunks,
        outputOffset: out.range.index,
        bins,
        ...binning,
      };
      const [slot] = await this.paramsBuffer(label, [params], scratch);
      const entry = kind === 'histogram' ? 'accumulateHistogram' : 'accumulateHistogramF32';
      const passes: Pass[] = [{ entry, workgroups: batch * chunks, groups: this.groups(`${label}.pass0:${entry}`, slot, { values: values.binding }, { counts: out.range.binding }) }];
      const decode = (data: ArrayBuffer) => new Uint32Array(data);
      return this.register(new Plan(this, kind, label, out.buffer, out.offset, batch * bins * 4, passes, scratch, true, decode));
    });
  }

  prepareHistogram(input: GPUBuffer, shape: HistogramShape, output?: OutputTarget): Promise<ReducePlan<Uint32Array>> {
    return this.prepareHistogramPlan('histogram', input, shape, { binMin: 0, binScale: 0 }, output);
  }

  prepareHistogramF32(input: GPUBuffer, shape: HistogramF32Shape, output?: OutputTarget): Promise<ReducePlan<Uint32Array>> {
    // The same f32 constants as the CPU reference, so the two bin identically.
    const b = makeF32Binning(shape.bins, shape.min, shape.max);
    return this.prepareHistogramPlan('histogramF32', input, shape, { binMin: b.min, binScale: b.scale }, output);
  }

  async histogram(input: GPUBuffer, shape: HistogramShape): Promise<Uint32Array> {
    return this.runOnce(await this.prepareHistogram(input, shape));
  }

  async histogramF32(input: GPUBuffer, shape: HistogramF32Shape): Promise<Uint32Array> {
    return this.runOnce(await this.prepareHistogramF32(input, shape));
  }

  // ---- entropy ----

  async prepareEntropy(histogram: GPUBuffer, shape: EntropyShape, output?: OutputTarget): Promise<ReducePlan<Float64Array>> {
    const { batch, bins } = shape;
    validateBins(bins);
    const { offset } = this.validateShape(histogram, { batch, n: bins, offset: shape.offset });
    const label = this.newLabel('entropy');
    const scratch: GPUBuffer[] = [];
    return this.guard(scratch, async () => {
      const values = this.range(histogram, offset * 4, batch * bins * 4, 4);
      const out = await this.outputRange(label, output, batch * 4, 4, histogram, scratch);
      const params: ReduceParams = { ...this.baseParams(batch), valueOffset: values.index, bins, chunksPerInstance: 1, outputOffset: out.range.index };
      const [slot] = await this.paramsBuffer(label, [params], scratch);
      const passes: Pass[] = [
        { entry: 'histogramEntropy', workgroups: batch, groups: this.groups(`${label}.pass0:histogramEntropy`, slot, { values: values.binding }, { results: out.range.binding }) },
      ];
      const decode = (data: ArrayBuffer) => {
        const h = Float64Array.from(new Float32Array(data));
        const empty = h.findIndex((v) => Number.isNaN(v));
        if (empty >= 0) throw new ParameterError('histogram', `instance ${empty} is empty (all ${bins} counts are 0)`, 'entropy needs at least one count per instance');
        return h;
      };
      return this.register(new Plan(this, 'entropy', label, out.buffer, out.offset, batch * 4, passes, scratch, false, decode));
    });
  }

  async entropy(histogram: GPUBuffer, shape: EntropyShape): Promise<Float64Array> {
    return this.runOnce(await this.prepareEntropy(histogram, shape));
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of [...this.plans]) p.dispose();
    for (const b of Object.values(this.unused)) this.ctx.release(b);
  }
}

/** Compiles shaders/common/reduce.wgsl once for this context and returns a reducer. */
export async function createReducer(ctx: GpuContext, options: ReducerOptions = {}): Promise<Reducer> {
  ctx.assertUsable('Reducer');
  const limits = ctx.device.limits;
  const workgroupSize = options.workgroupSize ?? 256;
  const itemsPerThread = options.itemsPerThread ?? 16;
  const sharedBins = options.sharedBins ?? 1024;
  const maxInvocations = Math.min(limits.maxComputeInvocationsPerWorkgroup, limits.maxComputeWorkgroupSizeX);
  if (!isPowerOfTwo(workgroupSize) || workgroupSize > maxInvocations) {
    throw new ParameterError('workgroupSize', `${workgroupSize} is not a power of two <= ${maxInvocations}`, 'use 64, 128 or 256');
  }
  if (!Number.isInteger(itemsPerThread) || itemsPerThread < 1) {
    throw new ParameterError('itemsPerThread', `${itemsPerThread} is not a positive integer`, 'use e.g. 16');
  }
  if (!Number.isInteger(sharedBins) || sharedBins < 1 || sharedBins * 4 > limits.maxComputeWorkgroupStorageSize) {
    throw new ParameterError('sharedBins', `${sharedBins} bins do not fit ${limits.maxComputeWorkgroupStorageSize} bytes of workgroup memory`, `use at most ${Math.floor(limits.maxComputeWorkgroupStorageSize / 4)}`);
  }
  // Every workgroup-memory array of the moments/sum/entropy trees is workgroupSize words.
  if (workgroupSize * 16 > limits.maxComputeWorkgroupStorageSize) {
    throw new ParameterError('workgroupSize', `${workgroupSize} needs ${workgroupSize * 16} bytes of workgroup memory`, 'use a smaller workgroup size');
  }
  const kernel = await createComputeKernel(ctx, shaderPath, { workgroupSize, sharedBins });
  const unused = {
    partials: await ctx.createBuffer({ label: 'Reducer.unused.partials', size: 16, usage: GPUBufferUsage.STORAGE }),
    results: await ctx.createBuffer({ label: 'Reducer.unused.results', size: 16, usage: GPUBufferUsage.STORAGE }),
    stats: await ctx.createBuffer({ label: 'Reducer.unused.stats', size: 16, usage: GPUBufferUsage.STORAGE }),
    counts: await ctx.createBuffer({ label: 'Reducer.unused.counts', size: 16, usage: GPUBufferUsage.STORAGE }),
  };
  return new ReducerImpl(ctx, kernel, workgroupSize, itemsPerThread, unused);
}
