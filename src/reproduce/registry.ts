// Registered reproductions: each writes data, figures and a summary.json that puts measured values next to expected ones.
import { ConfigError } from '../errors.ts';
import { suggestFragment } from '../core/params.ts';
import { modelList } from '../models/index.ts';

export type { Reproduction, ReproductionContext, ReproductionOutcome } from '../core/contract.ts';
import type { Reproduction } from '../core/contract.ts';

/** Every model's reproductions (from the registry), then those of models not yet on the contract (LEGACY). */
export const reproductions: Record<string, Reproduction> = {
  ...Object.fromEntries(modelList.flatMap((m) => m.reproductions ?? []).map((r) => [r.id, r])),
};

export function getReproduction(id: string): Reproduction {
  const r = reproductions[id];
  if (!r) {
    const ids = Object.keys(reproductions);
    throw new ConfigError(`unknown reproduction '${id}'${suggestFragment(id, ids)}`, `run \`ei reproduce --list\`; registered: ${ids.join(', ')}`);
  }
  return r;
}
