// One run of any model, and the one format of its config.json and summary.json (the CLI and the library share both).
import type { AnyModel, Backend, ResolvedRun, RunControl, RunOutputs } from '../core/contract.ts';
import { engineVersion } from './version.ts';

export interface RunResult {
  result: unknown;
  outputs: RunOutputs;
  wallSeconds: number;
  /** wasm: the worker threads the runner ran on (Runner.threads). */
  threads?: number;
}

/** Runs every step of a resolved run on a target and returns the model's result and outputs; the runner is disposed. */
export async function runResolved(def: AnyModel, r: ResolvedRun, target: { backend: Backend; ctx?: import('../gpu/context.ts').GpuContext | null; threads?: number }, control: RunControl = {}): Promise<RunResult> {
  const runner = await def.createRunner(r, target);
  try {
    const t0 = performance.now();
    await runner.run(r.steps, control);
    // The simulation's time: what result() derives afterwards (e.g. binary's annealed chain) is not throughput.
    const wallSeconds = (performance.now() - t0) / 1000;
    const result = await runner.result();
    return { result, outputs: def.outputs(result, r, { backend: runner.backend, wallSeconds }), wallSeconds, ...(runner.threads !== undefined ? { threads: runner.threads } : {}) };
  } finally {
    runner.dispose();
  }
}

/** `threads` as the run used them, and `threadsRequested` where it used fewer than asked (the work had fewer parts). */
function threadsRecord(asked: number | undefined, used: number | undefined): { threads?: number; threadsRequested?: number } {
  const threads = used ?? asked;
  if (threads === undefined) return {};
  return asked !== undefined && threads < asked ? { threads, threadsRequested: asked } : { threads };
}

/** What config.json records of how a run was made (the CLI adds its command line). */
export interface RunProvenance {
  command?: readonly string[];
  backend: Backend;
  backendRequested: string;
  fallbackReason: string | null;
  adapter: unknown;
  /** The git commit of the engine's checkout, when it runs from one. */
  gitCommit?: string | null;
  /** wasm: the worker threads asked for (given or chosen). */
  threads?: number;
  /** wasm: the threads the runner used (Runner.threads); recorded as `threads`, with `threadsRequested` where fewer. */
  threadsUsed?: number;
  /** wasm on one thread because there are no worker threads (e.g. a page that is not cross-origin isolated): why, and the fix. */
  threadsNote?: string | null;
}

/** Pure: config.json of a run, the same fields for every model (the model's own resolved options at the end). */
export function makeRunConfig(def: AnyModel, r: ResolvedRun, p: RunProvenance, createdAt: string = new Date().toISOString()): Record<string, unknown> {
  return {
    engineVersion,
    gitCommit: p.gitCommit ?? null,
    ...(p.command ? { command: [...p.command] } : {}),
    createdAt,
    model: def.id,
    doc: def.doc,
    note: def.note,
    n: r.n,
    batch: r.batch,
    steps: r.steps,
    dt: r.dt,
    T: r.dt === null ? null : r.steps * r.dt,
    dtAdjusted: r.dtAdjusted,
    seed: r.seed,
    rngKey: [...r.key],
    params: r.params,
    backend: p.backend,
    backendRequested: p.backendRequested,
    fallbackReason: p.fallbackReason,
    adapter: p.adapter,
    ...threadsRecord(p.threads, p.threadsUsed),
    ...(p.threadsNote ? { threadsNote: p.threadsNote } : {}),
    ...r.options,
    node: typeof process !== 'undefined' && process.versions?.node ? process.version : null,
  };
}

/**
 * Pure: summary.json of a run: the common fields, then the model's. n, dt and T are left out where they do not
 * apply (a model that sets its own size, a discrete-time model): summary.json holds measured numbers only.
 */
export function makeRunSummary(def: AnyModel, r: ResolvedRun, run: { backend: Backend; wallSeconds: number }, outputs: RunOutputs): Record<string, unknown> {
  return {
    model: def.id,
    backend: run.backend,
    ...(r.n !== null ? { n: r.n } : {}),
    batch: r.batch,
    steps: r.steps,
    ...(r.dt !== null ? { dt: r.dt, T: r.steps * r.dt } : {}),
    seed: r.seed,
    wallSeconds: run.wallSeconds,
    neuronStepsPerSecond: (r.neuronsPerStep * r.steps) / run.wallSeconds,
    ...outputs.summary,
  };
}
