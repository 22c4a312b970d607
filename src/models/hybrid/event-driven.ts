// Exact event-driven CPU simulator (thinning) of the balanced E-I hybrid network, the reference that validates the time discretisation of the stepped kernels.
//
// Model (a reconstruction from the abstract of MacLaurin & Vilanova, arXiv 2412.17273; see
// docs/models/hybrid-balanced.md): 2n neurons, k < n excitatory (E), k >= n inhibitory (I).
// Between events du_k/dt = -u_k/tau + c_a with c_a = mu_a (B1) or sqrt(n) muhat_a (B2). For every
// ordered pair (j, k), j != k, an independent counting process with intensity f(u_j) makes u_k
// jump by +w_E(a(k))/sqrt(n) (j in E) or -w_I(a(k))/sqrt(n) (j in I); B1: w_E = JE, w_I = JI for
// every target; B2: w_E(a) = J_aE, w_I(a) = J_aI.
//
// Thinning: each source proposes candidates at the bound numax per target, so candidates form a
// Poisson process of rate Lambda = 2n (2n - 1) numax. At a candidate time t the source j and the
// target k != j are uniform, u_j(t) is brought up to date in closed form, the candidate is kept
// with probability f(u_j(t))/numax, and a kept one moves u_k. Each neuron stores (u, last update
// time) and is advanced lazily when touched, so an event costs O(1); all 2n neurons are advanced
// only at sample times. The law of the output is exactly the model's (up to f64 rounding).
//
// Cost: the expected number of candidates is Lambda T = 2n (2n - 1) numax T (n = 200, numax T = 2:
// 3.2e5 candidates, 0.2 s); measured 1.6-2.4e6 candidates/s on one core (Node 20), most of it Philox.
import { ParameterError } from '../../errors.ts';
import { normalCdf } from '../../analysis/stats.ts';
import type { HybridModelParams } from './params.ts';
import type { LimitInit } from './limit.ts';
import { philoxInto, rngCreate, rngNextU32, rngReset, seedToKey } from '../../rng/index.ts';

/** Parameters of the hybrid network as this simulator reads them (fields a variant or sigmoid does not use are ignored). */
export type HybridEventParams = HybridModelParams;

/** Initial law u_k ~ N(m_a, v_a), drawn from the counter-based RNG (the limit's initial data). */
export type HybridEventInit = LimitInit;

export interface EventDrivenOptions {
  /** Neurons per population (2n in all), an integer >= 1. */
  n: number;
  /** End time (> 0). */
  T: number;
  /** Non-decreasing times in [0, T] at which the population statistics are recorded. */
  sampleTimes: readonly number[];
  /** User seed (see seedToKey). */
  seed: number;
  /** Replica index (the RNG instance, a u32): replicas of one seed are independent. Default 0. */
  replica?: number;
  /** Gaussian initial law; exactly one of init and initialU. */
  init?: HybridEventInit;
  /** Explicit initial potentials, length 2n (E first). */
  initialU?: Float64Array;
  /** Guard on the number of candidate events (the work), default 2e7: about 10 s. */
  maxEvents?: number;
}

export interface EventDrivenResult {
  /** The sample times. */
  t: number[];
  /** Population means and variances of u (variance with divisor n, the population's own second moment). */
  mE: number[];
  mI: number[];
  vE: number[];
  vI: number[];
  /** Population rates nubar_a = (1/n) sum_{j in a} f(u_j). */
  nuE: number[];
  nuI: number[];
  /**
   * The O(1) drive imbalance onto E targets: B1 sqrt(n) (JE nuE - JI nuI) (the multiplier X of the
   * limit, the mean drive being mu_E + X); B2 sqrt(n) (JEE nuE - JEI nuI + muhatE), the sum of the
   * O(sqrt n) external and recurrent drives onto E.
   */
  X: number[];
  /** The same onto I targets: B1 equals X; B2 sqrt(n) (JIE nuE - JII nuI + muhatI). */
  XI: number[];
  /** Accepted events in (0, t] at each sample time. */
  eventCount: number[];
  /** Accepted events in (0, T]. */
  events: number;
  /** Candidate events in (0, T] (Poisson with mean Lambda T). */
  candidates: number;
  /** u at time T. */
  finalU: Float64Array;
}

/** RNG streams of this simulator (>= 100, clear of the kernels' streams). */
export const EVENT_STREAM_INIT = 100;
export const EVENT_STREAM_EVENTS = 101;

const DEFAULT_MAX_EVENTS = 2e7;
/** Philox blocks one (stream, step, instance, neuron) counter yields: the block index is ctr[3]'s low 16 bits. */
const BLOCKS_PER_STEP = 65536;
const TWO_M53 = 2 ** -53;
const TWO_26 = 67108864;

