// Reproductions of the rate-circuit paper's claims (reconstructed spec): the w_EE switch of a Wilson-Cowan pair,
// contrast gain and soft vs winner-take-all competition in the lateral microcircuit, and sharpening in a column.
import { resolveParams } from '../../../core/params.ts';
import { makeCsv } from '../../../io/csv.ts';
import { makeReportHtml } from '../../../report/html.ts';
import { makeHeatmap, makeLinePlot } from '../../../report/svg.ts';
import { makeRateCircuit, rateParameters } from '../params.ts';
import type { Circuit } from '../circuit.ts';
import { classifyWilsonCowan, contrast, contrastGainTheory, lateralRegimeBoundary } from '../analysis.ts';
import { integrateRateBatch, makeInitialStates, makeOutcome } from '../experiment.ts';
import type { Reproduction, ReproductionContext } from '../../../core/contract.ts';
import { resolveSeed } from '../../../core/request.ts';
import { checksSection } from '../../../report/checks.ts';

const regimes = ['unique-stable', 'inhibition-stabilised', 'bistable', 'oscillatory', 'runaway'] as const;
type Regime = (typeof regimes)[number];

function linspace(a: number, b: number, k: number): number[] {
  return Array.from({ length: k }, (_, i) => (k === 1 ? a : a + ((b - a) * i) / (k - 1)));
}

/** Integrates `copies` initial states of each circuit in one batch; returns per-circuit outcomes. */
async function simulateMany(c: ReproductionContext, circuits: Circuit[], copies: number, T: number, dt: number) {
  const n = circuits[0].n;
  const scale = 2 * Math.max(1, ...circuits.flatMap((k) => Array.from(k.u).map(Math.abs)));
  const x0One = makeInitialStates(n, copies, scale, resolveSeed(c.seed).key);
  const x0 = new Float32Array(circuits.length * copies * n);
  for (let i = 0; i < circuits.length; i++) x0.set(x0One, i * copies * n);
  const steps = Math.round(T / dt);
  const r = await integrateRateBatch(
    { circuits: circuits.flatMap((k) => Array.from({ length: copies }, () => k)), x0, dt, steps, method: 'rk4', sampleEvery: Math.max(1, Math.floor(steps / 20)) },
    { backend: c.backend, ctx: c.ctx, threads: c.threads }, c.onProgress,
  );
  const out = makeOutcome(r, n, circuits.length * copies);
  return circuits.map((_, i) => ({
    finals: out.finals.slice(i * copies, (i + 1) * copies),
    converged: out.converged.slice(i * copies, (i + 1) * copies),
  }));
}

/** Regime read off simulations from several initial states (E = neuron 0). */
function simulatedRegime(o: { finals: number[][]; converged: boolean[] }, wEE: number, xmax: number): Regime {
  if (o.finals.some((f) => f[0] >= 0.99 * xmax)) return 'runaway';
  if (o.converged.some((v) => !v)) return 'oscillatory';
  const spread = Math.max(...o.finals.map((f) => Math.hypot(f[0] - o.finals[0][0], f[1] - o.finals[0][1])));
  if (spread > 1e-3 * Math.max(1, Math.hypot(o.finals[0][0], o.finals[0][1]))) return 'bistable';
  return wEE > 1 && o.finals[0][0] > 1e-9 ? 'inhibition-stabilised' : 'unique-stable';
}

