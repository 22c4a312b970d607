// `ei sweep minimax`: every (grid point, replica) is one instance of a batched run of one network shape; one CSV row
// each: rates, spike counts, input rate and mean E / I inputs (the balance), next to the KKT prediction (tight-balance).
// The RNG instance coordinate of a row is its sweep index, so rows do not depend on sharding or batching.
import type { RunRequest, RunTarget, SweepDefinition } from '../../core/contract.ts';
import { formatCount, type RunEstimate } from '../../core/limits.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import { checkRequest, resolveSeed } from '../../core/request.ts';
import type { GridAxis, GridValue, SweepPoint, SweepSchema } from '../../core/sweep-grid.ts';
import { ParameterError } from '../../errors.ts';
import { finiteMean, predictionStats, simulatedRatesHz } from './analysis.ts';
import type { MinimaxNetwork, MinimaxRunSpec } from './network.ts';
import { makeMinimaxNetworkCache, minimaxParameters, type MinimaxRunPlan } from './params.ts';
import { estimateMinimaxRun, minimaxOptions, resolveMinimaxPlan, resolveMinimaxStep } from './resolve.ts';
import { runMinimaxSpec } from './runner.ts';
import { solveMinimaxRates, type MinimaxRates } from './theory.ts';
import { minimaxNeuronFields } from './webgpu-simulation.ts';

const minimaxSweepColumns = [
  'dt', 'meanRateEHz', 'meanRateIHz', 'spikesE', 'spikesI', 'inputSpikes', 'inputRateHz', 'meanInputE', 'meanInputI',
  'predictedRateEHz', 'predictedRateIHz', 'kktResidual', 'errorHz',
] as const;

const predictionColumns = ['predictedRateEHz', 'predictedRateIHz', 'kktResidual', 'errorHz'] as const;

/** Parameters that set the network's shape (nE, nI, nIn), which every instance of a batch shares. */
const shapeParameters = ['network', 'side'];

const closeTo = (a: number, b: number, rel: number): boolean => Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));

/**
 * What a minimax sweep row holds. Every column is finite in every row (the measured half has >= 1 step; means of
 * traces and inputs are finite), except the prediction columns, which are empty in every row of a ring or grid sweep
 * (no static KKT point). Cross-checks: dt is the point's step; spike counts fit one spike per neuron and step;
 * inputRateHz is inputSpikes / (nIn M dt); and |mean predicted - mean simulated E rate| <= sqrt(nE) errorHz
 * (Cauchy-Schwarz: errorHz = ||pred - sim||_2 / nE).
 */
