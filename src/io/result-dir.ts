// Result folders that cannot destroy anything: files are written into a hidden partial folder beside DIR and appear
// under DIR only when all are written; DIR must be new, empty, or a complete ei result (replaced only with overwrite).
import { createHash } from 'node:crypto';
import { closeSync, linkSync, lstatSync, mkdirSync, openSync, readdirSync, readFileSync, realpathSync, renameSync, rmdirSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { hostname } from 'node:os';
import { basename, dirname, isAbsolute, join, normalize, resolve, sep } from 'node:path';
import { ConfigError } from '../errors.ts';
import { claimForCleanup, releaseFromCleanup } from './cleanup-link.ts';

/** The marker ei writes last into every result folder it completes: the files it wrote, with their SHA-256. */
export const RESULT_MARKER = '.ei-result.json';
/** The marker inside a partial folder: which process writes it (so a later run can tell a dead writer's leftovers). */
const PARTIAL_MARKER = '.ei-partial.json';

export interface ResultMarker {
  eiResult: 1;
  createdAt: string;
  /** Relative path -> hex SHA-256 of the content ei wrote. */
  files: Record<string, string>;
}

export interface ResultDirOptions {
  /** Replace an existing complete ei result in the folder (only the files ei wrote there; other files are kept). */
  overwrite?: boolean;
  /** The option that named the folder, for messages (default '--out'). */
  flag?: string;
}

export interface ResultDir {
  /** Final path. */
  readonly path: string;
  write(name: string, content: string | Uint8Array): void;
  /** Moves everything into place and writes the completion marker last. */
  commit(): void;
  /** Removes the partial output (after an error); idempotent. */
  abort(): void;
}

interface Owner {
  pid: number;
  host: string;
  startedAt: string;
}

const me = (): Owner => ({ pid: process.pid, host: hostname(), startedAt: new Date().toISOString() });

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists but belongs to someone else.
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** A dead writer on this host; writers on other hosts (shared file systems) are never presumed dead. */
function isStale(o: Partial<Owner> | null): boolean {
  return !!o && o.host === hostname() && typeof o.pid === 'number' && o.pid !== process.pid && !processAlive(o.pid);
}

function readJson<T>(path: string): T | null {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return null;
  }
}

const sha256 = (content: string | Uint8Array) => createHash('sha256').update(content).digest('hex');

const causes: Record<string, string> = {
  ENOTDIR: 'a part of the path is a file, not a folder',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EROFS: 'read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'disk quota exceeded',
  ENAMETOOLONG: 'the name is too long',
  ELOOP: 'too many symbolic links',
  EEXIST: 'it exists already',
  ENOENT: 'no such file or folder',
  ENOTEMPTY: 'the folder is not empty',
  EBUSY: 'the path is busy',
  EINVAL: 'the file system does not allow it',
  EXDEV: 'it is on another file system',
  EIO: 'input/output error',
};

/** A file-system failure as a ConfigError naming the path and the cause (exit code 2, no stack). */
export function fsError(e: unknown, action: string, path: string, fix: string): ConfigError {
  const code = (e as NodeJS.ErrnoException)?.code ?? '';
  const cause = causes[code] ?? (e as Error)?.message ?? String(e);
  return new ConfigError(`cannot ${action} ${path}: ${cause}${code ? ` (${code})` : ''}`, fix);
}

/** Creates `dir` and its missing parents one level at a time (recursive mkdir can spin on pseudo file systems such as /proc). */
function ensureFolder(dir: string, flag: string, shown: string): void {
  const missing: string[] = [];
  let cur = dir;
  for (;;) {
    let st;
    try {
      st = lstatSync(cur);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw fsError(e, `use ${flag}`, shown, `choose a folder you can write to for ${flag}`);
      const up = dirname(cur);
      if (up === cur) break;
      missing.push(cur);
      cur = up;
      continue;
    }
    if (!st.isDirectory() && !(st.isSymbolicLink() && isDirectory(cur))) {
      throw new ConfigError(`cannot use ${flag} ${shown}: ${cur} is a file, not a folder`, `choose another ${flag}`);
    }
    break;
  }
  for (const d of missing.reverse()) {
    try {
      mkdirSync(d);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, 'create', d, `choose a folder you can write to for ${flag}`);
    }
  }
}

