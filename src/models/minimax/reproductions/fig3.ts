// Fig. 3 of Li & Pehlevan 2020, redesigned: an associative memory whose stored patterns are stable KKT points of the
// minimax objective (weights designed by projections, see src/models/minimax/networks.ts), recalled by the spiking
// network from noisy cues.
import { makeCsv } from '../../../io/csv.ts';
import { makeReportHtml } from '../../../report/html.ts';
import { makeHeatmap } from '../../../report/svg.ts';
import { runMinimaxSpec } from '../runner.ts';
import { makeMemoryNetwork, memoryBackgroundRates, memoryCueRates } from '../networks.ts';
import type { Reproduction } from '../../../core/contract.ts';
import { minimaxCpuBeatsSoftware } from '../params.ts';
import { fmt, makeRasterPlot, minimaxSource, quickNote, type Check } from './shared.ts';
import { checksSection } from '../../../report/checks.ts';

const cosine = (a: ArrayLike<number>, b: ArrayLike<number>): number => {
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < a.length; i++) {
    ab += a[i] * b[i];
    aa += a[i] * a[i];
    bb += b[i] * b[i];
  }
  return aa > 0 && bb > 0 ? ab / Math.sqrt(aa * bb) : 0;
};

// The module's default design (see MemoryOptions for why these defaults: a synchronous spiking network needs small per-spike weights).
export const minimaxFig3: Reproduction = {
  id: 'minimax-fig3',
  title: 'Minimax spiking associative memory: stored patterns are KKT points, recalled from noisy cues',
  source: `${minimaxSource}; experiment 3 (their Fig. 3, weights redesigned: the authors' learned weights are not reproducible)`,
  cpuBeatsSoftware: minimaxCpuBeatsSoftware,
  description:
    'NE = 100, NI = 20, 5 stored patterns with supports of 10 neurons (pairwise overlap <= 2) at 100 Hz (tau = 1 s), background input 220 Hz. W_EE is designed so that every ' +
    'pattern is a KKT point with off-support margin and a positive-definite reduced Hessian (Hebbian start, alternating projections; documented in ' +
    'networks.ts). Each cue drops 30 % of the support and adds 3 spurious neurons, as extra Poisson input for 3 s on top of the uniform background; then ' +
    '10 s of background only. Recall = the rate vector over the last 5 s is closest (cosine) to the cued pattern and its active set (rate > half the ' +
    'pattern rate) equals the stored support. dt = 1e-3 s. --quick: 2 cues per pattern, 6 s free.',
  async run(c) {
    const mem = makeMemoryNetwork(c.seed);
    const { network } = mem;
    const P = mem.patterns.length;
    const cuesPerPattern = c.quick ? 2 : 4;
    const dt = 1e-3;
    const tau = mem.tau;
    const cueSteps = Math.round(3 / dt);
    const freeSteps = Math.round((c.quick ? 6 : 10) / dt);
    const steps = cueSteps + freeSteps;
    const nE = network.nE;
    const background = memoryBackgroundRates(mem, tau);
    const trials = Array.from({ length: P * cuesPerPattern }, (_, q) => {
      const pattern = Math.floor(q / cuesPerPattern);
      const cue = memoryCueRates(mem, pattern, { seed: c.seed * 1000 + q, tauX: tau });
      const rates = new Float64Array(2 * nE);
      rates.set(cue.rates, 0);
      rates.set(background, nE);
      return { pattern, cued: cue.cued, rates };
    });
    const res = await runMinimaxSpec(
      {
        networks: [network],
        instances: trials.map((t, b) => ({ network: 0, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: t.rates, segments: 2, segmentSteps: cueSteps, measureFrom: steps - Math.round((c.quick ? 3 : 5) / dt), instanceId: b })),
        steps,
        seed: c.seed,
        raster: { from: 0, steps },
      },
      { backend: c.backend, ctx: c.ctx, threads: c.threads },
      { onProgress: c.onProgress },
    );
    const N = network.nE + network.nI;
    const patternHz = mem.level / tau;
    const rows = trials.map((t, b) => {
      const ratesHz = Array.from(res.meanTrace.subarray(b * N, b * N + nE), (r) => r / tau);
      const sims = mem.patterns.map((p) => cosine(ratesHz, p));
      const best = sims.indexOf(Math.max(...sims));
      const active = ratesHz.flatMap((r, i) => (r > 0.5 * patternHz ? [i] : []));
      const support = mem.supports[t.pattern];
      const supportMatch = active.length === support.length && active.every((i, k) => i === support[k]);
      const cueVector = Array.from({ length: nE }, (_, i) => (t.cued.includes(i) ? 1 : 0));
      const patternMeanHz = support.reduce((s, i) => s + ratesHz[i], 0) / support.length;
      return { trial: b, pattern: t.pattern, recalled: best, cosine: sims[t.pattern], cueCosine: cosine(cueVector, mem.patterns[t.pattern]), supportMatch, active: active.length, patternMeanHz, ratesHz };
    });
    const recallAccuracy = rows.filter((r) => r.recalled === r.pattern && r.supportMatch).length / rows.length;
    const meanCosine = rows.reduce((s, r) => s + r.cosine, 0) / rows.length;
    const meanCueCosine = rows.reduce((s, r) => s + r.cueCosine, 0) / rows.length;
    const maxResidual = Math.max(...mem.checks.map((k) => k.kktResidual));
    const minMargin = Math.min(...mem.checks.map((k) => k.offSupportMargin));
    const minHessian = Math.min(...mem.checks.map((k) => k.hessianMinEig));
    c.out.write('recall.csv', makeCsv(['trial', 'pattern', 'recalled', 'cosineToPattern', 'cueCosine', 'supportMatch', 'activeNeurons', 'patternMeanHz'], rows.map((r) => [r.trial, r.pattern, r.recalled, r.cosine, r.cueCosine, r.supportMatch ? 1 : 0, r.active, r.patternMeanHz])));
    c.out.write('patterns.csv', makeCsv(['pattern', 'support'], mem.supports.map((s, mu) => [mu, s.join(' ')])));
    const heat = makeHeatmap({
      title: 'Recalled E rates per trial (last seconds)',
      x: { label: 'E neuron', unit: '' },
      y: { label: 'trial (pattern-major)', unit: '' },
      xValues: Array.from({ length: nE }, (_, i) => i),
      yValues: rows.map((r) => r.trial),
      z: rows.flatMap((r) => r.ratesHz),
      zLabel: 'rate',
      zUnit: 'Hz',
    });
    const raster = makeRasterPlot(res, 0, 'Raster of trial 0: cue (0-3 s) then recall', dt, 0, { maxPoints: 30000 });
    c.out.write('recall.svg', heat);
    c.out.write('raster.svg', raster);
    const checks: Check[] = [
      { name: 'stored patterns are KKT points of the objective', expected: 'KKT residual < 1e-8 at every pattern', measured: fmt(maxResidual), pass: maxResidual < 1e-8 },
      { name: 'stored patterns are stable KKT points', expected: 'off-support margin > 0 and reduced Hessian on the support positive definite', measured: `min margin ${fmt(minMargin)}, min eigenvalue ${fmt(minHessian)}`, pass: minMargin > 0 && minHessian > 0 },
      { name: 'noisy cues are recalled', expected: '>= 90 % of trials end on the cued pattern with its exact support', measured: `${fmt(100 * recallAccuracy, 1)} % of ${rows.length} trials (mean cosine ${fmt(meanCosine, 3)} vs cue ${fmt(meanCueCosine, 3)})`, pass: recallAccuracy >= 0.9 },
    ];
    c.out.write('report.html', makeReportHtml({
      title: 'minimax-fig3: associative memory',
      subtitle: this.title,
      sections: [
        { heading: 'Run', text: `${quickNote(c.quick, `${rows.length} cued trials, ${steps} steps`)}\n\n${this.description}` },
        checksSection(checks),
        { heading: 'Design', table: { columns: ['quantity', 'value'], rows: Object.entries(mem.design).map(([k, v]) => [k, fmt(v as number, 4)]) } },
        { heading: 'Recall', svg: heat },
        { heading: 'Raster', svg: raster },
      ],
      meta: { seed: c.seed, backend: c.backend, quick: c.quick, steps, wallSeconds: res.wallSeconds },
    }));
    return {
      summary: { recallAccuracy, meanCosine, meanCueCosine, maxKktResidual: maxResidual, minOffSupportMargin: minMargin, minHessianEig: minHessian, design: mem.design, trials: rows.map(({ ratesHz: _r, ...r }) => r), steps, simulationSeconds: res.wallSeconds },
      checks,
    };
  },
};
