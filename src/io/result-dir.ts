// Writes a result folder atomically: files go to a hidden sibling first and appear under DIR only when all are written.
import { mkdirSync, renameSync, rmSync, writeFileSync, existsSync, readdirSync } from 'node:fs';
import { dirname, basename, join, resolve } from 'node:path';
import { ConfigError } from '../errors.ts';

export interface ResultDir {
  /** Final path. */
  readonly path: string;
  write(name: string, content: string | Uint8Array): void;
  /** Moves everything into place (replacing an earlier result in the same folder). */
  commit(): void;
  /** Removes the partial output (after an error). */
  abort(): void;
}

/** Starts a result folder at `path`; nothing appears there until commit(). */
export function createResultDir(path: string): ResultDir {
  const final = resolve(path);
  if (existsSync(final) && readdirSync(final).length > 0 && !existsSync(join(final, 'config.json'))) {
    throw new ConfigError(`--out ${path} exists and is not an ei result folder (no config.json)`, 'choose a new or empty folder for --out');
  }
  const tmp = join(dirname(final), `.${basename(final)}.partial-${process.pid}`);
  rmSync(tmp, { recursive: true, force: true });
  mkdirSync(tmp, { recursive: true });
  let done = false;
  return {
    path: final,
    write(name, content) {
      if (done) throw new Error('result folder already committed');
      const p = join(tmp, name);
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
    },
    commit() {
      if (done) return;
      done = true;
      if (existsSync(final)) rmSync(final, { recursive: true, force: true });
      mkdirSync(dirname(final), { recursive: true });
      renameSync(tmp, final);
    },
    abort() {
      if (done) return;
      done = true;
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
