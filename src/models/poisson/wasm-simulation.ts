// The wasm backend of poisson: the step kernel of src/wasm/assembly/poisson.ts (the same arithmetic and random bits as
// cpu-step.ts) over a state buffer in wasm memory, recording exactly like CpuPopulationSimulation.
import { DisposedError, ParameterError } from '../../errors.ts';
import { compileSharedKernels, createSharedMemory, heapBase, instantiateKernels, instantiateSharedKernels, type KernelExports } from '../../wasm/kernels.ts';
import { ctrl, ctrlSlots, defaultThreadCount, poissonWorkerCode, requireThreadSpawner, runGeneration, stopThreadPool, threadPoolReady, type ThreadPool } from '../../wasm/threads.ts';
import { runChunked } from './chunk-recorder.ts';
import { checkSimulationSpec, checkStepBudget, type RunOptions, type Simulation, type SimulationSpec } from './simulation.ts';
import type { PoissonInstance } from '../../gpu/shaders.generated.ts';

/** wasm32 memory holds at most 4 GiB: state (4 bytes per neuron of every instance) and slots (4 per neuron) must fit. */
export const wasmMaxBytes = 2 ** 32 - heapBase - (1 << 20);

/** Bytes of wasm memory a run needs beyond the module's own: moments, step parameters, spike words (per thread), recorder slots, intensities (threaded) and the state. */
export function wasmPopulationBytes(n: number, batch: number, spikeNeurons: number, threads = 1): number {
  return 32 + 4 * stepParamsWords + threads * 4 * Math.ceil(spikeNeurons / 32) + (spikeNeurons > 0 ? 4 * n : 0) + (threads > 1 ? 4 * n : 0) + 4 * n * batch;
}

/** 32-bit words of the step parameters the kernels read (StepParams in src/wasm/assembly/poisson.ts). */
export const stepParamsWords = 16;

/** The most threads a simulation takes (each owns a contiguous range of every instance's neurons). */
export const maxWasmThreads = 64;

/** Threads when the user names none: defaultThreadCount of an instance's n neurons. */
export function poissonDefaultThreads(n: number): number {
  return defaultThreadCount(n, maxWasmThreads);
}

/** Worker threads sharing the simulation's memory: each runs poissonStepRange on its share of the neurons per step. */
interface PoissonThreadPool extends ThreadPool {
  lambdasPtr: number;
}

export class WasmPopulationSimulation implements Simulation {
  readonly backend = 'wasm' as const;
  readonly n: number;
  readonly batch: number;
  readonly dt: number;
  private stepCount = 0;
  private k: KernelExports | null;
  private readonly ids: readonly number[];
  private readonly insts: PoissonInstance[];
  private readonly spikeWords: number;
  private readonly momentsPtr = heapBase;
  private readonly paramsPtr = heapBase + 32;
  private readonly bitsPtr: number;
  private readonly slotsPtr: number;
  private readonly statePtr: number;
  readonly threads: number;
  private pool: PoissonThreadPool | null = null;

  private constructor(private readonly spec: SimulationSpec, k: KernelExports, threads: number) {
    this.threads = threads;
    this.k = k;
    this.n = spec.n;
    this.batch = spec.params.length;
    this.dt = spec.dt;
    this.ids = spec.instanceIds ?? spec.params.map((_, b) => b);
    this.insts = spec.params.map((p) => spec.model.makeInstance(p, spec.dt) as PoissonInstance);
    const rec = spec.recorders?.spikes?.neurons;
    this.spikeWords = rec ? Math.ceil(rec.length / 32) : 0;
    this.bitsPtr = this.paramsPtr + 4 * stepParamsWords;
    this.slotsPtr = rec ? this.bitsPtr + threads * 4 * this.spikeWords : 0;
    const lambdasPtr = this.bitsPtr + threads * 4 * this.spikeWords + (rec ? 4 * this.n : 0);
    this.statePtr = lambdasPtr + (threads > 1 ? 4 * this.n : 0);
    if (threads > 1) this.pool = { threads, control: new Int32Array(new SharedArrayBuffer(4 * ctrlSlots)), workers: [], lambdasPtr };
    if (rec) {
      const slots = new Int32Array(k.memory.buffer, this.slotsPtr, this.n).fill(-1);
      rec.forEach((nk, j) => (slots[nk] = j));
    }
    const state = this.stateView();
    spec.params.forEach((p, b) => state.fill(spec.model.initialPotential(p), b * this.n, (b + 1) * this.n));
  }

