// Parameters of the `hybrid` model (balanced all-to-all stochastic hybrid network; a reconstruction from the
// paper's abstract, see docs/models/hybrid-balanced.md) and the kernel constants derived from them.
import { ParameterError } from '../../errors.ts';
import type { ParamSpec, ParamValues } from '../../core/params.ts';
import type { HybridInstance } from '../../gpu/shaders.generated.ts';

export type { HybridInstance };

export const hybridParameters: readonly ParamSpec[] = [
  { name: 'variant', kind: 'choice', default: 'B1', choices: ['B1', 'B2'], doc: 'B1: source-type weights JE, JI and drift mu_a; B2: weights J_ab and drive sqrt(n) muhat_a' },
  { name: 'tau', kind: 'number', default: 1, unit: 'time', min: 0, minExclusive: true, doc: 'decay time of the synaptic potential u' },
  { name: 'JE', kind: 'number', default: 1, unit: '', min: 0, minExclusive: true, appliesWhen: { variant: ['B1'] }, doc: 'jump sqrt(n) x du per excitatory event' },
  { name: 'JI', kind: 'number', default: 2, unit: '', min: 0, minExclusive: true, appliesWhen: { variant: ['B1'] }, doc: 'jump sqrt(n) x |du| per inhibitory event' },
  { name: 'muE', kind: 'number', default: 1, unit: '1/time', appliesWhen: { variant: ['B1'] }, doc: 'drift of E neurons' },
  { name: 'muI', kind: 'number', default: 0, unit: '1/time', appliesWhen: { variant: ['B1'] }, doc: 'drift of I neurons' },
  { name: 'JEE', kind: 'number', default: 1, unit: '', min: 0, appliesWhen: { variant: ['B2'] }, doc: 'weight E -> E' },
  { name: 'JEI', kind: 'number', default: 2, unit: '', min: 0, appliesWhen: { variant: ['B2'] }, doc: 'weight I -> E (inhibitory, magnitude)' },
  { name: 'JIE', kind: 'number', default: 1, unit: '', min: 0, appliesWhen: { variant: ['B2'] }, doc: 'weight E -> I' },
  { name: 'JII', kind: 'number', default: 1.5, unit: '', min: 0, appliesWhen: { variant: ['B2'] }, doc: 'weight I -> I (inhibitory, magnitude)' },
  { name: 'muhatE', kind: 'number', default: 0.5, unit: '1/time', appliesWhen: { variant: ['B2'] }, doc: 'external drive of E is sqrt(n) muhatE' },
  { name: 'muhatI', kind: 'number', default: 0.25, unit: '1/time', appliesWhen: { variant: ['B2'] }, doc: 'external drive of I is sqrt(n) muhatI' },
  { name: 'sigmoid', kind: 'choice', default: 'probit', choices: ['probit', 'logistic'], doc: 'f(u) = numax Phi((u-theta)/s) or numax/(1+exp(-beta(u-theta)))' },
  { name: 'numax', kind: 'number', default: 1, unit: '1/time', min: 0, minExclusive: true, doc: 'maximum intensity of each pair process' },
  { name: 'theta', kind: 'number', default: 0, unit: '', doc: 'sigmoid midpoint' },
  { name: 's', kind: 'number', default: 1, unit: '', min: 0, minExclusive: true, appliesWhen: { sigmoid: ['probit'] }, doc: 'probit width' },
  { name: 'beta', kind: 'number', default: 4, unit: '', min: 0, minExclusive: true, appliesWhen: { sigmoid: ['logistic'] }, doc: 'logistic slope' },
  // E must start above I for a balancing common shift to exist when JI > JE (JE nuE = JI nuI needs nuE > nuI).
  { name: 'mE0', kind: 'number', default: 0.5, unit: '', doc: 'initial mean of u in E' },
  { name: 'mI0', kind: 'number', default: -0.5, unit: '', doc: 'initial mean of u in I' },
  { name: 'vE0', kind: 'number', default: 0.5, unit: '', min: 0, doc: 'initial variance of u in E' },
  { name: 'vI0', kind: 'number', default: 0.5, unit: '', min: 0, doc: 'initial variance of u in I' },
  { name: 'burnin', kind: 'number', default: 2, unit: 'time', min: 0, doc: 'time excluded from the time averages in summary.json' },
];

