// The `poisson` model: independent Poisson neurons with sigmoidal intensity driven by a leaky potential.
import type { ModelInfo, PopulationModel } from './population-model.ts';
import type { ParamValues } from '../../core/params.ts';
import { makePoissonCpuStepper } from './cpu-step.ts';
import { checkPoissonParams, makePoissonInstance, poissonParameters } from './params.ts';

export { poissonParameters, checkPoissonParams, makePoissonInstance } from './params.ts';
export { momentsAtStep, expectedRate, stationaryTheory } from './theory.ts';

export const poissonInfo: ModelInfo = {
  id: 'poisson',
  title: 'Independent Poisson neurons with a leaky potential',
  summary:
    'Each neuron k has a potential u_k with du/dt = -u/tau + mu plus jumps w at Poisson input events of rate rIn; ' +
    'it emits Poisson spikes with intensity f(u) (probit or logistic sigmoid). The building block of the hybrid model; ' +
    'the discretised mean and variance of u are known exactly, the rate to Gaussian-approximation accuracy.',
  parameters: poissonParameters,
  defaults: { n: 10_000, dt: 1e-4, T: 0.3 },
};

export const poissonModel: PopulationModel = {
  id: 'poisson',
  shader: 'poisson/step.wgsl',
  entryPoint: 'stepPoissonNeurons',
  instanceStruct: 'PoissonInstance',
  makeInstance: makePoissonInstance,
  initialPotential: (p: ParamValues) => p.u0 as number,
  makeCpuStepper: makePoissonCpuStepper,
  extraName: 'expectedSpikesPerStep',
};

export { checkPoissonParams as checkParams };
