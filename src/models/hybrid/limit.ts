// The n -> infinity limit of the balanced hybrid E-I network (variants B1 and B2): Gaussian means and variances from autonomous ODEs, steady states, and no-blow-up checks that report instead of returning NaN. The model is a reconstruction from the abstract of MacLaurin & Vilanova (arXiv 2412.17273), see docs/models/hybrid-balanced.md.
import { ParameterError } from '../../errors.ts';
import type { HybridModelParams } from './params.ts';
import { invRate, rateDerivs, rateWidth, type RateDerivs } from './sigmoid.ts';

export { rateOf, rateDerivs, invRate, invRateProbit, gaussHermiteNormal, rateWidth, HERMITE_NODES, LOGISTIC_SWITCH } from './sigmoid.ts';
export type { SigmoidParams, RateDerivs, NormalQuadrature } from './sigmoid.ts';

/** Limit parameters. B1 uses JE, JI, muE, muI; B2 uses JEE, JEI, JIE, JII, muhatE, muhatI; both use tau and the sigmoid. */
export type HybridLimitParams = HybridModelParams;

/** Initial data: u ~ N(mE, vE) on E neurons and N(mI, vI) on I neurons at t = 0. */
export interface LimitInit {
  mE: number;
  mI: number;
  vE: number;
  vI: number;
}

/** Names of the conditions whose failure the limit reports (the string says what went wrong). */
export type LimitCondition =
  | 'invalid parameter'
  | 'tau <= 0'
  | 'degenerate: JE = JI and muE = muI'
  | 'no balancing shift'
  | 'JE gE >= JI gI'
  | 'balance lost'
  | 'non-finite state'
  | 'D <= 0'
  | 'nu outside (0, numax)';

/** One failed condition: what failed, with the numbers, and what to change. */
export interface ConditionFailure {
  condition: LimitCondition;
  detail: string;
  /** The hybrid parameter (as in --set) to change, when one is to blame. */
  param?: string;
}

export interface ConditionReport {
  ok: boolean;
  failures: ConditionFailure[];
}

/** Where and why the limit stops existing. */
export interface BlowupReport {
  condition: LimitCondition;
  t: number;
  detail: string;
}

/**
 * A limit trajectory sampled at the requested times. Samples are the state at t = 0+ (after the jump)
 * and later; when `blowup` is set, only samples at times the solution reached are returned (none if it
 * fails at t = 0). B1: c0 is the common jump of both means at t = 0+ (null if none exists); B2: c0 is null
 * and each mean jumps on its own to the value slaved to its rate (see `jump`). X is the sqrt(n)-scale
 * imbalance lim sqrt(n) (JE nubar_E - JI nubar_I) for B1; it is identically 0 for B2, whose O(sqrt n)
 * drive is cancelled at O(sqrt n) and leaves no O(1) multiplier in the mean equations.
 */
export interface LimitTrajectory {
  c0: number | null;
  jump: { E: number; I: number };
  t: number[];
  mE: number[];
  mI: number[];
  vE: number[];
  vI: number[];
  nuE: number[];
  nuI: number[];
  X: number[];
  blowup: BlowupReport | null;
}

export interface SteadyState {
  mE: number;
  mI: number;
  vE: number;
  vI: number;
  nuE: number;
  nuI: number;
  X: number;
}

/** Options of the limit solvers. B1 integrates with classical RK4 at a fixed step (each step shortened to land exactly on sample times). */
export interface LimitSolveOptions {
  /** Final time (same unit as tau). */
  T: number;
  /** RK4 step; default 1e-3 tau (coarser when T > 200 tau: at most 2e5 steps). B2 is solved in closed form and ignores it. */
  dt?: number;
  /** Times in [0, T], non-decreasing; default 201 evenly spaced from 0 to T. */
  sampleTimes?: number[];
  /**
   * B1: after each step, restore JE nuE = JI nuI exactly by a Newton common shift (default true). The ODE
   * keeps the balance by construction; the projection only removes RK4's O(dt^4) drift.
   */
  project?: boolean;
}

const finite = Number.isFinite;

function fmt(x: number): string {
  return Number.isFinite(x) ? Number(x.toPrecision(6)).toString() : String(x);
}

// ---------------------------------------------------------------------------------------------
// Parameter validation (the problems a user fixes by editing a number, not dynamics).

