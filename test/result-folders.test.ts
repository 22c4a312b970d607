// Result folders cannot destroy anything: ei writes only into folders it creates (or empty ones), replaces its own
// results only with --overwrite and only the files it wrote, locks a folder while writing, and cleans dead writers' leftovers.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync, chmodSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ei } from './helpers/cli.ts';
import { RESULT_MARKER, createResultDir } from '../src/io/result-dir.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-out-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const quick = ['run', 'poisson', '--n', '50', '--steps', '50', '--set', 'burnin=0', '--backend', 'cpu', '--quiet'];
const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

/** The pid of a process that has exited (for leftovers of a dead writer). */
function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

describe('--out never destroys a file ei did not write', () => {
  it('refuses a user folder that holds a config.json, and everything in it survives', async () => {
    const work = join(dir, 'work');
    mkdirSync(join(work, 'src'), { recursive: true });
    writeFileSync(join(work, 'config.json'), '{}');
    writeFileSync(join(work, 'src', 'main.c'), 'code');
    const r = await ei(...quick, '--out', work);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/did not create/);
    expect(r.err).toMatch(/fix: choose a new or empty folder/);
    expect(readFileSync(join(work, 'src', 'main.c'), 'utf8')).toBe('code');
    expect(readFileSync(join(work, 'config.json'), 'utf8')).toBe('{}');
    expect(readdirSync(dir).filter((f) => f.startsWith('.work'))).toEqual([]);
  });

  it('refuses a result of an older ei version (no marker), naming it', async () => {
    const old = join(dir, 'old-result');
    mkdirSync(old);
    writeFileSync(join(old, 'config.json'), '{"engineVersion":"0.0.9"}');
    writeFileSync(join(old, 'summary.json'), '{}');
    const r = await ei(...quick, '--out', old);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/older ei version/);
    expect(readFileSync(join(old, 'config.json'), 'utf8')).toContain('0.0.9');
  });

  it('writes into an empty folder, and marks the result with the digests of its files', async () => {
    const empty = join(dir, 'empty');
    mkdirSync(empty);
    const r = await ei(...quick, '--out', empty);
    expect(r.code).toBe(0);
    expect(r.err).toContain(`ei: report: ${join(empty, 'report.html')}`);
    const marker = json(join(empty, RESULT_MARKER));
    expect(Object.keys(marker.files)).toContain('summary.json');
    expect(marker.files['summary.json']).toMatch(/^[0-9a-f]{64}$/);
  });

  it('replaces an earlier ei result only with --overwrite, and keeps the files the user added', async () => {
    const out = join(dir, 'res');
    expect((await ei(...quick, '--seed', '1', '--out', out)).code).toBe(0);
    const first = readFileSync(join(out, 'summary.json'), 'utf8');
    const again = await ei(...quick, '--seed', '2', '--out', out);
    expect(again.code).toBe(2);
    expect(again.err).toMatch(/already holds an ei result/);
    expect(again.err).toMatch(/--overwrite/);
    expect(again.err).toMatch(/another --out/);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe(first);

    writeFileSync(join(out, 'notes.txt'), 'mine');
    const over = await ei(...quick, '--seed', '2', '--overwrite', '--out', out);
    expect(over.code, over.err).toBe(0);
    expect(readFileSync(join(out, 'notes.txt'), 'utf8')).toBe('mine');
    expect(json(join(out, 'config.json')).seed).toBe(2);
    expect(json(join(out, RESULT_MARKER)).files).not.toHaveProperty('notes.txt');
  });

  it('--overwrite refuses when a file ei wrote was edited since, and changes nothing', async () => {
    const out = join(dir, 'edited');
    expect((await ei(...quick, '--out', out)).code).toBe(0);
    writeFileSync(join(out, 'summary.json'), '{"my":"edits"}');
    const r = await ei(...quick, '--overwrite', '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/summary\.json was changed after ei wrote it/);
    expect(readFileSync(join(out, 'summary.json'), 'utf8')).toBe('{"my":"edits"}');
  });

  it('--overwrite refuses a new file whose name the user took in the folder', () => {
    const out = join(dir, 'taken');
    const a = createResultDir(out);
    a.write('a.txt', 'ei');
    a.commit();
    writeFileSync(join(out, 'b.txt'), 'user');
    const b = createResultDir(out, { overwrite: true });
    b.write('a.txt', 'ei 2');
    b.write('b.txt', 'ei 2');
    expect(() => b.commit()).toThrow(/b\.txt exists there and was not written by ei/);
    expect(readFileSync(join(out, 'b.txt'), 'utf8')).toBe('user');
    expect(readFileSync(join(out, 'a.txt'), 'utf8')).toBe('ei');
    expect(existsSync(join(out, RESULT_MARKER))).toBe(true);
  });

  it('names the path and the cause of file-system errors, with exit code 2', async () => {
    writeFileSync(join(dir, 'afile.txt'), 'x');
    const cases: [string, RegExp][] = [
      [join(dir, 'afile.txt'), /is a file, not a folder/],
      [join(dir, 'afile.txt', 'x'), /afile\.txt is a file, not a folder/],
      ['', /--out is empty/],
      ['/', /root of the file system/],
      ['/dev/null/x', /\/dev\/null is a file/],
    ];
    for (const [out, msg] of cases) {
      const r = await ei(...quick, '--out', out);
      expect(r.code, out).toBe(2);
      expect(r.err, out).toMatch(msg);
      expect(r.err, out).not.toMatch(/internal error|at .*\.ts:\d+/);
    }
    // A read-only parent (root ignores permissions, so only check where they apply).
    const ro = join(dir, 'ro');
    mkdirSync(ro);
    chmodSync(ro, 0o500);
    const r = await ei(...quick, '--out', join(ro, 'x'));
    if (process.getuid?.() !== 0) {
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/permission denied \(EACCES\)/);
    } else expect(r.code).toBe(0);
    chmodSync(ro, 0o700);
  });
});

