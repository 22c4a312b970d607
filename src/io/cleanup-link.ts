// Tells the `ei` supervisor process (bin/ei.js) which partial outputs this process owns, so that a signal, which
// kills this process at once, still leaves nothing behind: the supervisor removes what is claimed when we die.

const supervised = () => process.env.EI_SUPERVISED === '1' && typeof process.send === 'function' && process.connected;

function send(kind: 'claim' | 'release', path: string): void {
  if (!supervised()) return;
  try {
    process.send!({ ei: kind, path });
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
