// `npm run build` step 1: removes what an earlier build put in dist/ (so a deleted source leaves no stale module in
// the package), keeping dist/demo (`npm run build:demo`).
import { readdirSync, rmSync } from 'node:fs';

let entries = [];
try {
  entries = readdirSync('dist');
} catch {
  // No dist/ yet.
}
for (const name of entries) if (name !== 'demo') rmSync(`dist/${name}`, { recursive: true, force: true });
