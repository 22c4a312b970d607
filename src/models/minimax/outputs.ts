// The outputs of `ei run minimax` (pure): rates next to the KKT prediction, balance index, ISI CV and a raster
// (tight-balance), the bump (ring) or the rate map (grid); rates.csv, raster.svg and rate-map.svg.
import type { RunInfo, RunOutputs } from '../../core/contract.ts';
import { makeCsv } from '../../io/csv.ts';
import type { ReportSection } from '../../report/html.ts';
import { makeHeatmap } from '../../report/svg.ts';
import { balanceIndex, dominantWavelength, finiteMean, isiCv, populationVector, predictionStats, simulatedRatesHz } from './analysis.ts';
import type { MinimaxRunResult } from './network.ts';
import type { MinimaxResolved } from './resolve.ts';
import { makeRasterPlot } from './reproductions/shared.ts';

/** Why a minimax statistic is undefined: too few spikes in a short or silent run. */
function explainMinimaxNonFinite(path: readonly (string | number)[]): string | undefined {
  const key = String(path[path.length - 1]);
  if (key === 'cv') return 'no E neuron fired 2 or more inter-spike intervals in the measured half of the run';
  if (key === 'rho') return 'no E neuron qualifies for the balance index (none predicted active, or firing >= 1 Hz), or their input has no variance';
  if (key.startsWith('corr')) return 'the correlation is undefined: the simulated or predicted rates are all equal (e.g. no spikes)';
  if (key.startsWith('meanRate') || key.startsWith('error')) return 'no neuron of that population was measured';
  return undefined;
}

/** Per-instance statistics of a run: rates, balance index, ISI CV, and against the KKT point where there is one. */
function minimaxInstanceRows(res: MinimaxRunResult, r: MinimaxResolved): Record<string, unknown>[] {
  const { network, instance } = r.plan;
  const theory = r.theory;
  return Array.from({ length: res.batch }, (_, b) => {
    const sim = simulatedRatesHz(res, b, instance.tauE, instance.tauI);
    const row: Record<string, unknown> = {
      instanceId: b,
      meanRateEHz: finiteMean(sim.E),
      meanRateIHz: finiteMean(sim.I),
      // Balance index over the E neurons the KKT point predicts active (else those firing >= 1 Hz).
      rho: finiteMean(balanceIndex(res, b, 'E').filter((_, i) => (theory ? theory.rE[i] > 0 : sim.E[i] >= 1))),
      cv: finiteMean(isiCv(res, b).subarray(0, network.nE)),
    };
    if (theory) {
      const e = predictionStats(Float64Array.from(theory.rE, (x) => x / instance.tauE), sim.E);
      const i = predictionStats(Float64Array.from(theory.rI, (x) => x / instance.tauI), sim.I);
      Object.assign(row, { corrE: e.corr, corrI: i.corr, errorHz: e.errorHz, errorIHz: i.errorHz });
    }
    if (r.plan.thetas) Object.assign(row, { bump: populationVector(sim.E, r.plan.thetas) });
    if (r.plan.side) Object.assign(row, { wavelengthSites: dominantWavelength(sim.E, r.plan.side).wavelengthSites });
    return row;
  });
}