  /** Checks the spec, instantiates the kernels with memory for this run and fills the initial state. */
  static async create(spec: SimulationSpec): Promise<WasmPopulationSimulation> {
    checkSimulationSpec(spec);
    if (spec.model.id !== 'poisson') throw new ParameterError('backend', `the wasm backend has no kernel for population model ${spec.model.id}`, 'use the cpu backend');
    const threads = spec.threads ?? poissonDefaultThreads(spec.n);
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= maxWasmThreads)) throw new ParameterError('--threads', `${threads} is not an integer in [1, ${maxWasmThreads}]`, 'use --threads 1 or more');
    // Before anything is allocated: no worker threads here (e.g. a page that is not cross-origin isolated) is an error naming the fix.
    const spawn = threads > 1 ? requireThreadSpawner(threads) : null;
    const bytes = wasmPopulationBytes(spec.n, spec.params.length, spec.recorders?.spikes?.neurons.length ?? 0, threads);
    if (bytes > wasmMaxBytes) throw new ParameterError('--n', `--n ${spec.n} x --batch ${spec.params.length} needs ${bytes} bytes of wasm memory, more than the 4 GiB of wasm32`, 'reduce --n or --batch, or use --backend cpu');
    if (threads === 1) return new WasmPopulationSimulation(spec, await instantiateKernels(bytes), 1);
    const memory = createSharedMemory(bytes);
    const sim = new WasmPopulationSimulation(spec, await instantiateSharedKernels(memory), threads);
    const module = await compileSharedKernels();
    const pool = sim.pool!;
    for (let index = 1; index < threads; index++) pool.workers.push(spawn!(poissonWorkerCode, { module, memory, control: pool.control.buffer, index, threads }));
    // A browser starts its workers only while this thread is free: wait here, not in the first step.
    await threadPoolReady(pool).catch((e: unknown) => {
      sim.dispose();
      throw e;
    });
    return sim;
  }

  /** Packs instance b's step for the kernels (StepParams in src/wasm/assembly/poisson.ts) at paramsPtr. */
  private writeStepParams(k: KernelExports, b: number, step: number): void {
    const w = new Uint32Array(k.memory.buffer, this.paramsPtr, stepParamsWords);
    const f = new Float32Array(k.memory.buffer, this.paramsPtr, stepParamsWords);
    const p = this.insts[b];
    w[0] = this.statePtr + 4 * b * this.n;
    w[1] = this.n;
    w[2] = this.spec.key[0];
    w[3] = this.spec.key[1];
    w[4] = step;
    w[5] = this.ids[b];
    f[6] = p.decay;
    f[7] = p.drive;
    f[8] = p.jump;
    f[9] = p.inputMean;
    f[10] = p.peakPerStep;
    f[11] = p.theta;
    f[12] = p.gain;
    w[13] = p.sigmoid === 0 ? 1 : 0;
    w[14] = this.spikeWords > 0 ? this.slotsPtr : 0;
    w[15] = this.bitsPtr;
  }

  /** One step of instance b on this thread: returns the count, leaves moments; recorded spikes go to spikes. */
  private stepSingle(k: KernelExports, b: number, step: number, spikes: Uint32Array | null): number {
    this.writeStepParams(k, b, step);
    const bits = spikes ? new Uint32Array(k.memory.buffer, this.bitsPtr, this.spikeWords).fill(0) : null;
    const count = k.poissonStep(this.paramsPtr, this.momentsPtr) >>> 0;
    if (bits) spikes!.set(bits);
    return count;
  }

  /** One step of instance b on every thread (this one takes range 0): returns the count, leaves moments; recorded spikes go to spikes. */
  private stepThreaded(k: KernelExports, pool: PoissonThreadPool, b: number, step: number, spikes: Uint32Array | null): number {
    const c = pool.control;
    const a = ctrl.args;
    const stride = 4 * this.spikeWords;
    this.writeStepParams(k, b, step);
    if (stride) new Uint32Array(k.memory.buffer, this.bitsPtr, pool.threads * this.spikeWords).fill(0);
    c[a] = this.paramsPtr;
    c[a + 1] = this.n;
    c[a + 2] = this.bitsPtr;
    c[a + 3] = stride;
    c[a + 4] = pool.lambdasPtr;
    const to = Math.floor(this.n / pool.threads);
    let count = runGeneration(pool, () => k.poissonStepRange(this.paramsPtr, 0, to, this.bitsPtr, pool.lambdasPtr) >>> 0);
    for (let t = 1; t < pool.threads; t++) count = (count + c[ctrl.results + t]) >>> 0;
    k.populationMoments(this.statePtr + 4 * b * this.n, pool.lambdasPtr, this.n, this.momentsPtr);
    if (spikes) {
      const all = new Uint32Array(k.memory.buffer, this.bitsPtr, pool.threads * this.spikeWords);
      for (let t = 0; t < pool.threads; t++) for (let w = 0; w < this.spikeWords; w++) spikes[w] |= all[t * this.spikeWords + w];
    }
    return count;
  }

  get step(): number {
    return this.stepCount;
  }

  private stateView(): Float32Array {
    if (!this.k) throw new DisposedError('WasmPopulationSimulation');
    return new Float32Array(this.k.memory.buffer, this.statePtr, this.n * this.batch);
  }

  async run(steps: number, options: RunOptions = {}): Promise<void> {
    const k = this.k;
    if (!k) throw new DisposedError('WasmPopulationSimulation');
    checkStepBudget(this.stepCount, steps);
    // Memory never grows after create(), so these views stay valid.
    const state = this.stateView();
    const moments = new Float64Array(k.memory.buffer, this.momentsPtr, 3);
    // The same chunking and records as the CPU reference, so chunk records (and progress) are identical.
    await runChunked(this.spec, this.spikeWords, steps, options, {
      state: () => state,
      step: (rec) => {
        const step = this.stepCount;
        for (let b = 0; b < this.batch; b++) {
          const count = this.pool ? this.stepThreaded(k, this.pool, b, step, rec.spikes(b)) : this.stepSingle(k, b, step, rec.spikes(b));
          rec.set(b, count, moments[0], moments[1], moments[2]);
        }
        return this.stepCount++;
      },
    });
  }

  async readState(): Promise<Float32Array> {
    return this.stateView().slice();
  }

  dispose(): void {
    this.k = null;
    const pool = this.pool;
    this.pool = null;
    if (pool) stopThreadPool(pool);
  }
}
