#!/usr/bin/env node
// The `ei` command. It runs the CLI in a child process and stays idle itself, so that it can act at once on SIGINT,
// SIGTERM or SIGHUP, or on the death of whatever started it (npx, a shell, a scheduler): it stops the run, removes
// the partial output the run had claimed, and exits with 128 + the signal number. No ei process outlives its command.
import { fork, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { constants, hostname } from 'node:os';
import { dirname, join, resolve } from 'node:path';

const claimed = new Set();
/** Process groups the child started detached (Chrome for `ei bench --browser`): killed if the child dies first. */
const groups = new Set();
const child = fork(new URL('./ei-child.js', import.meta.url), process.argv.slice(2), {
  stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  env: { ...process.env, EI_SUPERVISED: '1' },
});
child.on('message', (m) => {
  if (m && m.ei === 'claim') claimed.add(m.path);
  else if (m && m.ei === 'release') claimed.delete(m.path);
  else if (m && m.ei === 'claim-group') groups.add(m.pid);
  else if (m && m.ei === 'release-group') groups.delete(m.pid);
});

let stopping = null;
function stop(signal) {
  if (stopping) return;
  stopping = signal;
  // SIGKILL: the child may be deep in a synchronous loop where no JS handler would run; what it claimed we remove below.
  child.kill('SIGKILL');
}
for (const s of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(s, () => stop(s));

// A parent that dies without passing the signal on (npx does this with SIGTERM) re-parents us: treat it as a hang-up.
const parent = process.ppid;
const watch = setInterval(() => {
  if (process.ppid !== parent) stop('SIGHUP');
}, 200);

/**
 * After a kill, also what the dead child left by its own pid in the folders it could write to (the --out argument's
 * and the claimed paths'), in case a claim had not reached us yet: its partial folders (with ei's marker), its lock
 * files (naming its pid on this host) and their private link files. Nothing without those marks is touched.
 */
function removeOwnLeftovers(pid) {
  const argv = process.argv.slice(2);
  const outs = argv.flatMap((a, i) => (a === '--out' && argv[i + 1] ? [argv[i + 1]] : a.startsWith('--out=') ? [a.slice(6)] : []));
  const folders = new Set([...outs.map((o) => dirname(resolve(o))), ...[...claimed].map((p) => dirname(p))]);
  for (const folder of folders) {
    let names = [];
    try {
      names = readdirSync(folder);
    } catch {
      continue;
    }
    for (const name of names) {
      const p = join(folder, name);
      try {
        if (name.startsWith('.') && name.endsWith(`.partial-${pid}`) && existsSync(join(p, '.ei-partial.json'))) rmSync(p, { recursive: true, force: true });
        else if (name.startsWith('.') && name.endsWith(`.ei-lock.${pid}.tmp`)) rmSync(p, { force: true });
        else if (name.startsWith('.') && name.endsWith('.ei-lock')) {
          const owner = JSON.parse(readFileSync(p, 'utf8'));
          if (owner && owner.pid === pid && owner.host === hostname()) rmSync(p, { force: true });
        }
      } catch {
        // not ours, or gone already
      }
    }
  }
}

function sleepMs(ms) {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * SIGKILLs the processes whose command line names `path` (a claimed folder: Chrome's helpers name its profile there,
 * and one may have left the process group, as a crash handler does) until none is left or a second has passed, so
 * that nothing of the run outlives this command. pgrep takes a regular expression: the path's specials are escaped.
 */
function killNaming(path) {
  const pattern = path.replace(/[\\^$.*+?()[\]{}|]/g, '\\$&');
  for (let i = 0; i < 40; i++) {
    const r = spawnSync('pgrep', ['-f', '--', pattern], { encoding: 'utf8' });
    if (r.error) return; // no pgrep here
    const pids = r.stdout.split(/\s+/).filter(Boolean).map(Number).filter((p) => p !== process.pid);
    if (pids.length === 0) return;
    for (const p of pids) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    sleepMs(25);
  }
}

/** SIGKILLs a process group and waits (at most a second) until it is gone. */
function killGroup(pid) {
  for (let i = 0; i < 40; i++) {
    try {
      process.kill(-pid, i === 0 ? 'SIGKILL' : 0);
    } catch {
      return; // gone
    }
    sleepMs(25);
  }
}

// 'close', not 'exit': by then every message the child wrote before it died has been read, so no claim is missed.
child.on('close', (code, signal) => {
  clearInterval(watch);
  for (const pid of groups) killGroup(pid);
  if (stopping || signal) for (const p of claimed) killNaming(p);
  for (const p of claimed) rmSync(p, { recursive: true, force: true });
  if (stopping || signal) removeOwnLeftovers(child.pid);
  const s = stopping ?? signal;
  if (s) {
    if (stopping) process.stderr.write(`ei: stopped by ${stopping}; partial output removed\n`);
    process.exit(128 + (constants.signals[s] ?? 9));
  }
  process.exit(code ?? 1);
});