const minimaxSweepSchema: SweepSchema = {
  resultColumns: minimaxSweepColumns,
  emptyColumns: (c) => (c.fixed.network === 'tight-balance' ? {} : Object.fromEntries(predictionColumns.map((k) => [k, `network=${String(c.fixed.network)} has no static KKT prediction`]))),
  countColumns: ['spikesE', 'spikesI', 'inputSpikes'],
  // Traces r >= 0, KKT rates >= 0, residuals and norms >= 0.
  bounds: { meanRateEHz: [0, Infinity], meanRateIHz: [0, Infinity], inputRateHz: [0, Infinity], predictedRateEHz: [0, Infinity], predictedRateIHz: [0, Infinity], kktResidual: [0, Infinity], errorHz: [0, Infinity] },
  perPointColumns: ['dt', 'predictedRateEHz', 'predictedRateIHz', 'kktResidual'],
  checkRow(row, params, config) {
    const nE = config.nE as number;
    const nI = config.nI as number;
    const nIn = config.nIn as number;
    const M = config.steps - Math.floor(config.steps / 2);
    const dt = resolveMinimaxStep(params, (config.T as number | null) ?? undefined, (config.dtGiven as number | null) ?? undefined).dt;
    if (row.dt !== dt) return `field 'dt' (${row.dt}) is not the step of the point (${dt} s)`;
    for (const [k, neurons] of [['spikesE', nE], ['spikesI', nI], ['inputSpikes', nIn]] as const) {
      if (row[k] > neurons * M) return `field '${k}' (${row[k]}) exceeds one spike per ${neurons} ${k === 'inputSpikes' ? 'inputs' : 'neurons'} and measured step (${M} steps)`;
    }
    const rate = row.inputSpikes / (nIn * M * dt);
    if (!closeTo(row.inputRateHz, rate, 1e-12)) return `fields 'inputSpikes' (${row.inputSpikes}) and 'inputRateHz' (${row.inputRateHz}) disagree: inputSpikes / (nIn x M x dt) = ${rate}`;
    for (const k of ['meanRateEHz', 'meanRateIHz'] as const) {
      // r <= 1 / (1 - decay) = tau / dt (a spike every step), so a rate r / tau is at most 1 / dt.
      if (row[k] > (1 + 1e-6) / dt) return `field '${k}' (${row[k]} Hz) exceeds one spike per step (1 / dt = ${1 / dt} Hz)`;
    }
    if (params.network === 'tight-balance' && !(Math.abs(row.predictedRateEHz - row.meanRateEHz) <= Math.sqrt(nE) * row.errorHz * (1 + 1e-9) + 1e-9 * (row.predictedRateEHz + row.meanRateEHz))) {
      return `fields 'predictedRateEHz' (${row.predictedRateEHz}), 'meanRateEHz' (${row.meanRateEHz}) and 'errorHz' (${row.errorHz}) disagree: the means differ by more than sqrt(nE) x errorHz`;
    }
    return null;
  },
};

interface PointPlan {
  plan: MinimaxRunPlan;
  theory: MinimaxRates | null;
}

export interface MinimaxSweep {
  request: RunRequest;
  gridNames: readonly string[];
  /** The parameters of the first point, less the swept ones. */
  fixed: Record<string, GridValue>;
  seed: number;
  steps: number;
  measureFrom: number;
  nE: number;
  nI: number;
  nIn: number;
  /** The step when every point has the same one, else null (the dt column then says each point's). */
  dt: number | null;
  /** Plans by point (the grid values, in grid order, joined). */
  points: Map<string, PointPlan>;
}

const pointKey = (point: Readonly<Record<string, GridValue>>, gridNames: readonly string[]): string => gridNames.map((g) => String(point[g])).join('\u0000');

const describePoint = (point: Readonly<Record<string, GridValue>>, gridNames: readonly string[]): string => gridNames.map((g) => `${g}=${point[g]}`).join(', ') || 'the point';

/** The request of a sweep's point: the fixed parameters and the point's values. */
function pointParams(request: RunRequest, point: Readonly<Record<string, GridValue>>): ParamValues {
  return resolveParams('minimax', minimaxParameters, { ...request.params, ...point });
}

/** nE, nI, nIn of a network choice (without building it: the 63 x 63 grid is 630 MB). */
function shapeOf(p: ParamValues): { nE: number; nI: number; nIn: number } {
  if (p.network === 'tight-balance') return { nE: 20, nI: 20, nIn: 20 };
  if (p.network === 'ring') return { nE: 100, nI: 100, nIn: 100 };
  if (p.network === 'readout') return { nE: 60, nI: 10, nIn: 10 };
  if (p.network === 'memory') return { nE: 100, nI: 20, nIn: 100 };
  const n = (p.side as number) ** 2;
  return { nE: n, nI: n, nIn: n };
}

/** Instances per batch: the GPU's neuron state must fit one binding; the CPU runs instances one after the other (its batch only sets the progress granularity). */
function maxBatchFor(shape: { nE: number; nI: number; nIn: number }, target: RunTarget): number {
  const n = shape.nE + shape.nI;
  const cap = 4096;
  const ctx = target.ctx;
  if (target.backend === 'cpu' || !ctx) return Math.max(1, Math.min(cap, Math.floor(2e6 / (n * n))));
  const maxBinding = ctx.device.limits.maxStorageBufferBindingSize;
  return Math.max(1, Math.min(cap, Math.floor(maxBinding / ((minimaxNeuronFields * n + shape.nIn) * 4))));
}

