// `npm run bench:binary`: binary E-I network neuron-updates and synaptic reads per second for N x k x batch, WebGPU vs the
// CPU reference vs the wasm kernels (for each thread count); writes bench/results/<adapter>-binary-<date>.json and
// refreshes SUMMARY.md.
import { availableParallelism } from 'node:os';
import '../src/gpu/node-provider.ts'; // Node's WebGPU (Dawn)
import '../src/wasm/node-threads.ts'; // worker_threads for the wasm backend's threads
import type { ArgSpec } from '../src/cli/args.ts';
import { CpuBinarySimulation, type BinaryParams } from '../src/models/binary/network.ts';
import { WasmBinarySimulation } from '../src/models/binary/wasm-simulation.ts';
import { WebGpuBinarySimulation } from '../src/models/binary/webgpu-simulation.ts';
import { backendsOf, createBenchGpuContext, parseBenchFlags, saveResult } from './lib/common.ts';
import { parsePositiveList } from './lib/records.ts';
import { makeEnvironmentRecord } from './lib/harness.ts';
import { writeSummary } from './summarize.ts';

const spec = {
  command: 'npm run bench:binary --',
  description: 'Times the binary network (lambda = 1 boundary, alpha = 0.2) for every N x k x batch on each backend (wasm: for each --threads); a probe step sets the steps to fit --max-seconds.',
  flags: {
    sizes: { type: 'string', default: '1000,10000,100000', help: 'N values' },
    degrees: { type: 'string', default: '10,100', help: 'k values' },
    batches: { type: 'string', default: '1,10', help: 'batch sizes' },
    steps: { type: 'integer', min: 1, default: 100, help: 'steps per timed run (lowered to fit the budget)' },
    'max-seconds': { type: 'number', min: 1, default: 20, help: 'budget per case' },
    backend: { type: 'string', choices: ['all', 'gpu', 'cpu', 'wasm', 'both'], default: 'all', help: 'backends to time: all (webgpu, cpu, wasm), one of them, or both (webgpu and cpu)' },
    threads: { type: 'string', valueName: 't,t,...', help: 'worker threads of the wasm cases (default: 1 and the cores of this machine)' },
    adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'WebGPU adapter' },
    out: { type: 'string', valueName: 'FILE', help: 'result JSON path (default bench/results/<adapter>-binary-<date>.json)' },
  },
} as const satisfies ArgSpec;

async function main(argv: string[]): Promise<number> {
  const f = parseBenchFlags(argv, spec);
  if (!f) return 0;
  const backends = f.backend === 'all' ? ['webgpu', 'cpu', 'wasm'] : f.backend === 'wasm' ? ['wasm'] : backendsOf(f.backend);
  const ctx = backends.includes('webgpu') ? await createBenchGpuContext('gpu', f.adapter) : null;
  const cases: Record<string, unknown>[] = [];
  try {
    const [sizes, degrees, batches] = [parsePositiveList('sizes', f.sizes, []), parsePositiveList('degrees', f.degrees, []), parsePositiveList('batches', f.batches, [])];
    const threadCounts = [...new Set(parsePositiveList('threads', f.threads, [1, availableParallelism()]))];
    // One run per backend, and per thread count on wasm.
    const runs = backends.flatMap((backend): { backend: string; threads?: number }[] => (backend === 'wasm' ? threadCounts.map((threads) => ({ backend, threads })) : [{ backend }]));
    for (const N of sizes) for (const k of degrees) for (const batch of batches) for (const { backend, threads } of runs) {
      if (k >= N) continue;
      const W = 1 / (1 - 2 * 0.2);
      const params: BinaryParams[] = Array.from({ length: batch }, () => ({ N, k, alpha: 0.2, WE: W, WI: W, p0: 1e-3 }));
      const simSpec = { params, seed: 1, burnin: 0 };
      const base = { backend, ...(threads ? { threads } : {}), N, k, batch };
      const label = `${backend}${threads ? ` x${threads}` : ''}`.padEnd(9);
      let sim: CpuBinarySimulation | WasmBinarySimulation | WebGpuBinarySimulation | null = null;
      try {
        sim = backend === 'webgpu' ? await WebGpuBinarySimulation.create(ctx!, simSpec) : backend === 'wasm' ? await WasmBinarySimulation.create({ ...simSpec, threads }) : new CpuBinarySimulation(simSpec);
        let t = performance.now();
        await sim.run(1);
        const probe = (performance.now() - t) / 1000;
        const steps = Math.min(f.steps, Math.floor(f['max-seconds'] / Math.max(probe, 1e-6)));
        if (steps < 2) {
          cases.push({ ...base, status: 'skipped', reason: `over --max-seconds: probe ${probe.toFixed(2)} s/step` });
          console.log(`${label} N=${N} k=${k} batch=${batch}: skipped (probe ${probe.toFixed(2)} s/step)`);
          continue;
        }
        t = performance.now();
        await sim.run(steps);
        const wall = (performance.now() - t) / 1000;
        const updates = (N * batch * steps) / wall;
        cases.push({ ...base, status: 'ok', steps, wallSeconds: wall, neuronStepsPerSecond: updates, synapticReadsPerSecond: updates * k });
        console.log(`${label} N=${N} k=${k} batch=${batch}: ${(updates / 1e6).toFixed(3)} M updates/s, ${((updates * k) / 1e6).toFixed(1)} M synaptic reads/s (${steps} steps)`);
      } catch (e) {
        cases.push({ ...base, status: 'skipped', reason: (e as Error).message.split('\n')[0] });
      } finally {
        sim?.dispose();
      }
    }
    saveResult({ schema: 'ei-engine/bench-binary', schemaVersion: 1, environment: makeEnvironmentRecord(ctx), flags: f, cases }, 'binary', writeSummary, f.out);
    return 0;
  } finally {
    ctx?.dispose();
  }
}

main(process.argv.slice(2)).then((code) => process.exit(code), (e) => { console.error(e); process.exit(1); });
