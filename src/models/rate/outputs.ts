// `ei run rate`: an E-I rate circuit's equilibria, Nash residual, LDS margin and regime, next to batched simulation.
import { makeCsv } from '../../io/csv.ts';
import { makeReportHtml } from '../../report/html.ts';
import { makeLinePlot, type PlotSeries } from '../../report/svg.ts';
import { estimateRateRun, resolveRate, runRateExperiment, type RateExperimentResult } from './experiment.ts';
import { checkBeforeSession, checkInSession, noteDtAdjusted } from '../../cli/run-options.ts';
import { parseSetAssignments, type ParsedArgs } from '../../cli/args.ts';
import { makeSummaryJson } from '../../io/summary-json.ts';
import { withResultSession } from '../../cli/result-session.ts';
import { defaultOutDir, makeAdapterRecord } from '../../cli/run-command.ts';

/** Pure: trajectories of the first E and I cells from every initial state (a phase portrait for Wilson-Cowan). */
export function makeRateFigures(r: RateExperimentResult): { name: string; caption: string; svg: string }[] {
  const cols = r.timeseries.columns;
  const count = r.params.initial as number;
  const iE = 2;
  const iI = 2 + (r.circuit.labels.findIndex((l, i) => !r.circuit.excitatory[i]) >= 0 ? r.circuit.labels.findIndex((l, i) => !r.circuit.excitatory[i]) : 1);
  const byIc = Array.from({ length: Math.min(count, 8) }, (_, k) => r.timeseries.rows.filter((row) => row[1] === k));
  const phase: PlotSeries[] = byIc.map((rows, k) => ({ name: `x0 #${k}`, x: rows.map((x) => x[iE]), y: rows.map((x) => x[iI]), style: 'line' }));
  const time: PlotSeries[] = r.circuit.labels.slice(0, 6).map((label, i) => ({ name: label, x: byIc[0].map((x) => x[0]), y: byIc[0].map((x) => x[2 + i]), style: 'line' }));
  return [
    { name: 'phase-portrait', caption: `Trajectories in the (${cols[iE]}, ${cols[iI]}) plane from ${byIc.length} initial states.`, svg: makeLinePlot({ title: 'Phase portrait', x: { label: `rate ${cols[iE]}`, unit: '' }, y: { label: `rate ${cols[iI]}`, unit: '' }, series: phase }) },
    { name: 'rates', caption: 'Rates over time from x0 = 0.', svg: makeLinePlot({ title: 'Rates from x0 = 0', x: { label: 'time', unit: 'tau' }, y: { label: 'rate', unit: '' }, series: time }) },
  ];
}

export async function runRateCommand(a: ParsedArgs & { flags: { set: string[]; T?: number; dt?: number; seed: number; backend: string; adapter: string; quiet: boolean; overwrite: boolean; out?: string } }, argv: string[], engineVersion: string): Promise<number> {
  const f = a.flags;
  const set = parseSetAssignments(f.set);
  // Validate before touching the GPU or the output folder.
  const resolved = resolveRate({ set, T: f.T, dt: f.dt, seed: f.seed });
  const estimate = (backend: 'cpu' | 'webgpu') => estimateRateRun(resolved, { backend });
  checkBeforeSession(estimate(f.backend === 'cpu' ? 'cpu' : 'webgpu'), f);
  noteDtAdjusted(resolved.dtAdjusted);
  return withResultSession(
    { outPath: f.out ?? defaultOutDir('rate'), backend: f.backend as 'auto', adapter: f.adapter as 'auto', label: (b) => `rate on ${b}`, total: 1, unit: 'of the steps', quiet: f.quiet, overwrite: f.overwrite },
    async ({ sel, bar, out }) => {
      checkInSession(estimate(sel.backend), sel);
      const r = await runRateExperiment({ set, T: f.T, dt: f.dt, seed: f.seed, backend: sel.backend, ctx: sel.ctx ?? undefined, onProgress: (d, t) => bar.update(d / t) });
      out.write('config.json', JSON.stringify({
        engineVersion, command: ['ei', 'run', ...argv], createdAt: new Date().toISOString(), model: 'rate', params: r.params, dt: r.dt, steps: r.steps, dtAdjusted: resolved.dtAdjusted,
        seed: f.seed, backend: sel.backend, backendRequested: f.backend, fallbackReason: sel.fallbackReason, adapter: makeAdapterRecord(sel), node: process.version,
        W: Array.from(r.circuit.W), u: Array.from(r.circuit.u), tau: Array.from(r.circuit.tau), labels: r.circuit.labels,
        note: 'rate circuits are a reconstruction of Betteti et al. (arXiv 2512.05252) from the abstract',
      }, null, 2) + '\n');
      out.write('timeseries.csv', makeCsv(r.timeseries.columns, r.timeseries.rows));
      const figs = makeRateFigures(r);
      for (const fig of figs) out.write(`${fig.name}.svg`, fig.svg);
      const s = r.summary;
      const keys = ['regime', 'equilibrium', 'nashResidual', 'ldsMargin', 'isLDS', 'isPMatrix', 'eigenvalues', 'contrastIn', 'contrastOut', 'contrastGainTheory', 'contrastPerLayer'];
      out.write('report.html', makeReportHtml({
        title: `ei run rate (${String(s.circuit)})`,
        subtitle: 'E-I firing-rate circuit as a game: equilibria, Nash residual, Lyapunov diagonal stability, simulation',
        sections: [
          { heading: 'Analysis', table: { columns: ['quantity', 'value'], rows: keys.filter((k) => s[k] !== undefined).map((k) => [k, JSON.stringify(s[k])]) } },
          ...figs.map((fig) => ({ heading: fig.name, text: fig.caption, svg: fig.svg })),
        ],
        meta: { engineVersion, backend: sel.backend, circuit: String(s.circuit), seed: f.seed },
      }));
      out.write('summary.json', makeSummaryJson(s, (path) => explainRateNonFinite(path, s)));
      console.error(`ei: rate ${String(s.circuit)}: regime ${String(s.regime)}, LDS margin ${Number(s.ldsMargin).toPrecision(4)}, equilibrium ${JSON.stringify((s.equilibrium as number[] | null)?.map((x) => Number(x.toPrecision(5))))}`);
      console.log(out.path);
      return 0;
    },
  );
}

/** Why a rate summary value is not finite: the analysis says so in fields beside it. */
export function explainRateNonFinite(path: readonly (string | number)[], s: Record<string, unknown>): string | undefined {
  const key = String(path[path.length - 1]);
  if (path.some((k) => String(k).startsWith('nashResidual'))) return `no Nash game: ${String(s.nashNote)}`;
  if (path[0] === 'simulated' || path[0] === 'contrastOut' || path[0] === 'contrastPerLayer') return `the simulated trajectory overflowed (regime ${String(s.regime)})`;
  if (key === 'contrastGainTheory' || path[0] === 'contrastOutTheory' || path[0] === 'contrastPerLayerTheory') return 'the contrast gain is infinite at the winner-take-all (LDS) boundary';
  return undefined;
}
