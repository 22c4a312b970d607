// Parameters of `ei run minimax` (Li & Pehlevan 2020; ../shared/models/minimax-spiking.md) and the run they describe.
import type { ParamSpec, ParamValues } from '../../engine/params.ts';
import { ParameterError } from '../../errors.ts';
import type { MinimaxInstance, MinimaxNetwork } from './network.ts';
import { makeGridNetwork, makeRingNetwork, makeTightBalanceNetwork, ringCueRates } from './networks.ts';

export const minimaxParameters: readonly ParamSpec[] = [
  { name: 'network', kind: 'choice', default: 'tight-balance', choices: ['tight-balance', 'ring', 'grid'], doc: 'tight-balance (Fig. 1: 20 E, 20 I, 20 Poisson inputs), ring (Fig. 4 ring attractor) or grid (Fig. 4 grid attractor)' },
  { name: 'tau', kind: 'number', default: 0.1, unit: 's', min: 0, minExclusive: true, doc: 'tight-balance and ring: time constant of E, I and the input trace' },
  { name: 'dtOverTau', kind: 'number', default: 1e-4, unit: '', min: 0, minExclusive: true, max: 0.1, doc: 'tight-balance: dt / tau when --dt is not given (the spec uses 1e-4)' },
  { name: 'gamma', kind: 'number', default: 0, unit: '', min: -0.9, max: 0.9, doc: 'ring: asymmetry of the E-E kernel (travelling bump for gamma != 0; Dale\'s law needs |gamma| < 0.937)' },
  { name: 'cueAngle', kind: 'number', default: Math.PI / 2, unit: 'rad', doc: 'ring: cue position' },
  { name: 'cueSeconds', kind: 'number', default: 5, unit: 's', min: 0, doc: 'ring: cue duration at the start' },
  { name: 'side', kind: 'integer', default: 63, unit: 'sites', min: 8, max: 100, doc: 'grid: sheet side (NE = NI = side^2)' },
  { name: 'inputHz', kind: 'number', default: 4, unit: 'Hz', min: 0, doc: 'grid: Poisson input rate per E neuron' },
];

/** Why `--backend auto` runs minimax on the CPU when the only adapter is a software one (bench/results/SUMMARY.md). */
export const minimaxCpuBeatsSoftware = 'the minimax CPU reference is faster than SwiftShader (3x on the Fig. 1 tau sweep, 8x on the grid in bench:minimax)';

export interface MinimaxRunPlan {
  network: MinimaxNetwork;
  /** Instances: one per replica (different RNG instance ids), identical otherwise. */
  instance: Omit<MinimaxInstance, 'instanceId' | 'measureFrom'>;
  dt: number;
  steps: number;
  /** Input rates for the KKT prediction (Hz), when the network has a unique static prediction. */
  predictionRates: Float64Array | null;
  thetas?: Float64Array;
  side?: number;
}

/** Pure: the network and schedule of `ei run minimax` (--T in s and --dt in s override the defaults). */
export function makeMinimaxRunPlan(p: ParamValues, seed: number, T?: number, dtGiven?: number): MinimaxRunPlan {
  const kind = p.network as string;
  const tau = p.tau as number;
  if (kind === 'tight-balance') {
    const net = makeTightBalanceNetwork(seed);
    const dt = dtGiven ?? (p.dtOverTau as number) * tau;
    const steps = stepsFor(T ?? 100 * tau, dt);
    return { network: net.network, instance: { network: 0, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: Float64Array.from(net.inputRates), segments: 1, segmentSteps: 1 }, dt, steps, predictionRates: Float64Array.from(net.inputRates) };
  }
  if (kind === 'ring') {
    const ring = makeRingNetwork({ gamma: p.gamma as number });
    const dt = dtGiven ?? 1e-3;
    const steps = stepsFor(T ?? 10, dt);
    const NE = ring.network.nE;
    const cueSteps = Math.round((p.cueSeconds as number) / dt);
    const rates = new Float64Array(2 * NE).fill(10);
    rates.set(ringCueRates(p.cueAngle as number, 10, 5, NE), 0);
    return { network: ring.network, instance: { network: 0, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: cueSteps > 0 ? rates : rates.subarray(NE), segments: cueSteps > 0 ? 2 : 1, segmentSteps: Math.max(1, cueSteps) }, dt, steps, predictionRates: null, thetas: ring.thetas };
  }
  if (kind === 'grid') {
    const grid = makeGridNetwork({ side: p.side as number });
    const dt = dtGiven ?? 1e-3;
    const steps = stepsFor(T ?? 30, dt);
    return { network: grid.network, instance: { network: 0, dt, tauE: grid.tauE, tauI: grid.tauI, tauX: grid.tauX, inputRates: new Float64Array(grid.network.nIn).fill(p.inputHz as number), segments: 1, segmentSteps: 1 }, dt, steps, predictionRates: null, side: grid.side };
  }
  throw new ParameterError('minimax.network', `'${kind}' is not a network`, 'use tight-balance, ring or grid');
}

function stepsFor(T: number, dt: number): number {
  if (!(Number.isFinite(T) && T > 0)) throw new ParameterError('T', `${T} is not a positive time in seconds`, 'give --T > 0');
  if (!(Number.isFinite(dt) && dt > 0)) throw new ParameterError('dt', `${dt} is not a positive time step in seconds`, 'give --dt > 0');
  const steps = Math.round(T / dt);
  if (steps < 2 || steps > 0xffffffff) throw new ParameterError('T', `T / dt = ${steps} steps is outside [2, 2^32)`, 'choose --T and --dt so that T / dt is at least 2');
  return steps;
}
