// The wasm backend of minimax equals the cpu reference exactly: every result array (counts, rasters, the f64 means,
// moments and ISI statistics) and the f32 state, as bits, for several networks and batches, split run() calls and
// 1-4 threads (instances over threads, or one instance's neurons over threads); the SIMD Philox against the scalar one;
// `ei run` and `ei sweep` tables against --backend cpu.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ParameterError } from '../src/errors.ts';
import { minimaxModel } from '../src/models/minimax/index.ts';
import type { MinimaxInstance, MinimaxNetwork, MinimaxRunResult, MinimaxRunSpec } from '../src/models/minimax/network.ts';
import { makeGridNetwork, makeRingNetwork, makeTightBalanceNetwork, ringCueRates } from '../src/models/minimax/networks.ts';
import { createMinimaxSpecRunner } from '../src/models/minimax/runner.ts';
import { MinimaxCpuSimulation } from '../src/models/minimax/simulate-cpu.ts';
import { maxMinimaxWasmThreads, MinimaxWasmSimulation, minimaxSplitNeuronsMin, minimaxWasmThreads } from '../src/models/minimax/wasm-simulation.ts';
import { rngCreate, rngNextU32 } from '../src/rng/index.ts';
import { heapBase, instantiateKernels } from '../src/wasm/kernels.ts';
import { ei } from './helpers/cli.ts';
import '../src/wasm/node-threads.ts';
import { stripRunFacts } from './helpers/summary.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** A typed array as its bit patterns (so -0, NaN payloads and last-bit differences all count). */
function bits(a: ArrayLike<number> | null): number[] {
  if (a === null) return [];
  if (a instanceof Float64Array) return Array.from(new Uint32Array(a.buffer, a.byteOffset, 2 * a.length));
  if (a instanceof Float32Array) return Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length));
  return Array.from(a);
}

const resultArrays = ['measuredSteps', 'spikeCounts', 'inputCounts', 'meanTrace', 'inputMoments', 'isiCount', 'isiMean', 'isiVar', 'raster'] as const;

function expectSameBits(w: MinimaxRunResult, c: MinimaxRunResult, wState: Float32Array, cState: Float32Array): void {
  expect(w.backend).toBe('wasm');
  for (const k of resultArrays) expect(bits(w[k]), k).toEqual(bits(c[k]));
  expect([w.steps, w.batch, w.nE, w.nI, w.rasterWords]).toEqual([c.steps, c.batch, c.nE, c.nI, c.rasterWords]);
  expect(bits(wState)).toEqual(bits(cState));
}

function instance(network: number, tau: number, dt: number, rates: Float64Array, instanceId: number, measureFrom: number, extra: Partial<MinimaxInstance> = {}): MinimaxInstance {
  return { network, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: rates, segments: 1, segmentSteps: 1, measureFrom, instanceId, ...extra };
}

/** A small network whose sizes are not multiples of 4 (SIMD padding), with objective thresholds. */
function oddNetwork(): MinimaxNetwork {
  const nE = 5, nI = 3, nIn = 7;
  const rng = rngCreate([7, 9], 300, 0, 0, 0);
  const u = () => rngNextU32(rng) / 2 ** 32;
  const block = (rows: number, cols: number, scale: number) => Float64Array.from({ length: rows * cols }, () => scale * u());
  const wEE = block(nE, nE, 0.05);
  for (let i = 0; i < nE; i++) wEE[i * nE + i] = -1;
  const wII = block(nI, nI, 0.05);
  for (let i = 0; i < nI; i++) wII[i * nI + i] = 0.8;
  return { nE, nI, nIn, wEE, wEI: block(nE, nI, 0.6), wIE: block(nI, nE, 0.6), wII, F: block(nE, nIn, 1).map((x) => x - 0.2), thE: block(nE, 1, 0.1), thI: block(nI, 1, 0.1) };
}

const fig1a = makeTightBalanceNetwork(1);
const fig1b = makeTightBalanceNetwork(2);
const twoSegments = new Float64Array(40);
twoSegments.set(fig1a.inputRates, 0);
twoSegments.set(fig1a.inputRates.map((r) => 0.5 * r), 20);
const ring = makeRingNetwork({ gamma: 0.2 });
const ringRates = new Float64Array(200).fill(10);
ringRates.set(ringCueRates(Math.PI / 3, 10, 5, 100), 0);
const grid = makeGridNetwork({ side: 8 });
// Odd network inputs: one channel never fires (0 Hz), one always (rate dt = 1), the others in between.
const oddRates = Float64Array.from([0, 1000, 150, 40, 300, 5, 80]);

