// The wasm backend of rate equals the cpu reference exactly: final states and every sample row, as bits, for mixed
// batches (relu, clip and softclip lanes in one group, sizes not multiples of the 8 lanes), Euler and RK4, split
// run() calls, sample-buffer windows and 1-4 threads; the kernel's tanh against rateTanh; `ei run` and `ei sweep`.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ParameterError } from '../src/errors.ts';
import type { Activation, Circuit } from '../src/models/rate/circuit.ts';
import { makeInitialStates, type RateChunk } from '../src/models/rate/experiment.ts';
import { rateModel } from '../src/models/rate/index.ts';
import { RateCpuIntegrator, rateTanh, type RateBatch } from '../src/models/rate/integrate-cpu.ts';
import { RateWasmIntegrator } from '../src/models/rate/wasm-integrator.ts';
import { rngCreate, rngUniform } from '../src/rng/index.ts';
import { heapBase, instantiateKernels } from '../src/wasm/kernels.ts';
import { ei } from './helpers/cli.ts';
import '../src/wasm/node-threads.ts';
import { stripRunFacts } from './helpers/summary.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

const bits = (a: Float32Array | null): number[] => (a ? Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length)) : []);

/** n cells, the first half excitatory, Dale signs, weights ~ 1/sqrt(n), time constants in [0.5, 1.5]; activation by index. */
function makeCircuit(seed: number, n: number, kind: Activation['kind']): Circuit {
  const r = rngCreate([seed, 17], 310, 0, 0, 0);
  const u = () => rngUniform(r);
  const excitatory = Array.from({ length: n }, (_, i) => i < Math.ceil(n / 2));
  const W = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) W[i * n + j] = ((excitatory[j] ? 1.4 : -1.6) * u()) / Math.sqrt(n);
  return {
    n, W, u: Float64Array.from({ length: n }, () => 3 * u() - 0.5), tau: Float64Array.from({ length: n }, () => 0.5 + u()),
    activation: kind === 'relu' ? { kind } : { kind, xmax: 0.3 + 4 * u() }, labels: excitatory.map((e, i) => `${e ? 'E' : 'I'}${i}`), excitatory,
  };
}

const kinds: Activation['kind'][] = ['relu', 'clip', 'softclip'];

function makeBatch(B: number, n: number, method: 'euler' | 'rk4', steps: number, sampleEvery: number | undefined, seed: number): RateBatch {
  const circuits = Array.from({ length: B }, (_, b) => makeCircuit(seed + b, n, kinds[b % 3]));
  return { circuits, x0: makeInitialStates(n, B, 4, [seed, 5]), dt: 0.01, steps, method, sampleEvery };
}

async function cpuRun(batch: RateBatch) {
  const it = new RateCpuIntegrator(batch);
  await it.run(batch.steps);
  return { state: await it.readState(), samples: it.samples };
}

async function wasmRun(batch: RateBatch, threads: number, parts: number[], options = {}) {
  const it = await RateWasmIntegrator.create(batch, threads, options);
  for (const k of parts) await it.run(k);
  expect(it.stepsDone).toBe(batch.steps);
  const out = { state: await it.readState(), samples: it.samples, backend: it.backend };
  it.dispose();
  it.dispose();
  await expect(it.run(0)).rejects.toThrow(/disposed/);
  return out;
}