function sigmoidFailures(p: HybridLimitParams): ConditionFailure[] {
  const out: ConditionFailure[] = [];
  const bad = (field: string, value: unknown, fix: string) =>
    out.push({ condition: 'invalid parameter', detail: `${field} = ${String(value)} is invalid; ${fix}`, param: field });
  if (p.sigmoid !== 'probit' && p.sigmoid !== 'logistic') bad('sigmoid', p.sigmoid, "use 'probit' or 'logistic'");
  if (!(p.numax > 0) || !finite(p.numax)) bad('numax', p.numax, 'set numax to a finite value > 0');
  if (!finite(p.theta)) bad('theta', p.theta, 'set theta to a finite value');
  if (p.sigmoid === 'probit' && (!(p.s > 0) || !finite(p.s))) bad('s', p.s, 'set the probit width s to a finite value > 0');
  if (p.sigmoid === 'logistic' && (!(p.beta > 0) || !finite(p.beta))) bad('beta', p.beta, 'set the logistic slope beta to a finite value > 0');
  if (!finite(p.tau)) bad('tau', p.tau, 'set tau to a finite value > 0');
  else if (!(p.tau > 0)) out.push({ condition: 'tau <= 0', detail: `tau = ${p.tau}: the leak time constant must be > 0; set tau > 0 (--set tau=1)`, param: 'tau' });
  return out;
}

function paramFailuresB1(p: HybridLimitParams): ConditionFailure[] {
  const out = sigmoidFailures(p);
  for (const k of ['JE', 'JI'] as const) {
    if (!(p[k] > 0) || !finite(p[k])) out.push({ condition: 'invalid parameter', detail: `${k} = ${p[k]} is invalid; B1 needs finite synaptic weights JE > 0 and JI > 0 (e.g. --set ${k}=${k === 'JE' ? 1 : 2})`, param: k });
  }
  for (const k of ['muE', 'muI'] as const) {
    if (!finite(p[k])) out.push({ condition: 'invalid parameter', detail: `${k} = ${p[k]} is invalid; set a finite drift`, param: k });
  }
  if (p.JE === p.JI && p.muE === p.muI && finite(p.JE) && finite(p.muE)) {
    out.push({
      condition: 'degenerate: JE = JI and muE = muI',
      detail: `JE = JI = ${p.JE} and muE = muI = ${p.muE}: E and I are then the same population, the balance JE nuE = JI nuI holds for every common shift and fixes no multiplier X; make JI > JE (e.g. --set JI=${fmt(2 * p.JE)}) or muE != muI`,
      param: 'JI',
    });
  }
  return out;
}

function paramFailuresB2(p: HybridLimitParams): ConditionFailure[] {
  const out = sigmoidFailures(p);
  for (const k of ['JEE', 'JEI', 'JIE', 'JII', 'muhatE', 'muhatI'] as const) {
    if (!finite(p[k])) out.push({ condition: 'invalid parameter', detail: `${k} = ${p[k]} is invalid; set a finite value`, param: k });
  }
  return out;
}

function initFailures(init: LimitInit): ConditionFailure[] {
  const out: ConditionFailure[] = [];
  for (const k of ['mE', 'mI'] as const) {
    if (!finite(init[k])) out.push({ condition: 'invalid parameter', detail: `initial ${k} = ${init[k]} (${k}0) is invalid; pass a finite mean`, param: `${k}0` });
  }
  for (const k of ['vE', 'vI'] as const) {
    if (!(init[k] >= 0) || !finite(init[k])) out.push({ condition: 'invalid parameter', detail: `initial ${k} = ${init[k]} (${k}0) is invalid; pass a finite variance >= 0`, param: `${k}0` });
  }
  return out;
}

/** Throws the first failure as a ParameterError naming the user's parameter (hybrid.JI, ...), else `context`. */
function throwFirst(failures: ConditionFailure[], context: string): void {
  if (failures.length === 0) return;
  const [first] = failures;
  const cut = first.detail.indexOf('; ');
  const problem = cut >= 0 ? first.detail.slice(0, cut) : first.detail;
  const fix = cut >= 0 ? first.detail.slice(cut + 2) : 'see checkConditions for the full report';
  const field = first.param ? `hybrid.${first.param}` : context;
  const what = first.condition === 'invalid parameter' ? problem : `${first.condition}: ${problem}`;
  throw new ParameterError(field, first.param ? `${what} (${context})` : what, fix);
}

// ---------------------------------------------------------------------------------------------
// Root finding.

