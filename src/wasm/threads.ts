// Worker threads for the wasm kernels, without a node: import here (the browser entry bundles this file): the Node
// entry registers worker_threads (src/wasm/node-threads.ts); without a registered spawner only one thread runs.
import { ParameterError } from '../errors.ts';

/** A started worker running `code` (plain JavaScript that reads its data from a `workerData` binding the spawner defines) that can be stopped. */
export interface SpawnedThread {
  terminate(): void;
}

export type ThreadSpawner = (code: string, data: unknown) => SpawnedThread;

let spawner: ThreadSpawner | null = null;
let cores = 1;

/** Registers how to start a worker (Node: worker_threads; called by the Node entry) and how many cores there are. */
export function setThreadSpawner(s: ThreadSpawner | null, coreCount = 1): void {
  spawner = s;
  cores = Math.max(1, Math.floor(coreCount));
}

/** Neurons per thread below which another thread costs more (a barrier per step) than it saves. */
export const neuronsPerThreadMin = 20_000;

/**
 * Threads when the user names none: every core of the machine, but no more than one per neuronsPerThreadMin
 * neurons of an instance, and 1 without worker threads or shared memory. Results do not depend on the count.
 */
export function defaultThreadCount(neuronsPerInstance: number, max: number): number {
  if (!spawner || typeof SharedArrayBuffer === 'undefined') return 1;
  return Math.max(1, Math.min(cores, max, Math.floor(neuronsPerInstance / neuronsPerThreadMin)));
}

/** Estimated single-thread seconds below which a batched run stays on one thread (starting a worker costs tens of ms). */
export const batchThreadSecondsMin = 0.25;

/**
 * Threads for a batch of independent items (instances, or groups of them) when the user names none: every core but at
 * most one per item (a thread advances its own items over a chunk of steps, with no barrier per step), and 1 without
 * worker threads or shared memory, or for a run estimated below batchThreadSecondsMin. Results do not depend on it.
 */
export function defaultBatchThreadCount(items: number, seconds: number, max: number): number {
  if (!spawner || typeof SharedArrayBuffer === 'undefined' || !(seconds >= batchThreadSecondsMin)) return 1;
  return Math.max(1, Math.min(cores, max, Math.floor(items)));
}

/** Refuses a thread count out of [1, max], or above 1 where this runtime has no worker threads or shared memory. */
export function checkThreadCount(threads: number, max: number): void {
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= max)) throw new ParameterError('--threads', `${threads} is not an integer in [1, ${max}]`, 'use --threads 1 or more');
  if (threads > 1 && (!spawner || typeof SharedArrayBuffer === 'undefined')) {
    throw new ParameterError('--threads', `${threads} threads need worker threads and shared memory, which this runtime does not offer (the Node entry registers worker_threads)`, 'use --threads 1');
  }
}

export function getThreadSpawner(): ThreadSpawner | null {
  return spawner;
}

/** Control block layout (Int32 slots) shared by the host and the workers of a thread pool. */
export const ctrl = { generation: 0, done: 1, stop: 2, args: 8, results: 64 } as const;
/** Int32 slots of the control block. */
export const ctrlSlots = 64 + 64;

/**
 * A worker's code (the spawner prefixes the binding of `workerData`, e.g. from worker_threads): instantiate the shared
 * kernels on the shared memory, then per generation run `step` (JavaScript with `k` the kernels, `c` the control
 * block, `a` its first argument slot, `index` and `threads`) and report done.
 */
function makeWorkerCode(step: string): string {
  return `
const { module, memory, control, index, threads } = workerData;
const c = new Int32Array(control);
const k = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('wasm kernel abort'); } } }).exports;
let gen = 0;
for (;;) {
  Atomics.wait(c, ${ctrl.generation}, gen);
  gen = Atomics.load(c, ${ctrl.generation});
  if (Atomics.load(c, ${ctrl.stop}) !== 0) break;
  const a = ${ctrl.args};
${step}  Atomics.add(c, ${ctrl.done}, 1);
  Atomics.notify(c, ${ctrl.done});
}
`;
}

