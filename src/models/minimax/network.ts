// Minimax spiking E-I networks (Li & Pehlevan, NeurIPS 2020; docs/models/minimax-spiking.md):
// the network and run description shared by the CPU reference (simulate-cpu.ts), the WebGPU backend
// (webgpu-simulation.ts, shaders/minimax/step.wgsl), the theory (theory.ts) and
// the reproductions.
//
// Dynamics, per step s (synchronous, several neurons may fire in one step). V is kept as components
// that each decay with their own time constant, so separate tau_E, tau_I and tau_x (Figs. 3-4) need no
// mat-vec per step; with equal taus it is the spec's single-V recursion up to f32 rounding:
//   aE = W_EE r_E, bE = W_EI r_I, cE = F x        (E neurons; V_E = aE - bE + cE - thE)
//   aI = W_IE r_E, bI = W_II r_I                  (I neurons; V_I = aI - bI - thI)
//   sE_i = V_E,i > -1/2 W_EE,ii ; sI_i = V_I,i > +1/2 W_II,ii   (one extra spike improves the objective)
//   s_in,k ~ Bernoulli(rate_k dt)                 (RNG: stream 1, counter (k, instance, step))
//   each component c <- fl(decay c) then + the weight of every spiking presynaptic neuron, in increasing
//   index order; decays fl(1 - dt/tau_E) for aE, aI, r_E; fl(1 - dt/tau_I) for bE, bI, r_I; fl(1 - dt/tau_x)
//   for cE, x. All in f32, mirrored op for op by the CPU reference.
import { ParameterError } from '../../errors.ts';
import { seedToKey } from '../../rng/index.ts';

/** Dense weight blocks, row-major [post][pre], all off-diagonal entries >= 0 (Dale's law); f64 on the host. */
export interface MinimaxNetwork {
  nE: number;
  nI: number;
  /** Input channels m. */
  nIn: number;
  /** nE x nE; the diagonal (usually negative) is the E reset. */
  wEE: Float64Array;
  /** nE x nI, I -> E magnitude (subtracted). */
  wEI: Float64Array;
  /** nI x nE, E -> I (W_EI^T in the paper's networks). */
  wIE: Float64Array;
  /** nI x nI, I -> I magnitude (subtracted); its diagonal (> 0) is the I reset. */
  wII: Float64Array;
  /** nE x nIn feed-forward weights (mixed sign allowed). */
  F: Float64Array;
  /** Optional objective thresholds th_E (length nE) and th_I (length nI); default 0. */
  thE?: Float64Array;
  thI?: Float64Array;
}

/** One simulated network instance: a batch runs many of these in one dispatch. */
export interface MinimaxInstance {
  /** Index into MinimaxRunSpec.networks (instances may share weights). */
  network: number;
  /** Time step and time constants in seconds (tau_x: the input trace x). */
  dt: number;
  tauE: number;
  tauI: number;
  tauX: number;
  /**
   * Input rates in Hz, [segment][nIn]: segment g covers steps [g segmentSteps, (g+1) segmentSteps);
   * the last segment continues to the end of the run. rate dt must be <= 1.
   */
  inputRates: Float64Array;
  segments: number;
  segmentSteps: number;
  /** Steps s >= measureFrom enter the measurement accumulators (the spec measures the second half). */
  measureFrom: number;
  /** RNG instance coordinate (default: the instance's index). */
  instanceId?: number;
}

export interface MinimaxRunSpec {
  /** Every network of a batch has the same nE, nI, nIn. */
  networks: MinimaxNetwork[];
  instances: MinimaxInstance[];
  /** Steps to run (same for all instances). */
  steps: number;
  seed: number;
  /** Record spike bits of every neuron for steps [from, from + steps). */
  raster?: { from: number; steps: number };
}

/**
 * Everything a run measures over steps s >= measureFrom (after the update of step s). Neurons are indexed
 * E first then I: neuron n < nE is E_n, n >= nE is I_(n - nE). Per-neuron arrays are [instance][neuron].
 */
