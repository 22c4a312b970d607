// `npm run bench`: times a model (poisson or hybrid) end to end on WebGPU and the CPU reference and writes a result JSON to bench/results/.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../src/gpu/node-provider.ts'; // Node's WebGPU (Dawn)
import { makeHelpText, parseArgs, type ArgSpec } from '../src/cli/args.ts';
import { createGpuContext, type GpuContext } from '../src/gpu/context.ts';
import { EiError } from '../src/errors.ts';
import { adapterSlug, makeResultPath, parsePositiveList } from './lib/common.ts';
import { runBenchmark, validateBenchResult, type BackendName, type BenchPlan, type BenchResult, type CaseResult } from './lib/harness.ts';
import { writeSummary } from './summarize.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(benchDir, 'results');

const spec = {
  command: 'npm run bench --',
  description:
    'Benchmarks a model (--model poisson|hybrid; for hybrid N is neurons per population and rates count both populations): batch-1 scaling over --sizes and a batched small network (N = --batch-n x --batches), ' +
    'WebGPU vs the CPU reference, plus a WebGPU per-chunk overhead case. Writes bench/results/<adapter>-<date>.json and regenerates SUMMARY.md.',
  flags: {
    model: { type: 'string', choices: ['poisson', 'hybrid'], default: 'poisson', help: 'which model to time' },
    quick: { type: 'boolean', help: 'sizes up to 1e5, batches up to 100, few steps and repeats (< 2 min on SwiftShader)' },
    'max-seconds': { type: 'number', min: 0, help: 'budget per case for the timed runs; a probe estimates it and lowers steps or skips the case (default 60, quick 10)' },
    backend: { type: 'string', choices: ['gpu', 'cpu', 'both'], default: 'both', help: 'which backends to time' },
    sizes: { type: 'string', valueName: 'n,n,...', help: 'batch-1 network sizes (default 1e4,1e5,1e6,1e7; quick 1e4,1e5)' },
    batches: { type: 'string', valueName: 'b,b,...', help: "batch sizes of the small-network case (default 1,10,100,1000; quick 1,10,100; 'none' skips)" },
    'batch-n': { type: 'integer', min: 1, default: 1000, help: 'neurons per instance in the batched case' },
    'chunk-sizes': { type: 'string', valueName: 'c,c,...', help: "chunkSteps for the WebGPU per-chunk overhead case (default 1,10,100,1000; quick 1,100; 'none' skips)" },
    'chunk-n': { type: 'integer', min: 1, default: 10_000, help: 'neurons (batch 1) in the per-chunk overhead case' },
    steps: { type: 'integer', min: 1, help: 'steps per timed run before the budget lowers it (default 200, quick 50)' },
    repeats: { type: 'integer', min: 1, help: 'timed runs per case after the warm-up (default 3, quick 2)' },
    'kernel-time': { type: 'boolean', default: true, help: 'also time compute passes with timestamp queries (one extra run per WebGPU case); --no-kernel-time to skip' },
    adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'WebGPU adapter (auto: hardware if present, else SwiftShader)' },
    seed: { type: 'integer', min: 0, default: 1, help: 'RNG seed' },
    out: { type: 'string', valueName: 'FILE', help: 'result JSON path (default bench/results/<adapter>-<date>.json)' },
    summary: { type: 'boolean', default: true, help: 'regenerate bench/results/SUMMARY.md afterwards (--no-summary to skip)' },
  },
} as const satisfies ArgSpec;

/** bench/results/<vendor>-<architecture>[-<model>]-<YYYY-MM-DD>.json, with -2, -3 ... for later runs on the same day. */
function makeDefaultOutPath(result: BenchResult): string {
  const base = adapterSlug(result.environment);
  return makeResultPath(resultsDir, result.model.id === 'poisson' ? base : `${base}-${result.model.id}`, result.environment);
}

function fmt(x: number | undefined, digits = 3): string {
  return x === undefined || !Number.isFinite(x) ? '-' : x.toPrecision(digits);
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
  const a = parseArgs(argv, spec);
  if (a.help) {
    console.log(makeHelpText(spec));
    return 0;
  }
  const f = a.flags;
  const quick = f.quick;
  const backends: BackendName[] = f.backend === 'gpu' ? ['webgpu'] : f.backend === 'cpu' ? ['cpu'] : ['webgpu', 'cpu'];
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
    const i = ctx.info;
    console.error(`bench: adapter ${i.vendor}/${i.architecture}${i.description ? ` (${i.description})` : ''}${i.isSoftware ? ' — SOFTWARE: numbers measure plumbing, not GPU speed' : ''}`);
  }
  try {
    const flags = { ...f, maxSeconds, steps, repeats, plan };
    console.error(`bench: ${plan.sizes.length} sizes, ${plan.batches.length} batches, ${plan.chunkSizes.length} chunk sizes on ${backends.join(' + ')}; ${repeats} x ${steps} steps per case, budget ${maxSeconds} s per case`);
    const result = await runBenchmark(plan, ctx, { model: f.model as 'poisson', steps, repeats, maxSeconds, seed: f.seed, kernelTime: f['kernel-time'], log: (l) => console.error(l) }, flags);
    const problems = validateBenchResult(result);
    if (problems.length) throw new Error(`bench produced a malformed result:\n  ${problems.join('\n  ')}`);
    const out = f.out ? resolve(f.out) : makeDefaultOutPath(result);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    for (const c of result.cases) printCase(c);
    for (const s of result.speedups) console.log(`speedup ${s.group} n=${s.n} batch=${s.batch}: webgpu / cpu = ${fmt(s.gpuOverCpu)}`);
    console.error(`bench: wrote ${out}`);
    if (f.summary && dirname(out) === resultsDir) console.error(`bench: wrote ${writeSummary(resultsDir)}`);
    return 0;
  } finally {
    ctx?.dispose();
  }
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    if (e instanceof EiError) console.error(`bench: ${e.message}`);
    else console.error(e);
    process.exit(1);
  },
);