/** Expected number of candidate events, Lambda T = 2n (2n - 1) numax T: the simulator's cost. */
export function expectedCandidates(numax: number, n: number, T: number): number {
  return 2 * n * (2 * n - 1) * numax * T;
}

/**
 * Phi(x) by Abramowitz & Stegun 26.2.17 (|error| < 7.5e-8): a cheap first guess for the thinning
 * test; a uniform closer than PHI_SQUEEZE to it is decided with the exact normalCdf instead.
 */
export function phiFast(x: number): number {
  const ax = Math.abs(x);
  if (ax > 40) return x > 0 ? 1 : 0;
  const t = 1 / (1 + 0.2316419 * ax);
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const q = 0.3989422804014327 * Math.exp(-0.5 * ax * ax) * poly;
  return x >= 0 ? 1 - q : q;
}

/** Margin for phiFast (over 10x its published bound; the test checks the bound on a dense grid). */
export const PHI_SQUEEZE = 1e-6;

/** f(u) in f64 (exact probit via normalCdf): used at sample times and exported for comparisons. */
export function makeHybridIntensity(p: HybridEventParams): (u: number) => number {
  const { numax, theta } = p;
  if (p.sigmoid === 'probit') {
    const inv = 1 / p.s;
    return (u) => numax * normalCdf((u - theta) * inv);
  }
  const beta = p.beta;
  return (u) => numax / (1 + Math.exp(-beta * (u - theta)));
}

function checkFinite(field: string, v: number, hint: string): void {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new ParameterError(field, `${v} is not a finite number`, hint);
}

function checkPositive(field: string, v: number, hint: string): void {
  if (typeof v !== 'number' || !(v > 0) || !Number.isFinite(v)) throw new ParameterError(field, `${v} must be a finite number > 0`, hint);
}

function checkWeight(field: string, v: number): void {
  if (typeof v !== 'number' || !(v >= 0) || !Number.isFinite(v)) {
    throw new ParameterError(field, `${v} must be a finite number >= 0 (the sign is fixed by the source: E excites, I inhibits)`, `pass |${field}|`);
  }
}

/** Validates the fields the chosen variant and sigmoid use. */
export function checkHybridEventParams(p: HybridEventParams): void {
  if (p.variant !== 'B1' && p.variant !== 'B2') throw new ParameterError('variant', `"${String(p.variant)}" is not B1 or B2`, "pass variant: 'B1' (source weights) or 'B2' (J_ab weights, sqrt(n) drive)");
  checkPositive('tau', p.tau, 'pass the leak time constant, e.g. tau: 1');
  checkPositive('numax', p.numax, 'pass the maximum rate, e.g. numax: 1');
  checkFinite('theta', p.theta, 'pass the sigmoid midpoint');
  if (p.sigmoid === 'probit') checkPositive('s', p.s, 'pass the probit width, e.g. s: 1');
  else if (p.sigmoid === 'logistic') checkPositive('beta', p.beta, 'pass the logistic slope, e.g. beta: 4');
  else throw new ParameterError('sigmoid', `"${String(p.sigmoid)}" is not probit or logistic`, "pass sigmoid: 'probit' or 'logistic'");
  if (p.variant === 'B1') {
    checkWeight('JE', p.JE);
    checkWeight('JI', p.JI);
    checkFinite('muE', p.muE, 'pass the E drive');
    checkFinite('muI', p.muI, 'pass the I drive');
  } else {
    for (const f of ['JEE', 'JEI', 'JIE', 'JII'] as const) checkWeight(f, p[f]);
    checkFinite('muhatE', p.muhatE, 'pass the E drive (scaled by sqrt(n))');
    checkFinite('muhatI', p.muhatI, 'pass the I drive (scaled by sqrt(n))');
  }
}

/** Initial potentials u_k ~ N(m_a, v_a): Box-Muller on 53-bit uniforms, one counter per neuron. */
function drawInitial(n: number, init: HybridEventInit, key: [number, number], replica: number): Float64Array {
  const u = new Float64Array(2 * n);
  const r = rngCreate(key, EVENT_STREAM_INIT, 0, replica, 0);
  for (let k = 0; k < 2 * n; k++) {
    rngReset(r, key, EVENT_STREAM_INIT, 0, replica, k);
    const u1 = ((rngNextU32(r) >>> 5) * TWO_26 + (rngNextU32(r) >>> 6) + 1) * TWO_M53; // (0, 1]
    const u2 = ((rngNextU32(r) >>> 5) * TWO_26 + (rngNextU32(r) >>> 6)) * TWO_M53; // [0, 1)
    const z = Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    u[k] = k < n ? init.mE + Math.sqrt(init.vE) * z : init.mI + Math.sqrt(init.vI) * z;
  }
  return u;
}

