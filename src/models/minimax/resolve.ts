// `resolve` and `estimate` of the minimax model: a request becomes the network, the schedule and the run spec of
// `ei run minimax` (replicas as instances of one batch), checked once; the estimate counts memory, outputs and time.
import type { ResolvedRun, RunOptionSupport, RunRequest, RunTarget } from '../../core/contract.ts';
import { checkMemory, formatCount, resolveSteps, rowHeapBytes, type MemoryItem, type RunEstimate } from '../../core/limits.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import { checkRequest, resolveSeed } from '../../core/request.ts';
import { checkMinimaxSpec, type MinimaxRunSpec } from './network.ts';
import { makeMinimaxRunPlan, minimaxDefaultDt, minimaxParameters, type MinimaxNetworkCache, type MinimaxRunPlan } from './params.ts';
import { checkMinimaxWellPosed, solveMinimaxRates, type MinimaxRates, type WellPosedReport } from './theory.ts';
import { minimaxWasmSecondsPerStep, minimaxWasmThreads, wasmMinimaxBytes } from './wasm-simulation.ts';
import { minimaxNeuronFields } from './webgpu-simulation.ts';

export const minimaxOptions: RunOptionSupport = {
  takes: ['T', 'dt', 'batch'],
  instead: {
    n: 'the network sets the size: --set network=tight-balance|readout|memory|ring|grid (grid: --set side=...)',
    steps: 'give --T (seconds) and optionally --dt; the steps are T / dt',
    recordSpikes: 'minimax always writes the raster of every neuron over the last 20000 steps (raster.svg) and rates.csv',
    recordTraces: 'minimax writes rates, input moments and ISI statistics (summary.json, rates.csv); it has no trace recorder',
    traceEvery: 'minimax has no trace recorder',
    recordEvery: 'minimax writes no per-step time series (rates.csv and the raster of the last 20000 steps)',
  },
};

/** The raster of `ei run minimax` covers the last this many steps. */
const minimaxRasterSteps = 20_000;

export interface MinimaxResolved extends ResolvedRun {
  n: null;
  dt: number;
  /** The parameters every instance shares. */
  base: ParamValues;
  plan: MinimaxRunPlan;
  /** The measured half: steps >= measureFrom. */
  measureFrom: number;
  raster: { from: number; steps: number };
  /** The option that sets the length, for messages. */
  stepsFlag: '--T' | '--dt';
  /** The KKT point at the nominal input rates (tight-balance), and the network's well-posedness. */
  theory: MinimaxRates | null;
  wellPosed: WellPosedReport | null;
  options: { network: string; nE: number; nI: number; nIn: number; measuredFromStep: number; raster: { from: number; steps: number } };
}

/**
 * The step of a parameter set: --dt, or the default (minimaxDefaultDt); with --T alone the default is lowered to
 * T / ceil(T / dt) when T is not a whole number of default steps (tight-balance: through dtOverTau = dt / tau, as its
 * default step is dtOverTau x tau). Pure and cheap: a sweep's row check recomputes it.
 */
export function resolveMinimaxStep(p: ParamValues, T: number | undefined, dt: number | undefined): { dt: number; dtAdjusted: ResolvedRun['dtAdjusted'] } {
  if (dt !== undefined) return { dt, dtAdjusted: null };
  const dtDefault = minimaxDefaultDt(p);
  const { dtAdjusted } = T !== undefined ? resolveSteps({ model: 'minimax', T, dtDefault, defaultT: T, minSteps: 2 }) : { dtAdjusted: null };
  if (!dtAdjusted) return { dt: dtDefault, dtAdjusted: null };
  return { dt: p.network === 'tight-balance' ? minimaxDefaultDt({ ...p, dtOverTau: dtAdjusted.to / (p.tau as number) }) : dtAdjusted.to, dtAdjusted };
}

/** The plan of one parameter set: T / dt must be whole when both are given (an error otherwise); the step as resolveMinimaxStep. */
export function resolveMinimaxPlan(p: ParamValues, seed: number, T: number | undefined, dt: number | undefined, cache?: MinimaxNetworkCache): { plan: MinimaxRunPlan; dtAdjusted: ResolvedRun['dtAdjusted'] } {
  if (T !== undefined && dt !== undefined) resolveSteps({ model: 'minimax', T, dt, dtDefault: dt, defaultT: T, minSteps: 2 });
  // The plan at the default step first: its checks name what the user set (dtOverTau, tau, inputHz, --dt).
  let plan = makeMinimaxRunPlan(p, seed, T, dt, cache);
  const { dtAdjusted } = resolveMinimaxStep(p, T, dt);
  if (dtAdjusted) {
    plan = p.network === 'tight-balance' ? makeMinimaxRunPlan({ ...p, dtOverTau: dtAdjusted.to / (p.tau as number) }, seed, T, undefined, cache) : makeMinimaxRunPlan(p, seed, T, dtAdjusted.to, cache);
  }
  return { plan, dtAdjusted };
}

