// `npm run bench:binary`: binary E-I network neuron-updates and synaptic reads per second for N x k x batch, WebGPU vs the
// CPU reference; writes bench/results/<adapter>-binary-<date>.json and refreshes SUMMARY.md.
import '../src/gpu/node-provider.ts'; // Node's WebGPU (Dawn)
import type { ArgSpec } from '../src/cli/args.ts';
import { CpuBinarySimulation, type BinaryParams } from '../src/models/binary/network.ts';
import { WebGpuBinarySimulation } from '../src/models/binary/webgpu-simulation.ts';
import { backendsOf, createBenchGpuContext, parseBenchFlags, parsePositiveList, saveResult } from './lib/common.ts';
import { makeEnvironmentRecord } from './lib/harness.ts';
import { writeSummary } from './summarize.ts';

const spec = {
  command: 'npm run bench:binary --',
  description: 'Times the binary network (lambda = 1 boundary, alpha = 0.2) for every N x k x batch on each backend; a probe step sets the steps to fit --max-seconds.',
  flags: {
    sizes: { type: 'string', default: '1000,10000,100000', help: 'N values' },
    degrees: { type: 'string', default: '10,100', help: 'k values' },
    batches: { type: 'string', default: '1,10', help: 'batch sizes' },
    steps: { type: 'integer', min: 1, default: 100, help: 'steps per timed run (lowered to fit the budget)' },
    'max-seconds': { type: 'number', min: 1, default: 20, help: 'budget per case' },
    backend: { type: 'string', choices: ['gpu', 'cpu', 'both'], default: 'both', help: 'backends to time' },
    adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'WebGPU adapter' },
  },
} as const satisfies ArgSpec;

async function main(argv: string[]): Promise<number> {
  const f = parseBenchFlags(argv, spec);
  if (!f) return 0;
  const ctx = await createBenchGpuContext(f.backend, f.adapter);
  const cases: Record<string, unknown>[] = [];
  try {
    const backends = backendsOf(f.backend);
    const [sizes, degrees, batches] = [parsePositiveList('sizes', f.sizes, []), parsePositiveList('degrees', f.degrees, []), parsePositiveList('batches', f.batches, [])];
    for (const N of sizes) for (const k of degrees) for (const batch of batches) for (const backend of backends) {
      if (k >= N) continue;
      const W = 1 / (1 - 2 * 0.2);
      const params: BinaryParams[] = Array.from({ length: batch }, () => ({ N, k, alpha: 0.2, WE: W, WI: W, p0: 1e-3 }));
      const simSpec = { params, seed: 1, burnin: 0 };
      const base = { backend, N, k, batch };
      let sim: CpuBinarySimulation | WebGpuBinarySimulation | null = null;
      try {
        sim = backend === 'webgpu' ? await WebGpuBinarySimulation.create(ctx!, simSpec) : new CpuBinarySimulation(simSpec);
        let t = performance.now();
        await sim.run(1);
        const probe = (performance.now() - t) / 1000;
        const steps = Math.min(f.steps, Math.floor(f['max-seconds'] / Math.max(probe, 1e-6)));
        if (steps < 2) {
          cases.push({ ...base, status: 'skipped', reason: `over --max-seconds: probe ${probe.toFixed(2)} s/step` });
          console.log(`${backend.padEnd(6)} N=${N} k=${k} batch=${batch}: skipped (probe ${probe.toFixed(2)} s/step)`);
          continue;
        }
        t = performance.now();
        await sim.run(steps);
        const wall = (performance.now() - t) / 1000;
        const updates = (N * batch * steps) / wall;
        cases.push({ ...base, status: 'ok', steps, wallSeconds: wall, neuronStepsPerSecond: updates, synapticReadsPerSecond: updates * k });
        console.log(`${backend.padEnd(6)} N=${N} k=${k} batch=${batch}: ${(updates / 1e6).toFixed(3)} M updates/s, ${((updates * k) / 1e6).toFixed(1)} M synaptic reads/s (${steps} steps)`);
      } catch (e) {
        cases.push({ ...base, status: 'skipped', reason: (e as Error).message.split('\n')[0] });
      } finally {
        sim?.dispose();
      }
    }
    saveResult({ schema: 'ei-engine/bench-binary', schemaVersion: 1, environment: makeEnvironmentRecord(ctx), flags: f, cases }, 'binary', writeSummary);
    return 0;
  } finally {
    ctx?.dispose();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
