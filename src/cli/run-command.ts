// `ei run <model>`: one run of any registered model, written as config.json, the model's tables and figures,
// report.html and summary.json (last), by one writer.
import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runOptionNames, type RunOptionName, type RunRequest } from '../core/contract.ts';
import { runOptionFlags } from '../core/request.ts';
import { makeParamTable } from '../core/params.ts';
import { getModelDefinition, modelIds } from '../engine/models.ts';
import { modelList } from '../models/index.ts';
import { makeAdapterRecord } from '../engine/backend.ts';
import { makeRunConfig, makeRunSummary, runResolved } from '../engine/run.ts';
import { ParameterError } from '../errors.ts';
import { makeReportHtml } from '../report/html.ts';
import { defaultThreadCount } from '../wasm/threads.ts';
import { makeHelpText, parseArgs, parseSetAssignments, type ArgSpec, type ParsedArgs } from './args.ts';
import { makeSummaryJson } from '../io/summary-json.ts';
import { withResultSession } from './result-session.ts';
import { checkBeforeSession, checkInSession, noteDtAdjusted } from './run-options.ts';

/** The unit of the model's time parameters (tau, burnin, ...): 's', or 'time units' where the model is dimensionless. */
export function modelTimeUnit(params: readonly { name: string; unit?: string }[]): string {
  const u = params.find((p) => /^(tau|burnin)/.test(p.name) && p.unit)?.unit;
  return u === undefined || u === 'time' ? 'time units' : u;
}

export { makeAdapterRecord };

/** Flags shared by run and sweep. */
export const simulationFlags = {
  set: { type: 'strings', valueName: 'name=value', help: 'model parameter (repeatable); see `ei models`' },
  n: { type: 'integer', min: 1, help: 'neurons per instance (model default if omitted)' },
  steps: { type: 'integer', min: 1, help: 'number of time steps' },
  T: { type: 'number', help: 'simulated time (instead of --steps); with --dt it must be a whole number of steps, with the default dt the step is lowered to fit (noted, and recorded in config.json)' },
  dt: { type: 'number', help: 'time step (model default if omitted)' },
  seed: { type: 'integer', min: 0, default: 1, help: 'random seed (runs are reproducible bit for bit per backend)' },
  backend: { type: 'string', choices: ['auto', 'webgpu', 'cpu', 'wasm'], default: 'auto', help: 'webgpu, cpu (reference), wasm (WebAssembly kernels, bit-identical to cpu; models that have them, see `ei models`) or auto (a hardware GPU, else wasm, else cpu, said on stderr; the software adapter only with --backend webgpu)' },
  adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'WebGPU adapter: hardware GPU or SwiftShader' },
  quiet: { type: 'boolean', help: 'no progress bar' },
  overwrite: { type: 'boolean', help: 'replace an earlier ei result in --out (only the files ei wrote there)' },
  threads: { type: 'integer', min: 1, max: 64, help: "on the wasm backend (--backend wasm, or auto when it picks wasm): worker threads per simulation (default: the model's choice from the cores and the size, said on stderr; the results do not depend on it)" },
} as const;

const runSpec = {
  command: 'ei run',
  description: "Runs one experiment of a model and writes DIR/config.json, the model's tables and figures, report.html and summary.json (last).",
  positionals: [{ name: 'model', help: `model id (${modelIds.join(', ')})`, required: true }],
  flags: {
    ...simulationFlags,
    batch: { type: 'integer', min: 1, help: 'independent instances (replicas) run together (default 1)' },
    out: { type: 'string', help: 'result folder (default results/<model>-<time>)' },
    'record-spikes': { type: 'integer', min: 0, max: 4096, help: 'record spike times of the first M neurons of each instance (models that take it; `ei models` says which)' },
    'record-traces': { type: 'integer', min: 0, max: 1024, help: 'record u of the first M neurons of each instance (models that take it)' },
    'trace-every': { type: 'integer', min: 1, help: 'trace sampling interval in steps (default 10)' },
    'record-every': { type: 'integer', min: 1, help: "keep every k-th step in timeseries.csv (default: the model's, so the table stays writable)" },
  },
} as const satisfies ArgSpec;

/** --backend wasm for a model without wasm kernels is an error naming the models that have them. */
export function checkWasmBackend(def: { id: string; wasm: boolean }, backend: unknown): void {
  if (backend === 'wasm' && !def.wasm) {
    const have = modelList.filter((m) => m.wasm).map((m) => m.id);
    throw new ParameterError('--backend', `${def.id} has no wasm kernels (models with a wasm backend: ${have.join(', ') || 'none'})`, 'use --backend cpu (the same results) or auto');
  }
}

/**
 * --threads belongs to the wasm backend: refused with --backend cpu or webgpu before anything runs, and (given `selected`)
 * when auto picked another backend.
 */
export function checkThreadsFlag(given: boolean, requested: unknown, selected?: string): void {
  if (!given) return;
  if (requested === 'cpu' || requested === 'webgpu') throw new ParameterError('--threads', `--threads has no effect with --backend ${requested}`, 'drop --threads, or use --backend wasm');
  if (selected !== undefined && selected !== 'wasm') throw new ParameterError('--threads', `--backend auto picked ${selected}, which does not take --threads`, 'drop --threads, or use --backend wasm to run on worker threads');
}

export function defaultOutDir(model: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return `results/${model}-${stamp}`;
}

