// Worker threads for the wasm kernels, without a node: import here (the browser entry bundles this file): the Node
// entry registers worker_threads (src/wasm/node-threads.ts), the browser entry Web Workers (src/wasm/browser-threads.ts,
// on a cross-origin isolated page only); without a registered spawner only one thread runs, and errors say why.
import { ParameterError, WasmThreadError } from '../errors.ts';

/** A started worker running `code` (plain JavaScript that reads its data from a `workerData` binding the spawner defines) that can be stopped. */
export interface SpawnedThread {
  terminate(): void;
  /** Set by the spawner when the worker could not start or threw (its message), so waiting for it fails instead of hanging. */
  failure?: string | null;
}

export type ThreadSpawner = (code: string, data: unknown) => SpawnedThread;

let spawner: ThreadSpawner | null = null;
let cores = 1;
let unavailable: { reason: string; fix: string } | null = null;

/** Registers how to start a worker (Node: worker_threads; called by the Node entry) and how many cores there are. */
export function setThreadSpawner(s: ThreadSpawner | null, coreCount = 1): void {
  spawner = s;
  cores = Math.max(1, Math.floor(coreCount));
  unavailable = null;
}

/** Registers that this runtime has no worker threads, why, and what the user can do about it (e.g. a page that is not cross-origin isolated). */
export function setThreadsUnavailable(reason: string, fix: string, coreCount = 1): void {
  spawner = null;
  cores = Math.max(1, Math.floor(coreCount));
  unavailable = { reason, fix };
}

/** Why only one thread can run here (null when worker threads and shared memory are available), and the fix. */
export function threadsUnavailable(): { reason: string; fix: string } | null {
  if (spawner && typeof SharedArrayBuffer !== 'undefined') return null;
  if (unavailable) return unavailable;
  if (typeof SharedArrayBuffer === 'undefined') return { reason: 'this runtime has no SharedArrayBuffer, which the threads share', fix: 'use threads 1' };
  return { reason: 'this runtime registers no worker threads (the Node entry registers worker_threads, the browser entry Web Workers)', fix: 'use threads 1' };
}

/** The spawner for a run on `threads` > 1 threads, or a ParameterError saying why there is none and what to do. */
export function requireThreadSpawner(threads: number): ThreadSpawner {
  const no = threadsUnavailable();
  if (no || !spawner) throw new ParameterError('--threads', `${threads} threads need worker threads and shared memory, but ${no?.reason ?? 'none are registered'}`, no?.fix ?? 'use --threads 1');
  return spawner;
}

/**
 * Neurons per thread below which another thread costs more (a barrier per step) than it saves. With the barrier's
 * spin (spinLoads), two threads beat one from 2 x 1000 hybrid neurons (29 vs 51 ns per neuron-step), 2000 poisson
 * neurons (33 vs 39) and binary N = 1000, k = 100 on a 2-core machine.
 */
export const neuronsPerThreadMin = 1000;

/**
 * Threads when the user names none: every core of the machine, but no more than one per neuronsPerThreadMin
 * neurons of an instance, and 1 without worker threads or shared memory. Results do not depend on the count.
 */
export function defaultThreadCount(neuronsPerInstance: number, max: number): number {
  if (threadsUnavailable()) return 1;
  return Math.max(1, Math.min(cores, max, Math.floor(neuronsPerInstance / neuronsPerThreadMin)));
}

/** Why defaultThreadCount gives one thread where the cores and the size would give more (no worker threads here), and the fix; else null. */
export function defaultThreadsNote(neuronsPerInstance: number, max: number): string | null {
  const no = threadsUnavailable();
  if (!no || Math.min(cores, max, Math.floor(neuronsPerInstance / neuronsPerThreadMin)) < 2) return null;
  return `one thread: ${no.reason}; for more, ${no.fix}`;
}

