// Parameter-sweep grids, their deterministic point order, sharding across jobs (--shard, SLURM, Kubernetes), the digests
// that make a shard verifiable, and merging (verified) shard CSVs back.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { ConfigError, ParameterError } from '../errors.ts';
import { makeCsv, parseCsv, type CsvCell } from '../io/csv.ts';
import { parseDecimal } from '../util/decimal.ts';
import { suggestFragment, type ParamSpec } from './params.ts';

/** A grid value: a number, or one of the choices of a choice parameter (e.g. sigmoid=probit,logistic). */
export type GridValue = number | string;

/** One swept parameter and its values, in sweep order. */
export interface GridAxis {
  name: string;
  values: GridValue[];
}

/** One simulation instance of a sweep: a parameter point and a replica (seed offset). */
export interface SweepPoint {
  /** Position in the full sweep, 0-based; the merge key of shard outputs. */
  index: number;
  /** Position of the parameter point without the replica, 0-based. */
  pointIndex: number;
  point: Record<string, GridValue>;
  replica: number;
}

/** Shard `index` (0-based) of `count`. */
export interface Shard {
  index: number;
  count: number;
}

/** Largest sweep expanded in memory; beyond this the grid is almost surely a typo. */
export const MAX_SWEEP_POINTS = 10_000_000;

const NAME = /^[A-Za-z_][A-Za-z0-9_.]*$/;
const GRID_FORMS = "name=start:stop:count (inclusive linspace), name=start:stop:count:log (logspace) or name=a,b,c";

function parseNumber(text: string, flag: string, spec: string, what: string): number {
  const v = parseDecimal(text);
  if (!Number.isFinite(v)) {
    throw new ParameterError(flag, `'${spec}': ${what} '${text}' is not a finite number`, `write ${GRID_FORMS}`);
  }
  return v;
}

// 15 significant digits hide round-off (9.999999999999998 -> 10) in values written to CSV.
function clean(v: number): number {
  const c = Number(v.toPrecision(15));
  return Object.is(c, -0) ? 0 : c;
}

/** The parameters a grid may name: a model's specs, so names and choice values are checked where they are typed. */
export interface GridModel {
  id: string;
  parameters: readonly ParamSpec[];
}

// Run options are shared by every instance of a sweep (one dispatch has one n, one step count, one seed), so a grid
// cannot vary them; each entry says what to do instead.
const RUN_OPTIONS: Record<string, string> = {
  n: 'one sweep has one network size: run one sweep per size with --n (e.g. --n 100, then --n 200, each with its own --out)',
  N: 'one sweep has one network size: run one sweep per size with --n (e.g. --n 100, then --n 200, each with its own --out)',
  seed: 'use --replicas R for R independent random streams per grid point (each instance draws its own stream from the sweep index); --seed sets the base seed of the whole sweep',
  steps: 'one sweep has one run length: run one sweep per value with --steps',
  T: 'one sweep has one run length: run one sweep per value with --T',
  dt: 'one sweep has one time step: run one sweep per value with --dt',
  batch: 'a sweep packs as many instances per dispatch as fit; cap that with --max-batch, and add replicas with --replicas',
  replicas: 'give the number of replicas per point with --replicas R',
};

/**
 * Parses one grid flag: 'WE=0.5:8:64' (64 values from 0.5 to 8 inclusive),
 * 'N=100:100000:4:log' (log-spaced), or 'seedShift=1,2,5' (an explicit list).
 * With `model`, the name must be one of its parameters, and a choice parameter takes a list of its choices
 * ('sigmoid=probit,logistic'); number ranges are still checked per value when the sweep resolves its points.
 */
