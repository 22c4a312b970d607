// `npm run bench:peers`: the hybrid network of the wasm issue (variant B1: probit, numax 1, theta 0, s 1, tau 1, JE 1,
// JI 2, muE 1, muI 0, dt 1e-3) in Brian2 C++ standalone (bench/peers/brian2-hybrid.py) and in ei-engine's wasm, cpu and
// webgpu backends, alternating within each repeat, at n = 1e3 ... 1e6; the binary network's synaptic reads per second;
// and an estimate of this machine's limit per kernel. Writes bench/results/peers-<date>.json and regenerates SUMMARY.md.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os, { availableParallelism } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import '../src/gpu/node-provider.ts'; // Node's WebGPU (Dawn)
import '../src/wasm/node-threads.ts'; // worker_threads for the wasm backend
import type { ArgSpec } from '../src/cli/args.ts';
import type { AnyModel, Backend, RunRequest, RunTarget } from '../src/core/contract.ts';
import { getModelDefinition } from '../src/engine/models.ts';
import { CpuBinarySimulation, type BinaryParams } from '../src/models/binary/network.ts';
import { WasmBinarySimulation } from '../src/models/binary/wasm-simulation.ts';
import { createGpuContext, type GpuContext } from '../src/gpu/context.ts';
import { makeEnvironmentRecord, makeResultPath, parseBenchFlags, reportResult, resultsDir, runBenchMain, writeCheckedResult } from './lib/common.ts';
import { describeError, formatSi, median } from './lib/records.ts';
import { peersBenchSchema, peersBenchSchemaVersion, validatePeersBenchResult, type KernelLimit, type PeerCase, type PeersBenchResult, type SynapticCase } from './lib/peers-harness.ts';
import { writeSummary } from './summarize.ts';

const brianScript = fileURLToPath(new URL('./peers/brian2-hybrid.py', import.meta.url));
const installHint = 'install it with `apt-get install python3-brian` (Debian/Ubuntu; Brian2 C++ standalone also needs g++), or point --python at a Python with brian2';

const spec = {
  command: 'npm run bench:peers --',
  description:
    'Runs the hybrid network (B1) in Brian2 C++ standalone and in ei-engine (wasm on all threads and on one, cpu, webgpu), alternating, at each size; ' +
    'then the binary network (N 1000, k 100, batched) on wasm and cpu; writes bench/results/peers-<date>.json and SUMMARY.md.',
  flags: {
    sizes: { type: 'string', valueName: 'n,n,...', help: 'neurons per population (default 1000,10000,100000,1000000; quick 1000,10000)' },
    quick: { type: 'boolean', help: 'sizes 1000,10000, 2 repeats, a tenth of the steps' },
    repeats: { type: 'integer', min: 1, help: 'alternating repeats per size (default 3, quick 2)' },
    threads: { type: 'integer', min: 1, help: "threads of ei-engine's wasm backend and of Brian2's OpenMP run (default: the cores)" },
    engines: { type: 'string', valueName: 'e,e,...', help: 'of brian2,wasm,cpu,webgpu (default all)' },
    python: { type: 'string', valueName: 'PATH', default: '/usr/bin/python3', help: 'the Python with brian2 (Debian python3-brian)' },
    out: { type: 'string', valueName: 'FILE', help: 'result JSON path (default bench/results/peers-<date>.json)' },
    summary: { type: 'boolean', default: true, help: 'regenerate bench/results/SUMMARY.md afterwards (--no-summary to skip)' },
  },
} as const satisfies ArgSpec;

const network = { variant: 'B1', sigmoid: 'probit', numax: 1, theta: 0, s: 1, tau: 1, JE: 1, JI: 2, muE: 1, muI: 0, burnin: 0 } as const;
const dt = 1e-3;

/** Steps per timed run: ~2e7 neuron-steps (1000 steps at n = 1e4, as the issue's measurement), at least 10; the slow backends take a tenth. */
function stepsFor(n: number, slow: boolean, quick: boolean): number {
  const s = Math.max(10, Math.min(1000, Math.round(2e7 / (2 * n))));
  return Math.max(5, Math.round(s / ((slow ? 10 : 1) * (quick ? 10 : 1))));
}