/** Estimated single-thread seconds below which a batched run stays on one thread (starting a worker costs tens of ms). */
export const batchThreadSecondsMin = 0.25;

/**
 * Threads for a batch of independent items (instances, or groups of them) when the user names none: every core but at
 * most one per item (a thread advances its own items over a chunk of steps, with no barrier per step), and 1 without
 * worker threads or shared memory, or for a run estimated below batchThreadSecondsMin. Results do not depend on it.
 */
export function defaultBatchThreadCount(items: number, seconds: number, max: number): number {
  if (threadsUnavailable() || !(seconds >= batchThreadSecondsMin)) return 1;
  return Math.max(1, Math.min(cores, max, Math.floor(items)));
}

/** Refuses a thread count out of [1, max], or above 1 where this runtime has no worker threads or shared memory. */
export function checkThreadCount(threads: number, max: number): void {
  if (!(Number.isInteger(threads) && threads >= 1 && threads <= max)) throw new ParameterError('--threads', `${threads} is not an integer in [1, ${max}]`, 'use --threads 1 or more');
  if (threads > 1) requireThreadSpawner(threads);
}

export function getThreadSpawner(): ThreadSpawner | null {
  return spawner;
}

/**
 * Control block layout (Int32 slots) shared by the host and the workers of a thread pool: failed is the index of the
 * first worker whose step threw (-1: the calling thread's share; 0: none), message its error's first messageChars
 * UTF-16 code units (0-terminated).
 */
export const ctrl = { generation: 0, done: 1, stop: 2, ready: 3, failed: 4, args: 8, results: 64, message: 128 } as const;
const messageChars = 64;
/**
 * Loads of the control block a thread spins through before it sleeps in Atomics.wait, waiting for the next generation
 * or for the workers to finish one (tens of microseconds): waking a sleeping thread takes about as long as a step of
 * 2 x 1000 hybrid neurons.
 */
const spinLoads = 5000;
/** Int32 slots of the control block. */
export const ctrlSlots = 128 + messageChars;

/**
 * A worker's code (the spawner prefixes the binding of `workerData`, e.g. from worker_threads): instantiate the shared
 * kernels on the shared memory, report ready, then per generation run `step` (JavaScript with `k` the kernels, `c` the
 * control block, `a` its first argument slot, `index` and `threads`) and report done.
 */