export function parseGridSpec(spec: string, flag = '--grid', model?: GridModel): GridAxis {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new ParameterError(flag, `'${spec}' has no '='`, `write ${GRID_FORMS}`);
  const name = spec.slice(0, eq).trim();
  const body = spec.slice(eq + 1).trim();
  if (!NAME.test(name)) {
    throw new ParameterError(flag, `'${spec}': '${name}' is not a parameter name`, `start with the parameter name, e.g. WE=0.5:8:64; ${GRID_FORMS}`);
  }
  const param = model?.parameters.find((p) => p.name === name);
  if (model && !param) {
    const names = model.parameters.map((p) => p.name);
    if (name in RUN_OPTIONS) {
      throw new ParameterError(flag, `'${spec}': ${name} is a run option (--${name === 'N' ? 'n' : name}), not a parameter of ${model.id}, so a grid cannot sweep it`, RUN_OPTIONS[name]);
    }
    throw new ParameterError(flag, `'${spec}': '${name}' is not a parameter of ${model.id}${suggestFragment(name, names)}`, `sweep one of: ${names.join(', ')}`);
  }
  if (body === '') throw new ParameterError(flag, `'${spec}' has no values after '='`, `write ${GRID_FORMS}`);
  if (param?.kind === 'choice') {
    const list = `write ${name}=${param.choices.join(',')} (or a subset)`;
    if (body.includes(':')) throw new ParameterError(flag, `'${spec}': ${name} is a choice parameter (${param.choices.join(', ')}), so it takes a list, not a range`, list);
    const values = body.split(',').map((t, i) => {
      const v = t.trim();
      if (!param.choices.includes(v)) {
        throw new ParameterError(flag, `'${spec}': list entry ${i + 1} '${v}' is not one of ${param.choices.join(', ')}${suggestFragment(v, param.choices)}`, list);
      }
      return v;
    });
    return { name, values };
  }
  if (body.includes(':')) {
    const parts = body.split(':');
    const mode = parts.length === 4 ? parts[3].trim().toLowerCase() : 'lin';
    if (parts.length < 3 || parts.length > 4 || (mode !== 'log' && mode !== 'lin')) {
      throw new ParameterError(flag, `'${spec}' is not start:stop:count or start:stop:count:log`, `write ${GRID_FORMS}`);
    }
    const start = parseNumber(parts[0], flag, spec, 'start');
    const stop = parseNumber(parts[1], flag, spec, 'stop');
    const count = parseNumber(parts[2], flag, spec, 'count');
    if (!Number.isInteger(count) || count < 1) {
      throw new ParameterError(flag, `'${spec}': count ${parts[2].trim()} is not a positive integer`, `the third field is the number of values, e.g. ${name}=${parts[0]}:${parts[1]}:10`);
    }
    if (count > MAX_SWEEP_POINTS) {
      throw new ParameterError(flag, `'${spec}': count ${count} exceeds ${MAX_SWEEP_POINTS}`, 'use fewer values');
    }
    if (count === 1 && start !== stop) {
      throw new ParameterError(flag, `'${spec}': one value cannot span ${start} to ${stop}`, `use ${name}=${start} for a single value, or a count >= 2`);
    }
    if (mode === 'log' && !(start > 0 && stop > 0)) {
      throw new ParameterError(flag, `'${spec}': a log grid needs start and stop > 0`, `use positive ends, or drop ':log' for a linear grid`);
    }
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      const f = count === 1 ? 0 : i / (count - 1);
      // Ends are set exactly so 'x=a:b:n' always contains a and b themselves.
      const v = i === 0 ? start : i === count - 1 ? stop
        : mode === 'log' ? Math.exp(Math.log(start) + (Math.log(stop) - Math.log(start)) * f)
        : start + ((stop - start) * i) / (count - 1);
      values.push(clean(v));
    }
    return { name, values };
  }
  const values = body.split(',').map((t, i) => parseNumber(t, flag, spec, `list entry ${i + 1}`));
  return { name, values };
}

/**
 * Every (point, replica) of the cartesian product, first grid outermost and replica innermost,
 * so the order (and each index) depends only on the grids and the replica count.
 */
export function makeSweepPoints(grids: readonly GridAxis[], replicas = 1): SweepPoint[] {
  if (!Number.isInteger(replicas) || replicas < 1) {
    throw new ParameterError('--replicas', `${replicas} is not a positive integer`, 'use --replicas 1 or more');
  }
  const names = new Set<string>();
  let total = replicas;
  for (const g of grids) {
    if (names.has(g.name)) throw new ParameterError('--grid', `parameter '${g.name}' is swept twice`, `give one --grid per parameter; combine values as ${g.name}=a,b,c`);
    names.add(g.name);
    if (g.values.length === 0) throw new ParameterError('--grid', `parameter '${g.name}' has no values`, `write ${GRID_FORMS}`);
    total *= g.values.length;
  }
  if (total > MAX_SWEEP_POINTS) {
    throw new ParameterError('--grid', `the sweep has ${total} instances (points x replicas), more than ${MAX_SWEEP_POINTS}`, 'use coarser grids or fewer replicas, or run separate sweeps');
  }
  const out: SweepPoint[] = new Array(total);
  const nPoints = total / replicas;
  for (let p = 0; p < nPoints; p++) {
    const point: Record<string, GridValue> = {};
    // Mixed-radix decode of p, last grid fastest.
    let rest = p;
    for (let g = grids.length - 1; g >= 0; g--) {
      const n = grids[g].values.length;
      point[grids[g].name] = grids[g].values[rest % n];
      rest = Math.floor(rest / n);
    }
    const ordered: Record<string, GridValue> = {};
    for (const g of grids) ordered[g.name] = point[g.name];
    for (let r = 0; r < replicas; r++) {
      const index = p * replicas + r;
      out[index] = { index, pointIndex: p, point: { ...ordered }, replica: r };
    }
  }
  return out;
}

/** Parses '--shard i/N' (0-based: i in 0..N-1). */
export function parseShard(text: string, flag = '--shard'): Shard {
  // Signs are accepted here so that '-1/4' is reported as a negative index rather than as a malformed value.
  const m = /^\s*([+-]?\d+)\s*\/\s*([+-]?\d+)\s*$/.exec(text);
  if (!m) throw new ParameterError(flag, `'${text}' is not of the form i/N`, `write ${flag} i/N with 0 <= i < N, e.g. ${flag} 0/4`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  return checkShard(index, count, flag);
}

function checkShard(index: number, count: number, source: string): Shard {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new ParameterError(source, `shard count ${count} is not a positive integer`, 'use a shard count of 1 or more');
  }
  if (Number.isSafeInteger(index) && index < 0) {
    throw new ParameterError(source, `shard index ${index} is negative`, `shards are 0-based: use an index from 0 to ${count - 1}, e.g. ${source === '--shard' ? `--shard 0/${count}` : '0'}`);
  }
  if (!Number.isSafeInteger(index) || index < 0 || index >= count) {
    const hint = index === count ? `shards are 0-based: use 0..${count - 1} (${index}/${count} is one past the last)` : `use an index from 0 to ${count - 1}`;
    throw new ParameterError(source, `shard index ${index} is outside 0..${count - 1}`, hint);
  }
  return { index, count };
}

