// The wasm backend of binary: the kernels of src/wasm/assembly/binary.ts (the same Philox counters, integer counts and f32
// roundings as CpuBinarySimulation) over state in wasm memory, with the same chunks, histograms and counts, bit for bit.
// Threads: with at least two instances and no fewer instances than threads, each thread claims whole instances and runs
// a chunk of steps of each (no barrier per step); otherwise every step splits each instance's neurons over the threads.
import { entropyBitsBatch } from '../../analysis/entropy.ts';
import { DisposedError, ParameterError } from '../../errors.ts';
import { compileSharedKernels, createSharedMemory, heapBase, instantiateKernels, instantiateSharedKernels, type KernelExports } from '../../wasm/kernels.ts';
import { binaryWorkerCode, ctrl, ctrlSlots, defaultThreadCount, requireThreadSpawner, runGeneration, stopThreadPool, threadPoolReady, type ThreadPool } from '../../wasm/threads.ts';
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

/** The fields of BinaryParams in src/wasm/assembly/binary.ts, in order, one 32-bit word each. */
const paramFields = ['states', 'active', 'hist', 'patternHist', 'counts', 'insts', 'scratch', 'partials', 'scratchBytes', 'n', 'k', 'batch', 'halfBits', 'er', 'erScale', 'patternNeurons', 'burnin', 'k0', 'k1', 'step', 'stepStart', 'wide'] as const;
type ParamField = (typeof paramFields)[number];
const paramsWords = paramFields.length;
const wordOf = (field: ParamField) => paramFields.indexOf(field);
/** 32-bit words per instance (BinaryInstance in src/wasm/assembly/binary.ts). */
const instanceWords = 8;
/** The most threads a simulation takes. */
export const maxBinaryWasmThreads = 64;
/** Partner-table scratch per thread when the spec names none (beyond it the partners are regenerated every step). */
export const binaryPartnerCacheBytes = 64 << 20;
/** wasm32 memory holds at most 4 GiB. */
const wasmMaxBytes = 2 ** 32 - heapBase - (1 << 20);
const defaultChunkSteps = 1000;

export interface WasmBinarySpec extends BinarySimulationSpec {
  /** Worker threads (default: the cores, see binaryDefaultThreads; results do not depend on it). */
  threads?: number;
  /** Most bytes of partner table per thread (default binaryPartnerCacheBytes); 0 regenerates the partners every step (the same results, slower). */
  partnerCacheBytes?: number;
}

/** Whether each step splits the instances' neurons over the threads (else threads take whole instances). */
function splitsNeurons(batch: number, threads: number): boolean {
  return batch === 1 || batch < threads;
}

/**
 * Threads when the spec names none: with two or more instances one per core, at most one per instance (each runs a
 * chunk of steps without a barrier); one instance is split per step like the other models' neurons (see
 * defaultThreadCount), counting a neuron of k partners as 1 + k / 30 of theirs (~30 synaptic reads cost about one
 * of their neuron updates).
 */
export function binaryDefaultThreads(N: number, k: number, batch: number): number {
  if (batch >= 2) return defaultThreadCount(Number.MAX_SAFE_INTEGER, Math.min(batch, maxBinaryWasmThreads));
  return defaultThreadCount(Math.floor((N * (30 + k)) / 30), maxBinaryWasmThreads);
}

/** Entries of 4 N <= 2^16 byte offsets fit u16 (the table's entries are offsets of state words). */
function entryBytes(N: number): number {
  return 4 * N > 65536 ? 4 : 2;
}

/**
 * Bytes of one thread's partner table of `neurons` neurons: a 16-byte header, the end entry of each neuron and its
 * partners (Erdos-Renyi: 6 standard deviations of the total in-degree as margin; a table that overflows is not used).
 */
function partnerTableBytes(neurons: number, N: number, k: number, erdosRenyi: boolean): number {
  const entries = neurons * k + (erdosRenyi ? Math.ceil(6 * Math.sqrt(neurons * k)) + 64 : 0);
  return 16 + 4 * neurons + entryBytes(N) * entries;
}

