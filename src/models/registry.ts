// The models the CLI and demos can run, by short id. A new model registers here and lives in its own folder.
import { ConfigError } from '../errors.ts';
import type { ModelInfo, PopulationModel } from './poisson/population-model.ts';
import type { ParamValues } from '../core/params.ts';
import { suggestFragment } from '../core/params.ts';
import { checkPoissonParams, makePoissonInstance, momentsAtStep, expectedRate, poissonInfo, poissonModel } from './poisson/index.ts';
import { hybridParameters } from './hybrid/params.ts';
import { rateParameters } from './rate/params.ts';
import { binaryParameters } from './binary/params.ts';
import { minimaxParameters } from './minimax/params.ts';

/** Theory for the recorded population columns at a step: u after the step, rate during it. */
export interface PopulationTheory {
  meanU: number;
  varU: number;
  rateHz: number;
}

export interface RegisteredModel {
  info: ModelInfo;
  population: PopulationModel;
  /** Cross-field validation that needs dt and n (single fields are checked by the ParamSpecs). */
  checkParams(p: ParamValues, dt: number, n?: number): void;
  theoryAtStep(p: ParamValues, dt: number, step: number): PopulationTheory;
}

const poisson: RegisteredModel = {
  info: poissonInfo,
  population: poissonModel,
  checkParams: checkPoissonParams,
  theoryAtStep(p, dt, step) {
    const inst = makePoissonInstance(p, dt);
    const before = momentsAtStep(inst, p.u0 as number, step);
    const after = momentsAtStep(inst, p.u0 as number, step + 1);
    return { meanU: after.mean, varU: after.variance, rateHz: expectedRate(p, before.mean, before.variance) };
  },
};

/** Population models the generic experiment runner, sweeps and the demo use. */
export const models: Record<string, RegisteredModel> = { poisson };

/** Every model `ei run` knows, with its parameters (coupled models have their own runners). */
export const modelInfos: Record<string, ModelInfo> = {
  poisson: poissonInfo,
  hybrid: {
    id: 'hybrid',
    title: 'Balanced all-to-all stochastic hybrid network (MacLaurin & Vilanova 2024, reconstructed)',
    summary:
      'n excitatory and n inhibitory neurons; u_k follows du/dt = -u/tau + mu_a between events; every ordered pair (j, k) ' +
      'is a Poisson process of intensity f(u_j) kicking u_k by +-J/sqrt(n). Simulated exactly in law per step by one ' +
      'population reduction and two Poisson input counts per neuron; compared with the Gaussian mean/variance ODE limit. ' +
      '--n is neurons per population; dt defaults to min(2e-3, 0.1/sqrt(n)) tau; T defaults to 5 tau.',
    parameters: hybridParameters,
    defaults: { n: 1000, dt: NaN, T: 5 },
  },
  rate: {
    id: 'rate',
    title: 'E-I firing-rate circuits as games (Betteti et al. 2025, reconstructed)',
    summary:
      'T dx/dt = -x + Phi(W x + u) for a Wilson-Cowan pair, an n-channel lateral-inhibition microcircuit or an L-layer column; ' +
      'equilibria solved directly as Nash equilibria / LCP, Jacobian eigenvalues, Lyapunov diagonal stability margin, regime, ' +
      'contrast gain; integrated from many initial states in one dispatch. dt defaults to 0.01 min tau, T to 60 max tau.',
    parameters: rateParameters,
    defaults: { n: NaN, dt: NaN, T: NaN },
  },
  binary: {
    id: 'binary',
    title: 'Binary stochastic E-I network and the entropy of its dynamics (Agrawal et al. 2018, reconstructed)',
    summary:
      'N binary neurons (fraction alpha inhibitory), fixed in-degree k or Erdos-Renyi connectivity regenerated procedurally from the RNG, synchronous update ' +
      'P[s_i = 1] = p0 + (1 - p0) clip(sum_j A_ij s_j); entropy of the active count from a GPU histogram, next to the annealed ' +
      'Markov chain. --n is N (default 500); --steps defaults to burnin + 20000. Sweeps: `ei sweep binary`; figures: `ei reproduce --list`.',
    parameters: binaryParameters,
    defaults: { n: 500, dt: NaN, T: NaN },
  },
  minimax: {
    id: 'minimax',
    title: 'Spiking E-I networks from greedy minimax optimisation (Li & Pehlevan 2020)',
    summary:
      'E and I neurons fire when one spike improves the objective min_rE max_rI S (threshold crossings of V = gradient of S, synchronous), ' +
      'leaky traces r, Poisson input spikes; dense weight blocks; a workgroup owns an instance and loops over many steps per dispatch. ' +
      'Rates are compared with the KKT point of the minimax problem. Networks: tight-balance (Fig. 1), ring and grid attractors (Fig. 4); ' +
      '--batch runs replicas; --T and --dt in seconds (defaults: 100 tau and 1e-4 tau; ring 10 s, grid 30 s at 1 ms). See `ei reproduce --list` for the figures.',
    parameters: minimaxParameters,
    defaults: { n: NaN, dt: NaN, T: NaN },
  },
};

/** Looks a model up by id; unknown ids list the valid ones. */
export function getModel(id: string): RegisteredModel {
  const m = models[id];
  if (!m) {
    if (modelInfos[id]) throw new ConfigError(`model '${id}' has its own runner and is not available here`, `use \`ei run ${id}\`; sweeps and the demo support: ${Object.keys(models).join(', ')}`);
    const ids = Object.keys(modelInfos);
    throw new ConfigError(`unknown model '${id}'${suggestFragment(id, ids)}`, `valid models: ${ids.join(', ')} (run \`ei run --help\`)`);
  }
  return m;
}
