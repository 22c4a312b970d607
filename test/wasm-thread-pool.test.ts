// The wasm thread pool's protocol (src/wasm/threads.ts): a worker runs each generation exactly once, however late the
// host's notify for it arrives, and a worker whose step throws makes the host throw instead of waiting for ever. A worker that took any wake-up for a new generation ran the last one again and
// counted done twice, so the host read another worker's result before it was written (a rare CI failure of
// wasm-poisson's 4-thread case, a worker's share of one instance's spike count showing up in the next instance's).
import { afterEach, describe, expect, it } from 'vitest';
import { WasmThreadError } from '../src/errors.ts';
import { compileSharedKernels, createSharedMemory, heapBase } from '../src/wasm/kernels.ts';
import {
  ctrl, minimaxSplitWorkerCode, rateWorkerCode, runBatchGeneration, startBatchThreadPool, startGeneration, startSplitThreadPool, stopThreadPool, waitForWorkers, type ThreadPool,
} from '../src/wasm/threads.ts';
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

describe('a worker that fails', () => {
  it('stops the host waiting with a WasmThreadError naming the thread and the trap, and the pool refuses further generations', async () => {
    const threads = 3;
    const memory = createSharedMemory(1 << 16);
    pool = await startBatchThreadPool(rateWorkerCode, await compileSharedKernels(), memory, threads);
    const c = pool.control;
    // Items 1 and 2 (the workers'; the host runs none here) at a group pointer past the end of memory: the kernel traps.
    const args = [memory.buffer.byteLength + 4096, threads, 0, heapBase, 0, 0, 1];
    args.forEach((v, i) => (c[ctrl.args + i] = v));
    startGeneration(pool);
    let error: unknown = null;
    try {
      waitForWorkers(pool);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(WasmThreadError);
    expect((error as WasmThreadError).thread === 1 || (error as WasmThreadError).thread === 2).toBe(true);
    expect(String((error as Error).message)).toMatch(/wasm worker thread [12] failed during a step: .*out of bounds/);
    expect(() => startGeneration(pool!)).toThrow(WasmThreadError);
  });

  it('split minimax: a thread that traps opens the barrier, so the thread asleep at it stops too and the host throws', async () => {
    // A stand-in for the kernels: thread t = 1 traps once the test releases it, when thread 0 sleeps at the barrier.
    const { default: asc } = await import('assemblyscript/asc');
    const source = `
      export function minimaxDecide(params: usize, scratch: usize, lists: usize, t: u32, T: u32, s: u32): void {
        if (t == 1) {
          while (atomic.load<i32>(params) == 0) {}
          unreachable();
        }
      }
      export function minimaxUpdate(params: usize, scratch: usize, lists: usize, t: u32, T: u32, s: u32): void {}`;
    const { binary, error } = await asc.compileString(source, { runtime: 'stub', importMemory: true, sharedMemory: true, maximumMemory: 16, initialMemory: 2, enable: ['threads'] });
    expect(error).toBeNull();
    const memory = new WebAssembly.Memory({ initial: 2, maximum: 16, shared: true });
    pool = await startSplitThreadPool(minimaxSplitWorkerCode, await WebAssembly.compile(binary! as BufferSource), memory, 2);
    const c = pool.control;
    c[34] = 0; // no spin at the barrier: thread 0 goes to sleep in Atomics.wait
    const release = new Int32Array(memory.buffer, heapBase, 1);
    [heapBase, 0, 0, 0, 0, 3].forEach((v, i) => (c[ctrl.args + i] = v));
    startGeneration(pool);
    await sleep(50);
    Atomics.store(release, 0, 1);
    // Polled, not waitForWorkers: a thread left asleep would block this thread for ever.
    for (const t0 = Date.now(); Atomics.load(c, ctrl.done) < 2 && Date.now() - t0 < 5000; ) await sleep(5);
    expect(Atomics.load(c, ctrl.done)).toBe(2);
    expect(() => waitForWorkers(pool!)).toThrow(/wasm worker thread 2 failed during a step: .*unreachable/);
  });

  it('a worker that cannot start (its memory too small for the kernels) makes the pool start fail with a WasmThreadError', async () => {
    const tiny = new WebAssembly.Memory({ initial: 0, maximum: 1, shared: true });
    await expect(startBatchThreadPool(rateWorkerCode, await compileSharedKernels(), tiny, 2)).rejects.toThrow(/a wasm worker thread failed to start: .*memory/i);
  });

  it("the calling thread's share throws: the workers finish theirs, its error is rethrown, and later generations refuse", async () => {
    const threads = 3;
    pool = await startBatchThreadPool(rateWorkerCode, await compileSharedKernels(), createSharedMemory(1 << 16), threads);
    // The workers' items: an empty group (no cells, no lanes) in zeroed memory, which steps nothing.
    const args = { params: heapBase, items: threads, stride: 0, scratch: heapBase + 4096, scratchStride: 0, from: 0, to: 1 };
    const fail = () => {
      throw new RangeError('share 0 failed');
    };
    expect(() => runBatchGeneration(pool, args, fail)).toThrow(RangeError);
    expect(Atomics.load(pool.control, ctrl.done)).toBe(threads - 1);
    expect(() => runBatchGeneration(pool, args, () => undefined)).toThrow(/the calling thread \(share 0\) failed during a step: share 0 failed/);
  });
});
