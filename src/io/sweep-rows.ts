// The finished rows of a sweep (or shard) while it runs, so that a killed run resumes where it stopped: every batch's
// rows go into their own file in a hidden folder beside the result folder, written under a temporary name and renamed
// when complete, so a file with a final name is always whole. A rerun of the same sweep reads them back and runs only
// the missing points; the folder goes once the result folder is complete.
import { existsSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';
import { makeCsv, parseCsv, type CsvCell } from './csv.ts';

export const SWEEP_ROWS_FORMAT = 'ei-sweep-rows/1';

/** What the rows belong to: a rerun resumes them only when all of it matches. */
export interface SweepRowsIdentity {
  sweepHash: string;
  shard: { index: number; count: number } | null;
  columns: string[];
}

export interface SweepRows {
  /** The hidden folder (beside the result folder). */
  readonly dir: string;
  /** Rows already finished, by sweep index (column 0). */
  readonly done: ReadonlyMap<number, CsvCell[]>;
  /** Saves one batch's rows (their first cell is the sweep index) as one whole file. */
  save(rows: readonly CsvCell[][]): void;
  /** Removes the folder's own files (after the result folder is complete); files ei did not write are left. */
  clear(): void;
  /** Whether any finished rows are on disk (read back or saved). */
  hasRows(): boolean;
}

const rowsFile = /^rows-(\d+)\.csv$/;
const tmpFile = /^rows-\d+\.csv\.tmp-/;
const identityFile = 'sweep-rows.json';

/** The hidden folder of a result folder's rows: `.<name>.ei-rows` beside it. */
export function sweepRowsDirOf(outPath: string): string {
  const abs = resolve(outPath);
  const parent = existsSync(dirname(abs)) ? realpathSync(dirname(abs)) : dirname(abs);
  return join(parent, `.${basename(abs)}.ei-rows`);
}

function writeWhole(path: string, text: string): void {
  const tmp = `${path}.tmp-${hostname()}-${process.pid}`;
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

function sameIdentity(a: SweepRowsIdentity, b: SweepRowsIdentity): boolean {
  return a.sweepHash === b.sweepHash && JSON.stringify(a.shard) === JSON.stringify(b.shard) && JSON.stringify(a.columns) === JSON.stringify(b.columns);
}

/**
 * Opens (or starts) the rows of the sweep `id` for the result folder `outPath`. Rows of another sweep or shard there
 * are refused, naming the folder: they are never mixed in or removed.
 */
export function openSweepRows(outPath: string, id: SweepRowsIdentity): SweepRows {
  const dir = sweepRowsDirOf(outPath);
  const done = new Map<number, CsvCell[]>();
  const idPath = join(dir, identityFile);
  if (existsSync(dir)) {
    let found: SweepRowsIdentity & { format?: string };
    try {
      found = JSON.parse(readFileSync(idPath, 'utf8'));
    } catch {
      throw new ConfigError(`${dir} is not a folder of sweep rows (no readable ${identityFile})`, `move it away: --out ${outPath} keeps its finished rows there`);
    }
    if (found.format !== SWEEP_ROWS_FORMAT || !sameIdentity(found, id)) {
      throw new ConfigError(
        `${dir} holds the finished rows of a different sweep or shard (sweepHash ${String(found.sweepHash).slice(0, 12)}..., shard ${JSON.stringify(found.shard)}) than this one (${id.sweepHash.slice(0, 12)}..., shard ${JSON.stringify(id.shard)})`,
        `rerun the sweep that wrote them with --out ${outPath}, or choose another --out (or remove ${dir} to discard them)`,
      );
    }
    for (const f of readdirSync(dir).sort()) {
      if (!rowsFile.test(f)) continue;
      const table = parseCsv(readFileSync(join(dir, f), 'utf8'), join(dir, f));
      if (JSON.stringify(table.columns) !== JSON.stringify(id.columns)) throw new ConfigError(`${join(dir, f)} has other columns than this sweep`, `remove ${dir} to discard its rows`);
      for (const row of table.rows) done.set(row[0] as number, row);
    }
  } else {
    mkdirSync(dir, { recursive: true });
    writeWhole(idPath, JSON.stringify({ format: SWEEP_ROWS_FORMAT, ...id }, null, 2) + '\n');
  }
  return {
    dir,
    done,
    save(rows) {
      if (rows.length === 0) return;
      writeWhole(join(dir, `rows-${rows[0][0] as number}.csv`), makeCsv(id.columns, rows));
    },
    hasRows() {
      return existsSync(dir) && readdirSync(dir).some((f) => rowsFile.test(f));
    },
    clear() {
      if (!existsSync(dir)) return;
      for (const f of readdirSync(dir)) if (f === identityFile || rowsFile.test(f) || tmpFile.test(f)) rmSync(join(dir, f), { force: true });
      if (readdirSync(dir).length === 0) rmdirSync(dir);
      else console.error(`ei: note: ${dir} holds files ei did not write; left in place`);
    },
  };
}