/** Brian2's version, or why it cannot run. */
function probeBrian2(python: string): { version: string } | { reason: string } {
  if (!existsSync(python)) return { reason: `${python} does not exist: ${installHint}` };
  const r = spawnSync(python, ['-c', 'import brian2, sys; sys.stdout.write(brian2.__version__)'], { encoding: 'utf8' });
  if (r.status !== 0) return { reason: `${python} cannot import brian2: ${installHint}` };
  return { version: r.stdout.trim() };
}

interface BrianBuild {
  dir: string;
  compileSeconds: number;
  first: { runSeconds: number; meanE: number; meanI: number };
}

/** Generates and compiles the network for (n, steps, threads), running it once (the warm-up; its means are kept). */
function buildBrian2(python: string, n: number, steps: number, threads: number, dir: string): BrianBuild {
  const out = execFileSync(python, [brianScript, String(n), String(steps), String(threads), dir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 1 << 24 });
  const line = out.trim().split('\n').pop()!;
  const j = JSON.parse(line) as { runSeconds: number; compileSeconds: number; meanE: number; meanI: number };
  return { dir, compileSeconds: j.compileSeconds, first: { runSeconds: j.runSeconds, meanE: j.meanE, meanI: j.meanI } };
}

/** Runs the compiled binary again: the run time its generated main measured (network set-up and file output excluded). */
function runBrian2(b: BrianBuild): number {
  execFileSync(join(b.dir, 'main'), [], { cwd: b.dir, stdio: 'ignore' });
  return Number(readFileSync(join(b.dir, 'results', 'last_run_info.txt'), 'utf8').trim().split(/\s+/)[0]);
}

/** One timed ei-engine run through the model contract: run seconds (set-up excluded) and the population means after it. */
async function runEi(def: AnyModel, n: number, steps: number, target: RunTarget): Promise<{ seconds: number; meanE: number; meanI: number }> {
  const request: RunRequest = { n, dt, steps, seed: 1, params: network };
  const runner = await def.createRunner(def.resolve(request), target);
  try {
    const t0 = performance.now();
    await runner.run(steps);
    const seconds = (performance.now() - t0) / 1000;
    const u = await runner.readState();
    let e = 0;
    let i = 0;
    for (let k = 0; k < n; k++) e += u[k];
    for (let k = n; k < 2 * n; k++) i += u[k];
    return { seconds, meanE: e / n, meanI: i / n };
  } finally {
    runner.dispose();
  }
}

/** The binary network's synaptic reads per second on one backend: N x k reads per instance-step, `batch` instances in one simulation. */
async function runSynaptic(engine: 'wasm' | 'cpu', threads: number, repeats: number, quick: boolean): Promise<SynapticCase> {
  const N = 1000;
  const k = 100;
  const batch = quick ? 16 : 64;
  const steps = quick ? 20 : 200;
  const base = { engine, threads: engine === 'wasm' ? threads : 1, N, k, batch, steps };
  // The bench network of bench:binary: the lambda = 1 boundary at alpha = 0.2.
  const W = 1 / (1 - 2 * 0.2);
  const params: BinaryParams[] = Array.from({ length: batch }, () => ({ N, k, alpha: 0.2, WE: W, WI: W, p0: 1e-3 }));
  const runSeconds: number[] = [];
  try {
    for (let r = 0; r <= repeats; r++) {
      const spec = { params, seed: 1 + r, burnin: 0 };
      const sim = engine === 'wasm' ? await WasmBinarySimulation.create({ ...spec, threads }) : new CpuBinarySimulation(spec);
      try {
        await sim.run(1);
        const t0 = performance.now();
        await sim.run(engine === 'cpu' ? Math.max(2, steps / 20) : steps);
        if (r > 0) runSeconds.push((performance.now() - t0) / 1000); // repeat 0 is the warm-up
      } finally {
        sim.dispose();
      }
    }
  } catch (e) {
    return { ...base, status: 'failed', reason: describeError(e) };
  }
  const s = engine === 'cpu' ? Math.max(2, steps / 20) : steps;
  return { ...base, steps: s, status: 'ok', runSeconds, synapticReadsPerSecond: (N * k * batch * s) / median(runSeconds) };
}

