// Parameters of the `binary` model (binary stochastic E-I network; a reconstruction from the abstract of Agrawal et al.
// 2018, see docs/models/binary-entropy.md).
import { ParameterError } from '../../errors.ts';
import type { ParamSpec, ParamValues } from '../../core/params.ts';
import { maxBinaryN, maxErdosRenyiK, type BinaryParams } from './network.ts';

export const binaryParameters: readonly ParamSpec[] = [
  { name: 'k', kind: 'integer', default: 50, unit: '', min: 1, appliesWhen: { connectivity: ['fixed-indegree', 'erdos-renyi'] }, doc: 'in-degree: presynaptic partners per neuron (erdos-renyi: the mean; all-to-all uses N - 1)' },
  { name: 'alpha', kind: 'number', default: 0.2, unit: '', min: 0, max: 1, maxExclusive: true, doc: 'fraction of inhibitory neurons' },
  { name: 'WE', kind: 'number', default: 1.6, unit: '', min: 0, doc: 'excitatory strength: A_ij = +WE/k' },
  { name: 'WI', kind: 'number', default: 1.6, unit: '', min: 0, doc: 'inhibitory strength: A_ij = -WI/k' },
  { name: 'p0', kind: 'number', default: 1e-3, unit: '', min: 0, max: 1, maxExclusive: true, doc: 'spontaneous activation probability per step' },
  { name: 'connectivity', kind: 'choice', default: 'fixed-indegree', choices: ['fixed-indegree', 'all-to-all', 'erdos-renyi'], doc: 'fixed in-degree k; all-to-all (k = N - 1); erdos-renyi (each pair with p = k/(N-1), mean in-degree k)' },
  { name: 'transfer', kind: 'choice', default: 'clip', choices: ['clip'], doc: 'sigma(x) = min(1, max(0, x))' },
  { name: 'burnin', kind: 'integer', default: 1000, unit: 'steps', min: 0, doc: 'steps left out of the entropy histogram' },
];

/** Pure: the simulation parameters of one instance; N comes from --n. */
export function makeBinaryParams(p: ParamValues, N: number): BinaryParams {
  if (!(Number.isInteger(N) && N >= 2 && N <= maxBinaryN)) throw new ParameterError('--n', `${N} neurons is outside [2, 2^20 = ${maxBinaryN}]`, `use --n between 2 and ${maxBinaryN}`);
  const k = p.connectivity === 'all-to-all' ? N - 1 : (p.k as number);
  if (k >= N) throw new ParameterError('binary.k', `k = ${k} must be below N = ${N}`, `use --set k=${Math.max(1, Math.floor(N / 10))} or a larger --n`);
  const base = { N, k, alpha: p.alpha as number, WE: p.WE as number, WI: p.WI as number, p0: p.p0 as number };
  if (p.connectivity !== 'erdos-renyi') return base;
  if (k > maxErdosRenyiK) throw new ParameterError('binary.k', `k = ${k} exceeds ${maxErdosRenyiK} for erdos-renyi`, `use --set k=${maxErdosRenyiK} or less`);
  return { ...base, connectivity: 'erdos-renyi' };
}

/** The burn-in (steps) of resolved parameters. */
export function binaryBurnin(p: ParamValues): number {
  const b = p.burnin;
  if (typeof b !== 'number') throw new ParameterError('binary.burnin', `${String(b)} is not a number of steps`, 'use --set burnin=<integer>');
  return b;
}