export const rateWilsonCowan: Reproduction = {
  id: 'rate-wilson-cowan',
  title: 'Wilson-Cowan pair: the self-excitation w_EE switches between unique stability and inhibition-stabilised / unstable regimes',
  source: 'Betteti et al. 2025 (arXiv 2512.05252), reconstructed from the abstract; experiment 1 of docs/models/rate-circuits.md',
  description:
    'Phase diagram over (w_EE, w_EI w_IE) with w_EI = w_IE, w_II = 0.5, u = (1, 0), clip at x_max = 50: every grid point is integrated from 3 ' +
    'initial states in one batched dispatch and classified from the trajectories; the direct analysis (equilibria as Nash/LCP solutions, ' +
    'Jacobian eigenvalues, LDS) classifies the same points. The LDS boundary of T^-1(W - I) is w_EE = 1.',
  async run(c) {
    const G = c.quick ? 14 : 100;
    const xmax = 50;
    const wEEs = linspace(0, 3, G);
    const prods = linspace(0, 6, G);
    const params = prods.flatMap((pr) => wEEs.map((wEE) => resolveParams('rate', rateParameters, { circuit: 'wilson-cowan', wEE, wEI: Math.sqrt(pr), wIE: Math.sqrt(pr), wII: 0.5, uE: 1, uI: 0, activation: 'clip', xmax })));
    const circuits = params.map(makeRateCircuit);
    // T = 200: slow modes near w_EE = 1 (decay rate 1 - w_EE) must settle before they are classified.
    const sims = await simulateMany(c, circuits, 3, 200, 0.02);
    const sim = sims.map((o, i) => simulatedRegime(o, params[i].wEE as number, xmax));
    const th = circuits.map((k) => classifyWilsonCowan(k).regime as Regime);
    const agree = sim.filter((s, i) => s === th[i]).length / sim.length;
    const below = sim.filter((s, i) => (params[i].wEE as number) < 1);
    const belowUnique = below.filter((s) => s === 'unique-stable').length / Math.max(1, below.length);
    const counts = Object.fromEntries(regimes.map((r) => [r, sim.filter((s) => s === r).length]));
    c.out.write('phase-diagram.csv', makeCsv(['wEE', 'wEIwIE', 'simulatedRegime', 'theoryRegime'], params.map((p, i) => [p.wEE as number, (p.wEI as number) * (p.wIE as number), sim[i], th[i]])));
    const svg = makeHeatmap({
      title: 'Wilson-Cowan regimes from simulation (codes below)',
      x: { label: 'w_EE', unit: '' },
      y: { label: 'w_EI w_IE', unit: '' },
      xValues: wEEs,
      yValues: prods,
      z: sim.map((s) => regimes.indexOf(s)),
      zLabel: 'regime code',
      zMin: 0,
      zMax: 4,
      contours: [{ name: 'LDS boundary w_EE = 1', x: [1, 1], y: [0, 6] }],
      notes: [regimes.map((r, i) => `${i} = ${r}`).join(', ')],
    });
    c.out.write('phase-diagram.svg', svg);

    // Phase portraits: one parameter point per regime, trajectories from 6 initial states.
    const examples = [
      { name: 'unique-stable', wEE: 0.5, prod: 2 },
      { name: 'inhibition-stabilised', wEE: 1.5, prod: 4 },
      { name: 'oscillatory', wEE: 2.8, prod: 5 },
      { name: 'runaway', wEE: 2.5, prod: 0.5 },
    ];
    const portraits: string[] = [];
    for (const ex of examples) {
      const circuit = makeRateCircuit(resolveParams('rate', rateParameters, { circuit: 'wilson-cowan', wEE: ex.wEE, wEI: Math.sqrt(ex.prod), wIE: Math.sqrt(ex.prod), wII: 0.5, uE: 1, uI: 0, activation: 'clip', xmax }));
      const k = 6;
      const steps = 3000;
      const r = await integrateRateBatch({ circuits: Array.from({ length: k }, () => circuit), x0: makeInitialStates(2, k, 4, resolveSeed(c.seed).key), dt: 0.01, steps, method: 'rk4', sampleEvery: 10 }, { backend: c.backend, ctx: c.ctx, threads: c.threads });
      const rows = r.sampleSteps.length;
      const portrait = makeLinePlot({
        title: `${ex.name}: w_EE = ${ex.wEE}, w_EI w_IE = ${ex.prod}`,
        x: { label: 'x_E', unit: '' },
        y: { label: 'x_I', unit: '' },
        series: Array.from({ length: k }, (_, j) => ({
          name: `x0 #${j}`,
          x: Array.from({ length: rows }, (_, t) => r.samples![(t * k + j) * 2]),
          y: Array.from({ length: rows }, (_, t) => r.samples![(t * k + j) * 2 + 1]),
          style: 'line' as const,
        })),
        legend: 'none',
      });
      c.out.write(`portrait-${ex.name}.svg`, portrait);
      portraits.push(portrait);
    }
    const checks = [
      { name: 'below the switch (w_EE < 1) every input has one stable equilibrium', expected: 'all simulated points unique-stable (LDS holds there)', measured: `${(100 * belowUnique).toFixed(1)}% of ${below.length} points`, pass: belowUnique === 1 },
      { name: 'above the switch stability needs inhibition or fails', expected: 'inhibition-stabilised and unstable (runaway/bistable/oscillatory) points both present for w_EE > 1', measured: JSON.stringify(counts), pass: counts['inhibition-stabilised'] > 0 && counts.runaway + counts.bistable + counts.oscillatory > 0 },
      // Finite T misclassifies points next to bifurcations (slow convergence); 90% agreement leaves room for one grid cell along each boundary.
      { name: 'simulation agrees with the direct analysis', expected: '>= 90% of grid points in the same regime', measured: `${(100 * agree).toFixed(1)}%`, pass: agree >= 0.9 },
    ];
    c.out.write('report.html', makeReportHtml({ title: this.title, subtitle: this.description, sections: [checksSection(checks), { heading: 'Phase diagram', svg }, ...portraits.map((p, i) => ({ heading: `Phase portrait: ${examples[i].name}`, svg: p }))], meta: { grid: G, backend: c.backend, seed: c.seed } }));
    return { summary: { grid: G, counts, agreement: agree }, checks };
  },
};

