// Pure outputs of a rate run: an E-I rate circuit's equilibria, Nash residual, LDS margin and regime next to the
// trajectories from many initial states (summary fields, timeseries.csv, phase portrait and rates figures, report).
import type { RunOutputs } from '../../core/contract.ts';
import { makeCsv } from '../../io/csv.ts';
import { makeLinePlot, type PlotSeries } from '../../report/svg.ts';
import type { Circuit } from './circuit.ts';
import type { RateResult } from './experiment.ts';

/** Pure: timeseries.csv's table, one row per sample and initial state: t, initial, then every cell's rate. */
function makeRateTimeseries(r: RateResult): { columns: string[]; rows: number[][] } {
  const n = r.circuit.n;
  const count = r.initial;
  const rows: number[][] = [];
  r.sampleSteps.forEach((s, row) => {
    for (let k = 0; k < count; k++) rows.push([s * r.dt, k, ...Array.from(r.samples.subarray((row * count + k) * n, (row * count + k + 1) * n))]);
  });
  return { columns: ['t', 'initial', ...r.circuit.labels], rows };
}

/** Pure: trajectories of the first E and I cells from every initial state (a phase portrait for Wilson-Cowan). */
function makeRateFigures(ts: { columns: string[]; rows: number[][] }, circuit: Circuit, count: number): { name: string; heading: string; caption: string; svg: string }[] {
  const cols = ts.columns;
  const iE = 2;
  const firstI = circuit.labels.findIndex((l, i) => !circuit.excitatory[i]);
  const iI = 2 + (firstI >= 0 ? firstI : 1);
  const byIc = Array.from({ length: Math.min(count, 8) }, (_, k) => ts.rows.filter((row) => row[1] === k));
  const phase: PlotSeries[] = byIc.map((rows, k) => ({ name: `x0 #${k}`, x: rows.map((x) => x[iE]), y: rows.map((x) => x[iI]), style: 'line' }));
  const time: PlotSeries[] = circuit.labels.slice(0, 6).map((label, i) => ({ name: label, x: byIc[0].map((x) => x[0]), y: byIc[0].map((x) => x[2 + i]), style: 'line' }));
  return [
    { name: 'phase-portrait', heading: 'Phase portrait', caption: `Trajectories in the (${cols[iE]}, ${cols[iI]}) plane from ${byIc.length} initial states.`, svg: makeLinePlot({ title: 'Phase portrait', x: { label: `rate ${cols[iE]}`, unit: '' }, y: { label: `rate ${cols[iI]}`, unit: '' }, series: phase }) },
    { name: 'rates', heading: 'Rates over time', caption: 'Rates over time from x0 = 0.', svg: makeLinePlot({ title: 'Rates from x0 = 0', x: { label: 'time', unit: 'tau' }, y: { label: 'rate', unit: '' }, series: time }) },
  ];
}

/** Why a rate summary value is not finite: the analysis says so in fields beside it. */
function explainRateNonFinite(path: readonly (string | number)[], s: Record<string, unknown>): string | undefined {
  const key = String(path[path.length - 1]);
  if (path.some((k) => String(k).startsWith('nashResidual'))) return `no Nash game: ${String(s.nashNote)}`;
  if (path[0] === 'simulated' || path[0] === 'contrastOut' || path[0] === 'contrastPerLayer') return `the simulated trajectory overflowed (regime ${String(s.regime)})`;
  if (key === 'contrastGainTheory' || path[0] === 'contrastOutTheory' || path[0] === 'contrastPerLayerTheory') return 'the contrast gain is infinite at the winner-take-all (LDS) boundary';
  return undefined;
}

/** The report's analysis rows, in this order, where present. */
const reportKeys = ['regime', 'equilibrium', 'nashResidual', 'ldsMargin', 'isLDS', 'isPMatrix', 'eigenvalues', 'contrastIn', 'contrastOut', 'contrastGainTheory', 'contrastPerLayer'];

/** Pure: what `ei run rate` writes beside config.json (the run's resolved request and backend change nothing here). */
export function makeRateOutputs(result: RateResult): RunOutputs {
  const s = result.summary;
  const ts = makeRateTimeseries(result);
  const figs = makeRateFigures(ts, result.circuit, result.initial);
  const eq = s.equilibrium as number[] | undefined;
  return {
    summary: s,
    explainNonFinite: (path) => explainRateNonFinite(path, s),
    files: [{ name: 'timeseries.csv', content: makeCsv(ts.columns, ts.rows, { t: 'tau' }) }, ...figs.map((fig) => ({ name: `${fig.name}.svg`, content: fig.svg }))],
    report: {
      title: `ei run rate (${String(s.circuit)})`,
      subtitle: 'E-I firing-rate circuit as a game: equilibria, Nash residual, Lyapunov diagonal stability, simulation',
      sections: [
        { heading: 'Analysis', table: { columns: ['quantity', 'value'], rows: reportKeys.filter((k) => s[k] !== undefined).map((k) => [k, JSON.stringify(s[k])]) } },
        ...figs.map((fig) => ({ heading: fig.heading, text: fig.caption, svg: fig.svg })),
      ],
    },
    line: `rate ${String(s.circuit)}: regime ${String(s.regime)}, LDS margin ${Number(s.ldsMargin).toPrecision(4)}, equilibrium ${JSON.stringify(eq?.map((x) => Number(x.toPrecision(5))))}`,
  };
}
