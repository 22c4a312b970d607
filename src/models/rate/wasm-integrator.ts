// The wasm backend of rate: the kernel of src/wasm/assembly/rate.ts (the f32 operations of integrate-cpu.ts, up to
// sixteen circuits per four f32x4) over the batch in wasm memory; the groups of sixteen circuits are split over worker
// threads.
import { ParameterError } from '../../errors.ts';
import { compileSharedKernels, createSharedMemory, heapBase, instantiateKernels, instantiateSharedKernels, type KernelExports } from '../../wasm/kernels.ts';
import { checkThreadCount, defaultBatchThreadCount, rateWorkerCode, runBatchGeneration, startBatchThreadPool, stopThreadPool, type ThreadPool } from '../../wasm/threads.ts';
import { checkRunSteps, makeRateBatchArrays, type RateBatch, type RateBatchArrays, type RateIntegrator, type RateRunControl } from './integrate-cpu.ts';

/** Circuits per group: the lanes of four f32x4. */
const lanesPerGroup = 16;
/** Bytes of one group's record (RateGroup in src/wasm/assembly/rate.ts: 11 words, then four sets of four v128 from byte 64). */
const groupBytes = 320;
const groupFields = ['w', 'u', 'scale', 'x', 'run', 'n', 'lanes', 'first', 'rk4', 'clip', 'soft'] as const;
/** The run record (RateRun): samples, rowBase, sampleEvery, batch. */
const runBytes = 16;
/** The most threads an integrator takes (each advances its own groups of sixteen circuits). */
export const maxRateWasmThreads = 64;
/** wasm32 memory holds at most 4 GiB. */
const wasmMaxBytes = 2 ** 32 - heapBase - (1 << 20);
/** Wasm memory for sample rows between copies to the host, by default (the rest of a run's rows are on the host). */
const defaultSampleBudgetBytes = 32 << 20;
/** Chunks of steps aim at this many wall seconds: progress and aborts are served between chunks. */
const chunkTargetSeconds = 0.02;

/** Sample rows the wasm buffer holds for a batch of B circuits of n cells and S rows in all. */
function sampleRowsOf(B: number, n: number, S: number, budget = defaultSampleBudgetBytes): number {
  return Math.max(1, Math.min(S, Math.floor(budget / (4 * B * n))));
}

/**
 * Bytes of wasm memory beyond the module's own: records, per-thread scratch, the groups' weights, inputs, scales and
 * states, and the sample rows held between copies for a run that records `rows` rows after x0 (0: none).
 */
export function wasmRateBytes(B: number, n: number, rows: number, threads: number): number {
  const groups = Math.ceil(B / lanesPerGroup);
  return runBytes + groups * (groupBytes + 4 * lanesPerGroup * n * (n + 3)) + threads * scratchBytes(n) + (rows > 0 ? 4 * B * n * sampleRowsOf(B, n, rows) : 0);
}

/** Bytes of one thread's scratch: the RK4 stage state, kv and acc of one group. */
function scratchBytes(n: number): number {
  return 3 * 4 * lanesPerGroup * n;
}

/**
 * Single-thread seconds per circuit-step: (rk4 ? 4 : 1) x (0.15 ns per multiply-add of n^2 + 2n, plus 3 ns), from runs
 * of 256 circuits on a loaded 2-core machine (Wilson-Cowan RK4 20 ns, lateral n = 24 RK4 0.38 us; the CPU reference
 * was 12x to 29x slower in the same runs).
 */
export function rateWasmSecondsPerStep(n: number, rk4: boolean): number {
  return (rk4 ? 4 : 1) * ((n * n + 2 * n) * 1.5e-10 + 3e-9);
}

/** Threads when the user names none: the cores, at most one per group of sixteen circuits, 1 for a run too short to repay the workers. */
export function rateWasmThreads(B: number, n: number, steps: number, rk4: boolean): number {
  return defaultBatchThreadCount(Math.ceil(B / lanesPerGroup), B * steps * rateWasmSecondsPerStep(n, rk4), maxRateWasmThreads);
}

