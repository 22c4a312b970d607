// `ei sweep` runs every grid point x replica of any model with a sweep as instances of batched runs; `ei merge`
// verifies shard outputs and joins them.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { basename, dirname, join, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
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
import { clusterSchedulers, clusterSweepStatus, CLUSTER_SWEEP_FORMAT, makeK8sFiles, makeSlurmFiles, shardDir, type ClusterSweep } from './cluster.ts';
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
    out: { type: 'string', help: 'result folder (default results/<model>-sweep-<time>); with --emit, the cluster sweep folder' },
    shards: { type: 'integer', min: 1, help: 'with --emit: split the sweep into this many shards (one scheduler task each)' },
    emit: { type: 'string', choices: clusterSchedulers, help: 'write the job files of a sharded sweep into --out instead of running it: slurm (sbatch job array + merge job) or k8s (Indexed Job + merge Job + Dockerfile)' },
    gpus: { type: 'integer', min: 1, help: 'with --emit: GPUs per task (Slurm --gres=gpu:N, Kubernetes nvidia.com/gpu)' },
    cpus: { type: 'integer', min: 1, help: 'with --emit: CPU cores per task' },
    partition: { type: 'string', help: 'with --emit slurm: the partition to submit to' },
    time: { type: 'string', help: 'with --emit slurm: the time limit per task (sbatch --time, e.g. 02:00:00)' },
    'ei-command': { type: 'string', help: 'with --emit slurm: how compute nodes start ei (default: this Node and this installation\'s bin/ei.js, which must be on the shared file system)' },
    image: { type: 'string', help: 'with --emit k8s: the ei-engine container image (built from the emitted Dockerfile)' },
    claim: { type: 'string', help: 'with --emit k8s: the PersistentVolumeClaim holding the results (default ei-results)' },
    'mount-path': { type: 'string', help: 'with --emit k8s: where the volume is mounted in the pods (default /results)' },
  },
} as const satisfies ArgSpec;

const statusSpec = {
  command: 'ei sweep --status',
  description: 'Reports the shards of a sweep emitted with --emit: done (complete and verified), running (a task holds it), or missing (not started, or stopped with some rows finished). Exit code 0 when every shard is done, 3 otherwise.',
  positionals: [],
  flags: {
    status: { type: 'string', required: true, valueName: 'DIR', help: 'the --out folder of `ei sweep ... --shards N --emit slurm|k8s`' },
    json: { type: 'boolean', help: 'print the status as JSON' },
  },
} as const satisfies ArgSpec;

/** Flags that belong to --emit (and are refused without it), and those a task must not inherit. */
const emitOnlyFlags = ['shards', 'gpus', 'cpus', 'partition', 'time', 'ei-command', 'image', 'claim', 'mount-path'] as const;
const notForTasks = new Set(['emit', 'out', 'overwrite', 'quiet', 'shard', ...emitOnlyFlags]);

/** The row format of every model `ei sweep` can run, by config.json `model`. */
export const sweepSchemas: Record<string, SweepSchema> = {
  ...Object.fromEntries(modelList.flatMap((m) => (m.sweep ? [[m.id, m.sweep.schema]] : []))),
};

export async function sweepCommand(argv: string[], engineVersion: string = libraryVersion): Promise<number> {
  if (argv.some((t) => t === '--status' || t.startsWith('--status='))) return statusCommand(argv);
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
  for (const k of emitOnlyFlags) if (a.given.has(k) && !f.emit) throw new ParameterError(`--${k}`, 'only applies with --emit slurm|k8s', `drop --${k}, or add --emit to write cluster job files`);
  // Resolve every point first: a bad grid value fails before any simulation runs (or any job file is written).
  const s = sweep.resolve(request, points.map((p) => p.point), grids);
  const gridNames = grids.map((g) => g.name);
  const columns = ['index', 'pointIndex', 'replica', ...gridNames, ...sweep.schema.resultColumns];
  // The fields that define the sweep (and its hash) are known before it runs: they identify its finished rows.
  const definition: Record<string, unknown> = { model: def.id, ...sweep.config(s), seed: resolveSeed(request.seed).seed, rngKey: resolveSeed(request.seed).key, grids, replicas: f.replicas, totalInstances: points.length, columns };
  const sweepHash = sweepHashOf(definition);
  if (f.emit) {
    if (f.shards === undefined) throw new ParameterError('--shards', `is required with --emit ${f.emit}`, 'give --shards N (one scheduler task per shard)');
    if (f.shard !== undefined) throw new ParameterError('--shard', 'is set per task by the scheduler', 'drop --shard; --shards N says how many');
    if (!f.out) throw new ParameterError('--out', `is required with --emit ${f.emit}`, 'give --out DIR, a folder on the file system the tasks share');
    for (const k of f.emit === 'slurm' ? ['image', 'claim', 'mount-path'] : ['partition', 'time', 'ei-command']) {
      if (a.given.has(k)) throw new ParameterError(`--${k}`, `does not apply to --emit ${f.emit}`, `drop --${k}`);
    }
    if (f.emit === 'k8s' && !f.image) throw new ParameterError('--image', 'is required with --emit k8s', 'build the image from the emitted Dockerfile (docker build -f DIR/Dockerfile .), push it, and give its name');
    return emitClusterSweep(a, argv, def.id, points.length, sweepHash);
  }
  const shard = resolveShard({ shard: f.shard });
  const mine = selectShard(points, shard);
  const emptyNote = makeEmptyShardNote(points.length, shard, mine.length);
  if (emptyNote) console.error(emptyNote);
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
      const byIndex = new Map(finished.done);
      // wasm: the threads the batches ran on, for summary.json (config.json records what was asked).
      const threadsUsed = new Set<number>();
      bar.update(resumed);
      const t0 = performance.now();
      for (let i = 0; i < todo.length; i += perBatch) {
        const group: SweepPoint[] = todo.slice(i, i + perBatch);
        const results = await sweep.runBatch(s, group, target, { onProgress: (d, total) => bar.update(resumed + i + (group.length * d) / total), onThreads: (t) => threadsUsed.add(t) });
        const batchRows = results.map((cols, b): CsvCell[] => [group[b].index, group[b].pointIndex, group[b].replica, ...gridNames.map((g) => group[b].point[g]), ...cols]);
        // Each batch's rows are saved whole before the next batch starts: a kill loses at most the batch in flight.
        finished.save(batchRows);
        for (const row of batchRows) byIndex.set(row[0] as number, row);
        bar.update(resumed + i + group.length);
      }
      const wallSeconds = (performance.now() - t0) / 1000;
      // The rows in sweep order, whichever run finished them (results do not depend on batching).
      const rows: CsvCell[][] = [...byIndex.values()].sort((x, y) => (x[0] as number) - (y[0] as number));
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
      out.write('summary.json', JSON.stringify({ model: def.id, backend: sel.backend, instances: rows.length, totalInstances: points.length, shard, perBatch, resumedRows: resumed, ...(sel.backend === 'wasm' ? { threadsUsed: [...threadsUsed].sort((x, y) => x - y) } : {}), wallSeconds, neuronStepsPerSecond: todo.length > 0 ? (todo.length * sweep.neuronStepsPerInstance(s)) / wallSeconds : null, ...shardDigests(config, csv) }, null, 2) + '\n');
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

/** The task arguments: the sweep as given, less the flags of --emit, --out and the ones each task sets itself. */
function taskArgs(argv: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const t = argv[i];
    const m = /^--([a-z-]+)(=.*)?$/.exec(t);
    if (m && notForTasks.has(m[1])) {
      const spec = (sweepSpec.flags as Record<string, { type: string }>)[m[1]];
      if (spec.type !== 'boolean' && m[2] === undefined) i++;
      continue;
    }
    out.push(t);
  }
  return ['sweep', ...out];
}

