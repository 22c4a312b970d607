// The public entry point: an engine holds one backend (a WebGPU device or the CPU reference) and runs any registered
// model on it, the same in Node and in a browser.
import type { AnyModel, Backend, ResolvedRun, RunControl, Runner, RunOutputs, RunRequest } from '../core/contract.ts';
import type { ParamSpec } from '../core/params.ts';
import { checkRunLimits } from '../core/limits.ts';
import { ParameterError } from '../errors.ts';
import type { AdapterChoice } from '../gpu/node-webgpu.ts';
import { makeAdapterRecord, selectBackend, type BackendSelection } from './backend.ts';
import { getModelDefinition, modelIds } from './models.ts';
import { makeRunConfig, makeRunSummary } from './run.ts';
import { modelList } from '../models/index.ts';
import { defaultThreadCount, defaultThreadsNote } from '../wasm/threads.ts';

/** Options of {@link createEngine}. */
export interface EngineOptions {
  /** 'auto' (default): WebGPU when an adapter answers, else the CPU reference (reported through onNotice); 'wasm': the WebAssembly kernels (bit-identical to 'cpu') of the models that have them. */
  backend?: 'auto' | Backend;
  /**
   * wasm runs: worker threads per simulation (default: the cores, at most one per 1000 neurons; results are the same
   * for any count). More than one needs worker threads and shared memory: Node, or a cross-origin isolated page (else
   * simulate() refuses with the fix, and the default is one thread, said through onNotice).
   */
  threads?: number;
  /** Node: which WebGPU adapter (hardware GPU or SwiftShader); a browser picks its own. */
  adapter?: AdapterChoice;
  /** Notices such as a fallback to the CPU or a software adapter (default: console.warn). */
  onNotice?: (message: string) => void;
}

/** What a model is, for a picker or help text. */
export interface ModelSummary {
  /** The name {@link Engine.simulate} takes, e.g. 'hybrid'. */
  id: string;
  title: string;
  /** One line on what the model is. */
  summary: string;
  /** The model's definition in the package, e.g. docs/models/hybrid-balanced.md. */
  doc: string;
  /** Its parameters (`params` of a request): names, units, defaults, ranges or choices. */
  parameters: readonly ParamSpec[];
  /** The run options it takes besides `params` and `seed`, e.g. ['n', 'batch', 'steps', 'T', 'dt']. */
  options: readonly string[];
  /** Whether it has a WebGPU runner (else it runs on the CPU reference). */
  webgpu: boolean;
  /** Whether it has wasm kernels (the 'wasm' backend). */
  wasm: boolean;
  /** What an empty request resolves to: the model's default size, batch, steps and dt (null where not applicable). */
  defaults: { n: number | null; batch: number; steps: number; dt: number | null };
}

/**
 * A run request (model parameters, size, duration, seed; an option left out takes the model's default) and the
 * callbacks of the run. An option the model does not take is an error naming what it takes instead.
 */
export interface SimulateOptions extends RunRequest {
  /** Steps done and total, after every chunk of steps. */
  onProgress?: (done: number, total: number) => void;
  /** The model runner's raw records of each chunk. */
  onChunk?: (chunk: unknown) => void;
  /** Aborting stops the run at the next chunk boundary; result() then rejects with the abort reason. */
  signal?: AbortSignal;
}

/** A running (then finished) simulation of one model. */
export interface Simulation {
  readonly model: string;
  /** The backend it runs on (the CPU for a model without a WebGPU runner, with a notice). */
  readonly backend: Backend;
  /** wasm: the worker threads it runs on (the calling thread included; fewer than `threads` asked where the work has fewer parts); null on the other backends. */
  readonly threads: number | null;
  /** wasm on one thread by default because there are no worker threads here (e.g. a page that is not cross-origin isolated), where the cores and the size would take more: why, and the fix; else null. */
  readonly threadsNote: string | null;
  /** The request with every default filled in and checked. */
  readonly resolved: ResolvedRun;
  /** Settles when every step has run. */
  readonly done: Promise<void>;
  /** The model's own result object (waits for the run; rejects with the run's error). */
  result(): Promise<unknown>;
  /** Summary fields, tables and figures, as `ei run` writes them (waits for the run). */
  outputs(): Promise<RunOutputs & { config: Record<string, unknown>; summaryJson: Record<string, unknown> }>;
  /** The raw state of every instance after the run. */
  readState(): Promise<Float32Array>;
  /** Frees the simulation's buffers; idempotent. */
  dispose(): void;
}

/** One backend (a WebGPU device or the CPU reference) that runs any registered model; made by {@link createEngine}. */
export interface Engine {
  /** 'webgpu', 'cpu' or 'wasm': where this engine's simulations run. */
  readonly backend: Backend;
  /** Why the engine is on the CPU when WebGPU was not refused explicitly, else null. */
  readonly fallbackReason: string | null;
  /** The WebGPU adapter, or the CPU reference. */
  readonly adapter: unknown;
  /** The registered models, with their parameters and run options. */
  readonly models: readonly ModelSummary[];
  /** Resolves the request (every option checked, errors name the option), allocates and starts the run. */
  simulate(model: string, options?: SimulateOptions): Promise<Simulation>;
  /** Disposes every live simulation and releases the device; idempotent. */
  dispose(): void;
}

/** Pure: the summary of a registered model. */
export function makeModelSummary(m: AnyModel): ModelSummary {
  // Resolving an empty request allocates nothing: it only fills in and checks the defaults.
  const d = m.resolve({});
  return { id: m.id, title: m.title, summary: m.summary, doc: m.doc, parameters: m.parameters, options: m.options.takes, webgpu: m.webgpu, wasm: m.wasm, defaults: { n: d.n, batch: d.batch, steps: d.steps, dt: d.dt } };
}

