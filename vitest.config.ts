// Test tiers: unit (*.test.ts), gpu (*.gpu.test.ts, Dawn on the best adapter: SwiftShader in CI), browser (*.browser.test.ts).
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Dawn as Node's WebGPU for tests that call createGpuContext from the sources (the Node entry installs it the same way).
    setupFiles: ['test/setup/node-gpu.ts'],
    // Dawn is a native addon: separate processes keep each file's GPU instance isolated.
    pool: 'forks',
    // The GC-stress test calls global.gc() to prove Dawn instances are never collected under a live device.
    execArgv: ['--expose-gc'],
    // SwiftShader on 2 CI cores is slow; GPU and browser tests get room.
    testTimeout: 120_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    reporters: ['default'],
  },
});
