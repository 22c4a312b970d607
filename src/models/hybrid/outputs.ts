// `ei run hybrid`: the balanced hybrid network next to its large-n limit (summary: limit, sim, blowup).
import { makeCsv } from '../../io/csv.ts';
import { makeReportHtml } from '../../report/html.ts';
import { makeHybridFigures } from './figures.ts';
import { estimateHybridRun, resolveHybrid, runHybridExperiment, type HybridExperimentResult } from './experiment.ts';
import type { GpuContext } from '../../gpu/context.ts';
import { checkBeforeSession, checkInSession, noteDtAdjusted } from '../../cli/run-options.ts';
import type { ParsedArgs } from '../../cli/args.ts';
import { parseSetAssignments } from '../../cli/args.ts';
import { makeSummaryJson } from '../../io/summary-json.ts';
import { withResultSession } from '../../cli/result-session.ts';
import { defaultOutDir, makeAdapterRecord } from '../../cli/run-command.ts';
import type { BackendSelection } from '../../cli/context.ts';

interface HybridFlags {
  set: string[];
  n?: number;
  steps?: number;
  T?: number;
  dt?: number;
  seed: number;
  batch: number;
  backend: string;
  adapter: string;
  quiet: boolean;
  overwrite: boolean;
  out?: string;
  'record-every'?: number;
}

/** Pure: summary.json of a hybrid run (instance 0 at top level; all instances under `instances`). */
export function makeHybridSummary(r: HybridExperimentResult, sel: BackendSelection) {
  const i0 = r.instances[0];
  return {
    model: 'hybrid',
    backend: sel.backend,
    n: r.resolved.n,
    batch: r.resolved.batch,
    steps: r.resolved.steps,
    dt: r.resolved.dt,
    T: r.resolved.steps * r.resolved.dt,
    seed: r.resolved.seed,
    wallSeconds: r.wallSeconds,
    neuronStepsPerSecond: (2 * r.resolved.n * r.resolved.batch * r.resolved.steps) / r.wallSeconds,
    limit: i0.limit,
    sim: i0.sim,
    blowup: i0.blowup,
    rmsError: i0.rmsError,
    c0: i0.c0,
    instances: r.instances,
  };
}

export async function runHybridCommand(a: ParsedArgs & { flags: HybridFlags }, argv: string[], engineVersion: string): Promise<number> {
  const f = a.flags;
  const options = { set: parseSetAssignments(f.set), n: f.n, batch: f.batch, steps: f.steps, T: f.T, dt: f.dt, seed: f.seed, recordEvery: f['record-every'] };
  const resolved = resolveHybrid({ ...options, backend: 'cpu' });
  const estimate = (backend: 'cpu' | 'webgpu', ctx?: GpuContext | null) =>
    estimateHybridRun({ ...resolved, stepsFlag: f.T !== undefined ? '--T' : '--steps' }, { backend, isSoftware: ctx?.info.isSoftware });
  checkBeforeSession(estimate(f.backend === 'cpu' ? 'cpu' : 'webgpu'), f);
  noteDtAdjusted(resolved.dtAdjusted);
  return withResultSession(
    { outPath: f.out ?? defaultOutDir('hybrid'), backend: f.backend as 'auto', adapter: f.adapter as 'auto', label: (b) => `hybrid on ${b}`, total: resolved.steps, unit: 'steps', quiet: f.quiet, overwrite: f.overwrite },
    async ({ sel, bar, out }) => {
      checkInSession(estimate(sel.backend, sel.ctx), sel);
      const r = await runHybridExperiment({ ...options, backend: sel.backend, ctx: sel.ctx ?? undefined, onProgress: (d) => bar.update(d) });
      out.write('config.json', JSON.stringify({
        engineVersion, command: ['ei', 'run', ...argv], createdAt: new Date().toISOString(), model: 'hybrid',
        n: r.resolved.n, batch: r.resolved.batch, steps: r.resolved.steps, dt: r.resolved.dt, T: r.resolved.steps * r.resolved.dt, dtAdjusted: resolved.dtAdjusted,
        seed: r.resolved.seed, rngKey: r.resolved.key, params: r.resolved.params, backend: sel.backend, backendRequested: f.backend,
        fallbackReason: sel.fallbackReason, adapter: makeAdapterRecord(sel), recordEvery: r.resolved.recordEvery, node: process.version,
        note: 'hybrid is a reconstruction of MacLaurin & Vilanova (2024) from the abstract',
      }, null, 2) + '\n');
      out.write('timeseries.csv', makeCsv(r.timeseries.columns, r.timeseries.rows));
      const figures = makeHybridFigures(r);
      for (const fig of figures) out.write(`${fig.name}.svg`, fig.svg);
      const summary = makeHybridSummary(r, sel);
      out.write('report.html', makeReportHtml({
        title: 'ei run hybrid',
        subtitle: 'Balanced stochastic hybrid network against its Gaussian large-n limit',
        sections: [
          { heading: 'Time averages after burn-in against the limit at the final time', table: { columns: ['quantity', 'particles (time average)', 'limit (final)', 'rms(particles - limit)'], rows: (['mE', 'mI', 'vE', 'vI', 'nuE', 'nuI', 'X'] as const).map((k) => [k, summary.sim[k], summary.limit[k], summary.rmsError[k]]) } },
          ...(summary.blowup ? [{ heading: 'Blow-up', text: `${summary.blowup.source}: ${summary.blowup.condition} — ${summary.blowup.detail}` }] : []),
          ...figures.map((fig) => ({ heading: fig.name, text: fig.caption, svg: fig.svg })),
        ],
        meta: { engineVersion, backend: sel.backend, n: r.resolved.n, steps: r.resolved.steps, dt: r.resolved.dt, seed: r.resolved.seed },
      }));
      out.write('summary.json', makeSummaryJson(summary, (path) => explainHybridNonFinite(path, summary)));
      const s = summary.sim;
      console.error(`ei: hybrid: 2 x ${r.resolved.n} neurons x ${r.resolved.steps} steps on ${sel.backend} in ${r.wallSeconds.toFixed(2)} s; mE ${s.mE.toFixed(4)} (limit ${summary.limit.mE.toFixed(4)}), X ${s.X.toFixed(4)} (limit ${summary.limit.X.toFixed(4)})${summary.blowup ? `; BLOW-UP: ${summary.blowup.condition}` : ''}`);
      console.log(out.path);
      return 0;
    },
  );
}

/** Why a hybrid value is not finite: the network or its limit blew up (reported by name in `blowup`). */
export function explainHybridNonFinite(path: readonly (string | number)[], s: { blowup: HybridBlowupLike | null; instances: { blowup: HybridBlowupLike | null }[] }): string | undefined {
  const b = path[0] === 'instances' ? s.instances[Number(path[1])]?.blowup : s.blowup;
  if (b) return `blow-up (${b.source}: ${b.condition}${b.t != null ? ` at t = ${b.t}` : ''}): the values are not finite after it`;
  // A diverging instance stops the whole batch, so the others have no time average either.
  const k = s.instances.findIndex((i) => i.blowup?.source === 'simulation');
  return k >= 0 ? `the batch stopped when instance ${k} blew up (${s.instances[k].blowup!.condition}), before this instance was averaged` : undefined;
}

interface HybridBlowupLike {
  source: string;
  condition: string;
  t: number | null;
}