function makeWorkerCode(step: string, onFailure = ''): string {
  return `
const { module, memory, control, index, threads } = workerData;
const c = new Int32Array(control);
const k = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('wasm kernel abort'); } } }).exports;
Atomics.add(c, ${ctrl.ready}, 1);
Atomics.notify(c, ${ctrl.ready});
let gen = 0;
for (;;) {
  for (let s = ${spinLoads}; s > 0 && Atomics.load(c, ${ctrl.generation}) === gen; s--);
  // A wake-up is not a new generation: the host's notify for the one this worker already ran can come late (the host
  // was descheduled between its add and its notify), and running it twice would count done twice.
  while (Atomics.load(c, ${ctrl.generation}) === gen) Atomics.wait(c, ${ctrl.generation}, gen);
  gen = Atomics.load(c, ${ctrl.generation});
  if (Atomics.load(c, ${ctrl.stop}) !== 0) break;
  const a = ${ctrl.args};
  try {
${step}  } catch (e) {
    // Counted done all the same, so the host stops waiting and throws this instead of hanging.
    if (Atomics.compareExchange(c, ${ctrl.failed}, 0, index) === 0) {
      const m = String((e && e.message) || e).slice(0, ${messageChars - 1});
      for (let i = 0; i < m.length; i++) c[${ctrl.message} + i] = m.charCodeAt(i);
      c[${ctrl.message} + m.length] = 0;
    }
${onFailure}  }
  Atomics.add(c, ${ctrl.done}, 1);
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

/**
 * hybrid (control args: parameters, count, the threads' scratch, bytes per thread's scratch, mode, parameter stride):
 * mode 0, hybridStepRange on this worker's share of one instance's 2n neurons (count: 2n); mode 1, hybridStep of
 * this worker's share of the `count` instances whose parameters start at the first (the caller takes share 0).
 */
export const hybridWorkerCode = makeWorkerCode(`
  const m = c[a + 1] >>> 0;
  const scratch = c[a + 2] + index * c[a + 3];
  if (c[a + 4] === 0) k.hybridStepRange(c[a], Math.floor((m * index) / threads), Math.floor((m * (index + 1)) / threads), scratch);
  else for (let b = Math.floor((m * index) / threads), end = Math.floor((m * (index + 1)) / threads); b < end; b++) k.hybridStep(c[a] + b * c[a + 5], scratch);
`);
/**
 * binary (control args: the simulation's parameters in wasm memory, the job, steps, the next-instance counter, batch):
 * job 0 claims whole instances until none is left and runs `steps` steps of each; job 1 steps this thread's range of
 * neurons of every instance once; job 2 builds this thread's partner table.
 */
export const binaryWorkerCode = makeWorkerCode(`
  const p = c[a];
  const job = c[a + 1];
  if (job === 0) for (let b = Atomics.add(c, a + 3, 1); b < c[a + 4]; b = Atomics.add(c, a + 3, 1)) k.binaryRunInstance(p, b, index, c[a + 2]);
  else if (job === 1) k.binaryStepRange(p, index, threads);
  else k.binaryBuildRange(p, index, threads);
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
      while (Atomics.load(c, 33) === g && Atomics.load(c, ${ctrl.failed}) === 0) Atomics.wait(c, 33, g);
    }
    if (Atomics.load(c, ${ctrl.failed}) !== 0) break;
    k.minimaxUpdate(params, scratch, lists, t, T, s);
  }
`, `    // Opens the barrier for threads already waiting at it (failed is set first, so none sleeps through it), which then see failed and stop.
    Atomics.add(c, 33, 1);
    Atomics.notify(c, 33);