/** Illinois (modified regula falsi) on a sign-changing bracket, with bisection whenever it stalls. */
function solveBracketed(f: (x: number) => number, a: number, b: number, fa: number, fb: number): number {
  if (fa === 0) return a;
  if (fb === 0) return b;
  let side = 0;
  for (let it = 0; it < 300; it++) {
    let c = (a * fb - b * fa) / (fb - fa);
    if (!(c > Math.min(a, b) && c < Math.max(a, b)) || it % 8 === 7) c = 0.5 * (a + b);
    const fc = f(c);
    if (fc === 0 || Math.abs(b - a) <= 2e-16 * Math.max(1, Math.abs(c))) return c;
    if (Math.sign(fc) === Math.sign(fb)) {
      b = c;
      fb = fc;
      if (side === -1) fa /= 2;
      side = -1;
    } else {
      a = c;
      fa = fc;
      if (side === 1) fb /= 2;
      side = 1;
    }
  }
  return 0.5 * (a + b);
}

/** A common shift c with JE nuE(mE + c, vE) = JI nuI(mI + c, vI), and its stability. */
export interface BalancingShift {
  /** The chosen root: the stable one (slope < 0) nearest the start of the search, else the nearest unstable one; null if none. */
  c: number | null;
  /** d/dc (JE nuE - JI nuI) = JE gE - JI gI at c: negative means inhibition responds more strongly, so the balance is stable. */
  slope: number;
  stable: boolean;
  /** Every root met by the search (up to and including the chosen one). */
  roots: { c: number; slope: number }[];
}

const SHIFT_STEP = 1 / 16;
const SHIFT_SPAN = 40;

/**
 * Finds the balancing common shift: scans F(c) = JE nuE(mE + c) - JI nuI(mI + c) outward from `near`
 * (default 0), alternating sides, solving each sign change on a bracket. F changes only where a rate is
 * between 0 and numax, i.e. within +-40 rate widths of theta - mE or theta - mI; those two windows are
 * scanned in steps of 1/16 rate width, and any stretch between them (or from `near` to them) is one cell,
 * so the scan has at most ~2600 cells however far theta lies from the means. Stops at the first stable
 * root (F decreasing), so the stable root nearest `near` is returned; roots closer together than one step
 * can be missed (two in one cell). Throws ParameterError (naming theta, mE0 or mI0) when the windows lie so
 * far out that a step no longer changes c in double precision.
 */
export function findBalancingShift(p: HybridLimitParams, mE: number, vE: number, mI: number, vI: number, near = 0): BalancingShift {
  const F = (c: number): number => {
    const a = p.JE * rateDerivs(p, mE + c, vE).nu;
    const b = p.JI * rateDerivs(p, mI + c, vI).nu;
    // Both rates underflowed: the sign is unknown.
    return a === 0 && b === 0 ? NaN : a - b;
  };
  const w = Math.max(rateWidth(p, vE), rateWidth(p, vI));
  const step = SHIFT_STEP * w;
  const half = SHIFT_SPAN * w;
  const windows = [p.theta - Math.max(mE, mI), p.theta - Math.min(mE, mI)].map((mid) => [mid - half, mid + half] as const);
  for (const [a, b] of windows) {
    // A step below the spacing of doubles would never move the scan (the old scan spun forever here).
    if (!(a + step > a && b - step < b && finite(a) && finite(b))) {
      const width = p.sigmoid === 'probit' ? `s = ${fmt(p.s)}` : `1/beta = ${fmt(1 / p.beta)}`;
      // Whichever is huge is to blame: theta far out, or an initial mean far from it.
      const culprit = Math.abs(p.theta) >= Math.max(Math.abs(mE), Math.abs(mI)) ? 'theta' : Math.abs(mE) >= Math.abs(mI) ? 'mE0' : 'mI0';
      const example = culprit === 'theta' ? `--set theta=${fmt(0.5 * (mE + mI))}` : `--set ${culprit}=${fmt(p.theta)}`;
      throw new ParameterError(
        `hybrid.${culprit}`,
        `theta = ${fmt(p.theta)} and the means of u (mE = ${fmt(mE)}, mI = ${fmt(mI)}) are too far apart for the sigmoid width (${width}, rate width ${fmt(w)}): the balancing shift near ${fmt(0.5 * (a + b))} cannot be resolved in double precision`,
        `keep |theta - mE0| and |theta - mI0| below about 1e12 times the sigmoid width (e.g. ${example}), or widen the sigmoid (s or 1/beta)`,
      );
    }
  }
  // Scan points: both windows on the step grid, plus `near` itself; consecutive points bound one cell.
  const pts: number[] = [near];
  for (const [a, b] of windows) {
    const count = Math.ceil((b - a) / step);
    for (let k = 0; k <= count; k++) pts.push(k === count ? b : a + k * step);
  }
  pts.sort((x, y) => x - y);
  const xs = pts.filter((x, i) => i === 0 || x > pts[i - 1]);
  // F on demand: the scan usually stops within a few cells of `near`.
  const known = new Float64Array(xs.length);
  const have = new Uint8Array(xs.length);
  const fAt = (i: number): number => {
    if (!have[i]) {
      known[i] = F(xs[i]);
      have[i] = 1;
    }
    return known[i];
  };
  const roots: { c: number; slope: number }[] = [];
  // Checks the cell [xs[i], xs[i + 1]] for a sign change; returns true if it held a stable root.
  const cell = (i: number): boolean => {
    const c1 = xs[i], c2 = xs[i + 1], f1 = fAt(i), f2 = fAt(i + 1);
    if (!(finite(f1) && finite(f2))) return false;
    if (!((f1 > 0 && f2 <= 0) || (f1 < 0 && f2 >= 0) || (f1 === 0 && f2 !== 0))) return false;
    const r = f2 === 0 ? c2 : solveBracketed(F, c1, c2, f1, f2);
    const slope = p.JE * rateDerivs(p, mE + r, vE).g - p.JI * rateDerivs(p, mI + r, vI).g;
    roots.push({ c: r, slope });
    return slope < 0;
  };
  const i0 = xs.indexOf(near);
  if (fAt(i0) === 0 && i0 > 0) {
    // Exactly balanced already.
    if (cell(i0 - 1)) return done(roots, true);
  }
  // Cells in order of how far their outer end lies from `near` (alternating sides on the uniform grid).
  for (let right = i0, left = i0; right < xs.length - 1 || left > 0; ) {
    const goRight = left === 0 || (right < xs.length - 1 && xs[right + 1] - near <= near - xs[left - 1]);
    if (goRight ? cell(right++) : cell(--left)) return done(roots, true);
  }
  return done(roots, false);
}

