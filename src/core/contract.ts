// The contract every model implements. The engine, the CLI, sweeps, reproductions, benchmarks and the demo see a
// model only through its ModelDefinition, found in the one registry (src/models/index.ts).
import type { GpuContext } from '../gpu/context.ts';
import type { ResultDir } from '../io/result-dir.ts';
import type { ReportSection } from '../report/html.ts';
import type { RunEstimate } from './limits.ts';
import type { ParamSpec, ParamValues } from './params.ts';
import type { GridAxis, GridValue, SweepPoint, SweepSchema } from './sweep-grid.ts';

/** cpu: the TypeScript reference (the oracle); webgpu: the GPU kernels; wasm: WebAssembly kernels bit-identical to cpu. */
export type Backend = 'cpu' | 'webgpu' | 'wasm';

/**
 * The backend as a model without a wasm runner sees it: wasm runs on the host like the CPU reference, so its memory
 * and time estimates are the CPU's (the engine and the CLI never hand such a model's runner the wasm backend).
 */
export function cpuOrWebgpu(backend: Backend): 'cpu' | 'webgpu' {
  return backend === 'webgpu' ? 'webgpu' : 'cpu';
}

/** The run options a model may take; every model also takes `params` and `seed`. */
export const runOptionNames = ['n', 'batch', 'steps', 'T', 'dt', 'recordEvery', 'recordSpikes', 'recordTraces', 'traceEvery'] as const;
export type RunOptionName = (typeof runOptionNames)[number];

/** What a user asks for, the same from the CLI, the library and the demo. An option left undefined takes the model's default. */
export interface RunRequest {
  /** Model parameters by name (strings are parsed as strict decimals or choices). */
  params?: Readonly<Record<string, string | number>>;
  /** Neurons per instance (hybrid: per population). */
  n?: number;
  /** Independent instances run together. */
  batch?: number;
  steps?: number;
  /** Simulated time (instead of steps), in the model's time unit. */
  T?: number;
  dt?: number;
  /** Random seed; the 64-bit Philox key is derived from it once, in resolve. */
  seed?: number;
  /** Keep every k-th step in the time series. */
  recordEvery?: number;
  /** Record the spikes of the first M neurons of each instance. */
  recordSpikes?: number;
  /** Record the potential of the first M neurons of each instance. */
  recordTraces?: number;
  /** Trace sampling interval in steps. */
  traceEvery?: number;
}

/** Which run options a model takes, and for each one it does not, what to use instead. */
export interface RunOptionSupport {
  takes: readonly RunOptionName[];
  instead: Partial<Record<RunOptionName, string>>;
}

/** The fields every resolved run has; config.json records them next to the model's own `options`. */
export interface ResolvedRun {
  model: string;
  /** Neurons per instance (hybrid: per population); null where the model sets its own size. */
  n: number | null;
  batch: number;
  steps: number;
  /** Time step; null for discrete-time models. */
  dt: number | null;
  seed: number;
  key: readonly [number, number];
  /** One parameter set per instance. */
  params: ParamValues[];
  /** The default dt lowered so that T is a whole number of steps (null when it was not). */
  dtAdjusted: { from: number; to: number; note: string } | null;
  /** Neuron updates per step over all instances: throughput is neuronsPerStep x steps / wall seconds. */
  neuronsPerStep: number;
  /** Model-specific resolved options (recorders, record interval, network size, ...), recorded in config.json. */
  options: Record<string, unknown>;
}

/** Where a run executes: the backend and, for webgpu, the device context (owned by the caller). */
export interface RunTarget {
  backend: Backend;
  ctx?: GpuContext | null;
  /** wasm: worker threads per simulation (default 1; results are the same for any count). */
  threads?: number;
}

