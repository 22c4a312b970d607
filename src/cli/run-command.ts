// `ei run <model>`: one experiment, written as config.json, summary.json, CSV tables and an HTML report.
import { estimatePopulationRun, resolveExperiment, resolveExperimentShape, runExperiment, type ExperimentResult } from '../models/poisson/experiment.ts';
import type { GpuContext } from '../gpu/context.ts';
import { checkBeforeSession, checkInSession, checkRunFlags, noteDtAdjusted } from './run-options.ts';
import { makeParamTable } from '../core/params.ts';
import { getModel, modelInfos } from '../models/registry.ts';
import { runHybridCommand } from '../models/hybrid/outputs.ts';
import { runRateCommand } from '../models/rate/outputs.ts';
import { runBinaryCommand } from '../models/binary/outputs.ts';
import { runMinimaxCommand } from '../models/minimax/outputs.ts';
import { makeCsv } from '../io/csv.ts';
import { makePopulationFigures } from '../models/poisson/figures.ts';
import { makeReportHtml } from '../report/html.ts';
import { makeHelpText, parseArgs, parseSetAssignments, type ArgSpec } from './args.ts';
import { type BackendSelection } from './context.ts';
import { makeSummaryJson } from '../io/summary-json.ts';
import { withResultSession } from './result-session.ts';

/** Flags shared by run and sweep. */
export const simulationFlags = {
  set: { type: 'strings', valueName: 'name=value', help: 'model parameter (repeatable); see `ei models`' },
  n: { type: 'integer', min: 1, help: 'neurons per instance (model default if omitted)' },
  steps: { type: 'integer', min: 1, help: 'number of time steps' },
  T: { type: 'number', help: 'simulated time in seconds (instead of --steps); with --dt it must be a whole number of steps, with the default dt the step is lowered to fit (noted, and recorded in config.json)' },
  dt: { type: 'number', help: 'time step in seconds (model default if omitted)' },
  seed: { type: 'integer', min: 0, default: 1, help: 'random seed (runs are reproducible bit for bit per backend)' },
  backend: { type: 'string', choices: ['auto', 'webgpu', 'cpu'], default: 'auto', help: 'webgpu, cpu (reference) or auto (webgpu, else cpu with a notice)' },
  adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'WebGPU adapter: hardware GPU or SwiftShader' },
  quiet: { type: 'boolean', help: 'no progress bar' },
  overwrite: { type: 'boolean', help: 'replace an earlier ei result in --out (only the files ei wrote there)' },
} as const;

const runSpec = {
  command: 'ei run',
  description: 'Runs one experiment of a model and writes DIR/config.json, summary.json, timeseries.csv (and spikes.csv, traces.csv) and report.html.',
  positionals: [{ name: 'model', help: `model id (${Object.keys(modelInfos).join(', ')})`, required: true }],
  flags: {
    ...simulationFlags,
    batch: { type: 'integer', min: 1, default: 1, help: 'independent instances (replicas) run in one dispatch' },
    out: { type: 'string', help: 'result folder (default results/<model>-<time>)' },
    'record-spikes': { type: 'integer', min: 0, max: 4096, default: 100, help: '(poisson) record spike times of the first M neurons of each instance' },
    'record-traces': { type: 'integer', min: 0, max: 1024, default: 10, help: '(poisson) record u of the first M neurons of each instance' },
    'trace-every': { type: 'integer', min: 1, default: 10, help: '(poisson) trace sampling interval in steps' },
    'record-every': { type: 'integer', min: 1, help: 'keep every k-th step in timeseries.csv (default: at most 20000 rows per instance and about 2e6 in all; hybrid 5000 and 1e6; binary every step)' },
  },
} as const satisfies ArgSpec;

export function defaultOutDir(model: string): string {
  const stamp = new Date().toISOString().replace(/[:.]/g, '-').replace('T', '_').slice(0, 19);
  return `results/${model}-${stamp}`;
}

export interface RunConfig {
  engineVersion: string;
  command: string[];
  createdAt: string;
  model: string;
  n: number;
  batch: number;
  steps: number;
  dt: number;
  T: number;
  /** The default dt lowered so that --T is a whole number of steps (null when it was not). */
  dtAdjusted: { from: number; to: number; note: string } | null;
  seed: number;
  rngKey: [number, number];
  params: Record<string, number | string>[];
  backend: 'cpu' | 'webgpu';
  backendRequested: string;
  fallbackReason: string | null;
  adapter: unknown;
  recorders: unknown;
  node: string;
}

export function makeAdapterRecord(sel: BackendSelection): unknown {
  return sel.ctx ? { ...sel.ctx.info, notice: sel.ctx.notice } : { vendor: 'cpu', architecture: 'javascript', isSoftware: true, runtime: 'node' };
}

/** Pure: summary.json of a run (field names documented in the README). */
export function makeRunSummary(r: ExperimentResult, sel: BackendSelection) {
  const updates = r.resolved.n * r.resolved.batch * r.resolved.steps;
  return {
    model: r.model.info.id,
    backend: sel.backend,
    n: r.resolved.n,
    batch: r.resolved.batch,
    steps: r.resolved.steps,
    dt: r.resolved.dt,
    T: r.resolved.steps * r.resolved.dt,
    seed: r.resolved.seed,
    wallSeconds: r.wallSeconds,
    neuronStepsPerSecond: updates / r.wallSeconds,
    instances: r.instances,
  };
}

