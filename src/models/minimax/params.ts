// Parameters of `ei run minimax` (Li & Pehlevan 2020; docs/models/minimax-spiking.md) and the run they describe.
import { givenParams, type ParamSpec, type ParamValues } from '../../core/params.ts';
import { ParameterError } from '../../errors.ts';
import type { MinimaxInstance, MinimaxNetwork } from './network.ts';
import { makeDecoderNetwork, makeGridNetwork, makeMemoryNetwork, makeRingNetwork, makeTightBalanceNetwork, memoryBackgroundRates, memoryCueRates, ringCueRates, type DecoderNetwork, type GridNetwork, type MemoryNetwork, type RingNetwork, type TightBalanceNetwork } from './networks.ts';

export const minimaxParameters: readonly ParamSpec[] = [
  { name: 'network', kind: 'choice', default: 'tight-balance', choices: ['tight-balance', 'readout', 'memory', 'ring', 'grid'], doc: 'tight-balance (Fig. 1: 20 E, 20 I, 20 Poisson inputs), readout (Fig. 2a decoder: 60 E, 10 I, 10 inputs), memory (Fig. 3 associative memory: 100 E, 20 I, 5 stored patterns), ring (Fig. 4 ring attractor) or grid (Fig. 4 grid attractor)' },
  { name: 'tau', kind: 'number', default: 0.1, unit: 's', min: 0, minExclusive: true, appliesWhen: { network: ['tight-balance', 'ring'] }, doc: 'time constant of E, I and the input trace (grid uses its own)' },
  { name: 'dtOverTau', kind: 'number', default: 1e-4, unit: '', min: 0, minExclusive: true, max: 0.1, appliesWhen: { network: ['tight-balance'] }, doc: 'dt / tau when --dt is not given (the spec uses 1e-4)' },
  { name: 'gamma', kind: 'number', default: 0, unit: '', min: -0.9, max: 0.9, appliesWhen: { network: ['ring'] }, doc: 'asymmetry of the E-E kernel (travelling bump for gamma != 0; Dale\'s law needs |gamma| < 0.937)' },
  { name: 'cueAngle', kind: 'number', default: Math.PI / 2, unit: 'rad', appliesWhen: { network: ['ring'] }, doc: 'cue position' },
  { name: 'cueSeconds', kind: 'number', default: 5, unit: 's', min: 0, appliesWhen: { network: ['ring'] }, doc: 'cue duration at the start' },
  { name: 'vector', kind: 'integer', default: 0, unit: '', min: 0, max: 19, appliesWhen: { network: ['readout'] }, doc: 'which of the 20 input vectors of Fig. 2a (10 Poisson rates drawn from U(0, 50) Hz by the seed) drives the decoder' },
  { name: 'pattern', kind: 'integer', default: 0, unit: '', min: 0, max: 4, appliesWhen: { network: ['memory'] }, doc: 'the stored pattern cued: 30 % of its support dropped and 3 spurious neurons added, as extra input for recallCueSeconds, then the background alone' },
  { name: 'recallCueSeconds', kind: 'number', default: 3, unit: 's', min: 0, appliesWhen: { network: ['memory'] }, doc: 'duration of the memory cue at the start (Fig. 3: 3 s, then 10 s of background)' },
  { name: 'side', kind: 'integer', default: 63, unit: 'sites', min: 8, max: 100, appliesWhen: { network: ['grid'] }, doc: 'sheet side (NE = NI = side^2)' },
  { name: 'inputHz', kind: 'number', default: 4, unit: 'Hz', min: 0, appliesWhen: { network: ['grid'] }, doc: 'Poisson input rate per E neuron' },
];

/** Why `ei reproduce --backend auto` runs the minimax reproductions on the CPU when the only adapter is a software one (bench/results/SUMMARY.md). */
export const minimaxCpuBeatsSoftware = 'the minimax CPU reference is faster than SwiftShader (3x on the Fig. 1 tau sweep, 8x on the grid in bench:minimax)';

export interface MinimaxRunPlan {
  network: MinimaxNetwork;
  /** Instances: one per replica (different RNG instance ids), identical otherwise. */
  instance: Omit<MinimaxInstance, 'instanceId' | 'measureFrom'>;
  dt: number;
  steps: number;
  /** Input rates for the KKT prediction (Hz), when the network has a unique static prediction (memory: the one near the cued pattern). */
  predictionRates: Float64Array | null;
  /** memory: the KKT point to look for (the cued pattern and its I rates, trace units), the attractor a recall ends in. */
  predictionStart?: { rE: Float64Array; rI: Float64Array };
  /** readout: the decoder H (m x NE, row-major; readout = H rE) and the input vector's index. */
  decoder?: { H: Float64Array; m: number; vector: number };
  /** memory: the cued pattern, its support and the neurons the cue drove. */
  memory?: { pattern: number; support: number[]; cued: number[]; level: number };
  thetas?: Float64Array;
  side?: number;
}

