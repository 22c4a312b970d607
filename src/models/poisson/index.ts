// The `poisson` model: independent Poisson neurons with sigmoidal intensity driven by a leaky potential.
import type { ModelDefinition } from '../../core/contract.ts';
import { estimatePoisson, PoissonRunner, poissonOptions, resolvePoisson, type ExperimentResult, type PoissonResolved } from './experiment.ts';
import { makePoissonOutputs } from './outputs.ts';
import { poissonParameters } from './params.ts';
import { poissonRateCurve } from './reproductions/rate-curve.ts';
import type { RecordChunk } from './simulation.ts';
import { poissonSweep, type PoissonSweep } from './sweep.ts';

export { poissonParameters, checkPoissonParams, makePoissonInstance } from './params.ts';
export { momentsAtStep, expectedRate, stationaryTheory } from './theory.ts';

export const poissonModel: ModelDefinition<PoissonResolved, ExperimentResult, RecordChunk, PoissonSweep> = {
  id: 'poisson',
  title: 'Independent Poisson neurons with a leaky potential',
  summary:
    'Each neuron k has a potential u_k with du/dt = -u/tau + mu plus jumps w at Poisson input events of rate rIn; ' +
    'it emits Poisson spikes with intensity f(u) (probit or logistic sigmoid). The building block of the hybrid model; ' +
    'the discretised mean and variance of u are known exactly, the rate to Gaussian-approximation accuracy. ' +
    'Defaults: --n 10000, --dt 1e-4 s, --T 0.3 s.',
  doc: 'docs/models/poisson.md',
  note: null,
  parameters: poissonParameters,
  options: poissonOptions,
  webgpu: true,
  webgpuBits: true,
  wasm: true,
  resolve: resolvePoisson,
  estimate: estimatePoisson,
  createRunner: PoissonRunner.create,
  outputs: makePoissonOutputs,
  sweep: poissonSweep,
  reproductions: [poissonRateCurve],
  bench: {
    scaling: (n) => ({ n, params: { burnin: 0 } }),
    sizes: { full: [1e4, 1e5, 1e6, 1e7], quick: [1e4, 1e5] },
    batched: (batch) => ({ n: 1000, batch, params: { burnin: 0 } }),
  },
};