function checkOptions(o: EventDrivenOptions): { replica: number; maxEvents: number } {
  const { n, T } = o;
  if (!(Number.isInteger(n) && n >= 1)) throw new ParameterError('n', `${n} is not an integer >= 1`, 'pass the number of neurons per population, e.g. n: 100');
  checkPositive('T', T, 'pass the end time, e.g. T: 2 (in units of tau: T ~ 1-2 tau)');
  const replica = o.replica ?? 0;
  if (!(Number.isInteger(replica) && replica >= 0 && replica <= 0xffffffff)) throw new ParameterError('replica', `${replica} is not a u32`, 'pass an integer in [0, 2^32)');
  const maxEvents = o.maxEvents ?? DEFAULT_MAX_EVENTS;
  if (!(maxEvents > 0)) throw new ParameterError('maxEvents', `${maxEvents} must be > 0`, 'pass a positive bound on the candidate events, or leave it out');
  if (!Array.isArray(o.sampleTimes)) throw new ParameterError('sampleTimes', 'is not an array', 'pass an array of times in [0, T]');
  let prev = 0;
  for (let i = 0; i < o.sampleTimes.length; i++) {
    const ts = o.sampleTimes[i];
    if (!(ts >= prev && ts <= T)) {
      throw new ParameterError('sampleTimes', `sampleTimes[${i}] = ${ts} is not in [${prev}, T = ${T}]`, 'pass non-decreasing times in [0, T]');
    }
    prev = ts;
  }
  if ((o.init === undefined) === (o.initialU === undefined)) {
    throw new ParameterError('init', o.init ? 'both init and initialU were given' : 'neither init nor initialU was given', 'pass exactly one: init {mE, mI, vE, vI} or initialU (length 2n)');
  }
  if (o.init) {
    checkFinite('init.mE', o.init.mE, 'pass the initial E mean');
    checkFinite('init.mI', o.init.mI, 'pass the initial I mean');
    for (const f of ['vE', 'vI'] as const) {
      const v = o.init[f];
      if (!(v >= 0 && Number.isFinite(v))) throw new ParameterError(`init.${f}`, `${v} must be a finite variance >= 0`, 'pass a non-negative variance');
    }
  }
  if (o.initialU) {
    if (!(o.initialU instanceof Float64Array) || o.initialU.length !== 2 * n) {
      throw new ParameterError('initialU', `length ${o.initialU.length} is not 2n = ${2 * n}`, 'pass a Float64Array of 2n potentials, E neurons first');
    }
    for (let k = 0; k < 2 * n; k++) if (!Number.isFinite(o.initialU[k])) throw new ParameterError('initialU', `initialU[${k}] = ${o.initialU[k]} is not finite`, 'pass finite potentials');
  }
  return { replica, maxEvents };
}

function guardError(maxEvents: number, expected: number, what: string): ParameterError {
  return new ParameterError(
    'maxEvents',
    `${what} exceeds maxEvents = ${maxEvents}; the expected candidate count is 2n (2n - 1) numax T = ${expected.toExponential(3)}`,
    `raise maxEvents above ${Math.ceil(expected + 6 * Math.sqrt(expected) + 10)} (about 2e6 candidates per second), or reduce n, numax or T`,
  );
}