describe('wasm rate equals the cpu reference bit for bit', () => {
  const cases: [string, RateBatch, number[]][] = [
    // Groups of 16 lanes run 1-4 f32x4 chains (ceil(lanes / 4)): the cases cover every chain count, full and partial;
    // pairs of more than one chain take runPairs (each chain's step in registers), larger circuits runChains.
    ['Wilson-Cowan pairs, 13 circuits (one group, four chains, the last partial), RK4, samples every 7 steps', makeBatch(13, 2, 'rk4', 2000, 7, 1), [1, 999, 1000]],
    ['Wilson-Cowan pairs, 8 circuits (two full chains), Euler', makeBatch(8, 2, 'euler', 3000, 3000, 2), [3000]],
    ['random 23-cell circuits, 9 circuits (three chains), RK4, samples every 50 steps', makeBatch(9, 23, 'rk4', 600, 50, 3), [333, 267]],
    ['random 5-cell circuits, 3 circuits (one partial chain), Euler, no samples', makeBatch(3, 5, 'euler', 1500, undefined, 4), [1500]],
    ['Wilson-Cowan pairs, 37 circuits (two full groups, then two chains), RK4, samples every 3 steps', makeBatch(37, 2, 'rk4', 900, 3, 5), [450, 450]],
    // One chain of pairs takes the kernel that keeps the state in locals (runPair).
    ['Wilson-Cowan pairs, 3 circuits (relu, clip, softclip in one chain, state in locals), RK4, samples every 4 steps', makeBatch(3, 2, 'rk4', 1000, 4, 6), [1, 499, 500]],
    ['one Wilson-Cowan pair, Euler, samples every step', makeBatch(1, 2, 'euler', 700, 1, 7), [350, 350]],
    ['Wilson-Cowan pairs, 34 circuits (the third group is one chain of two: samples at lanes 32, 33), RK4', makeBatch(34, 2, 'rk4', 600, 5, 8), [600]],
  ];
  for (const [label, batch, parts] of cases) {
    it(label, async () => {
      const c = await cpuRun(batch);
      // Not degenerate: the states moved away from x0, and softclip / clip lanes saturate somewhere.
      expect(bits(c.state)).not.toEqual(bits(batch.x0));
      const w = await wasmRun(batch, 1, parts);
      expect(w.backend).toBe('wasm');
      expect(bits(w.state)).toEqual(bits(c.state));
      expect(bits(w.samples)).toEqual(bits(c.samples));
    });
  }

  it('sample rows through a wasm buffer of 3 rows (many windows) equal the reference', async () => {
    const batch = makeBatch(11, 4, 'rk4', 1000, 9, 5);
    const c = await cpuRun(batch);
    const w = await wasmRun(batch, 1, [10, 490, 500], { sampleBudgetBytes: 3 * 4 * 11 * 4 });
    expect(bits(w.samples)).toEqual(bits(c.samples));
    expect(bits(w.state)).toEqual(bits(c.state));
  });

  it('the lane-wise tanh equals rateTanh bit for bit (both branches, the 0.125 boundary, 0, large values, inf, NaN)', async () => {
    const k = await instantiateKernels(1 << 16);
    const r = rngCreate([3, 3], 311, 0, 0, 0);
    const values = [0, 1e-30, 1e-8, 0.0625, 0.125, Math.fround(0.125) - 2 ** -26, Math.fround(0.125) + 2 ** -26, 0.5, 1, 3, 9, 43.5, 44, 88, 1e30, Infinity, NaN];
    while (values.length < 4000) values.push(rngUniform(r) * 2 ** (16 * rngUniform(r) - 12));
    const x = new Float32Array(k.memory.buffer, heapBase, values.length);
    x.set(values);
    const expected = Float32Array.from(x, (y) => rateTanh(y));
    k.rateTanhArray(heapBase, values.length);
    expect(bits(x)).toEqual(bits(expected));
    // Both branches were taken.
    expect(values.filter((y) => y < 0.125).length).toBeGreaterThan(100);
    expect(values.filter((y) => y >= 0.125).length).toBeGreaterThan(100);
  });
});

describe('wasm rate on worker threads equals the cpu reference for any thread count', () => {
  const batch = makeBatch(37, 6, 'rk4', 800, 20, 7);
  let cpu: Awaited<ReturnType<typeof cpuRun>> | null = null;
  for (const threads of [2, 3, 4]) {
    it(`${threads} threads, 37 circuits (3 groups of 16, 16 and 5: uneven shares), split calls`, async () => {
      cpu ??= await cpuRun(batch);
      const w = await wasmRun(batch, threads, [1, 399, 400]);
      expect(bits(w.state)).toEqual(bits(cpu.state));
      expect(bits(w.samples)).toEqual(bits(cpu.samples));
    });
  }

  it('refuses a thread count out of range, naming --threads', async () => {
    for (const t of [0, 2.5, 65]) await expect(RateWasmIntegrator.create(batch, t)).rejects.toThrow(ParameterError);
    await expect(RateWasmIntegrator.create(batch, 0)).rejects.toThrow(/--threads/);
  });
});

