// Figures of a hybrid-network run: moments, rates and X against the large-n limit, and u histograms against Gaussians.
import type { HybridResult } from './runner.ts';
import type { HybridRun } from './resolve.ts';
import { replicateEnvelope } from '../../analysis/stats.ts';
import { makeHistogramPlot, makeLinePlot, type PlotSeries } from '../../report/svg.ts';

export interface Figure {
  name: string;
  /** The report's section heading (name is the file name). */
  heading: string;
  caption: string;
  svg: string;
}

function col(r: HybridResult, name: string, instance: number): number[] {
  const i = r.timeseries.columns.indexOf(name);
  return r.timeseries.rows.filter((row) => row[1] === instance).map((row) => row[i]);
}

/** Histogram of u over a population (n values) against N(m, v). */
export function makeUHistogram(title: string, u: ArrayLike<number>, m: number, v: number, note: string): string {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < u.length; i++) {
    lo = Math.min(lo, u[i]);
    hi = Math.max(hi, u[i]);
  }
  const bins = Math.min(80, Math.max(10, Math.round(Math.sqrt(u.length))));
  const width = (hi - lo) / bins || 1;
  const counts = new Array<number>(bins).fill(0);
  for (let i = 0; i < u.length; i++) counts[Math.min(bins - 1, Math.floor((u[i] - lo) / width))]++;
  const edges = Array.from({ length: bins + 1 }, (_, i) => lo + i * width);
  const xs = Array.from({ length: 200 }, (_, i) => lo + ((hi - lo) * i) / 199);
  return makeHistogramPlot({
    title,
    x: { label: 'u', unit: '' },
    y: { label: 'density', unit: '' },
    edges,
    densities: counts.map((c) => c / (u.length * width)),
    name: 'particles',
    overlays: [{ name: 'limit N(m, v)', x: xs, y: xs.map((x) => Math.exp(-((x - m) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v)), style: 'line' }],
    notes: [note],
  });
}

/** Pure: the standard figures of instance 0, or of the mean of a batch of replicates with their min-max band. */
export function makeHybridFigures(r: HybridResult, run: HybridRun): Figure[] {
  const t = col(r, 't', 0);
  const B = run.batch;
  // A batch of one parameter set (`ei run --batch`) is replicates, shown as their mean with a band (all of one length:
  // a blow-up stops the whole batch of `ei run`).
  const ids = Array.from({ length: B }, (_, b) => b);
  const replicates = B > 1 && run.params.every((p) => JSON.stringify(p) === JSON.stringify(run.params[0])) && ids.every((b) => col(r, 't', b).length === t.length);
  const note = `n = ${run.n} per population, dt = ${Number(run.dt.toPrecision(3))} tau, seed ${run.seed}${replicates ? `, mean of ${B} replicates, band: their min-max` : B > 1 ? `, instance 0 of ${B}` : ''}`;
  // The time averages start at the first step on or after burnin (runner: round(burnin / dt)).
  const burnin = Math.round(Number(run.params[0]?.burnin ?? 0) / run.dt) * run.dt;
  const shades = burnin > 0 ? [{ from: 0, to: burnin, label: `burn-in (${Number(burnin.toPrecision(4))} tau, not averaged)` }] : [];
  const particles = (name: string, label: string): PlotSeries => {
    if (!replicates) return { name: `${label} particles`, x: t, y: col(r, name, 0), style: 'line' };
    const env = replicateEnvelope(ids.map((b) => col(r, name, b)));
    return { name: `${label} particles (mean of ${B})`, x: t, y: env.mean, style: 'line', band: { lo: env.lo, hi: env.hi } };
  };
  const pair = (name: string, label: string): PlotSeries[] => [
    particles(name, label),
    { name: `${label} limit`, x: t, y: col(r, `limit${name[0].toUpperCase()}${name.slice(1)}`, 0), style: 'dashed' },
  ];
  const figs: Figure[] = [
    { name: 'means', heading: 'Mean of u', caption: 'Population means of u against the limit ODE.', svg: makeLinePlot({ title: 'Mean of u', x: { label: 'time', unit: 'tau' }, y: { label: 'mean u', unit: '' }, series: [...pair('mE', 'm_E'), ...pair('mI', 'm_I')], notes: [note], shades }) },
    { name: 'variances', heading: 'Variance of u', caption: 'Population variances of u against the limit ODE.', svg: makeLinePlot({ title: 'Variance of u', x: { label: 'time', unit: 'tau' }, y: { label: 'variance of u', unit: '' }, series: [...pair('vE', 'v_E'), ...pair('vI', 'v_I')], notes: [note], shades }) },
    { name: 'rates', heading: 'Population rates', caption: 'Population rates nubar_a = mean f(u) against the limit.', svg: makeLinePlot({ title: 'Population rates', x: { label: 'time', unit: 'tau' }, y: { label: 'rate', unit: '1/tau' }, series: [...pair('nuE', 'nu_E'), ...pair('nuI', 'nu_I')], notes: [note], shades }) },
    { name: 'balance', heading: 'Balance multiplier X', caption: 'X = sqrt(n) (J_E nubar_E - J_I nubar_I) against the limit multiplier X(t).', svg: makeLinePlot({ title: 'Balance multiplier X', x: { label: 'time', unit: 'tau' }, y: { label: 'X', unit: '' }, series: pair('X', 'X'), notes: [note], shades }) },
  ];
  const n = run.n;
  const inst = r.instances[0];
  const u = r.finalState.subarray(0, 2 * n);
  if (Number.isFinite(inst.limit.vE) && inst.limit.vE > 0) {
    figs.push({ name: 'hist-e', heading: 'Distribution of u in E at the final time', caption: 'u over the E population at the final time against N(m_E, v_E) of the limit.', svg: makeUHistogram('u in E at the final time', u.subarray(0, n), inst.limit.mE, inst.limit.vE, note) });
    figs.push({ name: 'hist-i', heading: 'Distribution of u in I at the final time', caption: 'u over the I population at the final time against N(m_I, v_I) of the limit.', svg: makeUHistogram('u in I at the final time', u.subarray(n, 2 * n), inst.limit.mI, inst.limit.vI, note) });
  }
  return figs;
}