function isDirectory(p: string): boolean {
  try {
    return lstatSync(realpathSync(p)).isDirectory();
  } catch {
    return false;
  }
}

/** Files under `dir` (relative paths), skipping nothing: used to see whether a folder holds only what ei wrote. */
function listFiles(dir: string, prefix = ''): string[] {
  const out: string[] = [];
  for (const ent of readdirSync(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${ent.name}` : ent.name;
    if (ent.isDirectory()) out.push(...listFiles(dir, rel));
    else out.push(rel);
  }
  return out;
}

/**
 * Creates `lockPath` holding `text`, exclusively and complete at once: the text goes to a private file first, which
 * is then hard-linked to the lock's name (link fails if the name exists), so a second writer never reads a lock that
 * exists but is still empty. Where hard links are not supported, an exclusive create and a write.
 */
function createLockFile(lockPath: string, text: string): void {
  const tmp = `${lockPath}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { flag: 'w' });
  try {
    linkSync(tmp, lockPath);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP') throw e;
    const fd = openSync(lockPath, 'wx');
    try {
      writeSync(fd, text);
    } finally {
      closeSync(fd);
    }
  } finally {
    rmSync(tmp, { force: true });
  }
}

/** Takes the writer's lock of a result folder: a file created exclusively beside it, removed at commit or abort. */
function takeLock(lockPath: string, flag: string, shown: string): void {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      createLockFile(lockPath, JSON.stringify(me()) + '\n');
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw fsError(e, `use ${flag}`, shown, `choose a folder you can write to for ${flag}`);
      const holder = readJson<Owner>(lockPath);
      if (isStale(holder)) {
        rmSync(lockPath, { force: true });
        continue;
      }
      const who = holder ? `ei process ${holder.pid} on ${holder.host}, since ${holder.startedAt}` : 'another ei process';
      throw new ConfigError(
        `${flag} ${shown} is being written by ${who}`,
        `wait for that run to end or choose another ${flag}; if no such process exists any more, delete ${lockPath}`,
      );
    }
  }
  throw new ConfigError(`${flag} ${shown}: could not take the lock ${lockPath}`, `delete ${lockPath} if no ei process is writing there`);
}

/** Removes partial folders and locks beside `parent` left by dead ei processes on this host (only ones that carry ei's own markers). */
function removeStaleLeftovers(parent: string): void {
  let names: string[];
  try {
    names = readdirSync(parent);
  } catch {
    return;
  }
  for (const n of names) {
    const p = join(parent, n);
    if (/^\..+\.partial-\d+$/.test(n)) {
      if (isStale(readJson<Owner>(join(p, PARTIAL_MARKER)))) rmSync(p, { recursive: true, force: true });
    } else if (/^\..+\.ei-lock(\.\d+\.tmp)?$/.test(n)) {
      // A lock, or the private file a lock is linked from (left when a writer died between the two).
      if (isStale(readJson<Owner>(p))) rmSync(p, { force: true });
    }
  }
}

type Mode = 'create' | 'into-empty' | 'replace';

