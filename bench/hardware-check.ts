// The hardware check of the kit (kit-build/hardware-check --budget S --out DIR; or `tsx bench/hardware-check.ts` in a
// checkout): within the budget, in order, `ei info --json`, every model's WebGPU run against the CPU reference, a
// neurons-per-thread sweep, the model benchmarks at growing sizes and batches, and the full-size binary heat map timed
// and extrapolated. Each section runs in a child process killed at its share of the budget (a Dawn abort or a hang
// costs one section, not the run) and rewrites DIR/<section>.json after each case, so a run cut short still returns
// what it measured; DIR/check.json and DIR/SUMMARY.md are rewritten after each section.
import '../src/gpu/node-provider.ts'; // Node's WebGPU (Dawn)
import '../src/wasm/node-threads.ts';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { ArgSpec } from '../src/cli/args.ts';
import type { AnyModel, Backend, RunTarget } from '../src/core/contract.ts';
import { backendKindOf } from '../src/core/limits.ts';
import { createGpuContext, type GpuContext } from '../src/gpu/context.ts';
import { stepWorkgroupSize } from '../src/gpu/neurons-per-thread.ts';
import { modelList } from '../src/models/index.ts';
import { advanceBinary, binaryMaxBatch, binaryStepSeconds, createBinarySimulation } from '../src/models/binary/experiment.ts';
import { makeEnvironmentRecord, parseBenchFlags, runBenchMain, writeResultFile } from './lib/common.ts';
import { checkSections, compareStates, firstDifferingIndex, hardwareCheckSchema, makeCheckpoints, makeCheckSummary, makeSectionSeconds, stateBits, type CheckRecord, type CheckSection, type SectionFiles, type SectionRecord, type TuningCase } from './lib/hardware-check.ts';
import { lengthOptionOf, makeCaseRequest, makeModelsBenchResult, runModelCase, runModelsBenchmark, type ModelCaseResult, type ModelsBenchOptions } from './lib/models-harness.ts';
import { describeError } from './lib/records.ts';

const spec = {
  command: 'hardware-check',
  description: 'Runs the hardware check within --budget seconds and writes DIR/check.json, one JSON per section and DIR/SUMMARY.md.',
  flags: {
    budget: { type: 'number', min: 10, default: 480, help: 'seconds for the whole check; a section that no longer fits is skipped with the reason' },
    out: { type: 'string', valueName: 'DIR', help: 'output folder (created)' },
    adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'WebGPU adapter (auto: hardware if present, else SwiftShader)' },
    section: { type: 'string', choices: [...checkSections], help: 'internal: run one section in this process' },
    seconds: { type: 'number', min: 0, help: 'internal: the seconds of --section' },
  },
} as const satisfies ArgSpec;

const self = fileURLToPath(import.meta.url);
/** Seconds a section's process gets after its share to write its last case before it is killed. */
const graceSeconds = 5;
const seed = 1;

function readJson<T>(path: string): T | undefined {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch {
    return undefined;
  }
}

// --- the sections (each runs in its own process) -------------------------------------------------------------------

interface SectionContext {
  ctx: GpuContext;
  /** Seconds left of this section's share. */
  left: () => number;
  write: (data: Record<string, unknown>) => void;
}

/** The model's smallest quick bench case (at most 2000 neurons), 64 steps long: cheap on the CPU reference. */
function conformanceRequest(def: AnyModel) {
  const bench = def.bench!;
  const size = bench.sizes.quick[0];
  const request = bench.scaling(bench.scaling(size).n === size ? Math.min(size, 2000) : size);
  const lengthBy = lengthOptionOf(def);
  const r0 = def.resolve({ ...request, seed });
  return makeCaseRequest(def, request, lengthBy, 64, r0.dt, seed);
}

