// The wasm backend of binary equals the cpu reference exactly: every chunk's active counts, the histograms of m and of
// the patterns, the per-neuron active counts, the states and the entropies, for fixed in-degree and Erdos-Renyi
// connectivity, batches, partner tables and regenerated partners, and 1, 2 and 4 threads (whole instances per thread
// and neurons split per step); the tables of `ei run binary` / `ei sweep binary --backend wasm` and the engine's
// outputs against cpu.
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/engine.ts';
import { DisposedError } from '../src/errors.ts';
import { CpuBinarySimulation, type BinaryChunk, type BinaryParams, type BinarySimulationSpec } from '../src/models/binary/network.ts';
import { binaryDefaultThreads, WasmBinarySimulation, wasmBinaryLayout } from '../src/models/binary/wasm-simulation.ts';
import { binaryModel } from '../src/models/binary/index.ts';
import { binarySweep } from '../src/models/binary/sweep.ts';
import { parseGridSpec } from '../src/core/sweep-grid.ts';
import { ei } from './helpers/cli.ts';
import '../src/wasm/node-threads.ts';
import { stripRunFacts } from './helpers/summary.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

/** f64 bits, so that a last-bit difference in an entropy counts. */
const bits = (xs: Float64Array) => [...xs].map((x) => new DataView(Float64Array.of(x).buffer).getBigUint64(0, true).toString(16));

async function collect(sim: CpuBinarySimulation | WasmBinarySimulation, parts: number[]) {
  const chunks: BinaryChunk[] = [];
  for (const steps of parts) await sim.run(steps, { onChunk: (c) => chunks.push(c) });
  const out = {
    chunks: chunks.map((c) => [c.stepStart, c.steps, c.batch]),
    counts: chunks.flatMap((c) => [...c.counts]),
    hist: [...(await sim.histogram())],
    patterns: [...(await sim.patternHistogram())],
    active: [...(await sim.activeCounts())],
    state: [...(await sim.readState())],
    entropy: bits(await sim.entropyBits()),
    single: bits(await sim.meanSingleNeuronEntropyBits()),
    step: sim.step,
  };
  sim.dispose();
  sim.dispose();
  return out;
}

/** `batch` instances at and around the lambda = 1 boundary (WE = WI = 1 / (1 - 2 alpha)), each a little different. */
function spec(N: number, k: number, batch: number, extra: Partial<BinarySimulationSpec> & { connectivity?: BinaryParams['connectivity']; p0?: number; strength?: number } = {}): BinarySimulationSpec {
  const { connectivity, p0 = 1e-3, strength = 1, ...rest } = extra;
  const params = Array.from({ length: batch }, (_, b): BinaryParams => {
    const alpha = 0.2 + 0.03 * b;
    const W = (strength / (1 - 2 * alpha)) * (1 + 0.05 * (b % 3));
    return { N, k, alpha, WE: W, WI: W, p0, connectivity };
  });
  return { params, seed: 11, burnin: 9, chunkSteps: 7, patternNeurons: Math.min(6, N), ...rest };
}

