// Backend-neutral contract of the hybrid network simulation (two coupled populations per instance).
import { ParameterError } from '../../errors.ts';
import { maxSteps } from '../../core/limits.ts';
import type { ParamValues } from '../../core/params.ts';
import type { HybridStepRecord } from './cpu-reference.ts';

export type { HybridStepRecord };

export interface HybridSimulationSpec {
  /** One parameter set per instance. */
  params: readonly ParamValues[];
  /** Neurons per population (2n per instance). */
  n: number;
  dt: number;
  key: readonly [number, number];
  instanceIds?: readonly number[];
  /** Steps per readback (default 1000, capped to fit 64 MiB of records). */
  chunkSteps?: number;
}

export interface HybridChunk {
  stepStart: number;
  steps: number;
  batch: number;
  /** [step][instance], the state after each step. */
  records: HybridStepRecord[];
}

export interface HybridSimulation {
  readonly backend: 'cpu' | 'webgpu' | 'wasm';
  readonly n: number;
  readonly batch: number;
  readonly dt: number;
  readonly step: number;
  /** wasm: the worker threads it runs on (fewer than asked where the work has fewer parts); absent on cpu and webgpu. */
  readonly threads?: number;
  /** Steps per chunk: run(m) with m <= chunkSteps is one chunk (one onChunk call). */
  readonly chunkSteps: number;
  /** The records of the initial state (t = 0), one per instance. */
  readonly initial: readonly HybridStepRecord[];
  run(steps: number, options?: { onChunk?: (c: HybridChunk) => void; onProgress?: (done: number, total: number) => void }): Promise<void>;
  /** Potentials, instance-major, E then I within an instance. */
  readState(): Promise<Float32Array>;
  /**
   * Histogram of u of each population of each instance, [instance][population][bins], computed where the
   * state lives (a GPU reduction on WebGPU); f32 binning rules of src/analysis/histogram.ts, so both
   * backends give identical counts for identical states.
   */
  histogramU(bins: number, min: number, max: number): Promise<Uint32Array>;
  dispose(): void;
}

export function checkHybridSpec(spec: HybridSimulationSpec): void {
  if (!Number.isInteger(spec.n) || spec.n < 1) throw new ParameterError('n', `${spec.n} is not a positive integer`, 'use --n with the number of neurons per population');
  if (!(spec.dt > 0)) throw new ParameterError('dt', `${spec.dt} must be > 0`, 'use a positive --dt');
  if (spec.params.length < 1) throw new ParameterError('batch', 'no instances', 'use --batch >= 1');
  if (spec.instanceIds && spec.instanceIds.length !== spec.params.length) throw new ParameterError('instanceIds', 'needs one id per instance', 'give one id per parameter set');
}

/** A run may not pass step maxSteps (2^32 - 1): the kernels' step counter and the random streams' counter word are u32, so later steps would repeat earlier random numbers. */
export function checkStepBudget(done: number, steps: number): void {
  if (!(Number.isInteger(steps) && steps >= 0)) throw new ParameterError('steps', `${steps} is not a whole number of steps`, 'run a non-negative integer number of steps');
  if (done + steps > maxSteps) throw new ParameterError('steps', `${done} + ${steps} steps passes the ${maxSteps} (2^32 - 1) a simulation can take (u32 step counter)`, `run at most ${maxSteps - done} more steps`);
}
