// The wasm backend of hybrid equals the cpu reference exactly: every HybridStepRecord field of every step (and the
// initial records), the state bits and the histogram, for B1 and B2, several seeds, batches and thread counts, and the
// tables of `ei run hybrid --backend wasm` against `--backend cpu`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { CpuHybridSimulation } from '../src/models/hybrid/cpu-simulation.ts';
import { hybridParameters, makeHybridInstance } from '../src/models/hybrid/params.ts';
import type { HybridChunk, HybridSimulation, HybridSimulationSpec } from '../src/models/hybrid/simulation.ts';
import { hybridDefaultThreads, WasmHybridSimulation } from '../src/models/hybrid/wasm-simulation.ts';
import { hybridSweep } from '../src/models/hybrid/sweep.ts';
import { parseGridSpec } from '../src/core/sweep-grid.ts';
import { resolveParams } from '../src/core/params.ts';
import { seedToKey } from '../src/rng/index.ts';
import { ei } from './helpers/cli.ts';
import '../src/wasm/node-threads.ts';
import { stripRunFacts } from './helpers/summary.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** Every record field as its f64 bits (so -0, NaN payloads and last-bit differences all count). */
function bits(x: number): string {
  const b = new DataView(new ArrayBuffer(8));
  b.setFloat64(0, x);
  return b.getBigUint64(0).toString(16);
}

async function collect(sim: HybridSimulation, parts: number[]) {
  const chunks: HybridChunk[] = [];
  for (const steps of parts) await sim.run(steps, { onChunk: (c) => chunks.push(c) });
  const fields = (r: HybridChunk['records'][number]) => [r.totalE, r.totalI, r.meanE, r.varE, r.meanI, r.varI].map(bits).join(',');
  const state = await sim.readState();
  const out = {
    initial: sim.initial.map(fields),
    records: chunks.flatMap((c) => c.records.map(fields)),
    starts: chunks.map((c) => [c.stepStart, c.steps, c.batch]),
    state: [...new Uint32Array(state.buffer)],
    hist: [...(await sim.histogramU(40, -3, 3))],
    step: sim.step,
  };
  sim.dispose();
  sim.dispose();
  return out;
}

function spec(variant: string, seed: number, batch: number, n: number, extra: Record<string, unknown> = {}): HybridSimulationSpec {
  const params = Array.from({ length: batch }, (_, b) => resolveParams('hybrid', hybridParameters, { variant, theta: 0.1 * b, ...extra }));
  return { params, n, dt: Math.min(2e-3, 0.1 / Math.sqrt(n)), key: seedToKey(seed), chunkSteps: 7 };
}

describe('wasm hybrid equals the cpu reference bit for bit', () => {
  const cases: [string, number, number, number, number, Record<string, unknown>?][] = [
    ['B1', 1, 1, 50, 30],
    ['B2', 2, 3, 50, 30],
    ['B1', 7, 3, 333, 20, { sigmoid: 'logistic' }],
    ['B2', 11, 1, 1000, 15, { sigmoid: 'logistic' }],
    ['B1', 5, 3, 5000, 6],
    ['B2', 9, 1, 5000, 6],
    // numax 20: input means ~20-40 per step, so every draw takes the PTRS branch (and its cached constants).
    ['B1', 3, 2, 2000, 8, { numax: 20 }],
    // numax 1500: means ~1000-3000, so PTRS's k often passes the log-pmf tables (2048) in either SIMD round and that
    // lane finishes alone from the round's test.
    ['B1', 4, 1, 1000, 4, { numax: 1500 }],
    // theta 12: every intensity rounds to 0 units, so the input means are 0 (the lanes no branch draws for).
    ['B2', 6, 1, 101, 5, { theta: 12 }],
  ];
  for (const [variant, seed, batch, n, steps, extra] of cases) {
    it(`${variant} seed ${seed} batch ${batch} n ${n}${extra ? ' ' + JSON.stringify(extra) : ''}`, async () => {
      const s = spec(variant, seed, batch, n, extra);
      const cpu = await collect(new CpuHybridSimulation(s), [steps - 4, 4]);
      const wasm = await collect(await WasmHybridSimulation.create({ ...s, threads: 1 }), [steps - 4, 4]);
      expect(wasm.records.length).toBe(steps * batch);
      expect(wasm).toEqual(cpu);
      // Not trivially equal: the state moved and the records vary.
      expect(new Set(cpu.records).size).toBeGreaterThan((steps * batch) / 2);
    });
  }
});