export const minimaxSweep: SweepDefinition<MinimaxSweep> = {
  sweepable: {
    names: minimaxParameters.map((p) => p.name).filter((x) => !shapeParameters.includes(x)),
    why: 'network and side set the network shape (nE, nI, nIn), which every instance of a batch shares: run one sweep per network / side (--set network=..., --set side=...)',
  },
  schema: minimaxSweepSchema,
  resolve(request, points, grids) {
    checkRequest('minimax', minimaxOptions, request);
    if (request.batch !== undefined) throw new ParameterError('--batch', 'a sweep makes its own batches', 'use --replicas R for replicas and --max-batch to cap the batch');
    const { seed } = resolveSeed(request.seed);
    const gridNames = grids.map((g) => g.name);
    const cache = makeMinimaxNetworkCache();
    const theories = new Map<MinimaxNetwork, Map<number, MinimaxRates>>();
    const plans = new Map<string, PointPlan>();
    let first: { point: Readonly<Record<string, GridValue>>; plan: MinimaxRunPlan; p: ParamValues } | null = null;
    let dt: number | null = null;
    for (const point of points) {
      const key = pointKey(point, gridNames);
      if (plans.has(key)) continue;
      const p = pointParams(request, point);
      const { plan } = resolveMinimaxPlan(p, seed, request.T, request.dt, cache);
      if (!first) {
        first = { point, plan, p };
        dt = plan.dt;
      } else if (plan.steps !== first.plan.steps) {
        throw new ParameterError(
          '--grid',
          `${describePoint(first.point, gridNames)} runs ${first.plan.steps} steps but ${describePoint(point, gridNames)} runs ${plan.steps}, and one sweep runs one step count for all its instances`,
          'fix the step count: give --T and --dt both (every point then runs T / dt steps; dtOverTau does not apply with --dt), or leave both out when sweeping tau of tight-balance (100 tau at dt = dtOverTau x tau is 100 / dtOverTau steps for every tau)',
        );
      }
      if (dt !== plan.dt) dt = null;
      // The KKT point depends on the network and x = rate tau_x only: one solve per distinct pair.
      let theory: MinimaxRates | null = null;
      if (plan.predictionRates) {
        let byTau = theories.get(plan.network);
        if (!byTau) theories.set(plan.network, (byTau = new Map()));
        const tauX = plan.instance.tauX;
        const rates = plan.predictionRates;
        theory = byTau.get(tauX) ?? solveMinimaxRates(plan.network, Float64Array.from(rates, (x) => x * tauX));
        byTau.set(tauX, theory);
      }
      plans.set(key, { plan, theory });
    }
    if (!first) throw new ParameterError('--grid', 'the sweep has no points', 'give at least one grid value');
    const fixed = Object.fromEntries(Object.entries(first.p).filter(([k]) => !gridNames.includes(k)));
    const steps = first.plan.steps;
    const { nE, nI, nIn } = first.plan.network;
    return { request, gridNames, fixed, seed, steps, measureFrom: Math.floor(steps / 2), nE, nI, nIn, dt, points: plans };
  },
  estimate(request, grids, counts, target): RunEstimate {
    // The shape and step count of the first point (every point shares them; resolve checks that). The grid network is
    // not built: its step count does not depend on the side, so the smallest side stands in for it.
    const point = Object.fromEntries(grids.map((g) => [g.name, g.values[0]]));
    const p = pointParams(request, point);
    const shape = shapeOf(p);
    const { plan } = resolveMinimaxPlan(p.network === 'grid' ? { ...p, side: 8 } : p, resolveSeed(request.seed).seed, request.T, request.dt);
    const perBatch = Math.max(1, Math.min(counts.mine, counts.maxBatch ?? Infinity, maxBatchFor(shape, target)));
    const gammas = grids.find((g) => g.name === 'gamma')?.values.length ?? 1;
    const stepsFlag = request.T !== undefined ? '--T' : '--dt';
    const batch = estimateMinimaxRun({ ...shape, batch: perBatch, steps: plan.steps, rasterSteps: 0, stepsFlag, networks: Math.min(gammas, perBatch), batchOption: '--max-batch', outputs: [], model: 'sweep minimax' }, { backend: target.backend });
    const all = estimateMinimaxRun({ ...shape, batch: Math.max(1, counts.mine), steps: plan.steps, rasterSteps: 0, stepsFlag, outputs: [], model: 'sweep minimax' }, { backend: target.backend });
    return {
      ...batch,
      size: `${formatCount(counts.mine)} of ${formatCount(counts.total)} instances x ${formatCount(shape.nE + shape.nI)} neurons x ${formatCount(plan.steps)} steps`,
      memory: [...batch.memory, { what: 'per-point plans (input rates, KKT points)', bytes: counts.points * (16 * shape.nIn + 1500), place: 'host', options: ['--grid'] }],
      work: { ...all.work, options: ['--grid', '--replicas', stepsFlag] },
    };
  },
  maxBatch(s, target) {
    return maxBatchFor(s, target);
  },
  async runBatch(s, group: readonly SweepPoint[], target, control) {
    const networks: MinimaxNetwork[] = [];
    const index = new Map<MinimaxNetwork, number>();
    const pps = group.map((g) => {
      const pp = s.points.get(pointKey(g.point, s.gridNames));
      if (!pp) throw new ParameterError('--grid', `point ${describePoint(g.point, s.gridNames)} was not resolved`, 'resolve the sweep with all of its points');
      if (!index.has(pp.plan.network)) {
        index.set(pp.plan.network, networks.length);
        networks.push(pp.plan.network);
      }
      return pp;
    });
    const spec: MinimaxRunSpec = {
      networks,
      instances: group.map((g, b) => ({ ...pps[b].plan.instance, network: index.get(pps[b].plan.network) ?? 0, measureFrom: s.measureFrom, instanceId: g.index })),
      steps: s.steps,
      seed: s.seed,
    };
    const res = await runMinimaxSpec(spec, target, { onProgress: control.onProgress, signal: control.signal, onThreads: control.onThreads });
    const N = s.nE + s.nI;
    return group.map((_, b) => {
      const { plan, theory } = pps[b];
      const { tauE, tauI, dt } = plan.instance;
      const sim = simulatedRatesHz(res, b, tauE, tauI);
      const M = res.measuredSteps[b];
      const counts = res.spikeCounts.subarray(b * N, (b + 1) * N);
      let spikesE = 0;
      let spikesI = 0;
      for (let p = 0; p < N; p++) {
        if (p < s.nE) spikesE += counts[p];
        else spikesI += counts[p];
      }
      const inputSpikes = res.inputCounts.subarray(b * s.nIn, (b + 1) * s.nIn).reduce((x, y) => x + y, 0);
      let inE = 0;
      let inI = 0;
      for (let p = 0; p < s.nE; p++) {
        inE += res.inputMoments[(b * N + p) * 5];
        inI += res.inputMoments[(b * N + p) * 5 + 1];
      }
      const pred = theory
        ? (() => {
            const pE = Float64Array.from(theory.rE, (x) => x / tauE);
            const pI = Float64Array.from(theory.rI, (x) => x / tauI);
            return [finiteMean(pE), finiteMean(pI), theory.residual, predictionStats(pE, sim.E).errorHz];
          })()
        : [null, null, null, null];
      return [dt, finiteMean(sim.E), finiteMean(sim.I), spikesE, spikesI, inputSpikes, inputSpikes / (s.nIn * M * dt), inE / s.nE, inI / s.nE, ...pred];
    });
  },
  config(s) {
    return {
      n: s.nE + s.nI,
      steps: s.steps,
      dt: s.dt,
      fixed: s.fixed,
      nE: s.nE,
      nI: s.nI,
      nIn: s.nIn,
      T: s.request.T ?? null,
      dtGiven: s.request.dt ?? null,
      measuredFromStep: s.measureFrom,
    };
  },
  neuronStepsPerInstance(s) {
    return (s.nE + s.nI) * s.steps;
  },
};