/**
 * One core's clock in Hz, measured: a chain of dependent integer adds and xors (one cycle each) timed over 2e7
 * iterations of 8, the best of 5. os.cpus() reports 0 MHz in VMs and the nominal clock elsewhere, not the boost a
 * busy core runs at (3.6 GHz against a nominal 2.6 GHz on the AMD EPYC VM of the committed results).
 */
let clockChainResult = 0; // the chain's result, kept so that no compiler drops the chain

function measureClockHz(): number {
  const chain = (n: number): number => {
    let x = 0;
    for (let i = 0; i < n; i++) {
      x = (x + i) | 0;
      x ^= 0x5bd1e995;
      x = (x + i) | 0;
      x ^= 0x1b873593;
      x = (x + i) | 0;
      x ^= 0x27d4eb2f;
      x = (x + i) | 0;
      x ^= 0x165667b1;
    }
    return x;
  };
  let best = 0;
  for (let r = 0; r < 5; r++) {
    const n = 2e7;
    const t0 = performance.now();
    clockChainResult ^= chain(n);
    best = Math.max(best, (8 * n) / ((performance.now() - t0) / 1000));
  }
  return best;
}

/**
 * Instructions per update of each kernel, counted from src/wasm/assembly along the path the bench network takes
 * (a SIMD instruction over four neurons counts a quarter; loads, stores and compares count, branches do not), over
 * the machine's cores x clock x 4 instructions per cycle: an estimate of the limit, to show the fraction reached.
 */
const kernelOps: { kernel: string; unit: KernelLimit['unit']; bound?: 'latency'; ops: number; basis: string; measure: 'hybrid' | 'poisson' | 'binary' | 'rate' | 'minimax'; n?: number }[] = [
  {
    kernel: 'hybrid, input means < 10 (n = 1e4)', unit: 'neuron-steps/s', ops: 150, measure: 'hybrid', n: 1e4,
    basis: 'SIMD Philox 2 x 35, lock-step inversions 2 x ~20, means and p0 2 x 8, sigmoid 15, update and record 10',
  },
  {
    kernel: 'hybrid, PTRS input means (n = 1e5)', unit: 'neuron-steps/s', ops: 185, measure: 'hybrid', n: 1e5,
    basis:
      "SIMD Philox 70, the own population's PTRS constants from the cache lane by lane ~15 (the other population's repeat), round 0's k and quick tests 2 x ~15, compressed appends to the lane queues 2 x ~6, full tests of the ~40 % of lanes that need one, four queued lanes at a time, 2 x ~12 (the other population's log-pmf from its table), rounds 1-3 from the queues ~9, sigmoid, update, record 25",
  },
  { kernel: 'poisson (n = 1e6)', unit: 'neuron-steps/s', ops: 112, measure: 'poisson', n: 1e6, basis: 'SIMD Philox 2 x 35, sigmoid 15, p0 7, inversions ~9, update 4, f64 moments in index order 7' },
  { kernel: 'binary, one synaptic read', unit: 'synaptic reads/s', ops: 3, measure: 'binary', basis: 'load the presynaptic index, load its state, add (no SIMD gather in wasm)' },
  {
    kernel: 'minimax, the tight-balance network (40 neurons, 20 inputs), batch 16', unit: 'neuron-steps/s', ops: 33, measure: 'minimax',
    basis:
      "decisions 2.5, the inputs' Bernoulli draws (SIMD Philox word 0, ~36 per channel, 20 channels over 40 neurons) 18, leaks 2, rate traces 1.75, the f64 measurement sums 17 in the measured second half of the run (8.5 on average); the columns of its ~0.04 spikes per step add nothing",
  },
  {
    kernel: 'rate, one Wilson-Cowan circuit, RK4', unit: 'circuit-steps/s', bound: 'latency', ops: 88, measure: 'rate',
    basis: 'stages 1 and 2: W x (multiply, add u, add) 9, [.]+ 1, minus x 3, times dt/tau 3, x + k/2 6 = 22 each; stage 3: x + k 19; stage 4: 16, then x + (sum + k) / 6 9 = 25',
  },
];

