// The process that runs the `ei` CLI under bin/ei.js. In a checkout (src/ present) it loads the TypeScript sources
// through tsx, so no build step is needed and edits take effect at once; in an installed package, which ships only
// the build, it runs dist/ (`npm run build`).
import { existsSync } from 'node:fs';

// If the supervisor dies (it only does when killed hard), stop too rather than run on unsupervised.
const orphaned = () => process.exit(129);
process.on('disconnect', orphaned);
// A reader that stops early (`ei models | head`) is not an error: stop writing and exit quietly.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
const sources = new URL('../src/cli/main.ts', import.meta.url);
let main;
if (existsSync(sources)) {
  const { register } = await import('tsx/esm/api');
  register();
  ({ main } = await import(sources.href));
} else {
  ({ main } = await import('../dist/cli/main.js'));
}
process.exitCode = await main(process.argv.slice(2));
// Close the IPC channel so the process can end.
process.off('disconnect', orphaned);
if (process.connected) process.disconnect();
