// `ei sweep` runs every grid point x replica of any model with a sweep as instances of batched runs; `ei merge`
// verifies shard outputs and joins them.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { ConfigError, ParameterError } from '../errors.ts';
import type { RunTarget, SweepCounts } from '../core/contract.ts';
import { checkRequest, resolveSeed } from '../core/request.ts';
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
import { checkRunLimits } from '../core/limits.ts';
import { modelList } from '../models/index.ts';
import { getModelDefinition } from '../engine/models.ts';

import { estimateModelSweep, sweepInstanceCounts } from '../engine/sweep.ts';
import { makeAdapterRecord } from '../engine/backend.ts';
import { engineVersion as libraryVersion } from '../engine/version.ts';
import { makeCsv, type CsvCell } from '../io/csv.ts';
import { createResultDir } from '../io/result-dir.ts';
import { openSweepRows } from '../io/sweep-rows.ts';
import { makeHelpText, parseArgs, type ArgSpec } from './args.ts';
import { withResultSession } from './result-session.ts';
import { checkThreadsFlag, checkWasmBackend, defaultOutDir, makeRequestFromFlags, simulationFlags } from './run-command.ts';

const sweepSpec = {
  command: 'ei sweep',
  description: 'Runs a parameter sweep: every grid point x replica is one instance; instances share batched runs (as many as the device holds). Writes DIR/sweep.csv (one row per point and replica), config.json and summary.json.',
  positionals: [{ name: 'model', help: `model id (${modelList.filter((m) => m.sweep).map((m) => m.id).join(', ')})`, required: true }],
  flags: {
    ...simulationFlags,
    grid: { type: 'strings', valueName: 'name=start:stop:count', help: 'swept parameter (repeatable): start:stop:count, start:stop:count:log or a,b,c' },
    replicas: { type: 'integer', min: 1, default: 1, help: 'independent replicas per grid point' },
    shard: { type: 'string', valueName: 'i/N', help: 'run only shard i of N (0-based; also from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)' },
    'max-batch': { type: 'integer', min: 1, help: 'cap on instances per batched run (default: as many as fit the device)' },
    out: { type: 'string', help: 'result folder (default results/<model>-sweep-<time>)' },
  },
} as const satisfies ArgSpec;

/** The row format of every model `ei sweep` can run, by config.json `model`. */
export const sweepSchemas: Record<string, SweepSchema> = {
  ...Object.fromEntries(modelList.flatMap((m) => (m.sweep ? [[m.id, m.sweep.schema]] : []))),
};