/** The KKT point at the plan's nominal input rates (trace units x = rate tau_x), when the network has one. */
function minimaxTheoryOf(plan: MinimaxRunPlan): MinimaxRates | null {
  return plan.predictionRates ? solveMinimaxRates(plan.network, Float64Array.from(plan.predictionRates, (x) => x * plan.instance.tauX), plan.predictionStart ? { start: plan.predictionStart } : {}) : null;
}

/** Checks every option once and resolves the network, the schedule (T, dt), the raster window and the seed's key. */
export function resolveMinimax(request: RunRequest): MinimaxResolved {
  checkRequest('minimax', minimaxOptions, request);
  const base = resolveParams('minimax', minimaxParameters, request.params ?? {});
  const { seed, key } = resolveSeed(request.seed);
  const batch = request.batch ?? 1;
  const { plan, dtAdjusted } = resolveMinimaxPlan(base, seed, request.T, request.dt);
  const steps = plan.steps;
  const rasterSteps = Math.min(steps, minimaxRasterSteps);
  const measureFrom = Math.floor(steps / 2);
  const raster = { from: steps - rasterSteps, steps: rasterSteps };
  const { nE, nI, nIn } = plan.network;
  const stepsFlag = request.T !== undefined ? '--T' : '--dt';
  // The instances are all alike but for their RNG coordinate: one checks them all (a batch of 1e9 is not built here).
  checkMinimaxSpec({ networks: [plan.network], instances: [{ ...plan.instance, measureFrom, instanceId: batch - 1 }], steps, seed, raster });
  // What no machine holds (one typed array of more than 2^32 elements, a file longer than a string) is refused before the
  // per-instance parameters are built; the machine's memory is checked against estimate() by the caller.
  checkMemory(estimateMinimaxRun({ nE, nI, nIn, batch, steps, rasterSteps, stepsFlag }, { backend: 'cpu' }), 'cpu', { totalMemory: Infinity, freeMemory: Infinity, heapLimit: Infinity, heapUsed: 0, device: null });
  const theory = minimaxTheoryOf(plan);
  const wellPosed = plan.predictionRates ? checkMinimaxWellPosed(plan.network) : null;
  return {
    model: 'minimax',
    n: null,
    batch,
    steps,
    dt: plan.dt,
    seed,
    key,
    params: Array.from({ length: batch }, () => base),
    dtAdjusted,
    neuronsPerStep: (nE + nI) * batch,
    base,
    plan,
    measureFrom,
    raster,
    stepsFlag,
    theory,
    wellPosed,
    options: { network: String(base.network), nE, nI, nIn, measuredFromStep: measureFrom, raster },
  };
}

/** The run spec of a resolved run: instance b is replica b (RNG instance coordinate b). */
export function makeMinimaxRunSpec(r: MinimaxResolved): MinimaxRunSpec {
  return {
    networks: [r.plan.network],
    instances: Array.from({ length: r.batch }, (_, b) => ({ ...r.plan.instance, measureFrom: r.measureFrom, instanceId: b })),
    steps: r.steps,
    seed: r.seed,
    raster: r.raster,
  };
}

/**
 * What a minimax run needs: the network (f64 blocks and f32 columns), per-instance results, the raster of the last
 * `rasterSteps` steps, the tables, and time. Rough constants from bench/results on a 2-core machine, per instance-step
 * with x = n^2 + nE nIn synaptic weights: CPU reference max(5.6 us, 4 ns x), SwiftShader max(18 us, 30 ns x); a
 * hardware GPU is assumed at max(1 us, 0.1 ns x) per 128 instances; the wasm kernel on one thread at
 * minimaxWasmSecondsPerStep. `networks` distinct networks (a sweep's) share a batch.
 */
