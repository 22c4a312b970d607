// Registered reproductions: each writes data, figures and a summary.json that puts measured values next to expected ones.
import { ConfigError } from '../errors.ts';
import { suggestFragment } from '../core/params.ts';
import { modelList } from '../models/index.ts';

export type { Reproduction, ReproductionContext, ReproductionOutcome } from '../core/contract.ts';
import type { AnyModel, Reproduction } from '../core/contract.ts';

/** Every model's reproductions (from the registry), then those of models not yet on the contract (LEGACY). */
export const reproductions: Record<string, Reproduction> = {
  ...Object.fromEntries(modelList.flatMap((m) => m.reproductions ?? []).map((r) => [r.id, r])),
};

/** The model each reproduction belongs to: a reproduction runs only its own model's kernels, so its backends are the model's. */
const reproductionModels: Record<string, AnyModel> = Object.fromEntries(modelList.flatMap((m) => (m.reproductions ?? []).map((r) => [r.id, m])));

export function getReproduction(id: string): Reproduction {
  const r = reproductions[id];
  if (!r) {
    const ids = Object.keys(reproductions);
    throw new ConfigError(`unknown reproduction '${id}'${suggestFragment(id, ids)}`, `run \`ei reproduce --list\`; registered: ${ids.join(', ')}`);
  }
  return r;
}

/** The model a registered reproduction runs (getReproduction checks the id first). */
export function getReproductionModel(id: string): AnyModel {
  getReproduction(id);
  return reproductionModels[id];
}