export interface MinimaxRunResult {
  backend: 'cpu' | 'webgpu' | 'wasm';
  batch: number;
  nE: number;
  nI: number;
  /** Steps run (all of the spec's, or fewer for the result of a runner stopped part-way). */
  steps: number;
  /** Measured steps per instance (steps - measureFrom, >= 0). */
  measuredSteps: Uint32Array;
  /** Spikes emitted at measured steps. */
  spikeCounts: Uint32Array;
  /** Mean of the trace r over measured steps (Hz = meanTrace / tau of its population). */
  meanTrace: Float64Array;
  /**
   * E input e and I input i of every neuron (E neuron: e = aE + cE = W_EE,i r_E + F_i x, i = bE = W_EI,i r_I;
   * I neuron: e = aI, i = bI), over measured steps: [instance][neuron][5] = mean e, mean i, var e, var i, cov(e, i)
   * (population moments, divide by n).
   */
  inputMoments: Float64Array;
  /** [instance][nIn]: input spikes at measured steps (the empirical mean input is count / (measuredSteps dt) Hz). */
  inputCounts: Uint32Array;
  /** Inter-spike intervals (steps) with both spikes at measured steps: count, mean, variance (population). */
  isiCount: Uint32Array;
  isiMean: Float64Array;
  isiVar: Float64Array;
  /** [instance][raster step][word]: bit n % 32 of word n / 32 = neuron n spiked; null without spec.raster. */
  raster: Uint32Array | null;
  rasterWords: number;
  /** Wall time of the simulation (s). */
  wallSeconds: number;
}

/** What a minimax runner passes to onChunk: the absolute steps [from, to) that every instance has completed. */
export interface MinimaxChunk {
  from: number;
  to: number;
}

/** Pure: an instance with one time constant for E, I and the input trace and constant input rates. */
export function makeConstantInputInstance(network: number, tau: number, dt: number, rates: ArrayLike<number>, measureFrom: number, instanceId?: number): MinimaxInstance {
  return { network, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: Float64Array.from(rates), segments: 1, segmentSteps: 1, measureFrom, instanceId };
}

function need(ok: boolean, field: string, problem: string, fix: string): void {
  if (!ok) throw new ParameterError(field, problem, fix);
}

const isPositiveFinite = (v: number): boolean => Number.isFinite(v) && v > 0;