describe('wasm binary equals the cpu reference bit for bit', () => {
  const cases: [string, BinarySimulationSpec, number[]][] = [
    ['fixed in-degree, batch 3', spec(50, 7, 3), [20, 13]],
    ['Erdos-Renyi, batch 2', spec(300, 30, 2, { connectivity: 'erdos-renyi' }), [17, 9]],
    ['N = 1000, k = 100, one instance, 16 pattern neurons', spec(1000, 100, 1, { patternNeurons: 16, burnin: 0 }), [25]],
    ['all-to-all (k = N - 1), batch 5, instance ids', spec(17, 16, 5, { instanceIds: [7, 3, 2 ** 32 - 1, 0, 12] }), [30, 1, 0, 9]],
    ['strong synapses, no spontaneous activity, batch 4', spec(200, 40, 4, { strength: 3, p0: 0 }), [20]],
    ['Erdos-Renyi with k = N - 1 (every pair), batch 2', spec(40, 39, 2, { connectivity: 'erdos-renyi', p0: 0.02 }), [12]],
    ['p0 = 1 (every neuron on), batch 2', spec(30, 5, 2, { p0: 1 }), [15]],
  ];
  for (const [name, s, parts] of cases) {
    for (const threads of [1, 2, 4]) {
      it(`${name}, ${threads} thread${threads === 1 ? '' : 's'}`, async () => {
        const cpu = await collect(new CpuBinarySimulation(s), parts);
        const wasm = await collect(await WasmBinarySimulation.create({ ...s, threads }), parts);
        expect(wasm).toEqual(cpu);
        // Not trivially equal: the counts move (unless p0 = 1 holds every neuron on) and the histogram is filled.
        if (s.params[0].p0 < 1) expect(new Set(cpu.counts).size).toBeGreaterThan(3);
        expect(cpu.hist.reduce((a, x) => a + x, 0)).toBe(s.params.length * (cpu.step - s.burnin));
      });
    }
  }

  it('regenerated partners (no table) give the same integers, for fixed in-degree and Erdos-Renyi, 1 and 3 threads', async () => {
    for (const s of [spec(120, 25, 3), spec(150, 20, 2, { connectivity: 'erdos-renyi' })]) {
      const cpu = await collect(new CpuBinarySimulation(s), [15]);
      for (const threads of [1, 3]) {
        const layout = wasmBinaryLayout({ N: s.params[0].N, k: s.params[0].k, batch: s.params.length, threads, erdosRenyi: s.params[0].connectivity === 'erdos-renyi', partnerCacheBytes: 0 });
        expect(layout.tables).toBe(false);
        expect(await collect(await WasmBinarySimulation.create({ ...s, threads, partnerCacheBytes: 0 }), [15])).toEqual(cpu);
      }
    }
  });

  it('4-byte table entries (N > 16384) give the same integers, split over 2 threads and whole', async () => {
    const s = spec(20_000, 3, 1, { burnin: 2, patternNeurons: 0 });
    const cpu = await collect(new CpuBinarySimulation(s), [6]);
    expect(await collect(await WasmBinarySimulation.create({ ...s, threads: 2 }), [6])).toEqual(cpu);
    expect(await collect(await WasmBinarySimulation.create({ ...s, params: [...s.params, ...s.params], threads: 2 }), [6])).toEqual(await collect(new CpuBinarySimulation({ ...s, params: [...s.params, ...s.params] }), [6]));
  });
});

describe('wasm binary threads, memory and estimates', () => {
  it('takes one thread per instance up to the cores for a batch, and splits one instance only when it is large', () => {
    const cores = availableParallelism();
    expect(binaryDefaultThreads(1000, 100, 20)).toBe(Math.min(cores, 20));
    // N = 1000, k = 100 counts as 4333 neuron updates: split over up to 4 threads (2 ran 7.3 s against 11.1 s for 1 on 2 cores, 2e5 steps).
    expect(binaryDefaultThreads(1000, 100, 1)).toBe(Math.min(cores, 4));
    expect(binaryDefaultThreads(200, 10, 1)).toBe(1);
    expect(binaryDefaultThreads(100_000, 100, 1)).toBe(Math.min(cores, 64));
  });

  it('holds 16 bytes per neuron, the chunk counts and the thread tables; estimates say so, and wasm below cpu in time', () => {
    const N = 1000;
    const k = 100;
    const L = wasmBinaryLayout({ N, k, batch: 20, threads: 2, erdosRenyi: false });
    const state = L.bytes - 2 * L.scratchBytes;
    expect(state).toBeGreaterThanOrEqual(20 * (16 * N + 4 + 4 * 1000));
    // Beyond that: 32 bytes of constants and 8 of partial counts per thread and instance, parameters and alignment.
    expect(state).toBeLessThan(20 * (16 * N + 4 + 4 * 1000 + 32 + 2 * 8) + 256);
    // One instance's table per thread: a header, an end per neuron and k 2-byte entries per neuron.
    expect(L.tables).toBe(true);
    expect(L.scratchBytes).toBe(Math.ceil((16 + 4 * N + 2 * N * k) / 16) * 16);
    // Beyond the cache limit: room for one neuron's partners only.
    const big = wasmBinaryLayout({ N: 100_000, k: 1000, batch: 1, threads: 2, erdosRenyi: false });
    expect(big.tables).toBe(false);
    expect(big.scratchBytes).toBe(Math.ceil((16 + 4 * 1000) / 16) * 16);
    const r = binaryModel.resolve({ n: N, steps: 200_000, params: { k } });
    const wasm = binaryModel.estimate(r, { backend: 'wasm', threads: 2 });
    const cpu = binaryModel.estimate(r, { backend: 'cpu' });
    expect(wasm.memory.filter((m) => /wasm memory/.test(m.what)).reduce((a, m) => a + m.bytes, 0)).toBe(wasmBinaryLayout({ N, k, batch: 1, threads: 2, erdosRenyi: false }).bytes);
    // Both include the annealed chain's seconds (the same on the host).
    expect(wasm.work.seconds.wasm).toBeLessThan(cpu.work.seconds.cpu / 5);
    const sweep = binarySweep.estimate({ n: N, steps: 2000, params: { k } }, [parseGridSpec('WE=0.5:2:4')], { total: 4, points: 4, mine: 4 }, { backend: 'wasm', threads: 2 });
    expect(sweep.memory.some((m) => /partner tables \(wasm memory, 2 threads\)/.test(m.what))).toBe(true);
    expect(sweep.work.seconds.wasm).toBeLessThan(sweep.work.seconds.cpu);
  });
});

