// E-I firing-rate circuits (T dx/dt = -x + phi(W x + u)): the circuit description the CPU analysis and the GPU kernel share, and its builders.
// Model: a reconstruction of Betteti et al., arXiv 2512.05252, from its abstract only (see docs/models/rate-circuits.md).
import { ParameterError } from '../../errors.ts';

/** phi: relu [z]+, clip min(max(z,0),xmax), softclip xmax*tanh([z]+/xmax) (slope in [0, 1]). */
export type Activation = { kind: 'relu' } | { kind: 'clip'; xmax: number } | { kind: 'softclip'; xmax: number };

export interface Circuit {
  n: number;
  /** Row-major n x n; W[i*n + j] is the signed weight from j onto i (inhibitory columns negative). */
  W: Float64Array;
  u: Float64Array;
  tau: Float64Array;
  activation: Activation;
  labels: string[];
  excitatory: boolean[];
}

export function applyActivation(a: Activation, z: number): number {
  if (z <= 0) return 0;
  if (a.kind === 'relu') return z;
  if (a.kind === 'clip') return Math.min(z, a.xmax);
  return a.xmax * Math.tanh(z / a.xmax);
}

/** phi'(z), with the one-sided convention phi'(0) = 0 (a unit exactly at threshold counts as silent). */
export function activationSlope(a: Activation, z: number): number {
  if (z <= 0) return 0;
  if (a.kind === 'relu') return 1;
  if (a.kind === 'clip') return z < a.xmax ? 1 : 0;
  const c = Math.cosh(z / a.xmax);
  return 1 / (c * c);
}

/** Upper end of the rate domain: Infinity for relu, xmax otherwise (open for softclip). */
export function activationMax(a: Activation): number {
  return a.kind === 'relu' ? Infinity : a.xmax;
}

export function checkActivation(a: Activation, field = 'activation'): void {
  if (a.kind === 'relu') return;
  if (a.kind !== 'clip' && a.kind !== 'softclip') throw new ParameterError(field, `unknown kind '${(a as { kind: string }).kind}'`, "use 'relu', 'clip' or 'softclip'");
  if (!(a.xmax > 0) || !Number.isFinite(a.xmax)) throw new ParameterError(`${field}.xmax`, `must be a finite number > 0, got ${a.xmax}`, 'set xmax to the saturation rate, e.g. 1');
}

function checkWeights(p: Record<string, unknown>, names: string[]): void {
  for (const k of names) {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v < 0)
      throw new ParameterError(k, `must be a finite number >= 0, got ${String(v)}`, 'weights are magnitudes; the sign comes from Dale\'s law (inhibitory columns are negated)');
  }
}

function checkTau(p: Record<string, unknown>, names: string[]): void {
  for (const k of names) {
    const v = p[k];
    if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0) throw new ParameterError(k, `must be a finite number > 0, got ${String(v)}`, 'use a positive time constant, e.g. 1');
  }
}

function checkInputs(inputs: number[], len: number, field = 'inputs'): void {
  if (!Array.isArray(inputs) || inputs.length !== len) throw new ParameterError(field, `needs ${len} entries, got ${Array.isArray(inputs) ? inputs.length : typeof inputs}`, 'give one input per channel');
  inputs.forEach((v, k) => {
    if (!Number.isFinite(v)) throw new ParameterError(`${field}[${k}]`, `must be finite, got ${v}`, 'use a finite input');
  });
}

export interface WilsonCowanParams {
  wEE: number; wEI: number; wIE: number; wII: number;
  uE: number; uI: number;
  tauE?: number; tauI?: number;
  activation?: Activation;
}

/** One E and one I population: x = (E, I), W = [[wEE, -wEI], [wIE, -wII]]. */
export function makeWilsonCowan(p: WilsonCowanParams): Circuit {
  const q = { tauE: 1, tauI: 1, activation: { kind: 'relu' } as Activation, ...p };
  checkWeights(q as unknown as Record<string, unknown>, ['wEE', 'wEI', 'wIE', 'wII']);
  checkTau(q as unknown as Record<string, unknown>, ['tauE', 'tauI']);
  checkActivation(q.activation);
  checkInputs([q.uE, q.uI], 2, 'uE/uI');
  return {
    n: 2,
    W: Float64Array.from([q.wEE, -q.wEI, q.wIE, -q.wII]),
    u: Float64Array.from([q.uE, q.uI]),
    tau: Float64Array.from([q.tauE, q.tauI]),
    activation: q.activation,
    labels: ['E', 'I'],
    excitatory: [true, false],
  };
}

