// The `hybrid` model: the balanced all-to-all stochastic hybrid E-I network next to its Gaussian large-n limit.
import type { ModelDefinition } from '../../core/contract.ts';
import { makeHybridOutputs } from './outputs.ts';
import { hybridParameters } from './params.ts';
import { estimateHybrid, hybridOptions, resolveHybridRun, type HybridRun } from './resolve.ts';
import { HybridRunner, type HybridResult } from './runner.ts';
import type { HybridChunk } from './simulation.ts';
import { hybridDefaultThreads } from './wasm-simulation.ts';
import { hybridSweep, type HybridSweep } from './sweep.ts';
import { hybridMoments } from './reproductions/moments.ts';
import { hybridHistogram } from './reproductions/histogram.ts';
import { hybridBalance } from './reproductions/balance.ts';
import { hybridErrorVsN } from './reproductions/error-vs-n.ts';
import { hybridBlowup } from './reproductions/blowup.ts';

export const hybridModel: ModelDefinition<HybridRun, HybridResult, HybridChunk, HybridSweep> = {
  id: 'hybrid',
  title: 'Balanced all-to-all stochastic hybrid network (MacLaurin & Vilanova 2024, reconstructed)',
  summary:
    'n excitatory and n inhibitory neurons; u_k follows du/dt = -u/tau + mu_a between events; every ordered pair (j, k) ' +
    'is a Poisson process of intensity f(u_j) kicking u_k by +-J/sqrt(n). Simulated exactly in law per step by one ' +
    'population reduction and two Poisson input counts per neuron; compared with the Gaussian mean/variance ODE limit. ' +
    '--n is neurons per population; dt defaults to min(2e-3, 0.1/sqrt(n)) tau; T defaults to 5 tau.',
  doc: 'docs/models/hybrid-balanced.md',
  note: 'hybrid is a reconstruction of MacLaurin & Vilanova (2024) from the abstract',
  parameters: hybridParameters,
  options: hybridOptions,
  webgpu: true,
  webgpuBits: true,
  wasm: true,
  wasmThreads: (r) => hybridDefaultThreads(r.n, r.batch),
  resolve: (request) => resolveHybridRun(request),
  estimate: estimateHybrid,
  createRunner: (r, target) => HybridRunner.create(r, target),
  outputs: makeHybridOutputs,
  sweep: hybridSweep,
  reproductions: [hybridMoments, hybridHistogram, hybridBalance, hybridErrorVsN, hybridBlowup],
  bench: {
    scaling: (n) => ({ n, params: { burnin: 0 } }),
    sizes: { full: [1e4, 1e5, 1e6], quick: [1e4, 1e5] },
    batched: (batch) => ({ n: 1000, batch, params: { burnin: 0 } }),
  },
};
