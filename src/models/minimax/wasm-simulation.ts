// The wasm backend of minimax: the kernel of src/wasm/assembly/minimax.ts (the operations, random bits and summation
// order of simulate-cpu.ts) over state in wasm memory; the instances of a batch are split over worker threads, or, with
// fewer instances than threads, each large instance's neurons (one barrier per step).
import type { RunControl } from '../../core/contract.ts';
import { DisposedError, ParameterError } from '../../errors.ts';
import { seedToKey } from '../../rng/index.ts';
import { compileSharedKernels, createSharedMemory, heapBase, instantiateKernels, instantiateSharedKernels, type KernelExports } from '../../wasm/kernels.ts';
import {
  checkThreadCount, ctrl, defaultBatchThreadCount, minimaxSplitWorkerCode, minimaxWorkerCode, runBatchGeneration, runGeneration, startBatchThreadPool, startSplitThreadPool, stopThreadPool, type ThreadPool,
} from '../../wasm/threads.ts';
import { checkMinimaxSpec, makeDecays, makeFireThresholds, makeInputProbabilities, makeRasterWords, type MinimaxChunk, type MinimaxNetwork, type MinimaxRunResult, type MinimaxRunSpec } from './network.ts';
import { makeMinimaxResult, minimaxSumCount, writeMinimaxMoments } from './simulate-cpu.ts';

/** 32-bit words of one instance's parameters (MinimaxParams in src/wasm/assembly/minimax.ts, in this order). */
const paramFields = [
  'a', 'b', 'c', 'r', 'decayR', 'shiftE', 'shiftI', 'sums', 'isi', 'last', 'spikeCount', 'isiCount', 'inputCount', 'thr', 'always', 'pre', 'raster',
  'fromE', 'fromI', 'fromIn', 'fire', 'n', 'nE', 'nIn', 'n4', 'nE4', 'nIn4', 'segments', 'segmentSteps', 'measureFrom', 'rasterFrom', 'rasterSteps',
  'words', 'instance', 'k0', 'k1', 'decayE', 'decayI', 'decayX',
] as const;
type ParamField = (typeof paramFields)[number];
const floatFields = new Set<ParamField>(['decayE', 'decayI', 'decayX']);
const paramBytes = 16 * Math.ceil((4 * paramFields.length) / 16);

/** The most threads a simulation takes (each advances its own instances, or its share of an instance's neurons). */
export const maxMinimaxWasmThreads = 64;
/** wasm32 memory holds at most 4 GiB. */
const wasmMaxBytes = 2 ** 32 - heapBase - (1 << 20);

const ceil4 = (x: number): number => 4 * Math.ceil(x / 4);
const align16 = (x: number): number => 16 * Math.ceil(x / 16);

/** The shape a layout depends on. */
export interface MinimaxWasmShape {
  nE: number;
  nI: number;
  nIn: number;
}

/** Bytes of one network in wasm memory: the f32 columns (padded to groups of 4 neurons) and the thresholds. */
function networkBytes(s: MinimaxWasmShape): number {
  const n4 = ceil4(s.nE + s.nI);
  return 4 * ((s.nE + s.nI) * n4 + s.nIn * ceil4(s.nE) + n4);
}

/** Bytes of one instance: parameters, f32 state (7 arrays), f64 sums (6 + 2 per neuron), last spikes, counters, input thresholds and Philox round 1, raster. */
function instanceBytes(s: MinimaxWasmShape, segments: number, rasterSteps: number): number {
  const n = s.nE + s.nI;
  const n4 = ceil4(n);
  return paramBytes + 28 * n4 + 48 * n4 + align16(16 * n) + align16(8 * n) + 2 * align16(4 * n) + align16(4 * s.nIn) + (8 * segments + 8) * ceil4(s.nIn) + align16(4 * rasterSteps * makeRasterWords(s.nE, s.nI));
}

/** Bytes of one thread's scratch: the spike masks and a list slot (the step's spikes and inputs). */
function scratchBytes(s: MinimaxWasmShape): number {
  return 4 * (2 * ceil4(s.nE + s.nI) + ceil4(s.nIn)) + 16;
}

