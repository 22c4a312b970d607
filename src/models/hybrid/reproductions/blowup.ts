// Reproduction `hybrid-blowup`: parameter sets that break the balance conditions, each detected and reported by name (never as NaN), next to what the particle system does there.
import { runHybrid } from '../runner.ts';
import { resolveParams } from '../../../core/params.ts';
import { makeCsv } from '../../../io/csv.ts';
import { checkConditionsB1, checkConditionsB2, type LimitCondition } from '../limit.ts';
import { hybridParameters } from '../params.ts';
import { makeReportHtml } from '../../../report/html.ts';
import { makeLinePlot, type PlotSeries } from '../../../report/svg.ts';
import type { Reproduction } from '../../../core/contract.ts';
import { finiteOrNull, limitParamsOf, makeProgressSplit, modelNote, quickNote, seriesOf } from './moments.ts';
import { checksSection } from '../../../report/checks.ts';

interface BlowupCase {
  key: string;
  label: string;
  set: Record<string, string | number>;
  /** The condition the limit must report; null for the controls. */
  expect: LimitCondition | null;
}

const cases: BlowupCase[] = [
  { key: 'b1-control', label: 'B1 defaults (control)', set: {}, expect: null },
  { key: 'b1-no-shift', label: 'B1, E starts below I (m_E(0) = -0.5, m_I(0) = 0.5): no balancing shift', set: { mE0: -0.5, mI0: 0.5 }, expect: 'no balancing shift' },
  { key: 'b1-excitation-wins', label: 'B1, JE = 2 > JI = 1 and E below I: J_E g_E > J_I g_I at the shift', set: { JE: 2, JI: 1, mE0: -0.5, mI0: 0.5 }, expect: 'JE gE >= JI gI' },
  { key: 'b2-control', label: 'B2 defaults (control)', set: { variant: 'B2' }, expect: null },
  { key: 'b2-d-negative', label: 'B2, JEE = JII = 2, JEI = JIE = 1: D = -3 <= 0', set: { variant: 'B2', JEE: 2, JII: 2, JEI: 1, JIE: 1 }, expect: 'D <= 0' },
  { key: 'b2-nu-above-max', label: 'B2, muhatE = 2, muhatI = 1: balance rates 2 > numax = 1', set: { variant: 'B2', muhatE: 2, muhatI: 1 }, expect: 'nu outside (0, numax)' },
  { key: 'b2-nu-negative', label: 'B2, muhatE = 0.25, muhatI = 0.5: balance rates < 0', set: { variant: 'B2', muhatE: 0.25, muhatI: 0.5 }, expect: 'nu outside (0, numax)' },
];

/** Mean of |x| over t in [from, to]. */
function meanAbs(t: number[], x: number[], from: number): number {
  let s = 0;
  let k = 0;
  for (let i = 0; i < t.length; i++) if (t[i] >= from && Number.isFinite(x[i])) {
    s += Math.abs(x[i]);
    k++;
  }
  return k ? s / k : NaN;
}