/** Writes the job files of a sharded sweep into --out (a result folder: it appears complete or not at all). */
function emitClusterSweep(a: ReturnType<typeof parseArgs<typeof sweepSpec>>, argv: string[], model: string, total: number, sweepHash: string): number {
  const f = a.flags;
  const scheduler = f.emit as ClusterSweep['scheduler'];
  const dir = resolve(f.out!);
  const mountPath = f['mount-path'] ?? '/results';
  const sweep: ClusterSweep = {
    format: CLUSTER_SWEEP_FORMAT,
    scheduler,
    model,
    args: taskArgs(argv),
    shards: f.shards!,
    totalInstances: total,
    sweepHash,
    createdAt: new Date().toISOString(),
    taskDir: scheduler === 'slurm' ? dir : join(mountPath, basename(dir)),
  };
  const files =
    scheduler === 'slurm'
      ? makeSlurmFiles(sweep, { eiCommand: f['ei-command'] ? f['ei-command'].split(/\s+/).filter(Boolean) : [process.execPath, eiLauncher()], partition: f.partition, time: f.time, cpus: f.cpus, gpus: f.gpus })
      : makeK8sFiles(sweep, { image: f.image!, claim: f.claim ?? 'ei-results', mountPath, cpus: f.cpus, gpus: f.gpus });
  const out = createResultDir(f.out!, { overwrite: f.overwrite });
  try {
    for (const [name, text] of Object.entries(files)) out.write(name, text);
    out.write('sweep.json', JSON.stringify(sweep, null, 2) + '\n');
    out.commit();
  } catch (e) {
    out.abort();
    throw e;
  }
  if (total < sweep.shards) console.error(`ei: note: ${sweep.shards} shards for ${total} instances: ${sweep.shards - total} shards hold no rows (ei merge accepts them)`);
  const next = scheduler === 'slurm' ? `bash ${join(dir, 'submit.sh')}` : `kubectl apply -f ${join(dir, 'job.yaml')} -f ${join(dir, 'merge-job.yaml')} (after copying ${dir} to ${sweep.taskDir} on the volume)`;
  console.error(`ei: ${model} sweep of ${total} instances in ${sweep.shards} shards for ${scheduler}: ${Object.keys(files).join(', ')}, sweep.json in ${dir}; next: ${next}; progress: ei sweep --status ${dir}`);
  console.log(out.path);
  return 0;
}

async function statusCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, statusSpec);
  if (a.help) {
    console.log(makeHelpText(statusSpec));
    return 0;
  }
  const { sweep, shards } = clusterSweepStatus(a.flags.status, sweepSchemas);
  const done = shards.filter((x) => x.state === 'done').length;
  if (a.flags.json) console.log(JSON.stringify({ model: sweep.model, scheduler: sweep.scheduler, shards: sweep.shards, done, status: shards }, null, 2));
  else {
    console.log(`${sweep.model} sweep (${sweep.scheduler}), ${sweep.totalInstances} instances in ${sweep.shards} shards: ${done} done, ${shards.filter((x) => x.state === 'running').length} running, ${shards.filter((x) => x.state === 'missing').length} missing`);
    for (const x of shards) console.log(`  shard ${x.shard}: ${x.state} (${x.finished}/${x.rows} rows) ${x.detail === shardDir(a.flags.status, x.shard) ? '' : x.detail}`.trimEnd());
  }
  return done === sweep.shards ? 0 : 3;
}

/** This installation's `ei` launcher (bin/ei.js, two folders above this module in src/cli and in dist/cli). */
function eiLauncher(): string {
  return realpathSync(fileURLToPath(new URL('../../bin/ei.js', import.meta.url)));
}