type Env = Record<string, string | undefined>;

function envInt(env: Env, key: string): number | undefined {
  const raw = env[key];
  if (raw === undefined || raw.trim() === '') return undefined;
  const v = Number(raw.trim());
  if (!Number.isSafeInteger(v)) throw new ConfigError(`environment variable ${key}='${raw}' is not an integer`, `unset ${key} or pass --shard i/N explicitly`);
  return v;
}

/**
 * The shard this process should run, from the scheduler's environment, or null when none is set.
 *
 * - SLURM job arrays: index = (SLURM_ARRAY_TASK_ID - MIN) / STEP, so '--array=1-8' works as
 *   shards 0..7; count from SLURM_ARRAY_TASK_COUNT, else from MIN/MAX/STEP.
 * - Kubernetes indexed Jobs: JOB_COMPLETION_INDEX is the index; Kubernetes does not export the
 *   completion count, so it comes from `count` (e.g. --shard-count) or EI_SHARD_COUNT.
 */
export function shardFromEnv(env: Env = process.env, count?: number): Shard | null {
  const taskId = envInt(env, 'SLURM_ARRAY_TASK_ID');
  if (taskId !== undefined) {
    const min = envInt(env, 'SLURM_ARRAY_TASK_MIN') ?? 0;
    const max = envInt(env, 'SLURM_ARRAY_TASK_MAX');
    const step = envInt(env, 'SLURM_ARRAY_TASK_STEP') ?? 1;
    const slurmCount = envInt(env, 'SLURM_ARRAY_TASK_COUNT');
    if (step < 1) throw new ConfigError(`SLURM_ARRAY_TASK_STEP=${step} is not positive`, 'pass --shard i/N explicitly');
    const span = max !== undefined ? Math.floor((max - min) / step) + 1 : undefined;
    // A list such as --array=1,4,9 cannot be mapped to contiguous shard numbers.
    if (slurmCount !== undefined && span !== undefined && slurmCount !== span) {
      throw new ConfigError(
        `SLURM array is not a contiguous range: SLURM_ARRAY_TASK_COUNT=${slurmCount} but MIN..MAX step ${step} spans ${span} tasks`,
        'submit with --array=0-(N-1) (a % limit is fine), or pass --shard i/N explicitly',
      );
    }
    const n = slurmCount ?? span ?? count;
    if (n === undefined) {
      throw new ConfigError('SLURM_ARRAY_TASK_ID is set but the array size is unknown (no SLURM_ARRAY_TASK_COUNT or SLURM_ARRAY_TASK_MAX)', 'pass --shard-count N or --shard i/N');
    }
    if (count !== undefined && count !== n) {
      throw new ConfigError(`--shard-count ${count} disagrees with the SLURM array size ${n}`, 'drop --shard-count or resubmit the array with the matching size');
    }
    if ((taskId - min) % step !== 0) {
      throw new ConfigError(`SLURM_ARRAY_TASK_ID=${taskId} is not on the array's step ${step} from ${min}`, 'pass --shard i/N explicitly');
    }
    return checkShard((taskId - min) / step, n, 'SLURM_ARRAY_TASK_ID');
  }
  const completion = envInt(env, 'JOB_COMPLETION_INDEX');
  if (completion !== undefined) {
    const n = count ?? envInt(env, 'EI_SHARD_COUNT');
    if (n === undefined) {
      throw new ConfigError(
        `JOB_COMPLETION_INDEX=${completion} is set but the number of shards is unknown`,
        'pass --shard-count N (the Job\'s completions) or set EI_SHARD_COUNT',
      );
    }
    return checkShard(completion, n, 'JOB_COMPLETION_INDEX');
  }
  return null;
}

/** An explicit --shard wins over the environment; no shard at all means the whole sweep. */
export function resolveShard(options: { shard?: string; shardCount?: number; env?: Env }): Shard | null {
  if (options.shard !== undefined) {
    const s = parseShard(options.shard);
    if (options.shardCount !== undefined && options.shardCount !== s.count) {
      throw new ParameterError('--shard-count', `${options.shardCount} disagrees with --shard ${options.shard}`, 'give only one of them');
    }
    return s;
  }
  return shardFromEnv(options.env ?? process.env, options.shardCount);
}

/**
 * The points of one shard, chosen round-robin: element k goes to shard k mod N. Round-robin
 * rather than contiguous blocks because cost usually grows along a grid axis (N, T), and
 * blocks would give the last shard all the expensive points. Order within the shard is kept.
 */
export function selectShard<T>(points: readonly T[], shard: Shard | null): T[] {
  if (shard === null) return points.slice();
  checkShard(shard.index, shard.count, '--shard');
  return points.filter((_, k) => k % shard.count === shard.index);
}

