// The wasm kernels module (AssemblyScript in src/wasm/assembly/, embedded by src/wasm/kernels.generated.ts): compiled
// once per process, instantiated per simulation (each instance has its own memory), the same in Node and browsers.
import { kernelsSharedWasmBase64, kernelsWasmBase64 } from './kernels.generated.ts';

/** The exports of src/wasm/assembly/index.ts (u32 results come back as signed i32: apply `>>> 0`). */
export interface KernelExports {
  memory: WebAssembly.Memory;
  detExp(x: number): number;
  detLog(x: number): number;
  detLog1p(x: number): number;
  detRecip(x: number): number;
  detSqrt(x: number): number;
  detNormalCdf(x: number): number;
  detLogistic(x: number): number;
  detCos2Pi(x: number): number;
  detU32ToF32(x: number): number;
  philox4x32_10(out: number, c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): void;
  rngReset(k0: number, k1: number, stream: number, step: number, instance: number, neuron: number): void;
  rngNextU32(): number;
  rngUniform(): number;
  rngNormal(): number;
  rngBernoulli(p: number): number;
  rngPoisson(mean: number): number;
  rngPoissonWithCache(mean: number, cache: number): number;
  rngBinomial(n: number, p: number): number;
  rngPoissonLogPmf(k: number, lam: number): number;
  rngBinomialLogPmf(k: number, n: number, nf: number, p: number, q: number, np: number, nq: number): number;
  rngStirlerr(n: number): number;
  rngBd0(x: number, M: number, d: number): number;
  /** params: the step's 16 words (StepParams in src/wasm/assembly/poisson.ts). */
  poissonStep(params: number, moments: number): number;
  poissonStepRange(params: number, from: number, to: number, bits: number, lambdas: number): number;
  populationMoments(state: number, lambdas: number, n: number, moments: number): void;
  /** params: one hybrid instance's 24 words (HybridParams in src/wasm/assembly/hybrid.ts). */
  hybridInit(params: number): void;
  /** scratch: this thread's threadScratchBytes, zeroed (rngPoissonCached's cache, then lane staging). */
  hybridStep(params: number, cache: number): void;
  hybridStepRange(params: number, from: number, to: number, cache: number): void;
  /** POISSON_CACHE_BYTES and THREAD_SCRATCH_BYTES of src/wasm/assembly/rng.ts. */
  POISSON_CACHE_BYTES: WebAssembly.Global;
  THREAD_SCRATCH_BYTES: WebAssembly.Global;
  /** The SIMD lane functions of src/wasm/assembly/simd.ts over memory, for the tests (op 0..5: detRecip4, detExp4, detNormalCdf4, detLogistic4, uniform4, philox4Word0). */
  simdTest(op: number, ptr: number, out: number): void;
  simdTestInversion(ptr: number, out: number): void;
  hybridRecord(params: number): void;
  /** params: the simulation's 22 words (BinaryParams in src/wasm/assembly/binary.ts). */
  binaryInit(params: number): void;
  binaryRunInstance(params: number, b: number, thread: number, steps: number): void;
  binaryBuildRange(params: number, thread: number, threads: number): void;
  binaryStepRange(params: number, thread: number, threads: number): void;
  binaryFinishStep(params: number, threads: number): void;
  /** Word 0 of Philox4x32-10 for four counters at once (counters: c0, c1, c2, c3 as 4 x 4 words; src/wasm/assembly/philox-x4.ts), then by the uniform-lanes path from lane 0's c1..c3. */
  philox4x32_10x4(out: number, counters: number, k0: number, k1: number): void;
  /** params: one minimax instance's 39 words (MinimaxParams in src/wasm/assembly/minimax.ts); scratch: this thread's. */
  minimaxInit(params: number): void;
  minimaxRun(params: number, scratch: number, from: number, to: number): void;
  /** One instance split over T threads: phase 1 (decisions, input draws) and phase 2 (updates) of step s on thread t. */
  minimaxDecide(params: number, scratch: number, lists: number, t: number, T: number, s: number): void;
  minimaxUpdate(params: number, scratch: number, lists: number, t: number, T: number, s: number): void;
  /** group: four rate circuits (RateGroup in src/wasm/assembly/rate.ts); scratch: this thread's. */
  rateRun(group: number, scratch: number, from: number, to: number): void;
  /** For the tests: the rate kernel's lane-wise tanh over `count` (a multiple of 4) f32 at ptr, in place. */
  rateTanhArray(ptr: number, count: number): void;
}

/** Bytes of scratch per thread for rngPoissonCached (POISSON_CACHE_BYTES in src/wasm/assembly/rng.ts; test/wasm-rng.test.ts compares them). */
export const poissonCacheBytes = 1024 * 8 + 1024 * 20;
/**
 * Bytes of scratch a kernel takes per thread: the Poisson cache, then the hybrid kernel's two streams' lane staging,
 * log-pmf tables, block counts and lane queues (THREAD_SCRATCH_BYTES; test/wasm-rng.test.ts compares them).
 */
export const threadScratchBytes = poissonCacheBytes + 2 * (512 + 8 * 2048 + 4 * (128 + 4) + 2 * 11 * 4 * (128 + 4) + 11 * 16);

/** Host buffers start here: the module's static data lies below 64 KiB (page 0). */
export const heapBase = 65536;

let compiled: Promise<WebAssembly.Module> | null = null;
let compiledShared: Promise<WebAssembly.Module> | null = null;

function decodeBase64(b64: string): Uint8Array {
  // atob exists in Node >= 16 and every browser: no node: import, so the browser entry can bundle this.
  const s = atob(b64);
  const out = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/** The compiled module (asynchronous: browsers refuse to compile large modules synchronously on the main thread). */
export function compileKernels(): Promise<WebAssembly.Module> {
  return (compiled ??= WebAssembly.compile(decodeBase64(kernelsWasmBase64) as BufferSource));
}

/** The variant that imports a shared memory (env.memory): one instance per thread on the same memory. */
export function compileSharedKernels(): Promise<WebAssembly.Module> {
  return (compiledShared ??= WebAssembly.compile(decodeBase64(kernelsSharedWasmBase64) as BufferSource));
}

/** A shared memory of `bytes` bytes from heapBase (needs SharedArrayBuffer: Node, or a cross-origin isolated page). */
export function createSharedMemory(bytes: number): WebAssembly.Memory {
  const pages = Math.ceil((heapBase + bytes) / 65536);
  return new WebAssembly.Memory({ initial: pages, maximum: pages, shared: true });
}

/** An instance of the shared variant on `memory`. */
export async function instantiateSharedKernels(memory: WebAssembly.Memory): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(await compileSharedKernels(), { env: { memory, abort: kernelAbort } });
  return { ...(instance.exports as unknown as KernelExports), memory };
}

/** A fresh instance with its own memory, grown to hold `bytes` bytes from heapBase. */
export async function instantiateKernels(bytes = 0): Promise<KernelExports> {
  const instance = await WebAssembly.instantiate(await compileKernels(), { env: { abort: kernelAbort } });
  const k = instance.exports as unknown as KernelExports;
  const need = Math.ceil((heapBase + bytes) / 65536) - k.memory.buffer.byteLength / 65536;
  if (need > 0) k.memory.grow(need);
  return k;
}

function kernelAbort(): never {
  throw new Error('wasm kernel abort');
}