export function estimateMinimaxRun(
  s: { nE: number; nI: number; nIn: number; batch: number; steps: number; rasterSteps: number; stepsFlag: string; networks?: number; batchOption?: string; outputs?: RunEstimate['outputs']; model?: string },
  o: { backend: 'cpu' | 'webgpu' | 'wasm' },
): RunEstimate {
  const { nE, nI, nIn, batch: B, steps } = s;
  const G = s.networks ?? 1;
  const batchOption = s.batchOption ?? '--batch';
  const n = nE + nI;
  const words = Math.ceil(n / 32);
  const weights = n * n + nE * nIn;
  const net = ['--set network'];
  const wasm = o.backend === 'wasm';
  const memory: MemoryItem[] = [
    // wasm: the f32 columns are in wasm memory (below), the f64 blocks on the host.
    { what: wasm ? 'network weights (f64 blocks)' : 'network weights (f64 blocks and f32 columns)', bytes: G * weights * (wasm ? 8 : 12), place: 'host', options: net, elements: nE * n },
    { what: 'per-neuron results', bytes: B * n * 76 + B * nIn * 4, place: 'host', options: [batchOption], elements: B * n * 5 },
    { what: 'spike raster', bytes: B * s.rasterSteps * words * 4, place: 'host', options: [batchOption], elements: B * s.rasterSteps * words },
    { what: 'per-instance specs and summaries', bytes: B * 850, place: 'heap', options: [batchOption] },
    { what: 'rate table rows', bytes: s.outputs ? 0 : B * n * rowHeapBytes(6), place: 'heap', options: [batchOption] },
  ];
  if (wasm) {
    const bytes = wasmMinimaxBytes({ nE, nI, nIn, networks: G, batch: B, rasterSteps: s.rasterSteps, threads: 1 });
    memory.push({ what: 'wasm memory (f32 weight columns, neuron state, f64 sums, raster window)', bytes, place: 'host', options: [batchOption, ...net] });
  }
  if (o.backend === 'webgpu') {
    const state = (minimaxNeuronFields * B * n + B * nIn) * 4;
    const rasterRows = Math.max(1, Math.min(s.rasterSteps, Math.floor((64 << 20) / (B * words * 4))));
    const staging = 8 * B * n * 4 + rasterRows * B * words * 4;
    memory.push(
      { what: 'f64 sums and state readback', bytes: B * n * 64 + 2 * state, place: 'host', options: [batchOption], elements: state / 4 },
      { what: 'GPU E-presynaptic weights', bytes: G * nE * n * 4, place: 'device', options: net, binding: true },
      { what: 'GPU I-presynaptic weights', bytes: G * nI * n * 4, place: 'device', options: net, binding: true },
      { what: 'GPU input weights', bytes: G * nIn * nE * 4, place: 'device', options: net, binding: true },
      { what: 'GPU neuron state', bytes: state, place: 'device', options: [batchOption], binding: true },
      { what: 'GPU raster chunk', bytes: rasterRows * B * words * 4, place: 'device', options: [batchOption], binding: true },
      { what: 'GPU readback staging (x2)', bytes: 2 * staging, place: 'device', options: [batchOption] },
    );
  }
  const per = (lo: number, c: number) => Math.max(lo, c * weights);
  return {
    model: s.model ?? 'minimax',
    size: `${formatCount(n)} neurons x ${batchOption} ${formatCount(B)} x ${formatCount(steps)} steps`,
    memory,
    outputs: s.outputs ?? [
      { file: 'rates.csv', rows: B * n, bytes: B * n * 60, options: [batchOption] },
      { file: 'summary.json', rows: B, bytes: B * 400, options: [batchOption] },
      { file: 'report.html', rows: B, bytes: B * 300 + 4e6, options: [batchOption] },
    ],
    work: {
      units: B * steps,
      unit: 'instance-steps',
      seconds: {
        cpu: steps * B * per(5.6e-6, 4e-9),
        'webgpu-software': steps * B * per(1.8e-5, 3e-8),
        'webgpu-hardware': steps * Math.ceil(B / 128) * per(1e-6, 1e-10),
        wasm: steps * B * minimaxWasmSecondsPerStep({ nE, nI, nIn }),
      },
      options: [batchOption, s.stepsFlag],
    },
  };
}

/** Memory, outputs and time of a resolved run on a target. */
export function estimateMinimax(r: MinimaxResolved, target: RunTarget): RunEstimate {
  const { nE, nI, nIn } = r.plan.network;
  return estimateMinimaxRun({ nE, nI, nIn, batch: r.batch, steps: r.steps, rasterSteps: r.raster.steps, stepsFlag: r.stepsFlag }, { backend: target.backend });
}

/** Worker threads of the wasm backend when the user names none (instances are split over them). */
export function minimaxThreadsOf(r: MinimaxResolved): number {
  return minimaxWasmThreads({ ...r.plan.network, batch: r.batch, steps: r.steps });
}