/**
 * poisson: run poissonStepRange on this worker's range (control args: the step's parameters in wasm memory, n, this
 * thread's spike words at bits + index * stride, stride, intensities) and store the count.
 */
export const poissonWorkerCode = makeWorkerCode(`
  const n = c[a + 1] >>> 0;
  const from = Math.floor((n * index) / threads);
  const to = Math.floor((n * (index + 1)) / threads);
  c[${ctrl.results} + index] = k.poissonStepRange(c[a], from, to, c[a + 2] + index * c[a + 3], c[a + 4]);
`);

/** hybrid: run hybridStepRange on this worker's share of the instance's 2n neurons (control args: the instance's parameters in wasm memory, 2n). */
export const hybridWorkerCode = makeWorkerCode(`
  const m = c[a + 1] >>> 0;
  k.hybridStepRange(c[a], Math.floor((m * index) / threads), Math.floor((m * (index + 1)) / threads));
`);

/**
 * Batched kernels: `kernel(params, scratch, from, to)` on this worker's share of the batch's items, the ranges of
 * runBatchGeneration (control args: the first item's parameters, items, their stride in bytes, thread 0's scratch,
 * the scratch stride, from, to).
 */
function makeBatchWorkerCode(kernel: string): string {
  return makeWorkerCode(`
  const items = c[a + 1] >>> 0;
  const end = Math.floor((items * (index + 1)) / threads);
  for (let i = Math.floor((items * index) / threads); i < end; i++) k.${kernel}(c[a] + i * c[a + 2], c[a + 3] + index * c[a + 4], c[a + 5] >>> 0, c[a + 6] >>> 0);
`);
}

/** minimax: minimaxRun over this worker's instances. */
export const minimaxWorkerCode = makeBatchWorkerCode('minimaxRun');
/**
 * minimax, one instance split over T workers (the calling thread only waits: see startSplitThreadPool, so worker
 * index - 1 is the thread t of T): per step minimaxDecide, the barrier, minimaxUpdate on this worker's neurons
 * (control args: the instance's parameters, the list slots, thread 0's scratch, the scratch stride, from, to). The
 * barrier (control slots 32, 33, 34: arrivals, its generation, spins): the last to arrive opens it, the others spin
 * (waking a sleeping thread took longer than a whole step of a network worth splitting: 2000 spins made one grid of
 * side 32 run 5x slower than 1 thread), then sleep.
 */
export const minimaxSplitWorkerCode = makeWorkerCode(`
  const t = index - 1, T = threads - 1;
  const params = c[a], lists = c[a + 1], scratch = c[a + 2] + t * c[a + 3], to = c[a + 5] >>> 0;
  for (let s = c[a + 4] >>> 0; s < to; s++) {
    k.minimaxDecide(params, scratch, lists, t, T, s);
    const g = Atomics.load(c, 33);
    if (Atomics.add(c, 32, 1) === T - 1) {
      Atomics.store(c, 32, 0);
      Atomics.add(c, 33, 1);
      Atomics.notify(c, 33);
    } else {
      let spins = c[34];
      while (spins > 0 && Atomics.load(c, 33) === g) spins--;
      while (Atomics.load(c, 33) === g) Atomics.wait(c, 33, g);
    }
    k.minimaxUpdate(params, scratch, lists, t, T, s);
  }
`);

/** rate: rateRun over this worker's groups of eight circuits. */
export const rateWorkerCode = makeBatchWorkerCode('rateRun');

/** The workers of one simulation and their control block (worker 0 is the calling thread itself). */
export interface ThreadPool {
  threads: number;
  control: Int32Array;
  workers: SpawnedThread[];
}

/** Starts a generation: every worker runs its step on the arguments already in the control block. */
export function startGeneration(pool: ThreadPool): void {
  const c = pool.control;
  Atomics.store(c, ctrl.done, 0);
  Atomics.add(c, ctrl.generation, 1);
  Atomics.notify(c, ctrl.generation);
}

