// `ei sweep` runs every grid point x replica as instances of batched dispatches; `ei merge` verifies shard outputs and joins them.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ConfigError, ParameterError } from '../errors.ts';
import { resolveExperiment, runExperiment, type ExperimentOptions } from '../models/poisson/experiment.ts';
import {
  checkPerPointColumns,
  describeSweepDifference,
  makeEmptyShardNote,
  makeSweepPoints,
  mergeShardCsvs,
  parseGridSpec,
  resolveShard,
  selectShard,
  shardDigests,
  sweepHashOf,
  verifyShard,
  type GridAxis,
  type SweepPoint,
  type SweepSchema,
} from '../core/sweep-grid.ts';
import type { GpuContext } from '../gpu/context.ts';
import { getModel, models } from '../models/registry.ts';
import { makeCsv, type CsvCell } from '../io/csv.ts';
import { createResultDir } from '../io/result-dir.ts';
import { makeHelpText, parseArgs, parseSetAssignments, type ArgSpec } from './args.ts';
import { type BackendSelection } from './context.ts';
import { withResultSession } from './result-session.ts';
import { checkSweepInSession, checkSweepLimits } from '../engine/sweep-limits.ts';
import { binarySweepSchema, sweepBinaryCommand } from '../models/binary/sweep.ts';
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