export interface RunControl<Chunk = unknown> {
  /** Steps done of this run() call's steps, and its total. */
  onProgress?: (done: number, total: number) => void;
  /** Raw records of each chunk of steps, as the model's runner produces them. */
  onChunk?: (chunk: Chunk) => void;
  /** Aborting stops the run at the next chunk boundary with an AbortError; the runner stays usable for dispose(). */
  signal?: AbortSignal;
  /** wasm, SweepDefinition.runBatch: told the worker threads a batch runs on once they are started (fewer than asked where it has fewer parts). */
  onThreads?: (threads: number) => void;
}

/** A model instance set on one backend. The CPU and WebGPU runners of a model have this same interface. */
export interface Runner<Result, Chunk = unknown> {
  readonly backend: Backend;
  readonly stepsDone: number;
  readonly stepsTotal: number;
  /** wasm: the worker threads it runs on (fewer than asked where the work has fewer parts); absent on cpu and webgpu. */
  readonly threads?: number;
  /** Advances `steps` steps (stepsDone + steps <= stepsTotal); split calls give the same result as one. */
  run(steps: number, control?: RunControl<Chunk>): Promise<void>;
  /** The model's result of the steps run so far (normally all of stepsTotal). */
  result(): Promise<Result>;
  /** The raw state (potentials, activities) of every instance, instance-major. */
  readState(): Promise<Float32Array>;
  /** Frees host and device resources; idempotent. */
  dispose(): void;
}

export interface OutputFile {
  name: string;
  content: string;
}

/** Pure outputs of a run: what `ei run` writes beside config.json, and what a library user can write or show. */
export interface RunOutputs {
  /** summary.json's model fields (the common ones are added by the writer). */
  summary: Record<string, unknown>;
  /** Why a non-finite summary value is missing (see io/summary-json.ts), or undefined when it should not be. */
  explainNonFinite?: (path: readonly (string | number)[]) => string | undefined;
  /** Tables and figures (CSV, SVG). */
  files: OutputFile[];
  report: { title: string; subtitle: string; sections: ReportSection[] };
  /** One line for the terminal. */
  line: string;
}

export interface RunInfo {
  backend: Backend;
  wallSeconds: number;
}

/** Instances of a whole sweep and of this shard; maxBatch is --max-batch when given. */
export interface SweepCounts {
  total: number;
  points: number;
  mine: number;
  maxBatch?: number;
}

/** A sweep: every grid point x replica is one instance; rows must not depend on sharding or batching. */
export interface SweepDefinition<S> {
  /** Parameters that may be swept, and why the others may not (default: every parameter). */
  sweepable?: { names: readonly string[]; why: string };
  schema: SweepSchema;
  /** Validates the request and every point of the whole sweep (before sharding) before anything runs. */
  resolve(request: RunRequest, points: readonly Record<string, GridValue>[], grids: readonly GridAxis[]): S;
  /**
   * Memory and time of this shard's instances, from the request and grids alone: it runs before the points are
   * expanded (a 1e7-point grid must be refused before it is built). The command adds the points, rows and sweep.csv.
   */
  estimate(request: RunRequest, grids: readonly GridAxis[], counts: SweepCounts, target: RunTarget): RunEstimate;
  /** Instances per batched run on the target. */
  maxBatch(s: S, target: RunTarget): number;
  /** Runs one batch of points; returns the result columns (schema.resultColumns) of each instance, in order. */
  runBatch(s: S, group: readonly SweepPoint[], target: RunTarget, control: RunControl): Promise<(number | null)[][]>;
  /** The fields that define the sweep besides seed, grids and replicas: n, steps, dt (null when discrete), fixed (the parameters not swept) and the model's own (k, burnin ...); config.json, hashed by merge. */
  config(s: S): Record<string, unknown>;
  /** Neuron updates of one instance over the run, for throughput. */
  neuronStepsPerInstance(s: S): number;
}

export interface ReproductionContext {
  quick: boolean;
  /** `--full-size`: the largest sizes a reproduction offers (meant for a hardware GPU). */
  fullSize?: boolean;
  /** `--samples S`: post-burn-in steps per point instead of the size's default (reproductions with acceptsSamples). */
  samples?: number;
  /** `--networks R`: independent networks (connectivity draws) per point instead of the size's default (acceptsNetworks). */
  networks?: number;
  backend: Backend;
  ctx: GpuContext | null;
  /** wasm: worker threads of every run (`--threads`; default: each run's model default for its size). */
  threads?: number;
  out: ResultDir;
  seed: number;
  onProgress: (done: number, total: number) => void;
}

