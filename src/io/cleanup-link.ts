// Tells the `ei` supervisor process (bin/ei.js) which partial outputs this process owns, so that a signal, which
// kills this process at once, still leaves nothing behind: the supervisor removes what is claimed when we die.

const supervised = () => process.env.EI_SUPERVISED === '1' && typeof process.send === 'function' && process.connected;

function send(kind: 'claim' | 'release' | 'claim-group' | 'release-group', path: string | number): void {
  if (!supervised()) return;
  try {
    process.send!(typeof path === 'number' ? { ei: kind, pid: path } : { ei: kind, path });
  } catch {
    // the supervisor is gone; the next run removes stale leftovers of dead processes
  }
}

/** `path` (a partial folder or lock file) is to be removed if this process dies before releasing it. */
export function claimForCleanup(path: string): void {
  send('claim', path);
}

/** `path` was committed or removed by this process itself. */
export function releaseFromCleanup(path: string): void {
  send('release', path);
}

/** The process group led by `pid` (a detached browser this process started) is to be killed if this process dies first. */
export function claimProcessGroup(pid: number): void {
  send('claim-group', pid);
}

/** The group led by `pid` was stopped by this process itself. */
export function releaseProcessGroup(pid: number): void {
  send('release-group', pid);
}
