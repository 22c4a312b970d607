// The wasm backend of hybrid: the step kernel of src/wasm/assembly/hybrid.ts (the same arithmetic, random bits and
// summation order as cpu-reference.ts) over state in wasm memory, recording exactly like CpuHybridSimulation.
import { DisposedError, ParameterError } from '../../errors.ts';
import { histogramF32 } from '../../analysis/histogram.ts';
import { compileSharedKernels, createSharedMemory, heapBase, instantiateKernels, instantiateSharedKernels, threadScratchBytes, type KernelExports } from '../../wasm/kernels.ts';
import { ctrl, ctrlSlots, defaultThreadCount, hybridWorkerCode, requireThreadSpawner, runGeneration, stopThreadPool, threadPoolReady, type ThreadPool } from '../../wasm/threads.ts';
import { makeHybridInstance } from './params.ts';
import { checkHybridSpec, checkStepBudget, type HybridChunk, type HybridSimulation, type HybridSimulationSpec, type HybridStepRecord } from './simulation.ts';

/** 32-bit words of one instance's parameters (HybridParams in src/wasm/assembly/hybrid.ts). */
export const hybridParamsWords = 24;
/** The most threads a simulation takes (each owns a contiguous range of every instance's 2n neurons). */
export const maxHybridWasmThreads = 64;
/** wasm32 memory holds at most 4 GiB. */
const wasmMaxBytes = 2 ** 32 - heapBase - (1 << 20);

/**
 * Bytes of wasm memory a run needs beyond the module's own: per instance its parameters, record (f64 x 6), potentials
 * and units (2n x 4 bytes each: 8 bytes per neuron), and per thread its scratch (85 KiB, 87104 bytes: the Poisson cache, then per input stream its lane staging, log-pmf table, block counts and lane queues).
 */
export function wasmHybridBytes(n: number, batch: number, threads = 1): number {
  return batch * (4 * hybridParamsWords + 48 + 16 * n) + threads * threadScratchBytes;
}

/**
 * Threads when the user names none: one per neuronsPerThreadMin of an instance's 2n neurons up to the cores (split
 * by neurons), or, for a batch, as many as its neurons in all allow up to the batch (whole instances per thread)
 * where that is more.
 */
export function hybridDefaultThreads(n: number, batch: number): number {
  const split = defaultThreadCount(2 * n, maxHybridWasmThreads);
  if (batch < 2) return split;
  return Math.max(split, Math.min(batch, defaultThreadCount(2 * n * batch, maxHybridWasmThreads)));
}

export interface WasmHybridSpec extends HybridSimulationSpec {
  /** Worker threads: whole instances each when the batch has at least as many, else a range of each instance's neurons (default: hybridDefaultThreads; results do not depend on it). */
  threads?: number;
}


export class WasmHybridSimulation implements HybridSimulation {
  readonly backend = 'wasm' as const;
  readonly n: number;
  readonly batch: number;
  readonly dt: number;
  readonly chunkSteps: number;
  readonly threads: number;
  initial: HybridStepRecord[] = [];
  private stepCount = 0;
  private k: KernelExports | null;
  private pool: ThreadPool | null = null;
  private readonly paramsPtr: number;
  private readonly recPtr: number;
  private readonly uPtr: number;
  private readonly unitsPtr: number;
  private readonly cachePtr: number;

