// `ei sweep poisson`: every grid point x replica is one instance of a batched population simulation.
import type { RunRequest, SweepDefinition } from '../../core/contract.ts';
import { formatCount, type RunEstimate } from '../../core/limits.ts';
import type { SweepSchema } from '../../core/sweep-grid.ts';
import { estimatePopulationRun, resolveExperimentShape, resolvePoisson, runExperiment, type PoissonResolved } from './experiment.ts';

export const poissonSweepColumns = ['meanU', 'varU', 'rateHz', 'intensityHz', 'spikes', 'meanUTheory', 'varUTheory', 'rateHzTheory', 'spikeCountZ'];

function closeTo(a: number, b: number, rel: number): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * What a poisson sweep row holds. No result column may be empty or NaN: the averages divide by max(1, averaged
 * steps), spikeCountZ is 0 when no spike is expected, and the theory is closed-form (probit) or a fixed quadrature
 * (logistic) of finite, validated parameters. So a non-finite or empty value is damage, and merge refuses it.
 */
export const poissonSweepSchema: SweepSchema = {
  resultColumns: poissonSweepColumns,
  emptyColumns: () => ({}),
  countColumns: ['spikes'],
  perPointColumns: ['meanUTheory', 'varUTheory', 'rateHzTheory'],
  checkRow(row, params, config) {
    const dt = config.dt as number;
    const n = config.n;
    // As the runner: steps from round(burnin / dt) on enter the averages, and rateHz = spikes / (steps n dt).
    const averaged = Math.max(1, config.steps - Math.round(((params.burnin as number | undefined) ?? 0) / dt));
    const rate = row.spikes / (averaged * n * dt);
    if (!closeTo(row.rateHz, rate, 1e-12)) {
      return `fields 'spikes' (${row.spikes}) and 'rateHz' (${row.rateHz}) disagree: with ${n} neurons and ${averaged} averaged steps of ${dt} s, rateHz = spikes / (n x steps x dt) = ${rate}`;
    }
    // intensityHz x steps x dt x n is the expected spike count the z-score was taken against.
    const expected = row.intensityHz * (averaged * dt) * n;
    const z = expected > 0 ? (row.spikes - expected) / Math.sqrt(expected) : 0;
    if (!(Math.abs(z - row.spikeCountZ) <= 1e-6 * (1 + Math.abs(z)))) {
      return `field 'spikeCountZ' (${row.spikeCountZ}) disagrees with 'spikes' and 'intensityHz', which give ${z}`;
    }
    return null;
  },
};

/** A sweep's request: population records only (no recorders, no time series). */
function sweepRequest(request: RunRequest): RunRequest {
  return { ...request, recordSpikes: 0, recordTraces: 0, recordEvery: Number.MAX_SAFE_INTEGER };
}

export interface PoissonSweep {
  request: RunRequest;
  r: PoissonResolved;
  gridNames: readonly string[];
}

export const poissonSweep: SweepDefinition<PoissonSweep> = {
  schema: poissonSweepSchema,
  resolve(request, points, grids) {
    return { request, r: resolvePoisson(sweepRequest(request), { instances: points }), gridNames: grids.map((g) => g.name) };
  },
  estimate(request, grids, counts, target): RunEstimate {
    // The shape of one instance, then the time of all of this shard's instances.
    // The shape alone: the grid values (e.g. burnin) are checked per point by resolve, after this estimate.
    const one = resolveExperimentShape({ ...sweepRequest(request), set: { ...request.params }, batch: Math.max(1, counts.mine) });
    const all = estimatePopulationRun(one, { backend: target.backend, isSoftware: target.ctx?.info.isSoftware, threads: target.threads });
    return {
      model: 'sweep poisson',
      size: `${formatCount(counts.mine)} of ${formatCount(counts.total)} instances x --n ${formatCount(one.n)} x ${formatCount(one.steps)} steps`,
      memory: [{ what: 'resolved instance parameters', bytes: counts.total * 700, place: 'heap', options: ['--grid', '--replicas'] }],
      outputs: [],
      work: { ...all.work, options: ['--grid', '--replicas', '--n', one.stepsFlag] },
    };
  },
  maxBatch(s, target) {
    const n = s.r.n;
    const cap = 16_384;
    const ctx = target.ctx;
    if (!ctx) return Math.max(1, Math.min(cap, Math.floor(4e6 / n)));
    const maxBinding = ctx.device.limits.maxStorageBufferBindingSize;
    const byState = Math.floor(maxBinding / (4 * n));
    const byPartials = Math.floor(maxBinding / (16 * Math.ceil(n / 256) * 64));
    return Math.max(1, Math.min(cap, byState, byPartials));
  },
  async runBatch(s, group, target, control) {
    const req = s.request;
    const r = await runExperiment({
      set: { ...req.params },
      n: req.n,
      steps: req.steps,
      T: req.T,
      dt: req.dt,
      seed: req.seed,
      instances: group.map((p) => p.point),
      instanceIds: group.map((p) => p.index),
      backend: target.backend,
      ctx: target.ctx ?? undefined,
      threads: target.threads,
      recordEvery: Number.MAX_SAFE_INTEGER,
      onProgress: control.onProgress,
      onThreads: control.onThreads,
    });
    return r.instances.map((i) => [i.sim.meanU, i.sim.varU, i.sim.rateHz, i.sim.intensityHz, i.sim.spikes, i.theory.meanU, i.theory.varU, i.theory.rateHz, i.spikeCountZ]);
  },
  config(s) {
    const fixed = s.r.params[0] ? Object.fromEntries(Object.entries(s.r.params[0]).filter(([k]) => !s.gridNames.includes(k))) : {};
    return { n: s.r.n, steps: s.r.steps, dt: s.r.dt, fixed };
  },
  neuronStepsPerInstance(s) {
    return s.r.n * s.r.steps;
  },
};
