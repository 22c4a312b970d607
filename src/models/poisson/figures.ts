// Figures of a population experiment: moments and rate against theory, raster, and the final distribution of u.
import { poissonTheoryAtStep } from './population.ts';
import type { ExperimentResult } from './experiment.ts';
import { replicateEnvelope } from '../../analysis/stats.ts';
import { makeHistogramPlot, makeLinePlot, makeScatter, type PlotSeries } from '../../report/svg.ts';

export interface Figure {
  name: string;
  /** The report's section heading (name is the file name). */
  heading: string;
  caption: string;
  svg: string;
}

const maxPlottedInstances = 4;

function column(rows: number[][], columns: string[], name: string): number[] {
  const i = columns.indexOf(name);
  return rows.map((r) => r[i]);
}

/** Pure: builds the standard figures from an experiment result. */
export function makePopulationFigures(r: ExperimentResult): Figure[] {
  const { columns, rows } = r.timeseries;
  const B = r.resolved.batch;
  // A batch of one parameter set (`ei run --batch`) is replicates: their mean with a min-max band, the theory once.
  const replicates = B > 1 && r.resolved.params.every((p) => JSON.stringify(p) === JSON.stringify(r.resolved.params[0]));
  const shown = replicates ? B : Math.min(B, maxPlottedInstances);
  const byInstance = Array.from({ length: shown }, (_, b) => rows.filter((row) => row[2] === b));
  const note = `n = ${r.resolved.n} neurons, dt = ${r.resolved.dt} s, seed ${r.resolved.seed}${replicates ? `, mean of ${B} replicates, band: their min-max` : B > shown ? `, first ${shown} of ${B} instances` : ''}`;
  const simSeries = (name: string, label: string): PlotSeries[] => {
    if (!replicates) return byInstance.map((rs, b) => ({ name: `${label} sim${shown > 1 ? ` #${b}` : ''}`, x: column(rs, columns, 't'), y: column(rs, columns, name), style: 'line' as const }));
    const env = replicateEnvelope(byInstance.map((rs) => column(rs, columns, name)));
    return [{ name: `${label} sim (mean of ${B})`, x: column(byInstance[0], columns, 't'), y: env.mean, style: 'line' as const, band: { lo: env.lo, hi: env.hi } }];
  };
  const theorySeries = (theoryName: string, label: string): PlotSeries[] =>
    (replicates ? byInstance.slice(0, 1) : byInstance).map((rs, b) => ({ name: `${label} theory${shown > 1 && !replicates ? ` #${b}` : ''}`, x: column(rs, columns, 't'), y: column(rs, columns, theoryName), style: 'dashed' as const }));
  // The time averages start at step round(burnin / dt) (the runner's burnSteps).
  const burnin = Math.round(Number(r.resolved.params[0]?.burnin ?? 0) / r.resolved.dt) * r.resolved.dt;
  const shades = burnin > 0 ? [{ from: 0, to: burnin, label: `burn-in (${Number(burnin.toPrecision(4))} s, not averaged)` }] : [];
  const pair = (name: string, theoryName: string, label: string): PlotSeries[] => [...simSeries(name, label), ...theorySeries(theoryName, label)];
  const figures: Figure[] = [
    {
      name: 'mean-u',
      heading: 'Population mean of u',
      caption: 'Population mean of the potential u against the exact mean of the discretised process.',
      svg: makeLinePlot({ title: 'Population mean of u', x: { label: 'time', unit: 's' }, y: { label: 'mean u', unit: '' }, series: pair('meanU', 'meanUTheory', 'mean u'), notes: [note], shades }),
    },
    {
      name: 'var-u',
      heading: 'Population variance of u',
      caption: 'Population variance of u against the exact variance of the discretised process.',
      svg: makeLinePlot({ title: 'Population variance of u', x: { label: 'time', unit: 's' }, y: { label: 'variance of u', unit: '' }, series: pair('varU', 'varUTheory', 'var u'), notes: [note], shades }),
    },
    {
      name: 'rate',
      heading: 'Population firing rate',
      caption: 'Population firing rate (spike count / (n dt)) against E[f(u)] with u Gaussian.',
      svg: makeLinePlot({
        title: 'Population firing rate',
        x: { label: 'time', unit: 's' },
        y: { label: 'rate', unit: 'Hz' },
        series: pair('rateHz', 'rateHzTheory', 'rate'),
        notes: [note],
        shades,
      }),
    },
  ];
  if (r.spikes.rows.length > 0) {
    const s0 = r.spikes.rows.filter((row) => row[2] === 0);
    figures.push({
      name: 'raster',
      heading: 'Spike raster',
      caption: 'Spike raster of the recorded neurons of instance 0.',
      svg: makeScatter({ title: 'Spike raster (instance 0)', x: { label: 'time', unit: 's' }, y: { label: 'neuron index', unit: '' }, series: [{ name: 'spikes', x: s0.map((x) => x[1]), y: s0.map((x) => x[3]), style: 'points' }], legend: 'none', notes: [note] }),
    });
  }
  // Final distribution of u in instance 0 against N(mean, var) of the discretised process.
  const n = r.resolved.n;
  const u = r.finalState.subarray(0, n);
  let lo = Infinity;
  let hi = -Infinity;
  for (const v of u) {
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  if (Number.isFinite(lo) && hi > lo) {
    const bins = Math.min(80, Math.max(10, Math.round(Math.sqrt(n))));
    const edges = Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
    const counts = new Array<number>(bins).fill(0);
    for (const v of u) counts[Math.min(bins - 1, Math.floor(((v - lo) / (hi - lo)) * bins))]++;
    const width = (hi - lo) / bins;
    const densities = counts.map((c) => c / (n * width));
    const th = poissonTheoryAtStep(r.resolved.params[0], r.resolved.dt, r.resolved.steps - 1);
    const xs = Array.from({ length: 200 }, (_, i) => lo + ((hi - lo) * i) / 199);
    const pdf = xs.map((x) => Math.exp(-((x - th.meanU) ** 2) / (2 * th.varU)) / Math.sqrt(2 * Math.PI * th.varU));
    figures.push({
      name: 'u-histogram',
      heading: 'Distribution of u at the final time',
      caption: 'Distribution of u across neurons at the final time (instance 0) against the Gaussian with the exact mean and variance.',
      svg: makeHistogramPlot({ title: 'Distribution of u at the final time', x: { label: 'u', unit: '' }, y: { label: 'density', unit: '' }, edges, densities, name: 'simulation', overlays: [{ name: 'N(m, v) theory', x: xs, y: pdf, style: 'line' }], notes: [note] }),
    });
  }
  return figures;
}