/** A kernel-limit row's measurement through the model contract on wasm (after a warm-up run): median updates/s and steps/s. */
async function runOnWasm(model: 'poisson' | 'rate' | 'minimax', request: RunRequest, threads: number, repeats: number): Promise<{ updates: number; steps: number } | null> {
  const def = getModelDefinition(model);
  if (!def.wasm) return null;
  const secs: number[] = [];
  let work = 0;
  let steps = 0;
  for (let r = 0; r <= repeats; r++) {
    const resolved = def.resolve({ ...request, seed: 1 + r });
    const runner = await def.createRunner(resolved, { backend: 'wasm', ctx: null, threads });
    try {
      const t0 = performance.now();
      await runner.run(resolved.steps);
      if (r > 0) secs.push((performance.now() - t0) / 1000);
      work = resolved.neuronsPerStep * resolved.steps;
      steps = resolved.steps;
    } finally {
      runner.dispose();
    }
  }
  return { updates: work / median(secs), steps: steps / median(secs) };
}

/** poisson's wasm neuron-steps/s at n on all threads (the kernel-limit row; poisson has no peer here). */
async function runPoisson(n: number, threads: number, repeats: number): Promise<number | null> {
  const bench = getModelDefinition('poisson').bench;
  return bench ? ((await runOnWasm('poisson', { ...bench.scaling(n), steps: 10 }, threads, repeats))?.updates ?? null) : null;
}

/** The minimax bench's batched case (the tight-balance network) with 16 replicas, 10 times longer, on all threads: neuron-steps/s. */
async function runMinimaxBatch(threads: number, repeats: number, quick: boolean): Promise<number | null> {
  const batch = getModelDefinition('minimax').bench?.batched?.(16);
  if (!batch) return null;
  return (await runOnWasm('minimax', { ...batch, T: (batch.T ?? 0.01) * (quick ? 1 : 10) }, threads, repeats))?.updates ?? null;
}

/** One rate circuit's RK4 steps/s on one wasm thread (the bench's batch-1 Wilson-Cowan case, 100 times longer: the run's set-up amortized). */
async function runRateCircuit(repeats: number, quick: boolean): Promise<number | null> {
  const one = getModelDefinition('rate').bench?.batched?.(1);
  if (!one) return null;
  return (await runOnWasm('rate', { ...one, T: (one.T ?? 10) * (quick ? 10 : 100) }, 1, repeats))?.steps ?? null;
}

