// Registered reproductions: each writes data, figures and a summary.json that puts measured values next to expected ones.
import { ConfigError } from '../errors.ts';
import { suggestFragment } from '../core/params.ts';
import type { GpuContext } from '../gpu/context.ts';
import type { ResultDir } from '../io/result-dir.ts';
import { poissonRateCurve } from '../models/poisson/reproductions/rate-curve.ts';
import { rateColumn, rateLateral, rateWilsonCowan } from '../models/rate/reproductions/circuits.ts';
import { hybridMoments } from '../models/hybrid/reproductions/moments.ts';
import { hybridHistogram } from '../models/hybrid/reproductions/histogram.ts';
import { hybridBalance } from '../models/hybrid/reproductions/balance.ts';
import { hybridErrorVsN } from '../models/hybrid/reproductions/error-vs-n.ts';
import { hybridBlowup } from '../models/hybrid/reproductions/blowup.ts';
import { binaryAlpha, binaryBoundary, binaryChain, binaryHeatmap } from '../models/binary/reproductions/entropy.ts';
import { minimaxFig1 } from '../models/minimax/reproductions/fig1.ts';
import { minimaxFig2a } from '../models/minimax/reproductions/fig2a.ts';
import { minimaxFig3 } from '../models/minimax/reproductions/fig3.ts';
import { minimaxGrid, minimaxRing } from '../models/minimax/reproductions/attractors.ts';

export interface ReproductionContext {
  quick: boolean;
  /** `--full-size`: the largest sizes a reproduction offers (meant for a hardware GPU). */
  fullSize?: boolean;
  /** `--samples S`: post-burn-in steps per point instead of the size's default (reproductions with acceptsSamples). */
  samples?: number;
  backend: 'cpu' | 'webgpu';
  ctx: GpuContext | null;
  out: ResultDir;
  seed: number;
  onProgress: (done: number, total: number) => void;
}

export interface ReproductionOutcome {
  /** Goes into summary.json beside id, quick, backend and adapter. */
  summary: Record<string, unknown>;
  /** One line per claim: what was expected, what was measured, and whether it held. */
  checks: { name: string; expected: string; measured: string; pass: boolean }[];
}

export interface Reproduction {
  id: string;
  title: string;
  source: string;
  description: string;
  /** Honours ReproductionContext.samples (`--samples`). */
  acceptsSamples?: boolean;
  /** With --backend auto on a software adapter, run on the CPU reference for this reason (it is faster there). */
  cpuBeatsSoftware?: string;
  run(c: ReproductionContext): Promise<ReproductionOutcome>;
}

export const reproductions: Record<string, Reproduction> = {
  [poissonRateCurve.id]: poissonRateCurve,
  [rateWilsonCowan.id]: rateWilsonCowan,
  [rateLateral.id]: rateLateral,
  [rateColumn.id]: rateColumn,
  [hybridMoments.id]: hybridMoments,
  [hybridHistogram.id]: hybridHistogram,
  [hybridBalance.id]: hybridBalance,
  [hybridErrorVsN.id]: hybridErrorVsN,
  [hybridBlowup.id]: hybridBlowup,
  [binaryHeatmap.id]: binaryHeatmap,
  [binaryBoundary.id]: binaryBoundary,
  [binaryAlpha.id]: binaryAlpha,
  [binaryChain.id]: binaryChain,
  [minimaxFig1.id]: minimaxFig1,
  [minimaxFig2a.id]: minimaxFig2a,
  [minimaxFig3.id]: minimaxFig3,
  [minimaxRing.id]: minimaxRing,
  [minimaxGrid.id]: minimaxGrid,
};

export function getReproduction(id: string): Reproduction {
  const r = reproductions[id];
  if (!r) {
    const ids = Object.keys(reproductions);
    throw new ConfigError(`unknown reproduction '${id}'${suggestFragment(id, ids)}`, `run \`ei reproduce --list\`; registered: ${ids.join(', ')}`);
  }
  return r;
}