export interface LateralParams {
  channels: number;
  wEE: number; wIE: number; wEI: number; wII: number;
  /** Input to E_k, one per channel. */
  inputs: number[];
  tauE?: number; tauI?: number;
  activation?: Activation;
}

export interface ColumnParams extends Omit<LateralParams, 'inputs'> {
  layers: number;
  /** E_k of layer l -> E_k of layer l + 1. */
  wFF: number;
  /** Input to the E cells of layer 0. */
  inputs: number[];
}

function checkCount(v: number, field: string, min: number): void {
  if (!Number.isInteger(v) || v < min) throw new ParameterError(field, `must be an integer >= ${min}, got ${v}`, `use ${min} or more`);
}

/**
 * Writes one lateral-inhibition layer (E_1..E_n, I_1..I_n) at neuron offset `off` into a circuit of size N.
 * E_k -> E_k wEE, E_k -> I_k wIE, I_k -> E_j (j != k) -wEI, I_k -> I_k -wII.
 */
function writeLayer(W: Float64Array, N: number, off: number, n: number, p: LateralParams | ColumnParams): void {
  for (let k = 0; k < n; k++) {
    const e = off + k, i = off + n + k;
    W[e * N + e] = p.wEE;
    W[i * N + e] = p.wIE;
    W[i * N + i] = -p.wII;
    for (let j = 0; j < n; j++) if (j !== k) W[(off + j) * N + i] = -p.wEI;
  }
}

function checkLateral(p: LateralParams | ColumnParams): { tauE: number; tauI: number; activation: Activation } {
  checkCount(p.channels, 'channels', 2);
  checkWeights(p as unknown as Record<string, unknown>, ['wEE', 'wIE', 'wEI', 'wII']);
  const q = { tauE: p.tauE ?? 1, tauI: p.tauI ?? 1, activation: p.activation ?? ({ kind: 'relu' } as Activation) };
  checkTau(q, ['tauE', 'tauI']);
  checkActivation(q.activation);
  checkInputs(p.inputs, p.channels);
  return q;
}

/** n channels of E_k, I_k with cross-channel inhibition; order E_1..E_n, I_1..I_n. */
export function makeLateralCircuit(p: LateralParams): Circuit {
  const q = checkLateral(p);
  const n = p.channels, N = 2 * n;
  const W = new Float64Array(N * N);
  writeLayer(W, N, 0, n, p);
  const u = new Float64Array(N);
  u.set(p.inputs);
  const tau = new Float64Array(N).map((_, i) => (i < n ? q.tauE : q.tauI));
  const labels = [...Array.from({ length: n }, (_, k) => `E${k + 1}`), ...Array.from({ length: n }, (_, k) => `I${k + 1}`)];
  return { n: N, W, u, tau, activation: q.activation, labels, excitatory: labels.map((_, i) => i < n) };
}

/** L stacked lateral layers (layer-major, each E_1..E_n, I_1..I_n); E_k of layer l drives E_k of layer l + 1 with wFF. */
export function makeColumn(p: ColumnParams): Circuit {
  const q = checkLateral(p);
  checkCount(p.layers, 'layers', 1);
  checkWeights(p as unknown as Record<string, unknown>, ['wFF']);
  const n = p.channels, L = p.layers, N = 2 * n * L;
  const W = new Float64Array(N * N);
  for (let l = 0; l < L; l++) {
    writeLayer(W, N, l * 2 * n, n, p);
    if (l + 1 < L) for (let k = 0; k < n; k++) W[((l + 1) * 2 * n + k) * N + l * 2 * n + k] = p.wFF;
  }
  const u = new Float64Array(N);
  u.set(p.inputs);
  const tau = new Float64Array(N).map((_, i) => (i % (2 * n) < n ? q.tauE : q.tauI));
  const labels: string[] = [];
  for (let l = 0; l < L; l++) for (const t of ['E', 'I']) for (let k = 0; k < n; k++) labels.push(`L${l}.${t}${k + 1}`);
  return { n: N, W, u, tau, activation: q.activation, labels, excitatory: labels.map((_, i) => i % (2 * n) < n) };
}
