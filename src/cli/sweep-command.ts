// `ei sweep` runs every grid point x replica as instances of batched dispatches; `ei merge` joins shard outputs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, ParameterError } from '../errors.ts';
import { resolveExperiment, runExperiment, type ExperimentOptions } from '../engine/experiment.ts';
import { makeSweepPoints, parseGridSpec, resolveShard, selectShard, mergeShardCsvs, type SweepPoint } from '../engine/sweep-grid.ts';
import type { GpuContext } from '../gpu/context.ts';
import { models } from '../models/registry.ts';
import { makeCsv } from '../io/csv.ts';
import { createResultDir } from '../io/result-dir.ts';
import { makeHelpText, parseArgs, parseSetAssignments, type ArgSpec } from './args.ts';
import { type BackendSelection } from './context.ts';
import { withResultSession } from './result-session.ts';
import { sweepBinaryCommand } from './sweep-binary.ts';
import { defaultOutDir, makeAdapterRecord, simulationFlags } from './run-command.ts';

const sweepSpec = {
  command: 'ei sweep',
  description: 'Runs a parameter sweep: every grid point x replica is one instance; instances share dispatches (as many as the device holds). Writes DIR/sweep.csv (one row per point and replica), config.json and summary.json.',
  positionals: [{ name: 'model', help: `model id (${Object.keys(models).join(', ')})`, required: true }],
  flags: {
    ...simulationFlags,
    grid: { type: 'strings', valueName: 'name=start:stop:count', help: 'swept parameter (repeatable): start:stop:count, start:stop:count:log or a,b,c' },
    replicas: { type: 'integer', min: 1, default: 1, help: 'independent replicas per grid point' },
    shard: { type: 'string', valueName: 'i/N', help: 'run only shard i of N (0-based; also from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)' },
    'max-batch': { type: 'integer', min: 1, help: 'cap on instances per dispatch (default: as many as fit the device)' },
    out: { type: 'string', help: 'result folder (default results/<model>-sweep-<time>)' },
  },
} as const satisfies ArgSpec;

/** Instances per dispatch: as many as the device's binding limits hold (and a cap that keeps chunks responsive). */
export function maxBatchFor(n: number, ctx: GpuContext | null, cap = 16_384): number {
  if (!ctx) return Math.max(1, Math.min(cap, Math.floor(4e6 / n)));
  const maxBinding = ctx.device.limits.maxStorageBufferBindingSize;
  const byState = Math.floor(maxBinding / (4 * n));
  const byPartials = Math.floor(maxBinding / (16 * Math.ceil(n / 256) * 64));
  return Math.max(1, Math.min(cap, byState, byPartials));
}

export const sweepResultColumns = ['meanU', 'varU', 'rateHz', 'intensityHz', 'spikes', 'meanUTheory', 'varUTheory', 'rateHzTheory', 'spikeCountZ'];

export async function sweepCommand(argv: string[], engineVersion: string): Promise<number> {
  const a = parseArgs(argv, sweepSpec);
  const modelId = a.positionals[0];
  if (modelId === 'binary') return sweepBinaryCommand(argv, engineVersion);
  if (a.help || !modelId) {
    console.log(makeHelpText(sweepSpec));
    return a.help ? 0 : 2;
  }
  const f = a.flags;
  if (f.grid.length === 0) throw new ParameterError('--grid', 'no grid given', 'add at least one --grid name=start:stop:count');
  const grids = f.grid.map((g) => parseGridSpec(g));
  const points = makeSweepPoints(grids, f.replicas);
  const shard = resolveShard({ shard: f.shard });
  const mine = selectShard(points, shard);
  const base = {
    model: modelId,
    set: parseSetAssignments(f.set),
    n: f.n,
    steps: f.steps,
    T: f.T,
    dt: f.dt,
    seed: f.seed,
  };
  const gridNames = grids.map((g) => g.name);
  for (const g of gridNames) {
    if (g in base.set) throw new ParameterError('--grid', `${g} is both swept and fixed with --set`, `drop --set ${g}=...`);
  }
  // Resolve every point first: a bad grid value fails before any simulation runs.
  const check = resolveExperiment({ ...base, instances: points.map((p) => p.point), backend: 'cpu' });
  return withResultSession(
    { outPath: f.out ?? defaultOutDir(`${modelId}-sweep`), backend: f.backend as 'auto', adapter: f.adapter as 'auto', label: (b) => `sweep ${modelId} on ${b}`, total: mine.length, unit: 'instances', quiet: f.quiet },
    async ({ sel, bar, out }) => {
      const perDispatch = Math.min(f['max-batch'] ?? Infinity, maxBatchFor(check.n, sel.ctx));
      const rows: (number | string)[][] = [];
      const t0 = performance.now();
      for (let i = 0; i < mine.length; i += perDispatch) {
        const group: SweepPoint[] = mine.slice(i, i + perDispatch);
        const opts: ExperimentOptions = {
          ...base,
          instances: group.map((p) => p.point),
          instanceIds: group.map((p) => p.index),
          backend: sel.backend,
          ctx: sel.ctx ?? undefined,
          recordEvery: Number.MAX_SAFE_INTEGER,
          onProgress: (d, total) => bar.update(i + (group.length * d) / total),
        };
        const r = await runExperiment(opts);
        r.instances.forEach((s, b) => {
          const p = group[b];
          rows.push([p.index, p.pointIndex, p.replica, ...gridNames.map((g) => p.point[g]), s.sim.meanU, s.sim.varU, s.sim.rateHz, s.sim.intensityHz, s.sim.spikes, s.theory.meanU, s.theory.varU, s.theory.rateHz, s.spikeCountZ]);
        });
      }
      const wallSeconds = (performance.now() - t0) / 1000;
      const columns = ['index', 'pointIndex', 'replica', ...gridNames, ...sweepResultColumns];
      out.write('sweep.csv', makeCsv(columns, rows));
      out.write('config.json', JSON.stringify(makeSweepConfig(engineVersion, argv, modelId, check, grids, f.replicas, shard, points.length, sel), null, 2) + '\n');
      out.write('summary.json', JSON.stringify({ model: modelId, backend: sel.backend, instances: rows.length, totalInstances: points.length, shard, perDispatch, wallSeconds, neuronStepsPerSecond: (rows.length * check.n * check.steps) / wallSeconds }, null, 2) + '\n');
      console.error(`ei: sweep ${modelId}: ${rows.length} of ${points.length} instances on ${sel.backend} (${perDispatch} per dispatch) in ${wallSeconds.toFixed(2)} s`);
      console.log(out.path);
      return 0;
    },
  );
}

