// The live poisson page: independent Poisson neurons; raster of the recorded neurons, the population rate and the
// potential's mean and variance next to the exact theory (src/models/poisson/theory.ts), all updated while it runs.
import type { ResolvedRun } from '../../src/core/contract.ts';
import type { PoissonResolved } from '../../src/models/poisson/experiment.ts';
import { poissonTheoryAtStep } from '../../src/models/poisson/population.ts';
import type { RecordChunk } from '../../src/models/poisson/simulation.ts';
import { mountLivePage } from './live-page.ts';
import { BinnedSeries, binSteps } from './series.ts';

/** Neurons in the raster (the recorder holds at most 4096). */
const rasterNeurons = 1000;
/** Steps of the page's default run (T = 0.1 s at dt = 1e-4 s), and the wall time a run should take. */
const runSteps = 1000;
const runSeconds = 10;

void mountLivePage(document.getElementById('app')!, {
  model: 'poisson',
  controls: ['rIn', 'w', 'theta', 'sigmoid', 'tau', 'numax'],
  options: ['n', 'T'],
  initial: { T: '0.1', burnin: '0.02' },
  fixed: { recordSpikes: rasterNeurons, recordTraces: 0 },
  warmup: {
    request: { n: 2000, steps: 50, recordSpikes: 0, recordTraces: 0, params: { burnin: 0 } },
    choose(t) {
      const n = Math.max(1000, Math.min(1_000_000, Number(((t.unitsPerSecond * runSeconds) / runSteps).toPrecision(2))));
      return { values: { n: String(n) }, why: `n = ${n}: ${runSteps} steps take about ${runSeconds} s at this rate (clamped to [1e3, 1e6])` };
    },
  },
  async createView(ctx) {
    const raster = await ctx.raster(`Spikes of the first ${rasterNeurons} neurons (WebGPU points; time in s)`);
    const rateChart = ctx.chart({ title: 'Population rate', xLabel: 't (s)', yLabel: 'rate (Hz)' });
    const momentChart = ctx.chart({ title: 'Potential u: population mean and variance', xLabel: 't (s)', yLabel: 'u' });
    const note = ctx.note();
    let r: PoissonResolved;
    let rate: BinnedSeries, mean: BinnedSeries, variance: BinnedSeries;
    let theory: { t: number[]; rate: number[]; mean: number[]; variance: number[] };
    let spikes = 0;
    let steps = 0;
    return {
      reset(run: ResolvedRun) {
        r = run as PoissonResolved;
        const every = binSteps(r.steps);
        rate = new BinnedSeries(every);
        mean = new BinnedSeries(every);
        variance = new BinnedSeries(every);
        // The exact transient of the discretised potential and its Gaussian-approximation rate, on the same grid.
        theory = { t: [], rate: [], mean: [], variance: [] };
        const p = r.params[0];
        for (let s = 0; s < r.steps; s += every) {
          const th = poissonTheoryAtStep(p, r.dt, s);
          theory.t.push((s + 0.5) * r.dt);
          theory.rate.push(th.rateHz);
          theory.mean.push(th.meanU);
          theory.variance.push(th.varU);
        }
        spikes = steps = 0;
        raster.clear();
        raster.setWindow({ t0: 0, t1: r.steps * r.dt, neurons: Math.min(rasterNeurons, r.n), firstInhibitory: Infinity });
        note.textContent = 'Theory: exact mean and variance of the discretised potential, rate E[f(u)] for Gaussian u (dashed).';
      },
      chunk(c) {
        const k = c as RecordChunk;
        const pts: number[] = [];
        for (let s = 0; s < k.steps; s++) {
          const step = k.stepStart + s;
          const t = (step + 0.5) * r.dt;
          // Instance 0 (the page runs one).
          rate.push(t, k.counts[s * k.batch] / (r.n * r.dt));
          mean.push((step + 1) * r.dt, k.population[s * k.batch * 4]);
          variance.push((step + 1) * r.dt, k.population[s * k.batch * 4 + 1]);
          spikes += k.counts[s * k.batch];
          if (k.spikeBits) {
            for (let w = 0; w < k.spikeWords; w++) {
              let bits = k.spikeBits[s * k.batch * k.spikeWords + w];
              while (bits) {
                const j = 31 - Math.clz32(bits & -bits);
                bits &= bits - 1;
                pts.push(t, w * 32 + j);
              }
            }
          }
        }
        steps += k.steps;
        raster.append(Float32Array.from(pts));
      },
      draw() {
        raster.draw();
        const done = steps * r.dt;
        const upTo = (xs: number[]) => xs.findIndex((x) => x > done);
        const cut = upTo(theory.t) < 0 ? theory.t.length : upTo(theory.t);
        rateChart.set([
          { name: 'simulation', color: '#1c5cad', x: rate.x, y: rate.y },
          { name: 'theory', color: '#111', x: theory.t.slice(0, cut), y: theory.rate.slice(0, cut), style: 'dashed' },
        ]);
        rateChart.setOptions({ xRange: [0, r.steps * r.dt] });
        rateChart.draw();
        momentChart.set([
          { name: 'mean u', color: '#1c5cad', x: mean.x, y: mean.y },
          { name: 'mean (theory)', color: '#0b2a55', x: theory.t.slice(0, cut), y: theory.mean.slice(0, cut), style: 'dashed' },
          { name: 'var u', color: '#c0392b', x: variance.x, y: variance.y },
          { name: 'var (theory)', color: '#6e1a12', x: theory.t.slice(0, cut), y: theory.variance.slice(0, cut), style: 'dashed' },
        ]);
        momentChart.setOptions({ xRange: [0, r.steps * r.dt] });
        momentChart.draw();
        const simRate = steps > 0 ? spikes / (r.n * steps * r.dt) : NaN;
        note.textContent = `${spikes} spikes in ${steps} steps: ${simRate.toFixed(2)} Hz per neuron; theory at the last step ${theory.rate[Math.max(0, cut - 1)]?.toFixed(2)} Hz (dashed: exact moments, Gaussian-approximation rate).`;
      },
    };
  },
});
