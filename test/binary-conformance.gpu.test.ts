// Conformance: the binary E-I network on WebGPU and the CPU reference draw the same bits and count the
// same integers, so active counts, states and histograms agree exactly; plus connectivity and regime checks.
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { WebGpuBinarySimulation } from '../src/backends/webgpu/binary-simulation.ts';
import { CpuBinarySimulation, binaryLambda, makeBinaryPartners, type BinaryParams, type BinarySimulationSpec } from '../src/models/binary/network.ts';
import { ParameterError } from '../src/errors.ts';

const gpu = useGpu();

interface Sim {
  run: CpuBinarySimulation['run'];
  histogram(): Promise<Uint32Array>;
  readState(): Promise<Uint32Array>;
  dispose(): void;
}

async function collect(sim: Sim, steps: number, batch: number) {
  const counts = new Uint32Array(steps * batch);
  const starts: number[] = [];
  await sim.run(steps, {
    onChunk: (c) => {
      starts.push(c.stepStart);
      counts.set(c.counts, c.stepStart * batch);
    },
  });
  const out = { counts, starts, state: await sim.readState(), hist: await sim.histogram() };
  sim.dispose();
  sim.dispose();
  return out;
}

const base = { N: 500, k: 20 };
const spec: BinarySimulationSpec = {
  params: [
    { ...base, alpha: 0.2, WE: 1.2, WI: 1.0, p0: 0.01 },
    { ...base, alpha: 0.1, WE: 2.5, WI: 3.0, p0: 0.001 },
    { ...base, alpha: 0.35, WE: 1.0, WI: 0.5, p0: 0.05 },
  ],
  seed: 1234,
  instanceIds: [7, 2, 9],
  burnin: 50,
  chunkSteps: 70,
};

describe('binary E-I network: WebGPU = CPU reference', () => {
  const steps = 300;

  it('counts per step, final states and histograms are equal exactly', async () => {
    const g = await collect(await WebGpuBinarySimulation.create(gpu.ctx, spec), steps, 3);
    const c = await collect(new CpuBinarySimulation(spec), steps, 3);
    expect(g.starts).toEqual([0, 70, 140, 210, 280]);
    expect(Array.from(g.counts)).toEqual(Array.from(c.counts));
    expect(g.state).toEqual(c.state);
    expect(g.hist).toEqual(c.hist);
    for (let b = 0; b < 3; b++) {
      const row = g.hist.subarray(b * 501, (b + 1) * 501);
      expect(row.reduce((s, x) => s + x, 0)).toBe(steps - spec.burnin);
    }
    // The instances are not trivially identical.
    expect(new Set([0, 1, 2].map((b) => g.counts[(steps - 1) * 3 + b])).size).toBeGreaterThan(1);
  }, 30_000);
});

describe('binary E-I network: model', () => {
  it('partners are k distinct indices != i, fixed over time', () => {
    const N = 500;
    const k = 20;
    for (const i of [0, 1, 250, 498, 499]) {
      const p = makeBinaryPartners(1234, 7, i, N, k);
      expect(new Set(p).size).toBe(k);
      for (const j of p) {
        expect(j).not.toBe(i);
        expect(j).toBeLessThan(N);
      }
      expect(makeBinaryPartners(1234, 7, i, N, k)).toEqual(p);
      expect(makeBinaryPartners(1234, 8, i, N, k)).not.toEqual(p);
    }
    // k = N - 1: every other neuron exactly once.
    const all = makeBinaryPartners(5, 0, 3, 10, 9);
    expect(Array.from(all).sort((a, b) => a - b)).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
    // Partners are spread: over many neurons every index is hit about k times.
    const hits = new Uint32Array(N);
    for (let i = 0; i < N; i++) for (const j of makeBinaryPartners(1, 0, i, N, k)) hits[j]++;
    expect(Math.max(...hits)).toBeLessThan(3 * k);
  });

  it('inhibition-dominant activity stays near p0; excitation-dominant runs high', async () => {
    const N = 400;
    const k = 40;
    const inh: BinaryParams = { N, k, alpha: 0.2, WE: 1, WI: 1.5, p0: 1e-3 };
    const exc: BinaryParams = { N, k, alpha: 0.2, WE: 3, WI: 2, p0: 1e-3 };
    expect(binaryLambda(inh)).toBeCloseTo(0.5, 12);
    expect(binaryLambda(exc)).toBeCloseTo(2, 12);
    const sim = await WebGpuBinarySimulation.create(gpu.ctx, { params: [inh, exc], seed: 3, burnin: 100, chunkSteps: 200 });
    await sim.run(400);
    const h = await sim.histogram();
    sim.dispose();
    const mean = (b: number) => {
      let s = 0;
      let w = 0;
      for (let m = 0; m <= N; m++) {
        s += m * h[b * (N + 1) + m];
        w += h[b * (N + 1) + m];
      }
      return s / w / N;
    };
    expect(mean(0)).toBeLessThan(5e-3);
    expect(mean(1)).toBeGreaterThan(0.5);
  }, 20_000);

  it('rejects invalid parameters, naming the field', () => {
    const bad = (p: Partial<BinaryParams>, extra: Partial<BinarySimulationSpec> = {}) => () =>
      new CpuBinarySimulation({ params: [{ N: 100, k: 10, alpha: 0.2, WE: 1, WI: 1, p0: 0.01, ...p }], seed: 1, burnin: 0, ...extra });
    expect(bad({ k: 100 })).toThrow(/invalid k/);
    expect(bad({ alpha: 1 })).toThrow(/alpha/);
    expect(bad({ p0: 1.5 })).toThrow(/p0/);
    expect(bad({ WE: -1 })).toThrow(/WE/);
    expect(bad({ WI: Number.NaN })).toThrow(/WI/);
    expect(bad({ N: (1 << 20) + 1 })).toThrow(/invalid N/);
    expect(bad({}, { burnin: -1 })).toThrow(ParameterError);
    expect(bad({}, { instanceIds: [1, 2] })).toThrow(/instanceIds/);
  });
});