async function main(argv: string[]): Promise<number> {
  const f = parseBenchFlags(argv, spec);
  if (!f) return 0;
  const quick = f.quick;
  const sizes = (f.sizes ?? (quick ? '1000,10000' : '1000,10000,100000,1000000')).split(',').map(Number);
  if (sizes.some((n) => !Number.isSafeInteger(n) || n < 2)) throw new Error(`--sizes ${f.sizes}: not a list of integers >= 2`);
  const repeats = f.repeats ?? (quick ? 2 : 3);
  const threads = f.threads ?? availableParallelism();
  const engines = (f.engines ?? 'brian2,wasm,cpu,webgpu').split(',').map((s) => s.trim());
  for (const e of engines) if (!['brian2', 'wasm', 'cpu', 'webgpu'].includes(e)) throw new Error(`--engines: unknown engine '${e}' (brian2, wasm, cpu, webgpu)`);
  const python = resolve(f.python);
  const def = getModelDefinition('hybrid');

  const brian = engines.includes('brian2') ? probeBrian2(python) : { reason: 'not asked for (--engines)' };
  if ('reason' in brian && engines.includes('brian2')) console.error(`bench: Brian2 is not available, so the peer rows are skipped: ${brian.reason}`);
  let ctx: GpuContext | null = null;
  if (engines.includes('webgpu')) {
    ctx = await createGpuContext({ adapter: 'auto', notify: (m) => console.error(m) });
    if (ctx.info.isSoftware) console.error(`bench: webgpu is ${ctx.info.vendor}/${ctx.info.architecture}, a SOFTWARE adapter: its rows measure plumbing, not GPU speed`);
  }
  const scratch = mkdtempSync(join(os.tmpdir(), 'ei-peers-'));
  const cases: PeerCase[] = [];
  try {
    for (const n of sizes) {
      type Slot = { c: PeerCase; run: () => Promise<number>; means?: (m: { meanE: number; meanI: number }) => void };
      const slots: Slot[] = [];
      const steps = stepsFor(n, false, quick);
      if (engines.includes('brian2')) {
        for (const t of threads > 1 ? [1, threads] : [1]) {
          const c: PeerCase = { engine: 'brian2', threads: t, n, steps, status: 'ok', runSeconds: [] };
          cases.push(c);
          if ('reason' in brian) {
            Object.assign(c, { status: 'skipped', reason: brian.reason });
            continue;
          }
          try {
            console.error(`bench: Brian2 n=${n} threads=${t}: generating and compiling`);
            const b = buildBrian2(python, n, steps, t, join(scratch, `brian2-${n}-${t}`));
            Object.assign(c, { compileSeconds: b.compileSeconds, meanE: b.first.meanE, meanI: b.first.meanI, note: `compile ${b.compileSeconds.toFixed(1)} s, not counted` });
            slots.push({ c, run: async () => runBrian2(b) });
          } catch (e) {
            Object.assign(c, { status: 'failed', reason: describeError(e).slice(0, 300) });
          }
        }
      }
      const eiTargets: [Backend, number][] = [];
      if (engines.includes('wasm')) eiTargets.push(['wasm', threads], ...(threads > 1 ? [['wasm', 1] as [Backend, number]] : []));
      if (engines.includes('cpu')) eiTargets.push(['cpu', 1]);
      if (engines.includes('webgpu')) eiTargets.push(['webgpu', 1]);
      for (const [backend, t] of eiTargets) {
        const slow = backend !== 'wasm';
        const c: PeerCase = { engine: backend as PeerCase['engine'], threads: t, n, steps: stepsFor(n, slow, quick), status: 'ok', runSeconds: [] };
        if (slow) c.note = 'a tenth of the steps (a slow backend)';
        cases.push(c);
        const target: RunTarget = { backend, ctx: backend === 'webgpu' ? ctx : null, threads: backend === 'wasm' ? t : undefined };
        let first = true;
        slots.push({
          c,
          run: async () => {
            const r = await runEi(def, n, c.steps, target);
            if (first) Object.assign(c, { meanE: r.meanE, meanI: r.meanI });
            first = false;
            return r.seconds;
          },
        });
        try {
          await runEi(def, n, Math.min(5, c.steps), target); // warm-up: compile the kernels, start the threads once
        } catch (e) {
          Object.assign(c, { status: 'failed', reason: describeError(e) });
          slots.pop();
        }
      }
      // Alternate: each repeat runs every engine once, starting one further along each time.
      for (let r = 0; r < repeats; r++) {
        for (let i = 0; i < slots.length; i++) {
          const s = slots[(i + r) % slots.length];
          if (s.c.status !== 'ok') continue;
          try {
            const sec = await s.run();
            s.c.runSeconds!.push(sec);
            console.error(`bench: n=${n} ${s.c.engine}${s.c.engine === 'wasm' || s.c.engine === 'brian2' ? ` ${s.c.threads}t` : ''} repeat ${r + 1}: ${sec.toFixed(3)} s, ${formatSi((2 * n * s.c.steps) / sec)} neuron-steps/s`);
          } catch (e) {
            Object.assign(s.c, { status: 'failed', reason: describeError(e).slice(0, 300) });
          }
        }
      }
      for (const c of cases.filter((x) => x.n === n && x.status === 'ok')) c.neuronStepsPerSecond = (2 * n * c.steps) / median(c.runSeconds!);
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
  }
  const synaptic: SynapticCase[] = [];
  for (const e of ['wasm', 'cpu'] as const) if (engines.includes(e)) synaptic.push(await runSynaptic(e, threads, repeats, quick));

  const rate = (engine: string, n: number, t: number) => cases.find((c) => c.engine === engine && c.n === n && c.threads === t && c.status === 'ok')?.neuronStepsPerSecond ?? null;
  const over = (a: number | null, b: number | null) => (a !== null && b !== null ? a / b : null);
  const ratios = sizes.map((n) => ({
    n,
    wasmOverBrian2: over(rate('wasm', n, threads), rate('brian2', n, 1)),
    wasm1OverBrian2: over(rate('wasm', n, 1), rate('brian2', n, 1)),
    wasmOverBrian2Threads: threads > 1 ? over(rate('wasm', n, threads), rate('brian2', n, threads)) : null,
  }));
  const clock = measureClockHz();
  const machineOps = availableParallelism() * clock * 4;
  const poissonRate = engines.includes('wasm') ? await runPoisson(quick ? 1e5 : 1e6, threads, repeats) : null;
  const circuitRate = engines.includes('wasm') ? await runRateCircuit(repeats, quick) : null;
  const minimaxRate = engines.includes('wasm') ? await runMinimaxBatch(threads, repeats, quick) : null;
  const measuredOf = { poisson: poissonRate, rate: circuitRate, minimax: minimaxRate, binary: synaptic.find((x) => x.engine === 'wasm' && x.status === 'ok')?.synapticReadsPerSecond };
  const limits: KernelLimit[] = kernelOps.map((k) => {
    const measured = (k.measure === 'hybrid' ? rate('wasm', k.n!, threads) : measuredOf[k.measure]) ?? undefined;
    const machine = k.bound === 'latency' ? clock : machineOps;
    const limit = machine / k.ops;
    return { kernel: k.kernel, unit: k.unit, ...(k.bound ? { bound: k.bound } : {}), opsPerUpdate: k.ops, basis: k.basis, machineOpsPerSecond: machine, limit, ...(measured ? { measured, fraction: measured / limit } : {}) };
  });
  const environment = makeEnvironmentRecord(ctx);
  const result: PeersBenchResult = {
    schema: peersBenchSchema,
    schemaVersion: peersBenchSchemaVersion,
    environment,
    flags: { sizes, repeats, threads, engines, quick: Boolean(quick), python },
    network: { model: 'hybrid', variant: 'B1', params: { ...network }, dt, initial: 'u(0) ~ N(0.5, 0.5) in E, N(-0.5, 0.5) in I (both engines; different random draws)' },
    peer: 'version' in brian ? { name: 'brian2', version: brian.version, python, mode: 'C++ standalone, -O3 (its defaults), OpenMP for > 1 thread' } : null,
    cases,
    synaptic,
    clock: { hz: clock, method: 'a chain of dependent integer adds and xors (one cycle each) in JavaScript, best of 5 runs of 1.6e8' },
    limits,
    ratios,
  };
  ctx?.dispose();
  const path = writeCheckedResult(result, validatePeersBenchResult(result), () => (f.out ? resolve(f.out) : makeResultPath(resultsDir, 'peers', environment)));
  for (const x of ratios) console.log(`n=${formatSi(x.n)}: wasm ${threads}t / Brian2 1t ${x.wasmOverBrian2?.toFixed(2) ?? '-'}x, wasm 1t / Brian2 1t ${x.wasm1OverBrian2?.toFixed(2) ?? '-'}x`);
  for (const s of synaptic) console.log(`binary N ${s.N} k ${s.k} batch ${s.batch} on ${s.engine}: ${s.synapticReadsPerSecond ? formatSi(s.synapticReadsPerSecond) : s.reason} synaptic reads/s`);
  reportResult(path, f.summary, writeSummary);
  return 0;
}

runBenchMain(main);
