// The poisson step kernel as a population model (thread per neuron, shaders/poisson/step.wgsl), its defaults and theory.
import type { ParamValues } from '../../core/params.ts';
import type { PopulationModel } from './population-model.ts';
import { makePoissonCpuStepper } from './cpu-step.ts';
import { makePoissonInstance } from './params.ts';
import { expectedRate, momentsAtStep } from './theory.ts';

export const poissonDefaults = { n: 10_000, dt: 1e-4, T: 0.3 } as const;

export const poissonPopulation: PopulationModel<'PoissonInstance'> = {
  id: 'poisson',
  shader: 'poisson/step.wgsl',
  entryPoint: 'stepPoissonNeurons',
  instanceStruct: 'PoissonInstance',
  makeInstance: makePoissonInstance,
  initialPotential: (p: ParamValues) => p.u0 as number,
  makeCpuStepper: makePoissonCpuStepper,
  extraName: 'expectedSpikesPerStep',
};

/** Theory of the recorded columns at a step: u after the step, the rate during it. */
export function poissonTheoryAtStep(p: ParamValues, dt: number, step: number): { meanU: number; varU: number; rateHz: number } {
  const inst = makePoissonInstance(p, dt);
  const before = momentsAtStep(inst, p.u0 as number, step);
  const after = momentsAtStep(inst, p.u0 as number, step + 1);
  return { meanU: after.mean, varU: after.variance, rateHz: expectedRate(p, before.mean, before.variance) };
}
