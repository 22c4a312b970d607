// Parameter-sweep grids, their deterministic point order, sharding across jobs (--shard, SLURM, Kubernetes) and merging shard CSVs back.
import { ConfigError, ParameterError } from '../errors.ts';
import { makeCsv, parseCsv, type CsvCell } from '../io/csv.ts';

/** One swept parameter and its values, in sweep order. */
export interface GridAxis {
  name: string;
  values: number[];
}

/** One simulation instance of a sweep: a parameter point and a replica (seed offset). */
export interface SweepPoint {
  /** Position in the full sweep, 0-based; the merge key of shard outputs. */
  index: number;
  /** Position of the parameter point without the replica, 0-based. */
  pointIndex: number;
  point: Record<string, number>;
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
  const t = text.trim();
  const v = t === '' ? NaN : Number(t);
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

/**
 * Parses one grid flag: 'WE=0.5:8:64' (64 values from 0.5 to 8 inclusive),
 * 'N=100:100000:4:log' (log-spaced), or 'seedShift=1,2,5' (an explicit list).
 */
export function parseGridSpec(spec: string, flag = '--grid'): GridAxis {
  const eq = spec.indexOf('=');
  if (eq < 0) throw new ParameterError(flag, `'${spec}' has no '='`, `write ${GRID_FORMS}`);
  const name = spec.slice(0, eq).trim();
  const body = spec.slice(eq + 1).trim();
  if (!NAME.test(name)) {
    throw new ParameterError(flag, `'${spec}': '${name}' is not a parameter name`, `start with the parameter name, e.g. WE=0.5:8:64; ${GRID_FORMS}`);
  }
  if (body === '') throw new ParameterError(flag, `'${spec}' has no values after '='`, `write ${GRID_FORMS}`);
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
    const point: Record<string, number> = {};
    // Mixed-radix decode of p, last grid fastest.
    let rest = p;
    for (let g = grids.length - 1; g >= 0; g--) {
      const n = grids[g].values.length;
      point[grids[g].name] = grids[g].values[rest % n];
      rest = Math.floor(rest / n);
    }
    const ordered: Record<string, number> = {};
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
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(text);
  if (!m) throw new ParameterError(flag, `'${text}' is not of the form i/N`, `write ${flag} i/N with 0 <= i < N, e.g. ${flag} 0/4`);
  const index = Number(m[1]);
  const count = Number(m[2]);
  return checkShard(index, count, flag);
}

function checkShard(index: number, count: number, source: string): Shard {
  if (!Number.isSafeInteger(count) || count < 1) {
    throw new ParameterError(source, `shard count ${count} is not a positive integer`, 'use a shard count of 1 or more');
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