  private constructor(spec: HybridSimulationSpec, k: KernelExports, threads: number) {
    this.k = k;
    this.threads = threads;
    this.n = spec.n;
    this.batch = spec.params.length;
    this.dt = spec.dt;
    this.chunkSteps = spec.chunkSteps ?? Math.max(1, Math.min(1000, Math.floor(2e6 / (2 * this.n * this.batch))));
    const B = this.batch;
    const n = this.n;
    this.paramsPtr = heapBase;
    this.recPtr = this.paramsPtr + 4 * hybridParamsWords * B;
    this.uPtr = this.recPtr + 48 * B;
    this.unitsPtr = this.uPtr + 8 * n * B;
    this.cachePtr = this.unitsPtr + 8 * n * B;
    const ids = spec.instanceIds ?? spec.params.map((_, b) => b);
    const w = new Uint32Array(k.memory.buffer, this.paramsPtr, hybridParamsWords * B);
    const f = new Float32Array(k.memory.buffer, this.paramsPtr, hybridParamsWords * B);
    spec.params.forEach((p, b) => {
      const c = makeHybridInstance(p, n, spec.dt);
      const o = b * hybridParamsWords;
      w[o] = this.uPtr + 8 * n * b;
      w[o + 1] = this.unitsPtr + 8 * n * b;
      w[o + 2] = this.recPtr + 48 * b;
      w[o + 3] = n;
      w[o + 4] = spec.key[0];
      w[o + 5] = spec.key[1];
      w[o + 6] = 0;
      w[o + 7] = ids[b];
      w[o + 8] = c.sigmoid === 0 ? 1 : 0;
      [c.decay, c.driveE, c.driveI, c.jumpEE, c.jumpEI, c.jumpIE, c.jumpII, c.meanPerUnit, c.theta, c.gain, c.initMeanE, c.initSdE, c.initMeanI, c.initSdI].forEach((v, i) => (f[o + 9 + i] = v));
    });
    for (let b = 0; b < B; b++) k.hybridInit(this.paramPtr(b));
    this.initial = Array.from({ length: B }, (_, b) => this.record(k, b));
  }