const lateralSets = [
  { name: 'soft, wEE = 0.2', wEE: 0.2 },
  { name: 'soft, wEE = 0.4', wEE: 0.4 },
  { name: 'soft, wEE = 0.5', wEE: 0.5 },
  { name: 'winner-take-all, wEE = 0.8', wEE: 0.8 },
];

const legendKeys = [{ name: 'simulation', kind: 'points' as const }, { name: 'theory', kind: 'line' as const }];

/** A fine grid on [lo, hi] through the given breakpoints, so a piecewise-linear theory is drawn through its corners. */
function theoryGrid(lo: number, hi: number, breaks: number[], n = 121): number[] {
  const xs = linspace(lo, hi, n).concat(breaks.filter((b) => b > lo && b < hi));
  return [...new Set(xs)].sort((a, b) => a - b);
}

export const rateLateral: Reproduction = {
  id: 'rate-lateral',
  title: 'Lateral inhibition: output vs input contrast, the derived contrast gain, and soft vs winner-take-all competition at the LDS boundary',
  source: 'Betteti et al. 2025 (reconstructed); experiment 2 of docs/models/rate-circuits.md',
  description:
    'Two channels (wIE = 1, wEI = 0.5, wII = 0.5, total input 2): C_out against C_in for four w_EE, with the derived gain ' +
    'G = (1 - wEE + b)/(1 - wEE - b), b = wEI wIE/(1 + wII), drawn over the simulation (C_out = clamp(G C_in)); then w_EE is swept at C_in = 0 ' +
    'from a random initial state to find where competition turns winner-take-all, against the LDS boundary w_EE* = 1 - b.',
  async run(c) {
    const base = { circuit: 'lateral', channels: 2, wIE: 1, wEI: 0.5, wII: 0.5, uE: 1, activation: 'relu' };
    const cIns = linspace(0, 0.6, c.quick ? 7 : 25);
    const params = lateralSets.flatMap((s) => cIns.map((cIn) => resolveParams('rate', rateParameters, { ...base, wEE: s.wEE, contrast: cIn })));
    const sims = await simulateMany(c, params.map(makeRateCircuit), 2, 80, 0.01);
    const rows: (number | string)[][] = [];
    let softErr = 0;
    let wtaOk = true;
    const series = lateralSets.flatMap((s, si) => {
      const meas: number[] = [];
      const theo: number[] = [];
      cIns.forEach((cIn, j) => {
        const f = sims[si * cIns.length + j].finals[1];
        const cOut = contrast(f[0], f[1]);
        const th = contrastGainTheory({ wEE: s.wEE, wIE: 1, wEI: 0.5, wII: 0.5 }, cIn);
        meas.push(cOut);
        theo.push(th.cOut);
        rows.push([s.wEE, cIn, cOut, th.cOut, th.regime]);
        if (th.regime === 'winner-take-all') wtaOk &&= Math.abs(Math.abs(cOut) - 1) < 1e-3;
        else softErr = Math.max(softErr, Math.abs(cOut - th.cOut));
      });
      // The theory line is piecewise linear with a clamp at G C_in = 1: sample it finely and through that corner.
      const gain = contrastGainTheory({ wEE: s.wEE, wIE: 1, wEI: 0.5, wII: 0.5 }, 0).gain;
      const tx = theoryGrid(cIns[0], cIns[cIns.length - 1], Number.isFinite(gain) && gain > 0 ? [1 / gain] : []);
      const ty = tx.map((cIn) => contrastGainTheory({ wEE: s.wEE, wIE: 1, wEI: 0.5, wII: 0.5 }, cIn).cOut);
      return [
        { name: `${s.name} (theory)`, group: s.name, x: tx, y: ty, style: 'line' as const },
        { name: `${s.name} (simulation)`, group: s.name, x: cIns, y: meas, style: 'points' as const },
      ];
    });
    c.out.write('contrast.csv', makeCsv(['wEE', 'contrastIn', 'contrastOut', 'contrastOutTheory', 'regimeTheory'], rows));
    const svg = makeLinePlot({ title: 'Output contrast vs input contrast', x: { label: 'input contrast C_in', unit: '' }, y: { label: 'output contrast C_out', unit: '' }, series, legendKeys });
    c.out.write('contrast.svg', svg);

    // Soft vs winner-take-all along w_EE at C_in = 0, from a random initial state.
    const wEEs = linspace(0, 1, c.quick ? 21 : 101);
    const sweep = wEEs.map((wEE) => resolveParams('rate', rateParameters, { ...base, wEE, contrast: 0 }));
    const sweepSims = await simulateMany(c, sweep.map(makeRateCircuit), 2, 200, 0.01);
    const wta = sweepSims.map((o) => Math.abs(contrast(o.finals[1][0], o.finals[1][1])) > 0.99);
    const firstWta = wEEs[wta.findIndex((v) => v)] ?? NaN;
    const boundary = lateralRegimeBoundary({ wEE: 0, wIE: 1, wEI: 0.5, wII: 0.5 }).wEEcritical;
    const step = wEEs[1] - wEEs[0];
    const monotone = wta.every((v, i) => !v || wta.slice(i).every(Boolean));
    c.out.write('competition.csv', makeCsv(['wEE', 'winnerTakeAll'], wEEs.map((w, i) => [w, wta[i] ? 1 : 0])));
    const competitionSvg = makeLinePlot({
      title: 'Soft vs winner-take-all competition at C_in = 0',
      x: { label: 'self-excitation w_EE', unit: '' },
      y: { label: 'final |C_out|', unit: '' },
      series: [
        // At C_in = 0 soft competition keeps C_out = 0; from the LDS boundary on one channel wins (|C_out| = 1).
        { name: 'theory', group: `C_in = 0 (boundary w_EE* = ${boundary.toFixed(3)})`, x: [wEEs[0], boundary, boundary, wEEs[wEEs.length - 1]], y: [0, 0, 1, 1], style: 'line' },
        { name: 'simulation', group: `C_in = 0 (boundary w_EE* = ${boundary.toFixed(3)})`, x: wEEs, y: sweepSims.map((o) => Math.abs(contrast(o.finals[1][0], o.finals[1][1]))), style: 'points' },
      ],
      legendKeys,
      notes: [`random initial state (seed ${c.seed}), ${wEEs.length} values of w_EE; winner-take-all: |C_out| > 0.99`],
    });
    c.out.write('competition.svg', competitionSvg);
    const checks = [
      { name: 'contrast gain in soft competition', expected: 'C_out = clamp(G C_in) within 0.01', measured: `max |error| ${softErr.toExponential(2)}`, pass: softErr < 0.01 },
      { name: 'winner-take-all beyond the LDS boundary', expected: '|C_out| = 1 for every C_in at wEE = 0.8', measured: wtaOk ? 'all |C_out| = 1' : 'some |C_out| < 1', pass: wtaOk },
      { name: 'soft / winner-take-all boundary = LDS boundary', expected: `w_EE* = 1 - b = ${boundary.toFixed(4)}`, measured: `first winner-take-all at w_EE = ${firstWta.toFixed(4)} (grid step ${step.toFixed(3)})`, pass: monotone && Math.abs(firstWta - boundary) <= step + 1e-9 },
    ];
    c.out.write('report.html', makeReportHtml({ title: this.title, subtitle: this.description, sections: [checksSection(checks), { heading: 'Contrast', svg }, { heading: 'Soft vs winner-take-all competition', text: 'w_EE swept at C_in = 0 from a random initial state: the final |C_out| (0: both channels active, 1: one channel wins) against the LDS boundary w_EE* = 1 - b.', svg: competitionSvg }], meta: { backend: c.backend, seed: c.seed } }));
    return { summary: { boundaryTheory: boundary, boundarySimulated: firstWta, maxSoftError: softErr }, checks };
  },
};