/** summary.json fields, tables, figures, report and terminal line of a run. */
export function makeMinimaxOutputs(res: MinimaxRunResult, r: MinimaxResolved, info: RunInfo): RunOutputs {
  const { network, instance, dt } = r.plan;
  const theory = r.theory;
  const wellPosed = r.wellPosed;
  const N = network.nE + network.nI;
  const instances = minimaxInstanceRows(res, r);
  const summary: Record<string, unknown> = {
    network: r.base.network,
    nE: network.nE,
    nI: network.nI,
    nIn: network.nIn,
    tauE: instance.tauE,
    tauI: instance.tauI,
    tauX: instance.tauX,
    // The ring and grid networks have no KKT prediction: those fields are absent, not null.
    ...(theory ? { kktResidual: theory.residual, predictedRatesEHz: Array.from(theory.rE, (x) => x / instance.tauE), predictedRatesIHz: Array.from(theory.rI, (x) => x / instance.tauI) } : {}),
    ...(wellPosed ? { wellPosed: { wiiPositiveDefinite: wellPosed.wiiPositiveDefinite, reducedPositiveDefinite: wellPosed.reducedPositiveDefinite, message: wellPosed.message } } : {}),
    measuredFromStep: r.measureFrom,
    instances,
  };
  const rateRows: (number | string)[][] = [];
  for (let b = 0; b < res.batch; b++) {
    const sim = simulatedRatesHz(res, b, instance.tauE, instance.tauI);
    for (let n = 0; n < N; n++) {
      const isE = n < network.nE;
      const i = isE ? n : n - network.nE;
      const pred = theory ? (isE ? theory.rE[i] / instance.tauE : theory.rI[i] / instance.tauI) : NaN;
      rateRows.push([b, isE ? 'E' : 'I', i, isE ? sim.E[i] : sim.I[i], pred, res.spikeCounts[b * N + n]]);
    }
  }
  const files = [{ name: 'rates.csv', content: makeCsv(['instance', 'population', 'neuron', 'simulatedHz', 'predictedHz', 'spikes'], rateRows) }];
  const raster = makeRasterPlot(res, 0, `Spike raster, last ${r.raster.steps} steps (instance 0)`, dt, r.raster.from, { maxPoints: 30000 });
  files.push({ name: 'raster.svg', content: raster });
  // The report's summary table: the common fields first, as summary.json has them.
  const common = { model: 'minimax', network: r.base.network, backend: info.backend, steps: r.steps, dt, T: r.steps * dt, seed: r.seed, batch: r.batch, wallSeconds: info.wallSeconds, neuronStepsPerSecond: (r.neuronsPerStep * r.steps) / info.wallSeconds };
  const table = { ...common, ...summary };
  const sections: ReportSection[] = [
    { heading: 'Summary', table: { columns: ['quantity', 'value'], rows: Object.entries(table).filter(([k]) => k !== 'instances' && !k.startsWith('predicted')).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : (v as string | number | null)]) } },
    { heading: 'Instances', table: { columns: Object.keys(instances[0]), rows: instances.map((row) => Object.values(row).map((v) => (typeof v === 'object' ? JSON.stringify(v) : (v as number)))) } },
    { heading: 'Raster', svg: raster },
  ];
  if (r.plan.side) {
    const side = r.plan.side;
    const sim = simulatedRatesHz(res, 0, instance.tauE, instance.tauI).E;
    const heat = makeHeatmap({ title: 'E rate map (second half)', x: { label: 'x', unit: 'site' }, y: { label: 'y', unit: 'site' }, xValues: Array.from({ length: side }, (_, i) => i), yValues: Array.from({ length: side }, (_, i) => i), z: Array.from(sim), zLabel: 'rate', zUnit: 'Hz' });
    files.push({ name: 'rate-map.svg', content: heat });
    sections.push({ heading: 'Rate map', svg: heat });
  }
  const i0 = instances[0];
  const note = wellPosed && !wellPosed.reducedPositiveDefinite ? `; note: ${wellPosed.message}` : '';
  return {
    summary,
    explainNonFinite: explainMinimaxNonFinite,
    files,
    report: { title: `ei run minimax (${String(r.base.network)})`, subtitle: 'Greedy-spiking E-I network from minimax optimisation (Li & Pehlevan 2020)', sections },
    line: `minimax ${String(r.base.network)}: mean E rate ${Number(i0.meanRateEHz).toFixed(2)} Hz${theory ? `, prediction error ${Number(i0.errorHz).toFixed(3)} Hz (corr ${Number(i0.corrE).toFixed(4)}), rho ${Number(i0.rho).toFixed(4)}` : ''}, ISI CV ${Number(i0.cv).toFixed(3)}${note}`,
  };
}