export async function sweepCommand(argv: string[], engineVersion: string = libraryVersion): Promise<number> {
  const a = parseArgs(argv, sweepSpec);
  const modelId = a.positionals[0];
  if (a.help || !modelId) {
    console.log(makeHelpText(sweepSpec));
    return a.help ? 0 : 2;
  }
  const f = a.flags;
  const def = getModelDefinition(modelId);
  const sweep = def.sweep;
  checkWasmBackend(def, f.backend);
  checkThreadsFlag(a.given.has('threads'), f.backend);
  if (!sweep) throw new ConfigError(`model '${def.id}' has no sweep`, `sweeps exist for: ${modelList.filter((m) => m.sweep).map((m) => m.id).join(', ')}; run single points with \`ei run ${def.id}\``);
  if (f.grid.length === 0) throw new ParameterError('--grid', 'no grid given', 'add at least one --grid name=start:stop:count');
  const grids = f.grid.map((g) => parseGridSpec(g, '--grid', def));
  const request = makeRequestFromFlags(a);
  checkRequest(def.id, def.options, request);
  for (const g of grids) {
    if (sweep.sweepable && !sweep.sweepable.names.includes(g.name)) {
      throw new ParameterError('--grid', `'${g.name}' cannot be swept in one ${def.id} sweep`, `sweep ${sweep.sweepable.names.join(', ')}; ${sweep.sweepable.why}`);
    }
    if (request.params && g.name in request.params) throw new ParameterError('--grid', `${g.name} is both swept and fixed with --set`, `drop --set ${g.name}=...`);
  }
  if (!Number.isInteger(f.replicas) || f.replicas < 1) throw new ParameterError('--replicas', `${f.replicas} is not a positive integer`, 'use --replicas 1 or more');
  const counts: SweepCounts = { ...sweepInstanceCounts(grids, f.replicas, f.shard), maxBatch: f['max-batch'] };
  // Before the points are expanded: a sweep that cannot fit or finish is refused from its grids.
  checkRunLimits(estimateModelSweep(def, sweep, request, grids, counts, { backend: f.backend === 'cpu' || f.backend === 'wasm' ? f.backend : 'webgpu' }), { backend: f.backend as 'auto', adapter: f.adapter }, (m) => console.error(m));
  const points = makeSweepPoints(grids, f.replicas);
  const shard = resolveShard({ shard: f.shard });
  const mine = selectShard(points, shard);
  const emptyNote = makeEmptyShardNote(points.length, shard, mine.length);
  if (emptyNote) console.error(emptyNote);
  // Resolve every point first: a bad grid value fails before any simulation runs.
  const s = sweep.resolve(request, points.map((p) => p.point), grids);
  const gridNames = grids.map((g) => g.name);
  const columns = ['index', 'pointIndex', 'replica', ...gridNames, ...sweep.schema.resultColumns];
  // The fields that define the sweep (and its hash) are known before it runs: they identify its finished rows.
  const definition: Record<string, unknown> = { model: def.id, ...sweep.config(s), seed: resolveSeed(request.seed).seed, rngKey: resolveSeed(request.seed).key, grids, replicas: f.replicas, totalInstances: points.length, columns };
  const sweepHash = sweepHashOf(definition);
  const outPath = f.out ?? defaultOutDir(`${def.id}-sweep`);
  if (!f.overwrite && isCompleteShard(outPath, sweepHash, shard)) {
    console.error(`ei: ${outPath} already holds the complete rows of this ${shard ? `shard (${shard.index}/${shard.count})` : 'sweep'}; nothing to run`);
    console.log(resolve(outPath));
    return 0;
  }
  const finished = openSweepRows(outPath, { sweepHash, shard, columns });
  const todo = mine.filter((p) => !finished.done.has(p.index));
  if (finished.done.size > 0) console.error(`ei: resuming: ${mine.length - todo.length} of ${mine.length} rows are already finished (in ${finished.dir}); running the other ${todo.length}`);
  const sweepInto = (): Promise<number> =>
    withResultSession(
    { outPath, overwrite: f.overwrite, backend: f.backend === 'wasm' ? 'wasm' : def.webgpu ? (f.backend as 'auto') : 'cpu', adapter: f.adapter as 'auto', label: (b) => `sweep ${def.id} on ${b}`, total: mine.length, unit: 'instances', quiet: f.quiet, cpuBeatsSoftware: def.cpuBeatsSoftware, wasm: def.wasm },
    async ({ sel, bar, out }) => {
      checkThreadsFlag(a.given.has('threads'), f.backend, sel.backend);
      // wasm: the threads given, else each batch's own default (it can differ between batches).
      const threads = sel.backend === 'wasm' ? (f.threads as number | undefined) : undefined;
      if (sel.backend === 'wasm' && threads === undefined) console.error('ei: wasm backend on the default threads of each batch (--threads N to choose)');
      const target: RunTarget = { backend: sel.backend, ctx: sel.ctx, threads };
      // With --backend cpu the estimate was printed already.
      checkRunLimits(estimateModelSweep(def, sweep, request, grids, counts, target), target, f.backend === 'cpu' || f.backend === 'wasm' ? undefined : (m) => console.error(m));
      const perBatch = Math.max(1, Math.min(f['max-batch'] ?? Infinity, sweep.maxBatch(s, target)));
      const resumed = mine.length - todo.length;
      bar.update(resumed);
      const t0 = performance.now();
      for (let i = 0; i < todo.length; i += perBatch) {
        const group: SweepPoint[] = todo.slice(i, i + perBatch);
        const results = await sweep.runBatch(s, group, target, { onProgress: (d, total) => bar.update(resumed + i + (group.length * d) / total) });
        // Each batch's rows are saved whole before the next batch starts: a kill loses at most the batch in flight.
        finished.save(results.map((cols, b) => [group[b].index, group[b].pointIndex, group[b].replica, ...gridNames.map((g) => group[b].point[g]), ...cols]));
        bar.update(resumed + i + group.length);
      }
      const wallSeconds = (performance.now() - t0) / 1000;
      // The rows in sweep order, whichever run finished them (results do not depend on batching).
      const rows: CsvCell[][] = [...openSweepRows(outPath, { sweepHash, shard, columns }).done.values()].sort((x, y) => (x[0] as number) - (y[0] as number));
      if (rows.length !== mine.length) throw new ConfigError(`${finished.dir} holds ${rows.length} rows for the ${mine.length} of this ${shard ? 'shard' : 'sweep'}`, `remove ${finished.dir} and rerun`);
      const csv = makeCsv(columns, rows);
      const config: Record<string, unknown> = {
        engineVersion,
        command: ['ei', 'sweep', ...argv],
        createdAt: new Date().toISOString(),
        ...definition,
        shard,
        shardSelection: 'round-robin: sweep index k belongs to shard k mod N; the RNG stream of an instance is its sweep index, so results do not depend on sharding or batching',
        backend: sel.backend,
        threads: sel.backend === 'wasm' ? (threads ?? 'model default per batch') : null,
        fallbackReason: sel.fallbackReason,
        adapter: makeAdapterRecord(sel),
        node: process.version,
        doc: def.doc,
        note: def.note,
      };
      // After the definition fields it hashes; the same fields give the same hash in every shard of the sweep.
      config.sweepHash = sweepHashOf(config);
      if (config.sweepHash !== sweepHash) throw new Error('sweep-command: the sweep hash changed while the sweep ran');
      out.write('sweep.csv', csv);
      out.write('config.json', JSON.stringify(config, null, 2) + '\n');
      // Written last, with the digests `ei merge` checks the other two files against.
      // Throughput counts the rows this run computed (resumed rows were timed by the run that finished them).
      out.write('summary.json', JSON.stringify({ model: def.id, backend: sel.backend, instances: rows.length, totalInstances: points.length, shard, perBatch, resumedRows: resumed, wallSeconds, neuronStepsPerSecond: todo.length > 0 ? (todo.length * sweep.neuronStepsPerInstance(s)) / wallSeconds : null, ...shardDigests(config, csv) }, null, 2) + '\n');
      console.error(`ei: sweep ${def.id}: ${rows.length} of ${points.length} instances on ${sel.backend} (up to ${perBatch} per batch) in ${wallSeconds.toFixed(2)} s${resumed ? ` (${resumed} resumed)` : ''}`);
      console.log(out.path);
      return 0;
    },
  );
  let code: number;
  try {
    code = await sweepInto();
  } catch (e) {
    // Nothing finished yet: no rows folder stays behind (with rows, it stays for the rerun that resumes them).
    if (!finished.hasRows()) finished.clear();
    throw e;
  }
  // The result folder is complete: its finished rows are no longer needed.
  finished.clear();
  return code;
}

/** Whether `outPath` is a complete, verified result of this sweep's shard (a rerun then has nothing to do). */
function isCompleteShard(outPath: string, sweepHash: string, shard: { index: number; count: number } | null): boolean {
  if (!existsSync(join(outPath, 'summary.json'))) return false;
  try {
    const v = verifyShard(readShardFiles(outPath), sweepSchemas);
    return v.config.sweepHash === sweepHash && JSON.stringify(v.config.shard) === JSON.stringify(shard);
  } catch {
    // Not a shard of this sweep, or damaged: createResultDir decides (it refuses to replace what it did not write).
    return false;
  }
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
