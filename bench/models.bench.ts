// `npm run bench:models`: times every registered model's bench cases (scaling and batched) on WebGPU and the CPU
// reference through the model contract, and writes bench/results/models-<adapter>-<date>.json. It names no model:
// the models and their cases come from the registry (src/models/index.ts) and each definition's `bench` member.
import { resolve } from 'node:path';
import '../src/gpu/node-provider.ts'; // Node's WebGPU (Dawn)
import '../src/wasm/node-threads.ts'; // worker_threads for the wasm backend's --threads
import type { ArgSpec } from '../src/cli/args.ts';
import type { AnyModel, Backend } from '../src/core/contract.ts';
import { selectBackend } from '../src/engine/backend.ts';
import { getModelDefinition } from '../src/engine/models.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { modelList } from '../src/models/index.ts';
import { availableParallelism } from 'node:os';
import { backendsOf, logAdapter, makeEnvironmentRecord, makeResultPath, parseBenchFlags, reportResult, resultFlags, resultsDir, runBenchMain, writeCheckedResult } from './lib/common.ts';
import { adapterSlug, formatPrecision as fmt, parsePositiveList } from './lib/records.ts';
import { formatModelCaseLine, runModelsBenchmark, validateModelsBenchResult } from './lib/models-harness.ts';
import { writeSummary } from './summarize.ts';

const spec = {
  command: 'npm run bench:models --',
  description:
    "Benchmarks every registered model that has a bench member (or --models a,b): its scaling cases over the bench member's sizes and its batched case over --batches, " +
    'on WebGPU, the CPU reference and wasm (models with wasm kernels), through the model contract (resolve, estimate, createRunner, run). Writes bench/results/models-<adapter>-<date>.json and regenerates SUMMARY.md.',
  flags: {
    models: { type: 'string', valueName: 'id,id,...', help: 'models to time (default: every registered model with a bench member; `ei models` lists them)' },
    quick: { type: 'boolean', help: "each model's quick sizes, batches 1,10,100, 2 repeats, 5 s per case" },
    'max-seconds': { type: 'number', min: 0, help: "budget per case for the timed runs; the model's estimate and a probe lower the steps or skip the case (default 60, quick 5)" },
    backend: { type: 'string', choices: ['all', 'gpu', 'cpu', 'wasm', 'both'], default: 'all', help: 'which backends to time: all (webgpu, cpu, wasm), one of them, or both (webgpu and cpu)' },
    threads: { type: 'integer', min: 1, help: 'worker threads of the wasm backend (default: the cores of this machine)' },
    batches: { type: 'string', valueName: 'b,b,...', help: "batches of the batched case (default 1,10,100,1000; quick 1,10,100; 'none' skips)" },
    steps: { type: 'integer', min: 1, help: "steps per timed run before the budget lowers them (default: each case's own length)" },
    repeats: { type: 'integer', min: 1, help: 'timed runs per case, each on a fresh runner (default 3, quick 2)' },
    'min-timed-seconds': { type: 'number', min: 0, help: 'runs shorter than this add repeats (up to 25) until their walls sum to it (default 0.25)' },
    ...resultFlags('models-<adapter>-<date>.json'),
  },
} as const satisfies ArgSpec;

/** The models of --models (checked against the registry), else every registered model with a bench member. */
function pickModels(text: string | undefined): AnyModel[] {
  if (text === undefined) return modelList.filter((m) => m.bench);
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((id) => getModelDefinition(id));
}

async function main(argv: string[]): Promise<number> {
  const f = parseBenchFlags(argv, spec);
  if (!f) return 0;
  const quick = f.quick;
  const models = pickModels(f.models);
  for (const m of models.filter((x) => !x.bench)) console.error(`bench: ${m.id} has no bench member; left out`);
  const backends: Backend[] = f.backend === 'all' ? ['webgpu', 'cpu', 'wasm'] : f.backend === 'wasm' ? ['wasm'] : backendsOf(f.backend);
  const threads = f.threads ?? availableParallelism();
  const batches = parsePositiveList('batches', f.batches, quick ? [1, 10, 100] : [1, 10, 100, 1000]);
  const maxSeconds = f['max-seconds'] ?? (quick ? 5 : 60);
  const repeats = f.repeats ?? (quick ? 2 : 3);

  let ctx: GpuContext | null = null;
  if (backends.includes('webgpu')) {
    // The bench asked for WebGPU: no adapter is an error, not a silent CPU-only run.
    ctx = (await selectBackend('webgpu', f.adapter as 'auto', (m) => console.error(m))).ctx;
    logAdapter(ctx!);
  }
  try {
    const minTimedSeconds = f['min-timed-seconds'] ?? 0.25;
    const flags = { ...f, maxSeconds, minTimedSeconds, steps: f.steps, repeats, batches, backends, threads, models: models.map((m) => m.id) };
    console.error(`bench: ${models.filter((m) => m.bench).map((m) => m.id).join(', ')} on ${backends.join(' + ')}; ${repeats} repeats, budget ${maxSeconds} s per case`);
    const result = await runModelsBenchmark(
      { models, backends, ctx, threads, sizes: (b) => (quick ? b.sizes.quick : b.sizes.full), batches, steps: f.steps, repeats, minTimedSeconds, maxSeconds, seed: f.seed, log: (l) => console.error(l), environment: makeEnvironmentRecord },
      flags,
    );
    const out = writeCheckedResult(result, validateModelsBenchResult(result), (r) =>
      f.out ? resolve(f.out) : makeResultPath(resultsDir, `models-${adapterSlug(r.environment)}`, r.environment),
    );
    for (const c of result.cases) console.log(formatModelCaseLine(c));
    for (const s of result.speedups) console.log(`speedup ${s.model} ${s.group} size=${s.size}: ${s.backend ?? 'webgpu'} / cpu = ${fmt(s.overCpu ?? s.gpuOverCpu)}`);
    reportResult(out, f.summary, writeSummary);
    return 0;
  } finally {
    ctx?.dispose();
  }
}

runBenchMain(main);