function done(roots: { c: number; slope: number }[], foundStable: boolean): BalancingShift {
  const pickFrom = foundStable ? roots.filter((r) => r.slope < 0) : roots;
  if (pickFrom.length === 0) return { c: null, slope: NaN, stable: false, roots };
  // Roots are met nearest-first; the search stops at the first stable one.
  const r = foundStable ? pickFrom[pickFrom.length - 1] : pickFrom[0];
  return { c: r.c, slope: r.slope, stable: r.slope < 0, roots };
}

function noShiftDetail(p: HybridLimitParams, mE: number, mI: number): string {
  const hint =
    p.JI > p.JE
      ? `with JI > JE a balance needs the E rate to exceed the I rate by JI/JE = ${fmt(p.JI / p.JE)}; start E above I (mE > mI) or raise muE - muI, or lower JI/JE`
      : `with JE >= JI the balance needs nuI >= nuE; make JI > JE so that inhibition can balance excitation`;
  return `no common shift c makes JE nuE(mE + c) = JI nuI(mI + c) (mE = ${fmt(mE)}, mI = ${fmt(mI)}, JE = ${fmt(p.JE)}, JI = ${fmt(p.JI)}); ${hint}`;
}

function unstableDetail(p: HybridLimitParams, gE: number, gI: number, where: string): string {
  return `${where}: JE gE = ${fmt(p.JE * gE)} >= JI gI = ${fmt(p.JI * gI)}, so excitation responds at least as strongly as inhibition to a common shift and the balance is unstable (the sqrt(n) common mode runs away); raise JI or lower JE so that JI gI > JE gE (with equal variances this means keeping mE > mI, e.g. muE > muI)`;
}

// ---------------------------------------------------------------------------------------------
// Conditions.

/** B1 no-blow-up conditions at the initial state: parameters valid, a balancing shift c0 exists, and JE gE < JI gI there. */
export function checkConditionsB1(p: HybridLimitParams, init: LimitInit): ConditionReport {
  const failures = [...paramFailuresB1(p), ...initFailures(init)];
  if (failures.length === 0) {
    const shift = findBalancingShift(p, init.mE, init.vE, init.mI, init.vI);
    if (shift.c === null) {
      failures.push({ condition: 'no balancing shift', detail: noShiftDetail(p, init.mE, init.mI) });
    } else if (!shift.stable) {
      const dE = rateDerivs(p, init.mE + shift.c, init.vE);
      const dI = rateDerivs(p, init.mI + shift.c, init.vI);
      failures.push({ condition: 'JE gE >= JI gI', detail: unstableDetail(p, dE.g, dI.g, `at the balancing shift c0 = ${fmt(shift.c)}`) });
    }
  }
  return { ok: failures.length === 0, failures };
}

/** Rates of the B2 balanced state: muhat_a + J_aE nuE - J_aI nuI = 0, a = E, I (Cramer's rule; D = JEI JIE - JEE JII). */
export function balanceRatesB2(p: HybridLimitParams): { nuE: number; nuI: number; D: number } {
  const D = p.JEI * p.JIE - p.JEE * p.JII;
  return { nuE: (p.muhatE * p.JII - p.JEI * p.muhatI) / D, nuI: (p.JIE * p.muhatE - p.JEE * p.muhatI) / D, D };
}