/** Pure: the notice for a shard that holds no rows (more shards than instances), or null. */
export function makeEmptyShardNote(total: number, shard: Shard | null, mine: number): string | null {
  if (!shard || mine > 0) return null;
  return `ei: note: shard ${shard.index}/${shard.count} holds none of the ${total} instances (row k belongs to shard k mod ${shard.count}); it writes a sweep.csv without rows, which ei merge accepts`;
}

export interface MergeOptions {
  /** Column holding SweepPoint.index; default 'index'. */
  indexColumn?: string;
  /** Total instances of the sweep; when given, indices 0..expected-1 must all be present. */
  expected?: number;
  /** Names for error messages, e.g. file paths; default 'shard 0', 'shard 1', ... */
  sources?: string[];
}

/**
 * Merges shard CSVs into one sorted by the index column. Fails on mismatched columns,
 * duplicate indices, or gaps, so a partial merge never looks complete.
 */
export function mergeShardCsvs(csvTexts: readonly string[], options: MergeOptions = {}): string {
  const indexColumn = options.indexColumn ?? 'index';
  const name = (i: number) => options.sources?.[i] ?? `shard ${i}`;
  if (csvTexts.length === 0) throw new ConfigError('no shard CSVs to merge', 'pass the CSV written by each shard');
  let columns: string[] | undefined;
  let indexCol = -1;
  const byIndex = new Map<number, { row: CsvCell[]; source: number }>();
  csvTexts.forEach((text, s) => {
    const table = parseCsv(text, name(s));
    if (table.columns.length === 0) throw new ConfigError(`${name(s)} is empty (no header line)`, 'rerun that shard; even an empty shard writes a header');
    if (columns === undefined) {
      columns = table.columns;
      indexCol = columns.indexOf(indexColumn);
      if (indexCol < 0) throw new ConfigError(`${name(s)} has no '${indexColumn}' column (columns: ${columns.join(', ')})`, 'merge CSVs written by `ei sweep`, which include the point index');
    } else if (table.columns.join('\u0000') !== columns.join('\u0000')) {
      const missing = columns.filter((c) => !table.columns.includes(c));
      const extra = table.columns.filter((c) => !columns!.includes(c));
      const detail = missing.length || extra.length ? `missing [${missing.join(', ')}], extra [${extra.join(', ')}]` : 'same names in a different order';
      throw new ConfigError(`${name(s)} columns differ from ${name(0)}: ${detail}`, 'merge only shards of the same sweep, run with the same version and flags');
    }
    table.rows.forEach((row, r) => {
      const idx = row[indexCol];
      if (typeof idx !== 'number' || !Number.isSafeInteger(idx) || idx < 0) {
        throw new ConfigError(`${name(s)} row ${r + 1}: '${indexColumn}' is ${JSON.stringify(idx)}, not a non-negative integer`, 'the file may be corrupted; rerun that shard');
      }
      const prev = byIndex.get(idx);
      if (prev) throw new ConfigError(`sweep index ${idx} appears in both ${name(prev.source)} and ${name(s)}`, 'a shard was given twice, or shards of different runs were mixed');
      byIndex.set(idx, { row, source: s });
    });
  });
  const indices = [...byIndex.keys()].sort((a, b) => a - b);
  const expected = options.expected ?? (indices.length ? indices[indices.length - 1] + 1 : 0);
  const missing: number[] = [];
  for (let i = 0, k = 0; i < expected; i++) {
    if (indices[k] === i) k++;
    else missing.push(i);
  }
  if (missing.length) {
    const list = missing.slice(0, 10).join(', ') + (missing.length > 10 ? `, ... (${missing.length} in all)` : '');
    throw new ConfigError(`sweep indices missing from the merge: ${list}`, 'rerun the shards that hold them (each shard i/N holds indices with index mod N = i)');
  }
  if (options.expected !== undefined && indices.length > expected) {
    throw new ConfigError(`sweep index ${indices[indices.length - 1]} is beyond the expected ${expected} instances`, 'check that all shards come from the same sweep');
  }
  return makeCsv(columns!, indices.map((i) => byIndex.get(i)!.row));
}

// ---------------------------------------------------------------------------------------------------------------------
// Verified shards. A shard records in config.json the sweepHash of the fields that define its sweep, and in summary.json
// (written last) the sha256 of its exact sweep.csv bytes, per-line-block digests (to name the line that changed) and
// per-field digests of the definition (to name the config.json field that changed). `ei merge` recomputes all of them
// and checks every value it reads, so an edited, truncated or foreign shard is refused instead of merged.

/** sha256 in lower-case hex of bytes, or of text as the UTF-8 bytes it is written as. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** JSON with the keys of every object sorted (and undefined members dropped), so equal values give equal text. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
  }
  // Numbers as JSON writes them (NaN and Infinity as null), so a value hashes the same before and after a JSON round trip.
  return JSON.stringify(value) ?? 'null';
}

/** Tag hashed with the definition; change it when the meaning of the fields below changes. */
export const SWEEP_DEFINITION_FORMAT = 'ei-sweep-definition/1';

