// A killed sweep resumes where it stopped: every finished batch's rows are on disk whole (renamed into place), a
// rerun with the same --out runs only the missing points and its sweep.csv equals an uninterrupted run's byte for byte;
// a rerun of a complete shard has nothing to do; the rows of a different sweep are refused, never mixed in.
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sweepRowsDirOf } from '../src/io/sweep-rows.ts';
import { ei } from './helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ei-sweep-resume-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Six points, one per batch, each ~0.3-1 s on the CPU reference: long enough to kill the run between batches.
const sweep = ['sweep', 'poisson', '--grid', 'rIn=1000:3500:6', '--n', '1500', '--steps', '600', '--set', 'burnin=0', '--backend', 'cpu', '--max-batch', '1', '--quiet'];
const rowFiles = (out: string) => (existsSync(sweepRowsDirOf(out)) ? readdirSync(sweepRowsDirOf(out)).filter((f) => /^rows-\d+\.csv$/.test(f)) : []);

function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Starts `ei` in its own process group and SIGKILLs the group once `ready()` holds (or the run ends). */
async function killWhen(args: string[], ready: () => boolean): Promise<'killed' | 'finished'> {
  const child = spawn(process.execPath, [join(import.meta.dirname, '..', 'bin', 'ei.js'), ...args], { detached: true, stdio: 'ignore' });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (;;) {
    const done = await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 20))]);
    if (done) return 'finished';
    if (ready()) {
      process.kill(-child.pid!, 'SIGKILL');
      await exited;
      // The killed worker is reaped a moment after the launcher: until then its result-folder lock looks held.
      for (let t = 0; t < 250 && groupAlive(child.pid!); t++) await new Promise((r) => setTimeout(r, 20));
      return 'killed';
    }
  }
}

describe('ei sweep resumes a killed run', () => {
  it('keeps whole batches, reruns only the missing points, and ends byte-identical to an uninterrupted sweep', async () => {
    const whole = join(dir, 'whole');
    expect((await ei(...sweep, '--out', whole)).code).toBe(0);
    // Nothing is left beside a finished sweep.
    expect(existsSync(sweepRowsDirOf(whole))).toBe(false);

    const out = join(dir, 'killed');
    expect(await killWhen([...sweep, '--out', out], () => rowFiles(out).length >= 2)).toBe('killed');
    // No result folder that looks complete, and at least two whole batches kept.
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
    const kept = rowFiles(out).length;
    expect(kept).toBeGreaterThanOrEqual(2);
    expect(kept).toBeLessThan(6);

    const r = await ei(...sweep, '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(new RegExp(`resuming: ${kept} of 6 rows are already finished`));
    expect(readFileSync(join(out, 'sweep.csv'), 'utf8')).toBe(readFileSync(join(whole, 'sweep.csv'), 'utf8'));
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(summary.resumedRows).toBe(kept);
    expect(existsSync(sweepRowsDirOf(out))).toBe(false);

    // A rerun of the complete sweep has nothing to do and leaves its files as they were.
    const before = statSync(join(out, 'sweep.csv')).mtimeMs;
    const again = await ei(...sweep, '--out', out);
    expect(again.code).toBe(0);
    expect(again.err).toMatch(/already holds the complete rows of this sweep; nothing to run/);
    expect(statSync(join(out, 'sweep.csv')).mtimeMs).toBe(before);
  });

  it('refuses to resume the rows of a different sweep, naming their folder, and keeps them', async () => {
    const out = join(dir, 'other');
    expect(await killWhen([...sweep, '--out', out], () => rowFiles(out).length >= 1)).toBe('killed');
    const other = sweep.map((a) => (a === 'rIn=1000:3500:6' ? 'rIn=1000:3500:5' : a));
    const r = await ei(...other, '--out', out);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/holds the finished rows of a different sweep or shard/);
    expect(r.err).toContain(sweepRowsDirOf(out));
    expect(rowFiles(out).length).toBeGreaterThanOrEqual(1);
    expect(existsSync(join(out, 'summary.json'))).toBe(false);
  });
});
