#!/usr/bin/env node
// The `ei` command. It runs the CLI in a child process and stays idle itself, so that it can act at once on SIGINT,
// SIGTERM or SIGHUP, or on the death of whatever started it (npx, a shell, a scheduler): it stops the run, removes
// the partial output the run had claimed, and exits with 128 + the signal number. No ei process outlives its command.
import { fork } from 'node:child_process';
import { rmSync } from 'node:fs';
import { constants } from 'node:os';

const claimed = new Set();
const child = fork(new URL('./ei-child.js', import.meta.url), process.argv.slice(2), {
  stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
  env: { ...process.env, EI_SUPERVISED: '1' },
});
child.on('message', (m) => {
  if (m && m.ei === 'claim') claimed.add(m.path);
  else if (m && m.ei === 'release') claimed.delete(m.path);
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

// 'close', not 'exit': by then every message the child wrote before it died has been read, so no claim is missed.
child.on('close', (code, signal) => {
  clearInterval(watch);
  for (const p of claimed) rmSync(p, { recursive: true, force: true });
  const s = stopping ?? signal;
  if (s) {
    if (stopping) process.stderr.write(`ei: stopped by ${stopping}; partial output removed\n`);
    process.exit(128 + (constants.signals[s] ?? 9));
  }
  process.exit(code ?? 1);
});