const specs: [string, MinimaxRunSpec][] = [
  ['Fig. 1, 3 instances over 2 networks, separate taus, 2 input segments, full raster', {
    networks: [fig1a.network, fig1b.network],
    instances: [instance(0, 1, 1e-4, fig1a.inputRates, 0, 5000), instance(1, 0.1, 1e-3, fig1b.inputRates, 5, 2000), instance(0, 0.5, 5e-4, twoSegments, 9, 6789, { tauI: 0.25, tauX: 0.8, segments: 2, segmentSteps: 5000 })],
    steps: 10_000,
    seed: 2024,
    raster: { from: 0, steps: 10_000 },
  }],
  ['ring attractor with a cue segment (gamma 0.2), raster window', {
    networks: [ring.network],
    instances: [instance(0, 0.1, 1e-3, ringRates, 3, 600, { segments: 2, segmentSteps: 400 })],
    steps: 1500,
    seed: 5,
    raster: { from: 1000, steps: 300 },
  }],
  ['grid sheet side 8, separate tau_E / tau_I / tau_x, batch 2', {
    networks: [grid.network],
    instances: [0, 1].map((b) => instance(0, grid.tauE, 1e-3, new Float64Array(64).fill(40), b, 500, { tauI: grid.tauI, tauX: grid.tauX })),
    steps: 1200,
    seed: 8,
  }],
  ['odd sizes (5 E, 3 I, 7 inputs) with thresholds, p = 0 and p = 1 inputs, batch 3', {
    networks: [oddNetwork()],
    instances: [0, 1, 2].map((b) => instance(0, 0.05 * (b + 1), 1e-3, oddRates, 10 + b, 700 * b)),
    steps: 3000,
    seed: 77,
    raster: { from: 100, steps: 2000 },
  }],
];

async function runWasm(spec: MinimaxRunSpec, threads: number, parts: number[]): Promise<{ result: MinimaxRunResult; state: Float32Array }> {
  const sim = await MinimaxWasmSimulation.create(spec, threads);
  for (const k of parts) sim.step(k);
  const out = { result: sim.result(), state: sim.readState() };
  sim.dispose();
  sim.dispose();
  return out;
}

function runCpu(spec: MinimaxRunSpec): { result: MinimaxRunResult; state: Float32Array } {
  const sim = new MinimaxCpuSimulation(spec);
  sim.step(spec.steps);
  return { result: sim.result(), state: sim.readState() };
}

describe('wasm minimax equals the cpu reference bit for bit', () => {
  for (const [label, spec] of specs) {
    it(label, async () => {
      const c = runCpu(spec);
      // Not degenerate: neurons spike, inputs arrive and the traces moved.
      expect(c.result.spikeCounts.reduce((x, y) => x + y, 0)).toBeGreaterThan(20);
      expect(c.result.inputCounts.reduce((x, y) => x + y, 0)).toBeGreaterThan(20);
      const w = await runWasm(spec, 1, [1, spec.steps - 301, 300]);
      expectSameBits(w.result, c.result, w.state, c.state);
    });
  }

  it('the odd network exercises its edge inputs: a 0 Hz channel never fires, a p = 1 channel fires every measured step', () => {
    const c = runCpu(specs[3][1]).result;
    for (let b = 0; b < 3; b++) {
      expect(c.inputCounts[b * 7]).toBe(0);
      expect(c.inputCounts[b * 7 + 1]).toBe(c.measuredSteps[b]);
    }
  });

  it('SIMD Philox: word 0 of four counters at once equals the scalar Philox4x32-10 of each (general and uniform-lane paths)', async () => {
    const k = await instantiateKernels(256);
    const mem = new Uint32Array(k.memory.buffer, heapBase, 64);
    const draw = rngCreate([1, 2], 301, 0, 0, 0);
    for (let trial = 0; trial < 100; trial++) {
      const key = [rngNextU32(draw), rngNextU32(draw)];
      // Half the trials: c1..c3 the same in every lane (the kernel's case, which the uniform path assumes).
      const uniform = trial % 2 === 0;
      for (let q = 0; q < 16; q++) mem[q] = uniform && q >= 4 && q % 4 !== 0 ? mem[q - (q % 4)] : rngNextU32(draw);
      k.philox4x32_10x4(heapBase + 64, heapBase, key[0], key[1]);
      for (let lane = 0; lane < 4; lane++) {
        // rngCreate's counter is (neuron, instance, step, stream << 16): build it from the lane's four words.
        const r = rngCreate([key[0], key[1]], 0, mem[8 + lane], mem[4 + lane], mem[lane]);
        r.ctr[3] = mem[12 + lane];
        const word = rngNextU32(r);
        expect(mem[16 + lane] >>> 0).toBe(word);
        if (uniform) expect(mem[20 + lane] >>> 0).toBe(word);
      }
    }
  });
});