/**
 * The config.json fields that define a sweep: shards belong to one sweep exactly when these agree. Fields a model does
 * not write are left out (poisson keeps burnin in `fixed`; binary has k and burnin at the top level), so deleting one
 * changes the hash as well. Not part of it: the shard, backend, adapter, timestamps and command line.
 */
export const SWEEP_DEFINITION_FIELDS = ['model', 'n', 'k', 'steps', 'burnin', 'dt', 'seed', 'rngKey', 'fixed', 'grids', 'replicas', 'totalInstances', 'columns'] as const;

export function sweepDefinition(config: Record<string, unknown>): Record<string, unknown> {
  const d: Record<string, unknown> = { format: SWEEP_DEFINITION_FORMAT };
  for (const f of SWEEP_DEFINITION_FIELDS) if (config[f] !== undefined) d[f] = config[f];
  return d;
}

/** sha256 of the canonical JSON of the sweep definition: the `sweepHash` of config.json and summary.json. */
export function sweepHashOf(config: Record<string, unknown>): string {
  return sha256Hex(canonicalJson(sweepDefinition(config)));
}

/** A short digest per definition field, recorded in summary.json so a changed config.json field can be named. */
export function sweepFieldDigests(config: Record<string, unknown>): Record<string, string> {
  const d = sweepDefinition(config);
  return Object.fromEntries(Object.keys(d).map((k) => [k, sha256Hex(canonicalJson(d[k])).slice(0, 16)]));
}

/** Digests of consecutive blocks of lines (one line per block up to MAX_LINE_DIGESTS lines), to locate an edit. */
export interface LineDigests {
  lines: number;
  linesPerDigest: number;
  /** First 16 hex digits of the sha256 of each block's exact text, newlines included. */
  digests: string[];
}

/** Bounds summary.json: 4096 digests of 16 hex digits are 70 kB however long the sweep. */
export const MAX_LINE_DIGESTS = 4096;

/** Offsets where each line starts, plus text.length; a last line without a newline counts as a line. */
function lineBounds(text: string): number[] {
  const starts = [0];
  for (let i = text.indexOf('\n'); i >= 0 && i + 1 < text.length; i = text.indexOf('\n', i + 1)) starts.push(i + 1);
  if (text.length === 0) starts.pop();
  starts.push(text.length);
  return starts;
}

export function lineDigestsOf(text: string, linesPerDigest?: number): LineDigests {
  const b = lineBounds(text);
  const lines = b.length - 1;
  const per = linesPerDigest ?? Math.max(1, Math.ceil(lines / MAX_LINE_DIGESTS));
  const digests: string[] = [];
  for (let first = 0; first < lines; first += per) digests.push(sha256Hex(text.slice(b[first], b[Math.min(lines, first + per)])).slice(0, 16));
  return { lines, linesPerDigest: per, digests };
}

/** The 1-based line range of the first block that differs from `recorded`, or null when every block agrees. */
export function firstChangedLines(text: string, recorded: LineDigests): [number, number] | null {
  const now = lineDigestsOf(text, recorded.linesPerDigest);
  const per = recorded.linesPerDigest;
  for (let j = 0; j < Math.max(now.digests.length, recorded.digests.length); j++) {
    if (now.digests[j] !== recorded.digests[j]) return [j * per + 1, Math.max(j * per + 1, Math.min((j + 1) * per, Math.max(now.lines, recorded.lines)))];
  }
  return null;
}

/** What summary.json records so that its shard (or a merged result) can be verified. */
export interface ShardDigests {
  sweepHash: string;
  sweepFieldSha256: Record<string, string>;
  rowsSha256: string;
  lineDigests: LineDigests;
}

export function shardDigests(config: Record<string, unknown>, csvText: string): ShardDigests {
  return { sweepHash: sweepHashOf(config), sweepFieldSha256: sweepFieldDigests(config), rowsSha256: sha256Hex(csvText), lineDigests: lineDigestsOf(csvText) };
}

/** The fields of a sweep's config.json that verification reads (the digests make sure they are as written). */
export interface SweepConfig {
  model: string;
  n: number;
  steps: number;
  dt: number | null;
  seed: number;
  fixed: Record<string, GridValue>;
  grids: GridAxis[];
  replicas: number;
  totalInstances: number;
  columns: string[];
  shard: Shard | null;
  sweepHash: string;
  [key: string]: unknown;
}

/** What a model's sweep writes after index, pointIndex, replica and the grid columns, and what each column may hold. */
export interface SweepSchema {
  resultColumns: readonly string[];
  /** Columns that are empty in every row of this sweep, with the reason; every other result column holds a finite number. */
  emptyColumns(config: SweepConfig): Record<string, string>;
  /** Columns of non-negative integers (counts). */
  countColumns: readonly string[];
  /** Inclusive bounds that hold exactly (not up to round-off). */
  bounds?: Record<string, readonly [number, number]>;
  /** Columns that depend only on the parameter point, so every replica of a point holds the same value. */
  perPointColumns: readonly string[];
  /** Cross-field check of one row after the column checks: a problem naming the fields, or null. `params` = fixed + point. */
  checkRow?(row: Record<string, number>, params: Record<string, GridValue>, config: SweepConfig): string | null;
}

