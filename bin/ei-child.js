// The process that runs the `ei` CLI under bin/ei.js: loads the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

// If the supervisor dies (it only does when killed hard), stop too rather than run on unsupervised.
const orphaned = () => process.exit(129);
process.on('disconnect', orphaned);
register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
// Close the IPC channel so the process can end.
process.off('disconnect', orphaned);
if (process.connected) process.disconnect();