async function conformance(s: SectionContext): Promise<void> {
  const cases: Record<string, unknown>[] = [];
  const flush = () => s.write({ cases, note: 'state bits after 1, 2, 4, ... steps; where they part, the exact first differing step and a 5-sigma check of the final states\' means; tablesEqual: the CSV tables too (they hold f32 sums, so a difference there alone is not a failure)' });
  for (const def of modelList.filter((m) => m.bench)) {
    const base = { model: def.id };
    if (!def.webgpu) {
      cases.push({ ...base, status: 'skipped', reason: `${def.id} has no WebGPU runner` });
      continue;
    }
    try {
      const request = conformanceRequest(def);
      const r = def.resolve(request);
      const targets: Record<'cpu' | 'webgpu', RunTarget> = { cpu: { backend: 'cpu' }, webgpu: { backend: 'webgpu', ctx: s.ctx } };
      const estimate = (['cpu', 'webgpu'] as const).reduce((t, b) => t + def.estimate(r, targets[b]).work.seconds[backendKindOf({ backend: b, ctx: targets[b].ctx })], 0);
      // Checkpoint reads and a possible second pass: about three times the plain run.
      if (3 * estimate > s.left()) {
        cases.push({ ...base, status: 'skipped', request, reason: `estimated ${(3 * estimate).toFixed(1)} s, ${s.left().toFixed(1)} s left of the section` });
        flush();
        continue;
      }
      const open = async () => ({ cpu: await def.createRunner(r, targets.cpu), gpu: await def.createRunner(r, targets.webgpu) });
      let runners = await open();
      let lo = 0;
      let hi = -1;
      try {
        for (const c of makeCheckpoints(r.steps)) {
          await runners.cpu.run(c - lo);
          await runners.gpu.run(c - lo);
          if (firstDifferingIndex(stateBits(await runners.cpu.readState()), stateBits(await runners.gpu.readState())) >= 0) {
            hi = c;
            break;
          }
          lo = c;
        }
        let firstDifferingStep: number | null = null;
        if (hi >= 0) {
          // Parted between checkpoints lo and hi: replay to lo, then one step at a time to find the step.
          runners.cpu.dispose();
          runners.gpu.dispose();
          runners = await open();
          if (lo > 0) {
            await runners.cpu.run(lo);
            await runners.gpu.run(lo);
          }
          for (let t = lo + 1; t <= hi; t++) {
            await runners.cpu.run(1);
            await runners.gpu.run(1);
            if (firstDifferingIndex(stateBits(await runners.cpu.readState()), stateBits(await runners.gpu.readState())) >= 0) {
              firstDifferingStep = t;
              break;
            }
          }
          const rest = r.steps - runners.cpu.stepsDone;
          if (rest > 0) {
            await runners.cpu.run(rest);
            await runners.gpu.run(rest);
          }
        }
        const [cs, gs] = [await runners.cpu.readState(), await runners.gpu.readState()];
        const info = { backend: 'cpu' as Backend, wallSeconds: 1 };
        const tables = async (x: typeof runners.cpu) => Object.fromEntries(def.outputs((await x.result()) as never, r as never, info).files.filter((f) => f.name.endsWith('.csv')).map((f) => [f.name, f.content]));
        const [ct, gt] = [await tables(runners.cpu), await tables(runners.gpu)];
        const tablesEqual = JSON.stringify(ct) === JSON.stringify(gt);
        const statistics = hi >= 0 ? compareStates(cs, gs) : null;
        // The state (spikes, binary states, fixed-point totals) is the integer result; the tables also hold f32 sums
        // that the GPU accumulates in another order, so their equality is recorded, not required.
        const verdict = hi < 0 ? 'equal' : statistics!.pass ? 'parted, statistically consistent' : 'parted, statistically INCONSISTENT';
        const pass = hi < 0 || statistics!.pass;
        cases.push({ ...base, status: pass ? 'ok' : 'failed', ...(pass ? {} : { reason: verdict }), request, steps: r.steps, neuronsPerStep: r.neuronsPerStep, stateElements: cs.length, verdict, firstDifferingStep, tablesEqual, statistics, webgpuBitsPromised: def.webgpuBits ?? false });
      } finally {
        runners.cpu.dispose();
        runners.gpu.dispose();
      }
    } catch (e) {
      cases.push({ ...base, status: 'failed', reason: describeError(e) });
    }
    flush();
  }
  flush();
}

/** The models whose step kernels read EI_NEURONS_PER_THREAD (src/gpu/neurons-per-thread.ts, src/models/poisson/webgpu-simulation.ts) and that the tuning times. */
const tunedModels = ['poisson', 'hybrid'];
const neuronsPerThreadValues = [1, 2, 4, 8, 16, 32, 64];

