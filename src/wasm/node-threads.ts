// Node: the wasm kernels' worker threads are worker_threads (registered by the Node entry and the CLI).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { setThreadSpawner, type SpawnedThread } from './threads.ts';

setThreadSpawner((code, data) => {
  const w = new Worker(`const { workerData } = require('node:worker_threads');\n${code}`, { eval: true, workerData: data });
  w.unref();
  const thread: SpawnedThread = { terminate: () => void w.terminate(), failure: null };
  // A worker that cannot start (its steps' errors go to the control block): threadPoolReady reports it.
  w.on('error', (e) => (thread.failure = e.message));
  return thread;
}, availableParallelism());