/** Simulates the hybrid network exactly by thinning; see the file header for the model and the cost. */
export function simulateEventDriven(p: HybridEventParams, o: EventDrivenOptions): EventDrivenResult {
  checkHybridEventParams(p);
  const { replica, maxEvents } = checkOptions(o);
  const { n, T, sampleTimes } = o;
  const twoN = 2 * n;
  const key = seedToKey(o.seed);
  const expected = expectedCandidates(p.numax, n, T);
  if (expected > maxEvents) throw guardError(maxEvents, expected, 'the expected candidate count');

  const sqrtN = Math.sqrt(n);
  const tau = p.tau;
  const invTau = 1 / tau;
  const b1 = p.variant === 'B1';
  // Fixed points tau c_a of the deterministic flow, per population (0 = E, 1 = I).
  const cE = b1 ? p.muE : sqrtN * p.muhatE;
  const cI = b1 ? p.muI : sqrtN * p.muhatI;
  const restE = tau * cE;
  const restI = tau * cI;
  // Signed jumps by source -> target (the B2 names are J_{target source}).
  const jumpEtoE = (b1 ? p.JE : p.JEE) / sqrtN;
  const jumpEtoI = (b1 ? p.JE : p.JIE) / sqrtN;
  const jumpItoE = -(b1 ? p.JI : p.JEI) / sqrtN;
  const jumpItoI = -(b1 ? p.JI : p.JII) / sqrtN;

  const u = o.initialU ? Float64Array.from(o.initialU) : drawInitial(n, o.init!, key, replica);
  const last = new Float64Array(twoN);
  const f = makeHybridIntensity(p);
  const probit = p.sigmoid === 'probit';
  const numax = p.numax;
  const theta = p.theta;
  const invS = 1 / p.s;
  const beta = p.beta;

  const advance = (i: number, t: number): void => {
    const rest = i < n ? restE : restI;
    u[i] = rest + (u[i] - rest) * Math.exp((last[i] - t) * invTau);
    last[i] = t;
  };

  const res: EventDrivenResult = { t: [], mE: [], mI: [], vE: [], vI: [], nuE: [], nuI: [], X: [], XI: [], eventCount: [], events: 0, candidates: 0, finalU: u };
  let accepted = 0;
  const record = (ts: number): void => {
    let sE = 0, sI = 0, fE = 0, fI = 0;
    for (let i = 0; i < twoN; i++) {
      advance(i, ts);
      const fi = f(u[i]);
      if (i < n) { sE += u[i]; fE += fi; } else { sI += u[i]; fI += fi; }
    }
    const mE = sE / n, mI = sI / n;
    // Second pass about the mean: no cancellation when the mean is large against the spread.
    let qE = 0, qI = 0;
    for (let i = 0; i < twoN; i++) {
      if (i < n) { const d = u[i] - mE; qE += d * d; } else { const d = u[i] - mI; qI += d * d; }
    }
    const nuE = fE / n, nuI = fI / n;
    res.t.push(ts);
    res.mE.push(mE);
    res.mI.push(mI);
    res.vE.push(qE / n);
    res.vI.push(qI / n);
    res.nuE.push(nuE);
    res.nuI.push(nuI);
    if (b1) {
      const x = sqrtN * (p.JE * nuE - p.JI * nuI);
      res.X.push(x);
      res.XI.push(x);
    } else {
      res.X.push(sqrtN * (p.JEE * nuE - p.JEI * nuI + p.muhatE));
      res.XI.push(sqrtN * (p.JIE * nuE - p.JII * nuI + p.muhatI));
    }
    res.eventCount.push(accepted);
  };

  // Event words: Philox blocks at counter (neuron 0, instance replica, step, stream << 16 | block), the
  // layout of rngNextU32; the step moves on every 2^16 blocks so the block index never spills into the stream.
  const buf = new Uint32Array(4);
  let pos = 4;
  let block = 0;
  let step = 0;
  const k0 = key[0], k1 = key[1];
  const word = (): number => {
    if (pos === 4) {
      if (block === BLOCKS_PER_STEP) {
        block = 0;
        step++;
      }
      philoxInto(buf, 0, replica, step, ((EVENT_STREAM_EVENTS << 16) | block) >>> 0, k0, k1);
      block++;
      pos = 0;
    }
    return buf[pos++];
  };
  const lambda = twoN * (twoN - 1) * numax;
  const others = twoN - 1;
  // Exact uniform target index among `others` from one word: reject the top 2^32 mod others values.
  const limit = Math.floor(4294967296 / others) * others;
  let si = 0;
  const ns = sampleTimes.length;
  let t = 0;
  let candidates = 0;
  for (;;) {
    // Exponential gap from a 53-bit (0, 1] uniform; memorylessness lets sample times fall inside a gap.
    const e = (word() >>> 5) * TWO_26 + (word() >>> 6) + 1;
    const tn = t - Math.log(e * TWO_M53) / lambda;
    while (si < ns && sampleTimes[si] < tn) record(sampleTimes[si++]);
    if (tn > T) break;
    t = tn;
    if (++candidates > maxEvents) throw guardError(maxEvents, expected, `the candidate count (${candidates} at t = ${t})`);
    // One 53-bit uniform picks the source (integer part) and decides acceptance (fractional part, uniform with 53 - log2(2n) bits).
    const x = ((word() >>> 5) * TWO_26 + (word() >>> 6)) * TWO_M53 * twoN;
    let j = Math.floor(x);
    if (j >= twoN) j = twoN - 1; // (1 - 2^-53) * 2n can round up to 2n.
    const r = x - j;
    advance(j, t);
    const uj = u[j];
    let accept: boolean;
    if (probit) {
      const z = (uj - theta) * invS;
      const g = phiFast(z);
      accept = r < g - PHI_SQUEEZE ? true : r >= g + PHI_SQUEEZE ? false : r < normalCdf(z);
    } else {
      accept = r < 1 / (1 + Math.exp(-beta * (uj - theta)));
    }
    if (!accept) continue;
    accepted++;
    let w = word();
    while (w >= limit) w = word();
    let k = w % others;
    if (k >= j) k++;
    advance(k, t);
    u[k] += j < n ? (k < n ? jumpEtoE : jumpEtoI) : k < n ? jumpItoE : jumpItoI;
  }
  // Every sample time <= T < tn was recorded above.
  for (let i = 0; i < twoN; i++) advance(i, T);
  res.events = accepted;
  res.candidates = candidates;
  return res;
}
