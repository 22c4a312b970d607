// The wasm backend of poisson: the step kernel of src/wasm/assembly/poisson.ts (the same arithmetic and random bits as
// cpu-step.ts) over a state buffer in wasm memory, recording exactly like CpuPopulationSimulation.
import { DisposedError, ParameterError } from '../../errors.ts';
import { compileSharedKernels, createSharedMemory, heapBase, instantiateKernels, instantiateSharedKernels, type KernelExports } from '../../wasm/kernels.ts';
import { ctrl, ctrlSlots, getThreadSpawner, poissonWorkerCode, type SpawnedThread } from '../../wasm/threads.ts';
import { checkSimulationSpec, checkStepBudget, makeChunkSteps, type RunOptions, type Simulation, type SimulationSpec } from './simulation.ts';
import type { PoissonInstance } from '../../gpu/shaders.generated.ts';

/** wasm32 memory holds at most 4 GiB: state (4 bytes per neuron of every instance) and slots (4 per neuron) must fit. */
export const wasmMaxBytes = 2 ** 32 - heapBase - (1 << 20);

/** Bytes of wasm memory a run needs beyond the module's own: moments, spike words (per thread), recorder slots, intensities (threaded) and the state. */
export function wasmPopulationBytes(n: number, batch: number, spikeNeurons: number, threads = 1): number {
  return 32 + threads * 4 * Math.ceil(spikeNeurons / 32) + (spikeNeurons > 0 ? 4 * n : 0) + (threads > 1 ? 4 * n : 0) + 4 * n * batch;
}

/** The most threads a simulation takes (each owns a contiguous range of every instance's neurons). */
export const maxWasmThreads = 64;