`);

/** rate: rateRun over this worker's groups of sixteen circuits. */
export const rateWorkerCode = makeBatchWorkerCode('rateRun');

/** The workers of one simulation and their control block (worker 0 is the calling thread itself). */
export interface ThreadPool {
  threads: number;
  control: Int32Array;
  workers: SpawnedThread[];
}

/** Starts a generation: every worker runs its step on the arguments already in the control block. */
export function startGeneration(pool: ThreadPool): void {
  throwIfWorkerFailed(pool);
  const c = pool.control;
  Atomics.store(c, ctrl.done, 0);
  Atomics.add(c, ctrl.generation, 1);
  Atomics.notify(c, ctrl.generation);
}

/**
 * Resolves when every worker of the pool has instantiated its kernels; call it before the first step. A browser starts a
 * Web Worker only while its main thread is free, so a step that blocked on a worker not yet started would never end.
 */
export async function threadPoolReady(pool: ThreadPool, timeoutMs = 60_000): Promise<void> {
  const t0 = Date.now();
  while (Atomics.load(pool.control, ctrl.ready) < pool.threads - 1) {
    const failed = pool.workers.find((w) => w.failure)?.failure;
    if (failed) throw new WasmThreadError(null, `a wasm worker thread failed to start: ${failed}`, 'use --threads 1');
    if (Date.now() - t0 > timeoutMs) {
      throw new WasmThreadError(null, `the wasm worker threads did not start within ${timeoutMs / 1000} s (${Atomics.load(pool.control, ctrl.ready)} of ${pool.threads - 1} ready)`, 'use fewer --threads, or --threads 1');
    }
    await new Promise((ok) => setTimeout(ok, 2));
  }
}

let blockingAllowed: boolean | null = null;

/** Whether this thread may block in Atomics.wait (a browser's main thread may not): tried once, on a private word. */
function mayBlock(): boolean {
  if (blockingAllowed === null) {
    try {
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 1, 0);
      blockingAllowed = true;
    } catch {
      blockingAllowed = false;
    }
  }
  return blockingAllowed;
}

/**
 * Waits until every worker (not the calling thread) has finished the generation: in Atomics.wait where this thread may
 * block (Node, a worker), else spinning on Atomics.load (a browser's main thread; it took range 0 meanwhile, so the
 * spin is short).
 */
export function waitForWorkers(pool: ThreadPool): void {
  const c = pool.control;
  const others = pool.threads - 1;
  if (mayBlock()) {
    for (let s = spinLoads; s > 0 && Atomics.load(c, ctrl.done) < others; s--);
    for (let d = Atomics.load(c, ctrl.done); d < others; d = Atomics.load(c, ctrl.done)) Atomics.wait(c, ctrl.done, d);
  } else {
    // Spinning for a worker that has not started would never end (it starts only once this thread is free).
    if (Atomics.load(c, ctrl.ready) < others) throw new Error('waitForWorkers: the pool\'s workers have not started; await threadPoolReady(pool) before the first step');
    while (Atomics.load(c, ctrl.done) < others);
  }
  throwIfWorkerFailed(pool);
}

/** ctrl.failed's value when the calling thread's share threw (workers store their index). */
const callingThreadFailed = -1;

/** Throws WasmThreadError when a thread's step threw (in this generation or an earlier one: the pool stays failed). */
export function throwIfWorkerFailed(pool: ThreadPool): void {
  const c = pool.control;
  const failed = Atomics.load(c, ctrl.failed);
  if (failed === 0) return;
  let message = '';
  for (let i = 0; i < messageChars && c[ctrl.message + i] !== 0; i++) message += String.fromCharCode(c[ctrl.message + i]);
  const who = failed === callingThreadFailed ? 'the calling thread (share 0)' : `wasm worker thread ${failed}`;
  throw new WasmThreadError(
    failed === callingThreadFailed ? 0 : failed,
    `${who} failed during a step: ${message || 'an error without a message'}; the simulation's state is incomplete and it cannot run on`,
    'dispose it and create a new one; if it recurs with the same input, run with threads 1 (the error then names the kernel) and report it',
  );
}

/**
 * One generation: the workers run their step while this thread runs `share` (its own part), then waits for them.
 * If `share` throws, this thread still waits for the workers (so none runs on into the next step) and marks the
 * pool failed, then rethrows: later steps refuse with WasmThreadError instead of racing a half-finished one.
 */
export function runGeneration<T>(pool: ThreadPool, share: () => T): T {
  startGeneration(pool);
  let result: T;
  try {
    result = share();
  } catch (e) {
    const c = pool.control;
    if (Atomics.compareExchange(c, ctrl.failed, 0, callingThreadFailed) === 0) {
      const m = String((e as Error)?.message ?? e).slice(0, messageChars - 1);
      for (let i = 0; i < m.length; i++) c[ctrl.message + i] = m.charCodeAt(i);
      c[ctrl.message + m.length] = 0;
    }
    try {
      waitForWorkers(pool);
    } catch {
      // The pool is failed now: waitForWorkers says so, and the calling thread's own error is the one to report.
    }
    throw e;
  }
  waitForWorkers(pool);
  return result;
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
  await threadPoolReady(pool).catch((e: unknown) => {
    stopThreadPool(pool);
    throw e;
  });
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
  const share = () => {
    const end = Math.floor(args.items / (pool?.threads ?? 1));
    for (let i = 0; i < end; i++) kernel(args.params + i * args.stride, args.scratch, args.from, args.to);
  };
  if (!pool) return share();
  const c = pool.control;
  [args.params, args.items, args.stride, args.scratch, args.scratchStride, args.from, args.to].forEach((v, i) => (c[ctrl.args + i] = v));
  runGeneration(pool, share);
}
