// `npm run bench`: times a model (poisson or hybrid) end to end on WebGPU and the CPU reference and writes a result JSON to bench/results/.
import { resolve } from 'node:path';
import '../src/gpu/node-provider.ts'; // Node's WebGPU (Dawn)
import type { ArgSpec } from '../src/cli/args.ts';
import { createGpuContext, type GpuContext } from '../src/gpu/context.ts';
import { backendFlag, backendsOf, logAdapter, makeResultPath, parseBenchFlags, reportResult, resultFlags, resultsDir, runBenchMain, writeCheckedResult } from './lib/common.ts';
import { adapterSlug, formatPrecision as fmt, parsePositiveList } from './lib/records.ts';
import { runBenchmark, validateBenchResult, type BackendName, type BenchPlan, type BenchResult, type CaseResult } from './lib/harness.ts';
import { writeSummary } from './summarize.ts';

const spec = {
  command: 'npm run bench --',
  description:
    'Benchmarks a model (--model poisson|hybrid; for hybrid N is neurons per population and rates count both populations): batch-1 scaling over --sizes and a batched small network (N = --batch-n x --batches), ' +
    'WebGPU vs the CPU reference, plus a WebGPU per-chunk overhead case. Writes bench/results/<adapter>-<date>.json and regenerates SUMMARY.md.',
  flags: {
    model: { type: 'string', choices: ['poisson', 'hybrid'], default: 'poisson', help: 'which model to time' },
    quick: { type: 'boolean', help: 'sizes up to 1e5, batches up to 100, few steps and repeats (< 2 min on SwiftShader)' },
    'max-seconds': { type: 'number', min: 0, help: 'budget per case for the timed runs; a probe estimates it and lowers steps or skips the case (default 60, quick 10)' },
    backend: backendFlag,
    sizes: { type: 'string', valueName: 'n,n,...', help: 'batch-1 network sizes (default 1e4,1e5,1e6,1e7; quick 1e4,1e5)' },
    batches: { type: 'string', valueName: 'b,b,...', help: "batch sizes of the small-network case (default 1,10,100,1000; quick 1,10,100; 'none' skips)" },
    'batch-n': { type: 'integer', min: 1, default: 1000, help: 'neurons per instance in the batched case' },
    'chunk-sizes': { type: 'string', valueName: 'c,c,...', help: "chunkSteps for the WebGPU per-chunk overhead case (default 1,10,100,1000; quick 1,100; 'none' skips)" },
    'chunk-n': { type: 'integer', min: 1, default: 10_000, help: 'neurons (batch 1) in the per-chunk overhead case' },
    steps: { type: 'integer', min: 1, help: 'steps per timed run before the budget lowers it (default 200, quick 50)' },
    repeats: { type: 'integer', min: 1, help: 'timed runs per case after the warm-up (default 3, quick 2)' },
    'kernel-time': { type: 'boolean', default: true, help: 'also time compute passes with timestamp queries (one extra run per WebGPU case); --no-kernel-time to skip' },
    ...resultFlags('<adapter>-<date>.json'),
  },
} as const satisfies ArgSpec;

/** bench/results/<vendor>-<architecture>[-<model>]-<YYYY-MM-DD>.json, with -2, -3 ... for later runs on the same day. */
function makeDefaultOutPath(result: BenchResult): string {
  const base = adapterSlug(result.environment);
  return makeResultPath(resultsDir, result.model.id === 'poisson' ? base : `${base}-${result.model.id}`, result.environment);
}

function printCase(c: CaseResult): void {
  const label = `${c.backend.padEnd(6)} ${c.group.padEnd(8)} n=${String(c.n).padEnd(8)} batch=${String(c.batch).padEnd(5)}${c.chunkSteps ? ` chunk=${c.chunkSteps}` : ''}`;
  if (c.status !== 'ok') {
    console.log(`${label}  ${c.status}: ${c.reason}`);
    return;
  }
  const kt = c.kernelTime?.seconds ? `  kernel ${fmt(c.kernelTime.seconds)} s` : '';
  console.log(`${label}  ${fmt(c.neuronStepsPerSecond)} neuron-steps/s  ${fmt(c.effectiveBytesPerSecond)} B/s  median ${fmt(c.wall!.median)} s (${c.steps} steps, ${c.chunking!.chunksPerRun} chunks)${kt}`);
}

async function main(argv: string[]): Promise<number> {
  const f = parseBenchFlags(argv, spec);
  if (!f) return 0;
  const quick = f.quick;
  const backends: BackendName[] = backendsOf(f.backend);
  const plan: BenchPlan = {
    backends,
    sizes: parsePositiveList('sizes', f.sizes, quick ? [1e4, 1e5] : [1e4, 1e5, 1e6, 1e7]),
    batches: parsePositiveList('batches', f.batches, quick ? [1, 10, 100] : [1, 10, 100, 1000]),
    batchN: f['batch-n'],
    chunkSizes: parsePositiveList('chunk-sizes', f['chunk-sizes'], quick ? [1, 100] : [1, 10, 100, 1000]),
    chunkN: f['chunk-n'],
  };
  const maxSeconds = f['max-seconds'] ?? (quick ? 10 : 60);
  const steps = f.steps ?? (quick ? 50 : 200);
  const repeats = f.repeats ?? (quick ? 2 : 3);

  let ctx: GpuContext | null = null;
  if (backends.includes('webgpu')) {
    // The bench asked for WebGPU: no adapter is an error, not a silent CPU-only run.
    ctx = await createGpuContext({ adapter: f.adapter as 'auto', notify: (m) => console.error(m) });
    logAdapter(ctx);
  }
  try {
    const flags = { ...f, maxSeconds, steps, repeats, plan };
    console.error(`bench: ${plan.sizes.length} sizes, ${plan.batches.length} batches, ${plan.chunkSizes.length} chunk sizes on ${backends.join(' + ')}; ${repeats} x ${steps} steps per case, budget ${maxSeconds} s per case`);
    const result = await runBenchmark(plan, ctx, { model: f.model as 'poisson', steps, repeats, maxSeconds, seed: f.seed, kernelTime: f['kernel-time'], log: (l) => console.error(l) }, flags);
    const out = writeCheckedResult(result, validateBenchResult(result), (r) => (f.out ? resolve(f.out) : makeDefaultOutPath(r)));
    for (const c of result.cases) printCase(c);
    for (const s of result.speedups) console.log(`speedup ${s.group} n=${s.n} batch=${s.batch}: webgpu / cpu = ${fmt(s.gpuOverCpu)}`);
    reportResult(out, f.summary, writeSummary);
    return 0;
  } finally {
    ctx?.dispose();
  }
}

runBenchMain(main);
