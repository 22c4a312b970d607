// CPU reference of batched rate-circuit integration: validates a RateBatch and mirrors shaders/rate/integrate.wgsl op for op in f32.
//
// Every +, -, * is rounded with Math.fround in the kernel's order, dt/tau and 1/xmax are rounded
// once on the host exactly as they are packed for the GPU, and softclip's tanh is built from the
// detmath exp/reciprocal (no Math.tanh), so on a GPU that does not contract a*b+c into FMAs the
// two backends agree bit for bit (SwiftShader does not; other GPUs may differ in the last bits).
import { ParameterError } from '../../errors.ts';
import { detExp, detRecip } from '../../rng/detmath.ts';
import type { Circuit } from './circuit.ts';

export interface RateBatch {
  /** All with the same n. */
  circuits: Circuit[];
  /** B x n initial states, instance-major; null starts every circuit at 0. */
  x0: Float32Array | null;
  dt: number;
  steps: number;
  method: 'euler' | 'rk4';
  /** Record x every this many steps (and at step 0); omitted: no trajectory. */
  sampleEvery?: number;
}

export interface RateBatchResult {
  /** B x n states after `steps` steps. */
  final: Float32Array;
  /** S x B x n states at `sampleSteps` (null when sampleEvery is omitted). */
  samples: Float32Array | null;
  /** 0, sampleEvery, 2 sampleEvery, ... <= steps (empty when sampleEvery is omitted). */
  sampleSteps: number[];
  wallSeconds: number;
  backend: 'cpu' | 'webgpu' | 'wasm';
}

const f = Math.fround;
const activationCodes = { relu: 0, clip: 1, softclip: 2 } as const;

/** The per-instance numbers both backends integrate with, already rounded to f32. */
export interface RateBatchArrays {
  batch: number;
  n: number;
  /** [b][i][j]. */
  weights: Float32Array<ArrayBuffer>;
  /** [b][i]. */
  inputs: Float32Array<ArrayBuffer>;
  /** [b][i] = f32(dt / tau_i). */
  stepScales: Float32Array<ArrayBuffer>;
  /** [b] = 0 relu, 1 clip, 2 softclip. */
  kinds: Uint32Array;
  xmax: Float32Array;
  /** f32(1 / xmax), used by softclip. */
  invXmax: Float32Array;
  x0: Float32Array<ArrayBuffer>;
  sampleEvery: number;
  sampleSteps: number[];
}

function checkFinite(values: ArrayLike<number>, length: number, field: string, what: string): void {
  if (!values || values.length !== length) throw new ParameterError(field, `has length ${values?.length ?? 'none'}, expected ${length} (${what})`, `give ${length} values`);
  for (let k = 0; k < length; k++) {
    if (!Number.isFinite(values[k])) throw new ParameterError(`${field}[${k}]`, `is ${values[k]}`, 'give finite numbers');
  }
}

/** Validates a batch (every error names its field) and flattens it into f32 arrays. */
export function makeRateBatchArrays(batch: RateBatch): RateBatchArrays {
  const { circuits, dt, steps, method, sampleEvery } = batch;
  if (!Array.isArray(circuits) || circuits.length === 0) throw new ParameterError('circuits', 'is empty', 'give at least one circuit');
  const B = circuits.length;
  const n = circuits[0].n;
  if (!Number.isInteger(n) || n < 1) throw new ParameterError('circuits[0].n', `is ${n}`, 'give a positive integer');
  if (!(typeof dt === 'number' && Number.isFinite(dt) && dt > 0)) throw new ParameterError('dt', `is ${dt}`, 'give a time step > 0');
  if (!(Number.isInteger(steps) && steps >= 1 && steps <= 0xffffffff)) throw new ParameterError('steps', `is ${steps}`, 'give an integer number of steps in [1, 2^32)');
  if (method !== 'euler' && method !== 'rk4') throw new ParameterError('method', `is ${String(method)}`, "use 'euler' or 'rk4'");
  let every = 0;
  if (sampleEvery !== undefined) {
    if (!(Number.isInteger(sampleEvery) && sampleEvery >= 1 && sampleEvery <= steps)) {
      throw new ParameterError('sampleEvery', `is ${sampleEvery}`, `give an integer in [1, steps = ${steps}], or omit it for no trajectory`);
    }
    every = sampleEvery;
  }
  const a: RateBatchArrays = {
    batch: B,
    n,
    weights: new Float32Array(B * n * n),
    inputs: new Float32Array(B * n),
    stepScales: new Float32Array(B * n),
    kinds: new Uint32Array(B),
    xmax: new Float32Array(B),
    invXmax: new Float32Array(B),
    x0: new Float32Array(B * n),
    sampleEvery: every,
    sampleSteps: [],
  };
  for (let b = 0; b < B; b++) {
    const c = circuits[b];
    const at = `circuits[${b}]`;
    if (c.n !== n) throw new ParameterError(`${at}.n`, `is ${c.n} but circuits[0].n is ${n}`, 'batch only circuits of the same size (one call per n)');
    checkFinite(c.W, n * n, `${at}.W`, 'n x n, row-major');
    checkFinite(c.u, n, `${at}.u`, 'one input per cell');
    checkFinite(c.tau, n, `${at}.tau`, 'one time constant per cell');
    for (let i = 0; i < n; i++) {
      const tau = c.tau[i];
      if (!(tau > 0)) throw new ParameterError(`${at}.tau[${i}]`, `is ${tau}`, 'time constants must be > 0');
      // Euler is unstable beyond dt = 2 tau and inaccurate well before; dt < tau keeps both methods meaningful.
      if (dt >= tau) throw new ParameterError('dt', `dt = ${dt} is not below ${at}.tau[${i}] = ${tau}`, `use dt <= ${tau / 10} (a tenth of the smallest tau) and raise steps accordingly`);
      a.stepScales[b * n + i] = dt / tau;
      a.inputs[b * n + i] = c.u[i];
    }
    a.weights.set(c.W, b * n * n);
    const act = c.activation;
    const code = act ? activationCodes[act.kind as keyof typeof activationCodes] : undefined;
    if (code === undefined) throw new ParameterError(`${at}.activation.kind`, `is ${String(act?.kind)}`, "use 'relu', 'clip' or 'softclip'");
    a.kinds[b] = code;
    if (act.kind !== 'relu') {
      if (!(Number.isFinite(act.xmax) && act.xmax > 0)) throw new ParameterError(`${at}.activation.xmax`, `is ${act.xmax}`, 'give a finite upper bound > 0');
      a.xmax[b] = act.xmax;
      a.invXmax[b] = 1 / act.xmax;
    }
  }
  if (batch.x0 !== null) {
    if (!(batch.x0 instanceof Float32Array)) throw new ParameterError('x0', 'is not a Float32Array', 'pass a Float32Array of B x n values, or null for zeros');
    checkFinite(batch.x0, B * n, 'x0', `B x n = ${B} x ${n}`);
    a.x0.set(batch.x0);
  }
  if (every > 0) for (let s = 0; s <= steps; s += every) a.sampleSteps.push(s);
  return a;
}

