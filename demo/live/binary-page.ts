// The live binary page: a binary E-I network's states, its active count and the entropy of its distribution next to
// the annealed Markov chain on m (src/models/binary/chain.ts), updated while it runs.
import type { ResolvedRun, Runner } from '../../src/core/contract.ts';
import { annealedChain, entropyBits, type AnnealedChainResult } from '../../src/models/binary/chain.ts';
import { binaryLambda, type BinaryChunk } from '../../src/models/binary/network.ts';
import type { BinaryResolved } from '../../src/models/binary/runner.ts';
import { mountLivePage } from './live-page.ts';
import { BinnedSeries, binSteps } from './series.ts';

/** Neurons in the state raster, steps of the page's default run and the wall time it should take. */
const rasterNeurons = 300;
const runSteps = 5000;
const runSeconds = 8;
/** The annealed chain's cost grows fast with N: the page stays where it solves in about a second. */
const maxN = 2000;

void mountLivePage(document.getElementById('app')!, {
  model: 'binary',
  controls: ['WE', 'WI', 'alpha', 'k', 'p0', 'connectivity'],
  options: ['n', 'steps'],
  initial: { steps: String(runSteps), burnin: '500' },
  // The state raster takes one column per slice.
  maxSlice: 25,
  warmup: {
    request: { n: 500, steps: 200, params: { burnin: 0 } },
    choose(t) {
      // Each slice also reads the state back and draws: about 2 ms of it per slice of 25 steps.
      const perStep = 1 / t.stepsPerSecond + 2e-3 / 25;
      const fit = Math.floor((runSeconds / runSteps / perStep) * 500);
      const n = Math.max(100, Math.min(maxN, Number(fit.toPrecision(2))));
      return { values: { n: String(n) }, why: `N = ${n}: ${runSteps} steps in about ${runSeconds} s at this rate (at most ${maxN}, where the annealed chain still solves in about a second)` };
    },
  },
  async createView(ctx) {
    const raster = await ctx.raster(`Active neurons among the first ${rasterNeurons} (E blue, I red), sampled every slice of at most 25 steps`);
    const activity = ctx.chart({ title: 'Active fraction m/N, against the chain mean (dashed)', xLabel: 'step', yLabel: 'm / N' });
    const hist = ctx.chart({ title: 'Distribution of m after the burn-in, against the annealed chain', xLabel: 'm (active neurons)', yLabel: 'probability' });
    const note = ctx.note();
    let r: BinaryResolved;
    let chain: AnnealedChainResult;
    let series: BinnedSeries;
    let histogram: Float64Array;
    let kept = 0;
    let steps = 0;
    return {
      reset(run: ResolvedRun) {
        r = run as BinaryResolved;
        chain = annealedChain(r.network);
        series = new BinnedSeries(binSteps(r.steps));
        histogram = new Float64Array(r.network.N + 1);
        kept = steps = 0;
        raster.clear();
        const shown = Math.min(rasterNeurons, r.network.N);
        // The last round(alpha N) neurons are inhibitory: in the first `shown` only if the network is that small.
        raster.setWindow({ t0: 0, t1: r.steps, neurons: shown, firstInhibitory: r.network.N - Math.round(r.network.alpha * r.network.N) });
      },
      chunk(c) {
        const k = c as BinaryChunk;
        for (let s = 0; s < k.steps; s++) {
          const step = k.stepStart + s + 1;
          const m = k.counts[s * k.batch];
          series.push(step, m / r.network.N);
          if (step > r.burnin) {
            histogram[m] += 1;
            kept += 1;
          }
        }
        steps += k.steps;
      },
      async afterSlice(runner: Runner<unknown>) {
        const state = await runner.readState();
        const shown = Math.min(rasterNeurons, r.network.N);
        const pts: number[] = [];
        for (let i = 0; i < shown; i++) if (state[i] > 0) pts.push(steps, i);
        raster.append(Float32Array.from(pts));
      },
      draw() {
        raster.draw();
        activity.set([
          { name: 'simulation', color: '#1c5cad', x: series.x, y: series.y },
          { name: `chain mean ${chain.meanActivity.toFixed(4)}`, color: '#111', x: [0, r.steps], y: [chain.meanActivity, chain.meanActivity], style: 'dashed' },
        ]);
        activity.setOptions({ xRange: [0, r.steps] });
        activity.draw();
        const ms = Array.from({ length: r.network.N + 1 }, (_, m) => m);
        const p = Array.from(histogram, (x) => (kept > 0 ? x / kept : NaN));
        // Only the m where either distribution has mass: the plot zooms to the interesting range.
        const mass = ms.filter((m) => histogram[m] > 0 || chain.pi[m] > 1e-6);
        const lo = Math.max(0, Math.min(...mass) - 1), hi = Math.min(r.network.N, Math.max(...mass) + 1);
        hist.set([
          { name: 'simulation', color: '#1c5cad', x: ms.slice(lo, hi + 1), y: p.slice(lo, hi + 1), style: 'points' },
          { name: 'annealed chain', color: '#111', x: ms.slice(lo, hi + 1), y: Array.from(chain.pi.slice(lo, hi + 1)), style: 'dashed' },
        ]);
        hist.draw();
        const H = kept > 0 ? entropyBits(p.map((x) => (Number.isFinite(x) ? x : 0))) : NaN;
        note.textContent = `Entropy of m: ${Number.isFinite(H) ? H.toFixed(3) : '(after the burn-in)'} bits from ${kept} steps; the annealed chain gives ${chain.entropyBits.toFixed(3)} bits (${chain.method}). lambda = (1 - alpha) WE - alpha WI = ${binaryLambda(r.network).toFixed(3)}.`;
      },
    };
  },
});