/** Bytes of the list slots of an instance split over `threads` threads (two parities, one slot per thread). */
function listBytes(s: MinimaxWasmShape, threads: number): number {
  return 2 * threads * (16 + 4 * (ceil4(s.nE + s.nI) + ceil4(s.nIn)));
}

/**
 * Neurons per instance from which threads split an instance (fewer instances than threads). Measured on 2 cores, one
 * grid instance: side 63 (7938 neurons) and 48 ran 1.1x to 1.9x faster on 2 threads, side 32 no faster (its 60 us
 * step is too short for the barrier).
 */
export const minimaxSplitNeuronsMin = 4000;

/** Bytes of wasm memory beyond the module's own for `networks` networks, `batch` instances (up to 2 input segments each) and `threads` threads. */
export function wasmMinimaxBytes(s: MinimaxWasmShape & { networks: number; batch: number; rasterSteps: number; threads: number }): number {
  return s.networks * networkBytes(s) + s.batch * instanceBytes(s, 2, s.rasterSteps) + s.threads * scratchBytes(s) + listBytes(s, s.threads);
}

/**
 * Single-thread seconds per instance-step of the kernel: max(0.3 us, 0.15 ns per weight of n^2 + nE nIn), from runs
 * on a loaded 2-core machine (Fig. 1 network 0.29 us, ring 5.7 us, grid side 48 2.4 ms, side 63 13 ms; the CPU
 * reference was 9x to 18x slower in the same runs).
 */
export function minimaxWasmSecondsPerStep(s: MinimaxWasmShape): number {
  const n = s.nE + s.nI;
  return Math.max(3e-7, 1.5e-10 * (n * n + s.nE * s.nIn));
}

/**
 * Threads when the user names none: the cores, at most one per instance unless instances are large enough to split
 * (minimaxSplitNeuronsMin), 1 for a run too short to repay the workers.
 */
export function minimaxWasmThreads(s: MinimaxWasmShape & { batch: number; steps: number }): number {
  const items = s.nE + s.nI >= minimaxSplitNeuronsMin ? maxMinimaxWasmThreads : s.batch;
  return defaultBatchThreadCount(items, s.batch * s.steps * minimaxWasmSecondsPerStep(s), maxMinimaxWasmThreads);
}

/** Chunks of steps aim at this many wall seconds: progress, aborts and the event loop are served between chunks. */
const chunkTargetSeconds = 0.02;

/** The wasm twin of MinimaxCpuSimulation: the same spec, the same incremental contract, the same result bit for bit. */
export class MinimaxWasmSimulation {
  readonly backend = 'wasm' as const;
  readonly threads: number;
  /** Each instance's neurons are split over the threads (fewer instances than threads), rather than the instances. */
  readonly split: boolean;
  private k: KernelExports | null;
  private pool: ThreadPool | null = null;
  private readonly n: number;
  private readonly n4: number;
  private readonly paramsPtr: number;
  private readonly scratchPtr: number;
  private readonly listsPtr: number;
  private readonly ptrs: Record<ParamField, number>[] = [];
  private done = 0;
  private seconds = 0;
  /** Steps of the next chunk: from the estimate at first, then from the pace of the last full chunk. */
  private chunk: number;