export interface WasmBinaryLayout {
  params: number;
  insts: number;
  partials: number;
  counts: number;
  hist: number;
  patternHist: number;
  active: number;
  states: number;
  scratch: number;
  /** Per thread: the partner table, or (when it does not fit the cache limit) room for one neuron's partners. */
  scratchBytes: number;
  /** Whether the partner tables fit (else the partners are regenerated every step: the same results, slower). */
  tables: boolean;
  /** Bytes from heapBase. */
  bytes: number;
}

const align16 = (x: number) => Math.ceil(x / 16) * 16;

/**
 * Where everything lies in wasm memory. Per instance: 8 N bytes of states (s(t) and s(t + 1) as u32 words), 4 N of
 * active counts, 4 (N + 1) of histogram (16 bytes per neuron), 4 x 2^M of pattern histogram, 4 x chunkSteps of counts,
 * 32 of constants; per thread a partner table of at most partnerCacheBytes (at least one neuron's partners) and 8
 * bytes per instance of partial counts.
 */
export function wasmBinaryLayout(s: { N: number; k: number; batch: number; threads: number; erdosRenyi: boolean; patternNeurons?: number; chunkSteps?: number; partnerCacheBytes?: number }): WasmBinaryLayout {
  const { N, k, batch, threads } = s;
  const chunk = s.chunkSteps ?? defaultChunkSteps;
  const M = s.patternNeurons ?? 0;
  const neurons = splitsNeurons(batch, threads) ? batch * Math.ceil(N / threads) : N;
  const table = partnerTableBytes(neurons, N, k, s.erdosRenyi);
  // Without a table a thread regenerates one neuron's partners at a time (Erdos-Renyi: up to N - 1 of them).
  const oneNeuron = 16 + entryBytes(N) * (s.erdosRenyi ? N - 1 : k);
  const tables = table <= (s.partnerCacheBytes ?? binaryPartnerCacheBytes);
  const scratchBytes = align16(Math.max(oneNeuron, tables ? table : 0));
  const params = heapBase;
  const insts = params + align16(4 * paramsWords);
  const partials = insts + 4 * instanceWords * batch;
  const counts = partials + align16(8 * threads * batch);
  const hist = counts + align16(4 * chunk * batch);
  const patternHist = hist + align16(4 * (N + 1) * batch);
  const active = patternHist + align16(4 * batch * 2 ** M);
  const states = active + align16(4 * N * batch);
  const scratch = states + align16(8 * N * batch);
  return { params, insts, partials, counts, hist, patternHist, active, states, scratch, scratchBytes, tables, bytes: scratch + threads * scratchBytes - heapBase };
}

export class WasmBinarySimulation {
  readonly backend = 'wasm' as const;
  readonly n: number;
  readonly k: number;
  readonly batch: number;
  readonly threads: number;
  private readonly chunkSteps: number;
  private readonly burnin: number;
  private readonly M: number;
  private readonly perNeuron: boolean;
  private readonly words: Uint32Array;
  private wasm: KernelExports | null;
  private pool: ThreadPool | null = null;
  private stepCount = 0;

  private constructor(spec: WasmBinarySpec, private readonly layout: WasmBinaryLayout, k: KernelExports, threads: number) {
    const { N } = spec.params[0];
    this.wasm = k;
    this.n = N;
    this.k = spec.params[0].k;
    this.batch = spec.params.length;
    this.threads = threads;
    this.chunkSteps = spec.chunkSteps ?? defaultChunkSteps;
    this.burnin = spec.burnin;
    this.M = spec.patternNeurons ?? 0;
    this.perNeuron = splitsNeurons(this.batch, threads);
    const er = binaryConnectivity(spec.params[0]) === 'erdos-renyi';
    const key = seedToKey(spec.seed);
    const L = layout;
    // Memory never grows after create(), so views on it stay valid.
    const w = new Uint32Array(k.memory.buffer, L.params, paramsWords);
    const words: Record<Exclude<ParamField, 'erScale'>, number> = {
      states: L.states, active: L.active, hist: L.hist, patternHist: L.patternHist, counts: L.counts, insts: L.insts, scratch: L.scratch, partials: L.partials,
      scratchBytes: L.scratchBytes, n: N, k: this.k, batch: this.batch, halfBits: makeHalfBits(N), er: er ? 1 : 0, patternNeurons: this.M, burnin: spec.burnin,
      k0: key[0], k1: key[1], step: 0, stepStart: 0, wide: entryBytes(N) === 4 ? 1 : 0,
    };
    for (const [field, v] of Object.entries(words)) w[wordOf(field as ParamField)] = v;
    new Float32Array(k.memory.buffer, L.params, paramsWords)[wordOf('erScale')] = er ? makeErScale(N, this.k) : 0;
    this.words = w;
    const ids = spec.instanceIds ?? spec.params.map((_, b) => b);
    const iw = new Uint32Array(k.memory.buffer, L.insts, instanceWords * this.batch);
    const iff = new Float32Array(k.memory.buffer, L.insts, instanceWords * this.batch);
    spec.params.forEach((p, b) => {
      const v = makeBinaryInstance(p);
      const o = b * instanceWords;
      [v.weightE, v.weightI, v.p0, v.oneMinusP0].forEach((x, i) => (iff[o + i] = x));
      iw[o + 4] = v.nE;
      iw[o + 5] = ids[b];
    });
    k.binaryInit(L.params);
  }

