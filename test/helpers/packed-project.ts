// The packed package installed in a scratch project outside the repository, shared by the package tests of one
// vitest run (test/package.test.ts and test/package.browser.test.ts run in separate processes, maybe at once): the
// first to ask runs `npm pack` (which builds dist/ through `prepare`) and `npm install <tarball>`; the others wait for
// it. The project lives in os.tmpdir() under the vitest process's pid; the last user removes it, and a later run
// removes those of dead runs.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

export interface PackedProject {
  /** The scratch project: package.json, node_modules/ei-engine and its dependencies, examples/ copied from the repo. */
  dir: string;
  tarball: string;
  /** `npm pack --json`'s file list (paths inside the package). */
  files: string[];
  /** Seconds spent packing (build included) and installing, by whoever did it. */
  seconds: { pack: number; install: number };
}

export interface RunOutput {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * This process's environment without what `npm test` sets for its scripts (npm_config_local_prefix and the like would
 * point a child npm at the repository) and without vitest's NODE_OPTIONS: a user's shell in the scratch project.
 */
export function userEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k) && k !== 'NODE_OPTIONS' && !k.startsWith('VITEST')));
  return { ...env, npm_config_update_notifier: 'false', npm_config_fund: 'false', npm_config_audit: 'false', ...extra };
}

/** Runs a command (no shell) and collects its output; rejects only when it cannot start or overruns `timeoutMs`. */
export function run(cmd: string, args: readonly string[], o: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<RunOutput> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { cwd: o.cwd, env: o.env ?? userEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${cmd} ${args.join(' ')} did not finish within ${o.timeoutMs / 1000} s\n${stdout}\n${stderr}`));
    }, o.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}

/** Like run, but a non-zero exit is an error carrying the output. */
export async function runOk(cmd: string, args: readonly string[], o: { cwd: string; timeoutMs: number; env?: NodeJS.ProcessEnv }): Promise<RunOutput> {
  const r = await run(cmd, args, o);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')} exited with ${r.code}\n--- stdout\n${r.stdout}\n--- stderr\n${r.stderr}`);
  return r;
}

const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
const prefix = 'ei-package-';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** A cross-process lock: a directory holding its owner's pid (broken when that process is dead). */
async function withLock<T>(path: string, fn: () => T): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      mkdirSync(path);
      writeFileSync(join(path, 'pid'), String(process.pid));
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      let owner = NaN;
      try {
        owner = Number(readFileSync(join(path, 'pid'), 'utf8'));
      } catch {
        // Being created or removed right now.
      }
      if ((Number.isInteger(owner) && !alive(owner)) || i > 600) rmSync(path, { recursive: true, force: true });
      await sleep(50);
    }
  }
  try {
    return fn();
  } finally {
    rmSync(path, { recursive: true, force: true });
  }
}

/** The scratch folders of earlier vitest runs that are no longer running. */
function removeStale(): void {
  for (const name of readdirSync(tmpdir())) {
    const m = new RegExp(`^${prefix}(\\d+)(\\.lock)?$`).exec(name);
    if (m && Number(m[1]) !== process.ppid && !alive(Number(m[1]))) rmSync(join(tmpdir(), name), { recursive: true, force: true });
  }
}

/** Folders never copied into the staging checkout: installed or built, not part of the sources. */
const notStaged = new Set(['node_modules', '.git', 'dist', 'docs/api', 'results', 'test-output']);

/**
 * Copies the checkout as a clone would have it (tracked files and new ones git does not ignore, read while other
 * tests may be writing their own files), or, outside a git checkout, everything but the folders above.
 */
function stageCheckout(stage: string): void {
  const git = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: repoRoot, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });
  if (git.status !== 0 || git.error) {
    cpSync(repoRoot, stage, { recursive: true, filter: (src) => !notStaged.has(relative(repoRoot, src).split(sep).join('/')) });
    return;
  }
  mkdirSync(stage, { recursive: true });
  for (const f of git.stdout.split('\0')) {
    if (!f || notStaged.has(f.split('/')[0])) continue;
    const to = join(stage, f);
    mkdirSync(dirname(to), { recursive: true });
    try {
      copyFileSync(join(repoRoot, f), to);
    } catch (e) {
      // Deleted in the working tree but still in the index.
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }
}

