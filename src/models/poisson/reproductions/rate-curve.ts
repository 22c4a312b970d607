// Reproduction `poisson-rate-curve`: stationary moments and rate of the Poisson neuron across input rates, against theory.
import { runExperiment } from '../experiment.ts';
import { makeCsv } from '../../../io/csv.ts';
import { makeLinePlot } from '../../../report/svg.ts';
import { makeReportHtml } from '../../../report/html.ts';
import type { Reproduction } from '../../../reproduce/registry.ts';

/** Input rates swept (Hz), log-spaced: from sub-threshold to saturating drive. */
function inputRates(count: number): number[] {
  return Array.from({ length: count }, (_, i) => Number((500 * Math.pow(20, i / (count - 1))).toPrecision(6)));
}

export const poissonRateCurve: Reproduction = {
  id: 'poisson-rate-curve',
  title: 'Poisson neuron: stationary mean, variance and rate of u versus input rate',
  source: 'foundation check (the hybrid model\'s building block); theory: exact moments of the discretised process, Gaussian-approximation rate',
  description:
    'Sweeps the input rate rIn over 12 log-spaced values (500 Hz to 10 kHz), all as instances of one batched dispatch, ' +
    'and compares the time-averaged population mean and variance of u with their exact stationary values and the firing ' +
    'rate with E[f(u)], u ~ N(m, v). Both sigmoids are run.',
  async run(c) {
    const rates = inputRates(c.quick ? 5 : 12);
    const n = c.quick ? 1000 : 20_000;
    const T = c.quick ? 0.25 : 2;
    const rows: (number | string)[][] = [];
    const perSigmoid: Record<string, { rIn: number; sim: Record<string, number>; theory: Record<string, number> }[]> = {};
    const sigmoids = ['probit', 'logistic'];
    for (let si = 0; si < sigmoids.length; si++) {
      const sigmoid = sigmoids[si];
      const r = await runExperiment({
        set: { sigmoid, burnin: 0.1 },
        instances: rates.map((rIn) => ({ rIn })),
        n,
        T,
        seed: c.seed,
        backend: c.backend,
        ctx: c.ctx ?? undefined,
        threads: c.threads,
        recordEvery: Number.MAX_SAFE_INTEGER,
        onProgress: (d, t) => c.onProgress(si * t + d, sigmoids.length * t),
      });
      perSigmoid[sigmoid] = r.instances.map((s, i) => ({ rIn: rates[i], sim: { ...s.sim }, theory: { ...s.theory, spikeCountZ: s.spikeCountZ } }));
      r.instances.forEach((s, i) => rows.push([sigmoid, rates[i], s.sim.meanU, s.theory.meanU, s.sim.varU, s.theory.varU, s.sim.rateHz, s.theory.rateHz, s.sim.intensityHz, s.spikeCountZ]));
    }
    c.out.write('rate-curve.csv', makeCsv(['sigmoid', 'rIn', 'meanU', 'meanUTheory', 'varU', 'varUTheory', 'rateHz', 'rateHzTheory', 'intensityHz', 'spikeCountZ'], rows, { rIn: 'Hz' }));
    const figs = sigmoids.map((sg) => {
      const d = perSigmoid[sg];
      return makeLinePlot({
        title: `Firing rate versus input rate (${sg} intensity)`,
        x: { label: 'input rate rIn', unit: 'Hz', log: true },
        y: { label: 'firing rate', unit: 'Hz' },
        series: [
          { name: 'simulation', x: d.map((e) => e.rIn), y: d.map((e) => e.sim.rateHz), style: 'points' },
          { name: 'theory E[f(u)], u Gaussian', x: d.map((e) => e.rIn), y: d.map((e) => e.theory.rateHz), style: 'line' },
        ],
        notes: [`n = ${n}, T = ${T} s, burn-in 0.1 s, seed ${c.seed}`],
      });
    });
    const mFig = makeLinePlot({
      title: 'Stationary mean of u versus input rate',
      x: { label: 'input rate rIn', unit: 'Hz', log: true },
      y: { label: 'mean u', unit: '' },
      series: [
        { name: 'simulation (probit)', x: rates, y: perSigmoid.probit.map((e) => e.sim.meanU), style: 'points' },
        { name: 'exact tau (mu + w rIn)', x: rates, y: perSigmoid.probit.map((e) => e.theory.meanU), style: 'line' },
      ],
    });
    figs.forEach((svg, i) => c.out.write(`rate-${sigmoids[i]}.svg`, svg));
    c.out.write('mean-u.svg', mFig);

    // Tolerances: the time average over T - burnin of a population mean of n neurons has a standard error
    // of about sqrt(v / n * 2 tau / T) (< 0.3% of the mean here); we allow 1% (mean) and 3% (variance). The rate
    // also carries the Gaussian approximation's error (skewness ~ 1/sqrt(rIn tau)), hence 2% plus counting noise.
    const rel = (a: number, b: number) => Math.abs(a - b) / Math.max(Math.abs(b), 1e-12);
    const all = sigmoids.flatMap((sg) => perSigmoid[sg]);
    const maxMean = Math.max(...all.map((e) => rel(e.sim.meanU, e.theory.meanU)));
    const maxVar = Math.max(...all.map((e) => rel(e.sim.varU, e.theory.varU)));
    // Rate: 2% for the Gaussian approximation plus 4 Poisson standard errors of the spike count.
    const rateExcess = all.map((e) => {
      const expectedSpikes = e.theory.rateHz * n * (T - 0.1);
      const tol = 0.02 + 4 / Math.sqrt(Math.max(expectedSpikes, 1));
      return rel(e.sim.rateHz, e.theory.rateHz) / tol;
    });
    const worstRate = Math.max(...rateExcess);
    const maxZ = Math.max(...all.map((e) => Math.abs(e.theory.spikeCountZ)));
    const checks = [
      { name: 'stationary mean of u', expected: 'tau (mu + w rIn), within 1%', measured: `max relative error ${maxMean.toExponential(2)}`, pass: maxMean < 0.01 },
      { name: 'stationary variance of u', expected: 'w^2 rIn tau / (2 - dt/tau), within 3%', measured: `max relative error ${maxVar.toExponential(2)}`, pass: maxVar < 0.03 },
      { name: 'firing rate', expected: 'E[f(u)], u ~ N(m, v), within 2% + 4 Poisson s.e.', measured: `worst error ${worstRate.toFixed(2)} x its tolerance`, pass: worstRate < 1 },
      { name: 'spike counts given intensities', expected: '|z| < 4.5 for every instance (exact Poisson law)', measured: `max |z| ${maxZ.toFixed(2)}`, pass: maxZ < 4.5 },
    ];
    c.out.write('report.html', makeReportHtml({
      title: this.title,
      subtitle: this.description,
      sections: [
        { heading: 'Checks', table: { columns: ['claim', 'expected', 'measured', 'pass'], rows: checks.map((k) => [k.name, k.expected, k.measured, k.pass ? 'yes' : 'NO']) } },
        ...figs.map((svg, i) => ({ heading: `Rate curve, ${sigmoids[i]}`, svg })),
        { heading: 'Mean potential', svg: mFig },
      ],
      meta: { n, T, seed: c.seed, backend: c.backend, quick: c.quick },
    }));
    return { summary: { n, T, rates, results: perSigmoid }, checks };
  },
};
