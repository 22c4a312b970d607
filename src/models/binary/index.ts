// The `binary` model: a binary stochastic E-I network and the entropy of its active count (a reconstruction of
// Agrawal et al. 2018 from the abstract; docs/models/binary-entropy.md).
import type { ModelDefinition } from '../../core/contract.ts';
import type { BinaryChunk } from './network.ts';
import { makeBinaryOutputs } from './outputs.ts';
import { binaryParameters } from './params.ts';
import { binaryAlpha, binaryBoundary, binaryChain, binaryHeatmap } from './reproductions/entropy.ts';
import { binaryOptions, BinaryRunner, estimateBinary, resolveBinary, type BinaryResolved, type BinaryResult } from './runner.ts';
import { binarySweep, type BinarySweep } from './sweep.ts';

/** W_E = W_I at the boundary lambda = 1 for alpha = 0.2: the benchmark's network. */
const boundaryW = 1 / (1 - 2 * 0.2);

export const binaryModel: ModelDefinition<BinaryResolved, BinaryResult, BinaryChunk, BinarySweep> = {
  id: 'binary',
  title: 'Binary stochastic E-I network and the entropy of its dynamics (Agrawal et al. 2018, reconstructed)',
  summary:
    'N binary neurons (fraction alpha inhibitory), fixed in-degree k or Erdos-Renyi connectivity regenerated procedurally from the RNG, synchronous update ' +
    'P[s_i = 1] = p0 + (1 - p0) clip(sum_j A_ij s_j); entropy of the active count from a GPU histogram, next to the annealed ' +
    'Markov chain. --n is N (default 500); --steps defaults to burnin + 20000. Sweeps: `ei sweep binary`; figures: `ei reproduce --list`.',
  doc: 'docs/models/binary-entropy.md',
  note: 'binary is a reconstruction of Agrawal et al. (2018) from the abstract',
  parameters: binaryParameters,
  options: binaryOptions,
  webgpu: true,
  webgpuBits: true,
  wasm: true,
  resolve: resolveBinary,
  estimate: estimateBinary,
  createRunner: BinaryRunner.create,
  outputs: makeBinaryOutputs,
  sweep: binarySweep,
  reproductions: [binaryHeatmap, binaryBoundary, binaryAlpha, binaryChain],
  bench: {
    scaling: (n) => ({ n, steps: 100, params: { k: 100, alpha: 0.2, WE: boundaryW, WI: boundaryW, p0: 1e-3, burnin: 0 } }),
    sizes: { full: [1e3, 1e4, 1e5], quick: [1e3, 1e4] },
  },
};