  private constructor(readonly spec: MinimaxRunSpec, k: KernelExports, threads: number, split: boolean) {
    const t0 = performance.now();
    this.k = k;
    this.threads = threads;
    this.split = split;
    const shape = spec.networks[0];
    const { nE, nI, nIn } = shape;
    const n = nE + nI;
    const n4 = ceil4(n);
    const nE4 = ceil4(nE);
    const nIn4 = ceil4(nIn);
    this.n = n;
    this.n4 = n4;
    const perThread = split ? spec.instances.length / threads : Math.ceil(spec.instances.length / threads);
    this.chunk = Math.max(1, Math.min(1 << 20, Math.round(chunkTargetSeconds / (perThread * minimaxWasmSecondsPerStep(shape)))));
    const words = makeRasterWords(nE, nI);
    const rasterFrom = spec.raster?.from ?? 0;
    const rasterSteps = spec.raster?.steps ?? 0;
    const key = seedToKey(spec.seed);
    const mem = k.memory.buffer;
    let at = heapBase;
    const take = (bytes: number): number => {
      const p = at;
      at += align16(bytes);
      return p;
    };
    this.paramsPtr = take(paramBytes * spec.instances.length);
    this.scratchPtr = take(threads * scratchBytes(shape));
    this.listsPtr = take(listBytes(shape, threads));
    const nets = spec.networks.map((w) => this.writeNetwork(mem, w, take(4 * nE * n4), take(4 * nI * n4), take(4 * nIn * nE4), take(4 * n4), n4, nE4));
    spec.instances.forEach((inst, b) => {
      const { decayE, decayI, decayX } = makeDecays(inst);
      const net = nets[inst.network];
      const p: Record<ParamField, number> = {
        a: take(4 * n4), b: take(4 * n4), c: take(4 * n4), r: take(4 * n4), decayR: take(4 * n4), shiftE: take(4 * n4), shiftI: take(4 * n4),
        sums: take(48 * n4), isi: take(16 * n), last: take(8 * n), spikeCount: take(4 * n), isiCount: take(4 * n), inputCount: take(4 * nIn),
        thr: take(4 * inst.segments * nIn4), always: take(4 * inst.segments * nIn4), pre: take(8 * nIn4), raster: take(4 * rasterSteps * words),
        ...net, n, nE, nIn, n4, nE4, nIn4, segments: inst.segments, segmentSteps: inst.segmentSteps, measureFrom: inst.measureFrom, rasterFrom, rasterSteps,
        words, instance: inst.instanceId ?? b, k0: key[0], k1: key[1], decayE, decayI, decayX,
      };
      this.ptrs.push(p);
      new Float32Array(mem, p.decayR, n).fill(decayE, 0, nE).fill(decayI, nE);
      new BigInt64Array(mem, p.last, n).fill(-1n);
      // The reference's Bernoulli draw: word < floor(p 2^32) for p in (0, 1), always for p >= 1, no draw for p = 0.
      const probs = makeInputProbabilities(inst);
      const thr = new Uint32Array(mem, p.thr, inst.segments * nIn4);
      const always = new Uint32Array(mem, p.always, inst.segments * nIn4);
      for (let g = 0; g < inst.segments; g++) {
        for (let q = 0; q < nIn; q++) {
          const pk = probs[g * nIn + q];
          if (pk >= 1) always[g * nIn4 + q] = 0xffffffff;
          else if (pk > 0) thr[g * nIn4 + q] = Math.floor(pk * 4294967296);
        }
      }
      const u = new Uint32Array(mem, this.paramsPtr + paramBytes * b, paramFields.length);
      const f = new Float32Array(mem, this.paramsPtr + paramBytes * b, paramFields.length);
      paramFields.forEach((name, i) => {
        if (floatFields.has(name)) f[i] = p[name];
        else u[i] = p[name];
      });
      k.minimaxInit(this.paramsPtr + paramBytes * b);
    });
    this.seconds += (performance.now() - t0) / 1000;
  }

  /** Writes a network's f32 columns (the layout of makeMinimaxColumns, rows padded to n4 / nE4) and thresholds. */
  private writeNetwork(mem: ArrayBufferLike, w: MinimaxNetwork, fromE: number, fromI: number, fromIn: number, fire: number, n4: number, nE4: number): Pick<Record<ParamField, number>, 'fromE' | 'fromI' | 'fromIn' | 'fire'> {
    const { nE, nI, nIn } = w;
    const e = new Float32Array(mem, fromE, nE * n4);
    const i = new Float32Array(mem, fromI, nI * n4);
    const x = new Float32Array(mem, fromIn, nIn * nE4);
    for (let j = 0; j < nE; j++) {
      for (let p = 0; p < nE; p++) e[j * n4 + p] = w.wEE[p * nE + j];
      for (let p = 0; p < nI; p++) e[j * n4 + nE + p] = w.wIE[p * nE + j];
    }
    for (let j = 0; j < nI; j++) {
      for (let p = 0; p < nE; p++) i[j * n4 + p] = w.wEI[p * nI + j];
      for (let p = 0; p < nI; p++) i[j * n4 + nE + p] = w.wII[p * nI + j];
    }
    for (let q = 0; q < nIn; q++) for (let p = 0; p < nE; p++) x[q * nE4 + p] = w.F[p * nIn + q];
    const { fireE, fireI } = makeFireThresholds(w);
    const t = new Float32Array(mem, fire, n4).fill(Infinity);
    t.set(fireE, 0);
    t.set(fireI, nE);
    return { fromE, fromI, fromIn, fire };
  }

