// The `rate` model: E-I firing-rate circuits as games (a reconstruction of Betteti et al., arXiv 2512.05252).
import type { ModelDefinition } from '../../core/contract.ts';
import { estimateRate, RateRunner, rateOptions, rateThreadsOf, resolveRate, type RateChunk, type RateResolved, type RateResult } from './experiment.ts';
import { makeRateOutputs } from './outputs.ts';
import { rateParameters } from './params.ts';
import { rateColumn, rateLateral, rateWilsonCowan } from './reproductions/circuits.ts';
import { rateSweep, type RateSweep } from './sweep.ts';

export const rateModel: ModelDefinition<RateResolved, RateResult, RateChunk, RateSweep> = {
  id: 'rate',
  title: 'E-I firing-rate circuits as games (Betteti et al. 2025, reconstructed)',
  summary:
    'T dx/dt = -x + Phi(W x + u) for a Wilson-Cowan pair, an n-channel lateral-inhibition microcircuit or an L-layer column; ' +
    'equilibria solved directly as Nash equilibria / LCP, Jacobian eigenvalues, Lyapunov diagonal stability margin, regime, ' +
    'contrast gain; integrated from many initial states in one dispatch (--set initial=K). --T and --dt in units of tau; ' +
    'dt defaults to 0.01 min tau, T to 60 max tau.',
  doc: 'docs/models/rate-circuits.md',
  note: 'rate circuits are a reconstruction of Betteti et al. (arXiv 2512.05252) from the abstract',
  parameters: rateParameters,
  options: rateOptions,
  webgpu: true,
  webgpuBits: true,
  wasm: true,
  wasmThreads: rateThreadsOf,
  resolve: resolveRate,
  estimate: estimateRate,
  createRunner: RateRunner.create,
  outputs: makeRateOutputs,
  sweep: rateSweep,
  reproductions: [rateWilsonCowan, rateLateral, rateColumn],
  // Scaling: the lateral circuit's channels (2 cells each, up to 12: the GPU kernel holds 32 cells); batched: initial states of a Wilson-Cowan pair.
  bench: {
    scaling: (channels) => ({ params: { circuit: 'lateral', channels, initial: 256 }, T: 10 }),
    sizes: { full: [2, 4, 8, 12], quick: [2, 4] },
    batched: (batch) => ({ params: { circuit: 'wilson-cowan', initial: batch }, T: 10 }),
  },
};
