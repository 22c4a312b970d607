// The wasm backend of poisson equals the cpu reference exactly: chunk records (spike counts, f64 moments, spike bits,
// traces), the state bits, `ei run` tables byte for byte and the engine's readState, for batches and several seeds.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEngine } from '../src/engine/engine.ts';
import { modelList } from '../src/models/index.ts';
import { CpuPopulationSimulation } from '../src/models/poisson/cpu-simulation.ts';
import { poissonParameters } from '../src/models/poisson/params.ts';
import { poissonPopulation } from '../src/models/poisson/population.ts';
import type { RecordChunk, SimulationSpec } from '../src/models/poisson/simulation.ts';
import { WasmPopulationSimulation } from '../src/models/poisson/wasm-simulation.ts';
import { resolveParams } from '../src/core/params.ts';
import { seedToKey } from '../src/rng/index.ts';
import { ei } from './helpers/cli.ts';
import '../src/wasm/node-threads.ts';

const dirs: string[] = [];
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function collect(chunks: RecordChunk[]) {
  return {
    counts: chunks.flatMap((c) => [...c.counts]),
    population: chunks.flatMap((c) => [...c.population]),
    spikeBits: chunks.flatMap((c) => (c.spikeBits ? [...c.spikeBits] : [])),
    traces: chunks.flatMap((c) => (c.traces ? [...new Uint32Array(c.traces.buffer, c.traces.byteOffset, c.traces.length)] : [])),
    traceSteps: chunks.flatMap((c) => c.traceSteps),
    starts: chunks.map((c) => [c.stepStart, c.steps]),
  };
}

async function runBoth(spec: SimulationSpec, parts: number[], threads = 1) {
  const cpu = new CpuPopulationSimulation(spec);
  const wasm = await WasmPopulationSimulation.create({ ...spec, threads });
  const out = [];
  for (const sim of [cpu, wasm]) {
    const chunks: RecordChunk[] = [];
    for (const steps of parts) await sim.run(steps, { onChunk: (c) => chunks.push(c) });
    const state = await sim.readState();
    out.push({ ...collect(chunks), state: [...new Uint32Array(state.buffer)] });
    sim.dispose();
  }
  return out;
}

describe('wasm poisson simulation equals the cpu reference bit for bit', () => {
  const cases: [string, Record<string, string | number>[]][] = [
    ['probit (theta lowered so that neurons spike)', [{ theta: 0.2 }]],
    ['logistic, strong input (PTRS branch for the input counts)', [{ sigmoid: 'logistic', beta: 3, rIn: 150000, w: 0.001, numax: 2000 }]],
    ['mixed batch: high rates (PTRS spikes), drift, negative u', [{ numax: 200000, theta: -1, u0: 1 }, { mu: -40, u0: -1, sigmoid: 'logistic' }, { rIn: 30000, w: -0.01 }]],
  ];
  for (const [name, rows] of cases) {
    for (const seed of [1, 7, 2 ** 40 + 3]) {
      it(`${name}, seed ${seed}`, async () => {
        const params = rows.map((row) => resolveParams('poisson', poissonParameters, row));
        const spec: SimulationSpec = {
          model: poissonPopulation,
          params,
          n: 777,
          dt: 1e-4,
          key: seedToKey(seed),
          instanceIds: rows.length > 1 ? rows.map((_, i) => 5 + 3 * i) : undefined,
          recorders: { spikes: { neurons: [0, 3, 40, 776, 100, 31, 32, 33] }, traces: { neurons: [1, 776, 5], every: 3 }, chunkSteps: 7 },
        };
        const [cpu, wasm] = await runBoth(spec, [10, 1, 29]);
        expect(wasm.counts).toEqual(cpu.counts);
        expect(cpu.counts.some((c) => c > 0)).toBe(true);
        expect(wasm.spikeBits).toEqual(cpu.spikeBits);
        expect(wasm.population).toEqual(cpu.population);
        expect(wasm.traces).toEqual(cpu.traces);
        expect(wasm.traceSteps).toEqual(cpu.traceSteps);
        expect(wasm.starts).toEqual(cpu.starts);
        expect(wasm.state).toEqual(cpu.state);
      });
    }
  }
});

