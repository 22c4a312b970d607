// Conformance: the binary E-I network on WebGPU and the CPU reference draw the same bits and count the
// same integers, so active counts, states and histograms agree exactly; plus connectivity and regime checks.
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { WebGpuBinarySimulation } from '../src/models/binary/webgpu-simulation.ts';
import { CpuBinarySimulation, binaryLambda, makeBinaryPartners, makeErPartners, type BinaryParams, type BinarySimulationSpec } from '../src/models/binary/network.ts';
import { ParameterError } from '../src/errors.ts';
import { binaryModel } from '../src/models/binary/index.ts';

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

describe('binary E-I network: Erdos-Renyi connectivity', () => {
  it('partner sets are fixed over time, never contain i, and have mean size ~k', () => {
    const N = 2000;
    const k = 30;
    const sizes: number[] = [];
    let bad = 0;
    for (let i = 0; i < N; i++) {
      const p = makeErPartners(99, 4, i, N, k);
      expect(makeErPartners(99, 4, i, N, k)).toEqual(p);
      for (let t = 0; t < p.length; t++) {
        if (p[t] === i || p[t] >= N || (t > 0 && p[t] <= p[t - 1])) bad++;
      }
      sizes.push(p.length);
    }
    expect(bad).toBe(0);
    const mean = sizes.reduce((a, b) => a + b, 0) / N;
    const q = k / (N - 1);
    const se = Math.sqrt(((N - 1) * q * (1 - q)) / N);
    expect(Math.abs(mean - k)).toBeLessThan(5 * se);
    // The in-degree varies (not fixed), and another instance gets another graph.
    expect(new Set(sizes).size).toBeGreaterThan(5);
    expect(makeErPartners(99, 5, 0, N, k)).not.toEqual(makeErPartners(99, 4, 0, N, k));
    // p = 1 (k = N - 1): every other neuron.
    expect(Array.from(makeErPartners(5, 0, 3, 10, 9))).toEqual([0, 1, 2, 4, 5, 6, 7, 8, 9]);
  });

  it('WebGPU = CPU for an Erdos-Renyi batch, with pattern histograms and single-neuron entropies', async () => {
    const er: BinarySimulationSpec = {
      params: spec.params.map((p) => ({ ...p, connectivity: 'erdos-renyi' as const })),
      seed: 77,
      instanceIds: [3, 1, 4],
      burnin: 40,
      chunkSteps: 60,
      patternNeurons: 6,
    };
    const steps = 200;
    const gs = await WebGpuBinarySimulation.create(gpu.ctx, er);
    const cs = new CpuBinarySimulation(er);
    const extras = async (sim: WebGpuBinarySimulation | CpuBinarySimulation) => {
      await sim.run(0);
      return { pat: await sim.patternHistogram(), act: await sim.activeCounts(), h1: await sim.meanSingleNeuronEntropyBits() };
    };
    const runBoth = async (sim: WebGpuBinarySimulation | CpuBinarySimulation) => {
      const counts = new Uint32Array(steps * 3);
      await sim.run(steps, { onChunk: (c) => counts.set(c.counts, c.stepStart * 3) });
      const x = await extras(sim);
      const out = { counts, state: await sim.readState(), hist: await sim.histogram(), ...x };
      sim.dispose();
      return out;
    };
    const g = await runBoth(gs);
    const c = await runBoth(cs);
    expect(Array.from(g.counts)).toEqual(Array.from(c.counts));
    expect(g.state).toEqual(c.state);
    expect(g.hist).toEqual(c.hist);
    expect(g.pat).toEqual(c.pat);
    expect(g.act).toEqual(c.act);
    expect(Array.from(g.h1)).toEqual(Array.from(c.h1));
    expect(g.pat.length).toBe(3 * 64);
    for (let b = 0; b < 3; b++) {
      expect(g.pat.subarray(b * 64, (b + 1) * 64).reduce((s, x) => s + x, 0)).toBe(steps - er.burnin);
      expect(g.h1[b]).toBeGreaterThanOrEqual(0);
      expect(g.h1[b]).toBeLessThanOrEqual(1);
    }
    // Instance 0 (lambda ~ 0.76, p0 = 0.01) is active: some patterns and some per-neuron entropy.
    expect(g.h1[0]).toBeGreaterThan(0);
    expect(g.pat.subarray(0, 64).filter((x) => x > 0).length).toBeGreaterThan(1);
    // Per-neuron counts sum to the post-burnin sum of m.
    for (let b = 0; b < 3; b++) {
      let s = 0;
      for (let t = er.burnin; t < steps; t++) s += g.counts[t * 3 + b];
      expect(g.act.subarray(b * 500, (b + 1) * 500).reduce((a, x) => a + x, 0)).toBe(s);
    }
  }, 60_000);

  it('pattern histogram and single-neuron entropy agree for fixed in-degree too; M = 0 gives one bin', async () => {
    const fixed: BinarySimulationSpec = { ...spec, patternNeurons: 16, chunkSteps: 45 };
    const steps = 120;
    const out = [];
    for (const sim of [await WebGpuBinarySimulation.create(gpu.ctx, fixed), new CpuBinarySimulation(fixed)]) {
      await sim.run(steps);
      out.push({ pat: await sim.patternHistogram(), h1: await sim.meanSingleNeuronEntropyBits() });
      sim.dispose();
    }
    expect(out[0].pat).toEqual(out[1].pat);
    expect(Array.from(out[0].h1)).toEqual(Array.from(out[1].h1));
    for (let b = 0; b < 3; b++) expect(out[0].pat.subarray(b << 16, (b + 1) << 16).reduce((s, x) => s + x, 0)).toBe(steps - fixed.burnin);
    const off = await WebGpuBinarySimulation.create(gpu.ctx, spec);
    await off.run(80);
    expect(Array.from(await off.patternHistogram())).toEqual([30, 30, 30]);
    off.dispose();
  }, 60_000);

  it('rejects bad connectivity and pattern sizes', () => {
    const mk = (p: Partial<BinaryParams>, extra: Partial<BinarySimulationSpec> = {}) => () =>
      new CpuBinarySimulation({ params: [{ N: 100, k: 10, alpha: 0.2, WE: 1, WI: 1, p0: 0.01, ...p }], seed: 1, burnin: 0, ...extra });
    expect(mk({ connectivity: 'random' as never })).toThrow(/connectivity/);
    expect(mk({}, { patternNeurons: 17 })).toThrow(/patternNeurons/);
    expect(mk({ N: 8, k: 3 }, { patternNeurons: 9 })).toThrow(/patternNeurons/);
    expect(() => new CpuBinarySimulation({ params: [{ N: 100, k: 10, alpha: 0.2, WE: 1, WI: 1, p0: 0.01 }, { N: 100, k: 10, alpha: 0.2, WE: 1, WI: 1, p0: 0.01, connectivity: 'erdos-renyi' }], seed: 1, burnin: 0 })).toThrow(/connectivity/);
  });
});

describe('binary runner on WebGPU', () => {
  it('split run() calls on WebGPU equal one CPU call exactly (entropy within the reducer tolerance)', async () => {
    const r = binaryModel.resolve({ n: 80, steps: 400, seed: 5, recordEvery: 3, params: { k: 8, burnin: 40, WE: 1.4, WI: 1.2 } });
    const g = await binaryModel.createRunner(r, { backend: 'webgpu', ctx: gpu.ctx });
    const c = await binaryModel.createRunner(r, { backend: 'cpu' });
    try {
      for (const part of [1, 150, 0, 249]) await g.run(part);
      await c.run(400);
      const [rg, rc] = [await g.result(), await c.result()];
      expect(rg.histogram).toEqual(rc.histogram);
      expect(rg.timeseries).toEqual(rc.timeseries);
      expect(rg.meanActivity).toBe(rc.meanActivity);
      expect(Math.abs(rg.entropyBits - rc.entropyBits)).toBeLessThan(2e-6 * (1 + rc.entropyBits));
      expect(await g.readState()).toEqual(await c.readState());
    } finally {
      g.dispose();
      g.dispose();
      c.dispose();
    }
  });
});
