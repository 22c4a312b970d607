// `ei run minimax`: one minimax spiking E-I network (Li & Pehlevan 2020) with replicas as instances of one batch; rates next
// to the KKT prediction, balance index, ISI CV and a raster (tight-balance), the bump (ring) or the rate map (grid).
import { makeCsv } from '../../io/csv.ts';
import { makeReportHtml } from '../../report/html.ts';
import { makeHeatmap } from '../../report/svg.ts';
import { resolveParams } from '../../core/params.ts';
import { estimateMinimaxRun, runMinimax } from './experiment.ts';
import { balanceIndex, dominantWavelength, finiteMean, isiCv, populationVector, predictionStats, simulatedRatesHz } from './analysis.ts';
import { checkMinimaxSpec, type MinimaxRunSpec } from './network.ts';
import { makeMinimaxRunPlan, minimaxCpuBeatsSoftware, minimaxParameters } from './params.ts';
import { checkMinimaxWellPosed, solveMinimaxRates } from './theory.ts';
import { makeRasterPlot } from './reproductions/shared.ts';
import { parseSetAssignments, type ParsedArgs } from '../../cli/args.ts';
import { makeSummaryJson } from '../../io/summary-json.ts';
import { withResultSession } from '../../cli/result-session.ts';
import { resolveSteps } from '../../core/limits.ts';
import { checkBeforeSession, checkInSession, noteDtAdjusted } from '../../cli/run-options.ts';
import { defaultOutDir, makeAdapterRecord } from '../../cli/run-command.ts';

