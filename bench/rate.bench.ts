// `npm run bench:rate`: a Wilson-Cowan phase diagram of --instances circuits integrated in one batch, WebGPU vs the CPU
// reference, in circuit-steps per second; writes bench/results/<adapter>-rate-<date>.json and refreshes SUMMARY.md.
import '../src/gpu/node-provider.ts'; // Node's WebGPU (Dawn)
import type { ArgSpec } from '../src/cli/args.ts';
import { makeWilsonCowan, type Circuit } from '../src/models/rate/circuit.ts';
import { integrateRateBatchCpu } from '../src/models/rate/integrate-cpu.ts';
import { integrateRateBatchGpu } from '../src/models/rate/webgpu-integrator.ts';
import { createBenchGpuContext, parseBenchFlags, saveResult } from './lib/common.ts';
import { makeEnvironmentRecord } from './lib/harness.ts';
import { writeSummary } from './summarize.ts';

const spec = {
  command: 'npm run bench:rate --',
  description: 'Times a Wilson-Cowan phase diagram (w_EE x w_EI w_IE grid, one circuit per point) integrated with RK4 in one batch.',
  flags: {
    instances: { type: 'integer', min: 1, default: 100_000, help: 'circuits in the batch (a square grid)' },
    steps: { type: 'integer', min: 1, default: 1000, help: 'RK4 steps (dt = 0.01 tau)' },
    'cpu-instances': { type: 'integer', min: 1, help: 'circuits for the CPU reference (default: same; rate is per circuit-step)' },
    backend: { type: 'string', choices: ['gpu', 'cpu', 'both'], default: 'both', help: 'backends to time' },
    adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'WebGPU adapter' },
  },
} as const satisfies ArgSpec;

function makeGrid(count: number): Circuit[] {
  const g = Math.ceil(Math.sqrt(count));
  return Array.from({ length: count }, (_, k) => {
    const wEE = (3 * (k % g)) / Math.max(1, g - 1);
    const prod = (6 * Math.floor(k / g)) / Math.max(1, g - 1);
    return makeWilsonCowan({ wEE, wEI: Math.sqrt(prod), wIE: Math.sqrt(prod), wII: 0.5, uE: 1, uI: 0, activation: { kind: 'clip', xmax: 50 } });
  });
}

async function main(argv: string[]): Promise<number> {
  const f = parseBenchFlags(argv, spec);
  if (!f) return 0;
  const ctx = await createBenchGpuContext(f.backend, f.adapter);
  const cases: Record<string, unknown>[] = [];
  try {
    const run = async (backend: 'cpu' | 'webgpu', instances: number) => {
      const batch = { circuits: makeGrid(instances), x0: null, dt: 0.01, steps: f.steps, method: 'rk4' as const };
      // Warm-up (pipeline compile, JIT) on a short run.
      if (backend === 'webgpu') await integrateRateBatchGpu(ctx!, { ...batch, steps: 2 });
      else integrateRateBatchCpu({ ...batch, circuits: batch.circuits.slice(0, 100), steps: 2 });
      const t0 = performance.now();
      const r = backend === 'webgpu' ? await integrateRateBatchGpu(ctx!, batch) : integrateRateBatchCpu(batch);
      const wall = (performance.now() - t0) / 1000;
      const c = { backend, instances, steps: f.steps, method: 'rk4', n: 2, wallSeconds: wall, circuitStepsPerSecond: (instances * f.steps) / wall, finite: r.final.every(Number.isFinite) };
      console.log(`${backend.padEnd(6)} ${instances} circuits x ${f.steps} RK4 steps: ${wall.toFixed(2)} s, ${(c.circuitStepsPerSecond / 1e6).toFixed(2)} M circuit-steps/s`);
      cases.push(c);
    };
    if (ctx) await run('webgpu', f.instances);
    if (f.backend !== 'gpu') await run('cpu', f['cpu-instances'] ?? f.instances);
    saveResult({ schema: 'ei-engine/bench-rate', schemaVersion: 1, environment: makeEnvironmentRecord(ctx), flags: f, cases }, 'rate', writeSummary);
    return 0;
  } finally {
    ctx?.dispose();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