async function build(base: string): Promise<PackedProject> {
  const stage = join(base, 'stage');
  const packDir = join(base, 'pack');
  const dir = join(base, 'project');
  for (const d of [packDir, dir]) mkdirSync(d, { recursive: true });
  const t0 = performance.now();
  // `npm pack` runs in a copy of the checkout (its node_modules linked), so that its build (`prepare`) neither reads
  // a stale dist/ nor replaces the checkout's own while something else uses it. Tests, bench results and the demo
  // are copied too: the package's `files` must leave them out.
  stageCheckout(stage);
  symlinkSync(join(repoRoot, 'node_modules'), join(stage, 'node_modules'), 'dir');
  // `prepare` builds dist/ first; npm prints the build's output on stderr and the JSON on stdout.
  const packed = await runOk(npm, ['pack', '--json', '--pack-destination', packDir], { cwd: stage, timeoutMs: 240_000 });
  const info = JSON.parse(packed.stdout.slice(packed.stdout.indexOf('['))) as { filename: string; files: { path: string }[] }[];
  const tarball = join(packDir, info[0].filename);
  const t1 = performance.now();
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'ei-scratch', version: '0.0.0', private: true, type: 'module' }, null, 2));
  // The dependencies come from npm's cache when the repository's `npm ci` filled it, else from the registry.
  await runOk(npm, ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], { cwd: dir, timeoutMs: 240_000 });
  cpSync(join(repoRoot, 'examples'), join(dir, 'examples'), { recursive: true });
  const t2 = performance.now();
  return { dir, tarball, files: info[0].files.map((f) => f.path), seconds: { pack: (t1 - t0) / 1000, install: (t2 - t1) / 1000 } };
}

/**
 * The packed project, made by this process or by another test file of the same run; call release() when done.
 * A failure of whoever builds it is reported to every waiter.
 */
export async function usePackedProject(): Promise<{ project: PackedProject; release: () => Promise<void> }> {
  const base = join(tmpdir(), `${prefix}${process.ppid}`);
  const lock = `${base}.lock`;
  const me = join(base, 'users', String(process.pid));
  const builder = await withLock(lock, () => {
    removeStale();
    const first = !existsSync(join(base, 'users'));
    mkdirSync(join(base, 'users'), { recursive: true });
    writeFileSync(me, '');
    if (first) writeFileSync(join(base, 'builder'), String(process.pid));
    return first;
  });
  const release = () =>
    withLock(lock, () => {
      rmSync(me, { force: true });
      const users = existsSync(join(base, 'users')) ? readdirSync(join(base, 'users')).filter((p) => alive(Number(p))) : [];
      if (users.length === 0) rmSync(base, { recursive: true, force: true });
    });
  const ready = join(base, 'ready.json');
  const failed = join(base, 'failed.txt');
  try {
    if (builder) {
      try {
        const project = await build(base);
        writeFileSync(ready, JSON.stringify(project));
        return { project, release };
      } catch (e) {
        writeFileSync(failed, e instanceof Error ? (e.stack ?? e.message) : String(e));
        throw e;
      }
    }
    for (const t0 = Date.now(); Date.now() - t0 < 400_000; await sleep(250)) {
      if (existsSync(ready)) return { project: JSON.parse(readFileSync(ready, 'utf8')) as PackedProject, release };
      if (existsSync(failed)) throw new Error(`packing or installing the package failed (in another test file):\n${readFileSync(failed, 'utf8')}`);
      const pid = Number(readFileSync(join(base, 'builder'), 'utf8'));
      if (!alive(pid) && !existsSync(ready)) throw new Error(`the process that packed the package (pid ${pid}) died before it was ready`);
    }
    throw new Error(`the packed project in ${base} was not ready within 400 s`);
  } catch (e) {
    await release();
    throw e;
  }
}