/** Each run flag's request option (the inverse of runOptionFlags). */
const flagOptions: Record<string, RunOptionName> = Object.fromEntries(runOptionNames.map((o) => [runOptionFlags[o].slice(2), o]));

/** The request of the flags the user typed (defaults are the model's, so an option typed is an option used or refused). */
export function makeRequestFromFlags(a: Pick<ParsedArgs, 'given'> & { flags: object }): RunRequest {
  const f = a.flags as Record<string, unknown>;
  const request: Record<string, unknown> = { params: parseSetAssignments(f.set as string[]), seed: f.seed as number };
  for (const flag of a.given) if (flag in flagOptions) request[flagOptions[flag]] = f[flag];
  return request as RunRequest;
}

/** The git commit of this checkout, or null (an installed package has no .git). */
function gitCommit(): string | null {
  try {
    const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 2000 }).trim() || null;
  } catch {
    return null;
  }
}

export async function runCommand(argv: string[], engineVersion: string): Promise<number> {
  const a = parseArgs(argv, runSpec);
  const modelId = a.positionals[0];
  if (a.help || !modelId) {
    const def = modelId ? getModelDefinition(modelId) : null;
    const params = def ? `parameters of ${modelId} (--set name=value):\n${makeParamTable(def.parameters)}` : `models: ${modelIds.join(', ')} (ei models lists their parameters)`;
    console.log(makeHelpText(runSpec) + `\n\n${params}`);
    return a.help ? 0 : 2;
  }
  const f = a.flags;
  if (a.given.has('adapter') && (f.backend === 'cpu' || f.backend === 'wasm')) {
    throw new ParameterError('--adapter', `--adapter ${String(f.adapter)} has no effect with --backend ${f.backend}`, 'drop --adapter, or use --backend webgpu (or auto) to choose the WebGPU adapter');
  }
  const def = getModelDefinition(modelId);
  checkWasmBackend(def, f.backend);
  checkThreadsFlag(a.given.has('threads'), f.backend);
  // Everything is validated before the GPU or the output folder is touched.
  const request = makeRequestFromFlags(a);
  const r = def.resolve(request);
  checkBeforeSession(def.estimate(r, { backend: f.backend === 'cpu' || f.backend === 'wasm' ? f.backend : 'webgpu' }), f);
  noteDtAdjusted(r.dtAdjusted);
  const requested = f.backend === 'wasm' ? 'wasm' : def.webgpu ? (f.backend as 'auto' | 'cpu' | 'webgpu') : 'cpu';
  if (!def.webgpu && f.backend === 'webgpu') throw new ParameterError('--backend', `${def.id} has no WebGPU runner`, 'use --backend cpu (or auto)');
  if (!def.webgpu && f.backend === 'auto') console.error(`ei: ${def.id} has no WebGPU runner; running it on the CPU reference`);
  return withResultSession(
    { outPath: f.out ?? defaultOutDir(def.id), backend: requested, adapter: f.adapter as 'auto', label: (b) => `${def.id} on ${b}`, total: r.steps, unit: 'steps', quiet: f.quiet, overwrite: f.overwrite, cpuBeatsSoftware: def.cpuBeatsSoftware, wasm: def.wasm },
    async ({ sel, bar, out }) => {
      checkThreadsFlag(a.given.has('threads'), f.backend, sel.backend);
      // wasm: the threads given, else every core the run can use (said, and recorded in config.json).
      const threads = sel.backend === 'wasm' ? ((f.threads as number | undefined) ?? def.wasmThreads?.(r) ?? defaultThreadCount(r.n ?? 0, 64)) : undefined;
      if (sel.backend === 'wasm' && f.threads === undefined) console.error(`ei: wasm backend on ${threads} thread${threads === 1 ? '' : 's'} (--threads N to choose)`);
      const target = { backend: sel.backend, ctx: sel.ctx, threads };
      checkInSession(def.estimate(r, target), sel);
      const { outputs, wallSeconds, threads: used } = await runResolved(def, r, target, { onProgress: (d) => bar.update(d) });
      // A run whose work has fewer parts than the threads asked for leaves the rest idle: said, and the count it used recorded.
      if (threads !== undefined && used !== undefined && used < threads) console.error(`ei: ${def.id} ran on ${used} of the ${threads} threads ${f.threads === undefined ? 'chosen' : 'given'}: its work splits into no more parts`);
      const config = makeRunConfig(def, r, { command: ['ei', 'run', ...argv], backend: sel.backend, backendRequested: f.backend, fallbackReason: sel.fallbackReason, adapter: makeAdapterRecord(sel), gitCommit: gitCommit(), threads, threadsUsed: used });
      out.write('config.json', JSON.stringify(config, null, 2) + '\n');
      for (const file of outputs.files) out.write(file.name, file.content);
      out.write('report.html', makeReportHtml({
        ...outputs.report,
        meta: { engineVersion, backend: sel.backend, adapter: sel.ctx ? `${sel.ctx.info.vendor}/${sel.ctx.info.architecture}` : 'cpu', n: r.n ?? 'set by the model', batch: r.batch, steps: r.steps, dt: r.dt == null ? 'discrete time' : `${r.dt} ${modelTimeUnit(def.parameters)}`, seed: r.seed },
      }));
      // summary.json last: its presence marks a complete result.
      out.write('summary.json', makeSummaryJson(makeRunSummary(def, r, { backend: sel.backend, wallSeconds }, outputs), outputs.explainNonFinite));
      console.error(`ei: ${outputs.line}`);
      console.log(out.path);
      return 0;
    },
  );
}