async function tuning(s: SectionContext): Promise<void> {
  const knobs = [
    { name: 'neurons per thread (EI_NEURONS_PER_THREAD)', swept: true, why: `read by the per-neuron step kernels at runner creation; defaults 4 on hardware, 32 on software; values ${neuronsPerThreadValues.join(', ')}` },
    { name: 'workgroup size', swept: false, why: `a WGSL override, but the hosts pass a constant (${stepWorkgroupSize}, src/gpu/neurons-per-thread.ts and src/models/poisson/webgpu-simulation.ts): no run-time knob to sweep` },
  ];
  const cases: (TuningCase & Partial<ModelCaseResult>)[] = [];
  const flush = () => s.write({ knobs, cases });
  const defs = tunedModels.map((id) => modelList.find((m) => m.id === id)).filter((m): m is AnyModel => !!m?.webgpu && !!m.bench);
  const sizes = (def: AnyModel) => (s.ctx.info.isSoftware ? def.bench!.sizes.quick.slice(0, 1) : def.bench!.sizes.full.slice(0, 3));
  const total = defs.reduce((t, d) => t + sizes(d).length * neuronsPerThreadValues.length, 0);
  const before = process.env.EI_NEURONS_PER_THREAD;
  try {
    for (const def of defs) {
      for (const size of sizes(def)) {
        for (const npt of neuronsPerThreadValues) {
          const casesLeft = total - cases.length;
          if (s.left() < 1) {
            cases.push({ model: def.id, size, neuronsPerThread: npt, status: 'skipped', reason: 'the section\'s budget was spent' });
            continue;
          }
          process.env.EI_NEURONS_PER_THREAD = String(npt);
          const opts: ModelsBenchOptions = { models: [def], backends: ['webgpu'], ctx: s.ctx, batches: [], repeats: 2, maxSeconds: s.left() / casesLeft, seed, environment: makeEnvironmentRecord };
          const c = await runModelCase(def, 'scaling', size, 'webgpu', opts);
          delete c.stop;
          cases.push({ ...c, neuronsPerThread: npt });
          flush();
        }
      }
    }
  } finally {
    if (before === undefined) delete process.env.EI_NEURONS_PER_THREAD;
    else process.env.EI_NEURONS_PER_THREAD = before;
  }
  flush();
}

/** Scaling sizes: the bench member's full sizes, and where the size is the neuron count, x10 beyond them until the device refuses or the budget stops them. */
function growingSizes(def: AnyModel): number[] {
  const full = [...def.bench!.sizes.full];
  if (def.bench!.scaling(full[0]).n !== full[0]) return full;
  for (let n = full.at(-1)! * 10; n <= 1e10; n *= 10) full.push(n);
  return full;
}
const growingBatches = [1, 10, 100, 1000, 10_000, 100_000, 1_000_000];

async function bench(s: SectionContext): Promise<void> {
  const models = modelList.filter((m) => m.bench);
  const backends: Backend[] = ['webgpu', 'cpu'];
  const flags = { backends, batches: growingBatches, repeats: 2, sizes: 'full sizes, then x10 while the device allows (neuron-count sizes)', seed };
  const all: ModelCaseResult[] = [];
  const base: ModelsBenchOptions = { models, backends, ctx: s.ctx, threads: 1, sizes: (b) => growingSizes(models.find((m) => m.bench === b)!), batches: growingBatches, repeats: 2, maxSeconds: Infinity, seed, environment: makeEnvironmentRecord };
  const flush = (cases: readonly ModelCaseResult[]) => s.write(makeModelsBenchResult(base, flags, cases) as unknown as Record<string, unknown>);
  for (const [i, def] of models.entries()) {
    // Each model its share of what is left, so the first model's large sizes cannot starve the others.
    const until = performance.now() / 1000 + s.left() / (models.length - i);
    const caseCount = growingSizes(def).length + (def.bench!.batched ? growingBatches.length : 0);
    const result = await runModelsBenchmark(
      { ...base, models: [def], maxSeconds: Math.max(1, s.left() / (models.length - i) / caseCount), secondsLeft: () => Math.min(s.left(), until - performance.now() / 1000), onCase: (cases) => flush([...all, ...cases]) },
      flags,
    );
    all.push(...result.cases);
    flush(all);
  }
}

/** The full-size binary heat map of the reproduction binary-heatmap: 100 x 100 (W_E, W_I) points x 4 replicas, N = 1000, k = 100, 1000 burn-in + 5e4 samples. */
const heatmapSize = { grid: 100, replicas: 4, N: 1000, k: 100, burnin: 1000, samples: 50_000, alpha: 0.2, p0: 1e-3 };
const timedSteps = 3;

