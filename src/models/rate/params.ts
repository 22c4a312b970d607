// Parameters of the `rate` model (E-I firing-rate circuits as games; a reconstruction from the abstract of
// Betteti et al., arXiv 2512.05252, see docs/models/rate-circuits.md) and the circuit they describe.
import { ParameterError } from '../../errors.ts';
import type { ParamSpec, ParamValues } from '../../core/params.ts';
import { makeColumn, makeLateralCircuit, makeWilsonCowan, type Activation, type Circuit } from './circuit.ts';

export const rateParameters: readonly ParamSpec[] = [
  { name: 'circuit', kind: 'choice', default: 'wilson-cowan', choices: ['wilson-cowan', 'lateral', 'column'], doc: 'which circuit to build' },
  { name: 'wEE', kind: 'number', default: 0.5, unit: '', min: 0, doc: 'E -> E weight (self-excitation)' },
  { name: 'wEI', kind: 'number', default: 0.5, unit: '', min: 0, doc: 'I -> E weight (magnitude; lateral: onto the other channels)' },
  { name: 'wIE', kind: 'number', default: 1, unit: '', min: 0, doc: 'E -> I weight' },
  { name: 'wII', kind: 'number', default: 0.5, unit: '', min: 0, doc: 'I -> I weight (magnitude)' },
  { name: 'uE', kind: 'number', default: 1, unit: '', doc: 'input to E (lateral and column: total input to the E cells, split by contrast)' },
  { name: 'uI', kind: 'number', default: 0, unit: '', appliesWhen: { circuit: ['wilson-cowan'] }, doc: 'input to I' },
  { name: 'tauE', kind: 'number', default: 1, unit: 'time', min: 0, minExclusive: true, doc: 'time constant of E' },
  { name: 'tauI', kind: 'number', default: 1, unit: 'time', min: 0, minExclusive: true, doc: 'time constant of I' },
  { name: 'activation', kind: 'choice', default: 'relu', choices: ['relu', 'clip', 'softclip'], doc: 'Phi: [.]+, clip to [0, xmax], or xmax tanh([.]+/xmax) (slope in [0, 1])' },
  { name: 'xmax', kind: 'number', default: 100, unit: '', min: 0, minExclusive: true, appliesWhen: { activation: ['clip', 'softclip'] }, doc: 'upper bound of clip / softclip' },
  { name: 'channels', kind: 'integer', default: 2, unit: '', min: 2, max: 12, appliesWhen: { circuit: ['lateral', 'column'] }, doc: 'channels (each an E and an I cell)' },
  { name: 'contrast', kind: 'number', default: 0.05, unit: '', min: -1, max: 1, appliesWhen: { circuit: ['lateral', 'column'] }, doc: 'input contrast (u1 - u2)/(u1 + u2) between channels 1 and 2 (others get the mean)' },
  { name: 'layers', kind: 'integer', default: 3, unit: '', min: 1, max: 8, appliesWhen: { circuit: ['column'] }, doc: 'stacked microcircuits' },
  { name: 'wFF', kind: 'number', default: 1, unit: '', min: 0, appliesWhen: { circuit: ['column'] }, doc: 'E of layer l -> E of layer l+1' },
  { name: 'method', kind: 'choice', default: 'rk4', choices: ['euler', 'rk4'], doc: 'integrator' },
  { name: 'initial', kind: 'integer', default: 8, unit: '', min: 1, max: 4096, doc: 'initial conditions integrated (0 plus random ones in [0, 2 max(u)])' },
];

/** Inputs of the E cells: channels 1 and 2 split `uE` per channel by `contrast`, the others get uE. */
export function makeChannelInputs(p: ParamValues): number[] {
  const channels = p.channels as number;
  const uE = p.uE as number;
  const c = p.contrast as number;
  return Array.from({ length: channels }, (_, k) => (k === 0 ? uE * (1 + c) : k === 1 ? uE * (1 - c) : uE));
}

export function makeActivation(p: ParamValues): Activation {
  const a = p.activation as string;
  if (a === 'relu') return { kind: 'relu' };
  return { kind: a as 'clip' | 'softclip', xmax: p.xmax as number };
}

/** Pure: the circuit a parameter set describes. */
export function makeRateCircuit(p: ParamValues): Circuit {
  const activation = makeActivation(p);
  const w = { wEE: p.wEE as number, wEI: p.wEI as number, wIE: p.wIE as number, wII: p.wII as number };
  const tau = { tauE: p.tauE as number, tauI: p.tauI as number };
  switch (p.circuit) {
    case 'wilson-cowan':
      return makeWilsonCowan({ ...w, ...tau, uE: p.uE as number, uI: p.uI as number, activation });
    case 'lateral':
      return makeLateralCircuit({ ...w, ...tau, channels: p.channels as number, inputs: makeChannelInputs(p), activation });
    case 'column':
      return makeColumn({ ...w, ...tau, layers: p.layers as number, channels: p.channels as number, wFF: p.wFF as number, inputs: makeChannelInputs(p), activation });
    default:
      throw new ParameterError('rate.circuit', `'${String(p.circuit)}' is not a circuit`, 'use wilson-cowan, lateral or column');
  }
}
