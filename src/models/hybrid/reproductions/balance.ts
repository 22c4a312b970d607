// Reproduction `hybrid-balance`: the sqrt(n)-scaled E-I imbalance sqrt(n)(J_E nubar_E - J_I nubar_I) of the particles against the limit multiplier X(t), including the initial common jump c0.
import { runHybrid, type HybridRunResult } from '../runner.ts';
import { makeCsv } from '../../../io/csv.ts';
import { rateDerivs } from '../limit.ts';
import { makeReportHtml } from '../../../report/html.ts';
import { makeLinePlot, type PlotSeries } from '../../../report/svg.ts';
import type { Reproduction } from '../../../core/contract.ts';
import { commonOffset, finiteOrNull, limitParamsOf, makeProgressSplit, modelNote, quickNote, seriesOf } from './moments.ts';
import { checksSection } from '../../../report/checks.ts';

/** Initial data far from balance (E 1 above I, both high), so that the jump c0 at t = 0+ is large against the O(n^-1/2) noise. */
const initial = { mE0: 1.5, mI0: 0.5, vE0: 0.5, vI0: 0.5 };

/** Moving average over a centred window of `half` samples each side. */
function smooth(xs: number[], half: number): number[] {
  return xs.map((_, i) => {
    const a = Math.max(0, i - half);
    const b = Math.min(xs.length - 1, i + half);
    let s = 0;
    for (let k = a; k <= b; k++) s += xs[k];
    return s / (b - a + 1);
  });
}

function rmsWhere(t: number[], a: number[], b: number[], keep: (t: number) => boolean): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < t.length; i++) {
    if (keep(t[i]) && Number.isFinite(a[i]) && Number.isFinite(b[i])) {
      s += (a[i] - b[i]) ** 2;
      k++;
    }
  }
  return k ? Math.sqrt(s / k) : NaN;
}