export async function runCommand(argv: string[], engineVersion: string): Promise<number> {
  const a = parseArgs(argv, runSpec);
  const modelId = a.positionals[0];
  if (a.help || !modelId) {
    const params = modelId && modelInfos[modelId] ? `parameters of ${modelId} (--set name=value):\n${makeParamTable(modelInfos[modelId].parameters)}` : `models: ${Object.keys(modelInfos).join(', ')} (ei models lists their parameters)`;
    console.log(makeHelpText(runSpec) + `\n\n${params}`);
    return a.help ? 0 : 2;
  }
  const f = a.flags;
  checkRunFlags(modelId, a);
  if (modelId === 'hybrid') return runHybridCommand(a, argv, engineVersion);
  if (modelId === 'rate') return runRateCommand(a, argv, engineVersion);
  if (modelId === 'binary') return runBinaryCommand(a, argv, engineVersion);
  if (modelId === 'minimax') return runMinimaxCommand(a, argv, engineVersion);
  const model = getModel(modelId);
  // Validate everything before touching the GPU or the output folder.
  const spikesM = f['record-spikes'];
  const tracesM = f['record-traces'];
  const options = {
    model: modelId,
    set: parseSetAssignments(f.set),
    n: f.n,
    batch: f.batch,
    steps: f.steps,
    T: f.T,
    dt: f.dt,
    seed: f.seed,
    recordEvery: f['record-every'],
  };
  const shape = resolveExperimentShape({ ...options, backend: 'cpu' });
  const recorders = {
    spikes: spikesM > 0 ? { neurons: Array.from({ length: Math.min(spikesM, shape.n) }, (_, i) => i) } : undefined,
    traces: tracesM > 0 ? { neurons: Array.from({ length: Math.min(tracesM, shape.n) }, (_, i) => i), every: f['trace-every'] } : undefined,
  };
  const estimate = (backend: 'cpu' | 'webgpu', ctx?: GpuContext | null) => estimatePopulationRun(shape, { recorders, backend, isSoftware: ctx?.info.isSoftware, maxBinding: ctx ? Number(ctx.device.limits.maxStorageBufferBindingSize) : undefined });
  const resolved = resolveExperiment({ ...options, recorders, backend: 'cpu' });
  checkBeforeSession(estimate(f.backend === 'cpu' ? 'cpu' : 'webgpu'), f);
  noteDtAdjusted(resolved.dtAdjusted);
  return withResultSession(
    { outPath: f.out ?? defaultOutDir(modelId), backend: f.backend as 'auto', adapter: f.adapter as 'auto', label: (b) => `${modelId} on ${b}`, total: resolved.steps, unit: 'steps', quiet: f.quiet, overwrite: f.overwrite },
    async ({ sel, bar, out }) => {
      checkInSession(estimate(sel.backend, sel.ctx), sel);
      const result = await runExperiment({ ...options, backend: sel.backend, ctx: sel.ctx ?? undefined, recorders, onProgress: (d) => bar.update(d) });
      const config: RunConfig = {
        engineVersion,
        command: ['ei', 'run', ...argv],
        createdAt: new Date().toISOString(),
        model: modelId,
        n: resolved.n,
        batch: resolved.batch,
        steps: resolved.steps,
        dt: resolved.dt,
        T: resolved.steps * resolved.dt,
        dtAdjusted: resolved.dtAdjusted,
        seed: resolved.seed,
        rngKey: resolved.key,
        params: resolved.params,
        backend: sel.backend,
        backendRequested: f.backend,
        fallbackReason: sel.fallbackReason,
        adapter: makeAdapterRecord(sel),
        recorders,
        node: process.version,
      };
      out.write('config.json', JSON.stringify(config, null, 2) + '\n');
      out.write('timeseries.csv', makeCsv(result.timeseries.columns, result.timeseries.rows));
      if (recorders.spikes) out.write('spikes.csv', makeCsv(result.spikes.columns, result.spikes.rows));
      if (recorders.traces) out.write('traces.csv', makeCsv(result.traces.columns, result.traces.rows));
      const figures = makePopulationFigures(result);
      for (const fig of figures) out.write(`${fig.name}.svg`, fig.svg);
      out.write('report.html', makeReportHtml({
        title: `ei run ${modelId}`,
        subtitle: model.info.title,
        sections: [
          { heading: 'Summary', table: makeInstanceTable(result) },
          ...figures.map((fig) => ({ heading: fig.name, text: fig.caption, svg: fig.svg })),
        ],
        meta: { engineVersion, backend: sel.backend, adapter: sel.ctx ? `${sel.ctx.info.vendor}/${sel.ctx.info.architecture}` : 'cpu', n: resolved.n, batch: resolved.batch, steps: resolved.steps, dt: resolved.dt, seed: resolved.seed },
      }));
      // summary.json last: its presence marks a complete result.
      out.write('summary.json', makeSummaryJson(makeRunSummary(result, sel)));
      const s0 = result.instances[0];
      console.error(
        `ei: ${modelId}: ${resolved.n} neurons x ${resolved.batch} x ${resolved.steps} steps on ${sel.backend} in ${result.wallSeconds.toFixed(2)} s; ` +
          `rate ${s0.sim.rateHz.toFixed(3)} Hz (theory ${s0.theory.rateHz.toFixed(3)}), mean u ${s0.sim.meanU.toFixed(4)} (theory ${s0.theory.meanU.toFixed(4)})`,
      );
      console.log(out.path);
      return 0;
    },
  );
}

/** Pure: the measured-vs-theory table of a run's report. */
export function makeInstanceTable(r: ExperimentResult): { columns: string[]; rows: (string | number)[][] } {
  return {
    columns: ['instance', 'quantity', 'simulation', 'theory', 'relative difference'],
    rows: r.instances.slice(0, 16).flatMap((s) =>
      (['meanU', 'varU', 'rateHz'] as const).map((q) => [s.index, q, s.sim[q], s.theory[q], s.theory[q] !== 0 ? (s.sim[q] - s.theory[q]) / Math.abs(s.theory[q]) : NaN]),
    ),
  };
}

