// The models the CLI and demos can run, by short id. A new model registers here and lives in its own folder.
import { ConfigError } from '../errors.ts';
import type { ModelInfo, PopulationModel } from '../engine/model.ts';
import type { ParamValues } from '../engine/params.ts';
import { suggestFragment } from '../engine/params.ts';
import { checkPoissonParams, makePoissonInstance, momentsAtStep, expectedRate, poissonInfo, poissonModel } from './poisson/index.ts';

/** Theory for the recorded population columns at a step: u after the step, rate during it. */
export interface PopulationTheory {
  meanU: number;
  varU: number;
  rateHz: number;
}

export interface RegisteredModel {
  info: ModelInfo;
  population: PopulationModel;
  /** Cross-field validation that needs dt (single fields are checked by the ParamSpecs). */
  checkParams(p: ParamValues, dt: number): void;
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

export const models: Record<string, RegisteredModel> = { poisson };

/** Looks a model up by id; unknown ids list the valid ones. */
export function getModel(id: string): RegisteredModel {
  const m = models[id];
  if (!m) {
    const ids = Object.keys(models);
    throw new ConfigError(`unknown model '${id}'${suggestFragment(id, ids)}`, `valid models: ${ids.join(', ')} (run \`ei run --help\`)`);
  }
  return m;
}