export const hybridBlowup: Reproduction = {
  id: 'hybrid-blowup',
  title: 'Hybrid network: blow-up cases detected and reported (no balancing shift, J_E g_E > J_I g_I, B2 with D <= 0 or nu outside (0, numax))',
  source: 'MacLaurin & Vilanova, arXiv 2412.17273 (2024), experiment 5 of docs/models/hybrid-balanced.md (reconstruction)',
  description:
    'Checks the no-blow-up conditions of the limit for four failing parameter sets (and two controls), runs the particle system there ' +
    'at two sizes for T = 1 tau, and records the condition each run reports, with the particles\' imbalance X_n = sqrt(n) x (net ' +
    'recurrent + external input rate) and mean potentials. Quick: n = 200, 800 (CPU, ~10 s). Full: n = 1e3, 1e4 (seconds on a GPU).',
  async run(c) {
    const ns = c.quick ? [200, 800] : [1e3, 1e4];
    const T = 1;
    const prog = makeProgressSplit(c.onProgress, cases.flatMap(() => ns.map((n) => n)));
    const results: Record<string, unknown>[] = [];
    const figSeries: PlotSeries[] = [];
    const tsRows: (number | string)[][] = [];
    let k = 0;
    for (const cs of cases) {
      const p = resolveParams('hybrid', hybridParameters, cs.set);
      const lp = limitParamsOf(p);
      const init = { mE: p.mE0 as number, mI: p.mI0 as number, vE: p.vE0 as number, vI: p.vI0 as number };
      const theory = lp.variant === 'B1' ? checkConditionsB1(lp, init) : checkConditionsB2(lp);
      const perN = [];
      for (const n of ns) {
        const r = await runHybrid({ n, T, seed: c.seed, params: { ...cs.set, burnin: 0 } }, { backend: c.backend, ctx: c.ctx, threads: c.threads }, {}, prog(k++));
        const inst = r.instances[0];
        const t = seriesOf(r, 0, 't');
        const X = seriesOf(r, 0, 'X');
        const mE = seriesOf(r, 0, 'mE');
        const mI = seriesOf(r, 0, 'mI');
        const step = Math.max(1, Math.floor(t.length / 200));
        for (let i = 0; i < t.length; i += step) tsRows.push([cs.key, n, t[i], mE[i], mI[i], X[i]]);
        if (n === ns[ns.length - 1]) figSeries.push({ name: cs.key, x: t, y: X.map((x) => Math.sign(x) * Math.log10(1 + Math.abs(x))), style: 'line' });
        perN.push({
          n,
          blowup: inst.blowup ? { source: inst.blowup.source, condition: inst.blowup.condition, t: inst.blowup.t, detail: inst.blowup.detail } : null,
          meanAbsXLateHalf: finiteOrNull(meanAbs(t, X, T / 2)),
          finalME: finiteOrNull(mE[mE.length - 1]),
          finalMI: finiteOrNull(mI[mI.length - 1]),
          limitAvailable: Number.isFinite(inst.limit.mE),
        });
      }
      results.push({ key: cs.key, label: cs.label, set: cs.set, expected: cs.expect, theory: { ok: theory.ok, conditions: theory.failures.map((f) => f.condition), details: theory.failures.map((f) => f.detail) }, perN });
    }
    c.out.write('cases.json', JSON.stringify(results, null, 2) + '\n');
    c.out.write('blowup-timeseries.csv', makeCsv(['case', 'n', 't', 'mE', 'mI', 'X'], tsRows, { t: 'tau' }));
    const xFig = makeLinePlot({ title: `Particle imbalance X_n(t) at n = ${ns[ns.length - 1]} (signed log10(1 + |X|))`, x: { label: 'time', unit: 'tau' }, y: { label: 'sign(X) log10(1 + |X|)', unit: '' }, series: figSeries, notes: [`controls stay O(1); failing cases carry an O(sqrt n) imbalance. seed ${c.seed}${c.quick ? ', quick (small n)' : ''}`] });
    c.out.write('imbalance.svg', xFig);

    type PerN = { n: number; blowup: { source: string; condition: string } | null; meanAbsXLateHalf: number | null; finalME: number | null; finalMI: number | null };
    const checks = results.map((res) => {
      const per = res.perN as PerN[];
      const exp = res.expected as string | null;
      const reported = per.map((e) => (e.blowup ? `${e.blowup.condition} (${e.blowup.source})` : 'none'));
      // The run must name the failed condition (from the conditions check, before any particle divergence) at every n.
      const pass = exp === null ? per.every((e) => e.blowup === null) : per.every((e) => e.blowup?.condition === exp);
      return { name: `${res.key}: condition reported`, expected: exp === null ? 'no blow-up reported' : `'${exp}'`, measured: `${reported.join(' / ')} at n = ${ns.join(' / ')}`, pass };
    });
    const nonFinite = countNonFinite(results);
    checks.push({ name: 'no NaN in the results', expected: '0 non-finite numbers in summary data', measured: `${nonFinite}`, pass: nonFinite === 0 });

    const rows = results.flatMap((res) => (res.perN as PerN[]).map((e) => [res.key as string, e.n, (res.theory as { conditions: string[] }).conditions.join('; ') || 'ok', e.blowup ? `${e.blowup.condition} (${e.blowup.source})` : 'none', e.meanAbsXLateHalf, e.finalME, e.finalMI]));
    c.out.write('cases.csv', makeCsv(['case', 'n', 'theoryConditions', 'reported', 'meanAbsXLateHalf', 'finalME', 'finalMI'], rows));
    c.out.write('report.html', makeReportHtml({
      title: this.title,
      subtitle: this.description,
      sections: [
        { heading: 'Run size', text: `${quickNote(c.quick, `n = ${ns.join(', ')} per population, T = ${T} tau`)}\n\n${modelNote}` },
        checksSection(checks),
        { heading: 'Cases', table: { columns: ['case', 'n', 'conditions (theory)', 'reported by the run', 'mean |X_n|, t >= T/2', 'm_E(T)', 'm_I(T)'], rows } },
        { heading: 'Imbalance of the particles', svg: xFig },
        { heading: 'What each case means', text: results.map((r) => `${r.key}: ${r.label}. ${((r.theory as { details: string[] }).details[0] ?? 'all conditions hold.')}`).join('\n\n') },
      ],
      meta: { ns, T, seed: c.seed, backend: c.backend, quick: c.quick },
    }));
    return { summary: { ns, T, cases: results }, checks };
  },
};

function countNonFinite(x: unknown): number {
  if (typeof x === 'number') return Number.isFinite(x) ? 0 : 1;
  if (Array.isArray(x)) return x.reduce((s: number, v) => s + countNonFinite(v), 0);
  if (x && typeof x === 'object') return Object.values(x).reduce((s: number, v) => s + countNonFinite(v), 0);
  return 0;
}
