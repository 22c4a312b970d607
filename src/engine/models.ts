// Model lookup for the layers above the models: by id, with the valid ids (and a suggestion) when unknown.
import type { AnyModel } from '../core/contract.ts';
import { suggestFragment } from '../core/params.ts';
import { ConfigError } from '../errors.ts';
import { modelList } from '../models/index.ts';

/** The ids of every registered model, in registry order. */
export const modelIds: readonly string[] = modelList.map((m) => m.id);

/** Looks a model up by id; an unknown id lists the valid ones. */
export function getModelDefinition(id: string): AnyModel {
  const m = modelList.find((x) => x.id === id);
  if (!m) throw new ConfigError(`unknown model '${id}'${suggestFragment(id, modelIds)}`, `valid models: ${modelIds.join(', ')} (run \`ei models\`)`);
  return m;
}
