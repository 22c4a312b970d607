// `ei sweep hybrid`: every grid point x replica is one instance of a batched hybrid network, next to its limit.
// The RNG instance coordinate of a row is its sweep index and a diverging instance does not stop its batch, so rows
// do not depend on sharding or batching.
import { cpuOrWebgpu } from '../../core/contract.ts';
import { ParameterError } from '../../errors.ts';
import type { RunRequest, SweepDefinition } from '../../core/contract.ts';
import { formatCount, type RunEstimate } from '../../core/limits.ts';
import type { ParamValues } from '../../core/params.ts';
import type { GridValue, SweepSchema } from '../../core/sweep-grid.ts';
import { makeHybridModelParams } from './params.ts';
import { solveLimitB2, type LimitTrajectory } from './limit.ts';
import { estimateHybridShape, resolveHybridRun, type HybridRun } from './resolve.ts';
import { hybridColumns, HybridRunner, limitBlowupOf, limitName, solveHybridLimit } from './runner.ts';

const limitColumns = hybridColumns.map(limitName);

/** sweep.csv's result columns: particle time averages, their step count, the limit at T, and the particles' blow-up. */
const hybridSweepColumns: readonly string[] = [...hybridColumns, 'averagedSteps', ...limitColumns, 'blowup', 'blowupT'];

const eps = 2.220446049250313e-16;

function near(a: number, b: number, tol: number): boolean {
  return Math.abs(a - b) <= tol;
}

/**
 * What a hybrid sweep row holds. Every column is a finite number in every row:
 * - mE ... X: time averages over the `averagedSteps` steps after burnin and before the particles diverged (0 when
 *   no step was averaged, i.e. they diverged before the burn-in ended);
 * - limitME ... limitX: the limit at T; a sweep refuses, before anything runs, a point whose limit does not reach T
 *   (failed conditions or a blow-up of the limit), so these always exist;
 * - blowup: 1 when the particles diverged (a value not finite or above 1e9), else 0; blowupT: when (T if they did not).
 * The checks below re-derive what the row's own fields and its point determine.
 */
export const hybridSweepSchema: SweepSchema = {
  resultColumns: hybridSweepColumns,
  emptyColumns: () => ({}),
  countColumns: ['averagedSteps', 'blowup'],
  bounds: { blowup: [0, 1] },
  perPointColumns: limitColumns,
  checkRow(row, params, config) {
    const dt = config.dt as number;
    const { n, steps } = config;
    const T = steps * dt;
    const num = (k: string) => params[k] as number;
    const first = Math.max(1, Math.round(num('burnin') / dt));
    // As the runner: steps first..steps enter the averages, those from the blow-up step on do not.
    const blowStep = row.blowup === 0 ? steps + 1 : Math.round(row.blowupT / dt);
    if (row.blowup === 0 && row.blowupT !== T) return `field 'blowupT' (${row.blowupT}) is not T = steps x dt = ${T}, but 'blowup' is 0`;
    if (row.blowup === 1 && !(blowStep >= 0 && blowStep <= steps && blowStep * dt === row.blowupT)) return `field 'blowupT' (${row.blowupT}) is not a step time in [0, T = ${T}]`;
    const averaged = Math.max(0, blowStep - first);
    if (row.averagedSteps !== averaged) return `field 'averagedSteps' (${row.averagedSteps}) disagrees with 'blowup' and 'blowupT': steps ${first}..${Math.min(steps, blowStep - 1)} give ${averaged}`;
    if (averaged === 0) {
      const nonzero = hybridColumns.find((c) => row[c] !== 0);
      if (nonzero) return `field '${nonzero}' (${row[nonzero]}) is not 0, but no step was averaged`;
    } else {
      for (const c of ['vE', 'vI'] as const) if (!(row[c] >= 0)) return `field '${c}' (${row[c]}) is a negative variance`;
      const numax = num('numax');
      for (const c of ['nuE', 'nuI'] as const) if (!(row[c] >= 0 && row[c] <= numax * (1 + 1e-12))) return `field '${c}' (${row[c]}) is outside [0, numax = ${numax}]`;
      // X is linear in the rates, so its average is the same combination of the averaged rates (up to summation rounding).
      const sq = Math.sqrt(n);
      const b1 = params.variant === 'B1';
      const X = b1 ? sq * (num('JE') * row.nuE - num('JI') * row.nuI) : sq * (num('muhatE') + num('JEE') * row.nuE - num('JEI') * row.nuI);
      const scale = b1 ? sq * (num('JE') * row.nuE + num('JI') * row.nuI) : sq * (Math.abs(num('muhatE')) + num('JEE') * row.nuE + num('JEI') * row.nuI);
      if (!near(row.X, X, 32 * (averaged + 8) * eps * scale + 1e-300)) return `field 'X' (${row.X}) disagrees with 'nuE' and 'nuI', which give ${X}`;
    }
    return checkLimitRow(row, params, T);
  },
};

