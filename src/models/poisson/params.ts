// Parameters of the `poisson` model: independent neurons, leaky potential, Poisson input, Poisson spikes with sigmoidal intensity.
import type { PoissonInstance } from '../../gpu/shaders.generated.ts';
import { ParameterError } from '../../errors.ts';
import type { ParamSpec, ParamValues } from '../../core/params.ts';

export const poissonParameters: readonly ParamSpec[] = [
  { name: 'tau', kind: 'number', default: 0.02, unit: 's', min: 0, minExclusive: true, doc: 'leak time constant of the potential u' },
  { name: 'mu', kind: 'number', default: 0, unit: '1/s', doc: 'constant drift: du/dt = -u/tau + mu between input events' },
  { name: 'rIn', kind: 'number', default: 2000, unit: 'Hz', min: 0, doc: 'rate of Poisson input events per neuron' },
  { name: 'w', kind: 'number', default: 0.05, unit: '', doc: 'jump of u per input event' },
  { name: 'sigmoid', kind: 'choice', default: 'probit', choices: ['probit', 'logistic'], doc: 'intensity f(u): numax Phi((u-theta)/s) or numax/(1+exp(-beta(u-theta)))' },
  { name: 'numax', kind: 'number', default: 100, unit: 'Hz', min: 0, minExclusive: true, doc: 'maximum firing rate' },
  { name: 'theta', kind: 'number', default: 2, unit: '', doc: 'sigmoid midpoint' },
  { name: 's', kind: 'number', default: 0.5, unit: '', min: 0, minExclusive: true, appliesWhen: { sigmoid: ['probit'] }, doc: 'probit width' },
  { name: 'beta', kind: 'number', default: 4, unit: '', min: 0, minExclusive: true, appliesWhen: { sigmoid: ['logistic'] }, doc: 'logistic slope' },
  { name: 'u0', kind: 'number', default: 0, unit: '', doc: 'initial potential of every neuron' },
  { name: 'burnin', kind: 'number', default: 0.1, unit: 's', min: 0, doc: 'time excluded from the time averages in summary.json' },
];

/** Largest Poisson mean per step the samplers accept (f32 integers stay exact below 2^24). */
export const maxMeanPerStep = 1e7;

/** Largest |u| accepted: the f32 reductions hold n (u - mean)^2 summed over up to 2^30 neurons (3.4e38 / 2^30 / 4 ~ 8e28). */
export const maxPotential = 1e14;

/**
 * Cross-field checks that depend on dt (and n when known): the Euler leak, the Poisson samplers' range, the u32
 * spike count per step, and the size the potential reaches, so no accepted run overflows f32 or yields NaN theory.
 */
export function checkPoissonParams(p: ParamValues, dt: number, n?: number): void {
  const tau = p.tau as number;
  if (dt >= tau) {
    throw new ParameterError('dt', `dt = ${dt} s is not below tau = ${tau} s, so the Euler leak 1 - dt/tau is not in (0, 1)`, `use --dt well below tau, e.g. --dt ${tau / 100}`);
  }
  // The kernel's leak is fl(1 - dt/tau): for dt/tau below ~3e-8 it rounds to 1, u never decays and the theory divides by 0.
  if (Math.fround(1 - dt / tau) === 1) {
    throw new ParameterError('poisson.tau', `dt / tau = ${dt / tau} is below the f32 resolution (~3e-8): the leak 1 - dt/tau rounds to 1, so u would never decay`, `use --dt >= ${Number((tau * 1.2e-7).toPrecision(3))} s or a smaller tau (at most ${Number((dt / 1.2e-7).toPrecision(3))} s)`);
  }
  for (const [name, rate] of [['rIn', p.rIn], ['numax', p.numax]] as const) {
    if ((rate as number) * dt > maxMeanPerStep) {
      throw new ParameterError(`poisson.${name}`, `${name} * dt = ${(rate as number) * dt} exceeds ${maxMeanPerStep} events per step`, 'use a smaller --dt');
    }
  }
  const peak = (p.numax as number) * dt;
  if (n !== undefined) {
    // Spikes of a step are summed in a u32. Their total is Poisson with mean at most n peak: it stays below
    // mean + 10 sd + 10 except with probability < 1e-20.
    const bound = (m: number) => m + 10 * Math.sqrt(m) + 10;
    const most = bound(n * peak);
    if (most >= 2 ** 32) {
      const nMax = Math.floor((Math.sqrt(25 + 2 ** 32 - 10) - 5) ** 2 / peak);
      throw new ParameterError('poisson.numax', `n numax dt = ${(n * peak).toExponential(3)} expected spikes per step (up to ${most.toExponential(3)}) could exceed the u32 spike count (2^32)`, `use a smaller --n (at most ${nMax}), --dt or numax`);
    }
  }
  // The largest |u| a run reaches: the start, the stationary mean plus 20 sd, and one step's largest input jump.
  const inputMean = (p.rIn as number) * dt;
  const w = Math.abs(p.w as number);
  const mean = tau * ((p.mu as number) + (p.w as number) * (p.rIn as number));
  const sd = Math.sqrt((w * w * (p.rIn as number) * tau) / 2);
  const reach = Math.max(Math.abs(p.u0 as number), Math.abs(mean) + 20 * sd) + w * (inputMean + 10 * Math.sqrt(inputMean) + 10);
  if (!(reach <= maxPotential)) {
    const culprit = Math.abs(p.u0 as number) >= Math.abs(mean) + 20 * sd ? 'u0' : w * (p.rIn as number) * tau >= Math.abs((p.mu as number) * tau) ? 'w' : 'mu';
    throw new ParameterError(
      `poisson.${culprit}`,
      `the potential would reach |u| ~ ${reach.toExponential(3)} (u0 = ${p.u0}, stationary mean tau (mu + w rIn) = ${mean.toPrecision(4)}, sd ${sd.toPrecision(4)}), beyond the ${maxPotential.toExponential()} that the f32 mean and variance of up to 2^30 neurons can hold`,
      `choose u0, mu, w and rIn so that |u| stays below ${maxPotential.toExponential()}, e.g. a smaller --set ${culprit}=`,
    );
  }
}

/** The WGSL PoissonInstance values (f32 fields rounded by the packer; the CPU mirror rounds the same way). */
export function makePoissonInstance(p: ParamValues, dt: number): PoissonInstance {
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
