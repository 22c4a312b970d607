// Worker threads for the wasm kernels, without a node: import here (the browser entry bundles this file): the Node
// entry registers worker_threads (src/wasm/node-threads.ts); without a registered spawner only one thread runs.

/** A started worker running `code` (plain JavaScript that reads its data from a `workerData` binding the spawner defines) that can be stopped. */
export interface SpawnedThread {
  terminate(): void;
}

export type ThreadSpawner = (code: string, data: unknown) => SpawnedThread;

let spawner: ThreadSpawner | null = null;

/** Registers how to start a worker (Node: worker_threads; called by the Node entry). */
export function setThreadSpawner(s: ThreadSpawner | null): void {
  spawner = s;
}

export function getThreadSpawner(): ThreadSpawner | null {
  return spawner;
}

/** Control block layout (Int32 slots) shared by the host and the workers of a thread pool. */
export const ctrl = { generation: 0, done: 1, stop: 2, args: 8, results: 64 } as const;
/** Int32 slots of the control block. */
export const ctrlSlots = 64 + 64;

/**
 * The worker's code (the spawner prefixes the binding of \`workerData\`, e.g. from worker_threads): instantiate the shared kernels on the shared memory, then per generation run poissonStepRange
 * with the arguments in the control block on this worker's range, store the count and report done.
 */
export const poissonWorkerCode = `
const { module, memory, control, index, threads } = workerData;
const c = new Int32Array(control);
const f = new Float32Array(control);
const k = new WebAssembly.Instance(module, { env: { memory, abort() { throw new Error('wasm kernel abort'); } } }).exports;
let gen = 0;
for (;;) {
  Atomics.wait(c, ${0}, gen);
  gen = Atomics.load(c, ${0});
  if (Atomics.load(c, ${2}) !== 0) break;
  const a = ${8};
  const n = c[a + 1] >>> 0;
  const from = Math.floor((n * index) / threads);
  const to = Math.floor((n * (index + 1)) / threads);
  c[${64} + index] = k.poissonStepRange(c[a], from, to, c[a + 2], c[a + 3], c[a + 4], c[a + 5], f[a + 6], f[a + 7], f[a + 8], f[a + 9], f[a + 10], f[a + 11], f[a + 12], c[a + 13], c[a + 14], c[a + 15] + index * c[a + 17], c[a + 16]);
  Atomics.add(c, ${1}, 1);
  Atomics.notify(c, ${1});
}
`;