/** The text of one shard folder's files. */
export interface ShardFiles {
  dir: string;
  config: string;
  summary: string;
  csv: Uint8Array;
}

export interface VerifiedShard {
  dir: string;
  config: SweepConfig;
  summary: Record<string, unknown>;
  csvPath: string;
  csvText: string;
  columns: string[];
  rows: CsvCell[][];
  /** The shard the rows belong to; an unsharded sweep (or a merge) is shard 0 of 1. */
  shard: Shard;
}

const VERIFIED_ONLY = '`ei merge` joins only rows it can verify';
const REDO = `rerun that shard with the same command line (or restore its files from the run); ${VERIFIED_ONLY}`;

function show(v: unknown): string {
  return v === null || v === undefined ? 'empty' : typeof v === 'string' ? `'${v}'` : String(v);
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

function parseJsonObject(text: string, path: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch (e) {
    throw new ConfigError(`${path} is not valid JSON (${(e as Error).message})`, REDO);
  }
  if (!isRecord(v)) throw new ConfigError(`${path} does not hold a JSON object`, REDO);
  return v;
}

function isLineDigests(v: unknown): v is LineDigests {
  return isRecord(v) && Number.isSafeInteger(v.lines) && Number.isSafeInteger(v.linesPerDigest) && (v.linesPerDigest as number) >= 1
    && Array.isArray(v.digests) && v.digests.every((d) => typeof d === 'string');
}

function isShard(v: unknown): v is Shard {
  return isRecord(v) && Number.isSafeInteger(v.count) && Number.isSafeInteger(v.index) && (v.count as number) >= 1 && (v.index as number) >= 0 && (v.index as number) < (v.count as number);
}

/**
 * Checks one shard folder end to end and returns its rows: digests present and matching (config.json against its
 * sweepHash, sweep.csv against rowsSha256), the header against the sweep's columns, and every row: index in this shard
 * and the sweep, pointIndex/replica/grid values as makeSweepPoints gives them for that index, result columns finite
 * (or empty where the schema says so), counts integers, and the model's cross-field checks. Throws a ConfigError
 * naming the file, line and field otherwise.
 */
export function verifyShard(files: ShardFiles, schemas: Record<string, SweepSchema>): VerifiedShard {
  const configPath = join(files.dir, 'config.json');
  const summaryPath = join(files.dir, 'summary.json');
  const csvPath = join(files.dir, 'sweep.csv');
  const raw = parseJsonObject(files.config, configPath);
  const summary = parseJsonObject(files.summary, summaryPath);

  const absent: string[] = [];
  if (typeof raw.sweepHash !== 'string') absent.push(`sweepHash in ${configPath}`);
  for (const f of ['sweepHash', 'rowsSha256'] as const) if (typeof summary[f] !== 'string') absent.push(`${f} in ${summaryPath}`);
  if (!isRecord(summary.sweepFieldSha256)) absent.push(`sweepFieldSha256 in ${summaryPath}`);
  if (!isLineDigests(summary.lineDigests)) absent.push(`lineDigests in ${summaryPath}`);
  if (absent.length) {
    throw new ConfigError(
      `${files.dir} has no digests to verify it by (missing: ${absent.join(', ')}); it was written by an ei version before verified merges, or its JSON files were edited`,
      `rerun that shard with this version of ei (same command line); ${VERIFIED_ONLY}`,
    );
  }

  // The definition first: the row checks below trust config.json only once it hashes to what the sweep recorded.
  const recomputed = sweepHashOf(raw);
  if (recomputed !== raw.sweepHash || recomputed !== summary.sweepHash) {
    const now = sweepFieldDigests(raw);
    const then = summary.sweepFieldSha256 as Record<string, unknown>;
    const changed = [...new Set([...Object.keys(now), ...Object.keys(then)])].filter((k) => now[k] !== then[k]);
    if (changed.length || recomputed !== raw.sweepHash) {
      const what = changed.length ? `field${changed.length > 1 ? 's' : ''} ${changed.map((c) => `'${c}'`).join(', ')} changed` : `its sweepHash no longer matches its contents`;
      throw new ConfigError(`${configPath} was edited after the sweep wrote it: ${what} (the recorded sweepHash ${String(raw.sweepHash).slice(0, 12)}... does not match the recomputed ${recomputed.slice(0, 12)}...)`, `restore config.json from the shard's run or rerun the shard; its rows are only checked against the definition they were made with`);
    }
    throw new ConfigError(`${summaryPath} field 'sweepHash' (${String(summary.sweepHash).slice(0, 12)}...) does not match ${configPath} (${recomputed.slice(0, 12)}...): the summary was edited or belongs to another shard`, REDO);
  }

  const schema = typeof raw.model === 'string' ? schemas[raw.model] : undefined;
  if (!schema) throw new ConfigError(`${configPath} field 'model': ${show(raw.model)} has no sweep format this ei version knows (${Object.keys(schemas).join(', ')})`, 'merge it with the ei version that wrote it');
  const config = raw as SweepConfig;
  const bad = (field: string, problem: string): never => {
    throw new ConfigError(`${configPath} field '${field}': ${problem}`, 'the shard was written by a different ei version; rerun it with this one');
  };
  if (!Array.isArray(config.grids) || !config.grids.every((g) => isRecord(g) && typeof g.name === 'string' && Array.isArray(g.values) && g.values.every((v) => typeof v === 'number' || typeof v === 'string'))) {
    bad('grids', 'is not a list of {name, values}');
  }
  if (!Number.isSafeInteger(config.replicas) || config.replicas < 1) bad('replicas', `${show(config.replicas)} is not a positive integer`);
  if (!isRecord(config.fixed)) bad('fixed', 'is not an object of parameter values');
  let points: SweepPoint[] = [];
  try {
    points = makeSweepPoints(config.grids, config.replicas);
  } catch (e) {
    bad('grids', (e as Error).message.split('\n')[0]);
  }
  if (config.totalInstances !== points.length) bad('totalInstances', `${show(config.totalInstances)}, but its grids and replicas give ${points.length} instances`);
  const gridNames = config.grids.map((g) => g.name);
  const expectedColumns = ['index', 'pointIndex', 'replica', ...gridNames, ...schema.resultColumns];
  if (!Array.isArray(config.columns) || config.columns.join('\u0000') !== expectedColumns.join('\u0000')) {
    bad('columns', `${JSON.stringify(config.columns)} is not what a ${config.model} sweep over ${gridNames.join(', ') || 'no grid'} writes (${expectedColumns.join(', ')})`);
  }
  if (config.shard !== null && !isShard(config.shard)) bad('shard', `${JSON.stringify(config.shard)} is not null or {index, count} with 0 <= index < count`);
  if (canonicalJson(config.shard) !== canonicalJson(summary.shard)) {
    throw new ConfigError(`${summaryPath} field 'shard' (${JSON.stringify(summary.shard)}) disagrees with ${configPath} (${JSON.stringify(config.shard)})`, REDO);
  }
  const shard = config.shard ?? { index: 0, count: 1 };

  // Structure before values: a cut-off last line often still parses as numbers.
  const text = Buffer.from(files.csv).toString('utf8');
  if (text.length === 0) throw new ConfigError(`${csvPath} is empty (not even a header line)`, REDO);
  const lines = text.split('\n');
  if (lines[lines.length - 1] !== '') {
    const last = lines[lines.length - 1];
    const field = last.split(',').length - 1;
    const col = config.columns[field] ?? `field ${field + 1}`;
    throw new ConfigError(`${csvPath} line ${lines.length} ends without a newline: the file was truncated inside field '${col}' of that row`, REDO);
  }
  lines.pop();
  lines.forEach((l, i) => {
    if (l === '' || l === '\r') throw new ConfigError(`${csvPath} line ${i + 1} is blank, which a sweep never writes (the file was edited)`, REDO);
  });
  const table = parseCsv(text, csvPath);
  if (table.columns.join('\u0000') !== config.columns.join('\u0000')) {
    const missing = config.columns.filter((c) => !table.columns.includes(c));
    const extra = table.columns.filter((c) => !config.columns.includes(c));
    const detail = missing.length || extra.length ? `missing [${missing.join(', ')}], extra [${extra.join(', ')}]` : 'same names in a different order';
    throw new ConfigError(`${csvPath} line 1: the columns differ from ${configPath} 'columns': ${detail}`, REDO);
  }
  if (table.rows.length !== lines.length - 1) throw new ConfigError(`${csvPath}: a quoted field spans lines, which a sweep never writes (the file was edited)`, REDO);

  const col = new Map(config.columns.map((c, i) => [c, i]));
  const empty = schema.emptyColumns(config);
  const counts = new Set(schema.countColumns);
  const seen = new Map<number, number>();
  table.rows.forEach((row, r) => {
    const line = r + 2;
    const idx = row[0];
    const at = (field: string, problem: string, fix = REDO): never => {
      const where = typeof idx === 'number' && Number.isSafeInteger(idx) && field !== 'index' ? ` (sweep index ${idx})` : '';
      throw new ConfigError(`${csvPath} line ${line}${where}, field '${field}': ${problem}`, fix);
    };
    if (typeof idx !== 'number' || !Number.isSafeInteger(idx) || idx < 0) at('index', `${show(idx)} is not a non-negative integer`);
    const index = idx as number;
    if (index >= config.totalInstances) at('index', `${index} is not below the sweep's ${config.totalInstances} instances (${configPath} totalInstances)`);
    if (index % shard.count !== shard.index) {
      at('index', `${index} does not belong to shard ${shard.index}/${shard.count} (${index} mod ${shard.count} = ${index % shard.count}): a row of another shard was copied in`);
    }
    const prev = seen.get(index);
    if (prev !== undefined) at('index', `${index} appears twice (also on line ${prev})`);
    seen.set(index, line);
    const p = points[index];
    if (row[1] !== p.pointIndex) at('pointIndex', `${show(row[1])}, but sweep index ${index} is point ${p.pointIndex} (index div replicas ${config.replicas})`);
    if (row[2] !== p.replica) at('replica', `${show(row[2])}, but sweep index ${index} is replica ${p.replica} (index mod replicas ${config.replicas})`);
    for (const g of gridNames) {
      const v = row[col.get(g)!];
      if (v !== p.point[g]) at(g, `${show(v)}, but ${configPath} grids give ${show(p.point[g])} for point ${p.pointIndex}`);
    }
    const values: Record<string, number> = {};
    for (const c of schema.resultColumns) {
      const v = row[col.get(c)!];
      if (c in empty) {
        if (v !== null) at(c, `${show(v)}, but this column is empty in every row of this sweep (${empty[c]})`);
        continue;
      }
      if (v === null) at(c, 'is empty, but this column holds a finite number in every row of this sweep');
      if (typeof v !== 'number') at(c, `${show(v)} is not a number`);
      const x = v as number;
      if (!Number.isFinite(x)) at(c, `${x} is not finite, which this column never legitimately holds`);
      if (counts.has(c) && !(Number.isSafeInteger(x) && x >= 0)) at(c, `${x} is not a count (a non-negative integer)`);
      const b = schema.bounds?.[c];
      if (b && !(x >= b[0] && x <= b[1])) at(c, `${x} is outside [${b[0]}, ${b[1]}]`);
      values[c] = x;
    }
    const problem = schema.checkRow?.(values, { ...config.fixed, ...p.point }, config);
    if (problem) throw new ConfigError(`${csvPath} line ${line} (sweep index ${index}): ${problem}`, REDO);
  });

  const own: number[] = [];
  for (let k = shard.index; k < config.totalInstances; k += shard.count) if (!seen.has(k)) own.push(k);
  if (own.length) {
    const list = own.slice(0, 10).join(', ') + (own.length > 10 ? `, ... (${own.length} in all)` : '');
    throw new ConfigError(`${csvPath}: rows of shard ${shard.index}/${shard.count} are missing (sweep indices ${list}); the file lost lines after line ${lines.length}, or lines were deleted`, REDO);
  }
  if (summary.instances !== table.rows.length) {
    throw new ConfigError(`${summaryPath} field 'instances' (${show(summary.instances)}) disagrees with the ${table.rows.length} rows of ${csvPath}`, REDO);
  }

  // Last, the bytes: this catches edits that leave every value plausible (a changed digit, a row swapped in order).
  if (sha256Hex(files.csv) !== summary.rowsSha256) {
    const range = firstChangedLines(text, summary.lineDigests as LineDigests);
    const where = !range ? 'somewhere' : range[0] === range[1] ? `line ${range[0]}` : `lines ${range[0]}-${range[1]}`;
    const row = range && range[0] === range[1] && range[0] >= 2 && range[0] - 2 < table.rows.length ? ` (sweep index ${table.rows[range[0] - 2][0]})` : '';
    throw new ConfigError(
      `${csvPath} ${where}${row} differs from what the sweep wrote: the file's sha256 does not match rowsSha256 in ${summaryPath} (edited or damaged after the run)`,
      REDO,
    );
  }
  return { dir: files.dir, config, summary, csvPath, csvText: text, columns: table.columns, rows: table.rows, shard };
}

/** Replicas of one parameter point must agree on the point-only columns, across shards (replicas are spread round-robin). */
export function checkPerPointColumns(shards: readonly VerifiedShard[], schema: SweepSchema): void {
  if (shards.length === 0 || schema.perPointColumns.length === 0) return;
  const cols = schema.perPointColumns.map((c) => shards[0].columns.indexOf(c));
  const first = new Map<number, { values: CsvCell[]; path: string; line: number }>();
  for (const s of shards) {
    s.rows.forEach((row, r) => {
      const pi = row[1] as number;
      const values = cols.map((c) => row[c]);
      const f = first.get(pi);
      if (!f) {
        first.set(pi, { values, path: s.csvPath, line: r + 2 });
        return;
      }
      cols.forEach((_, k) => {
        if (values[k] !== f.values[k]) {
          const c = schema.perPointColumns[k];
          throw new ConfigError(
            `${s.csvPath} line ${r + 2}, field '${c}': ${show(values[k])}, but ${f.path} line ${f.line} has ${show(f.values[k])} for the same point ${pi}; '${c}' depends only on the point, so its replicas must agree`,
            REDO,
          );
        }
      });
    });
  }
}

/** The definition fields in which two sweep configs differ, e.g. "seed (1 vs 2), fixed.rIn (1000 vs 2000), grids". */
export function describeSweepDifference(a: Record<string, unknown>, b: Record<string, unknown>): string {
  const da = sweepDefinition(a);
  const db = sweepDefinition(b);
  const out: string[] = [];
  const scalar = (v: unknown) => v === undefined || v === null || typeof v !== 'object';
  for (const k of new Set([...Object.keys(da), ...Object.keys(db)])) {
    const x = da[k];
    const y = db[k];
    if (canonicalJson(x) === canonicalJson(y)) continue;
    if (scalar(x) && scalar(y)) out.push(`${k} (${show(x)} vs ${show(y)})`);
    else if (isRecord(x) && isRecord(y)) {
      for (const j of new Set([...Object.keys(x), ...Object.keys(y)])) {
        if (canonicalJson(x[j]) !== canonicalJson(y[j])) out.push(scalar(x[j]) && scalar(y[j]) ? `${k}.${j} (${show(x[j])} vs ${show(y[j])})` : `${k}.${j}`);
      }
    } else out.push(k);
  }
  return out.join(', ');
}