export async function runMinimaxCommand(a: ParsedArgs & { flags: { set: string[]; T?: number; dt?: number; batch: number; seed: number; backend: string; adapter: string; quiet: boolean; overwrite: boolean; out?: string } }, argv: string[], engineVersion: string): Promise<number> {
  const f = a.flags;
  const p = resolveParams('minimax', minimaxParameters, parseSetAssignments(f.set));
  // T / dt must be whole (both given: an error; the default dt: lowered to T / ceil(T / dt), see resolveSteps).
  if (f.T !== undefined && f.dt !== undefined) resolveSteps({ model: 'minimax', T: f.T, dt: f.dt, dtDefault: f.dt, defaultT: f.T, minSteps: 2 });
  let plan = makeMinimaxRunPlan(p, f.seed, f.T, f.dt);
  const { dtAdjusted } = f.T !== undefined && f.dt === undefined ? resolveSteps({ model: 'minimax', T: f.T, dtDefault: plan.dt, defaultT: f.T, minSteps: 2 }) : { dtAdjusted: null };
  if (dtAdjusted) {
    // tight-balance's default step is dtOverTau x tau; the others' is a fixed 1 ms.
    plan = p.network === 'tight-balance' ? makeMinimaxRunPlan({ ...p, dtOverTau: dtAdjusted.to / (p.tau as number) }, f.seed, f.T) : makeMinimaxRunPlan(p, f.seed, f.T, dtAdjusted.to);
  }
  const rasterSteps = Math.min(plan.steps, 20_000);
  const estimate = (backend: 'cpu' | 'webgpu') =>
    estimateMinimaxRun({ nE: plan.network.nE, nI: plan.network.nI, nIn: plan.network.nIn, batch: f.batch, steps: plan.steps, rasterSteps, stepsFlag: f.T !== undefined ? '--T' : '--dt' }, { backend });
  // Before the per-instance specs exist (a batch of 1e9 would hang building them).
  checkBeforeSession(estimate(f.backend === 'cpu' ? 'cpu' : 'webgpu'), f);
  noteDtAdjusted(dtAdjusted);
  const spec: MinimaxRunSpec = {
    networks: [plan.network],
    instances: Array.from({ length: f.batch }, (_, b) => ({ ...plan.instance, measureFrom: Math.floor(plan.steps / 2), instanceId: b })),
    steps: plan.steps,
    seed: f.seed,
    raster: { from: plan.steps - rasterSteps, steps: rasterSteps },
  };
  // Validate before touching the GPU or the output folder.
  checkMinimaxSpec(spec);
  const wellPosed = plan.predictionRates ? checkMinimaxWellPosed(plan.network) : null;
  return withResultSession(
    { outPath: f.out ?? defaultOutDir('minimax'), backend: f.backend as 'auto', adapter: f.adapter as 'auto', label: (b) => `minimax ${String(p.network)} on ${b}`, total: plan.steps, unit: 'steps', quiet: f.quiet, overwrite: f.overwrite, cpuBeatsSoftware: minimaxCpuBeatsSoftware },
    async ({ sel, bar, out }) => {
      checkInSession(estimate(sel.backend), sel);
      const res = await runMinimax(spec, sel.backend, sel.ctx, (d) => bar.update(d));
      const { network, instance, dt } = plan;
      const theory = plan.predictionRates ? solveMinimaxRates(network, Float64Array.from(plan.predictionRates, (r) => r * instance.tauX)) : null;
      const N = network.nE + network.nI;
      const instances = spec.instances.map((_, b) => {
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
          const e = predictionStats(Float64Array.from(theory.rE, (r) => r / instance.tauE), sim.E);
          const i = predictionStats(Float64Array.from(theory.rI, (r) => r / instance.tauI), sim.I);
          Object.assign(row, { corrE: e.corr, corrI: i.corr, errorHz: e.errorHz, errorIHz: i.errorHz });
        }
        if (plan.thetas) Object.assign(row, { bump: populationVector(sim.E, plan.thetas) });
        if (plan.side) Object.assign(row, { wavelengthSites: dominantWavelength(sim.E, plan.side).wavelengthSites });
        return row;
      });
      const summary = {
        model: 'minimax', network: p.network, backend: sel.backend, steps: plan.steps, dt, T: plan.steps * dt, seed: f.seed, batch: f.batch, wallSeconds: res.wallSeconds,
        stepsPerSecond: (plan.steps * f.batch) / res.wallSeconds,
        nE: network.nE, nI: network.nI, nIn: network.nIn, tauE: instance.tauE, tauI: instance.tauI, tauX: instance.tauX,
        // The ring and grid networks have no KKT prediction: those fields are absent, not null.
        ...(theory ? { kktResidual: theory.residual, predictedRatesEHz: Array.from(theory.rE, (r) => r / instance.tauE), predictedRatesIHz: Array.from(theory.rI, (r) => r / instance.tauI) } : {}),
        ...(wellPosed ? { wellPosed: { wiiPositiveDefinite: wellPosed.wiiPositiveDefinite, reducedPositiveDefinite: wellPosed.reducedPositiveDefinite, message: wellPosed.message } } : {}),
        measuredFromStep: Math.floor(plan.steps / 2),
        instances,
      };
      out.write('config.json', JSON.stringify({ engineVersion, command: ['ei', 'run', ...argv], createdAt: new Date().toISOString(), model: 'minimax', params: p, steps: plan.steps, dt, dtAdjusted, seed: f.seed, batch: f.batch, backend: sel.backend, backendRequested: f.backend, fallbackReason: sel.fallbackReason, adapter: makeAdapterRecord(sel), node: process.version }, null, 2) + '\n');
      const rateRows: (number | string)[][] = [];
      spec.instances.forEach((_, b) => {
        const sim = simulatedRatesHz(res, b, instance.tauE, instance.tauI);
        for (let n = 0; n < N; n++) {
          const isE = n < network.nE;
          const i = isE ? n : n - network.nE;
          const pred = theory ? (isE ? theory.rE[i] / instance.tauE : theory.rI[i] / instance.tauI) : NaN;
          rateRows.push([b, isE ? 'E' : 'I', i, isE ? sim.E[i] : sim.I[i], pred, res.spikeCounts[b * N + n]]);
        }
      });
      out.write('rates.csv', makeCsv(['instance', 'population', 'neuron', 'simulatedHz', 'predictedHz', 'spikes'], rateRows));
      const raster = makeRasterPlot(res, 0, `Spike raster, last ${rasterSteps} steps (instance 0)`, dt, plan.steps - rasterSteps, { maxPoints: 30000 });
      out.write('raster.svg', raster);
      const sections = [
        { heading: 'Summary', table: { columns: ['quantity', 'value'], rows: Object.entries(summary).filter(([k]) => k !== 'instances' && !k.startsWith('predicted')).map(([k, v]) => [k, typeof v === 'object' ? JSON.stringify(v) : (v as string | number | null)]) } },
        { heading: 'Instances', table: { columns: Object.keys(instances[0]), rows: instances.map((r) => Object.values(r).map((v) => (typeof v === 'object' ? JSON.stringify(v) : (v as number)))) } },
        { heading: 'Raster', svg: raster },
      ];
      if (plan.side) {
        const side = plan.side;
        const sim = simulatedRatesHz(res, 0, instance.tauE, instance.tauI).E;
        const heat = makeHeatmap({ title: 'E rate map (second half)', x: { label: 'x', unit: 'site' }, y: { label: 'y', unit: 'site' }, xValues: Array.from({ length: side }, (_, i) => i), yValues: Array.from({ length: side }, (_, i) => i), z: Array.from(sim), zLabel: 'rate', zUnit: 'Hz' });
        out.write('rate-map.svg', heat);
        sections.push({ heading: 'Rate map', svg: heat });
      }
      out.write('report.html', makeReportHtml({ title: `ei run minimax (${String(p.network)})`, subtitle: 'Greedy-spiking E-I network from minimax optimisation (Li & Pehlevan 2020)', sections, meta: { engineVersion, backend: sel.backend, seed: f.seed } }));
      out.write('summary.json', makeSummaryJson(summary, explainMinimaxNonFinite));
      if (wellPosed && !wellPosed.reducedPositiveDefinite) console.error(`ei: note: ${wellPosed.message}`);
      const i0 = instances[0];
      console.error(`ei: minimax ${String(p.network)}: mean E rate ${Number(i0.meanRateEHz).toFixed(2)} Hz${theory ? `, prediction error ${Number(i0.errorHz).toFixed(3)} Hz (corr ${Number(i0.corrE).toFixed(4)}), rho ${Number(i0.rho).toFixed(4)}` : ''}, ISI CV ${Number(i0.cv).toFixed(3)}`);
      console.log(out.path);
      return 0;
    },
  );
}

/** Why a minimax statistic is undefined: too few spikes in a short or silent run. */
export function explainMinimaxNonFinite(path: readonly (string | number)[]): string | undefined {
  const key = String(path[path.length - 1]);
  if (key === 'cv') return 'no E neuron fired 2 or more inter-spike intervals in the measured half of the run';
  if (key === 'rho') return 'no E neuron qualifies for the balance index (none predicted active, or firing >= 1 Hz), or their input has no variance';
  if (key.startsWith('corr')) return 'the correlation is undefined: the simulated or predicted rates are all equal (e.g. no spikes)';
  if (key.startsWith('meanRate') || key.startsWith('error')) return 'no neuron of that population was measured';
  return undefined;
}