  /**
   * Checks the spec, instantiates the kernels with memory for this run and starts the threads (default:
   * minimaxWasmThreads). splitNeuronsMin: instances of at least this many neurons are split when there are fewer
   * instances than threads (default minimaxSplitNeuronsMin; the tests split small networks).
   */
  static async create(spec: MinimaxRunSpec, threads?: number, options: { splitNeuronsMin?: number } = {}): Promise<MinimaxWasmSimulation> {
    checkMinimaxSpec(spec);
    const shape = spec.networks[0];
    const B = spec.instances.length;
    const t = threads ?? minimaxWasmThreads({ ...shape, batch: B, steps: spec.steps });
    checkThreadCount(t, maxMinimaxWasmThreads);
    // Fewer instances than threads: split large instances, else leave the extra threads out (they would idle).
    const split = t > B && shape.nE + shape.nI >= (options.splitNeuronsMin ?? minimaxSplitNeuronsMin);
    const used = split ? t : Math.min(t, B);
    const segments = Math.max(...spec.instances.map((i) => i.segments));
    const bytes = used * scratchBytes(shape) + listBytes(shape, used) + spec.networks.length * networkBytes(shape) + B * instanceBytes(shape, segments, spec.raster?.steps ?? 0);
    if (bytes > wasmMaxBytes) {
      throw new ParameterError('--batch', `${B} instances of ${shape.nE + shape.nI} neurons need ${bytes} bytes of wasm memory, more than the 4 GiB of wasm32`, 'reduce --batch (or --max-batch), or use --backend cpu');
    }
    if (used === 1) return new MinimaxWasmSimulation(spec, await instantiateKernels(bytes), 1, false);
    const memory = createSharedMemory(bytes);
    const sim = new MinimaxWasmSimulation(spec, await instantiateSharedKernels(memory), used, split);
    const module = await compileSharedKernels();
    sim.pool = split ? await startSplitThreadPool(minimaxSplitWorkerCode, module, memory, used) : await startBatchThreadPool(minimaxWorkerCode, module, memory, used);
    return sim;
  }

  get stepsDone(): number {
    return this.done;
  }

  private live(): KernelExports {
    if (!this.k) throw new DisposedError('MinimaxWasmSimulation');
    return this.k;
  }

  /** Advances every instance by `steps` (each thread its own instances); the same as the CPU reference's step(). */
  step(steps: number): void {
    const k = this.live();
    if (!(Number.isInteger(steps) && steps >= 0 && this.done + steps <= this.spec.steps)) {
      throw new ParameterError('steps', `${steps} steps after ${this.done} overrun the spec's ${this.spec.steps}`, `advance at most ${this.spec.steps - this.done} more steps`);
    }
    const t0 = performance.now();
    const scratchStride = scratchBytes(this.spec.networks[0]);
    if (this.split && this.pool) this.stepSplit(this.pool, scratchStride, this.done, this.done + steps);
    else runBatchGeneration(this.pool, { params: this.paramsPtr, items: this.spec.instances.length, stride: paramBytes, scratch: this.scratchPtr, scratchStride, from: this.done, to: this.done + steps }, k.minimaxRun);
    this.done += steps;
    this.seconds += (performance.now() - t0) / 1000;
  }

