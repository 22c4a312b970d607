// The live hybrid page: the balanced all-to-all network's population means, variances and rates next to its Gaussian
// large-n limit (src/models/hybrid/limit.ts, solved by the model's own solveHybridLimit), updated while it runs.
import type { ResolvedRun } from '../../src/core/contract.ts';
import { defaultHybridDt } from '../../src/models/hybrid/params.ts';
import type { HybridRun } from '../../src/models/hybrid/resolve.ts';
import { makeHybridState, solveHybridLimit, type HybridState } from '../../src/models/hybrid/runner.ts';
import type { HybridChunk } from '../../src/models/hybrid/simulation.ts';
import { resolveParams } from '../../src/core/params.ts';
import { hybridParameters } from '../../src/models/hybrid/params.ts';
import { mountLivePage } from './live-page.ts';
import { BinnedSeries, binSteps } from './series.ts';

/** Simulated time of the page's default run (in tau) and the wall time it should take. */
const runT = 2;
const runSeconds = 10;

/** The largest n (per population) whose run of runT takes about runSeconds at `unitsPerSecond` neuron-steps/s. */
function chooseN(unitsPerSecond: number): number {
  const p = resolveParams('hybrid', hybridParameters, {});
  let best = 100;
  for (let n = 100; n <= 1e6; n = Math.round(n * 1.25)) {
    const steps = Math.ceil(runT / defaultHybridDt(n, p));
    if ((2 * n * steps) / unitsPerSecond <= runSeconds) best = n;
  }
  return Number(best.toPrecision(2));
}

const keys = ['mE', 'mI', 'vE', 'vI', 'nuE', 'nuI'] as const;

void mountLivePage(document.getElementById('app')!, {
  model: 'hybrid',
  controls: ['variant', 'JE', 'JI', 'JEE', 'JEI', 'JIE', 'JII', 'sigmoid'],
  options: ['n', 'T'],
  initial: { T: String(runT), burnin: '0.5' },
  warmup: {
    request: { n: 1000, steps: 100, params: { burnin: 0 } },
    choose(t) {
      const n = chooseN(t.unitsPerSecond);
      return { values: { n: String(n) }, why: `n = ${n} per population: T = ${runT} tau (dt = min(2e-3, 0.1/sqrt(n)) tau) takes about ${runSeconds} s at this rate` };
    },
  },
  async createView(ctx) {
    const meanChart = ctx.chart({ title: 'Population means of u, against the large-n limit (dashed)', xLabel: 't (tau)', yLabel: 'mean u' });
    const varChart = ctx.chart({ title: 'Population variances of u, against the limit (dashed)', xLabel: 't (tau)', yLabel: 'variance of u' });
    const rateChart = ctx.chart({ title: 'Population activity: mean f(u), against the limit (dashed)', xLabel: 't (tau)', yLabel: 'rate (1/tau)' }, true);
    const note = ctx.note();
    let r: HybridRun;
    let sim: Record<(typeof keys)[number], BinnedSeries>;
    let limit: { t: number[] } & Record<(typeof keys)[number], number[]>;
    let steps = 0;
    let last: HybridState | null = null;
    let blowup = '';
    return {
      reset(run: ResolvedRun) {
        r = run as HybridRun;
        const every = binSteps(r.steps);
        sim = Object.fromEntries(keys.map((k) => [k, new BinnedSeries(every)])) as typeof sim;
        const times: number[] = [];
        for (let s = 0; s <= r.steps; s += every) times.push(s * r.dt);
        const L = solveHybridLimit(r.params[0], r.steps * r.dt, times);
        limit = { t: L.t, mE: L.mE, mI: L.mI, vE: L.vE, vI: L.vI, nuE: L.nuE, nuI: L.nuI };
        blowup = L.blowup ? ` The limit blows up at t = ${L.blowup.t.toPrecision(3)}: ${L.blowup.condition}.` : '';
        steps = 0;
        last = null;
        note.textContent = `Limit: the Gaussian mean/variance ODE of the n -> infinity network.${blowup}`;
      },
      chunk(c) {
        const k = c as HybridChunk;
        for (let s = 0; s < k.steps; s++) {
          const st = makeHybridState(r.params[0], r.n, k.records[s * k.batch]);
          const t = (k.stepStart + s + 1) * r.dt;
          for (const key of keys) sim[key].push(t, st[key]);
          last = st;
        }
        steps += k.steps;
      },
      draw() {
        const T = r.steps * r.dt;
        const pair = (chart: typeof meanChart, a: 'mE' | 'vE' | 'nuE', b: 'mI' | 'vI' | 'nuI') => {
          chart.set([
            { name: `${a} (E)`, color: '#1c5cad', x: sim[a].x, y: sim[a].y },
            { name: `${b} (I)`, color: '#c0392b', x: sim[b].x, y: sim[b].y },
            { name: `${a} limit`, color: '#0b2a55', x: limit.t, y: limit[a], style: 'dashed' },
            { name: `${b} limit`, color: '#6e1a12', x: limit.t, y: limit[b], style: 'dashed' },
          ]);
          chart.setOptions({ xRange: [0, T] });
          chart.draw();
        };
        pair(meanChart, 'mE', 'mI');
        pair(varChart, 'vE', 'vI');
        pair(rateChart, 'nuE', 'nuI');
        if (last) {
          const i = Math.min(limit.t.length - 1, limit.t.findIndex((t) => t >= steps * r.dt));
          const L = i >= 0 ? { mE: limit.mE[i], vE: limit.vE[i] } : null;
          note.textContent = `t = ${(steps * r.dt).toFixed(3)}: mE = ${last.mE.toFixed(4)} (limit ${L?.mE.toFixed(4)}), vE = ${last.vE.toFixed(4)} (limit ${L?.vE.toFixed(4)}), n = ${r.n} per population; the finite-n error shrinks like n^-1/2.${blowup}`;
        }
      },
    };
  },
});