/** B2 conditions: parameters valid, D = JEI JIE - JEE JII > 0 and 0 < nu_a < numax for the balance rates. */
export function checkConditionsB2(p: HybridLimitParams): ConditionReport {
  const failures = paramFailuresB2(p);
  if (failures.length === 0) {
    const { nuE, nuI, D } = balanceRatesB2(p);
    if (!(D > 0)) {
      failures.push({
        condition: 'D <= 0',
        detail: `D = JEI JIE - JEE JII = ${fmt(D)} <= 0: recurrent excitation outweighs cross inhibition and the balanced state is ${D === 0 ? 'undetermined' : 'unstable'}; raise JEI or JIE, or lower JEE or JII, so that JEI JIE > JEE JII`,
      });
    } else {
      for (const [name, nu] of [['nuE', nuE], ['nuI', nuI]] as const) {
        if (!(nu > 0 && nu < p.numax)) {
          failures.push({
            condition: 'nu outside (0, numax)',
            detail: `the balance rate ${name} = ${fmt(nu)} is outside (0, numax = ${fmt(p.numax)}): no Gaussian population can fire at it; choose drives with muhatE/muhatI > JEI/JII > JEE/JIE (both rates positive), and raise numax or lower the drives if a rate exceeds numax`,
          });
        }
      }
    }
  }
  return { ok: failures.length === 0, failures };
}

// ---------------------------------------------------------------------------------------------
// Sampling helpers.

function resolveSamples(opts: LimitSolveOptions): number[] {
  const { T } = opts;
  if (!(T >= 0) || !finite(T)) throw new ParameterError('T', `${T}`, 'pass a finite final time T >= 0');
  if (opts.sampleTimes === undefined) return Array.from({ length: 201 }, (_, k) => (T * k) / 200);
  const ts = opts.sampleTimes;
  for (let k = 0; k < ts.length; k++) {
    if (!(ts[k] >= 0 && ts[k] <= T) || (k > 0 && ts[k] < ts[k - 1])) {
      throw new ParameterError('sampleTimes', `sampleTimes[${k}] = ${ts[k]} is not in [0, T = ${T}] or not non-decreasing`, 'pass sorted times between 0 and T');
    }
  }
  return [...ts];
}

function emptyTrajectory(c0: number | null, jump: { E: number; I: number }, blowup: BlowupReport | null): LimitTrajectory {
  return { c0, jump, t: [], mE: [], mI: [], vE: [], vI: [], nuE: [], nuI: [], X: [], blowup };
}

// ---------------------------------------------------------------------------------------------
// B1.

interface B1Eval {
  dE: RateDerivs;
  dI: RateDerivs;
  denom: number;
  X: number;
  dm: [number, number];
  dv: [number, number];
}

/** The right-hand side: X from differentiating JE nuE = JI nuI along the flow. */
function evalB1(p: HybridLimitParams, mE: number, mI: number, vE: number, vI: number): B1Eval {
  const dE = rateDerivs(p, mE, vE);
  const dI = rateDerivs(p, mI, vI);
  const S = p.JE * p.JE * dE.nu + p.JI * p.JI * dI.nu;
  const dvE = (-2 * vE) / p.tau + S;
  const dvI = (-2 * vI) / p.tau + S;
  const aE = -mE / p.tau + p.muE;
  const aI = -mI / p.tau + p.muI;
  const denom = p.JE * dE.g - p.JI * dI.g;
  const X = (p.JI * (dI.g * aI + dI.h * dvI) - p.JE * (dE.g * aE + dE.h * dvE)) / denom;
  return { dE, dI, denom, X, dm: [aE + X, aI + X], dv: [dvE, dvI] };
}

/** True when JE gE < JI gI holds with a margin above rounding (both slopes underflowing counts as failure). */
function stableSlope(p: HybridLimitParams, e: B1Eval): boolean {
  return e.denom < -1e-12 * (p.JE * e.dE.g + p.JI * e.dI.g);
}

/** Default cap on the RK4 steps of solveLimitB1 (a 1e-3 tau step over T = 1e4 tau would be 1e7 steps, minutes for logistic). */
const MAX_DEFAULT_RK4_STEPS = 200_000;

