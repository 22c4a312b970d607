// Node: the wasm kernels' worker threads are worker_threads (registered by the Node entry and the CLI).
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { setThreadSpawner } from './threads.ts';

setThreadSpawner((code, data) => {
  const w = new Worker(`const { workerData } = require('node:worker_threads');\n${code}`, { eval: true, workerData: data });
  w.unref();
  return { terminate: () => void w.terminate() };
}, availableParallelism());