/** Validates a run; throws ParameterError naming the field and the fix. */
export function checkMinimaxSpec(spec: MinimaxRunSpec): void {
  need(Array.isArray(spec.networks) && spec.networks.length > 0, 'networks', 'no networks', 'pass at least one MinimaxNetwork');
  need(Array.isArray(spec.instances) && spec.instances.length > 0, 'instances', 'no instances', 'pass at least one MinimaxInstance');
  const { nE, nI, nIn } = spec.networks[0];
  spec.networks.forEach((w, g) => {
    const f = `networks[${g}]`;
    need(Number.isInteger(w.nE) && w.nE >= 1, `${f}.nE`, `${w.nE} is not an integer >= 1`, 'use nE >= 1');
    need(Number.isInteger(w.nI) && w.nI >= 1, `${f}.nI`, `${w.nI} is not an integer >= 1`, 'use nI >= 1');
    need(Number.isInteger(w.nIn) && w.nIn >= 1, `${f}.nIn`, `${w.nIn} is not an integer >= 1`, 'use nIn >= 1');
    need(w.nE === nE && w.nI === nI && w.nIn === nIn, f, `shape ${w.nE}/${w.nI}/${w.nIn} differs from networks[0] (${nE}/${nI}/${nIn})`, 'a batch shares nE, nI and nIn');
    const blocks: [string, Float64Array, number][] = [
      ['wEE', w.wEE, nE * nE], ['wEI', w.wEI, nE * nI], ['wIE', w.wIE, nI * nE], ['wII', w.wII, nI * nI], ['F', w.F, nE * nIn],
    ];
    for (const [name, a, len] of blocks) {
      need(a instanceof Float64Array && a.length === len, `${f}.${name}`, `has length ${a?.length}, expected ${len}`, `give a row-major [post][pre] Float64Array of length ${len}`);
      // The message is built only on failure: a 3969 x 3969 block has 1.6e7 entries.
      for (let q = 0; q < len; q++) if (!Number.isFinite(a[q])) need(false, `${f}.${name}`, `entry ${q} is ${a[q]}`, 'use finite weights');
    }
    for (let i = 0; i < nI; i++) need(w.wII[i * nI + i] > 0, `${f}.wII`, `diagonal entry ${i} is ${w.wII[i * nI + i]}`, 'W_II needs a positive diagonal (the I reset)');
    if (w.thE) need(w.thE.length === nE, `${f}.thE`, `has length ${w.thE.length}`, `give nE = ${nE} values`);
    if (w.thI) need(w.thI.length === nI, `${f}.thI`, `has length ${w.thI.length}`, `give nI = ${nI} values`);
  });
  need(Number.isInteger(spec.steps) && spec.steps >= 1 && spec.steps <= 0xffffffff, 'steps', `${spec.steps} is not an integer in [1, 2^32)`, 'use steps >= 1');
  seedToKey(spec.seed);
  spec.instances.forEach((inst, b) => {
    const f = `instances[${b}]`;
    need(Number.isInteger(inst.network) && inst.network >= 0 && inst.network < spec.networks.length, `${f}.network`, `${inst.network} is not an index into networks`, `use 0..${spec.networks.length - 1}`);
    for (const k of ['dt', 'tauE', 'tauI', 'tauX'] as const) need(isPositiveFinite(inst[k]), `${f}.${k}`, `${inst[k]} is not > 0`, `give ${k} > 0 in seconds`);
    for (const k of ['tauE', 'tauI', 'tauX'] as const) need(inst.dt < inst[k], `${f}.dt`, `dt = ${inst.dt} is not below ${k} = ${inst[k]}`, 'use dt << tau (the spec uses dt = 1e-4 tau)');
    need(Number.isInteger(inst.segments) && inst.segments >= 1, `${f}.segments`, `${inst.segments} is not an integer >= 1`, 'use segments >= 1');
    need(Number.isInteger(inst.segmentSteps) && inst.segmentSteps >= 1, `${f}.segmentSteps`, `${inst.segmentSteps} is not an integer >= 1`, 'use segmentSteps >= 1');
    need(inst.inputRates instanceof Float64Array && inst.inputRates.length === inst.segments * nIn, `${f}.inputRates`, `has length ${inst.inputRates?.length}, expected segments x nIn = ${inst.segments * nIn}`, 'give [segment][nIn] rates in Hz');
    for (const r of inst.inputRates) need(Number.isFinite(r) && r >= 0 && r * inst.dt <= 1, `${f}.inputRates`, `rate ${r} Hz gives p = rate dt = ${r * inst.dt} outside [0, 1]`, 'use 0 <= rate <= 1/dt');
    need(Number.isInteger(inst.measureFrom) && inst.measureFrom >= 0, `${f}.measureFrom`, `${inst.measureFrom} is not an integer >= 0`, 'use a step index, e.g. steps / 2');
    if (inst.instanceId !== undefined) need(Number.isInteger(inst.instanceId) && inst.instanceId >= 0 && inst.instanceId <= 0xffffffff, `${f}.instanceId`, `${inst.instanceId} is not a u32`, 'use an integer in [0, 2^32)');
  });
  if (spec.raster) {
    const { from, steps } = spec.raster;
    need(Number.isInteger(from) && from >= 0 && Number.isInteger(steps) && steps >= 1 && from + steps <= spec.steps, 'raster', `window [${from}, ${from + steps}) is not inside [0, ${spec.steps})`, 'give integers with from + steps <= steps');
  }
}

/** Words of spike bits per instance and step: E then I neurons, 32 per word. */
export function makeRasterWords(nE: number, nI: number): number {
  return Math.ceil((nE + nI) / 32);
}

/** f32 spike thresholds: E fires when fl(fl(aE - bE) + cE) > fl(thE - 1/2 W_EE,ii), I when fl(aI - bI) > fl(thI + 1/2 W_II,ii). */
export function makeFireThresholds(w: MinimaxNetwork): { fireE: Float32Array; fireI: Float32Array } {
  const fireE = new Float32Array(w.nE);
  const fireI = new Float32Array(w.nI);
  for (let i = 0; i < w.nE; i++) fireE[i] = (w.thE?.[i] ?? 0) - 0.5 * w.wEE[i * w.nE + i];
  for (let i = 0; i < w.nI; i++) fireI[i] = (w.thI?.[i] ?? 0) + 0.5 * w.wII[i * w.nI + i];
  return { fireE, fireI };
}

/** f32 decay factors fl(1 - dt/tau) of an instance. */
export function makeDecays(inst: MinimaxInstance): { decayE: number; decayI: number; decayX: number } {
  const f = Math.fround;
  return { decayE: f(1 - inst.dt / inst.tauE), decayI: f(1 - inst.dt / inst.tauI), decayX: f(1 - inst.dt / inst.tauX) };
}

/** f32 input spike probabilities fl(rate dt), [segment][nIn]. */
export function makeInputProbabilities(inst: MinimaxInstance): Float32Array {
  return Float32Array.from(inst.inputRates, (r) => r * inst.dt);
}