/**
 * Solves the B1 limit: dm_a/dt = -m_a/tau + mu_a + X(t), dv_a/dt = -2 v_a/tau + JE^2 nuE + JI^2 nuI, with X
 * keeping JE nuE = JI nuI. Initial means jump by the common shift c0 at t = 0+. Fixed-step classical RK4
 * (default dt = 1e-3 tau) plus, by default, a Newton projection back onto the balance after each step.
 * Invalid parameters throw ParameterError; loss of the limit (no shift, JE gE >= JI gI, non-finite state)
 * ends the integration with `blowup` set.
 */
export function solveLimitB1(p: HybridLimitParams, init: LimitInit, opts: LimitSolveOptions): LimitTrajectory {
  throwFirst([...paramFailuresB1(p), ...initFailures(init)], 'B1 limit parameters');
  const samples = resolveSamples(opts);
  // The default step is 1e-3 tau, coarsened so a long run (T >> tau) costs at most MAX_DEFAULT_RK4_STEPS steps.
  const T = samples.length ? samples[samples.length - 1] : 0;
  const dt = opts.dt ?? Math.max(1e-3 * p.tau, T / MAX_DEFAULT_RK4_STEPS);
  if (!(dt > 0) || !finite(dt)) throw new ParameterError('dt', `${dt}`, 'pass a step dt > 0 (default 1e-3 tau)');
  const project = opts.project ?? true;

  const shift = findBalancingShift(p, init.mE, init.vE, init.mI, init.vI);
  if (shift.c === null) {
    return emptyTrajectory(null, { E: 0, I: 0 }, { condition: 'no balancing shift', t: 0, detail: noShiftDetail(p, init.mE, init.mI) });
  }
  const c0 = shift.c;
  const jump = { E: c0, I: c0 };
  let mE = init.mE + c0;
  let mI = init.mI + c0;
  let vE = init.vE;
  let vI = init.vI;
  let t = 0;
  let cur = evalB1(p, mE, mI, vE, vI);
  if (!stableSlope(p, cur)) {
    return emptyTrajectory(c0, jump, { condition: 'JE gE >= JI gI', t: 0, detail: unstableDetail(p, cur.dE.g, cur.dI.g, `at t = 0+ (balancing shift c0 = ${fmt(c0)})`) });
  }

  const out = emptyTrajectory(c0, jump, null);
  const record = (tt: number, e: B1Eval) => {
    out.t.push(tt);
    out.mE.push(mE);
    out.mI.push(mI);
    out.vE.push(vE);
    out.vI.push(vI);
    out.nuE.push(e.dE.nu);
    out.nuI.push(e.dI.nu);
    out.X.push(e.X);
  };
  const fail = (condition: LimitCondition, tt: number, detail: string): LimitTrajectory => {
    out.blowup = { condition, t: tt, detail };
    return out;
  };

  // One RK4 stage evaluation that reports instead of producing NaN.
  type Stage = { ok: true; e: B1Eval } | { ok: false; condition: LimitCondition; detail: string };
  const stage = (a: number, b: number, c: number, d: number): Stage => {
    if (!(finite(a) && finite(b) && finite(c) && finite(d) && c >= 0 && d >= 0)) {
      return { ok: false, condition: 'non-finite state', detail: `the state became invalid (mE = ${fmt(a)}, mI = ${fmt(b)}, vE = ${fmt(c)}, vI = ${fmt(d)}); X is unbounded near a loss of balance: check the conditions with checkConditionsB1, or reduce dt` };
    }
    const e = evalB1(p, a, b, c, d);
    if (!stableSlope(p, e)) {
      const vanished = e.dE.g === 0 && e.dI.g === 0 ? ' (both rate slopes vanished: the balancing shift ran off to where the rates are 0 or numax, as happens when mE - mI falls too low to be balanced)' : '';
      return { ok: false, condition: 'JE gE >= JI gI', detail: unstableDetail(p, e.dE.g, e.dI.g, `at mE = ${fmt(a)}, mI = ${fmt(b)}${vanished}`) };
    }
    if (!finite(e.X)) return { ok: false, condition: 'non-finite state', detail: `X = ${e.X} at mE = ${fmt(a)}, mI = ${fmt(b)}; check the conditions with checkConditionsB1` };
    return { ok: true, e };
  };

  // Set once the flow has stopped moving (to rounding): later samples repeat the state instead of stepping.
  let stationary = false;
  for (const ts of samples) {
    const span = ts - t;
    const nSteps = span > 0 && !stationary ? Math.max(1, Math.ceil(span / dt - 1e-9)) : 0;
    for (let k = 0; k < nSteps; k++) {
      const tNext = k === nSteps - 1 ? ts : t + span / nSteps;
      const h = tNext - t;
      const k1 = cur;
      const s2 = stage(mE + 0.5 * h * k1.dm[0], mI + 0.5 * h * k1.dm[1], vE + 0.5 * h * k1.dv[0], vI + 0.5 * h * k1.dv[1]);
      if (!s2.ok) return fail(s2.condition, t, s2.detail);
      const k2 = s2.e;
      const s3 = stage(mE + 0.5 * h * k2.dm[0], mI + 0.5 * h * k2.dm[1], vE + 0.5 * h * k2.dv[0], vI + 0.5 * h * k2.dv[1]);
      if (!s3.ok) return fail(s3.condition, t, s3.detail);
      const k3 = s3.e;
      const s4 = stage(mE + h * k3.dm[0], mI + h * k3.dm[1], vE + h * k3.dv[0], vI + h * k3.dv[1]);
      if (!s4.ok) return fail(s4.condition, t, s4.detail);
      const k4 = s4.e;
      let nmE = mE + (h / 6) * (k1.dm[0] + 2 * k2.dm[0] + 2 * k3.dm[0] + k4.dm[0]);
      let nmI = mI + (h / 6) * (k1.dm[1] + 2 * k2.dm[1] + 2 * k3.dm[1] + k4.dm[1]);
      const nvE = vE + (h / 6) * (k1.dv[0] + 2 * k2.dv[0] + 2 * k3.dv[0] + k4.dv[0]);
      const nvI = vI + (h / 6) * (k1.dv[1] + 2 * k2.dv[1] + 2 * k3.dv[1] + k4.dv[1]);
      let next = stage(nmE, nmI, nvE, nvI);
      if (!next.ok) return fail(next.condition, tNext, next.detail);
      if (project) {
        for (let it = 0; it < 6; it++) {
          const e: B1Eval = next.e;
          const F = p.JE * e.dE.nu - p.JI * e.dI.nu;
          if (Math.abs(F) <= 1e-14 * (p.JE * e.dE.nu + p.JI * e.dI.nu)) break;
          const dc = -F / e.denom;
          nmE += dc;
          nmI += dc;
          next = stage(nmE, nmI, nvE, nvI);
          if (!next.ok) return fail(next.condition, tNext, next.detail);
        }
        const F = p.JE * next.e.dE.nu - p.JI * next.e.dI.nu;
        if (!(Math.abs(F) <= 1e-8 * (p.JE * next.e.dE.nu + p.JI * next.e.dI.nu))) {
          const e = next.e;
          return fail(
            'balance lost',
            tNext,
            `JE nuE - JI nuI = ${fmt(F)} could not be restored by a common shift (nuE = ${fmt(e.dE.nu)}, nuI = ${fmt(e.dI.nu)}, JE gE = ${fmt(p.JE * e.dE.g)}, JI gI = ${fmt(p.JI * e.dI.g)}, mE - mI = ${fmt(nmE - nmI)}): X is diverging, either at a fold where JE gE reaches JI gI or because mE - mI fell too low for inhibition to balance excitation and the shift runs off to vanishing rates; raise muE - muI or JI/JE so that the balance persists (a smaller dt only locates the loss more precisely)`,
          );
        }
      }
      mE = nmE;
      mI = nmI;
      vE = nvE;
      vI = nvI;
      t = tNext;
      cur = next.e;
      const speed = Math.max(Math.abs(cur.dm[0]), Math.abs(cur.dm[1]), Math.abs(cur.dv[0]), Math.abs(cur.dv[1])) * p.tau;
      if (speed <= 1e-13 * Math.max(1, Math.abs(mE), Math.abs(mI), vE, vI)) {
        stationary = true;
        break;
      }
    }
    if (stationary) t = ts;
    record(ts, cur);
  }
  return out;
}