/** The wasm twin of RateCpuIntegrator: the same batch, the same incremental contract, the same states and samples bit for bit. */
export class RateWasmIntegrator implements RateIntegrator {
  readonly backend = 'wasm' as const;
  readonly batch: number;
  readonly n: number;
  readonly stepsTotal: number;
  readonly samples: Float32Array | null;
  readonly sampleSteps: readonly number[];
  readonly threads: number;
  private k: KernelExports | null;
  private pool: ThreadPool | null = null;
  private readonly groups: number;
  private readonly groupsPtr: number;
  private readonly scratchPtr: number;
  private readonly statePtrs: number[] = [];
  private readonly samplePtr: number;
  private readonly sampleRows: number;
  private readonly sampleEvery: number;
  private done = 0;
  private chunk: number;

  private constructor(a: RateBatchArrays, batch: RateBatch, k: KernelExports, threads: number, sampleRows: number) {
    const { batch: B, n } = a;
    this.k = k;
    this.threads = threads;
    this.batch = B;
    this.n = n;
    this.stepsTotal = batch.steps;
    this.sampleSteps = a.sampleSteps;
    this.sampleEvery = a.sampleEvery;
    this.samples = a.sampleEvery > 0 ? new Float32Array(a.sampleSteps.length * B * n) : null;
    this.samples?.set(a.x0, 0);
    this.sampleRows = sampleRows;
    const L = lanesPerGroup;
    const G = Math.ceil(B / L);
    this.groups = G;
    const rk4 = batch.method === 'rk4';
    this.chunk = Math.max(1, Math.min(1 << 20, Math.round(chunkTargetSeconds / (L * Math.ceil(G / threads) * rateWasmSecondsPerStep(n, rk4)))));
    const mem = k.memory.buffer;
    let at = heapBase;
    const take = (bytes: number): number => {
      const p = at;
      at += 16 * Math.ceil(bytes / 16);
      return p;
    };
    const runPtr = take(runBytes);
    this.groupsPtr = take(G * groupBytes);
    this.scratchPtr = take(threads * scratchBytes(n));
    this.samplePtr = take(4 * B * n * this.sampleRows);
    new Uint32Array(mem, runPtr, 4).set([this.samplePtr, 1, a.sampleEvery, B]);
    for (let g = 0; g < G; g++) {
      const lanes = Math.min(L, B - L * g);
      const ptr = { w: take(4 * L * n * n), u: take(4 * L * n), scale: take(4 * L * n), x: take(4 * L * n) };
      this.statePtrs.push(ptr.x);
      const w = new Float32Array(mem, ptr.w, L * n * n);
      const u = new Float32Array(mem, ptr.u, L * n);
      const scale = new Float32Array(mem, ptr.scale, L * n);
      const x = new Float32Array(mem, ptr.x, L * n);
      const rec = this.groupsPtr + g * groupBytes;
      // Lane masks (clip, softclip) and bounds (xmax, 1 / xmax), L lanes each, from byte 64 of the record.
      const masks = new Uint32Array(mem, rec + 64, 2 * L);
      const bounds = new Float32Array(mem, rec + 64 + 8 * L, 2 * L);
      let clip = 0;
      let soft = 0;
      for (let l = 0; l < lanes; l++) {
        const b = L * g + l;
        for (let q = 0; q < n * n; q++) w[L * q + l] = a.weights[b * n * n + q];
        for (let i = 0; i < n; i++) {
          u[L * i + l] = a.inputs[b * n + i];
          scale[L * i + l] = a.stepScales[b * n + i];
          x[L * i + l] = a.x0[b * n + i];
        }
        if (a.kinds[b] === 1) masks[l] = 0xffffffff;
        if (a.kinds[b] === 2) masks[L + l] = 0xffffffff;
        clip ||= a.kinds[b] === 1 ? 1 : 0;
        soft ||= a.kinds[b] === 2 ? 1 : 0;
        bounds[l] = a.xmax[b];
        bounds[L + l] = a.invXmax[b];
      }
      const values: Record<(typeof groupFields)[number], number> = { ...ptr, run: runPtr, n, lanes, first: L * g, rk4: rk4 ? 1 : 0, clip, soft };
      new Uint32Array(mem, rec, groupFields.length).set(groupFields.map((f) => values[f]));
    }
  }