describe('wasm poisson on worker threads equals the cpu reference for any thread count', () => {
  for (const threads of [2, 3, 4]) {
    it(`${threads} threads (uneven neuron ranges, batch 2, spikes and traces)`, async () => {
      const rows: Record<string, string | number>[] = [{ theta: 0.2 }, { numax: 200000, theta: -1, u0: 1, sigmoid: 'logistic' }];
      const spec: SimulationSpec = {
        model: poissonPopulation,
        params: rows.map((row) => resolveParams('poisson', poissonParameters, row)),
        n: 1001,
        dt: 1e-4,
        key: seedToKey(9),
        recorders: { spikes: { neurons: [0, 250, 251, 500, 750, 1000, 2, 999] }, traces: { neurons: [0, 1000], every: 2 }, chunkSteps: 5 },
      };
      const [cpu, wasm] = await runBoth(spec, [12, 13], threads);
      expect(wasm.counts).toEqual(cpu.counts);
      expect(wasm.spikeBits).toEqual(cpu.spikeBits);
      expect(cpu.spikeBits.some((x) => x !== 0)).toBe(true);
      expect(wasm.population).toEqual(cpu.population);
      expect(wasm.traces).toEqual(cpu.traces);
      expect(wasm.state).toEqual(cpu.state);
    });
  }
});

