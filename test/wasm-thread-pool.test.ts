// The wasm thread pool's generation protocol (src/wasm/threads.ts): a worker runs each generation exactly once, however
// late the host's notify for it arrives. A worker that took any wake-up for a new generation ran the last one again and
// counted done twice, so the host read another worker's result before it was written (a rare CI failure of
// wasm-poisson's 4-thread case, a worker's share of one instance's spike count showing up in the next instance's).
import { afterEach, describe, expect, it } from 'vitest';
import { compileSharedKernels, createSharedMemory } from '../src/wasm/kernels.ts';
import { ctrl, rateWorkerCode, startBatchThreadPool, startGeneration, stopThreadPool, waitForWorkers, type ThreadPool } from '../src/wasm/threads.ts';
import '../src/wasm/node-threads.ts';

const sleep = (ms: number) => new Promise((ok) => setTimeout(ok, ms));
let pool: ThreadPool | null = null;
afterEach(() => {
  if (pool) stopThreadPool(pool);
  pool = null;
});

describe('wasm thread pool', () => {
  it('a late notify for a generation the workers already ran does not run it again (done stays at the worker count)', async () => {
    const threads = 3;
    // No items: the workers' generations run no kernel, so only the protocol is under test.
    pool = await startBatchThreadPool(rateWorkerCode, await compileSharedKernels(), createSharedMemory(1 << 16), threads);
    const c = pool.control;
    expect(Atomics.load(c, ctrl.done)).toBe(threads - 1);
    for (let round = 0; round < 3; round++) {
      // Past the workers' spin (5000 loads, microseconds): they sleep in Atomics.wait on the generation they ran.
      await sleep(30);
      // The notify a host descheduled between its add and its notify would deliver: the generation has not moved.
      Atomics.notify(c, ctrl.generation);
      await sleep(30);
      expect(Atomics.load(c, ctrl.done)).toBe(threads - 1);
      // A real generation still runs once on every worker.
      startGeneration(pool);
      waitForWorkers(pool);
      await sleep(10);
      expect(Atomics.load(c, ctrl.done)).toBe(threads - 1);
    }
  });
});
