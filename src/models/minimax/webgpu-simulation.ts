// WebGPU backend of the minimax spiking E-I networks: one workgroup per instance loops over many steps inside the kernel
// (shaders/minimax/step.wgsl); per-chunk f32 sums are read back and accumulated in f64, rasters copied out per chunk.
import { AdapterLimitError, ParameterError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { packStruct, packStructArray, structLayout } from '../../gpu/pack.ts';
import { getCachedKernel, makeDispatchSize, readBuffer } from '../../gpu/shaders.ts';
import { shaderSources } from '../../gpu/shaders.generated.ts';
import { checkMinimaxSpec, makeDecays, makeInputProbabilities, type MinimaxChunk, type MinimaxRunResult, type MinimaxRunSpec } from './network.ts';
import { makeMinimaxColumns, makeMinimaxResult, minimaxSumCount, writeMinimaxMoments } from './simulate-cpu.ts';
import { seedToKey } from '../../rng/index.ts';
import { positiveIntOption } from '../../util/options.ts';
import { createBufferSet, type BufferSet } from '../../gpu/buffer-set.ts';
import type { RunControl } from '../../core/contract.ts';

const shaderPath = 'minimax/step.wgsl';

/** A `const name: u32 = Nu;` of the shader: the buffer field layout has one definition, in the WGSL. */
function shaderConst(name: string): number {
  const m = new RegExp(`const ${name}: u32 = (\\d+)u;`).exec(shaderSources[shaderPath] ?? '');
  if (!m) throw new Error(`shaders/${shaderPath} defines no const ${name} (run \`npm run gen\`)`);
  return Number(m[1]);
}

const fieldA = shaderConst('fieldA');
const fieldSumR = shaderConst('fieldSumR');
const fieldShiftE = shaderConst('fieldShiftE');
const fieldShiftI = shaderConst('fieldShiftI');
const counterLastSpike = shaderConst('counterLastSpike');
const counterSpikes = shaderConst('counterSpikes');
const counterIsis = shaderConst('counterIsis');
/** f32/u32 fields per neuron and instance in the GPU state buffer (read from the shader). */
export const minimaxNeuronFields = Math.max(shaderConst('fieldIsiSumSq'), counterLastSpike, counterSpikes, counterIsis) + 1;
const maxResidentBlocks = shaderConst('maxResidentBlocks');

export interface MinimaxGpuOptions {
  /** Steps each workgroup runs inside one dispatch (default 10000; 1 = one dispatch per step). */
  stepsPerDispatch?: number;
  /** Threads per workgroup, one workgroup per instance (default: makeMinimaxWorkgroupSize). */
  workgroupSize?: number;
  /** Weights in workgroup memory: 'auto' (default) when they fit, 'on' (AdapterLimitError when they do not), 'off'. */
  sharedWeights?: 'auto' | 'on' | 'off';
  /** Steps between readbacks of the f32 sums and progress reports (default 10000, fewer above ~1000 neurons; f32 sums over at most this many steps). */
  chunkSteps?: number;
  /** Dispatches per submit (default 256). */
  dispatchesPerSubmit?: number;
  /**
   * Keep each thread's neurons in private memory (registers) for a whole dispatch when they fit (at most 4 blocks of
   * 4 per thread; default true); false reads and writes them in storage every step.
   */
  residentState?: boolean;
}

/**
 * Default threads per workgroup. A thread updates its neurons in blocks of 4 lanes and rescans the step's spike
 * words once per block. Hardware: enough threads for one block each (whole warps of 32, at most 1024 or the device
 * limit). Software adapters (SwiftShader) run a workgroup's invocations as fibers on one core and pay per fiber at
 * every barrier (one per step), so they get 4 threads, SwiftShader's SIMD width: measured on 2 cores, 4 threads ran
 * the 40-neuron network 1.4x faster than 8 and 3x faster than 32, and a 7938-neuron network 1.75x faster than 32.
 */
export function makeMinimaxWorkgroupSize(nNeurons: number, isSoftware: boolean, maxInvocations = 256): number {
  if (isSoftware) return 4;
  return Math.max(32, Math.min(Math.floor(Math.min(maxInvocations, 1024) / 32) * 32, 32 * Math.ceil(nNeurons / 128)));
}

function checkBinding(bytes: number, limit: number, what: string): void {
  if (bytes > limit) throw new AdapterLimitError('maxStorageBufferBindingSize', bytes, limit, `${what} do not fit one binding; run fewer networks/instances per batch, or use runMinimaxCpu`);
}

interface Pending {
  staging: GPUBuffer;
  mapped: Promise<void>;
  rasterRow: number;
  rasterRows: number;
  /** The chunk's absolute steps [from, to). */
  from: number;
  to: number;
}

/**
 * The WebGPU run of a spec, advanced incrementally. Steps are cut into chunks on a fixed grid of absolute steps
 * [c chunkLen, (c + 1) chunkLen): the f32 sums of a chunk are read back and added in f64 when the chunk ends, so
 * however advance() calls split the run (dispatch boundaries do not change results; chunk boundaries would), every
 * sum, spike and raster row is that of one call.
 */
export class MinimaxGpuSimulation {
  readonly backend = 'webgpu' as const;
  private done = 0;
  private chunk = 0;
  private seconds = 0;
  private disposed = false;
  private readonly pending: Pending[] = [];

  private constructor(
    private readonly ctx: GpuContext,
    readonly spec: MinimaxRunSpec,
    private readonly owned: BufferSet,
    private readonly g: {
      n: number;
      B: number;
      nIn: number;
      chunkLen: number;
      stepsPerDispatch: number;
      perSubmit: number;
      rasterWords: number;
      sumBytes: number;
      stagingBytes: number;
      slotStride: number;
      slotSize: number;
      pipeline: GPUComputePipeline;
      groups: GPUBindGroup[];
      dispatch: [number, number];
      neurons: GPUBuffer;
      rasterBuf: GPUBuffer;
      stagings: GPUBuffer[];
      slots: GPUBuffer;
    },
    private readonly totals: Float64Array,
    private readonly raster: Uint32Array | null,
  ) {}

  /** Validates the spec and options, compiles (or reuses) the kernel and uploads the networks and initial state. */
  static async create(ctx: GpuContext, spec: MinimaxRunSpec, options: MinimaxGpuOptions = {}): Promise<MinimaxGpuSimulation> {
    const t0 = performance.now();
    checkMinimaxSpec(spec);
    const { nE, nI, nIn } = spec.networks[0];
    const n = nE + nI;
    const B = spec.instances.length;
    const G = spec.networks.length;
    const stepsPerDispatch = positiveIntOption(options.stepsPerDispatch, 10_000, 'stepsPerDispatch');
    // Large networks read back more often: progress stays live and no single submit runs for long (~1e10 synaptic updates).
    const chunkDefault = Math.max(16, Math.min(10_000, 2 ** Math.floor(Math.log2(1e10 / (n * n)))));
    const chunkSteps = positiveIntOption(options.chunkSteps, chunkDefault, 'chunkSteps');
    const perSubmit = positiveIntOption(options.dispatchesPerSubmit, 256, 'dispatchesPerSubmit');
    const shared = options.sharedWeights ?? 'auto';
    if (!['auto', 'on', 'off'].includes(shared)) throw new ParameterError('sharedWeights', `is ${shared}`, "use 'auto', 'on' or 'off'");
    ctx.assertUsable('runMinimaxGpu');
    const dev = ctx.device;
    const lim = dev.limits;
    const workgroupSize = positiveIntOption(options.workgroupSize, makeMinimaxWorkgroupSize(n, ctx.info.isSoftware, lim.maxComputeInvocationsPerWorkgroup), 'workgroupSize');
    const maxThreads = Math.min(lim.maxComputeInvocationsPerWorkgroup, lim.maxComputeWorkgroupSizeX);
    if (workgroupSize > maxThreads) throw new AdapterLimitError('maxComputeInvocationsPerWorkgroup', workgroupSize, maxThreads, `use workgroupSize <= ${maxThreads}`);

    // Workgroup memory: three spike-bit buffers, plus the weights when shared.
    const spikeWords = Math.ceil(n / 32);
    const bitBytes = 3 * (spikeWords + Math.ceil(nIn / 32)) * 4;
    const weightCount = n * n + nIn * nE;
    const wgLimit = lim.maxComputeWorkgroupStorageSize;
    if (bitBytes > wgLimit) throw new AdapterLimitError('maxComputeWorkgroupStorageSize', bitBytes, wgLimit, `the spike bits of ${n} neurons and ${nIn} inputs do not fit one workgroup; use runMinimaxCpu`);
    const fits = bitBytes + weightCount * 4 <= wgLimit;
    if (shared === 'on' && !fits) {
      throw new AdapterLimitError('maxComputeWorkgroupStorageSize', bitBytes + weightCount * 4, wgLimit, "the weights do not fit workgroup memory; use sharedWeights: 'auto' or 'off'");
    }
    const useShared = shared === 'on' || (shared === 'auto' && fits);

    const maxBinding = lim.maxStorageBufferBindingSize;
    checkBinding(G * nE * n * 4, maxBinding, `the E-presynaptic weights of ${G} network(s) (${G} x ${nE} x ${n} f32)`);
    checkBinding(G * nI * n * 4, maxBinding, `the I-presynaptic weights of ${G} network(s) (${G} x ${nI} x ${n} f32)`);
    checkBinding(G * nIn * nE * 4, maxBinding, `the input weights of ${G} network(s) (${G} x ${nIn} x ${nE} f32)`);
    checkBinding((minimaxNeuronFields * B * n + B * nIn) * 4, maxBinding, `the neuron state of ${B} instance(s)`);

    const raster = spec.raster;
    const rasterWords = spikeWords;
    const rowBytes = B * rasterWords * 4;
    // Chunks: at most chunkSteps steps, and a raster buffer of at most 64 MiB (and one binding).
    const chunkLen = Math.max(1, Math.min(chunkSteps, spec.steps, raster ? Math.floor(Math.min(64 << 20, maxBinding) / rowBytes) : Infinity));
    const rasterRowsMax = raster ? Math.min(chunkLen, raster.steps) : 0;

    const blocksPerThread = Math.ceil(n / (4 * workgroupSize));
    const residentBlocks = options.residentState !== false && blocksPerThread <= maxResidentBlocks ? blocksPerThread : 0;
    const kernel = await getCachedKernel(
      ctx,
      shaderPath,
      { workgroupSize, residentBlocks, nE, nI, nIn, sharedWeights: useShared ? 1 : 0, sharedWeightCount: useShared ? weightCount : 1 },
      { dynamicOffsets: ['dispatchInfo'] },
    );

    // Host-side tables: per network the thresholds, per instance its input probabilities.
    const cols = spec.networks.map(makeMinimaxColumns);
    const probs = spec.instances.map(makeInputProbabilities);
    const probOffsets: number[] = [];
    let tableLen = G * n;
    for (const p of probs) {
      probOffsets.push(tableLen);
      tableLen += p.length;
    }
    const tables = new Float32Array(tableLen);
    cols.forEach((c, g) => tables.set(c.fire, g * n));
    probs.forEach((p, b) => tables.set(p, probOffsets[b]));
    checkBinding(tables.byteLength, maxBinding, 'the thresholds and input rates');
    const concat = (parts: Float32Array<ArrayBuffer>[]) => {
      if (parts.length === 1) return parts[0]; // the grid's blocks are 126 MB each: no copy
      const out = new Float32Array(parts.reduce((s, p) => s + p.length, 0));
      let at = 0;
      for (const p of parts) {
        out.set(p, at);
        at += p.length;
      }
      return out;
    };

    const owned = createBufferSet(ctx, 'MinimaxSimulation');
    const S = GPUBufferUsage.STORAGE;
    const CD = GPUBufferUsage.COPY_DST;
    const CS = GPUBufferUsage.COPY_SRC;
    const U = GPUBufferUsage.UNIFORM;
    try {
      const upload = async (label: string, data: ArrayBuffer | Float32Array<ArrayBuffer> | Uint32Array<ArrayBuffer>, usage = S | CD) => {
        const buffer = await owned.create(label, data.byteLength, usage);
        dev.queue.writeBuffer(buffer, 0, data);
        return buffer;
      };
      const key = seedToKey(spec.seed);
      const params = await upload('params', packStruct('MinimaxParams', { seed: key, batch: B, pad0: 0 }), U | CD);
      const instances = await upload(
        'instances',
        packStructArray(
          'MinimaxInstanceParams',
          spec.instances.map((inst, b) => {
            const d = makeDecays(inst);
            return {
              network: inst.network,
              instanceId: inst.instanceId ?? b,
              measureFrom: Math.min(inst.measureFrom, 0xffffffff),
              segments: inst.segments,
              segmentSteps: Math.min(inst.segmentSteps, 0xffffffff),
              probOffset: probOffsets[b],
              decayE: d.decayE,
              decayI: d.decayI,
              decayX: d.decayX,
            };
          }),
        ),
      );
      const tableBuf = await upload('tables', tables);
      const weightsFromE = await upload('weightsFromE', concat(cols.map((c) => c.fromE)));
      const weightsFromI = await upload('weightsFromI', concat(cols.map((c) => c.fromI)));
      const weightsFromIn = await upload('weightsFromIn', concat(cols.map((c) => c.fromIn)));
      const field = B * n * 4;
      // The fields, then [instance][nIn] input counts (the kernel's laneFields = minimaxNeuronFields).
      const neuronInit = new Uint32Array(minimaxNeuronFields * B * n + B * nIn); // f32 +0 and u32 0 share the bits
      neuronInit.fill(0xffffffff, counterLastSpike * B * n, (counterLastSpike + 1) * B * n); // no spike yet
      const neurons = await upload('neurons', neuronInit, S | CD | CS);
      const rasterBuf = await owned.create('raster', Math.max(1, rasterRowsMax) * rowBytes, S | CS);
      const sumBytes = minimaxSumCount * field;
      const stagingBytes = sumBytes + rasterRowsMax * rowBytes;
      const stagings = [await owned.create('staging0', stagingBytes, GPUBufferUsage.MAP_READ | CD), await owned.create('staging1', stagingBytes, GPUBufferUsage.MAP_READ | CD)];
      const slotStride = Math.max(256, lim.minUniformBufferOffsetAlignment);
      const slotSize = structLayout('MinimaxDispatch').size;
      const slots = await owned.create('dispatchSlots', perSubmit * slotStride, U | CD);
      const groups = [
        kernel.bind(0, { params, instances, tables: tableBuf, weightsFromE, weightsFromI, weightsFromIn }, 'MinimaxSimulation.group0'),
        kernel.bind(1, { neurons, raster: rasterBuf }, 'MinimaxSimulation.group1'),
        kernel.bind(2, { dispatchInfo: { buffer: slots, offset: 0, size: slotSize } }, 'MinimaxSimulation.group2'),
      ];
      const pipeline = kernel.pipelines.get('stepMinimaxNetworks')!;
      const dispatch = makeDispatchSize(B, lim.maxComputeWorkgroupsPerDimension);
      const sim = new MinimaxGpuSimulation(
        ctx,
        spec,
        owned,
        { n, B, nIn, chunkLen, stepsPerDispatch, perSubmit, rasterWords, sumBytes, stagingBytes, slotStride, slotSize, pipeline, groups, dispatch, neurons, rasterBuf, stagings, slots },
        new Float64Array(B * n * minimaxSumCount),
        raster ? new Uint32Array(B * raster.steps * rasterWords) : null,
      );
      sim.seconds = (performance.now() - t0) / 1000;
      return sim;
    } catch (e) {
      owned.release();
      throw e;
    }
  }

  get stepsDone(): number {
    return this.done;
  }

  private assertLive(what: string): void {
    if (this.disposed) throw new Error(`MinimaxGpuSimulation.${what}: the simulation was disposed`);
    this.ctx.assertUsable('runMinimaxGpu');
  }

  /** Adds a finished chunk's f32 sums (in f64) and raster rows to the host copies. */
  private async accumulate(p: Pending): Promise<void> {
    const { B, n, rasterWords, sumBytes, stagingBytes } = this.g;
    await p.mapped;
    this.ctx.assertUsable('runMinimaxGpu');
    const data = new Float32Array(p.staging.getMappedRange(0, stagingBytes));
    const totals = this.totals;
    // data is [sum][instance][neuron]; totals are [instance][neuron][sum].
    for (let k = 0; k < minimaxSumCount; k++) {
      const o = k * B * n;
      for (let q = 0; q < B * n; q++) totals[q * minimaxSumCount + k] += data[o + q];
    }
    const raster = this.spec.raster;
    if (p.rasterRows > 0 && this.raster && raster) {
      const rows = new Uint32Array(data.buffer, data.byteOffset + sumBytes, p.rasterRows * B * rasterWords);
      for (let t = 0; t < p.rasterRows; t++) {
        for (let b = 0; b < B; b++) {
          const src = (t * B + b) * rasterWords;
          this.raster.set(rows.subarray(src, src + rasterWords), (b * raster.steps + p.rasterRow + t) * rasterWords);
        }
      }
    }
    p.staging.unmap();
  }

  /**
   * Advances every instance by `steps`. Progress (steps of this call) and onChunk follow the readbacks at the end of each
   * chunk of the fixed grid, and the end of the call; an aborted signal stops it at the next chunk boundary.
   */
  async advance(steps: number, control: RunControl<MinimaxChunk> = {}): Promise<void> {
    const spec = this.spec;
    if (!(Number.isInteger(steps) && steps >= 0 && this.done + steps <= spec.steps)) {
      throw new ParameterError('steps', `${steps} steps after ${this.done} overrun the spec's ${spec.steps}`, `advance at most ${spec.steps - this.done} more steps`);
    }
    this.assertLive('advance');
    const t0 = performance.now();
    const { chunkLen, stepsPerDispatch, perSubmit, slotStride, slotSize, pipeline, groups, dispatch, neurons, rasterBuf, stagings, slots, sumBytes, stagingBytes, B, rasterWords, n } = this.g;
    const dev = this.ctx.device;
    const field = B * n * 4;
    const rowBytes = B * rasterWords * 4;
    const raster = spec.raster;
    const start = this.done;
    const end = start + steps;
    let reported = start;
    const report = (to: number) => {
      if (to <= reported) return;
      control.onChunk?.({ from: reported, to });
      reported = to;
      control.onProgress?.(to - start, steps);
    };
    const flushOne = async () => {
      const p = this.pending.shift()!;
      await this.accumulate(p);
      report(Math.min(p.to, end));
    };
    try {
      control.signal?.throwIfAborted();
      while (this.done < end) {
        // The chunk of the fixed grid that holds step `done`, and the part of it this call runs.
        const chunkStart = Math.floor(this.done / chunkLen) * chunkLen;
        const chunkEnd = Math.min(spec.steps, chunkStart + chunkLen);
        const segEnd = Math.min(end, chunkEnd);
        const rFrom = raster ? Math.max(chunkStart, raster.from) : 0;
        const rEnd = raster ? Math.min(chunkEnd, raster.from + raster.steps) : 0;
        const rasterRows = Math.max(0, rEnd - rFrom);
        const closes = segEnd === chunkEnd;
        // A staging buffer is free once the chunk that used it two chunks ago has been accumulated.
        if (closes && this.pending.length === stagings.length) await flushOne();
        const staging = stagings[this.chunk % stagings.length];
        while (this.done < segEnd) {
          const slotData = new ArrayBuffer(perSubmit * slotStride);
          const enc = dev.createCommandEncoder({ label: 'MinimaxSimulation.steps' });
          const pass = enc.beginComputePass({ label: 'MinimaxSimulation.steps' });
          pass.setPipeline(pipeline);
          pass.setBindGroup(0, groups[0]);
          pass.setBindGroup(1, groups[1]);
          for (let d = 0; d < perSubmit && this.done < segEnd; d++) {
            const k = Math.min(stepsPerDispatch, segEnd - this.done);
            const slot = packStruct('MinimaxDispatch', { stepStart: this.done, steps: k, rasterFrom: rasterRows > 0 ? rFrom : 0, rasterEnd: rasterRows > 0 ? rEnd : 0 });
            new Uint8Array(slotData, d * slotStride, slotSize).set(new Uint8Array(slot));
            pass.setBindGroup(2, groups[2], [d * slotStride]);
            pass.dispatchWorkgroups(dispatch[0], dispatch[1]);
            this.done += k;
          }
          pass.end();
          if (closes && this.done === chunkEnd) {
            enc.copyBufferToBuffer(neurons, fieldSumR * field, staging, 0, sumBytes);
            enc.clearBuffer(neurons, fieldSumR * field, sumBytes);
            if (rasterRows > 0) enc.copyBufferToBuffer(rasterBuf, 0, staging, sumBytes, rasterRows * rowBytes);
          }
          // Queue order puts this write after the previous submit's reads of the slots.
          dev.queue.writeBuffer(slots, 0, slotData);
          dev.queue.submit([enc.finish()]);
        }
        if (closes) {
          const mapped = staging.mapAsync(GPUMapMode.READ, 0, stagingBytes);
          // Awaited in accumulate; this only keeps a run that fails before then from an unhandled rejection.
          mapped.catch(() => {});
          this.pending.push({ staging, mapped, rasterRow: rFrom - (raster?.from ?? 0), rasterRows, from: chunkStart, to: chunkEnd });
          this.chunk++;
          if (this.done < end) control.signal?.throwIfAborted();
        }
      }
      while (this.pending.length) await flushOne();
      // A call that ends inside a chunk: its steps are dispatched, their sums stay on the GPU until the chunk ends.
      await dev.queue.onSubmittedWorkDone();
      report(end);
    } finally {
      this.seconds += (performance.now() - t0) / 1000;
    }
  }

  /** The measurements of the steps done so far; the sums of a chunk not yet ended are read from the GPU and added. */
  async result(): Promise<MinimaxRunResult> {
    this.assertLive('result');
    const t0 = performance.now();
    const spec = this.spec;
    const { B, n, nIn, neurons } = this.g;
    while (this.pending.length) await this.accumulate(this.pending.shift()!);
    const res = makeMinimaxResult(spec, 'webgpu', this.done);
    const state = await readBuffer(this.ctx, neurons, minimaxNeuronFields * B * n * 4 + B * nIn * 4);
    const asU32 = new Uint32Array(state);
    const asF32 = new Float32Array(state);
    const at = (k: number) => [k * B * n, (k + 1) * B * n] as const;
    res.spikeCounts.set(asU32.subarray(...at(counterSpikes)));
    res.isiCount.set(asU32.subarray(...at(counterIsis)));
    res.inputCounts.set(asU32.subarray(minimaxNeuronFields * B * n, minimaxNeuronFields * B * n + B * nIn));
    if (this.raster && res.raster) res.raster.set(this.raster);
    // The sums of the chunk in progress (all zero after the last chunk ended: adding them changes nothing).
    const totals = this.totals.slice();
    for (let k = 0; k < minimaxSumCount; k++) {
      const o = (fieldSumR + k) * B * n;
      for (let q = 0; q < B * n; q++) totals[q * minimaxSumCount + k] += asF32[o + q];
    }
    const shiftE = asF32.subarray(...at(fieldShiftE));
    const shiftI = asF32.subarray(...at(fieldShiftI));
    for (let b = 0; b < B; b++) {
      writeMinimaxMoments(res, b, {
        sums: totals.subarray(b * n * minimaxSumCount, (b + 1) * n * minimaxSumCount),
        shiftE: shiftE.subarray(b * n, (b + 1) * n),
        shiftI: shiftI.subarray(b * n, (b + 1) * n),
      });
    }
    this.seconds += (performance.now() - t0) / 1000;
    res.wallSeconds = this.seconds;
    return res;
  }

  /** f32 state [instance][neuron][a, b, c, r] (V = a - b + c; see network.ts). */
  async readState(): Promise<Float32Array> {
    this.assertLive('readState');
    const { B, n, neurons } = this.g;
    const f = new Float32Array(await readBuffer(this.ctx, neurons, 4 * B * n * 4));
    const out = new Float32Array(B * n * 4);
    for (let q = 0; q < B * n; q++) for (let k = 0; k < 4; k++) out[q * 4 + k] = f[(fieldA + k) * B * n + q];
    return out;
  }

  /** Frees the GPU buffers; idempotent. */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.pending.length = 0;
    this.owned.release();
  }
}

/** Runs every instance of the spec on the GPU, one workgroup each; same contract and spikes as runMinimaxCpu. */
export async function runMinimaxGpu(
  ctx: GpuContext,
  spec: MinimaxRunSpec,
  onProgress?: (done: number, total: number) => void,
  options: MinimaxGpuOptions = {},
): Promise<MinimaxRunResult> {
  const sim = await MinimaxGpuSimulation.create(ctx, spec, options);
  try {
    await sim.advance(spec.steps, { onProgress });
    return await sim.result();
  } finally {
    sim.dispose();
  }
}
