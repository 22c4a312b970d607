// `npm run bench:models`: times every registered model's bench cases (scaling and batched) on WebGPU and the CPU
// reference through the model contract, and writes bench/results/models-<adapter>-<date>.json. It names no model:
// the models and their cases come from the registry (src/models/index.ts) and each definition's `bench` member.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../src/gpu/node-provider.ts'; // Node's WebGPU (Dawn)
import { makeHelpText, parseArgs, type ArgSpec } from '../src/cli/args.ts';
import type { AnyModel, Backend } from '../src/core/contract.ts';
import { selectBackend } from '../src/engine/backend.ts';
import { getModelDefinition } from '../src/engine/models.ts';
import { EiError } from '../src/errors.ts';
import type { GpuContext } from '../src/gpu/context.ts';
import { modelList } from '../src/models/index.ts';
import { adapterSlug, makeResultPath, parsePositiveList } from './lib/common.ts';
import { runModelsBenchmark, validateModelsBenchResult, type ModelCaseResult } from './lib/models-harness.ts';
import { writeSummary } from './summarize.ts';

const benchDir = dirname(fileURLToPath(import.meta.url));
const resultsDir = join(benchDir, 'results');

const spec = {
  command: 'npm run bench:models --',
  description:
    "Benchmarks every registered model that has a bench member (or --models a,b): its scaling cases over the bench member's sizes and its batched case over --batches, " +
    'on WebGPU and the CPU reference, through the model contract (resolve, estimate, createRunner, run). Writes bench/results/models-<adapter>-<date>.json and regenerates SUMMARY.md.',
  flags: {
    models: { type: 'string', valueName: 'id,id,...', help: 'models to time (default: every registered model with a bench member; `ei models` lists them)' },
    quick: { type: 'boolean', help: "each model's quick sizes, batches 1,10,100, 2 repeats, 5 s per case" },
    'max-seconds': { type: 'number', min: 0, help: "budget per case for the timed runs; the model's estimate and a probe lower the steps or skip the case (default 60, quick 5)" },
    backend: { type: 'string', choices: ['gpu', 'cpu', 'both'], default: 'both', help: 'which backends to time' },
    batches: { type: 'string', valueName: 'b,b,...', help: "batches of the batched case (default 1,10,100,1000; quick 1,10,100; 'none' skips)" },
    steps: { type: 'integer', min: 1, help: "steps per timed run before the budget lowers them (default: each case's own length)" },
    repeats: { type: 'integer', min: 1, help: 'timed runs per case, each on a fresh runner (default 3, quick 2)' },
    adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'WebGPU adapter (auto: hardware if present, else SwiftShader)' },
    seed: { type: 'integer', min: 0, default: 1, help: 'RNG seed' },
    out: { type: 'string', valueName: 'FILE', help: 'result JSON path (default bench/results/models-<adapter>-<date>.json)' },
    summary: { type: 'boolean', default: true, help: 'regenerate bench/results/SUMMARY.md afterwards (--no-summary to skip)' },
  },
} as const satisfies ArgSpec;

function fmt(x: number | undefined, digits = 3): string {
  return x === undefined || !Number.isFinite(x) ? '-' : x.toPrecision(digits);
}

function printCase(c: ModelCaseResult): void {
  const label = `${c.model.padEnd(10)} ${c.backend.padEnd(6)} ${c.group.padEnd(8)} size=${String(c.size).padEnd(8)}`;
  if (c.status !== 'ok') {
    console.log(`${label}  ${c.status}: ${c.reason}`);
    return;
  }
  console.log(`${label}  ${fmt(c.neuronStepsPerSecond)} neuron-steps/s  (${c.neuronsPerStep} neurons/step, ${c.steps} steps x ${c.repeats}, median ${fmt(c.wall!.median)} s, setup ${fmt(c.setup!.median)} s)`);
}

/** The models of --models (checked against the registry), else every registered model with a bench member. */
function pickModels(text: string | undefined): AnyModel[] {
  if (text === undefined) return modelList.filter((m) => m.bench);
  return text.split(',').map((s) => s.trim()).filter(Boolean).map((id) => getModelDefinition(id));
}

async function main(argv: string[]): Promise<number> {
  const a = parseArgs(argv, spec);
  if (a.help) {
    console.log(makeHelpText(spec));
    return 0;
  }
  const f = a.flags;
  const quick = f.quick;
  const models = pickModels(f.models);
  for (const m of models.filter((x) => !x.bench)) console.error(`bench: ${m.id} has no bench member; left out`);
  const backends: Backend[] = f.backend === 'gpu' ? ['webgpu'] : f.backend === 'cpu' ? ['cpu'] : ['webgpu', 'cpu'];
  const batches = parsePositiveList('batches', f.batches, quick ? [1, 10, 100] : [1, 10, 100, 1000]);
  const maxSeconds = f['max-seconds'] ?? (quick ? 5 : 60);
  const repeats = f.repeats ?? (quick ? 2 : 3);

  let ctx: GpuContext | null = null;
  if (backends.includes('webgpu')) {
    // The bench asked for WebGPU: no adapter is an error, not a silent CPU-only run.
    ctx = (await selectBackend('webgpu', f.adapter as 'auto', (m) => console.error(m))).ctx;
    const i = ctx!.info;
    console.error(`bench: adapter ${i.vendor}/${i.architecture}${i.description ? ` (${i.description})` : ''}${i.isSoftware ? ' — SOFTWARE: numbers measure plumbing, not GPU speed' : ''}`);
  }
  try {
    const flags = { ...f, maxSeconds, steps: f.steps, repeats, batches, backends, models: models.map((m) => m.id) };
    console.error(`bench: ${models.filter((m) => m.bench).map((m) => m.id).join(', ')} on ${backends.join(' + ')}; ${repeats} repeats, budget ${maxSeconds} s per case`);
    const result = await runModelsBenchmark(
      { models, backends, ctx, sizes: (b) => (quick ? b.sizes.quick : b.sizes.full), batches, steps: f.steps, repeats, maxSeconds, seed: f.seed, log: (l) => console.error(l) },
      flags,
    );
    const problems = validateModelsBenchResult(result);
    if (problems.length) throw new Error(`bench produced a malformed result:\n  ${problems.join('\n  ')}`);
    const out = f.out ? resolve(f.out) : makeResultPath(resultsDir, `models-${adapterSlug(result.environment)}`, result.environment);
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify(result, null, 2) + '\n');
    for (const c of result.cases) printCase(c);
    for (const s of result.speedups) console.log(`speedup ${s.model} ${s.group} size=${s.size}: webgpu / cpu = ${fmt(s.gpuOverCpu)}`);
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