function closeTo(a: number, b: number, rel: number): boolean {
  return Math.abs(a - b) <= rel * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * What a population-model sweep row holds. No result column may be empty or NaN: the averages divide by
 * max(1, averaged steps), spikeCountZ is 0 when no spike is expected, and the theory is closed-form (probit) or a fixed
 * quadrature (logistic) of finite, validated parameters (the model's checks reject parameters whose potential would
 * overflow the f32 kernels). So a non-finite or empty value is damage, and merge refuses it.
 */
export const populationSweepSchema: SweepSchema = {
  resultColumns: sweepResultColumns,
  emptyColumns: () => ({}),
  countColumns: ['spikes'],
  perPointColumns: ['meanUTheory', 'varUTheory', 'rateHzTheory'],
  checkRow(row, params, config) {
    const dt = config.dt as number;
    const n = config.n;
    // As runExperiment: steps from round(burnin / dt) on enter the averages, and rateHz = spikes / (steps n dt).
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

/** The row format of every model `ei sweep` can run, by config.json `model`. */
export const sweepSchemas: Record<string, SweepSchema> = {
  ...Object.fromEntries(Object.keys(models).map((id) => [id, populationSweepSchema])),
  binary: binarySweepSchema,
};

export async function sweepCommand(argv: string[], engineVersion: string): Promise<number> {
  const a = parseArgs(argv, sweepSpec);
  const modelId = a.positionals[0];
  if (modelId === 'binary') return sweepBinaryCommand(argv, engineVersion);
  if (a.help || !modelId) {
    console.log(makeHelpText(sweepSpec));
    return a.help ? 0 : 2;
  }
  const f = a.flags;
  const model = getModel(modelId);
  if (f.grid.length === 0) throw new ParameterError('--grid', 'no grid given', 'add at least one --grid name=start:stop:count');
  const grids = f.grid.map((g) => parseGridSpec(g, '--grid', model.info));
  checkSweepLimits(modelId, grids, f);
  const points = makeSweepPoints(grids, f.replicas);
  const shard = resolveShard({ shard: f.shard });
  const mine = selectShard(points, shard);
  const emptyNote = makeEmptyShardNote(points.length, shard, mine.length);
  if (emptyNote) console.error(emptyNote);
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
    { outPath: f.out ?? defaultOutDir(`${modelId}-sweep`), overwrite: f.overwrite, backend: f.backend as 'auto', adapter: f.adapter as 'auto', label: (b) => `sweep ${modelId} on ${b}`, total: mine.length, unit: 'instances', quiet: f.quiet },
    async ({ sel, bar, out }) => {
      checkSweepInSession(modelId, grids, f, sel);
      const perDispatch = Math.min(f['max-batch'] ?? Infinity, maxBatchFor(check.n, sel.ctx));
      const rows: CsvCell[][] = [];
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
      const csv = makeCsv(columns, rows);
      const config = makeSweepConfig(engineVersion, argv, modelId, check, grids, f.replicas, shard, points.length, columns, sel);
      out.write('sweep.csv', csv);
      out.write('config.json', JSON.stringify(config, null, 2) + '\n');
      // Written last, with the digests `ei merge` checks the other two files against.
      out.write('summary.json', JSON.stringify({ model: modelId, backend: sel.backend, instances: rows.length, totalInstances: points.length, shard, perDispatch, wallSeconds, neuronStepsPerSecond: (rows.length * check.n * check.steps) / wallSeconds, ...shardDigests(config, csv) }, null, 2) + '\n');
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
  grids: GridAxis[],
  replicas: number,
  shard: { index: number; count: number } | null,
  total: number,
  columns: string[],
  sel: BackendSelection,
) {
  const config: Record<string, unknown> = {
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
    columns,
    shard,
    shardSelection: 'round-robin: sweep index k belongs to shard k mod N; the RNG stream of an instance is its sweep index, so results do not depend on sharding or batching',
    backend: sel.backend,
    fallbackReason: sel.fallbackReason,
    adapter: makeAdapterRecord(sel),
    node: process.version,
  };
  // After the definition fields it hashes; the same fields give the same hash in every shard of the sweep.
  config.sweepHash = sweepHashOf(config);
  return config;
}

const mergeSpec = {
  command: 'ei merge',
  description:
    'Verifies the shard folders of one sweep and merges them into one sweep.csv sorted by sweep index. Refuses a shard whose files ' +
    'no longer match the digests it recorded (edited, truncated), whose values contradict its config.json, that belongs to another ' +
    'sweep, or that lacks digests (older versions); and missing or duplicate rows. The merged folder records its own digests.',
  positionals: [{ name: 'shards', help: 'shard result folders', required: true, variadic: true }],
  flags: {
    out: { type: 'string', required: true, help: 'merged result folder (never one of the shards)' },
    overwrite: { type: 'boolean', help: 'replace an existing ei result folder at --out' },
  },
} as const satisfies ArgSpec;

/** The real path of `p`, also when it (or its last few components) does not exist yet. */
function realPathOf(p: string): string {
  let head = resolve(p);
  const tail: string[] = [];
  while (!existsSync(head) && dirname(head) !== head) {
    tail.unshift(basename(head));
    head = dirname(head);
  }
  return join(existsSync(head) ? realpathSync(head) : head, ...tail);
}

function readShardFiles(dir: string) {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new ConfigError(`${dir} is not a folder`, 'pass the --out folders of `ei sweep --shard i/N` runs');
  const missing = ['config.json', 'sweep.csv', 'summary.json'].filter((f) => !existsSync(join(dir, f)));
  if (missing.length) throw new ConfigError(`${dir} is not a finished sweep folder (${missing.join(', ')} missing)`, 'pass the --out folders of `ei sweep --shard i/N` runs; a shard whose run failed has to be rerun');
  return { dir, config: readFileSync(join(dir, 'config.json'), 'utf8'), summary: readFileSync(join(dir, 'summary.json'), 'utf8'), csv: readFileSync(join(dir, 'sweep.csv')) };
}

export async function mergeCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, mergeSpec);
  if (a.help) {
    console.log(makeHelpText(mergeSpec));
    return 0;
  }
  const dirs = a.positionals;
  // Replacing an input (or a folder holding one) would delete the rows being merged, so no flag allows it.
  const outReal = realPathOf(a.flags.out);
  for (const d of dirs) {
    if (!existsSync(d)) continue;
    const real = realpathSync(d);
    if (real === outReal) throw new ParameterError('--out', `${a.flags.out} is the input shard ${d}`, 'write the merge to a new folder, e.g. --out <sweep>-merged');
    if (real.startsWith(outReal + sep)) throw new ParameterError('--out', `${a.flags.out} contains the input shard ${d}, which replacing it would delete`, 'write the merge to a new folder next to the shards');
  }
  const shards = dirs.map((d) => verifyShard(readShardFiles(d), sweepSchemas));
  const first = shards[0];
  for (const s of shards.slice(1)) {
    if (s.config.sweepHash !== first.config.sweepHash) {
      throw new ConfigError(
        `${s.dir} belongs to a different sweep than ${first.dir} (sweepHash ${s.config.sweepHash.slice(0, 12)}... vs ${first.config.sweepHash.slice(0, 12)}...): ${describeSweepDifference(first.config, s.config) || 'their definitions differ'}`,
        'merge only the shards of one sweep: same model, grids, replicas, n, steps, dt, seed and --set values',
      );
    }
  }
  checkPerPointColumns(shards, sweepSchemas[first.config.model]);
  const merged = mergeShardCsvs(shards.map((s) => s.csvText), { expected: first.config.totalInstances, sources: shards.map((s) => s.csvPath) });
  const config: Record<string, unknown> = {
    ...first.config,
    shard: null,
    mergedFrom: dirs,
    shardConfigs: shards.map((s) => ({ shard: s.config.shard, backend: s.config.backend, adapter: s.config.adapter, engineVersion: s.config.engineVersion })),
  };
  const out = createResultDir(a.flags.out, { overwrite: a.flags.overwrite });
  try {
    out.write('sweep.csv', merged);
    out.write('config.json', JSON.stringify(config, null, 2) + '\n');
    // The merge is a shard of one (shard null), so it verifies, and merges again, like any shard.
    out.write('summary.json', JSON.stringify({ model: first.config.model, instances: first.config.totalInstances, totalInstances: first.config.totalInstances, shard: null, shards: dirs.length, ...shardDigests(config, merged) }, null, 2) + '\n');
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  console.log(out.path);
  return 0;
}