export interface ReproductionOutcome {
  /** Goes into summary.json beside id, quick, backend and adapter. */
  summary: Record<string, unknown>;
  /** One line per claim: what was expected, what was measured, and whether it held. */
  checks: { name: string; expected: string; measured: string; pass: boolean }[];
}

export interface Reproduction {
  id: string;
  title: string;
  source: string;
  description: string;
  /** Honours ReproductionContext.samples (`--samples`). */
  acceptsSamples?: boolean;
  /** Honours ReproductionContext.fullSize (`--full-size`); the CLI refuses the flag elsewhere. */
  acceptsFullSize?: boolean;
  /** Honours ReproductionContext.networks (`--networks`). */
  acceptsNetworks?: boolean;
  /** One line on the run's size and its estimated time per backend kind, printed before the run starts. */
  plan?(c: Pick<ReproductionContext, 'quick' | 'fullSize' | 'samples' | 'networks'>): string;
  /** With --backend auto on a software adapter, run on the CPU reference for this reason (it is faster there). */
  cpuBeatsSoftware?: string;
  run(c: ReproductionContext): Promise<ReproductionOutcome>;
}

/** Benchmark cases: the harness times createRunner + run on these requests. */
export interface BenchDefinition {
  /** Request of the scaling case at size n. */
  scaling(n: number): RunRequest;
  /** Default sizes of the scaling case (full and --quick). */
  sizes: { full: readonly number[]; quick: readonly number[] };
  /** Request of the batched case (batch instances of a small network), or absent when the model does not batch. */
  batched?(batch: number): RunRequest;
}

/**
 * Everything the layers above know of a model. `R` is the model's resolved run, `Result` what its runners return,
 * `Chunk` their per-chunk records, `S` its resolved sweep.
 */
export interface ModelDefinition<R extends ResolvedRun = ResolvedRun, Result = unknown, Chunk = unknown, S = unknown> {
  id: string;
  title: string;
  summary: string;
  /** The model's definition in this repository, e.g. docs/models/hybrid-balanced.md. */
  doc: string;
  /** How faithful the model is to its source (e.g. a reconstruction from an abstract); config.json records it. */
  note: string | null;
  parameters: readonly ParamSpec[];
  options: RunOptionSupport;
  /** Whether createRunner accepts the webgpu backend. */
  webgpu: boolean;
  /** Whether createRunner accepts the wasm backend (results equal the cpu backend bit for bit). */
  wasm: boolean;
  /**
   * wasm: worker threads when the user names none, for a model that splits its instances over them (default: the
   * engine's rule for models that split each instance's neurons, defaultThreadCount(n)).
   */
  wasmThreads?(r: R): number;
  /** With --backend auto on a software adapter, prefer the CPU reference for this reason. */
  cpuBeatsSoftware?: string;
  /** Whether the WebGPU kernels leave the state bit for bit where the CPU reference does (test/backends-conformance.gpu.test.ts holds them to it). */
  webgpuBits?: boolean;
  /** Checks every option once (checkRequest first) and resolves defaults, seed -> key and per-instance parameters. */
  resolve(request: RunRequest): R;
  /** Memory, output and time of a resolved run on a target (checked before anything is allocated). */
  estimate(r: R, target: RunTarget): RunEstimate;
  createRunner(r: R, target: RunTarget): Promise<Runner<Result, Chunk>>;
  outputs(result: Result, r: R, run: RunInfo): RunOutputs;
  sweep?: SweepDefinition<S>;
  reproductions?: readonly Reproduction[];
  bench?: BenchDefinition;
}

/** A registered model, whatever its own types. */
export type AnyModel = ModelDefinition<ResolvedRun, unknown, unknown, unknown>;