/** Networks already built, by what defines them (a sweep builds each distinct network once). */
export interface MinimaxNetworkCache {
  tightBalance: Map<number, TightBalanceNetwork>;
  decoder: Map<number, DecoderNetwork>;
  memory: Map<number, MemoryNetwork>;
  ring: Map<number, RingNetwork>;
  grid: Map<number, GridNetwork>;
}

export function makeMinimaxNetworkCache(): MinimaxNetworkCache {
  return { tightBalance: new Map(), decoder: new Map(), memory: new Map(), ring: new Map(), grid: new Map() };
}

/** Pure: the network and schedule of `ei run minimax` (--T in s and --dt in s override the defaults). */
export function makeMinimaxRunPlan(p: ParamValues, seed: number, T?: number, dtGiven?: number, cache?: MinimaxNetworkCache): MinimaxRunPlan {
  if (dtGiven !== undefined && givenParams(p).has('dtOverTau')) {
    throw new ParameterError('minimax.dtOverTau', `is ignored when --dt is given (--dt ${dtGiven} sets the step itself)`, 'give either --dt or --set dtOverTau=..., not both');
  }
  const plan = makePlan(p, seed, T, dtGiven, cache);
  checkPlanStep(p, plan, dtGiven !== undefined);
  return plan;
}

/**
 * The step must stay below every time constant (the decays 1 - dt/tau are in (0, 1)) and make every input spike
 * probability rate x dt at most 1 (one Bernoulli draw per channel and step); the error names what the user set.
 */
function checkPlanStep(p: ParamValues, plan: MinimaxRunPlan, dtGiven: boolean): void {
  const { dt, instance } = plan;
  const tauMin = Math.min(instance.tauE, instance.tauI, instance.tauX);
  let maxRate = 0;
  for (const r of instance.inputRates) maxRate = Math.max(maxRate, r);
  const rateLimit = maxRate > 0 ? 1 / maxRate : Infinity;
  const fmt = (x: number) => String(Number(x.toPrecision(4)));
  const largest = `the largest step that works is ${rateLimit < tauMin ? `1 / ${fmt(maxRate)} Hz = ${fmt(rateLimit)} s` : `just below the smallest time constant, ${fmt(tauMin)} s`}`;
  const tooLong = !(dt < tauMin);
  const tooLikely = maxRate * dt > 1;
  if (!tooLong && !tooLikely) return;
  const problem = tooLong
    ? `dt = ${fmt(dt)} s is not below the smallest time constant ${fmt(tauMin)} s (${p.network === 'grid' ? 'the grid network\'s tauI' : 'tau'}), so the leak 1 - dt/tau is not in (0, 1)`
    : `dt = ${fmt(dt)} s makes the input spike probability rate x dt = ${fmt(maxRate)} Hz x ${fmt(dt)} s = ${fmt(maxRate * dt)} exceed 1 (one draw per input and step)`;
  if (dtGiven) throw new ParameterError('--dt', problem, `use a smaller --dt: ${largest}${p.network === 'grid' && tooLikely ? ' (or lower --set inputHz)' : ''}`);
  if (p.network === 'tight-balance') {
    const dtMax = Math.min(rateLimit, tauMin);
    throw new ParameterError('minimax.dtOverTau', `dt = dtOverTau x tau = ${fmt(p.dtOverTau as number)} x ${fmt(p.tau as number)} s: ${problem}`, `use --set dtOverTau=${fmt((0.5 * dtMax) / (p.tau as number))} or less, or give --dt below ${fmt(dtMax)} s (${largest})`);
  }
  if (p.network === 'grid' && tooLikely) {
    throw new ParameterError('minimax.inputHz', `${fmt(maxRate)} Hz at the default dt = ${fmt(dt)} s: ${problem}`, `use --set inputHz=${fmt(1 / dt)} or less, or a smaller --dt (${largest})`);
  }
  throw new ParameterError('minimax.tau', `the default dt = ${fmt(dt)} s: ${problem}`, `use a larger --set tau= or give a smaller --dt (${largest})`);
}

/** The network of the key, built once per cache. */
function cached<K, T>(map: Map<K, T> | undefined, key: K, make: () => T): T {
  const hit = map?.get(key);
  if (hit) return hit;
  const made = make();
  map?.set(key, made);
  return made;
}

/** The step without --dt: dtOverTau x tau for tight-balance, 1 ms for the others. */
export function minimaxDefaultDt(p: ParamValues): number {
  return p.network === 'tight-balance' ? (p.dtOverTau as number) * (p.tau as number) : 1e-3;
}