describe('wasm minimax on worker threads equals the cpu reference for any thread count', () => {
  const batch: MinimaxRunSpec = {
    networks: [fig1a.network, fig1b.network],
    instances: Array.from({ length: 5 }, (_, b) => instance(b % 2, 0.05 + 0.05 * b, 1e-4 * (b + 1), b % 2 ? fig1b.inputRates : fig1a.inputRates, 20 + b, 1000 * b)),
    steps: 6000,
    seed: 99,
    raster: { from: 3000, steps: 3000 },
  };
  const c = runCpu(batch);
  for (const threads of [2, 3, 4]) {
    it(`${threads} threads, 5 instances (uneven shares), split calls`, async () => {
      const w = await runWasm(batch, threads, [2500, 1, 3499]);
      expectSameBits(w.result, c.result, w.state, c.state);
    });
  }

  // Fewer instances than threads: each instance's neurons split over the threads, one barrier per step (forced for
  // these small networks; by default from minimaxSplitNeuronsMin neurons).
  const splits: [string, MinimaxRunSpec, number][] = [
    ['odd network, 1 instance, 4 threads (threads with no neurons)', { ...specs[3][1], instances: specs[3][1].instances.slice(0, 1) }, 4],
    ['grid side 8, 2 instances, 3 threads (ranges of whole raster words)', specs[2][1], 3],
    ['Fig. 1 networks, 3 instances (measuring from steps 0, 1000, 1500), 4 threads', { ...specs[0][1], steps: 2000, raster: { from: 0, steps: 2000 }, instances: specs[0][1].instances.map((x, b) => ({ ...x, measureFrom: [0, 1000, 1500][b] })) }, 4],
  ];
  for (const [label, spec, threads] of splits) {
    it(`split instances: ${label}`, async () => {
      const cpu = runCpu(spec);
      const sim = await MinimaxWasmSimulation.create(spec, threads, { splitNeuronsMin: 1 });
      expect(sim.split).toBe(true);
      sim.step(1);
      sim.step(spec.steps - 1);
      expectSameBits(sim.result(), cpu.result, sim.readState(), cpu.state);
      sim.dispose();
    });
  }

  it('splits instances by default only from minimaxSplitNeuronsMin neurons, and uses every core only for long runs', async () => {
    const { availableParallelism } = await import('node:os');
    const cores = Math.min(availableParallelism(), maxMinimaxWasmThreads);
    const half = minimaxSplitNeuronsMin / 2;
    expect(minimaxWasmThreads({ nE: half, nI: half, nIn: half, batch: 1, steps: 1e5 })).toBe(cores);
    expect(minimaxWasmThreads({ nE: 20, nI: 20, nIn: 20, batch: 1, steps: 1e8 })).toBe(1);
    expect(minimaxWasmThreads({ nE: 20, nI: 20, nIn: 20, batch: 100, steps: 1e6 })).toBe(cores);
    expect(minimaxWasmThreads({ nE: 20, nI: 20, nIn: 20, batch: 100, steps: 10 })).toBe(1);
    const sim = await MinimaxWasmSimulation.create(specs[0][1], 4);
    expect(sim.split).toBe(false);
    sim.dispose();
  });

  it('refuses a thread count out of range, naming --threads', async () => {
    for (const t of [0, 1.5, 65]) await expect(MinimaxWasmSimulation.create(batch, t)).rejects.toThrow(ParameterError);
    await expect(MinimaxWasmSimulation.create(batch, 0)).rejects.toThrow(/--threads/);
  });
});