describe('the rate runner on wasm', () => {
  it('split run() calls hand out every sample row once and give the result of the cpu runner', async () => {
    const request = { params: { circuit: 'lateral', channels: 3, activation: 'softclip', xmax: 2, initial: 11 }, T: 12.34, dt: 0.01, seed: 3 };
    const r = rateModel.resolve(request);
    const results = [];
    for (const target of [{ backend: 'cpu' as const }, { backend: 'wasm' as const, threads: 2 }]) {
      const runner = await rateModel.createRunner(r, target);
      const chunks: RateChunk[] = [];
      for (const k of [1, 2, 999, 7, 0, 225]) await runner.run(k, { onChunk: (c) => chunks.push(c) });
      const res = await runner.result();
      expect(chunks.flatMap((c) => c.sampleSteps)).toEqual(res.sampleSteps);
      results.push({ backend: runner.backend, samples: bits(res.samples), final: bits(res.final), summary: res.summary, rows: chunks.map((c) => c.firstRow) });
      runner.dispose();
    }
    expect(results[1].backend).toBe('wasm');
    expect(results[1].samples).toEqual(results[0].samples);
    expect(results[1].final).toEqual(results[0].final);
    expect(results[1].summary).toEqual(results[0].summary);
  });

  it('stops at a chunk boundary when aborted', async () => {
    const r = rateModel.resolve({ params: { circuit: 'lateral', channels: 12, initial: 64 }, T: 4000, dt: 0.01 });
    const runner = await rateModel.createRunner(r, { backend: 'wasm', threads: 1 });
    const ac = new AbortController();
    let calls = 0;
    await expect(runner.run(r.steps, { signal: ac.signal, onProgress: () => (++calls === 1 ? ac.abort() : undefined) })).rejects.toSatisfy((e) => (e as Error).name === 'AbortError');
    expect(runner.stepsDone).toBeGreaterThan(0);
    expect(runner.stepsDone).toBeLessThan(r.steps);
    runner.dispose();
  });

  it('the model takes the wasm backend, with threads from the machine for long batched runs only, and estimates it', () => {
    expect(rateModel.wasm).toBe(true);
    const small = rateModel.resolve({});
    expect(rateModel.wasmThreads!(small)).toBe(1);
    const est = rateModel.estimate(small, { backend: 'wasm' });
    expect(est.work.seconds.wasm).toBeLessThan(est.work.seconds.cpu);
    expect(est.memory.some((m) => /wasm memory/.test(m.what))).toBe(true);
  });
});

describe('ei run / sweep rate --backend wasm', () => {
  it('ei run writes the same timeseries.csv and summary as --backend cpu (lateral, --threads 2)', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ei-wasm-rate-'));
    dirs.push(out);
    const run = async (backend: string, extra: string[]) => {
      const dir = join(out, backend);
      const r = await ei('run', 'rate', '--set', 'circuit=lateral', '--set', 'channels=4', '--set', 'activation=clip', '--set', 'xmax=3', '--set', 'initial=20', '--T', '20', '--seed', '6', '--backend', backend, ...extra, '--quiet', '--out', dir);
      expect(r.code, r.err).toBe(0);
      return { csv: readFileSync(join(dir, 'timeseries.csv'), 'utf8'), summary: JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8')), config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')) };
    };
    const cpu = await run('cpu', []);
    const wasm = await run('wasm', ['--threads', '2']);
    expect(wasm.config.backend).toBe('wasm');
    expect(wasm.config.threads).toBe(2);
    expect(wasm.csv === cpu.csv, 'timeseries.csv differs').toBe(true);
    expect(cpu.csv.split('\n').length).toBeGreaterThan(400);
    expect(stripRunFacts(wasm.summary)).toEqual(stripRunFacts(cpu.summary));
  });

  it('ei sweep writes the same sweep.csv as --backend cpu, and records the threads asked and used', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ei-wasm-rate-sweep-'));
    dirs.push(out);
    const csv: string[] = [];
    const threads: unknown[][] = [];
    for (const [name, extra] of [['cpu', ['--backend', 'cpu']], ['wasm', ['--backend', 'wasm', '--threads', '8']]] as const) {
      const r = await ei('sweep', 'rate', '--grid', 'wEE=0.2:2.5:6', '--grid', 'activation=relu,softclip', '--set', 'initial=3', '--T', '10', ...extra, '--quiet', '--out', join(out, name));
      expect(r.code, r.err).toBe(0);
      csv.push(readFileSync(join(out, name, 'sweep.csv'), 'utf8'));
      const json = (f: string) => JSON.parse(readFileSync(join(out, name, f), 'utf8'));
      threads.push([json('config.json').threads, json('summary.json').threadsUsed]);
    }
    expect(csv[1] === csv[0], 'sweep.csv differs').toBe(true);
    expect(csv[0].split('\n').length).toBeGreaterThan(12);
    // 12 points x 3 initial states = 36 circuits: three groups of sixteen, so 3 of the 8 threads asked.
    expect(threads).toEqual([[null, undefined], [8, [3]]]);
  });

  it('refuses a bad --threads value, naming the flag', async () => {
    const r = await ei('run', 'rate', '--backend', 'wasm', '--threads', '65', '--quiet', '--out', join(tmpdir(), 'ei-wasm-rate-never'));
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--threads/);
  });
});