/** tanh(y), y >= 0: mirror of rateTanh in the kernel. */
export function rateTanh(y: number): number {
  if (y < 0.125) {
    const y2 = f(y * y);
    let p = f(0.021869488);
    p = f(f(-0.053968254) + f(y2 * p));
    p = f(f(0.13333334) + f(y2 * p));
    p = f(f(-0.33333334) + f(y2 * p));
    return f(y + f(y * f(y2 * p)));
  }
  const t = detExp(f(-2 * y));
  return f(f(1 - t) * detRecip(f(1 + t)));
}

/** Integrates steps [from, to) of instance b in place on x (length n), writing the samples of those steps into their rows. */
function integrateInstance(a: RateBatchArrays, b: number, x: Float32Array, from: number, to: number, rk4: boolean, samples: Float32Array | null): void {
  const { n, weights, inputs, stepScales } = a;
  const kind = a.kinds[b];
  const xmax = a.xmax[b];
  const inv = a.invXmax[b];
  const x1 = new Float64Array(n);
  const kv = new Float64Array(n);
  const acc = new Float64Array(n);
  const xs = new Float64Array(n);
  // Values kept in Float64Array are always f32-rounded already (fround on every store).
  for (let i = 0; i < n; i++) xs[i] = x[i];
  const slopes = () => {
    for (let i = 0; i < n; i++) {
      const row = (b * n + i) * n;
      let s = inputs[b * n + i];
      for (let j = 0; j < n; j++) s = f(s + f(weights[row + j] * xs[j]));
      let phi = s > 0 ? s : 0;
      if (kind === 1) phi = Math.min(phi, xmax);
      else if (kind === 2) phi = f(xmax * rateTanh(f(phi * inv)));
      kv[i] = f(stepScales[b * n + i] * f(phi - xs[i]));
    }
  };
  for (let step = from; step < to; step++) {
    if (rk4) {
      for (let i = 0; i < n; i++) x1[i] = xs[i];
      slopes();
      for (let i = 0; i < n; i++) {
        acc[i] = kv[i];
        xs[i] = f(x1[i] + f(0.5 * kv[i]));
      }
      slopes();
      for (let i = 0; i < n; i++) {
        acc[i] = f(acc[i] + f(2 * kv[i]));
        xs[i] = f(x1[i] + f(0.5 * kv[i]));
      }
      slopes();
      for (let i = 0; i < n; i++) {
        acc[i] = f(acc[i] + f(2 * kv[i]));
        xs[i] = f(x1[i] + kv[i]);
      }
      slopes();
      for (let i = 0; i < n; i++) xs[i] = f(x1[i] + f(f(acc[i] + kv[i]) * f(0.16666667)));
    } else {
      slopes();
      for (let i = 0; i < n; i++) xs[i] = f(xs[i] + kv[i]);
    }
    const done = step + 1;
    if (samples && done % a.sampleEvery === 0) samples.set(xs, ((done / a.sampleEvery) * a.batch + b) * n);
  }
  x.set(xs);
}

