// `ei sweep rate`: every (grid point, replica) of one circuit kind is one instance: the circuit's direct analysis
// (equilibria, stability, regime, contrast theory) next to its integration from `initial` states, batched over points.
// The random initial states of a row come from the seed and its sweep index, so rows do not depend on sharding or batching.
import { ParameterError } from '../../errors.ts';
import type { RunRequest, RunTarget, SweepDefinition } from '../../core/contract.ts';
import { checkRequest, resolveSeed } from '../../core/request.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import { formatCount, type RunEstimate, type StepPlan } from '../../core/limits.ts';
import type { GridAxis, GridValue, SweepPoint, SweepSchema } from '../../core/sweep-grid.ts';
import { makeRateCircuit, rateParameters } from './params.ts';
import type { Circuit } from './circuit.ts';
import { contrast, contrastGainTheory } from './analysis.ts';
import {
  analyseRate, createRateIntegrator, initialScale, makeInitialStates, makeOutcomeFrom, rateOptions, rateSampleEvery, resolveRateSteps,
} from './experiment.ts';
import { rateWasmSecondsPerStep, wasmRateBytes } from './wasm-integrator.ts';

/** Parameters one rate sweep may vary per instance. */
const rateSweepable = ['wEE', 'wEI', 'wIE', 'wII', 'uE', 'uI', 'tauE', 'tauI', 'activation', 'xmax', 'contrast', 'wFF'] as const;
const sweepableWhy =
  'circuit, channels and layers set the number of cells and method the kernel, which one batch shares, and initial sets the trajectories ' +
  'of every instance: fix them with --set and run one sweep per value';

/** Regime codes of the `regime` column, per circuit kind (config.json records them as `regimes`). */
const rateRegimeCodes: Record<string, readonly string[]> = {
  'wilson-cowan': ['unique-stable', 'inhibition-stabilised', 'bistable', 'oscillatory', 'runaway'],
  lateral: ['all-active', 'weaker-silenced', 'winner-take-all', 'runaway'],
  column: ['all-active', 'weaker-silenced', 'winner-take-all', 'runaway'],
};

export const rateSweepColumns = [
  'regime', 'equilibria', 'stableEquilibria', 'equilibriumE', 'equilibriumI', 'ldsMargin', 'isLDS', 'converged', 'atEquilibrium', 'equilibriumContrast', 'contrastOutTheory',
] as const;

/** A converged trajectory counts as at an equilibrium when it ended within this fraction of max(1, |x*|) of one. */
const rateAtEquilibriumTolerance = 1e-2;

const contrastColumns = ['equilibriumContrast', 'contrastOutTheory'];

/** The contrast theory of a lateral or column point: its regime and the output contrast (of the last layer). */
function contrastTheory(p: Record<string, GridValue>): { regime: string; cOut: number } {
  const th = contrastGainTheory({ wEE: p.wEE as number, wIE: p.wIE as number, wEI: p.wEI as number, wII: p.wII as number, channels: p.channels as number }, p.contrast as number);
  const cIn = p.contrast as number;
  const cOut = p.circuit === 'column' ? Math.max(-1, Math.min(1, th.gain ** (p.layers as number) * cIn)) : th.cOut;
  return { regime: th.regime, cOut: Number.isFinite(cOut) ? cOut : 0 };
}

/**
 * What a rate sweep row holds; every value is finite. regime: the code in `regimes` of config.json (wilson-cowan:
 * classifyWilsonCowan; lateral and column: the contrast-gain theory). equilibria / stableEquilibria: the LCP (Nash)
 * solutions and how many are stable. equilibriumE / equilibriumI / equilibriumContrast: mean E and I rate and the output
 * contrast (column: last layer) at the solved equilibrium nearest to where the trajectory from x0 = 0 ended; 0 where no
 * equilibrium was solved (equilibria = 0 tells those rows apart). ldsMargin / isLDS: the LDS test of T^-1 (W - I).
 * converged: trajectories (of `initial`) whose last window moved < 1e-4 max(1, |x|); atEquilibrium: converged ones that
 * ended within 1e-2 max(1, |x*|) of a solved equilibrium. contrastOutTheory: clamp(G^layers C_in) (lateral: the theory's
 * C_out), 0 where the theory has none (runaway). The contrast columns are empty in a wilson-cowan sweep.
 */
