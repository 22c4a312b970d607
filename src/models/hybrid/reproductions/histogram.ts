// Reproduction `hybrid-histogram`: the distribution of u_k over each population at fixed times against the limit's Gaussian N(m_a(t), v_a(t)), with KS distances.
import { runHybrid } from '../runner.ts';
import { ksPValue, ksStatistic, normalCdf } from '../../../analysis/stats.ts';
import { makeCsv } from '../../../io/csv.ts';
import { solveLimitB1, steadyStateB1 } from '../limit.ts';
import { makeUHistogram } from '../figures.ts';
import { makeReportHtml } from '../../../report/html.ts';
import type { Reproduction } from '../../../core/contract.ts';
import { commonOffset, finiteOrNull, limitParamsOf, modelNote, quickNote } from './moments.ts';
import { checksSection } from '../../../report/checks.ts';

function meanVar(u: ArrayLike<number>): { m: number; v: number } {
  let s = 0;
  for (let i = 0; i < u.length; i++) s += u[i];
  const m = s / u.length;
  let q = 0;
  for (let i = 0; i < u.length; i++) q += (u[i] - m) ** 2;
  return { m, v: q / (u.length - 1) };
}

export const hybridHistogram: Reproduction = {
  id: 'hybrid-histogram',
  title: 'Hybrid network: histogram of u_k against the Gaussian limit N(m_a(t), v_a(t))',
  source: 'MacLaurin & Vilanova, arXiv 2412.17273 (2024), experiment 2 of docs/models/hybrid-balanced.md (variant B1, reconstruction)',
  description:
    'Runs the B1 network (defaults) and keeps every neuron\'s u at t = 0.25, 1 and 3 tau; compares the E and I histograms with ' +
    'N(m_a(t), v_a(t)) from the limit ODE by the Kolmogorov-Smirnov distance, and with a Gaussian of the sample mean and variance ' +
    '(shape only). Quick: n = 1500 per population (CPU, ~10 s). Full: n = 1e5 (est. under a minute on a GPU).',
  async run(c) {
    const n = c.quick ? 1500 : 100_000;
    const times = [0.25, 1, 3];
    const T = times[times.length - 1];
    const r = await runHybrid({ n, T, seed: c.seed, params: { burnin: 0.5 } }, { backend: c.backend, ctx: c.ctx, threads: c.threads }, { snapshotTimes: times, keepSnapshotStates: true }, c.onProgress);
    const p = r.resolved.params[0];
    const lp = limitParamsOf(p);
    const init = { mE: p.mE0 as number, mI: p.mI0 as number, vE: p.vE0 as number, vI: p.vI0 as number };
    const snapT = r.snapshots.map((s) => s.t);
    const lim = solveLimitB1(lp, init, { T: r.resolved.steps * r.resolved.dt, sampleTimes: snapT });
    const star = steadyStateB1(lp);
    // Scale of the finite-n error of the means (see hybrid-moments): sd of the E-I difference sqrt(tau S / n).
    const S = lp.JE ** 2 * star.nuE + lp.JI ** 2 * star.nuI;
    const rows: { t: number; pop: 'E' | 'I'; m: number; v: number; mSample: number; vSample: number; D: number; p: number; Dshape: number; offset: number; tol: number }[] = [];
    const figs: { heading: string; svg: string }[] = [];
    const histRows: (number | string)[][] = [];
    r.snapshots.forEach((snap, k) => {
      const state = snap.state;
      if (!state) throw new Error('snapshot state missing (keepSnapshotStates)');
      for (const pop of ['E', 'I'] as const) {
        const u = pop === 'E' ? state.subarray(0, n) : state.subarray(n, 2 * n);
        const m = pop === 'E' ? lim.mE[k] : lim.mI[k];
        const v = pop === 'E' ? lim.vE[k] : lim.vI[k];
        const sd = Math.sqrt(v);
        const D = ksStatistic(u, (x) => normalCdf((x - m) / sd));
        const sm = meanVar(u);
        const Dshape = ksStatistic(u, (x) => normalCdf((x - sm.m) / Math.sqrt(sm.v)));
        // sqrt(n) D against the limit = sampling part (Kolmogorov law, 1% point 1.63) plus the effect of the finite-n offset of the
        // mean, phi(0) |dm| / sqrt(v) ~ 0.4 |dm| / sqrt(v), with |dm| <= delta_n (first-order common offset) + sigma_n (~2 sd).
        const offset = commonOffset(lp, n, { mE: lim.mE[k], mI: lim.mI[k], vE: lim.vE[k], vI: lim.vI[k], X: lim.X[k] });
        const tol = 1.63 + (0.4 * Math.sqrt(n) * (offset + Math.sqrt((lp.tau * S) / n))) / sd;
        rows.push({ t: snap.t, pop, m, v, mSample: sm.m, vSample: sm.v, D, p: ksPValue(D, n), Dshape, offset, tol });
        const note = `n = ${n}, t = ${snap.t.toPrecision(3)} tau, KS D = ${D.toPrecision(3)} (sqrt(n) D = ${(Math.sqrt(n) * D).toPrecision(3)}), seed ${c.seed}${c.quick ? ', quick' : ''}`;
        figs.push({ heading: `u in ${pop} at t = ${snap.t.toPrecision(3)} tau`, svg: makeUHistogram(`u over the ${pop} population at t = ${snap.t.toPrecision(3)} tau`, u, m, v, note) });
        // Binned data behind the figure: 60 equal bins over the sample range, with the limit density at bin centres.
        let lo = Infinity;
        let hi = -Infinity;
        for (let i = 0; i < u.length; i++) {
          lo = Math.min(lo, u[i]);
          hi = Math.max(hi, u[i]);
        }
        const bins = 60;
        const w = (hi - lo) / bins || 1;
        const counts = new Array<number>(bins).fill(0);
        for (let i = 0; i < u.length; i++) counts[Math.min(bins - 1, Math.floor((u[i] - lo) / w))]++;
        counts.forEach((cnt, b) => {
          const x = lo + (b + 0.5) * w;
          histRows.push([snap.t, pop, lo + b * w, lo + (b + 1) * w, cnt / (n * w), Math.exp(-((x - m) ** 2) / (2 * v)) / Math.sqrt(2 * Math.PI * v)]);
        });
      }
    });
    figs.forEach((f, i) => c.out.write(`hist-${i}.svg`, f.svg));
    c.out.write('ks.csv', makeCsv(['t', 'population', 'limitM', 'limitV', 'sampleM', 'sampleV', 'ksD', 'ksPValue', 'ksDShape', 'sqrtNksD'], rows.map((e) => [e.t, e.pop, e.m, e.v, e.mSample, e.vSample, e.D, e.p, e.Dshape, Math.sqrt(n) * e.D]), { t: 'tau' }));
    c.out.write('histograms.csv', makeCsv(['t', 'population', 'binLo', 'binHi', 'density', 'limitDensity'], histRows, { t: 'tau' }));

    const sn = Math.sqrt(n);
    const worst = Math.max(...rows.map((e) => sn * e.D));
    const worstRel = rows.reduce((w, e) => (sn * e.D / e.tol > sn * w.D / w.tol ? e : w), rows[0]);
    const worstShape = Math.max(...rows.map((e) => sn * e.Dshape));
    // Shape only (mean and variance fitted): the Lilliefors statistic's 1% point is 1.035 / sqrt(n) and its 0.1% point about 1.2;
    // with 6 tests we use 1.2 (the residual non-Gaussianity of the shot noise is O(n^-1/2) in skewness, ~0.05/sqrt(n) in D).
    const shapeTol = 1.2;
    const checks = [
      { name: 'u histogram matches N(m_a(t), v_a(t)) of the limit', expected: 'sqrt(n) KS D below 1.63 (Kolmogorov 1%) + 0.4 sqrt(n) (delta_n + sigma_n) / sqrt(v) at every time and population (O(n^-1/2) offset of the mean; see the table)', measured: `worst sqrt(n) D = ${worst.toPrecision(3)}; closest to its bound: ${worstRel.pop} at t = ${worstRel.t.toPrecision(3)}, ${(sn * worstRel.D).toPrecision(3)} vs ${worstRel.tol.toPrecision(3)} (n = ${n})`, pass: rows.every((e) => sn * e.D < e.tol) },
      { name: 'u is Gaussian (shape)', expected: `sqrt(n) KS D against N(sample mean, sample variance) < ${shapeTol} (Lilliefors ~0.1% point)`, measured: `worst sqrt(n) D = ${worstShape.toPrecision(3)}`, pass: worstShape < shapeTol },
    ];
    c.out.write('report.html', makeReportHtml({
      title: this.title,
      subtitle: this.description,
      sections: [
        { heading: 'Run size', text: `${quickNote(c.quick, `n = ${n} per population`)}\n\n${modelNote}` },
        checksSection(checks),
        { heading: 'KS distances', table: { columns: ['t (tau)', 'population', 'limit m', 'limit v', 'sample m', 'sample v', 'predicted offset delta_n', 'KS D vs limit', 'p-value', 'sqrt(n) D', 'bound', 'KS D shape'], rows: rows.map((e) => [e.t, e.pop, e.m, e.v, e.mSample, e.vSample, e.offset, e.D, e.p, sn * e.D, e.tol, e.Dshape]) } },
        ...figs,
      ],
      meta: { n, times: `${snapT.join(', ')} tau`, dt: `${r.resolved.dt} tau`, seed: c.seed, backend: c.backend, quick: c.quick, wallSeconds: r.wallSeconds },
    }));
    return {
      summary: { n, times: snapT, dt: r.resolved.dt, wallSeconds: r.wallSeconds, ks: rows.map((e) => Object.fromEntries(Object.entries(e).map(([k, v]) => [k, typeof v === 'number' ? finiteOrNull(v) : v]))), worstSqrtND: worst, worstSqrtNDShape: worstShape },
      checks,
    };
  },
};