function makePlan(p: ParamValues, seed: number, T?: number, dtGiven?: number, cache?: MinimaxNetworkCache): MinimaxRunPlan {
  const kind = p.network as string;
  const tau = p.tau as number;
  if (kind === 'tight-balance') {
    const net = cached(cache?.tightBalance, seed, () => makeTightBalanceNetwork(seed));
    const dt = dtGiven ?? minimaxDefaultDt(p);
    const steps = stepsFor(T ?? 100 * tau, dt);
    return { network: net.network, instance: { network: 0, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: Float64Array.from(net.inputRates), segments: 1, segmentSteps: 1 }, dt, steps, predictionRates: Float64Array.from(net.inputRates) };
  }
  if (kind === 'readout') {
    // Fig. 2a's decoder (tau = 1 s, dt = 1 ms); its KKT point is the ridge-regularised NNLS solution the readout H rE reconstructs x from.
    const dec = cached(cache?.decoder, seed, () => makeDecoderNetwork(seed));
    const dt = dtGiven ?? minimaxDefaultDt(p);
    const steps = stepsFor(T ?? 20, dt);
    const rates = Float64Array.from(dec.inputs[p.vector as number]);
    return { network: dec.network, instance: { network: 0, dt, tauE: 1, tauI: 1, tauX: 1, inputRates: rates, segments: 1, segmentSteps: 1 }, dt, steps, predictionRates: rates, decoder: { H: dec.H, m: dec.m, vector: p.vector as number } };
  }
  if (kind === 'memory') {
    // Fig. 3's memory (tau = 1 s, dt = 1 ms): a noisy cue of one pattern on top of the background, then the background
    // alone; the prediction is the KKT point at the background nearest the cued pattern (each stored pattern is one).
    const mem = cached(cache?.memory, seed, () => makeMemoryNetwork(seed));
    const dt = dtGiven ?? minimaxDefaultDt(p);
    const steps = stepsFor(T ?? 13, dt);
    const pattern = p.pattern as number;
    const tauM = mem.tau;
    const NE = mem.network.nE;
    const cue = memoryCueRates(mem, pattern, { seed: seed * 1000 + pattern, tauX: tauM });
    const background = memoryBackgroundRates(mem, tauM);
    const cueSteps = Math.round((p.recallCueSeconds as number) / dt);
    const rates = new Float64Array(2 * NE);
    rates.set(cue.rates, 0);
    rates.set(background, NE);
    return {
      network: mem.network,
      instance: { network: 0, dt, tauE: tauM, tauI: tauM, tauX: tauM, inputRates: cueSteps > 0 ? rates : rates.subarray(NE), segments: cueSteps > 0 ? 2 : 1, segmentSteps: Math.max(1, cueSteps) },
      dt,
      steps,
      predictionRates: background,
      predictionStart: { rE: mem.patterns[pattern], rI: mem.patternsI[pattern] },
      memory: { pattern, support: mem.supports[pattern], cued: cue.cued, level: mem.level },
    };
  }
  if (kind === 'ring') {
    const ring = cached(cache?.ring, p.gamma as number, () => makeRingNetwork({ gamma: p.gamma as number }));
    const dt = dtGiven ?? minimaxDefaultDt(p);
    const steps = stepsFor(T ?? 10, dt);
    const NE = ring.network.nE;
    const cueSteps = Math.round((p.cueSeconds as number) / dt);
    const rates = new Float64Array(2 * NE).fill(10);
    rates.set(ringCueRates(p.cueAngle as number, 10, 5, NE), 0);
    return { network: ring.network, instance: { network: 0, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: cueSteps > 0 ? rates : rates.subarray(NE), segments: cueSteps > 0 ? 2 : 1, segmentSteps: Math.max(1, cueSteps) }, dt, steps, predictionRates: null, thetas: ring.thetas };
  }
  if (kind === 'grid') {
    const grid = cached(cache?.grid, p.side as number, () => makeGridNetwork({ side: p.side as number }));
    const dt = dtGiven ?? minimaxDefaultDt(p);
    const steps = stepsFor(T ?? 30, dt);
    return { network: grid.network, instance: { network: 0, dt, tauE: grid.tauE, tauI: grid.tauI, tauX: grid.tauX, inputRates: new Float64Array(grid.network.nIn).fill(p.inputHz as number), segments: 1, segmentSteps: 1 }, dt, steps, predictionRates: null, side: grid.side };
  }
  throw new ParameterError('minimax.network', `'${kind}' is not a network`, 'use tight-balance, readout, memory, ring or grid');
}

function stepsFor(T: number, dt: number): number {
  if (!(Number.isFinite(T) && T > 0)) throw new ParameterError('T', `${T} is not a positive time in seconds`, 'give --T > 0');
  if (!(Number.isFinite(dt) && dt > 0)) throw new ParameterError('dt', `${dt} is not a positive time step in seconds`, 'give --dt > 0');
  const steps = Math.round(T / dt);
  if (steps < 2) throw new ParameterError('--T', `--T ${T} s at dt = ${dt} s is ${steps} steps, fewer than the 2 a run needs`, `give --T >= ${2 * dt}`);
  if (steps > 0xffffffff) throw new ParameterError('--T', `--T ${T} s at dt = ${dt} s is ${steps.toExponential(2)} steps, more than the 4294967295 (2^32 - 1) the step counter holds`, `give --T <= ${(0xffffffff * dt).toPrecision(3)} or a larger --dt`);
  return steps;
}