/** Decides how DIR may be written, or refuses: nothing that ei did not write is ever replaced or deleted. */
function inspectTarget(final: string, flag: string, shown: string, overwrite: boolean): { mode: Mode; old: ResultMarker | null } {
  let st;
  try {
    st = lstatSync(final);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return { mode: 'create', old: null };
    throw fsError(e, `use ${flag}`, shown, `choose another ${flag}`);
  }
  if (!st.isDirectory()) throw new ConfigError(`${flag} ${shown} is a file, not a folder`, `choose another ${flag} (ei does not replace files it did not write)`);
  let entries: string[];
  try {
    entries = readdirSync(final);
  } catch (e) {
    throw fsError(e, 'read', shown, `choose another ${flag}`);
  }
  if (entries.length === 0) return { mode: 'into-empty', old: null };
  const marker = readJson<ResultMarker>(join(final, RESULT_MARKER));
  if (!marker || marker.eiResult !== 1 || typeof marker.files !== 'object') {
    const legacy = entries.includes('config.json') && entries.includes('summary.json');
    throw new ConfigError(
      `${flag} ${shown} is a folder that ei did not create (${legacy ? 'it looks like a result of an older ei version, which carries no ' + RESULT_MARKER + ' marker' : 'no ' + RESULT_MARKER + ' marker'}); ei never writes into or deletes such a folder`,
      `choose a new or empty folder for ${flag}${legacy ? ', or delete the old result yourself' : ''}`,
    );
  }
  if (!overwrite) {
    throw new ConfigError(
      `${flag} ${shown} already holds an ei result (written ${marker.createdAt})`,
      `add --overwrite to replace it (only the files ei wrote there are replaced; your other files stay), or choose another ${flag}`,
    );
  }
  checkUnchanged(final, marker, flag, shown);
  return { mode: 'replace', old: marker };
}

/** With overwrite: refuses when a file ei wrote there was edited since (the user's version would be lost). */
function checkUnchanged(final: string, marker: ResultMarker, flag: string, shown: string): void {
  for (const [name, digest] of Object.entries(marker.files)) {
    let content: Buffer;
    try {
      content = readFileSync(join(final, name));
    } catch {
      continue; // deleted by the user: nothing of theirs to lose
    }
    if (sha256(content) !== digest) {
      throw new ConfigError(
        `${flag} ${shown}: ${name} was changed after ei wrote it, so --overwrite would destroy your edits`,
        `move ${join(shown, name)} elsewhere, or choose another ${flag}`,
      );
    }
  }
}

function safeName(name: string): string {
  const n = normalize(name);
  if (!n || isAbsolute(n) || n === '..' || n.startsWith(`..${sep}`) || n === RESULT_MARKER || n === PARTIAL_MARKER) {
    throw new Error(`result file name '${name}' is not a plain relative path`);
  }
  return n.split(sep).join('/');
}