/**
 * The B1 steady state: v* = tau (JE^2 nuE + JI^2 nuI)/2 for both populations, mE* - mI* = tau (muE - muI),
 * JE nuE = JI nuI, X* = mE* / tau - muE. Nested bracketed solves: for each v the stable balancing shift of
 * (tau muE, tau muI) gives tau X, then v solves v = G(v) on [0, tau (JE^2 + JI^2) numax / 2].
 */
export function steadyStateB1(p: HybridLimitParams): SteadyState {
  throwFirst(paramFailuresB1(p), 'B1 limit parameters');
  const baseE = p.tau * p.muE;
  const baseI = p.tau * p.muI;
  const at = (v: number) => {
    const shift = findBalancingShift(p, baseE, v, baseI, v);
    if (shift.c === null || !shift.stable) {
      const why =
        shift.c === null
          ? noShiftDetail(p, baseE, baseI)
          : unstableDetail(p, rateDerivs(p, baseE + shift.c, v).g, rateDerivs(p, baseI + shift.c, v).g, `at the balancing shift for variance ${fmt(v)}`);
      const cut = why.lastIndexOf('; ');
      throw new ParameterError('B1 steady state', `no stable balanced steady state (${shift.c === null ? 'no balancing shift' : 'JE gE >= JI gI'}): ${why.slice(0, cut)}`, why.slice(cut + 2));
    }
    const c = shift.c;
    const nuE = rateDerivs(p, baseE + c, v).nu;
    const nuI = rateDerivs(p, baseI + c, v).nu;
    return { c, nuE, nuI, resid: v - (p.tau * (p.JE * p.JE * nuE + p.JI * p.JI * nuI)) / 2 };
  };
  const vMax = (p.tau * (p.JE * p.JE + p.JI * p.JI) * p.numax) / 2;
  const r0 = at(0);
  const r1 = at(vMax);
  const v = solveBracketed((x) => at(x).resid, 0, vMax, r0.resid, r1.resid);
  const s = at(v);
  return { mE: baseE + s.c, mI: baseI + s.c, vE: v, vI: v, nuE: s.nuE, nuI: s.nuI, X: s.c / p.tau };
}

