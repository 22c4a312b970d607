// The live rate page: an E-I rate circuit integrated from several initial states; the trajectories, the phase plane
// with the solved equilibria, and the phase diagram of the model's own analysis (src/models/rate/analysis.ts) with the
// LDS boundary and the current point, the trajectories updated while it runs.
import type { ResolvedRun } from '../../src/core/contract.ts';
import type { ParamValues } from '../../src/core/params.ts';
import { classifyWilsonCowan, contrastGainTheory, eigenvalues, jacobian, lateralRegimeBoundary, ldsTest, solveEquilibrium, stabilityMatrix } from '../../src/models/rate/analysis.ts';
import type { RateChunk, RateResolved } from '../../src/models/rate/experiment.ts';
import { makeRateCircuit } from '../../src/models/rate/params.ts';
import type { ChartGrid } from './line-chart.ts';
import { mountLivePage } from './live-page.ts';

const runSeconds = 6;
const colors = ['#1c5cad', '#c0392b', '#1e8449', '#8e44ad', '#d68910', '#17a589', '#7f8c8d', '#2c3e50'];
const regimeColors: Record<string, string> = {
  'unique-stable': '#d6eaf8', 'inhibition-stabilised': '#d5f5e3', bistable: '#fdebd0', oscillatory: '#f5eef8', runaway: '#fadbd8',
  'all-active': '#d6eaf8', 'weaker-silenced': '#d5f5e3', 'winner-take-all': '#fdebd0',
};

/**
 * The regimes of the analysis over (w_EE, w_EI w_IE) with w_EI = w_IE (as the Wilson-Cowan reproduction sweeps), the
 * other parameters as set: classifyWilsonCowan for the pair, the contrast-gain theory for lateral and column.
 */
function phaseGrid(p: ParamValues): ChartGrid {
  const G = 24;
  const xs = Array.from({ length: G }, (_, i) => (3 * i) / (G - 1));
  const ys = Array.from({ length: G }, (_, j) => (6 * j) / (G - 1));
  const names: string[] = [];
  const z: number[] = [];
  for (const prod of ys) {
    for (const wEE of xs) {
      const q = { ...p, wEE, wEI: Math.sqrt(prod), wIE: Math.sqrt(prod) };
      const regime = p.circuit === 'wilson-cowan'
        ? classifyWilsonCowan(makeRateCircuit(q)).regime
        : contrastGainTheory({ wEE, wEI: q.wEI as number, wIE: q.wIE as number, wII: p.wII as number, channels: p.channels as number }, p.contrast as number).regime;
      if (!names.includes(regime)) names.push(regime);
      z.push(names.indexOf(regime));
    }
  }
  return { xs, ys, z, names, colors: names.map((n) => regimeColors[n] ?? '#eee') };
}