/** Waits until every worker (not the calling thread) has finished the generation. */
export function waitForWorkers(pool: ThreadPool): void {
  const c = pool.control;
  for (let d = Atomics.load(c, ctrl.done); d < pool.threads - 1; d = Atomics.load(c, ctrl.done)) Atomics.wait(c, ctrl.done, d);
}

/** Tells the workers to leave their loop and terminates them. */
export function stopThreadPool(pool: ThreadPool): void {
  Atomics.store(pool.control, ctrl.stop, 1);
  Atomics.add(pool.control, ctrl.generation, 1);
  Atomics.notify(pool.control, ctrl.generation);
  for (const w of pool.workers) w.terminate();
}

/** Spawns `workers` workers (indices 1..workers) on `memory` and resolves once each has run one empty generation. */
async function startWorkers(code: string, module: WebAssembly.Module, memory: WebAssembly.Memory, workers: number, spins: number): Promise<ThreadPool> {
  const spawn = getThreadSpawner();
  if (!spawn) throw new ParameterError('--threads', `${workers + 1} threads need worker threads, which this runtime does not offer`, 'use --threads 1');
  const control = new Int32Array(new SharedArrayBuffer(4 * ctrlSlots));
  control[34] = spins;
  const pool: ThreadPool = { threads: workers + 1, control, workers: [] };
  for (let index = 1; index <= workers; index++) pool.workers.push(spawn(code, { module, memory, control: control.buffer, index, threads: workers + 1 }));
  // The empty generation: no items (batch codes), no steps (minimaxSplitWorkerCode: from = to = 0).
  control.fill(0, ctrl.args, ctrl.args + 8);
  startGeneration(pool);
  // Polled on timers: Node does not keep its event loop alive for Atomics.waitAsync, and the workers are unref'd.
  while (Atomics.load(control, ctrl.done) < workers) await new Promise((resolve) => setTimeout(resolve, 1));
  return pool;
}

/**
 * Starts threads - 1 workers running a batch worker code (makeBatchWorkerCode) on `memory` (the shared kernels'
 * module), the calling thread being worker 0, and resolves once each has instantiated the kernels and run one empty
 * generation: starting the workers (tens of ms) is part of creating a simulation, not of its first run.
 */
export function startBatchThreadPool(code: string, module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<ThreadPool> {
  return startWorkers(code, module, memory, threads - 1, 0);
}

/**
 * Starts `threads` workers running minimaxSplitWorkerCode while the calling thread only waits (its pool's `threads`
 * counts it: threads + 1). Their barrier spins up to about 0.1 ms, or not at all with more workers than cores (a
 * spinning thread would hold the core that the one it waits for needs).
 */
export function startSplitThreadPool(code: string, module: WebAssembly.Module, memory: WebAssembly.Memory, threads: number): Promise<ThreadPool> {
  return startWorkers(code, module, memory, threads, threads <= cores ? 50_000 : 0);
}

/** One chunk of a batched kernel: items [0, items) split into contiguous ranges, item i at params + i stride. */
export interface BatchArgs {
  params: number;
  items: number;
  stride: number;
  /** Thread 0's scratch; thread t's is at scratch + t scratchStride. */
  scratch: number;
  scratchStride: number;
  from: number;
  to: number;
}

/**
 * Runs `kernel` (the calling thread's instance of the one the pool's workers run) over every item for steps
 * [from, to): on this thread alone without a pool, else this thread takes range 0 while the workers take theirs.
 */
export function runBatchGeneration(pool: ThreadPool | null, args: BatchArgs, kernel: (params: number, scratch: number, from: number, to: number) => void): void {
  const threads = pool?.threads ?? 1;
  if (pool) {
    const c = pool.control;
    const a = ctrl.args;
    [args.params, args.items, args.stride, args.scratch, args.scratchStride, args.from, args.to].forEach((v, i) => (c[a + i] = v));
    startGeneration(pool);
  }
  const end = Math.floor(args.items / threads);
  for (let i = 0; i < end; i++) kernel(args.params + i * args.stride, args.scratch, args.from, args.to);
  if (pool) waitForWorkers(pool);
}