// ---------------------------------------------------------------------------------------------
// B2.

/** Stationary variances of B2: v*_a = tau (J_aE^2 nuE + J_aI^2 nuI) / 2. */
function b2Variances(p: HybridLimitParams, nuE: number, nuI: number): { vE: number; vI: number } {
  return {
    vE: (p.tau * (p.JEE * p.JEE * nuE + p.JEI * p.JEI * nuI)) / 2,
    vI: (p.tau * (p.JIE * p.JIE * nuE + p.JII * p.JII * nuI)) / 2,
  };
}

function b2Blowup(p: HybridLimitParams): BlowupReport | null {
  const report = checkConditionsB2(p);
  if (report.ok) return null;
  const f = report.failures[0];
  return { condition: f.condition, t: 0, detail: report.failures.map((x) => x.detail).join(' | ') };
}

/**
 * Solves the B2 limit in closed form: rates are the balance solution, v_a(t) = v*_a + (v_a(0) - v*_a) e^{-2t/tau},
 * and m_a(t) is slaved to v_a through nu_a = E f(m_a + sqrt(v_a) Z) (so each mean jumps at t = 0+ from its
 * initial value). X is identically 0 (see LimitTrajectory). Invalid parameter values throw ParameterError;
 * D <= 0 or a rate outside (0, numax) returns an empty trajectory with `blowup` set at t = 0.
 */
export function solveLimitB2(p: HybridLimitParams, init: LimitInit, opts: Omit<LimitSolveOptions, 'dt' | 'project'> & { dt?: number }): LimitTrajectory {
  throwFirst([...paramFailuresB2(p), ...initFailures(init)], 'B2 limit parameters');
  const samples = resolveSamples(opts);
  const blowup = b2Blowup(p);
  if (blowup) return emptyTrajectory(null, { E: 0, I: 0 }, blowup);
  const { nuE, nuI } = balanceRatesB2(p);
  const vStar = b2Variances(p, nuE, nuI);
  const out = emptyTrajectory(null, { E: invRate(p, nuE, init.vE) - init.mE, I: invRate(p, nuI, init.vI) - init.mI }, null);
  for (const ts of samples) {
    const decay = Math.exp((-2 * ts) / p.tau);
    const vE = vStar.vE + (init.vE - vStar.vE) * decay;
    const vI = vStar.vI + (init.vI - vStar.vI) * decay;
    out.t.push(ts);
    out.vE.push(vE);
    out.vI.push(vI);
    out.mE.push(invRate(p, nuE, vE));
    out.mI.push(invRate(p, nuI, vI));
    out.nuE.push(nuE);
    out.nuI.push(nuI);
    out.X.push(0);
  }
  return out;
}

/** The B2 steady state: balance rates, v*_a = tau (J_aE^2 nuE + J_aI^2 nuI)/2, m*_a = the mean giving nu_a at v*_a; X = 0. Throws ParameterError when checkConditionsB2 fails. */
export function steadyStateB2(p: HybridLimitParams): SteadyState {
  const report = checkConditionsB2(p);
  if (!report.ok) {
    const f = report.failures[0];
    const cut = f.detail.lastIndexOf('; ');
    throw new ParameterError('B2 steady state', `${f.condition}: ${f.detail.slice(0, cut)}`, f.detail.slice(cut + 2));
  }
  const { nuE, nuI } = balanceRatesB2(p);
  const { vE, vI } = b2Variances(p, nuE, nuI);
  return { mE: invRate(p, nuE, vE), mI: invRate(p, nuI, vI), vE, vI, nuE, nuI, X: 0 };
}