describe('wasm hybrid on worker threads equals the cpu reference for any thread count', () => {
  for (const threads of [2, 3, 4]) {
    // Fewer instances than threads: every thread takes a range of each instance's neurons.
    const batch = threads === 2 ? 1 : 2;
    it(`${threads} threads (uneven ranges across the E/I boundary, batch ${batch})`, async () => {
      const s = spec(threads === 3 ? 'B1' : 'B2', 20 + threads, batch, 1001, {});
      const cpu = await collect(new CpuHybridSimulation(s), [9, 3]);
      const wasm = await collect(await WasmHybridSimulation.create({ ...s, threads }), [9, 3]);
      expect(wasm).toEqual(cpu);
    });
  }

  // At least as many instances as threads: whole instances per thread, one barrier per step.
  for (const [threads, batch] of [[2, 5], [3, 7], [4, 4]] as const) {
    it(`${threads} threads over ${batch} instances (whole instances per thread)`, async () => {
      const s = spec('B1', 30 + batch, batch, 333, { sigmoid: threads === 3 ? 'logistic' : 'probit' });
      const cpu = await collect(new CpuHybridSimulation(s), [9, 3]);
      const wasm = await collect(await WasmHybridSimulation.create({ ...s, threads }), [9, 3]);
      expect(wasm).toEqual(cpu);
    });
  }

  // PTRS on every draw (numax 20) with ranges that start off a multiple of four: the kernel's blocks of 128 neurons,
  // its lane queues and the one-lane tail all meet a range boundary.
  it('3 threads, every draw PTRS (numax 20), blocks and queues across the range boundaries', async () => {
    const s = spec('B1', 41, 1, 1001, { numax: 20 });
    const cpu = await collect(new CpuHybridSimulation(s), [5, 2]);
    const wasm = await collect(await WasmHybridSimulation.create({ ...s, threads: 3 }), [5, 2]);
    expect(wasm).toEqual(cpu);
  });

  // The network bench:peers times, at n = 1e5: input means ~25-60 per step, so both streams of every neuron take PTRS
  // through the kernel's blocks and lane queues, on the two threads the benchmark uses.
  it('the bench:peers network at n = 1e5 (every draw PTRS) on 2 threads', async () => {
    const params = [resolveParams('hybrid', hybridParameters, { variant: 'B1', sigmoid: 'probit', numax: 1, theta: 0, s: 1, tau: 1, JE: 1, JI: 2, muE: 1, muI: 0 })];
    const s: HybridSimulationSpec = { params, n: 100_000, dt: 1e-3, key: seedToKey(1), chunkSteps: 2 };
    const cpuSim = new CpuHybridSimulation(s);
    // PTRS territory (means of 10 and more): the input means of both populations, totals x meanPerUnit.
    const meanPerUnit = makeHybridInstance(params[0], s.n, s.dt).meanPerUnit;
    expect(cpuSim.initial[0].totalE * meanPerUnit).toBeGreaterThan(20);
    expect(cpuSim.initial[0].totalI * meanPerUnit).toBeGreaterThan(10);
    const cpu = await collect(cpuSim, [2]);
    const wasm = await collect(await WasmHybridSimulation.create({ ...s, threads: 2 }), [2]);
    expect(wasm).toEqual(cpu);
  }, 60_000);

  it('default threads: by neurons for a large instance, by instances for a batch of small ones, one for a small run', async () => {
    const { availableParallelism } = await import('node:os');
    const cores = Math.min(availableParallelism(), 64);
    expect(hybridDefaultThreads(1e5, 1)).toBe(cores);
    expect(hybridDefaultThreads(1000, 100)).toBe(Math.min(cores, 100));
    expect(hybridDefaultThreads(1000, 1)).toBe(Math.min(cores, 2));
    expect(hybridDefaultThreads(400, 1)).toBe(1);
    expect(hybridDefaultThreads(100, 3)).toBe(1);
    expect(hybridDefaultThreads(400, 3)).toBe(Math.min(cores, 2));
  });

  it("a sweep's estimate on wasm is the wasm kernel's, and grows with the grid's largest numax", () => {
    // Before: the sweep estimated wasm as the CPU reference (1.8 h said, 3 min taken for 4 x n = 2e4 x 28285 steps).
    const grids = [parseGridSpec('theta=0:1:4')];
    const counts = { total: 4, points: 4, mine: 4 };
    const request = { n: 20_000, T: 20 };
    const wasm = hybridSweep.estimate(request, grids, counts, { backend: 'wasm', threads: 2 });
    const cpu = hybridSweep.estimate(request, grids, counts, { backend: 'cpu' });
    expect(wasm.work.seconds.wasm).toBeDefined();
    expect(wasm.work.seconds.wasm!).toBeLessThan(cpu.work.seconds.cpu / 10);
    // numax 20 puts both input draws on PTRS (about 1.35x the cost per neuron-step of inversions, bench:peers; twice
    // the points): the estimate takes the grid's largest numax for every point.
    const ptrs = hybridSweep.estimate(request, [...grids, parseGridSpec('numax=1,20')], { total: 8, points: 8, mine: 8 }, { backend: 'wasm', threads: 2 });
    expect(ptrs.work.seconds.wasm! / 2).toBeGreaterThan(1.25 * wasm.work.seconds.wasm!);
  });

  it('refuses a thread count out of range, naming --threads', async () => {
    await expect(WasmHybridSimulation.create({ ...spec('B1', 1, 1, 10), threads: 0 })).rejects.toThrow(/--threads/);
  });
});

describe('ei run hybrid --backend wasm', () => {
  for (const [variant, seed, batch, threads] of [['B1', 3, 1, 1], ['B2', 4, 3, 2]] as const) {
    it(`writes the same tables as --backend cpu (${variant}, seed ${seed}, batch ${batch}, --threads ${threads})`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'ei-wasm-hybrid-'));
      dirs.push(out);
      const run = async (backend: string, extra: string[]) => {
        const dir = join(out, backend);
        const r = await ei('run', 'hybrid', '--n', '400', '--T', '0.2', '--batch', String(batch), '--seed', String(seed), '--set', `variant=${variant}`, '--set', 'burnin=0.05', '--backend', backend, ...extra, '--quiet', '--out', dir);
        expect(r.code, r.err).toBe(0);
        return { csv: readFileSync(join(dir, 'timeseries.csv'), 'utf8'), summary: JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')) };
      };
      const cpu = await run('cpu', []);
      const wasm = await run('wasm', ['--threads', String(threads)]);
      expect(wasm.csv === cpu.csv, 'timeseries.csv differs').toBe(true);
      expect(cpu.csv.split('\n').length).toBeGreaterThan(10);
      expect(stripRunFacts(wasm.summary)).toEqual(stripRunFacts(cpu.summary));
    });
  }
});