/** The model's parameters as typed values (what the limit and the event-driven simulator read). */
export interface HybridModelParams {
  variant: 'B1' | 'B2';
  tau: number;
  JE: number;
  JI: number;
  muE: number;
  muI: number;
  JEE: number;
  JEI: number;
  JIE: number;
  JII: number;
  muhatE: number;
  muhatI: number;
  sigmoid: 'probit' | 'logistic';
  numax: number;
  theta: number;
  s: number;
  beta: number;
}

/** Pure: typed model parameters from resolved ParamValues. */
export function makeHybridModelParams(p: ParamValues): HybridModelParams {
  const num = (k: string) => p[k] as number;
  return {
    variant: p.variant as 'B1' | 'B2', tau: num('tau'), JE: num('JE'), JI: num('JI'), muE: num('muE'), muI: num('muI'),
    JEE: num('JEE'), JEI: num('JEI'), JIE: num('JIE'), JII: num('JII'), muhatE: num('muhatE'), muhatI: num('muhatI'),
    sigmoid: p.sigmoid as 'probit' | 'logistic', numax: num('numax'), theta: num('theta'), s: num('s'), beta: num('beta'),
  };
}

/** The spec's time step: about min(2e-3, 0.1/sqrt(n)) tau, since the common mode relaxes at a rate ~ sqrt(n). */
export function defaultHybridDt(n: number, p: ParamValues): number {
  return Math.min(2e-3, 0.1 / Math.sqrt(n)) * (p.tau as number);
}

/** Jumps by (target, source), before the 1/sqrt(n) scaling. */
export function hybridWeights(p: ParamValues): { EE: number; EI: number; IE: number; II: number } {
  if (p.variant === 'B1') return { EE: p.JE as number, EI: p.JI as number, IE: p.JE as number, II: p.JI as number };
  return { EE: p.JEE as number, EI: p.JEI as number, IE: p.JIE as number, II: p.JII as number };
}

/** Largest Poisson mean per step: the samplers are exact up to 1e7. */
const maxMeanPerStep = 1e7;

export function checkHybridParams(p: ParamValues, dt: number, n: number): void {
  const tau = p.tau as number;
  if (dt >= tau) throw new ParameterError('dt', `dt = ${dt} is not below tau = ${tau}`, `use --dt well below tau, e.g. ${defaultHybridDt(n, p)}`);
  // The kernels' leak is fl(1 - dt/tau): for dt/tau below ~3e-8 it rounds to 1 and u would never decay (the limit's would).
  if (Math.fround(1 - dt / tau) === 1) {
    throw new ParameterError('hybrid.tau', `dt / tau = ${dt / tau} is below the f32 resolution (~3e-8): the leak 1 - dt/tau rounds to 1 in the kernel`, `use --dt >= ${Number((tau * 1.2e-7).toPrecision(3))} or a smaller tau (at most ${Number((dt / 1.2e-7).toPrecision(3))})`);
  }
  const mean = (p.numax as number) * n * dt;
  if (mean > maxMeanPerStep) {
    throw new ParameterError('dt', `numax n dt = ${mean} input events per step exceeds ${maxMeanPerStep}`, 'use a smaller --dt');
  }
  if (n > 2 ** 30) throw new ParameterError('n', `${n} neurons per population is too many`, 'use n <= 2^30');
}

/**
 * Pure: the WGSL HybridInstance values for one parameter set (the CPU reference reads the same values as f32). The
 * return type is the layout generated from shaders/hybrid/step.wgsl, so a renamed or added WGSL field breaks the build here.
 */
export function makeHybridInstance(p: ParamValues, n: number, dt: number): HybridInstance {
  const sq = Math.sqrt(n);
  const w = hybridWeights(p);
  const probit = p.sigmoid === 'probit';
  const b1 = p.variant === 'B1';
  return {
    decay: 1 - dt / (p.tau as number),
    driveE: b1 ? dt * (p.muE as number) : dt * sq * (p.muhatE as number),
    driveI: b1 ? dt * (p.muI as number) : dt * sq * (p.muhatI as number),
    jumpEE: w.EE / sq,
    jumpEI: w.EI / sq,
    jumpIE: w.IE / sq,
    jumpII: w.II / sq,
    meanPerUnit: ((p.numax as number) * dt) / 16777216,
    sigmoid: probit ? 0 : 1,
    theta: p.theta as number,
    gain: probit ? 1 / (p.s as number) : (p.beta as number),
    initMeanE: p.mE0 as number,
    initSdE: Math.sqrt(p.vE0 as number),
    initMeanI: p.mI0 as number,
    initSdI: Math.sqrt(p.vI0 as number),
    pad: 0,
  };
}