/** Worker threads sharing the simulation's memory: each runs poissonStepRange on its share of the neurons per step. */
interface ThreadPool {
  threads: number;
  control: Int32Array;
  workers: SpawnedThread[];
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
  private readonly bitsPtr: number;
  private readonly slotsPtr: number;
  private readonly statePtr: number;
  private readonly threads: number;
  private pool: ThreadPool | null = null;

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
    this.bitsPtr = this.momentsPtr + 32;
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
    const threads = spec.threads ?? 1;
    if (!(Number.isInteger(threads) && threads >= 1 && threads <= maxWasmThreads)) throw new ParameterError('--threads', `${threads} is not an integer in [1, ${maxWasmThreads}]`, 'use --threads 1 or more');
    const spawn = threads > 1 ? getThreadSpawner() : null;
    if (threads > 1 && (!spawn || typeof SharedArrayBuffer === 'undefined')) {
      throw new ParameterError('--threads', `${threads} threads need worker threads and shared memory, which this runtime does not offer (the Node entry registers worker_threads)`, 'use --threads 1');
    }
    const bytes = wasmPopulationBytes(spec.n, spec.params.length, spec.recorders?.spikes?.neurons.length ?? 0, threads);
    if (bytes > wasmMaxBytes) throw new ParameterError('--n', `--n ${spec.n} x --batch ${spec.params.length} needs ${bytes} bytes of wasm memory, more than the 4 GiB of wasm32`, 'reduce --n or --batch, or use --backend cpu');
    if (threads === 1) return new WasmPopulationSimulation(spec, await instantiateKernels(bytes), 1);
    const memory = createSharedMemory(bytes);
    const sim = new WasmPopulationSimulation(spec, await instantiateSharedKernels(memory), threads);
    const module = await compileSharedKernels();
    const pool = sim.pool!;
    for (let index = 1; index < threads; index++) pool.workers.push(spawn!(poissonWorkerCode, { module, memory, control: pool.control.buffer, index, threads }));
    return sim;
  }

  /** One step of instance b on every thread (this one takes range 0); returns the count, leaves moments and bits. */
  private stepThreaded(k: KernelExports, pool: ThreadPool, b: number, step: number, slots: number, bitsRow: Uint32Array | null): number {
    const c = pool.control;
    const f = new Float32Array(c.buffer);
    const p = this.insts[b];
    const a = ctrl.args;
    const stride = 4 * this.spikeWords;
    const statePtr = this.statePtr + 4 * b * this.n;
    if (stride) new Uint32Array(k.memory.buffer, this.bitsPtr, pool.threads * this.spikeWords).fill(0);
    c[a] = statePtr;
    c[a + 1] = this.n;
    c[a + 2] = this.spec.key[0];
    c[a + 3] = this.spec.key[1];
    c[a + 4] = step;
    c[a + 5] = this.ids[b];
    f[a + 6] = p.decay;
    f[a + 7] = p.drive;
    f[a + 8] = p.jump;
    f[a + 9] = p.inputMean;
    f[a + 10] = p.peakPerStep;
    f[a + 11] = p.theta;
    f[a + 12] = p.gain;
    c[a + 13] = p.sigmoid === 0 ? 1 : 0;
    c[a + 14] = slots;
    c[a + 15] = this.bitsPtr;
    c[a + 16] = pool.lambdasPtr;
    c[a + 17] = stride;
    Atomics.store(c, ctrl.done, 0);
    Atomics.add(c, ctrl.generation, 1);
    Atomics.notify(c, ctrl.generation);
    const to = Math.floor(this.n / pool.threads);
    let count = k.poissonStepRange(statePtr, 0, to, c[a + 2], c[a + 3], step, c[a + 5], f[a + 6], f[a + 7], f[a + 8], f[a + 9], f[a + 10], f[a + 11], f[a + 12], c[a + 13], slots, this.bitsPtr, pool.lambdasPtr) >>> 0;
    for (let d = Atomics.load(c, ctrl.done); d < pool.threads - 1; d = Atomics.load(c, ctrl.done)) Atomics.wait(c, ctrl.done, d);
    for (let t = 1; t < pool.threads; t++) count = (count + c[ctrl.results + t]) >>> 0;
    k.populationMoments(statePtr, pool.lambdasPtr, this.n, this.momentsPtr);
    if (bitsRow) {
      const all = new Uint32Array(k.memory.buffer, this.bitsPtr, pool.threads * this.spikeWords);
      for (let t = 0; t < pool.threads; t++) for (let w = 0; w < this.spikeWords; w++) bitsRow[w] |= all[t * this.spikeWords + w];
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
    const { n, batch } = this;
    const key = this.spec.key;
    const traces = this.spec.recorders?.traces;
    // The same chunking as the CPU reference, so chunk records (and progress) are identical.
    const requested = this.spec.recorders?.chunkSteps ?? Math.max(1, Math.min(1000, Math.floor(2e6 / (n * batch))));
    const chunkSteps = makeChunkSteps(requested, batch * (48 + 4 * this.spikeWords), 64 << 20);
    // Memory never grows after create(), so these views stay valid.
    const state = this.stateView();
    const moments = new Float64Array(k.memory.buffer, this.momentsPtr, 3);
    const bits = new Uint32Array(k.memory.buffer, this.bitsPtr, this.spikeWords);
    const slots = this.spikeWords > 0 ? this.slotsPtr : 0;
    let done = 0;
    while (done < steps) {
      const m = Math.min(chunkSteps, steps - done);
      const counts = new Uint32Array(m * batch);
      const population = new Float64Array(m * batch * 4);
      const spikeBits = this.spikeWords > 0 ? new Uint32Array(m * batch * this.spikeWords) : null;
      const traceSteps: number[] = [];
      const traceRows: number[] = [];
      for (let s = 0; s < m; s++) {
        const step = this.stepCount;
        for (let b = 0; b < batch; b++) {
          const p = this.insts[b];
          if (this.pool) {
            counts[s * batch + b] = this.stepThreaded(k, this.pool, b, step, slots, spikeBits ? spikeBits.subarray((s * batch + b) * this.spikeWords, (s * batch + b + 1) * this.spikeWords) : null);
          } else {
            if (spikeBits) bits.fill(0);
            counts[s * batch + b] = k.poissonStep(this.statePtr + 4 * b * n, n, key[0], key[1], step, this.ids[b], p.decay, p.drive, p.jump, p.inputMean, p.peakPerStep, p.theta, p.gain, p.sigmoid === 0 ? 1 : 0, slots, this.bitsPtr, this.momentsPtr) >>> 0;
            if (spikeBits) spikeBits.set(bits, (s * batch + b) * this.spikeWords);
          }
          const row = (s * batch + b) * 4;
          population[row] = moments[0];
          population[row + 1] = moments[1];
          population[row + 2] = moments[2];
          population[row + 3] = n;
        }
        this.stepCount++;
        if (traces && this.stepCount % traces.every === 0) {
          traceSteps.push(step);
          for (let b = 0; b < batch; b++) for (const nk of traces.neurons) traceRows.push(state[b * n + nk]);
        }
      }
      done += m;
      options.onChunk?.({
        stepStart: this.stepCount - m,
        steps: m,
        batch,
        counts,
        population,
        spikeWords: this.spikeWords,
        spikeBits,
        traces: traces ? Float32Array.from(traceRows) : null,
        traceSteps,
      });
      options.onProgress?.(done, steps);
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  async readState(): Promise<Float32Array> {
    return this.stateView().slice();
  }

  dispose(): void {
    this.k = null;
    const pool = this.pool;
    this.pool = null;
    if (pool) {
      Atomics.store(pool.control, ctrl.stop, 1);
      Atomics.add(pool.control, ctrl.generation, 1);
      Atomics.notify(pool.control, ctrl.generation);
      for (const w of pool.workers) w.terminate();
    }
  }
}