/** The limit at T against what the point determines: closed form for B2; for B1 the balance and the linear parts of the ODE. */
function checkLimitRow(row: Record<string, number>, params: Record<string, GridValue>, T: number): string | null {
  const num = (k: string) => params[k] as number;
  const numax = num('numax');
  for (const c of ['limitNuE', 'limitNuI'] as const) if (!(row[c] >= 0 && row[c] <= numax)) return `field '${c}' (${row[c]}) is outside [0, numax = ${numax}]`;
  const tau = num('tau');
  if (params.variant === 'B2') {
    const p: ParamValues = { ...params };
    const L = solveLimitB2(makeHybridModelParams(p), { mE: num('mE0'), mI: num('mI0'), vE: num('vE0'), vI: num('vI0') }, { T, sampleTimes: [0, T] });
    const last = L.t.length - 1;
    if (last < 1) return `the point's limit does not exist (${L.blowup?.condition}), but the row has limit values`;
    for (const c of hybridColumns) {
      const want = L[c][last];
      if (!near(row[limitName(c)], want, 1e-12 * (1 + Math.abs(want)))) return `field '${limitName(c)}' (${row[limitName(c)]}) is not the limit at T, ${want}`;
    }
    return null;
  }
  const JE = num('JE');
  const JI = num('JI');
  // The solver keeps JE nuE = JI nuI to 1e-8 (else it reports 'balance lost').
  if (!near(JE * row.limitNuE, JI * row.limitNuI, 1e-8 * (JE * row.limitNuE + JI * row.limitNuI))) return `fields 'limitNuE' and 'limitNuI' break the balance JE nuE = JI nuI of the limit`;
  // Both variances follow dv/dt = -2 v / tau + S (same S), both means -m / tau + mu_a + X (same X): the differences are linear ODEs.
  const dv0 = num('vE0') - num('vI0');
  const dv = dv0 * Math.exp((-2 * T) / tau);
  if (!near(row.limitVE - row.limitVI, dv, 1e-6 * Math.abs(dv0) + 1e-9 * (1 + row.limitVE + row.limitVI))) return `fields 'limitVE' - 'limitVI' (${row.limitVE - row.limitVI}) is not (vE0 - vI0) exp(-2T/tau) = ${dv}`;
  const dmStar = tau * (num('muE') - num('muI'));
  const dm0 = num('mE0') - num('mI0') - dmStar;
  const dm = dmStar + dm0 * Math.exp(-T / tau);
  if (!near(row.limitME - row.limitMI, dm, 1e-6 * Math.abs(dm0) + 1e-8 * (1 + Math.abs(row.limitME) + Math.abs(row.limitMI) + Math.abs(dmStar)))) {
    return `fields 'limitME' - 'limitMI' (${row.limitME - row.limitMI}) is not tau (muE - muI) + (mE0 - mI0 - tau (muE - muI)) exp(-T/tau) = ${dm}`;
  }
  return null;
}

/** A resolved hybrid sweep: the run's shape, and each distinct point's parameters and limit (solved once, before anything runs). */
export interface HybridSweep {
  request: RunRequest;
  n: number;
  steps: number;
  dt: number;
  gridNames: readonly string[];
  fixed: Record<string, GridValue>;
  points: Map<string, { params: ParamValues; limit: LimitTrajectory }>;
}

const pointKey = (point: Readonly<Record<string, GridValue>>) => JSON.stringify(point);

/** The request of a sweep: its options without the ones a sweep sets itself. */
function sweepRequest(request: RunRequest): RunRequest {
  return { ...request, batch: undefined, recordEvery: undefined };
}