describe('wasm binary refuses what it cannot run', () => {
  it('a bad thread count or cache size, naming the field', async () => {
    for (const threads of [0, 1.5, 65]) await expect(WasmBinarySimulation.create({ ...spec(20, 3, 1), threads })).rejects.toThrow(/--threads/);
    await expect(WasmBinarySimulation.create({ ...spec(20, 3, 1), partnerCacheBytes: -1 })).rejects.toThrow(/partnerCacheBytes/);
    await expect(WasmBinarySimulation.create({ ...spec(20, 3, 1), params: [] })).rejects.toThrow(/params/);
  });

  it('use after dispose', async () => {
    const sim = await WasmBinarySimulation.create({ ...spec(20, 3, 2), threads: 2 });
    sim.dispose();
    await expect(sim.run(1)).rejects.toThrow(DisposedError);
    await expect(sim.histogram()).rejects.toThrow(DisposedError);
  });

  it('`ei run binary --backend wasm --threads 0` is refused naming --threads, leaving no folder', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ei-wasm-binary-'));
    dirs.push(out);
    const r = await ei('run', 'binary', '--backend', 'wasm', '--threads', '0', '--quiet', '--out', join(out, 'x'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--threads/);
    expect(existsSync(join(out, 'x'))).toBe(false);
  });
});

describe('ei run / ei sweep binary --backend wasm', () => {

  for (const [connectivity, threads] of [['fixed-indegree', 2], ['erdos-renyi', 1]] as const) {
    it(`ei run writes the same tables as --backend cpu (${connectivity}, --threads ${threads})`, async () => {
      const out = mkdtempSync(join(tmpdir(), 'ei-wasm-binary-'));
      dirs.push(out);
      const run = async (backend: string, extra: string[]) => {
        const dir = join(out, backend);
        const r = await ei('run', 'binary', '--n', '300', '--steps', '900', '--set', 'k=30', '--set', 'burnin=100', '--set', `connectivity=${connectivity}`, '--seed', '5', '--backend', backend, ...extra, '--quiet', '--out', dir);
        expect(r.code, r.err).toBe(0);
        const read = (f: string) => readFileSync(join(dir, f), 'utf8');
        return { ts: read('timeseries.csv'), hist: read('histogram.csv'), summary: JSON.parse(read('summary.json')) };
      };
      const cpu = await run('cpu', []);
      const wasm = await run('wasm', ['--threads', String(threads)]);
      expect(wasm.ts === cpu.ts, 'timeseries.csv differs').toBe(true);
      expect(wasm.hist === cpu.hist, 'histogram.csv differs').toBe(true);
      expect(cpu.ts.split('\n').length).toBeGreaterThan(900);
      expect(stripRunFacts(wasm.summary)).toEqual(stripRunFacts(cpu.summary));
      expect(wasm.summary.backend).toBe('wasm');
    });
  }

  it('the engine: createEngine({ backend: "wasm" }) equals cpu in readState and outputs', async () => {
    const request = { n: 400, steps: 700, seed: 3, params: { k: 40, burnin: 100 } };
    const results = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      const engine = await createEngine({ backend, threads: backend === 'wasm' ? 2 : undefined, onNotice: () => {} });
      const sim = await engine.simulate('binary', request);
      const o = await sim.outputs();
      results.push({ backend: sim.backend, state: [...(await sim.readState())], files: o.files.filter((f) => f.name.endsWith('.csv')).map((f) => [f.name, f.content]) });
      engine.dispose();
    }
    expect(results.map((r) => r.backend)).toEqual(['cpu', 'wasm']);
    expect(results[1].state).toEqual(results[0].state);
    expect(results[1].files).toEqual(results[0].files);
    expect(new Set(results[0].state).size).toBe(2);
  });

  it('ei sweep writes the same sweep.csv as --backend cpu', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ei-wasm-binary-'));
    dirs.push(out);
    const sweep = async (backend: string) => {
      const dir = join(out, backend);
      const r = await ei('sweep', 'binary', '--n', '200', '--steps', '600', '--set', 'k=20', '--set', 'burnin=100', '--grid', 'WE=1.2:2:3', '--replicas', '2', '--max-batch', '4', '--backend', backend, '--quiet', '--out', dir);
      expect(r.code, r.err).toBe(0);
      return readFileSync(join(dir, 'sweep.csv'), 'utf8');
    };
    const cpu = await sweep('cpu');
    expect(await sweep('wasm')).toBe(cpu);
    expect(cpu.trim().split('\n')).toHaveLength(7);
  });
});