describe('one writer per folder, and no leftovers of dead writers', () => {
  it('a second writer to the same folder fails at once while the first runs', async () => {
    const out = join(dir, 'locked');
    const first = spawn(process.execPath, ['bin/ei.js', 'run', 'poisson', '--n', '100000', '--steps', '100000', '--backend', 'cpu', '--quiet', '--out', out], { stdio: 'ignore' });
    try {
      const lock = join(dir, '.locked.ei-lock');
      for (let i = 0; i < 200 && !existsSync(lock); i++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(lock)).toBe(true);
      const t0 = performance.now();
      const second = await ei(...quick, '--out', out);
      expect(second.code).toBe(2);
      expect(second.err).toMatch(/is being written by ei process \d+/);
      expect(performance.now() - t0).toBeLessThan(5000);
    } finally {
      first.kill('SIGTERM');
      await new Promise((r) => first.once('exit', r));
    }
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir).filter((f) => f.startsWith('.locked'))).toEqual([]);
  });

  it('removes partial folders and locks of dead processes, and nothing that lacks ei\'s markers', async () => {
    const pid = deadPid();
    const owner = JSON.stringify({ pid, host: hostname(), startedAt: 'then' });
    const stale = join(dir, `.gone.partial-${pid}`);
    mkdirSync(stale);
    writeFileSync(join(stale, '.ei-partial.json'), owner);
    writeFileSync(join(dir, '.gone.ei-lock'), owner);
    // The private file a lock is linked from, left by a writer killed between writing it and linking it.
    writeFileSync(join(dir, `.half.ei-lock.${pid}.tmp`), owner);
    const foreign = join(dir, '.mine.partial-1');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'keep.txt'), 'user');
    const alive = join(dir, `.busy.partial-${process.pid}0`);
    mkdirSync(alive);
    writeFileSync(join(alive, '.ei-partial.json'), JSON.stringify({ pid: process.pid, host: hostname(), startedAt: 'now' }));
    writeFileSync(join(dir, '.elsewhere.ei-lock'), JSON.stringify({ pid, host: 'another-host', startedAt: 'then' }));

    expect((await ei(...quick, '--out', join(dir, 'next'))).code).toBe(0);
    expect(existsSync(stale)).toBe(false);
    expect(existsSync(join(dir, '.gone.ei-lock'))).toBe(false);
    expect(existsSync(join(dir, `.half.ei-lock.${pid}.tmp`))).toBe(false);
    expect(readFileSync(join(foreign, 'keep.txt'), 'utf8')).toBe('user');
    expect(existsSync(alive)).toBe(true); // a live writer (this process) is never cleaned
    expect(existsSync(join(dir, '.elsewhere.ei-lock'))).toBe(true); // another host's writer cannot be checked
    rmSync(alive, { recursive: true });
  });

  it('a stale lock of a dead writer does not block the next run', async () => {
    const pid = deadPid();
    writeFileSync(join(dir, '.relock.ei-lock'), JSON.stringify({ pid, host: hostname(), startedAt: 'then' }));
    expect((await ei(...quick, '--out', join(dir, 'relock'))).code).toBe(0);
  });
});