  /** Checks the spec, instantiates the kernels with memory for this run, draws s(0), starts the threads and builds their partner tables. */
  static async create(spec: WasmBinarySpec): Promise<WasmBinarySimulation> {
    checkBinarySpec(spec);
    const { N, k } = spec.params[0];
    const batch = spec.params.length;
    const threads = spec.threads ?? binaryDefaultThreads(N, k, batch);
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= maxBinaryWasmThreads)) throw new ParameterError('--threads', `${threads} is not an integer in [1, ${maxBinaryWasmThreads}]`, 'use --threads 1 or more');
    const cache = spec.partnerCacheBytes;
    if (cache !== undefined && !(Number.isInteger(cache) && cache >= 0)) throw new ParameterError('partnerCacheBytes', `${cache} is not an integer >= 0`, `use 0 (regenerate partners every step) up to ${binaryPartnerCacheBytes}`);
    // Before anything is allocated: no worker threads here (e.g. a page that is not cross-origin isolated) is an error naming the fix.
    const spawn = threads > 1 ? requireThreadSpawner(threads) : null;
    const layout = wasmBinaryLayout({ N, k, batch, threads, erdosRenyi: binaryConnectivity(spec.params[0]) === 'erdos-renyi', patternNeurons: spec.patternNeurons, chunkSteps: spec.chunkSteps, partnerCacheBytes: cache });
    if (layout.bytes > wasmMaxBytes) throw new ParameterError('--n', `N = ${N} x batch ${batch} needs ${layout.bytes} bytes of wasm memory, more than the 4 GiB of wasm32`, 'reduce N or the batch (a sweep: --max-batch), or use --backend cpu');
    let sim: WasmBinarySimulation;
    if (threads === 1) {
      sim = new WasmBinarySimulation(spec, layout, await instantiateKernels(layout.bytes), 1);
    } else {
      const memory = createSharedMemory(layout.bytes);
      sim = new WasmBinarySimulation(spec, layout, await instantiateSharedKernels(memory), threads);
      const module = await compileSharedKernels();
      const control = new Int32Array(new SharedArrayBuffer(4 * ctrlSlots));
      const pool: ThreadPool = { threads, control, workers: [] };
      sim.pool = pool;
      for (let index = 1; index < threads; index++) pool.workers.push(spawn!(binaryWorkerCode, { module, memory, control: control.buffer, index, threads }));
      // A browser starts its workers only while this thread is free: wait here, not in the first step.
      await threadPoolReady(pool).catch((e: unknown) => {
        sim.dispose();
        throw e;
      });
    }
    // Split neurons: each thread's table of its range of every instance is built once and kept for the run.
    if (sim.perNeuron) sim.onEveryThread(2, 0, (kx, thread) => kx.binaryBuildRange(layout.params, thread, threads));
    return sim;
  }

  private kernels(): KernelExports {
    if (!this.wasm) throw new DisposedError('WasmBinarySimulation');
    return this.wasm;
  }

  /** Runs a job on every thread (this one is thread 0) and waits for all of them. */
  private onEveryThread(job: number, steps: number, own: (k: KernelExports, thread: number) => void): void {
    const k = this.kernels();
    const pool = this.pool;
    if (!pool) {
      own(k, 0);
      return;
    }
    const c = pool.control;
    const a = ctrl.args;
    c[a] = this.layout.params;
    c[a + 1] = job;
    c[a + 2] = steps;
    Atomics.store(c, a + 3, 0);
    c[a + 4] = this.batch;
    runGeneration(pool, () => own(k, 0));
  }

  /** The chunk's steps: per step over neuron ranges (then the records here), or whole instances claimed by the threads. */
  private runChunk(k: KernelExports, steps: number): void {
    const w = this.words;
    const params = this.layout.params;
    const threads = this.threads;
    w[wordOf('stepStart')] = this.stepCount;
    if (this.perNeuron) {
      for (let s = 0; s < steps; s++) {
        w[wordOf('step')] = this.stepCount + s;
        this.onEveryThread(1, 0, (kx) => kx.binaryStepRange(params, 0, threads));
        k.binaryFinishStep(params, threads);
      }
      return;
    }
    w[wordOf('step')] = this.stepCount;
    const pool = this.pool;
    this.onEveryThread(0, steps, (kx) => {
      if (!pool) for (let b = 0; b < this.batch; b++) kx.binaryRunInstance(params, b, 0, steps);
      else for (let b = Atomics.add(pool.control, ctrl.args + 3, 1); b < this.batch; b = Atomics.add(pool.control, ctrl.args + 3, 1)) kx.binaryRunInstance(params, b, 0, steps);
    });
  }

  get step(): number {
    return this.stepCount;
  }

  async run(steps: number, options: BinaryRunOptions = {}): Promise<void> {
    const k = this.kernels();
    checkBinaryStepBudget(this.stepCount, steps);
    const counts = new Uint32Array(k.memory.buffer, this.layout.counts, this.chunkSteps * this.batch);
    let done = 0;
    // The CPU reference's chunks: the same onChunk records and progress.
    while (done < steps) {
      const m = Math.min(this.chunkSteps, steps - done);
      const stepStart = this.stepCount;
      this.runChunk(this.kernels(), m);
      this.stepCount += m;
      done += m;
      options.onChunk?.({ stepStart, steps: m, batch: this.batch, counts: counts.slice(0, m * this.batch) });
      options.onProgress?.(done, steps);
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  private view(at: number, length: number): Uint32Array {
    return new Uint32Array(this.kernels().memory.buffer, at, length).slice();
  }

  /** [instance][m], m in [0, N]. */
  async histogram(): Promise<Uint32Array> {
    return this.view(this.layout.hist, this.batch * (this.n + 1));
  }

  /** Shannon entropy (bits, f64) of each instance's histogram of m (the CPU reference's function on the same integers). */
  async entropyBits(): Promise<Float64Array> {
    return entropyBitsBatch(await this.histogram(), this.batch, this.n + 1);
  }

  /** [instance][pattern], pattern in [0, 2^M). */
  async patternHistogram(): Promise<Uint32Array> {
    return this.view(this.layout.patternHist, this.batch << this.M);
  }

  /** [instance][neuron]: steps t >= burnin after which the neuron was active. */
  async activeCounts(): Promise<Uint32Array> {
    return this.view(this.layout.active, this.batch * this.n);
  }

  /** Per instance: mean over neurons of the binary entropy (bits) of each neuron's post-burnin activity fraction. */
  async meanSingleNeuronEntropyBits(): Promise<Float64Array> {
    return meanSingleNeuronEntropyBits(await this.activeCounts(), this.batch, this.n, Math.max(0, this.stepCount - this.burnin));
  }

  /** [instance][neuron] current states (0/1). */
  async readState(): Promise<Uint32Array> {
    // The kernels keep an active I neuron as 2^16 (see activeI in src/wasm/assembly/binary.ts).
    const words = new Uint32Array(this.kernels().memory.buffer, this.layout.states, 2 * this.n * this.batch);
    const out = new Uint32Array(this.n * this.batch);
    const parity = (this.stepCount & 1) * this.n;
    for (let b = 0; b < this.batch; b++) for (let i = 0; i < this.n; i++) out[b * this.n + i] = words[2 * b * this.n + parity + i] === 0 ? 0 : 1;
    return out;
  }

  dispose(): void {
    this.wasm = null;
    const pool = this.pool;
    this.pool = null;
    if (pool) stopThreadPool(pool);
  }
}