async function heatmap(s: SectionContext): Promise<void> {
  const h = heatmapSize;
  const G = h.grid;
  const line = (a: number, b: number) => Array.from({ length: G }, (_, i) => a + ((b - a) * i) / (G - 1));
  const points = line(0.5, 8).flatMap((WI) => line(0.5, 4).map((WE) => ({ WE, WI }))).flatMap((p) => Array.from({ length: h.replicas }, () => p));
  const steps = h.burnin + h.samples;
  const per = Math.min(points.length, binaryMaxBatch(h.N, 'webgpu', s.ctx));
  const kind = s.ctx.info.isSoftware ? 'webgpu-software' : 'webgpu-hardware';
  const perStepEstimate = (b: number) => binaryStepSeconds(h.N, h.k, b)[kind];
  // Time one warm-up step and timedSteps steps of one dispatch group; shrink the group when the estimate does not fit.
  const fits = (b: number) => (timedSteps + 1) * perStepEstimate(b) * 1.5 <= s.left();
  let batch = per;
  while (batch > 1 && !fits(batch)) batch = Math.floor(batch / 2);
  const record = { size: { ...h, instances: points.length, steps }, dispatchGroup: per, groups: Math.ceil(points.length / per) };
  if (!fits(batch)) {
    s.write({ ...record, status: 'skipped', reason: `one instance's ${timedSteps + 1} steps are estimated at ${((timedSteps + 1) * perStepEstimate(1)).toFixed(1)} s, ${s.left().toFixed(1)} s left` });
    return;
  }
  const params = points.slice(0, batch).map((p) => ({ N: h.N, k: h.k, alpha: h.alpha, WE: p.WE, WI: p.WI, p0: h.p0 }));
  const t0 = performance.now();
  const sim = await createBinarySimulation({ params, seed, instanceIds: params.map((_, i) => i), burnin: h.burnin }, { backend: 'webgpu', ctx: s.ctx });
  try {
    const setupSeconds = (performance.now() - t0) / 1000;
    await advanceBinary(sim, 1);
    const t1 = performance.now();
    await advanceBinary(sim, timedSteps);
    const secondsPerStep = (performance.now() - t1) / 1000 / timedSteps;
    const seconds = secondsPerStep * (points.length / batch) * steps;
    const note = batch === per
      ? `${record.groups} dispatch group(s) of ${per} instances run one after another, each ${steps} steps`
      : `from a reduced group of ${batch} instances (the full group of ${per} did not fit the budget), scaled linearly in instances`;
    s.write({ ...record, status: 'ok', measured: { instances: batch, steps: timedSteps, setupSeconds, secondsPerStep, estimateSecondsPerStep: perStepEstimate(batch) }, extrapolated: { steps, seconds, note } });
  } finally {
    sim.dispose();
  }
}

const sectionRunners: Record<Exclude<CheckSection, 'info'>, (s: SectionContext) => Promise<void>> = { conformance, tuning, bench, heatmap };

async function runSection(name: Exclude<CheckSection, 'info'>, seconds: number, out: string, adapter: string): Promise<number> {
  const deadline = performance.now() / 1000 + seconds;
  const ctx = await createGpuContext({ adapter: adapter as 'auto', notify: (m) => console.error(m) });
  const file = join(out, `${name}.json`);
  const environment = makeEnvironmentRecord(ctx);
  try {
    await sectionRunners[name]({
      ctx,
      left: () => Math.max(0, deadline - performance.now() / 1000),
      // Rewritten whole after each case: a process killed between writes leaves the previous complete file.
      write: (data) => writeResultFile(file, { section: name, environment, secondsGiven: seconds, ...data }),
    });
    return 0;
  } finally {
    ctx.dispose();
  }
}

// --- the orchestrator ----------------------------------------------------------------------------------------------

/** Runs a child with a wall-clock limit; resolves with its exit code (null when killed at the limit), stdout and the tail of stderr. */
function runChild(args: string[], seconds: number): Promise<{ code: number | null; killed: boolean; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr = (stderr + d).slice(-4000);
      process.stderr.write(d);
    });
    let killed = false;
    const timer = setTimeout(() => {
      killed = true;
      child.kill('SIGKILL');
    }, Math.max(1, seconds) * 1000);
    child.on('close', (code) => {
      clearTimeout(timer);
      done({ code, killed, stdout, stderr });
    });
  });
}