/** What an incremental rate integrator is told per run() call. */
export interface RateRunControl {
  /** Steps done of this call, and its total. */
  onProgress?: (done: number, total: number) => void;
  /** Checked at chunk boundaries; an abort throws the signal's reason. */
  signal?: AbortSignal;
}

/**
 * A batch being integrated, step by step: run(k) advances every circuit k steps (split calls give bit-identical states
 * and samples to one call). The CPU reference, the wasm and the WebGPU integrators share this interface.
 */
export interface RateIntegrator {
  readonly backend: 'cpu' | 'webgpu' | 'wasm';
  readonly batch: number;
  readonly n: number;
  /** Steps done so far (at most the batch's steps). */
  readonly stepsDone: number;
  readonly stepsTotal: number;
  /** wasm: the worker threads it runs on (fewer than asked where the work has fewer parts); absent on cpu and webgpu. */
  readonly threads?: number;
  /** S x B x n samples at `sampleSteps`, filled up to stepsDone (null when sampleEvery is omitted). */
  readonly samples: Float32Array | null;
  readonly sampleSteps: readonly number[];
  run(steps: number, control?: RateRunControl): Promise<void>;
  /** B x n states after stepsDone steps. */
  readState(): Promise<Float32Array>;
  /** Idempotent. */
  dispose(): void;
}

/** Checks a run(steps) request against what is left of the batch. */
export function checkRunSteps(steps: number, done: number, total: number): void {
  if (!(Number.isInteger(steps) && steps >= 0 && done + steps <= total)) {
    throw new ParameterError('steps', `${steps} more steps after ${done} passes the batch's ${total}`, `run an integer number of steps, at most ${total - done}`);
  }
}

/** Lets the event loop run (so an abort can arrive) between chunks of synchronous work. */
function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}

/** Steps per chunk of the CPU reference: progress and aborts are seen between chunks. */
const cpuChunkSteps = 1000;

/** The CPU reference as an incremental integrator (f32, op for op as the kernel). */
export class RateCpuIntegrator implements RateIntegrator {
  readonly backend = 'cpu' as const;
  readonly batch: number;
  readonly n: number;
  readonly stepsTotal: number;
  readonly samples: Float32Array | null;
  readonly sampleSteps: readonly number[];
  private readonly a: RateBatchArrays;
  private readonly x: Float32Array;
  private readonly rk4: boolean;
  private done = 0;
  private disposed = false;

  constructor(batch: RateBatch) {
    const a = makeRateBatchArrays(batch);
    this.a = a;
    this.batch = a.batch;
    this.n = a.n;
    this.stepsTotal = batch.steps;
    this.sampleSteps = a.sampleSteps;
    this.x = Float32Array.from(a.x0);
    this.samples = a.sampleEvery > 0 ? new Float32Array(a.sampleSteps.length * a.batch * a.n) : null;
    this.samples?.set(a.x0, 0);
    this.rk4 = batch.method === 'rk4';
  }

  get stepsDone(): number {
    return this.done;
  }

  async run(steps: number, control: RateRunControl = {}): Promise<void> {
    if (this.disposed) throw new ParameterError('integrator', 'is disposed', 'create a new one');
    checkRunSteps(steps, this.done, this.stepsTotal);
    const start = this.done;
    const end = start + steps;
    while (this.done < end) {
      if (control.signal) {
        await yieldToEventLoop();
        control.signal.throwIfAborted();
      }
      this.advance(Math.min(end, this.done + cpuChunkSteps));
      control.onProgress?.(this.done - start, steps);
    }
  }

  /** Synchronous run(steps) without abort (integrateRateBatchCpu, tests). */
  runSync(steps: number, onProgress?: (done: number, total: number) => void): void {
    if (this.disposed) throw new ParameterError('integrator', 'is disposed', 'create a new one');
    checkRunSteps(steps, this.done, this.stepsTotal);
    const start = this.done;
    const end = start + steps;
    while (this.done < end) {
      this.advance(Math.min(end, this.done + cpuChunkSteps));
      onProgress?.(this.done - start, steps);
    }
  }

  /** The final state so far, without a copy (read-only by convention). */
  get state(): Float32Array {
    return this.x;
  }

  private advance(to: number): void {
    const { batch: B, n } = this.a;
    const from = this.done;
    for (let b = 0; b < B; b++) integrateInstance(this.a, b, this.x.subarray(b * n, (b + 1) * n), from, to, this.rk4, this.samples);
    this.done = to;
  }

  async readState(): Promise<Float32Array> {
    return this.x.slice();
  }

  dispose(): void {
    this.disposed = true;
  }
}

/** Integrates every circuit of the batch on the CPU in f32 (the reference for integrateRateBatchGpu). */
export function integrateRateBatchCpu(batch: RateBatch, onProgress?: (done: number, total: number) => void): RateBatchResult {
  const t0 = performance.now();
  const it = new RateCpuIntegrator(batch);
  it.runSync(batch.steps, onProgress);
  return { final: it.state, samples: it.samples, sampleSteps: [...it.sampleSteps], wallSeconds: (performance.now() - t0) / 1000, backend: 'cpu' };
}
