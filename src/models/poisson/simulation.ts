// Backend-neutral simulation of B instances x N neurons, with chunked recording.
import { ParameterError } from '../../errors.ts';
import { maxSteps } from '../../core/limits.ts';
import type { ParamValues } from '../../core/params.ts';
import type { PopulationModel } from './population-model.ts';

export interface RecorderOptions {
  /** Spike bitfields for these neuron indices (the same neurons in every instance), at most 4096. */
  spikes?: { neurons: readonly number[] };
  /** Potential of these neurons every `every` steps, at most 1024 neurons. */
  traces?: { neurons: readonly number[]; every: number };
  /** Steps per readback (the backend may use fewer to fit memory). */
  chunkSteps?: number;
}

export interface SimulationSpec {
  model: PopulationModel;
  /** One parameter set per instance: batch = params.length. */
  params: readonly ParamValues[];
  n: number;
  dt: number;
  /** The 64-bit Philox key derived from the user's seed. */
  key: readonly [number, number];
  /** The RNG instance coordinate of each instance (default 0..B-1): a sweep row's global index. */
  instanceIds?: readonly number[];
  recorders?: RecorderOptions;
  /** wasm backend: threads splitting each instance's neurons (default: defaultThreadCount of n, one per 1000 neurons up to the cores; results do not depend on it). */
  threads?: number;
}

/** What one chunk of steps recorded. Arrays are step-major: [step][instance](...). */
export interface RecordChunk {
  stepStart: number;
  steps: number;
  batch: number;
  /** Population spike count of each instance during each step (exact integers). */
  counts: Uint32Array;
  /** [step][instance][4]: mean u, variance u, mean of the model's extra quantity, neuron count (after the step). */
  population: Float64Array;
  spikeWords: number;
  /** [step][instance][spikeWords], bit j = recorded neuron j spiked; null without a spike recorder. */
  spikeBits: Uint32Array | null;
  /** [sample][instance][M] potentials at steps where (step+1) % every == 0; null without traces. */
  traces: Float32Array | null;
  traceSteps: number[];
}

export interface RunOptions {
  onChunk?: (chunk: RecordChunk) => void;
  onProgress?: (stepsDone: number, stepsTotal: number) => void;
}

export interface Simulation {
  readonly backend: 'cpu' | 'webgpu' | 'wasm';
  readonly n: number;
  readonly batch: number;
  readonly dt: number;
  /** Steps completed so far (an integer: time is step * dt, never accumulated in f32). */
  readonly step: number;
  /** wasm: the worker threads it runs on (fewer than asked where the work has fewer parts); absent on cpu and webgpu. */
  readonly threads?: number;
  run(steps: number, options?: RunOptions): Promise<void>;
  /** Potentials of all instances, instance-major. */
  readState(): Promise<Float32Array>;
  dispose(): void;
}

export const maxSpikeNeurons = 4096;
export const maxTraceNeurons = 1024;

/** Validates the shape of a spec; backends call this first. */
export function checkSimulationSpec(spec: SimulationSpec): void {
  const { n, dt, params } = spec;
  if (!Number.isInteger(n) || n <= 0) throw new ParameterError('n', `${n} is not a positive integer`, 'use --n with a positive integer number of neurons');
  if (n > 2 ** 31) throw new ParameterError('n', `${n} exceeds 2^31`, 'use a smaller --n');
  if (!(dt > 0) || !Number.isFinite(dt)) throw new ParameterError('dt', `${dt} must be > 0`, 'use --dt with a positive time step in seconds');
  if (params.length < 1) throw new ParameterError('batch', 'no instances', 'use --batch >= 1');
  if (spec.instanceIds && (spec.instanceIds.length !== params.length || spec.instanceIds.some((i) => !Number.isInteger(i) || i < 0 || i > 0xffffffff))) {
    throw new ParameterError('instanceIds', 'needs one u32 per instance', 'give one integer id in [0, 2^32) per parameter set');
  }
  const checkList = (name: string, list: readonly number[], max: number) => {
    if (list.length > max) throw new ParameterError(name, `${list.length} neurons requested, at most ${max}`, `record fewer neurons`);
    const seen = new Set<number>();
    for (const k of list) {
      if (!Number.isInteger(k) || k < 0 || k >= n) throw new ParameterError(name, `neuron index ${k} outside [0, ${n})`, 'give indices between 0 and n-1');
      if (seen.has(k)) throw new ParameterError(name, `neuron ${k} listed twice`, 'list each neuron once');
      seen.add(k);
    }
  };
  if (spec.recorders?.spikes) checkList('recorders.spikes', spec.recorders.spikes.neurons, maxSpikeNeurons);
  if (spec.recorders?.traces) {
    checkList('recorders.traces', spec.recorders.traces.neurons, maxTraceNeurons);
    const e = spec.recorders.traces.every;
    if (!Number.isInteger(e) || e < 1) throw new ParameterError('recorders.traces.every', `${e} is not a positive integer`, 'sample every k >= 1 steps');
  }
}

/** Steps per chunk: the requested count, capped so recording buffers stay within `budgetBytes`. */
export function makeChunkSteps(requested: number | undefined, bytesPerStep: number, budgetBytes: number): number {
  const want = requested ?? 1000;
  return Math.max(1, Math.min(want, Math.floor(budgetBytes / Math.max(1, bytesPerStep))));
}

/** A run may not pass step maxSteps (2^32 - 1): the kernels' step counter and the random streams' counter word are u32, so later steps would repeat earlier random numbers. */
export function checkStepBudget(done: number, steps: number): void {
  if (!(Number.isInteger(steps) && steps >= 0)) throw new ParameterError('steps', `${steps} is not a whole number of steps`, 'run a non-negative integer number of steps');
  if (done + steps > maxSteps) throw new ParameterError('steps', `${done} + ${steps} steps passes the ${maxSteps} (2^32 - 1) a simulation can take (u32 step counter)`, `run at most ${maxSteps - done} more steps`);
}