export const rateSweepSchema: SweepSchema = {
  resultColumns: rateSweepColumns,
  emptyColumns: (c) => (c.fixed.circuit === 'wilson-cowan' ? Object.fromEntries(contrastColumns.map((k) => [k, 'a Wilson-Cowan pair has no channels: contrasts are defined for lateral and column circuits'])) : {}),
  countColumns: ['regime', 'equilibria', 'stableEquilibria', 'isLDS', 'converged', 'atEquilibrium'],
  bounds: { regime: [0, 4], isLDS: [0, 1], equilibriumContrast: [-1, 1], contrastOutTheory: [-1, 1] },
  perPointColumns: ['regime', 'equilibria', 'stableEquilibria', 'equilibriumE', 'equilibriumI', 'ldsMargin', 'isLDS', 'equilibriumContrast', 'contrastOutTheory'],
  checkRow(row, params) {
    const circuit = String(params.circuit);
    const codes = rateRegimeCodes[circuit];
    if (!codes) return `field 'circuit' of the sweep is '${circuit}', not a rate circuit`;
    if (row.regime >= codes.length) return `field 'regime' (${row.regime}) is not a code of a ${circuit} regime (0..${codes.length - 1})`;
    if (row.isLDS !== (row.ldsMargin > 0 ? 1 : 0)) return `fields 'isLDS' (${row.isLDS}) and 'ldsMargin' (${row.ldsMargin}) disagree: isLDS is ldsMargin > 0`;
    if (row.stableEquilibria > row.equilibria) return `field 'stableEquilibria' (${row.stableEquilibria}) exceeds 'equilibria' (${row.equilibria})`;
    const initial = params.initial as number;
    if (row.converged > initial) return `field 'converged' (${row.converged}) exceeds the ${initial} initial states of every instance`;
    if (row.atEquilibrium > row.converged) return `field 'atEquilibrium' (${row.atEquilibrium}) exceeds 'converged' (${row.converged})`;
    const atEq = ['equilibriumE', 'equilibriumI', ...(circuit === 'wilson-cowan' ? [] : ['equilibriumContrast'])];
    if (row.equilibria === 0) {
      for (const k of ['atEquilibrium', ...atEq]) if (row[k] !== 0) return `field '${k}' (${row[k]}) is not 0, but no equilibrium was solved (equilibria = 0)`;
    } else if (!(row.equilibriumE >= 0 && row.equilibriumI >= 0)) {
      return `fields 'equilibriumE' (${row.equilibriumE}) and 'equilibriumI' (${row.equilibriumI}) must be rates >= 0`;
    }
    const regime = codes[row.regime];
    if (circuit === 'wilson-cowan') {
      // classifyWilsonCowan's order: >= 2 stable -> bistable; then LDS -> unique-stable; one stable -> ...; none -> oscillatory or runaway.
      if ((regime === 'bistable') !== row.stableEquilibria >= 2) return `field 'regime' (${regime}) disagrees with 'stableEquilibria' (${row.stableEquilibria}): bistable means >= 2 stable equilibria`;
      if (row.isLDS === 1 && row.stableEquilibria < 2 && regime !== 'unique-stable') return `field 'regime' (${regime}) disagrees with 'isLDS' (1): an LDS pair is unique-stable`;
      if (regime === 'inhibition-stabilised' && row.stableEquilibria !== 1) return `field 'regime' (${regime}) needs exactly one stable equilibrium, 'stableEquilibria' is ${row.stableEquilibria}`;
      if (regime === 'oscillatory' && !(row.stableEquilibria === 0 && row.equilibria >= 1)) return `field 'regime' (${regime}) needs an unstable equilibrium and no stable one (equilibria ${row.equilibria}, stable ${row.stableEquilibria})`;
      return null;
    }
    const th = contrastTheory(params);
    if (regime !== th.regime) return `field 'regime' (${regime}) disagrees with the contrast-gain theory of the point (${th.regime})`;
    if (row.contrastOutTheory !== th.cOut) return `field 'contrastOutTheory' (${row.contrastOutTheory}) disagrees with the theory of the point (${th.cOut})`;
    return null;
  },
};

