// Worker threads for the wasm kernels, without a node: import here (the browser entry bundles this file): the Node
// entry registers worker_threads (src/wasm/node-threads.ts); without a registered spawner only one thread runs.

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