function makeSweepConfig(
  engineVersion: string,
  argv: string[],
  model: string,
  r: ReturnType<typeof resolveExperiment>,
  grids: { name: string; values: number[] }[],
  replicas: number,
  shard: { index: number; count: number } | null,
  total: number,
  sel: BackendSelection,
) {
  return {
    engineVersion,
    command: ['ei', 'sweep', ...argv],
    createdAt: new Date().toISOString(),
    model,
    n: r.n,
    steps: r.steps,
    dt: r.dt,
    seed: r.seed,
    rngKey: r.key,
    fixed: r.params[0] ? Object.fromEntries(Object.entries(r.params[0]).filter(([k]) => !grids.some((g) => g.name === k))) : {},
    grids,
    replicas,
    totalInstances: total,
    shard,
    shardSelection: 'round-robin: sweep index k belongs to shard k mod N; the RNG stream of an instance is its sweep index, so results do not depend on sharding or batching',
    backend: sel.backend,
    fallbackReason: sel.fallbackReason,
    adapter: makeAdapterRecord(sel),
    node: process.version,
  };
}

const mergeSpec = {
  command: 'ei merge',
  description: 'Merges the shard folders of one sweep into one sweep.csv sorted by sweep index; fails on missing or duplicate rows.',
  positionals: [{ name: 'shards', help: 'shard result folders', required: true, variadic: true }],
  flags: { out: { type: 'string', required: true, help: 'merged result folder' } },
} as const satisfies ArgSpec;

export async function mergeCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, mergeSpec);
  if (a.help) {
    console.log(makeHelpText(mergeSpec));
    return 0;
  }
  const dirs = a.positionals;
  const configs = dirs.map((d) => {
    const p = join(d, 'config.json');
    if (!existsSync(p) || !existsSync(join(d, 'sweep.csv'))) throw new ConfigError(`${d} is not a finished sweep folder (config.json and sweep.csv expected)`, 'pass the --out folders of `ei sweep --shard i/N` runs');
    return JSON.parse(readFileSync(p, 'utf8'));
  });
  const key = (c: Record<string, unknown>) => JSON.stringify([c.model, c.n, c.steps, c.dt, c.seed, c.grids, c.replicas, c.fixed, c.totalInstances]);
  configs.forEach((c, i) => {
    if (key(c) !== key(configs[0])) throw new ConfigError(`${dirs[i]} belongs to a different sweep than ${dirs[0]} (model, grids, seed, n, steps or fixed parameters differ)`, 'merge only the shards of one sweep');
  });
  const merged = mergeShardCsvs(dirs.map((d) => readFileSync(join(d, 'sweep.csv'), 'utf8')), { expected: configs[0].totalInstances, sources: dirs.map((d) => join(d, 'sweep.csv')) });
  const out = createResultDir(a.flags.out);
  out.write('sweep.csv', merged);
  out.write('config.json', JSON.stringify({ ...configs[0], shard: null, mergedFrom: dirs, shardConfigs: configs.map((c) => ({ shard: c.shard, backend: c.backend, adapter: c.adapter })) }, null, 2) + '\n');
  out.write('summary.json', JSON.stringify({ model: configs[0].model, instances: configs[0].totalInstances, shards: dirs.length }, null, 2) + '\n');
  out.commit();
  console.log(out.path);
  return 0;
}