export const rateColumn: Reproduction = {
  id: 'rate-column',
  title: 'Cortical column: a small input contrast is sharpened layer by layer',
  source: 'Betteti et al. 2025 (reconstructed); experiment 3 of docs/models/rate-circuits.md',
  description: 'Five stacked two-channel microcircuits (wEE = 0.2, wIE = 1, wEI = 0.5, wII = 0.5, wFF = 1), input contrast 0.01: the contrast after layer l against G^(l+1) C_in.',
  async run(c) {
    const layers = 5;
    const p = resolveParams('rate', rateParameters, { circuit: 'column', layers, channels: 2, wEE: 0.2, wIE: 1, wEI: 0.5, wII: 0.5, wFF: 1, uE: 1, contrast: 0.01, activation: 'relu' });
    const [o] = await simulateMany(c, [makeRateCircuit(p)], 1, 120, 0.01);
    const f = o.finals[0];
    const G = contrastGainTheory({ wEE: 0.2, wIE: 1, wEI: 0.5, wII: 0.5 }, 0.01).gain;
    const per = Array.from({ length: layers }, (_, l) => contrast(f[l * 4], f[l * 4 + 1]));
    const theory = per.map((_, l) => Math.max(-1, Math.min(1, G ** (l + 1) * 0.01)));
    const err = Math.max(...per.map((x, l) => Math.abs(x - theory[l])));
    c.out.write('column.csv', makeCsv(['layer', 'contrast', 'contrastTheory'], per.map((x, l) => [l + 1, x, theory[l]])));
    const svg = makeLinePlot({ title: 'Contrast by layer', x: { label: 'layer', unit: '' }, y: { label: 'contrast', unit: '', log: true }, series: [{ name: 'simulation', x: per.map((_, l) => l + 1), y: per, style: 'points' }, { name: 'G^l C_in', x: per.map((_, l) => l + 1), y: theory, style: 'line' }] });
    c.out.write('column.svg', svg);
    const checks = [
      { name: 'sharpening by the contrast gain per layer', expected: `C_l = G^l C_in with G = ${G.toFixed(4)}, within 1e-3`, measured: `max |error| ${err.toExponential(2)}`, pass: err < 1e-3 },
      { name: 'contrast increases with depth', expected: 'strictly increasing', measured: per.map((x) => x.toFixed(4)).join(' < '), pass: per.every((x, l) => l === 0 || x > per[l - 1]) },
    ];
    c.out.write('report.html', makeReportHtml({ title: this.title, subtitle: this.description, sections: [checksSection(checks), { heading: 'Contrast by layer', svg }], meta: { backend: c.backend, seed: c.seed } }));
    return { summary: { gain: G, contrastPerLayer: per, theory }, checks };
  },
};