export interface RateSweep {
  /** Resolved parameters of the points resolve was given: one per instance (by sweep index) or one per grid point (by pointIndex). */
  points: ParamValues[];
  perInstance: boolean;
  gridNames: readonly string[];
  fixed: Record<string, GridValue>;
  circuit: string;
  n: number;
  steps: number;
  dt: number;
  dtAdjusted: StepPlan['dtAdjusted'];
  method: 'euler' | 'rk4';
  /** Initial states per instance. */
  initial: number;
  key: readonly [number, number];
  /** The step whose state the final one is compared with (the run's second-to-last sample). */
  windowStart: number;
  stepsFlag: string;
}

function checkGrids(request: RunRequest, grids: readonly GridAxis[]): void {
  for (const g of grids) {
    if (!(rateSweepable as readonly string[]).includes(g.name)) {
      throw new ParameterError('--grid', `'${g.name}' cannot be swept in one rate sweep`, `sweep ${rateSweepable.join(', ')}; ${sweepableWhy}`);
    }
    if (request.params && g.name in request.params) throw new ParameterError('--grid', `${g.name} is both swept and fixed with --set`, `drop --set ${g.name}=...`);
  }
}

/** The span of the time constants over a circuit and the tau grids (steps and dt are shared by the whole sweep). */
function tauSpan(c: Circuit, grids: readonly GridAxis[]): [number, number] {
  let lo = Math.min(...c.tau);
  let hi = Math.max(...c.tau);
  for (const g of grids) {
    if (g.name !== 'tauE' && g.name !== 'tauI') continue;
    for (const v of g.values) if (typeof v === 'number') [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  }
  return [lo, hi];
}

/** Multiply-adds of one instance's analysis (support enumeration or fallbacks, and the LDS test), roughly. */
function analysisUnits(n: number, activation: string): number {
  const states = activation === 'relu' ? 2 : 3;
  const equilibria = activation !== 'softclip' && n <= 12 ? states ** n * (n ** 3 / 3 + n * n) : 16 * 2e4 * n * n;
  const lds = n >= 3 ? Math.min(3000, Math.max(20, Math.floor(1e8 / n ** 3))) * 10 * n ** 3 : 400 * n * n;
  return equilibria + lds;
}

function countWhere<T>(xs: readonly T[], f: (x: T) => boolean): number {
  let k = 0;
  for (const x of xs) if (f(x)) k++;
  return k;
}

function maxAbsDiff(a: readonly number[], b: readonly number[]): number {
  let d = 0;
  for (let i = 0; i < a.length; i++) d = Math.max(d, Math.abs(a[i] - b[i]));
  return d;
}

function mean(xs: number[]): number {
  return xs.length ? xs.reduce((s, x) => s + x, 0) / xs.length : 0;
}

/** Pure: one row's result columns from the final states and the states one window earlier of its `initial` trajectories. */
function makeRateSweepRow(s: RateSweep, c: Circuit, p: ParamValues, final: Float32Array, prev: Float32Array): (number | null)[] {
  const n = c.n;
  const outcome = makeOutcomeFrom(final, prev, n, s.initial);
  const a = analyseRate(c, p, outcome.finals[0]);
  const best = a.best;
  const stable = countWhere(a.equilibria, (e) => e.stable);
  let at = 0;
  outcome.finals.forEach((f, k) => {
    if (outcome.converged[k] && a.equilibria.some((e) => maxAbsDiff(f, e.x) <= rateAtEquilibriumTolerance * Math.max(1, ...e.x.map(Math.abs)))) at++;
  });
  const rates = (excitatory: boolean) => (best ? mean(best.x.filter((_, i) => c.excitatory[i] === excitatory)) : 0);
  const codes = rateRegimeCodes[s.circuit];
  let eqContrast: number | null = null;
  let theory: number | null = null;
  if (s.circuit !== 'wilson-cowan') {
    const ch = p.channels as number;
    const base = s.circuit === 'column' ? ((p.layers as number) - 1) * 2 * ch : 0;
    eqContrast = best ? contrast(best.x[base], best.x[base + 1]) : 0;
    theory = contrastTheory(p).cOut;
  }
  // + 0: a margin of -0 (exactly at the LDS boundary) is written as 0.
  return [codes.indexOf(a.regime), a.equilibria.length, stable, rates(true), rates(false), a.lds.margin + 0, a.lds.isLDS ? 1 : 0, countWhere(outcome.converged, Boolean), at, eqContrast, theory];
}

function resolveBase(request: RunRequest, point: Record<string, GridValue>): ParamValues {
  return resolveParams('rate', rateParameters, { ...request.params, ...point });
}

export const rateSweep: SweepDefinition<RateSweep> = {
  sweepable: { names: rateSweepable, why: sweepableWhy },
  schema: rateSweepSchema,
  resolve(request, points, grids) {
    checkRequest('rate', rateOptions, request);
    checkGrids(request, grids);
    if (points.length === 0) throw new ParameterError('--grid', 'the sweep has no points', 'give at least one --grid name=values');
    let lo = Infinity;
    let hi = 0;
    let n = 0;
    const resolved = points.map((pt, i) => {
      const p = resolveBase(request, pt);
      // Builds (and so validates) every point's circuit before anything runs; shape parameters are the same for all.
      const c = makeRateCircuit(p);
      if (i === 0) n = c.n;
      for (const t of c.tau) [lo, hi] = [Math.min(lo, t), Math.max(hi, t)];
      return p;
    });
    const plan = resolveRateSteps(request, lo, hi);
    const se = rateSampleEvery(plan.steps);
    const gridNames = grids.map((g) => g.name);
    const fixed = Object.fromEntries(Object.entries(resolved[0]).filter(([k]) => !gridNames.includes(k)));
    const gridPoints = grids.reduce((k, g) => k * g.values.length, 1);
    return {
      points: resolved,
      perInstance: resolved.length !== gridPoints,
      gridNames,
      fixed,
      circuit: String(resolved[0].circuit),
      n,
      steps: plan.steps,
      dt: plan.dt,
      dtAdjusted: plan.dtAdjusted,
      method: resolved[0].method as 'euler' | 'rk4',
      initial: resolved[0].initial as number,
      key: resolveSeed(request.seed).key,
      windowStart: (Math.floor(plan.steps / se) - 1) * se,
      stepsFlag: request.T !== undefined ? '--T' : '--dt',
    };
  },
  estimate(request, grids, counts, target: RunTarget): RunEstimate {
    checkRequest('rate', rateOptions, request);
    checkGrids(request, grids);
    const p = resolveBase(request, Object.fromEntries(grids.map((g) => [g.name, g.values[0]])));
    const c = makeRateCircuit(p);
    const [lo, hi] = tauSpan(c, grids);
    const { steps } = resolveRateSteps(request, lo, hi);
    const n = c.n;
    const K = p.initial as number;
    const integration = counts.mine * K * steps * (p.method === 'rk4' ? 4 : 1) * (n * n + 2 * n);
    const activations = new Set<string>([String(p.activation), ...(grids.find((g) => g.name === 'activation')?.values.map(String) ?? [])]);
    const analysis = counts.mine * Math.max(...[...activations].map((a) => analysisUnits(n, a)));
    const perBatch = Math.min(Math.max(1, counts.mine), counts.maxBatch ?? Infinity, target.backend !== 'webgpu' ? Math.max(1, Math.floor(4096 / K)) : 1 << 16) * K;
    return {
      model: 'sweep rate',
      size: `${formatCount(counts.mine)} of ${formatCount(counts.total)} instances x ${K} initial states of ${n} cells x ${formatCount(steps)} steps`,
      memory: [
        { what: 'resolved point parameters', bytes: counts.points * 1500, place: 'heap', options: ['--grid'] },
        { what: 'circuits and states of one batch (f32)', bytes: perBatch * n * (n + 4) * 4, place: target.backend === 'webgpu' ? 'device' : 'host', options: ['--set initial', '--max-batch'], binding: target.backend === 'webgpu' ? true : undefined },
        ...(target.backend === 'wasm' ? [{ what: 'wasm memory of one batch (circuits and states)', bytes: wasmRateBytes(perBatch, n, 0, 1), place: 'host' as const, options: ['--set initial', '--max-batch'] }] : []),
      ],
      outputs: [],
      work: {
        units: integration + analysis,
        unit: 'multiply-adds',
        seconds: {
          cpu: (integration + analysis) / 7e7,
          'webgpu-software': integration / 1.5e7 + analysis / 7e7,
          'webgpu-hardware': integration / 1e10 + analysis / 7e7,
          wasm: counts.mine * K * steps * rateWasmSecondsPerStep(n, p.method === 'rk4') + analysis / 7e7,
        },
        options: ['--grid', '--replicas', '--set initial', request.T !== undefined ? '--T' : '--dt'],
      },
    };
  },
  maxBatch(s, target) {
    const ctx = target.ctx;
    if (target.backend === 'cpu' || !ctx) return Math.max(1, Math.floor(4096 / s.initial));
    const trajectories = Math.min(1 << 16, Math.floor(Number(ctx.device.limits.maxStorageBufferBindingSize) / (s.n * s.n * 4)));
    return Math.max(1, Math.floor(trajectories / s.initial));
  },
  async runBatch(s, group, target, control) {
    const { n, initial: K } = s;
    const paramsOf = (pt: SweepPoint) => s.points[s.perInstance ? pt.index : pt.pointIndex];
    const circuits = group.map((pt) => makeRateCircuit(paramsOf(pt)));
    const x0 = new Float32Array(group.length * K * n);
    group.forEach((pt, g) => x0.set(makeInitialStates(n, K, initialScale(circuits[g]), s.key, pt.index), g * K * n));
    const it = await createRateIntegrator({ circuits: circuits.flatMap((c) => Array.from({ length: K }, () => c)), x0, dt: s.dt, steps: s.steps, method: s.method }, target.backend, target.ctx, target.threads);
    let prev: Float32Array;
    let final: Float32Array;
    try {
      if (it.threads !== undefined) control.onThreads?.(it.threads);
      await it.run(s.windowStart, { signal: control.signal, onProgress: (d) => control.onProgress?.(d, s.steps) });
      prev = await it.readState();
      await it.run(s.steps - s.windowStart, { signal: control.signal, onProgress: (d) => control.onProgress?.(s.windowStart + d, s.steps) });
      final = await it.readState();
    } finally {
      it.dispose();
    }
    return group.map((pt, g) => {
      control.signal?.throwIfAborted();
      const at = (x: Float32Array) => x.subarray(g * K * n, (g + 1) * K * n);
      return makeRateSweepRow(s, circuits[g], paramsOf(pt), at(final), at(prev));
    });
  },
  config(s) {
    return {
      n: s.n,
      steps: s.steps,
      dt: s.dt,
      fixed: s.fixed,
      regimes: rateRegimeCodes[s.circuit],
      dtAdjusted: s.dtAdjusted,
      convergence: `final state against the state at step ${s.windowStart} (the run's second-to-last sample): converged when every cell moved < 1e-4 max(1, |x|); at an equilibrium within ${rateAtEquilibriumTolerance} max(1, |x*|)`,
      initialStates: 'x0 #0 = 0, the others uniform in [0, 2 max(1, |u|)] per cell from Philox stream 200 with the sweep index as the step word (row 0 starts where `ei run` does)',
    };
  },
  neuronStepsPerInstance(s) {
    return s.initial * s.n * s.steps;
  },
};