  /** Steps [from, to) of each instance in turn, split over the pool's workers (minimaxSplitWorkerCode) while this thread waits. */
  private stepSplit(pool: ThreadPool, scratchStride: number, from: number, to: number): void {
    const c = pool.control;
    for (let b = 0; b < this.spec.instances.length; b++) {
      [this.paramsPtr + paramBytes * b, this.listsPtr, this.scratchPtr, scratchStride, from, to].forEach((v, i) => (c[ctrl.args + i] = v));
      runGeneration(pool, () => undefined); // no share here: this thread only waits
    }
  }

  /**
   * Advances `steps` steps in chunks of about chunkTargetSeconds; after each chunk reports progress and the chunk's step
   * range and yields to the event loop; an aborted signal stops it at the next chunk boundary.
   */
  async advance(steps: number, control: RunControl<MinimaxChunk> = {}): Promise<void> {
    const start = this.done;
    const end = start + steps;
    control.signal?.throwIfAborted();
    while (this.done < end) {
      const from = this.done;
      const t0 = performance.now();
      this.step(Math.min(this.chunk, end - from));
      // The next chunk's length from this one's pace (at most 8x longer, so one slow chunk cannot stall progress).
      const seconds = (performance.now() - t0) / 1000;
      if (this.done - from === this.chunk) this.chunk = Math.max(1, Math.min(8 * this.chunk, 1 << 20, Math.round((this.chunk * chunkTargetSeconds) / Math.max(seconds, 1e-6))));
      control.onChunk?.({ from, to: this.done });
      control.onProgress?.(this.done - start, steps);
      if (this.done < end) {
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
        control.signal?.throwIfAborted();
      }
    }
  }

  /** The measurements of the steps done so far, as MinimaxCpuSimulation.result() computes them. */
  result(): MinimaxRunResult {
    const k = this.live();
    const mem = k.memory.buffer;
    const spec = this.spec;
    const res = makeMinimaxResult(spec, 'wasm', this.done);
    const { nIn } = spec.networks[0];
    const { n, n4 } = this;
    this.ptrs.forEach((p, b) => {
      res.spikeCounts.set(new Uint32Array(mem, p.spikeCount, n), b * n);
      res.isiCount.set(new Uint32Array(mem, p.isiCount, n), b * n);
      res.inputCounts.set(new Uint32Array(mem, p.inputCount, nIn), b * nIn);
      if (res.raster) res.raster.set(new Uint32Array(mem, p.raster, p.rasterSteps * p.words), b * p.rasterSteps * p.words);
      // The kernel keeps the sums field-major (six f64 planes of n4, then the two ISI planes of n); the reference neuron-major.
      const planes = new Float64Array(mem, p.sums, 6 * n4);
      const isi = new Float64Array(mem, p.isi, 2 * n);
      const sums = new Float64Array(n * minimaxSumCount);
      for (let q = 0; q < n; q++) {
        for (let f = 0; f < 6; f++) sums[q * minimaxSumCount + f] = planes[f * n4 + q];
        sums[q * minimaxSumCount + 6] = isi[q];
        sums[q * minimaxSumCount + 7] = isi[n + q];
      }
      writeMinimaxMoments(res, b, { sums, shiftE: new Float32Array(mem, p.shiftE, n), shiftI: new Float32Array(mem, p.shiftI, n) });
    });
    res.wallSeconds = this.seconds;
    return res;
  }

  /** f32 state [instance][neuron][a, b, c, r], as MinimaxCpuSimulation.readState(). */
  readState(): Float32Array {
    const mem = this.live().memory.buffer;
    const n = this.n;
    const out = new Float32Array(this.ptrs.length * n * 4);
    this.ptrs.forEach((p, b) => {
      const parts = [p.a, p.b, p.c, p.r].map((ptr) => new Float32Array(mem, ptr, n));
      for (let q = 0; q < n; q++) for (let f = 0; f < 4; f++) out[(b * n + q) * 4 + f] = parts[f][q];
    });
    return out;
  }

  dispose(): void {
    this.k = null;
    const pool = this.pool;
    this.pool = null;
    if (pool) stopThreadPool(pool);
  }
}