/** The `ei` CLI next to this file in the kit (lib/ei.mjs), or the checkout's bin/ei.js. */
function eiCommand(): string[] {
  const bundled = join(dirname(self), 'ei.mjs');
  return existsSync(bundled) ? [bundled] : [resolve(dirname(self), '../bin/ei.js')];
}

async function orchestrate(budget: number, out: string, adapter: string): Promise<number> {
  const t0 = performance.now() / 1000;
  mkdirSync(out, { recursive: true });
  const kit = { kit: process.env.EI_KIT_DIR ?? null, vulkanLoader: process.env.EI_KIT_VULKAN_LOADER ?? null, vulkanDriver: process.env.EI_KIT_ICD ?? process.env.VK_ICD_FILENAMES ?? null };
  const check: CheckRecord = { schema: hardwareCheckSchema, budgetSeconds: budget, startedAt: new Date().toISOString(), kit, environment: makeEnvironmentRecord(null), sections: [] };
  const files: SectionFiles = {};
  const save = () => {
    writeResultFile(join(out, 'check.json'), check);
    writeFileSync(join(out, 'SUMMARY.md'), makeCheckSummary(check, files));
  };
  save();
  for (const name of checkSections) {
    const remaining = budget - (performance.now() / 1000 - t0);
    const given = makeSectionSeconds(name, remaining - graceSeconds);
    const rec: SectionRecord = { name, status: 'ok', secondsGiven: given, secondsUsed: 0, file: `${name}.json` };
    if (given < 1) {
      check.sections.push({ ...rec, status: 'skipped', reason: `the budget was spent (${remaining.toFixed(1)} s left)`, file: null });
      save();
      continue;
    }
    console.error(`hardware-check: ${name} (${given.toFixed(0)} s of ${remaining.toFixed(0)} s left)`);
    const s0 = performance.now() / 1000;
    const args = name === 'info' ? [...eiCommand(), 'info', '--json', '--adapter', adapter] : [self, '--section', name, '--seconds', String(given), '--out', out, '--adapter', adapter];
    const r = await runChild(args, given + graceSeconds);
    rec.secondsUsed = performance.now() / 1000 - s0;
    if (name === 'info' && r.code === 0) {
      try {
        const info = JSON.parse(r.stdout) as SectionFiles['info'] & { adapter: (NonNullable<CheckRecord['environment']['adapter']> & { notice?: string }) | null };
        writeResultFile(join(out, 'info.json'), { section: 'info', command: 'ei info --json', ...info });
        files.info = info;
        if (info.adapter) {
          const a = info.adapter;
          check.environment.adapter = { vendor: a.vendor, architecture: a.architecture, device: a.device, description: a.description, isSoftware: a.isSoftware, features: a.features, limits: a.limits };
        } else {
          rec.status = 'partial';
          rec.reason = 'ei info found no WebGPU adapter (see info.json backends)';
        }
      } catch (e) {
        Object.assign(rec, { status: 'failed', reason: `ei info --json printed no JSON: ${describeError(e)}` });
      }
    } else if (r.killed) {
      Object.assign(rec, { status: 'partial', reason: `stopped at its ${(given + graceSeconds).toFixed(0)} s; the file holds the cases done by then` });
    } else if (r.code !== 0) {
      Object.assign(rec, { status: 'failed', reason: `exit ${r.code}: ${r.stderr.trim().split('\n').slice(-3).join(' / ')}` });
    }
    if (name !== 'info') {
      const data = readJson<Record<string, unknown>>(join(out, `${name}.json`));
      if (data) (files as Record<string, unknown>)[name] = data;
      else rec.file = null;
    }
    check.sections.push(rec);
    save();
  }
  console.error(`hardware-check: wrote ${join(out, 'SUMMARY.md')} and ${check.sections.filter((s) => s.file).map((s) => s.file).join(', ')}`);
  return check.sections.some((s) => s.status === 'failed') ? 1 : 0;
}

async function main(argv: string[]): Promise<number> {
  const f = parseBenchFlags(argv, spec);
  if (!f) return 0;
  if (!f.out) {
    console.error('hardware-check: error: --out DIR is required (the folder for the JSON files and SUMMARY.md)');
    return 2;
  }
  const out = resolve(f.out);
  if (f.section) {
    if (f.section === 'info') throw new Error('the info section runs `ei info --json`');
    return runSection(f.section as Exclude<CheckSection, 'info'>, f.seconds ?? f.budget, out, f.adapter);
  }
  return orchestrate(f.budget, out, f.adapter);
}

runBenchMain(main);
