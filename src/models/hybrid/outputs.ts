// Pure outputs of a hybrid run: summary fields (limit, sim, blowup of instance 0; every instance under `instances`),
// the time series, the figures against the limit and the report.
import type { RunInfo, RunOutputs } from '../../core/contract.ts';
import { makeCsv } from '../../io/csv.ts';
import { makeHybridFigures } from './figures.ts';
import { hybridColumns, type HybridBlowup, type HybridResult } from './runner.ts';
import type { HybridRun } from './resolve.ts';

/** Why a hybrid value is not finite: the network or its limit blew up (reported by name in `blowup`). */
function explainHybridNonFinite(path: readonly (string | number)[], s: { blowup: HybridBlowup | null; instances: readonly { blowup: HybridBlowup | null }[] }): string | undefined {
  const b = path[0] === 'instances' ? s.instances[Number(path[1])]?.blowup : s.blowup;
  if (b) return `blow-up (${b.source}: ${b.condition}${b.t != null ? ` at t = ${b.t}` : ''}): the values are not finite after it`;
  // A diverging instance stops the whole batch, so the others have no time average either.
  const k = s.instances.findIndex((i) => i.blowup?.source === 'simulation');
  const kb = k >= 0 ? s.instances[k].blowup : null;
  return kb ? `the batch stopped when instance ${k} blew up (${kb.condition}), before this instance was averaged` : undefined;
}

export function makeHybridOutputs(result: HybridResult, r: HybridRun, info: RunInfo): RunOutputs {
  const i0 = result.instances[0];
  const summary = { limit: i0.limit, sim: i0.sim, blowup: i0.blowup, rmsError: i0.rmsError, c0: i0.c0, instances: result.instances };
  const figures = makeHybridFigures(result, r);
  const s = i0.sim;
  return {
    summary,
    explainNonFinite: (path) => explainHybridNonFinite(path, summary),
    files: [
      { name: 'timeseries.csv', content: makeCsv(result.timeseries.columns, result.timeseries.rows, { t: 'tau' }) },
      ...figures.map((fig) => ({ name: `${fig.name}.svg`, content: fig.svg })),
    ],
    report: {
      title: 'ei run hybrid',
      subtitle: 'Balanced stochastic hybrid network against its Gaussian large-n limit',
      sections: [
        { heading: 'Time averages after burn-in against the limit at the final time', table: { columns: ['quantity', 'particles (time average)', 'limit (final)', 'rms(particles - limit)'], rows: hybridColumns.map((k) => [k, i0.sim[k], i0.limit[k], i0.rmsError[k]]) } },
        ...(i0.blowup ? [{ heading: 'Blow-up', text: `${i0.blowup.source}: ${i0.blowup.condition} — ${i0.blowup.detail}` }] : []),
        ...figures.map((fig) => ({ heading: fig.heading, text: fig.caption, svg: fig.svg })),
      ],
    },
    line:
      `hybrid: 2 x ${r.n} neurons x ${r.steps} steps on ${info.backend} in ${info.wallSeconds.toFixed(2)} s; ` +
      `mE ${s.mE.toFixed(4)} (limit ${i0.limit.mE.toFixed(4)}), X ${s.X.toFixed(4)} (limit ${i0.limit.X.toFixed(4)})${i0.blowup ? `; BLOW-UP: ${i0.blowup.condition}` : ''}`,
  };
}