export const hybridSweep: SweepDefinition<HybridSweep> = {
  schema: hybridSweepSchema,
  resolve(request, points, grids) {
    const distinct = [...new Map(points.map((p) => [pointKey(p), p])).values()];
    // One resolution of every distinct point: one dt and step count for the whole sweep, every parameter checked.
    const all = resolveHybridRun(sweepRequest(request), { instances: distinct });
    const T = all.steps * all.dt;
    const map = new Map<string, { params: ParamValues; limit: LimitTrajectory }>();
    distinct.forEach((point, i) => {
      const params = all.params[i];
      const limit = solveHybridLimit(params, T, [0, T]);
      const blowup = limitBlowupOf(params, limit);
      if (blowup) {
        const where = Object.entries(point).map(([k, v]) => `${k}=${v}`).join(', ') || 'the fixed parameters';
        throw new ParameterError(
          '--grid',
          `at ${where} the limit ${blowup.source === 'conditions' ? 'does not exist' : `stops at t = ${blowup.t}`} (${blowup.condition}): ${blowup.detail}`,
          'a hybrid sweep compares the particles with the limit, which must exist up to T: narrow the grid to where it does (`ei run hybrid --set ...` at this point reports the blow-up, `ei reproduce hybrid-blowup` shows such cases)',
        );
      }
      map.set(pointKey(point), { params, limit });
    });
    const gridNames = grids.map((g) => g.name);
    const p0 = all.params[0];
    const fixed = Object.fromEntries(Object.entries(p0).filter(([k]) => !gridNames.includes(k)));
    return { request: sweepRequest(request), n: all.n, steps: all.steps, dt: all.dt, gridNames, fixed, points: map };
  },
  estimate(request, grids, counts, target): RunEstimate {
    // One instance at the first grid values, then this shard's instances batched.
    const first = Object.fromEntries(grids.map((g) => [g.name, g.values[0]]));
    const one = resolveHybridRun(sweepRequest(request), { instances: [first] });
    const mine = Math.max(1, counts.mine);
    // The wasm kernel's cost per neuron grows with the input events per step (numax n dt): the grid's largest numax.
    const numaxGrid = grids.find((g) => g.name === 'numax')?.values.filter((v): v is number => typeof v === 'number') ?? [];
    const eventsPerStep = Math.max(one.params[0].numax as number, ...numaxGrid) * one.n * one.dt;
    const e = estimateHybridShape({ n: one.n, batch: Math.min(mine, counts.maxBatch ?? mine), steps: one.steps, dt: one.dt, recordEvery: one.steps, tauMin: one.tauMin, stepsFlag: one.stepsFlag, eventsPerStep }, { backend: target.backend === 'wasm' ? 'wasm' : cpuOrWebgpu(target.backend), isSoftware: target.ctx?.info.isSoftware, threads: target.threads });
    const batches = Math.ceil(mine / Math.min(mine, counts.maxBatch ?? mine));
    // Every shard solves the limit of every distinct point (to refuse a sweep whose limit blows up anywhere).
    const limitSeconds = counts.points * Math.min((one.steps * one.dt) / (1e-3 * one.tauMin), 2e5) * 1.2e-6;
    const scale = (s: number) => s * batches + limitSeconds;
    return {
      model: 'sweep hybrid',
      size: `${formatCount(counts.mine)} of ${formatCount(counts.total)} instances x --n ${formatCount(one.n)} (x 2 populations) x ${formatCount(one.steps)} steps`,
      memory: [
        { what: 'resolved points and their limits', bytes: counts.points * 1500, place: 'heap', options: ['--grid'] },
        ...e.memory,
      ],
      outputs: [],
      work: {
        units: 2 * one.n * one.steps * counts.mine,
        unit: 'neuron-steps',
        seconds: {
          cpu: scale(e.work.seconds.cpu),
          'webgpu-software': scale(e.work.seconds['webgpu-software']),
          'webgpu-hardware': scale(e.work.seconds['webgpu-hardware']),
          ...(e.work.seconds.wasm !== undefined ? { wasm: scale(e.work.seconds.wasm) } : {}),
        },
        options: ['--grid', '--replicas', '--n', one.stepsFlag],
      },
    };
  },
  maxBatch(s, target) {
    const cap = 16_384;
    const ctx = target.ctx;
    if (target.backend === 'cpu' || !ctx) return Math.max(1, Math.min(cap, Math.floor(4e6 / (2 * s.n))));
    const maxBinding = ctx.device.limits.maxStorageBufferBindingSize;
    const byState = Math.floor(maxBinding / (8 * s.n));
    // Workgroup partials: 2 populations x ceil(n / 256) workgroups (4 neurons per thread on hardware) x 16 bytes.
    const byPartials = Math.floor(maxBinding / (2 * Math.ceil(s.n / 256) * 16));
    return Math.max(1, Math.min(cap, byState, byPartials));
  },
  async runBatch(s, group, target, control) {
    const entries = group.map((g) => {
      const e = s.points.get(pointKey(g.point));
      if (!e) throw new ParameterError('--grid', `point ${pointKey(g.point)} was not resolved with the sweep`, 'resolve the sweep with every point it runs');
      return e;
    });
    const r: HybridRun = resolveHybridRun(
      { params: s.request.params, n: s.n, steps: s.steps, dt: s.dt, seed: s.request.seed, recordEvery: s.steps },
      { instances: group.map((g) => g.point), instanceIds: group.map((g) => g.index), stopOnBlowup: false, limits: entries.map((e) => e.limit) },
    );
    const runner = await HybridRunner.create(r, target);
    try {
      if (runner.threads !== undefined) control.onThreads?.(runner.threads);
      await runner.run(r.steps, control);
      const res = await runner.result();
      const T = s.steps * s.dt;
      return res.instances.map((inst, b) => {
        const k = res.averagedSteps[b];
        const diverged = inst.blowup?.source === 'simulation';
        if (inst.blowup && !diverged) throw new ParameterError('--grid', `instance ${group[b].index}: the limit blew up (${inst.blowup.condition}) although the sweep checked it`, 'report this as a bug');
        return [
          ...hybridColumns.map((c) => (k > 0 ? inst.sim[c] : 0)),
          k,
          ...hybridColumns.map((c) => inst.limit[c]),
          diverged ? 1 : 0,
          diverged && inst.blowup?.t != null ? inst.blowup.t : T,
        ];
      });
    } finally {
      runner.dispose();
    }
  },
  config(s) {
    return { n: s.n, steps: s.steps, dt: s.dt, fixed: s.fixed };
  },
  neuronStepsPerInstance(s) {
    return 2 * s.n * s.steps;
  },
};