void mountLivePage(document.getElementById('app')!, {
  model: 'rate',
  controls: ['circuit', 'wEE', 'wEI', 'wIE', 'wII', 'uE', 'contrast', 'channels', 'layers', 'activation', 'initial'],
  options: ['T'],
  initial: { T: '30' },
  warmup: {
    request: { T: 2, params: { initial: 8 } },
    choose(t) {
      // Steps of T = 30 at the default dt = 0.01 tau; each initial state is one more circuit of the batch.
      const perState = 3000 / (t.stepsPerSecond * 8);
      const k = Math.max(4, Math.min(64, 2 ** Math.floor(Math.log2(runSeconds / perState))));
      return { values: { initial: String(k) }, why: `initial = ${k} trajectories: T = 30 tau takes about ${Number((k * perState).toPrecision(2))} s at this rate (4 to 64)` };
    },
  },
  async createView(ctx) {
    const traj = ctx.chart({ title: 'Trajectories of the first E cell from every initial state', xLabel: 't (tau)', yLabel: 'rate x' });
    const plane = ctx.chart({ title: 'Phase plane', xLabel: 'E', yLabel: 'I' });
    const diagram = ctx.chart({ title: 'Phase diagram (analysis) and the LDS boundary', xLabel: 'w_EE', yLabel: 'w_EI w_IE' }, true);
    const note = ctx.note();
    let r: RateResolved;
    let t: number[] = [];
    let rows: Float32Array[] = [];
    let axes: [number, number] = [0, 1];
    let equilibria: { x: Float64Array; stable: boolean }[] = [];
    let grid: ChartGrid;
    let boundary: { x: number[]; y: number[]; name: string };
    return {
      reset(run: ResolvedRun) {
        r = run as RateResolved;
        const c = r.circuit;
        t = [];
        rows = [];
        // The plane shows E against I of a Wilson-Cowan pair, else the first two E cells (the competing channels).
        const e = c.excitatory.map((x, i) => (x ? i : -1)).filter((i) => i >= 0);
        axes = r.base.circuit === 'wilson-cowan' ? [0, 1] : [e[0], e[1]];
        plane.setOptions({ xLabel: c.labels[axes[0]], yLabel: c.labels[axes[1]] });
        equilibria = solveEquilibrium(c).solutions.map((x) => ({ x, stable: eigenvalues(jacobian(c, x)).every((v) => v.re < 0) }));
        grid = phaseGrid(r.base);
        const p = r.base;
        if (p.circuit === 'wilson-cowan') boundary = { name: 'LDS boundary w_EE = 1', x: [1, 1], y: [0, 6] };
        else {
          // wEE* = 1 - wEI wIE / (1 + wII): soft competition (LDS) below, winner-take-all above.
          const ys = [0, 6];
          boundary = { name: 'LDS boundary w_EE = 1 - b', x: ys.map((pr) => lateralRegimeBoundary({ wEE: 0, wEI: Math.sqrt(pr), wIE: Math.sqrt(pr), wII: p.wII as number }).wEEcritical), y: ys };
        }
        const lds = ldsTest(stabilityMatrix(c));
        note.textContent = `${equilibria.length} equilibri${equilibria.length === 1 ? 'um' : 'a'} solved (${equilibria.filter((q) => q.stable).length} stable); T^-1(W - I) ${lds.isLDS ? 'is' : 'is not'} Lyapunov diagonally stable (margin ${lds.margin.toPrecision(3)}).`;
      },
      chunk(chunk) {
        const k = chunk as RateChunk;
        const size = r.batch * r.n;
        k.sampleSteps.forEach((s, i) => {
          t.push(s * r.dt);
          rows.push(k.samples.subarray(i * size, (i + 1) * size));
        });
      },
      draw() {
        const B = Math.min(r.batch, 32);
        const e0 = axes[0];
        // Legend: the first trajectory starts at 0, the others at random states (makeInitialStates).
        traj.set(Array.from({ length: B }, (_, b) => ({ name: b === 0 ? 'from x0 = 0' : b === 1 ? 'from random x0' : '', color: colors[b % colors.length], x: t, y: rows.map((row) => row[b * r.n + e0]) })));
        traj.setOptions({ xRange: [0, r.steps * r.dt] });
        traj.draw();
        const [a, b] = axes;
        plane.set([
          ...Array.from({ length: B }, (_, k) => ({ name: k === 0 ? 'trajectories' : '', color: colors[k % colors.length], x: rows.map((row) => row[k * r.n + a]), y: rows.map((row) => row[k * r.n + b]) })),
          { name: 'stable equilibria', color: '#111', x: equilibria.filter((q) => q.stable).map((q) => q.x[a]), y: equilibria.filter((q) => q.stable).map((q) => q.x[b]), style: 'marker' as const },
          { name: 'unstable equilibria', color: '#b42318', x: equilibria.filter((q) => !q.stable).map((q) => q.x[a]), y: equilibria.filter((q) => !q.stable).map((q) => q.x[b]), style: 'marker' as const },
        ]);
        plane.draw();
        const p = r.base;
        diagram.set([
          { name: boundary.name, color: '#111', x: boundary.x, y: boundary.y, style: 'dashed' },
          { name: 'this circuit', color: '#b42318', x: [p.wEE as number], y: [(p.wEI as number) * (p.wIE as number)], style: 'marker' },
        ], grid);
        diagram.setOptions({ xRange: [0, 3], yRange: [0, 6] });
        diagram.draw();
      },
    };
  },
});