/** Starts a result folder at `path`; nothing appears there until commit(). Takes the folder's lock at once. */
export function createResultDir(path: string, options: ResultDirOptions = {}): ResultDir {
  const flag = options.flag ?? '--out';
  if (path.trim() === '') throw new ConfigError(`${flag} is empty`, `give a folder name, e.g. ${flag} results/run1`);
  const shown = path;
  const abs = resolve(path);
  if (dirname(abs) === abs) throw new ConfigError(`${flag} ${shown} is the root of the file system`, `choose a new folder for ${flag}`);
  ensureFolder(dirname(abs), flag, shown);
  const parent = realpathSync(dirname(abs));
  const name = basename(abs);
  const final = join(parent, name);
  const lockPath = join(parent, `.${name}.ei-lock`);
  removeStaleLeftovers(parent);
  takeLock(lockPath, flag, shown);
  claimForCleanup(lockPath);
  const releaseLock = () => {
    rmSync(lockPath, { force: true });
    releaseFromCleanup(lockPath);
  };
  let target: { mode: Mode; old: ResultMarker | null };
  const tmp = join(parent, `.${name}.partial-${process.pid}`);
  try {
    target = inspectTarget(final, flag, shown, options.overwrite === true);
    rmSync(tmp, { recursive: true, force: true }); // our own pid's leftover (pid reuse after a crash)
    // Claimed before it exists: a kill right after mkdir must not leave it behind (the name holds our pid, so it is ours).
    claimForCleanup(tmp);
    mkdirSync(tmp);
    writeFileSync(join(tmp, PARTIAL_MARKER), JSON.stringify(me()) + '\n');
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    releaseFromCleanup(tmp);
    releaseLock();
    throw e instanceof ConfigError ? e : fsError(e, 'create', tmp, `choose a folder you can write to for ${flag}`);
  }
  const files: Record<string, string> = {};
  let done = false;

  const finish = () => {
    done = true;
    rmSync(tmp, { recursive: true, force: true });
    releaseFromCleanup(tmp);
    releaseLock();
  };

  return {
    path: final,
    write(name, content) {
      if (done) throw new Error('result folder already committed or aborted');
      const rel = safeName(name);
      const p = join(tmp, rel);
      try {
        ensureFolder(dirname(p), flag, shown);
        writeFileSync(p, content);
      } catch (e) {
        throw e instanceof ConfigError ? e : fsError(e, 'write', join(shown, rel), 'free space or choose another --out');
      }
      files[rel] = sha256(content);
    },
    commit() {
      if (done) return;
      try {
        const marker: ResultMarker = { eiResult: 1, createdAt: new Date().toISOString(), files };
        rmSync(join(tmp, PARTIAL_MARKER), { force: true });
        if (target.mode === 'replace') replaceInto(final, tmp, parent, name, target.old!, marker, flag, shown);
        else {
          writeFileSync(join(tmp, RESULT_MARKER), JSON.stringify(marker, null, 2) + '\n');
          renameSync(tmp, final); // atomic; onto an empty folder too
        }
      } catch (e) {
        finish();
        throw e instanceof ConfigError ? e : fsError(e, 'write the result to', shown, 'free space or choose another --out; the run left nothing behind');
      }
      finish();
    },
    abort() {
      if (done) return;
      finish();
    },
  };
}

/**
 * Replaces the files of an earlier ei result in `final` by the new ones: the old marker goes first (so a crash
 * part-way leaves a folder that does not look complete), then ei's old files, then the new files, the new marker last.
 * Files ei did not write stay; a new file whose name is taken by one of them stops the commit before anything moves.
 */
function replaceInto(final: string, tmp: string, parent: string, name: string, old: ResultMarker, marker: ResultMarker, flag: string, shown: string): void {
  checkUnchanged(final, old, flag, shown);
  const present = new Set(listFiles(final));
  for (const f of Object.keys(marker.files)) {
    if (present.has(f) && !(f in old.files)) {
      throw new ConfigError(`${flag} ${shown}: ${f} exists there and was not written by ei, so --overwrite will not replace it`, `move ${join(shown, f)} elsewhere, or choose another ${flag}`);
    }
  }
  const trash = join(parent, `.${name}.old-${process.pid}`);
  rmSync(trash, { recursive: true, force: true });
  mkdirSync(trash);
  claimForCleanup(trash);
  const move = (from: string, to: string) => {
    mkdirSync(dirname(to), { recursive: true });
    renameSync(from, to);
  };
  move(join(final, RESULT_MARKER), join(trash, RESULT_MARKER));
  for (const f of Object.keys(old.files)) if (present.has(f)) move(join(final, f), join(trash, f));
  for (const f of Object.keys(marker.files)) move(join(tmp, f), join(final, f));
  removeEmptyFolders(final, Object.keys(old.files));
  writeFileSync(join(final, RESULT_MARKER), JSON.stringify(marker, null, 2) + '\n');
  rmSync(trash, { recursive: true, force: true });
  releaseFromCleanup(trash);
}

/** Removes sub-folders that held only ei's old files and are empty now. */
function removeEmptyFolders(root: string, rels: string[]): void {
  const dirs = new Set<string>();
  for (const r of rels) for (let d = dirname(r); d !== '.' && d !== ''; d = dirname(d)) dirs.add(d);
  for (const d of [...dirs].sort((a, b) => b.length - a.length)) {
    try {
      rmdirSync(join(root, d));
    } catch {
      // not empty (the user's files or new ones): keep
    }
  }
}