  /** Checks the spec, instantiates the kernels with memory for this run, draws the initial state and starts the threads. */
  static async create(spec: WasmHybridSpec): Promise<WasmHybridSimulation> {
    checkHybridSpec(spec);
    const threads = spec.threads ?? hybridDefaultThreads(spec.n, spec.params.length);
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= maxHybridWasmThreads)) throw new ParameterError('--threads', `${threads} is not an integer in [1, ${maxHybridWasmThreads}]`, 'use --threads 1 or more');
    // Before anything is allocated: no worker threads here (e.g. a page that is not cross-origin isolated) is an error naming the fix.
    const spawn = threads > 1 ? requireThreadSpawner(threads) : null;
    const bytes = wasmHybridBytes(spec.n, spec.params.length, threads);
    if (bytes > wasmMaxBytes) throw new ParameterError('--n', `--n ${spec.n} x --batch ${spec.params.length} needs ${bytes} bytes of wasm memory, more than the 4 GiB of wasm32`, 'reduce --n or --batch, or use --backend cpu');
    if (threads === 1) return new WasmHybridSimulation(spec, await instantiateKernels(bytes), 1);
    const memory = createSharedMemory(bytes);
    const sim = new WasmHybridSimulation(spec, await instantiateSharedKernels(memory), threads);
    const module = await compileSharedKernels();
    const control = new Int32Array(new SharedArrayBuffer(4 * ctrlSlots));
    const pool: ThreadPool = { threads, control, workers: [] };
    sim.pool = pool;
    for (let index = 1; index < threads; index++) pool.workers.push(spawn!(hybridWorkerCode, { module, memory, control: control.buffer, index, threads }));
    // A browser starts its workers only while this thread is free: wait here, not in the first step.
    await threadPoolReady(pool).catch((e: unknown) => {
      sim.dispose();
      throw e;
    });
    return sim;
  }

  /** With at least as many instances as threads, each thread steps whole instances (one barrier per step); else every thread takes a range of each instance's neurons. */
  private get byInstance(): boolean {
    return this.batch >= this.threads;
  }

  /** One step of every instance over the pool, whole instances per thread (this one takes share 0), records included. */
  private stepInstances(k: KernelExports, pool: ThreadPool, steps: Uint32Array, step: number): void {
    for (let b = 0; b < this.batch; b++) steps[b * hybridParamsWords] = step;
    const c = pool.control;
    const a = ctrl.args;
    c[a] = this.paramsPtr;
    c[a + 1] = this.batch;
    c[a + 2] = this.cachePtr;
    c[a + 3] = threadScratchBytes;
    c[a + 4] = 1;
    c[a + 5] = 4 * hybridParamsWords;
    runGeneration(pool, () => {
      for (let b = 0; b < Math.floor(this.batch / pool.threads); b++) k.hybridStep(this.paramPtr(b), this.cachePtr);
    });
  }

  private paramPtr(b: number): number {
    return this.paramsPtr + 4 * hybridParamsWords * b;
  }

  private record(k: KernelExports, b: number): HybridStepRecord {
    const r = new Float64Array(k.memory.buffer, this.recPtr + 48 * b, 6);
    return { totalE: r[0], totalI: r[1], meanE: r[2], varE: r[3], meanI: r[4], varI: r[5] };
  }

  /** One step of instance b: on this thread, or split over the pool (this thread takes range 0) with the record here after all ranges. */
  private stepInstance(k: KernelExports, steps: Uint32Array, b: number, step: number): void {
    steps[b * hybridParamsWords] = step;
    const params = this.paramPtr(b);
    const pool = this.pool;
    if (!pool) {
      k.hybridStep(params, this.cachePtr);
      return;
    }
    const c = pool.control;
    const a = ctrl.args;
    const m = 2 * this.n;
    c[a] = params;
    c[a + 1] = m;
    c[a + 2] = this.cachePtr;
    c[a + 3] = threadScratchBytes;
    c[a + 4] = 0;
    runGeneration(pool, () => k.hybridStepRange(params, 0, Math.floor(m / pool.threads), this.cachePtr));
    k.hybridRecord(params);
  }

  get step(): number {
    return this.stepCount;
  }

  async run(steps: number, options: { onChunk?: (c: HybridChunk) => void; onProgress?: (done: number, total: number) => void } = {}): Promise<void> {
    const k = this.k;
    if (!k) throw new DisposedError('WasmHybridSimulation');
    checkStepBudget(this.stepCount, steps);
    // Memory never grows after create(), so this view stays valid; word 6 of each instance's parameters is the step.
    const stepWords = new Uint32Array(k.memory.buffer, this.paramsPtr + 24, hybridParamsWords * this.batch - 6);
    const chunk = this.chunkSteps;
    let done = 0;
    while (done < steps) {
      if (!this.k) throw new DisposedError('WasmHybridSimulation');
      const m = Math.min(chunk, steps - done);
      const records: HybridStepRecord[] = [];
      for (let s = 0; s < m; s++) {
        if (this.pool && this.byInstance) {
          this.stepInstances(k, this.pool, stepWords, this.stepCount);
          for (let b = 0; b < this.batch; b++) records.push(this.record(k, b));
        } else {
          for (let b = 0; b < this.batch; b++) {
            this.stepInstance(k, stepWords, b, this.stepCount);
            records.push(this.record(k, b));
          }
        }
        this.stepCount++;
      }
      done += m;
      options.onChunk?.({ stepStart: this.stepCount - m, steps: m, batch: this.batch, records });
      options.onProgress?.(done, steps);
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  async readState(): Promise<Float32Array> {
    const k = this.k;
    if (!k) throw new DisposedError('WasmHybridSimulation');
    const out = new Float32Array(2 * this.n * this.batch);
    out.set(new Float32Array(k.memory.buffer, this.uPtr, 2 * this.n * this.batch));
    return out;
  }

  async histogramU(bins: number, min: number, max: number): Promise<Uint32Array> {
    return histogramF32(await this.readState(), 2 * this.batch, this.n, bins, min, max);
  }

  dispose(): void {
    this.k = null;
    const pool = this.pool;
    this.pool = null;
    if (pool) stopThreadPool(pool);
  }
}
