// Signals stop a run at once: SIGINT, SIGTERM and SIGHUP end `ei` with 128 + the signal number and remove its partial
// output, also when ei was started through npx (which dies on SIGTERM without passing it on); no process outlives it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { constants, tmpdir } from 'node:os';
import { join } from 'node:path';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-sig-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

// Long enough (minutes on the CPU reference) that only a signal ends it.
const longRun = (out: string) => ['run', 'poisson', '--n', '100000', '--steps', '1000000', '--backend', 'cpu', '--quiet', '--out', out];

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) throw new Error('timed out waiting');
    await sleep(50);
  }
}

const exited = (p: ChildProcess) => new Promise<{ code: number | null; signal: string | null }>((r) => p.once('exit', (code, signal) => r({ code, signal })));

/** Pids of live processes whose command line mentions `needle` (Linux /proc). */
function processesMentioning(needle: string): number[] {
  const pids: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
    try {
      if (readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(needle)) pids.push(Number(d));
    } catch {
      // gone meanwhile
    }
  }
  return pids;
}

const leftovers = (name: string) => readdirSync(dir).filter((f) => f === name || f.startsWith(`.${name}.`));

describe('signals', () => {
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    it(`${sig} stops a run started directly, exit 128 + ${constants.signals[sig]}, nothing left`, async () => {
      const name = `direct-${sig}`;
      const p = spawn(process.execPath, ['bin/ei.js', ...longRun(join(dir, name))], { stdio: ['ignore', 'ignore', 'pipe'] });
      let err = '';
      p.stderr!.on('data', (d) => (err += d));
      const done = exited(p);
      await waitFor(() => leftovers(name).some((f) => f.includes('.partial-')));
      p.kill(sig);
      const { code } = await done;
      expect(code).toBe(128 + constants.signals[sig]);
      expect(err).toMatch(new RegExp(`stopped by ${sig}`));
      expect(leftovers(name)).toEqual([]);
      expect(processesMentioning(join(dir, name))).toEqual([]);
    });
  }

  it('SIGTERM to npx stops the simulation too: no process and no result folder remain', async () => {
    const name = 'through-npx';
    const out = join(dir, name);
    const npx = spawn('npx', ['ei', ...longRun(out)], { stdio: 'ignore' });
    const done = exited(npx);
    await waitFor(() => leftovers(name).some((f) => f.includes('.partial-')), 60_000);
    npx.kill('SIGTERM');
    await done;
    // The supervisor notices within its 200 ms poll that its parent is gone.
    await waitFor(() => processesMentioning(out).length === 0, 10_000);
    expect(processesMentioning(out)).toEqual([]);
    await waitFor(() => leftovers(name).length === 0, 5_000);
    expect(existsSync(out)).toBe(false);
  });

  it('a child killed outright (e.g. by the OOM killer) still leaves no partial folder', async () => {
    const name = 'child-killed';
    const p = spawn(process.execPath, ['bin/ei.js', ...longRun(join(dir, name))], { stdio: 'ignore' });
    const done = exited(p);
    await waitFor(() => leftovers(name).some((f) => f.includes('.partial-')));
    const child = processesMentioning(join(dir, name)).find((pid) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('ei-child.js'));
    expect(child).toBeGreaterThan(0);
    process.kill(child!, 'SIGKILL');
    const { code } = await done;
    expect(code).toBe(128 + constants.signals.SIGKILL);
    expect(leftovers(name)).toEqual([]);
  });
});
