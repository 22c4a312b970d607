// Pure outputs of a poisson run: summary fields, tables, figures and the report.
import type { RunInfo, RunOutputs } from '../../core/contract.ts';
import { makeCsv } from '../../io/csv.ts';
import type { ExperimentResult, PoissonResolved } from './experiment.ts';
import { makePopulationFigures } from './figures.ts';

/** The measured-vs-theory table of a run's report. */
export function makeInstanceTable(r: ExperimentResult): { columns: string[]; rows: (string | number)[][] } {
  return {
    columns: ['instance', 'quantity', 'simulation', 'theory', 'relative difference'],
    rows: r.instances.slice(0, 16).flatMap((s) =>
      (['meanU', 'varU', 'rateHz'] as const).map((q) => [s.index, q, s.sim[q], s.theory[q], s.theory[q] !== 0 ? (s.sim[q] - s.theory[q]) / Math.abs(s.theory[q]) : NaN]),
    ),
  };
}

export function makePoissonOutputs(result: ExperimentResult, r: PoissonResolved, info: RunInfo): RunOutputs {
  const files = [{ name: 'timeseries.csv', content: makeCsv(result.timeseries.columns, result.timeseries.rows, { t: 's' }) }];
  if (r.options.recorders.spikes) files.push({ name: 'spikes.csv', content: makeCsv(result.spikes.columns, result.spikes.rows, { t: 's' }) });
  if (r.options.recorders.traces) files.push({ name: 'traces.csv', content: makeCsv(result.traces.columns, result.traces.rows, { t: 's' }) });
  const figures = makePopulationFigures(result);
  for (const fig of figures) files.push({ name: `${fig.name}.svg`, content: fig.svg });
  const s0 = result.instances[0];
  return {
    summary: { instances: result.instances },
    files,
    report: {
      title: 'ei run poisson',
      subtitle: 'Independent Poisson neurons with a leaky potential',
      sections: [{ heading: 'Summary', table: makeInstanceTable(result) }, ...figures.map((fig) => ({ heading: fig.heading, text: fig.caption, svg: fig.svg }))],
    },
    line:
      `poisson: ${r.n} neurons x ${r.batch} x ${r.steps} steps on ${info.backend} in ${info.wallSeconds.toFixed(2)} s; ` +
      `rate ${s0.sim.rateHz.toFixed(3)} Hz (theory ${s0.theory.rateHz.toFixed(3)}), mean u ${s0.sim.meanU.toFixed(4)} (theory ${s0.theory.meanU.toFixed(4)})`,
  };
}