describe('the minimax runner on wasm', () => {
  const spec = specs[0][1];
  it('split run() calls with progress and chunks, abort at a chunk boundary, dispose', async () => {
    const c = runCpu(spec);
    const runner = await createMinimaxSpecRunner(spec, { backend: 'wasm', threads: 2 });
    expect(runner.backend).toBe('wasm');
    const chunks: { from: number; to: number }[] = [];
    for (const k of [1, 4999, 5000]) await runner.run(k, { onChunk: (x) => chunks.push(x) });
    expect(chunks[0]).toEqual({ from: 0, to: 1 });
    expect(chunks.every((x, i) => i === 0 || x.from === chunks[i - 1].to)).toBe(true);
    expect(chunks.at(-1)!.to).toBe(spec.steps);
    expectSameBits(await runner.result(), c.result, await runner.readState(), c.state);
    await expect(runner.run(1)).rejects.toThrow(ParameterError);
    runner.dispose();
    // A run of many chunks (chunks last about 20 ms): aborted after the first.
    const long = { ...spec, instances: spec.instances.slice(0, 1), steps: 3_000_000, raster: undefined };
    const again = await createMinimaxSpecRunner(long, { backend: 'wasm' });
    const ac = new AbortController();
    await expect(again.run(long.steps, { signal: ac.signal, onChunk: () => ac.abort() })).rejects.toSatisfy((e) => (e as Error).name === 'AbortError');
    expect(again.stepsDone).toBeGreaterThan(0);
    expect(again.stepsDone).toBeLessThan(long.steps);
    again.dispose();
  });

  it('the model takes the wasm backend, with threads from the machine for long batched runs only', () => {
    expect(minimaxModel.wasm).toBe(true);
    const short = minimaxModel.resolve({ T: 0.01 });
    expect(minimaxModel.wasmThreads!(short)).toBe(1);
    const est = minimaxModel.estimate(short, { backend: 'wasm' });
    expect(est.work.seconds.wasm).toBeLessThan(est.work.seconds.cpu);
    expect(est.memory.some((m) => /wasm memory/.test(m.what))).toBe(true);
  });
});

describe('ei run / sweep minimax --backend wasm', () => {
  it('ei run writes the same rates.csv and summary as --backend cpu (batch 2, --threads 2)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ei-wasm-minimax-'));
    dirs.push(out);
    const run = async (backend: string, extra: string[]) => {
      const dir = join(out, backend);
      const r = await ei('run', 'minimax', '--set', 'tau=0.05', '--T', '0.1', '--batch', '2', '--seed', '4', '--backend', backend, ...extra, '--quiet', '--out', dir);
      expect(r.code, r.err).toBe(0);
      return { csv: readFileSync(join(dir, 'rates.csv'), 'utf8'), summary: JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')), config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) };
    };
    const cpu = await run('cpu', []);
    const wasm = await run('wasm', ['--threads', '2']);
    expect(wasm.config.backend).toBe('wasm');
    expect(wasm.config.threads).toBe(2);
    expect(wasm.csv === cpu.csv, 'rates.csv differs').toBe(true);
    expect(cpu.csv.split('\n').length).toBeGreaterThan(80);
    expect(stripRunFacts(wasm.summary)).toEqual(stripRunFacts(cpu.summary));
  });

  it('ei sweep writes the same sweep.csv as --backend cpu', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ei-wasm-minimax-sweep-'));
    dirs.push(out);
    const csv: string[] = [];
    for (const backend of ['cpu', 'wasm']) {
      const r = await ei('sweep', 'minimax', '--grid', 'tau=0.05,0.1', '--replicas', '2', '--T', '0.05', '--dt', '1e-4', '--backend', backend, '--quiet', '--out', join(out, backend));
      expect(r.code, r.err).toBe(0);
      csv.push(readFileSync(join(out, backend, 'sweep.csv'), 'utf8'));
    }
    expect(csv[1] === csv[0], 'sweep.csv differs').toBe(true);
    expect(csv[0].split('\n').length).toBeGreaterThan(4);
  });

  it('refuses a bad --threads value, naming the flag', async () => {
    const r = await ei('run', 'minimax', '--backend', 'wasm', '--threads', '0', '--T', '0.01', '--quiet', '--out', join(tmpdir(), 'ei-wasm-minimax-never'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--threads/);
  });
});
