// The `minimax` model: spiking E-I networks from greedy minimax optimisation (Li & Pehlevan 2020).
import type { ModelDefinition } from '../../core/contract.ts';
import type { MinimaxChunk, MinimaxRunResult } from './network.ts';
import { makeMinimaxOutputs } from './outputs.ts';
import { minimaxParameters } from './params.ts';
import { minimaxGrid, minimaxRing } from './reproductions/attractors.ts';
import { minimaxFig1 } from './reproductions/fig1.ts';
import { minimaxFig2a } from './reproductions/fig2a.ts';
import { minimaxFig3 } from './reproductions/fig3.ts';
import { estimateMinimax, makeMinimaxRunSpec, minimaxOptions, minimaxThreadsOf, resolveMinimax, type MinimaxResolved } from './resolve.ts';
import { createMinimaxSpecRunner } from './runner.ts';
import { minimaxSweep, type MinimaxSweep } from './sweep.ts';

export const minimaxModel: ModelDefinition<MinimaxResolved, MinimaxRunResult, MinimaxChunk, MinimaxSweep> = {
  id: 'minimax',
  title: 'Spiking E-I networks from greedy minimax optimisation (Li & Pehlevan 2020)',
  summary:
    'E and I neurons fire when one spike improves the objective min_rE max_rI S (threshold crossings of V = gradient of S, synchronous), ' +
    'leaky traces r, Poisson input spikes; dense weight blocks; a workgroup owns an instance and loops over many steps per dispatch. ' +
    'Rates are compared with the KKT point of the minimax problem. Networks: tight-balance (Fig. 1), ring and grid attractors (Fig. 4); ' +
    '--batch runs replicas; --T and --dt in seconds (defaults: 100 tau and 1e-4 tau; ring 10 s, grid 30 s at 1 ms). See `ei reproduce --list` for the figures.',
  doc: 'docs/models/minimax-spiking.md',
  note: null,
  parameters: minimaxParameters,
  options: minimaxOptions,
  webgpu: true,
  webgpuBits: true,
  wasm: true,
  wasmThreads: minimaxThreadsOf,
  resolve: resolveMinimax,
  estimate: estimateMinimax,
  createRunner: (r, target) => createMinimaxSpecRunner(makeMinimaxRunSpec(r), target),
  outputs: makeMinimaxOutputs,
  sweep: minimaxSweep,
  reproductions: [minimaxFig1, minimaxFig2a, minimaxFig3, minimaxRing, minimaxGrid],
  // Scaling over the grid network's side (NE = NI = side^2, dense weights: 2 side^2 neurons, 200 steps at 1 ms: with 20,
  // a wasm run of side 8 took 29 us, 18 us of it the fixed cost of a fresh runner's first call); the batched case is
  // the Fig. 1 tight-balance network (40 neurons) with `batch` replicas (1000 steps of 1e-5 s).
  bench: {
    scaling: (side) => ({ params: { network: 'grid', side }, T: 0.2 }),
    sizes: { full: [16, 32, 48, 63], quick: [8, 16] },
    batched: (batch) => ({ batch, T: 0.01 }),
  },
};