describe('--backend wasm', () => {
  const run = async (backend: string, extra: string[]) => {
    const out = mkdtempSync(join(tmpdir(), `ei-wasm-${backend}-`));
    dirs.push(out);
    const r = await ei('run', 'poisson', '--backend', backend, '--quiet', '--out', join(out, 'r'), ...extra);
    expect(r.code, r.err).toBe(0);
    const read = (f: string) => readFileSync(join(out, 'r', f), 'utf8');
    return { ts: read('timeseries.csv'), spikes: read('spikes.csv'), traces: read('traces.csv'), config: JSON.parse(read('config.json')), err: r.err };
  };

  for (const [seed, batch, threads] of [[3, 1, 1], [11, 3, 1], [4, 2, 2]]) {
    it(`ei run poisson writes the same tables as --backend cpu (seed ${seed}, batch ${batch}, --threads ${threads})`, async () => {
      const extra = ['--n', '2000', '--steps', '300', '--batch', String(batch), '--seed', String(seed), '--set', 'burnin=0.01', '--record-traces', '20', '--trace-every', '7'];
      const cpu = await run('cpu', extra);
      const wasm = await run('wasm', [...extra, '--threads', String(threads)]);
      expect(wasm.config.backend).toBe('wasm');
      expect(wasm.config.adapter.architecture).toBe('wasm');
      expect(wasm.ts === cpu.ts, 'timeseries.csv differs').toBe(true);
      expect(wasm.spikes === cpu.spikes, 'spikes.csv differs').toBe(true);
      expect(wasm.traces === cpu.traces, 'traces.csv differs').toBe(true);
      expect(cpu.spikes.split('\n').length).toBeGreaterThan(10);
    });
  }

  it('ei sweep poisson --backend wasm (default threads, and --threads 2) writes the same sweep.csv as --backend cpu, and records the threads', async () => {
    const csv = [];
    const threads = [];
    const used = [];
    for (const extra of [['--backend', 'cpu'], ['--backend', 'wasm'], ['--backend', 'wasm', '--threads', '2']]) {
      const out = mkdtempSync(join(tmpdir(), 'ei-wasm-sweep-'));
      dirs.push(out);
      const r = await ei('sweep', 'poisson', '--grid', 'theta=0:1:3', '--replicas', '2', '--n', '500', '--steps', '100', '--set', 'burnin=0.001', ...extra, '--quiet', '--out', join(out, 's'));
      expect(r.code, r.err).toBe(0);
      csv.push(readFileSync(join(out, 's', 'sweep.csv'), 'utf8'));
      threads.push(JSON.parse(readFileSync(join(out, 's', 'config.json'), 'utf8')).threads);
      used.push(JSON.parse(readFileSync(join(out, 's', 'summary.json'), 'utf8')).threadsUsed);
    }
    expect(csv[1] === csv[0], 'sweep.csv differs (wasm)').toBe(true);
    expect(csv[2] === csv[0], 'sweep.csv differs (wasm, 2 threads)').toBe(true);
    expect(csv[0].split('\n').length).toBeGreaterThan(6);
    // cpu takes no threads (null); wasm's default is each batch's own, --threads is recorded.
    expect(threads).toEqual([null, 'model default per batch', 2]);
    // summary.json: the threads the batches ran on (one batch here; a 500-neuron run is too short for the default to start workers).
    expect(used).toEqual([undefined, [1], [2]]);
  });

  it('--threads is refused where it does nothing: with --backend cpu or webgpu, and when auto picks another backend', async () => {
    const { checkThreadsFlag } = await import('../src/cli/run-command.ts');
    expect(() => checkThreadsFlag(true, 'cpu')).toThrow('--threads has no effect with --backend cpu');
    expect(() => checkThreadsFlag(true, 'webgpu')).toThrow('--threads has no effect with --backend webgpu');
    expect(() => checkThreadsFlag(true, 'auto')).not.toThrow();
    expect(() => checkThreadsFlag(true, 'auto', 'wasm')).not.toThrow();
    expect(() => checkThreadsFlag(true, 'auto', 'webgpu')).toThrow('--backend auto picked webgpu, which does not take --threads');
    expect(() => checkThreadsFlag(false, 'cpu', 'cpu')).not.toThrow();
    const r = await ei('sweep', 'poisson', '--grid', 'theta=0:1:3', '--backend', 'cpu', '--threads', '2', '--quiet', '--out', join(tmpdir(), 'ei-threads-never'));
    expect(r.code).toBe(2);
    expect(r.err).toContain('--threads has no effect with --backend cpu');
  });

  it('--backend wasm for a model without wasm kernels is refused, naming the models that have them', async () => {
    const { checkWasmBackend } = await import('../src/cli/run-command.ts');
    const have = modelList.filter((m) => m.wasm).map((m) => m.id).join(', ');
    expect(have).toMatch(/^poisson, hybrid/);
    // Every registered model has kernels now: a model registered without them (a new one) meets the refusal.
    expect(() => checkWasmBackend({ id: 'new-model', wasm: false }, 'wasm')).toThrow(`new-model has no wasm kernels (models with a wasm backend: ${have})`);
    expect(() => checkWasmBackend({ id: 'new-model', wasm: false }, 'cpu')).not.toThrow();
    for (const m of modelList.filter((x) => !x.wasm)) {
      const r = await ei('run', m.id, '--backend', 'wasm', '--quiet', '--out', join(tmpdir(), 'ei-wasm-never'));
      expect(r.code).toBe(2);
      expect(r.err).toContain(`${m.id} has no wasm kernels`);
    }
  });

  it('--threads goes with auto when it picks wasm (no hardware GPU here), and is refused with --backend cpu', async () => {
    const out = mkdtempSync(join(tmpdir(), 'ei-wasm-auto-threads-'));
    dirs.push(out);
    const t = await ei('run', 'poisson', '--n', '300', '--steps', '50', '--set', 'burnin=0.001', '--threads', '2', '--quiet', '--out', join(out, 'r'));
    expect(t.code, t.err).toBe(0);
    const config = JSON.parse(readFileSync(join(out, 'r', 'config.json'), 'utf8'));
    expect([config.backend, config.threads]).toEqual(['wasm', 2]);
    const c = await ei('run', 'poisson', '--threads', '2', '--backend', 'cpu', '--quiet', '--out', join(tmpdir(), 'ei-wasm-never'));
    expect(c.code).toBe(2);
    expect(c.err).toMatch(/--threads has no effect with --backend cpu/);
  });

  it('the engine: createEngine({ backend: "wasm" }) equals cpu in readState and outputs; a model without kernels refuses it', async () => {
    const request = { n: 3000, steps: 120, batch: 2, seed: 5, params: { burnin: 0.001 } };
    const results = [];
    for (const backend of ['cpu', 'wasm'] as const) {
      const engine = await createEngine({ backend, threads: backend === 'wasm' ? 2 : undefined, onNotice: () => {} });
      expect(engine.backend).toBe(backend);
      const sim = await engine.simulate('poisson', request);
      const state = await sim.readState();
      const o = await sim.outputs();
      results.push({ state: [...new Uint32Array(state.buffer)], files: o.files.filter((f) => f.name.endsWith('.csv')).map((f) => [f.name, f.content]), backend: sim.backend });
      if (backend === 'wasm') {
        expect(engine.models.find((m) => m.id === 'poisson')?.wasm).toBe(true);
        for (const m of modelList.filter((x) => !x.wasm)) await expect(engine.simulate(m.id, {})).rejects.toThrow(`${m.id} has no wasm kernels`);
      }
      engine.dispose();
    }
    expect(results[1].backend).toBe('wasm');
    expect(results[1].state).toEqual(results[0].state);
    expect(results[1].files).toEqual(results[0].files);
  });
});

describe('wasm default thread count', () => {
  it('uses every core for large instances, one thread per neuronsPerThreadMin (1000) neurons at most, and 1 for small ones', async () => {
    const { availableParallelism } = await import('node:os');
    const { defaultThreadCount, neuronsPerThreadMin } = await import('../src/wasm/threads.ts');
    expect(neuronsPerThreadMin).toBe(1000);
    expect(defaultThreadCount(999, 64)).toBe(1);
    expect(defaultThreadCount(1999, 64)).toBe(1);
    expect(defaultThreadCount(2 * neuronsPerThreadMin, 64)).toBe(Math.min(2, availableParallelism()));
    expect(defaultThreadCount(1e7, 64)).toBe(Math.min(64, availableParallelism()));
    expect(defaultThreadCount(1e7, 1)).toBe(1);
  });
});