export const hybridBalance: Reproduction = {
  id: 'hybrid-balance',
  title: 'Hybrid network: sqrt(n)(J_E nubar_E - J_I nubar_I) against the balance multiplier X(t), with the initial jump c0',
  source: 'MacLaurin & Vilanova, arXiv 2412.17273 (2024), experiment 3 of docs/models/hybrid-balanced.md (variant B1, reconstruction)',
  description:
    'Starts the B1 network (defaults, but m_E(0) = 1.5, m_I(0) = 0.5: unbalanced) at several n. In a layer of width ~1/sqrt(n) tau ' +
    'the means jump by the common shift c0 that solves J_E nu_E(m_E + c0) = J_I nu_I(m_I + c0); after it the measured imbalance ' +
    'X_n(t) = sqrt(n)(J_E nubar_E - J_I nubar_I) tracks the multiplier X(t) of the limit. Quick: n = 200, 800, 3200 (CPU, ~20 s). ' +
    'Full: n = 1e3, 1e4, 1e5, 1e6 (est. 1-3 min on a recent GPU).',
  async run(c) {
    const ns = c.quick ? [200, 800, 3200] : [1e3, 1e4, 1e5, 1e6];
    const T = 2;
    const prog = makeProgressSplit(c.onProgress, ns.map((n) => n * Math.max(1, Math.sqrt(n) / 50)));
    const runs: { n: number; r: HybridRunResult }[] = [];
    for (let k = 0; k < ns.length; k++) {
      runs.push({ n: ns[k], r: await runHybrid({ n: ns[k], T, seed: c.seed, params: { ...initial, burnin: 0.5 } }, { backend: c.backend, ctx: c.ctx, threads: c.threads }, {}, prog(k)) });
    }
    const inst0 = runs[0].r.instances[0];
    const c0 = inst0.c0 ?? NaN;
    const lp = limitParamsOf(runs[0].r.resolved.params[0]);
    // Linear relaxation rate of the common mode at the balanced point: sqrt(n) (JI gI - JE gE) per tau.
    const gE = rateDerivs(lp, initial.mE0 + c0, initial.vE0).g;
    const gI = rateDerivs(lp, initial.mI0 + c0, initial.vI0).g;
    const kappa = lp.JI * gI - lp.JE * gE;
    const tAfter = 0.5; // X is compared after the layer has closed at every n (6 relaxation times at n = 200 is < 0.5 tau)
    const per = runs.map(({ n, r }) => {
      const t = seriesOf(r, 0, 't');
      const dt = r.resolved.dt;
      // The layer has closed after ~6 linear relaxation times (e^-6 of the jump left); the nonlinear start is faster.
      const tj = Math.min(0.5, 6 / (Math.sqrt(n) * kappa));
      const win = (x: number) => x >= tj && x <= tj + 0.1;
      // Jump = particle mean minus the limit's smooth evolution after t = 0+, averaged over E, I and a 0.1 tau window.
      const jumps: number[] = [];
      for (const [m, lm, m0] of [['mE', 'limitME', initial.mE0], ['mI', 'limitMI', initial.mI0]] as const) {
        const s = seriesOf(r, 0, m);
        const l = seriesOf(r, 0, lm);
        for (let i = 0; i < t.length; i++) if (win(t[i])) jumps.push(s[i] - m0 - (l[i] - m0 - c0));
      }
      const jump = jumps.reduce((a, b) => a + b, 0) / jumps.length;
      const iJ = t.findIndex((x) => x >= tj);
      const at = (name: string) => seriesOf(r, 0, name)[iJ];
      const offset = commonOffset(lp, n, { mE: at('limitME'), mI: at('limitMI'), vE: at('limitVE'), vI: at('limitVI'), X: at('limitX') });
      const X = seriesOf(r, 0, 'X');
      const LX = seriesOf(r, 0, 'limitX');
      const stride = r.resolved.options.recordEvery;
      const half = Math.max(1, Math.round(0.05 / (dt * stride)));
      const rmsX = rmsWhere(t, X, LX, (x) => x >= tAfter);
      const rmsXSmooth = rmsWhere(t, smooth(X, half), LX, (x) => x >= tAfter + 0.05 && x <= T - 0.05);
      const peak = Math.max(...X.map(Math.abs));
      return { n, dt, tj, jump, jumpError: jump - c0, offset, rmsX, rmsXSmooth, peakX: peak, wallSeconds: r.wallSeconds, blowup: r.instances[0].blowup };
    });
    const csvRows: number[][] = [];
    for (const { n, r } of runs) for (const row of r.timeseries.rows) csvRows.push([n, ...row]);
    c.out.write('balance-timeseries.csv', makeCsv(['n', ...runs[0].r.timeseries.columns], csvRows, { t: 'tau' }));
    c.out.write('balance-summary.csv', makeCsv(['n', 'dt', 'layerEnd', 'jump', 'c0', 'rmsX', 'rmsXSmoothed', 'peakAbsX'], per.map((e) => [e.n, e.dt, e.tj, e.jump, c0, e.rmsX, e.rmsXSmooth, e.peakX]), { dt: 'tau', layerEnd: 'tau' }));

    const note = `m_E(0) = ${initial.mE0}, m_I(0) = ${initial.mI0}, v(0) = ${initial.vE0}, seed ${c.seed}${c.quick ? ', quick (small n)' : ''}`;
    const last = runs[runs.length - 1].r;
    const lx = { name: 'limit X(t)', x: seriesOf(last, 0, 't'), y: seriesOf(last, 0, 'limitX'), style: 'dashed' as const, color: '#000000' };
    // After the layer: the particle X_n around the limit (the y range is fixed so the t ~ 0 spike does not flatten it).
    const after: PlotSeries[] = runs.map(({ n, r }) => {
      const t = seriesOf(r, 0, 't');
      const X = seriesOf(r, 0, 'X');
      const keep = t.map((x) => x >= 0.1);
      return { name: `n = ${n}`, x: t.filter((_, i) => keep[i]), y: X.filter((_, i) => keep[i]), style: 'line' };
    });
    const lxVals = lx.y.filter(Number.isFinite);
    const yMin = Math.min(...lxVals) - 1.5;
    const yMax = Math.max(...lxVals) + 1.5;
    const xFig = makeLinePlot({ title: 'X_n(t) after the initial layer vs the limit X(t)', x: { label: 'time', unit: 'tau' }, y: { label: 'X', unit: '1/tau', min: yMin, max: yMax }, series: [...after, lx], notes: [note, 't >= 0.1 tau shown'] });
    // The layer: the means of both populations jump by c0 in a time ~ 1/sqrt(n).
    const layer: PlotSeries[] = [];
    for (const { n, r } of runs) {
      const t = seriesOf(r, 0, 't');
      const mE = seriesOf(r, 0, 'mE');
      const keep = t.map((x) => x <= 0.6);
      layer.push({ name: `m_E - m_E(0), n = ${n}`, x: t.filter((_, i) => keep[i]), y: mE.filter((_, i) => keep[i]).map((m) => m - initial.mE0), style: 'line' });
    }
    {
      const t = seriesOf(last, 0, 't');
      const l = seriesOf(last, 0, 'limitME');
      const keep = t.map((x) => x <= 0.6);
      layer.push({ name: 'limit m_E - m_E(0) (c0 at 0+)', x: [0, ...t.filter((_, i) => keep[i])], y: [0, ...l.filter((_, i) => keep[i]).map((m) => m - initial.mE0)], style: 'dashed', color: '#000000' });
    }
    const jFig = makeLinePlot({ title: `Initial layer: the mean of u in E jumps by c0 = ${c0.toPrecision(4)}`, x: { label: 'time', unit: 'tau' }, y: { label: 'm_E(t) - m_E(0)', unit: '' }, series: layer, notes: [note] });
    const peakFig = makeLinePlot({ title: 'X_n in the initial layer (height ~ sqrt(n), width ~ 1/sqrt(n))', x: { label: 'time', unit: 'tau', max: 0.3 }, y: { label: 'X', unit: '1/tau' }, series: runs.map(({ n, r }) => {
      const t = seriesOf(r, 0, 't');
      const X = seriesOf(r, 0, 'X');
      const keep = t.map((x) => x <= 0.3);
      return { name: `n = ${n}`, x: t.filter((_, i) => keep[i]), y: X.filter((_, i) => keep[i]), style: 'line' as const };
    }), notes: [note] });
    c.out.write('x-vs-limit.svg', xFig);
    c.out.write('initial-jump.svg', jFig);
    c.out.write('x-layer.svg', peakFig);

    const a = per[0];
    const z = per[per.length - 1];
    const ratio = a.rmsX / z.rmsX;
    const predicted = Math.pow(z.n / a.n, 0.25);
    // The particles sit a first-order offset delta_n = |X| / (sqrt(n) |J_E g_E - J_I g_I|) from the limit (commonOffset), plus
    // fluctuations of sd ~ sqrt(tau S / n) / 2 (S <= JE^2 + JI^2 = 5 bounds it: 0.02 at n = 3200), plus e^-6 of c0 left in the layer.
    const jumpTol = z.offset + Math.sqrt(5 / z.n) + Math.exp(-6) * Math.abs(c0);
    const checks = [
      { name: 'limit: a balancing jump exists', expected: 'c0 finite, no blow-up at any n', measured: `c0 = ${c0.toPrecision(5)}, blow-ups: ${per.filter((e) => e.blowup).length}`, pass: Number.isFinite(c0) && per.every((e) => !e.blowup) },
      { name: `initial jump at n = ${z.n}`, expected: `common shift of m_E, m_I by c0 = ${c0.toPrecision(4)} within delta_n + 2 sd = ${jumpTol.toPrecision(2)} (first-order offset delta_n = ${z.offset.toPrecision(2)})`, measured: `${z.jump.toPrecision(4)} (error ${z.jumpError.toPrecision(2)}; at n = ${per.map((e) => `${e.n}: ${e.jump.toPrecision(3)}`).join(', ')})`, pass: Math.abs(z.jumpError) < jumpTol },
      // The fast common mode relaxes at rate ~sqrt(n) under noise of variance ~1/n per unit time, so X_n - X has sd ~ n^-1/4
      // (ratio (16)^(1/4) = 2 for the quick sizes); slow modes add an O(n^-1/2) part. The claim checked is convergence
      // (ratio clearly above 1: 1.2); the ratio is shown next to the n^-1/4 prediction so a shortfall is visible.
      { name: 'X_n(t) converges to X(t)', expected: `rms(X_n - X) over t >= ${tAfter} falls from n = ${a.n} to ${z.n}: ratio ~${predicted.toPrecision(3)} (n^-1/4), at least 1.2`, measured: `${a.rmsX.toPrecision(3)} -> ${z.rmsX.toPrecision(3)}, ratio ${ratio.toPrecision(3)}`, pass: ratio > 1.2 },
      // Within the layer X_n reaches ~sqrt(n) |J_E nu_E - J_I nu_I|(0), i.e. it is O(sqrt n): 16x more neurons, ~4x taller peak (>= 2x required).
      { name: 'layer height grows like sqrt(n)', expected: `peak |X_n| ratio n = ${z.n} / ${a.n} about ${Math.sqrt(z.n / a.n).toPrecision(3)}, at least half that`, measured: `${(z.peakX / a.peakX).toPrecision(3)}`, pass: z.peakX / a.peakX > 0.5 * Math.sqrt(z.n / a.n) },
    ];
    c.out.write('report.html', makeReportHtml({
      title: this.title,
      subtitle: this.description,
      sections: [
        { heading: 'Run size', text: `${quickNote(c.quick, `n = ${ns.join(', ')} per population, one replica each`)}\n\n${modelNote}` },
        checksSection(checks),
        { heading: 'X after the layer', svg: xFig, text: 'Limitation seen in the quick run: starting this far from balance the layer closes more slowly than the linear estimate 6 / (sqrt(n) (J_I g_I - J_E g_E)) used to place the jump window (rates saturate early in the layer); at n = 200 it is still closing at t = 0.5, so the n = 200 jump and the n = 200 X error include the layer tail. The n = 3200 values are past it.' },
        { heading: 'The initial jump', svg: jFig },
        { heading: 'X in the layer', svg: peakFig },
        { heading: 'Per n', table: { columns: ['n', 'dt (tau)', 'layer end (tau)', 'measured jump', 'c0', 'rms X_n - X', 'rms, 0.1 tau average', 'peak |X_n|', 'wall s'], rows: per.map((e) => [e.n, e.dt, e.tj, e.jump, c0, e.rmsX, e.rmsXSmooth, e.peakX, e.wallSeconds]) } },
      ],
      meta: { ns, T, initial, c0, kappa, seed: c.seed, backend: c.backend, quick: c.quick },
    }));
    return {
      summary: { ns, T, initial, c0: finiteOrNull(c0), relaxationSlope: finiteOrNull(kappa), perN: per.map((e) => ({ n: e.n, dt: e.dt, layerEnd: e.tj, jump: finiteOrNull(e.jump), rmsX: finiteOrNull(e.rmsX), rmsXSmoothed: finiteOrNull(e.rmsXSmooth), peakAbsX: finiteOrNull(e.peakX), wallSeconds: e.wallSeconds })), rmsRatio: finiteOrNull(ratio), predictedRatio: predicted },
      checks,
    };
  },
};
