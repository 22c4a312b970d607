#!/usr/bin/env node
// The `ei` command: loads the TypeScript sources through tsx so the repo runs without a build step.
import { register } from 'tsx/esm/api';

register();
const { main } = await import('../src/cli/main.ts');
process.exitCode = await main(process.argv.slice(2));