/**
 * Creates an engine on the best backend: WebGPU (Dawn in Node, `navigator.gpu` in a browser) when an adapter answers,
 * else the CPU reference, with a notice. Bad options and unknown models raise an {@link EiError} naming the field.
 *
 * @example
 * ```ts
 * const engine = await createEngine();
 * const sim = await engine.simulate('hybrid', { n: 1e5, T: 5, params: { variant: 'B1' }, onProgress: (done, total) => console.log(done, total) });
 * const result = await sim.result(); // or: const { summary, files } = await sim.outputs();
 * engine.dispose();
 * ```
 */
export async function createEngine(options: EngineOptions = {}): Promise<Engine> {
  const notify = options.onNotice ?? ((m: string) => console.warn(m));
  const sel: BackendSelection = await selectBackend(options.backend ?? 'auto', options.adapter ?? 'auto', notify);
  let disposed = false;
  let threadsNoticed = false;
  const live = new Set<Simulation>();
  return {
    backend: sel.backend,
    fallbackReason: sel.fallbackReason,
    adapter: makeAdapterRecord(sel),
    models: modelList.map(makeModelSummary),
    async simulate(id, o = {}) {
      if (disposed) throw new ParameterError('engine', 'is disposed', 'create a new engine with createEngine()');
      const def = getModelDefinition(id);
      const { onProgress, onChunk, signal, ...request } = o;
      const r = def.resolve(request);
      let backend: Backend = sel.backend;
      let fallbackReason = sel.fallbackReason;
      if (backend === 'wasm' && !def.wasm) {
        const have = modelList.filter((m) => m.wasm).map((m) => m.id);
        throw new ParameterError('backend', `${def.id} has no wasm kernels (models with a wasm backend: ${have.join(', ') || 'none'})`, "create an engine with backend 'cpu' (the same results) or 'auto' for it");
      }
      const software = backend === 'webgpu' && Boolean(sel.ctx?.info.isSoftware);
      if (sel.requested === 'auto' && def.wasm && (backend === 'cpu' || software)) {
        // auto prefers a hardware GPU, then wasm (bit-identical to the CPU reference); SwiftShader only when asked for.
        backend = 'wasm';
        fallbackReason = software ? 'software adapter: the wasm backend is faster than SwiftShader' : sel.fallbackReason;
        notify(`ei: running ${def.id} on the wasm backend (${software ? 'the adapter is a software one' : 'no WebGPU'}); create the engine with backend 'webgpu' to use the adapter anyway`);
      } else if (backend === 'webgpu' && !def.webgpu) {
        backend = 'cpu';
        fallbackReason = `${def.id} has no WebGPU runner`;
        notify(`ei: ${def.id} has no WebGPU runner; running it on the CPU reference`);
      } else if (backend === 'webgpu' && def.cpuBeatsSoftware && sel.ctx?.info.isSoftware && sel.requested === 'auto') {
        backend = 'cpu';
        fallbackReason = `software adapter: ${def.cpuBeatsSoftware}`;
        notify(`ei: the adapter is a software one and ${def.cpuBeatsSoftware}; running ${def.id} on the CPU reference`);
      }
      const target = { backend, ctx: backend === 'webgpu' ? sel.ctx : null, threads: backend === 'wasm' ? (options.threads ?? def.wasmThreads?.(r) ?? defaultThreadCount(r.n ?? 0, 64)) : undefined };
      // One thread by default because there are no worker threads here, where the cores and the size would take more:
      // said once per engine and in config.json. Asking for more is the runner's error, naming the fix.
      const threadsNote = backend === 'wasm' && options.threads === undefined ? defaultThreadsNote(r.n ?? 0, 64) : null;
      if (threadsNote && !threadsNoticed) {
        threadsNoticed = true;
        notify(`ei: the wasm backend runs on ${threadsNote}`);
      }
      checkRunLimits(def.estimate(r, target), target, notify);
      const runner: Runner<unknown> = await def.createRunner(r, target);
      const control: RunControl = { onProgress, onChunk, signal };
      const t0 = performance.now();
      let wallSeconds = NaN;
      const done = runner.run(r.steps, control).then(() => {
        wallSeconds = (performance.now() - t0) / 1000;
      });
      // The caller may never await `done`; its rejection is delivered through result() and outputs().
      done.catch(() => {});
      let cached: Promise<unknown> | null = null;
      const result = () => (cached ??= done.then(() => runner.result()));
      const sim: Simulation = {
        model: def.id,
        backend,
        // What the runner runs on: fewer than asked where the work has fewer parts.
        threads: runner.threads ?? target.threads ?? null,
        threadsNote,
        resolved: r,
        done,
        result,
        async outputs() {
          const res = await result();
          const out = def.outputs(res, r, { backend, wallSeconds });
          const config = makeRunConfig(def, r, { backend, backendRequested: options.backend ?? 'auto', fallbackReason, adapter: target.ctx ? makeAdapterRecord(sel) : makeAdapterRecord({ ...sel, ctx: null }), threads: target.threads, threadsUsed: runner.threads, threadsNote });
          return { ...out, config, summaryJson: makeRunSummary(def, r, { backend, wallSeconds }, out) };
        },
        readState: () => done.then(() => runner.readState()),
        dispose() {
          live.delete(sim);
          runner.dispose();
        },
      };
      live.add(sim);
      return sim;
    },
    dispose() {
      if (disposed) return;
      disposed = true;
      for (const s of [...live]) s.dispose();
      sel.ctx?.dispose();
    },
  };
}

export { modelIds };
