// WebGPU backend of the minimax spiking E-I networks: one workgroup per instance loops over many steps inside the kernel
// (shaders/minimax/step.wgsl); per-chunk f32 sums are read back and accumulated in f64, rasters copied out per chunk.
import { AdapterLimitError, ParameterError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { packStruct, packStructArray, structLayout } from '../../gpu/pack.ts';
import { getCachedKernel, makeDispatchSize, readBuffer } from '../../gpu/shaders.ts';
import { shaderSources } from '../../gpu/shaders.generated.ts';
import { checkMinimaxSpec, makeDecays, makeInputProbabilities, type MinimaxRunResult, type MinimaxRunSpec } from './network.ts';
import { makeMinimaxColumns, makeMinimaxResult, minimaxSumCount, writeMinimaxMoments } from './simulate-cpu.ts';
import { seedToKey } from '../../rng/index.ts';
import { positiveIntOption } from '../../util/options.ts';
import { createBufferSet } from '../../gpu/buffer-set.ts';

const shaderPath = 'minimax/step.wgsl';

/** A `const name: u32 = Nu;` of the shader: the buffer field layout has one definition, in the WGSL. */
function shaderConst(name: string): number {
  const m = new RegExp(`const ${name}: u32 = (\\d+)u;`).exec(shaderSources[shaderPath] ?? '');
  if (!m) throw new Error(`shaders/${shaderPath} defines no const ${name} (run \`npm run gen\`)`);
  return Number(m[1]);
}

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
  doneAfter: number;
}

/** Runs every instance of the spec on the GPU, one workgroup each; same contract and spikes as runMinimaxCpu. */
export async function runMinimaxGpu(
  ctx: GpuContext,
  spec: MinimaxRunSpec,
  onProgress?: (done: number, total: number) => void,
  options: MinimaxGpuOptions = {},
): Promise<MinimaxRunResult> {
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
  const t0 = performance.now();
  const res = makeMinimaxResult(spec, 'webgpu');

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

    const totals = new Float64Array(B * n * minimaxSumCount);
    const accumulate = async (p: Pending) => {
      await p.mapped;
      ctx.assertUsable('runMinimaxGpu');
      const data = new Float32Array(p.staging.getMappedRange(0, stagingBytes));
      // data is [sum][instance][neuron]; totals are [instance][neuron][sum].
      for (let k = 0; k < minimaxSumCount; k++) {
        const o = k * B * n;
        for (let q = 0; q < B * n; q++) totals[q * minimaxSumCount + k] += data[o + q];
      }
      if (p.rasterRows > 0 && res.raster && raster) {
        const rows = new Uint32Array(data.buffer, data.byteOffset + sumBytes, p.rasterRows * B * rasterWords);
        for (let t = 0; t < p.rasterRows; t++) {
          for (let b = 0; b < B; b++) {
            const src = (t * B + b) * rasterWords;
            res.raster.set(rows.subarray(src, src + rasterWords), (b * raster.steps + p.rasterRow + t) * rasterWords);
          }
        }
      }
      p.staging.unmap();
      onProgress?.(p.doneAfter, spec.steps);
    };

    const pending: Pending[] = [];
    let done = 0;
    let chunk = 0;
    while (done < spec.steps) {
      const chunkEnd = Math.min(spec.steps, done + chunkLen);
      const rFrom = raster ? Math.max(done, raster.from) : 0;
      const rEnd = raster ? Math.min(chunkEnd, raster.from + raster.steps) : 0;
      const rasterRows = Math.max(0, rEnd - rFrom);
      // A staging buffer is free once the chunk that used it two chunks ago has been accumulated.
      if (pending.length === stagings.length) await accumulate(pending.shift()!);
      const staging = stagings[chunk % stagings.length];
      while (done < chunkEnd) {
        const slotData = new ArrayBuffer(perSubmit * slotStride);
        const enc = dev.createCommandEncoder({ label: 'MinimaxSimulation.steps' });
        const pass = enc.beginComputePass({ label: 'MinimaxSimulation.steps' });
        pass.setPipeline(pipeline);
        pass.setBindGroup(0, groups[0]);
        pass.setBindGroup(1, groups[1]);
        for (let d = 0; d < perSubmit && done < chunkEnd; d++) {
          const steps = Math.min(stepsPerDispatch, chunkEnd - done);
          const slot = packStruct('MinimaxDispatch', { stepStart: done, steps, rasterFrom: rasterRows > 0 ? rFrom : 0, rasterEnd: rasterRows > 0 ? rEnd : 0 });
          new Uint8Array(slotData, d * slotStride, slotSize).set(new Uint8Array(slot));
          pass.setBindGroup(2, groups[2], [d * slotStride]);
          pass.dispatchWorkgroups(dispatch[0], dispatch[1]);
          done += steps;
        }
        pass.end();
        if (done === chunkEnd) {
          enc.copyBufferToBuffer(neurons, fieldSumR * field, staging, 0, sumBytes);
          enc.clearBuffer(neurons, fieldSumR * field, sumBytes);
          if (rasterRows > 0) enc.copyBufferToBuffer(rasterBuf, 0, staging, sumBytes, rasterRows * rowBytes);
        }
        // Queue order puts this write after the previous submit's reads of the slots.
        dev.queue.writeBuffer(slots, 0, slotData);
        dev.queue.submit([enc.finish()]);
      }
      const mapped = staging.mapAsync(GPUMapMode.READ, 0, stagingBytes);
      // Awaited in accumulate; this only keeps a run that fails before then from an unhandled rejection.
      mapped.catch(() => {});
      pending.push({ staging, mapped, rasterRow: rFrom - (raster?.from ?? 0), rasterRows, doneAfter: chunkEnd });
      chunk++;
    }
    while (pending.length) await accumulate(pending.shift()!);

    const state = await readBuffer(ctx, neurons, minimaxNeuronFields * field + B * nIn * 4);
    const asU32 = new Uint32Array(state);
    const asF32 = new Float32Array(state);
    const at = (k: number) => [k * B * n, (k + 1) * B * n] as const;
    res.spikeCounts.set(asU32.subarray(...at(counterSpikes)));
    res.isiCount.set(asU32.subarray(...at(counterIsis)));
    res.inputCounts.set(asU32.subarray(minimaxNeuronFields * B * n, minimaxNeuronFields * B * n + B * nIn));
    const shiftE = asF32.subarray(...at(fieldShiftE));
    const shiftI = asF32.subarray(...at(fieldShiftI));
    for (let b = 0; b < B; b++) {
      writeMinimaxMoments(res, b, {
        sums: totals.subarray(b * n * minimaxSumCount, (b + 1) * n * minimaxSumCount),
        shiftE: shiftE.subarray(b * n, (b + 1) * n),
        shiftI: shiftI.subarray(b * n, (b + 1) * n),
      });
    }
    res.wallSeconds = (performance.now() - t0) / 1000;
    return res;
  } finally {
    owned.release();
  }
}