  /**
   * Validates the batch, instantiates the kernels with memory for it and starts the threads (default: rateWasmThreads).
   * sampleBudgetBytes: wasm memory for sample rows between copies to the host (default 32 MiB).
   */
  static async create(batch: RateBatch, threads?: number, options: { sampleBudgetBytes?: number } = {}): Promise<RateWasmIntegrator> {
    // Validation first: the sizes below read the batch.
    const a = makeRateBatchArrays(batch);
    const t = threads ?? rateWasmThreads(a.batch, a.n, batch.steps, batch.method === 'rk4');
    checkThreadCount(t, maxRateWasmThreads);
    // More threads than groups would idle.
    const used = Math.min(t, Math.ceil(a.batch / lanesPerGroup));
    const budget = options.sampleBudgetBytes ?? defaultSampleBudgetBytes;
    if (!(Number.isInteger(budget) && budget > 0)) throw new ParameterError('sampleBudgetBytes', `${budget} is not a positive integer`, 'give bytes > 0, or omit it');
    const rows = a.sampleEvery > 0 ? sampleRowsOf(a.batch, a.n, a.sampleSteps.length - 1, budget) : 0;
    // + 16: the sample rows are 16-byte aligned after the groups.
    const bytes = wasmRateBytes(a.batch, a.n, 0, used) + 4 * a.batch * a.n * rows + 16;
    if (bytes > wasmMaxBytes) {
      throw new ParameterError('circuits', `${a.batch} circuits of ${a.n} cells need ${bytes} bytes of wasm memory, more than the 4 GiB of wasm32`, 'integrate fewer circuits per batch (--set initial, --max-batch), or use --backend cpu');
    }
    if (used === 1) return new RateWasmIntegrator(a, batch, await instantiateKernels(bytes), 1, rows);
    const memory = createSharedMemory(bytes);
    const it = new RateWasmIntegrator(a, batch, await instantiateSharedKernels(memory), used, rows);
    it.pool = await startBatchThreadPool(rateWorkerCode, await compileSharedKernels(), memory, used);
    return it;
  }

  get stepsDone(): number {
    return this.done;
  }

  private live(): KernelExports {
    if (!this.k) throw new ParameterError('integrator', 'is disposed', 'create a new one');
    return this.k;
  }

  async run(steps: number, control: RateRunControl = {}): Promise<void> {
    this.live();
    checkRunSteps(steps, this.done, this.stepsTotal);
    const start = this.done;
    const end = start + steps;
    while (this.done < end) {
      if (control.signal) {
        await new Promise((resolve) => setTimeout(resolve, 0));
        control.signal.throwIfAborted();
      }
      this.advance(end);
      control.onProgress?.(this.done - start, steps);
    }
  }

  /** One chunk towards `end`: at most the steps whose samples fit the wasm sample rows, which are then copied out. */
  private advance(end: number): void {
    const k = this.live();
    const from = this.done;
    const every = this.sampleEvery;
    let to = Math.min(end, from + this.chunk);
    if (every > 0) to = Math.min(to, (Math.floor(from / every) + this.sampleRows) * every);
    const rowBase = every > 0 ? Math.floor(from / every) + 1 : 0;
    const mem = k.memory.buffer;
    new Uint32Array(mem, heapBase + 4, 1)[0] = rowBase;
    const t0 = performance.now();
    runBatchGeneration(this.pool, { params: this.groupsPtr, items: this.groups, stride: groupBytes, scratch: this.scratchPtr, scratchStride: scratchBytes(this.n), from, to }, k.rateRun);
    const seconds = (performance.now() - t0) / 1000;
    if (to - from === this.chunk) this.chunk = Math.max(1, Math.min(8 * this.chunk, 1 << 20, Math.round((this.chunk * chunkTargetSeconds) / Math.max(seconds, 1e-6))));
    if (every > 0 && this.samples) {
      const rows = Math.floor(to / every) - Math.floor(from / every);
      const size = this.batch * this.n;
      this.samples.set(new Float32Array(mem, this.samplePtr, rows * size), rowBase * size);
    }
    this.done = to;
  }

  async readState(): Promise<Float32Array> {
    const mem = this.live().memory.buffer;
    const n = this.n;
    const out = new Float32Array(this.batch * n);
    this.statePtrs.forEach((ptr, g) => {
      const L = lanesPerGroup;
      const x = new Float32Array(mem, ptr, L * n);
      for (let l = 0; l < Math.min(L, this.batch - L * g); l++) for (let i = 0; i < n; i++) out[(L * g + l) * n + i] = x[L * i + l];
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
