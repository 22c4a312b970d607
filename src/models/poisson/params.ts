// Parameters of the `poisson` model: independent neurons, leaky potential, Poisson input, Poisson spikes with sigmoidal intensity.
import { ParameterError } from '../../errors.ts';
import type { ParamSpec, ParamValues } from '../../engine/params.ts';

export const poissonParameters: readonly ParamSpec[] = [
  { name: 'tau', kind: 'number', default: 0.02, unit: 's', min: 0, minExclusive: true, doc: 'leak time constant of the potential u' },
  { name: 'mu', kind: 'number', default: 0, unit: '1/s', doc: 'constant drift: du/dt = -u/tau + mu between input events' },
  { name: 'rIn', kind: 'number', default: 2000, unit: 'Hz', min: 0, doc: 'rate of Poisson input events per neuron' },
  { name: 'w', kind: 'number', default: 0.05, unit: '', doc: 'jump of u per input event' },
  { name: 'sigmoid', kind: 'choice', default: 'probit', choices: ['probit', 'logistic'], doc: 'intensity f(u): numax Phi((u-theta)/s) or numax/(1+exp(-beta(u-theta)))' },
  { name: 'numax', kind: 'number', default: 100, unit: 'Hz', min: 0, minExclusive: true, doc: 'maximum firing rate' },
  { name: 'theta', kind: 'number', default: 2, unit: '', doc: 'sigmoid midpoint' },
  { name: 's', kind: 'number', default: 0.5, unit: '', min: 0, minExclusive: true, doc: 'probit width' },
  { name: 'beta', kind: 'number', default: 4, unit: '', min: 0, minExclusive: true, doc: 'logistic slope' },
  { name: 'u0', kind: 'number', default: 0, unit: '', doc: 'initial potential of every neuron' },
  { name: 'burnin', kind: 'number', default: 0.1, unit: 's', min: 0, doc: 'time excluded from the time averages in summary.json' },
];

/** Largest Poisson mean per step the samplers accept (f32 integers stay exact below 2^24). */
export const maxMeanPerStep = 1e7;

/** Cross-field checks that depend on dt. */
export function checkPoissonParams(p: ParamValues, dt: number): void {
  const tau = p.tau as number;
  if (dt >= tau) {
    throw new ParameterError('dt', `dt = ${dt} s is not below tau = ${tau} s, so the Euler leak 1 - dt/tau is not in (0, 1)`, `use --dt well below tau, e.g. --dt ${tau / 100}`);
  }
  for (const [name, rate] of [['rIn', p.rIn], ['numax', p.numax]] as const) {
    if ((rate as number) * dt > maxMeanPerStep) {
      throw new ParameterError(`poisson.${name}`, `${name} * dt = ${(rate as number) * dt} exceeds ${maxMeanPerStep} events per step`, 'use a smaller --dt');
    }
  }
}

/** The WGSL PoissonInstance values (f32 fields rounded by the packer; the CPU mirror rounds the same way). */
export function makePoissonInstance(p: ParamValues, dt: number): Record<string, number> {
  const probit = p.sigmoid === 'probit';
  return {
    decay: 1 - dt / (p.tau as number),
    drive: dt * (p.mu as number),
    jump: p.w as number,
    inputMean: (p.rIn as number) * dt,
    sigmoid: probit ? 0 : 1,
    peakPerStep: (p.numax as number) * dt,
    theta: p.theta as number,
    gain: probit ? 1 / (p.s as number) : (p.beta as number),
  };
}
