// Conformance: the poisson model on WebGPU and on the CPU reference consume the same random bits.
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { createSimulation } from '../src/models/poisson/create-simulation.ts';
import type { RecordChunk, SimulationSpec } from '../src/models/poisson/simulation.ts';
import { resolveParams } from '../src/core/params.ts';
import { poissonParameters } from '../src/models/poisson/index.ts';
import { poissonPopulation } from '../src/models/poisson/population.ts';
import { seedToKey } from '../src/rng/index.ts';

const gpu = useGpu();

interface Collected {
  counts: number[];
  population: number[];
  spikeBits: number[];
  traces: number[];
  traceSteps: number[];
  chunks: number;
}

async function runOn(backend: 'cpu' | 'webgpu', spec: SimulationSpec, steps: number): Promise<{ c: Collected; state: Float32Array }> {
  const sim = await createSimulation(spec, backend, gpu.ctx);
  const c: Collected = { counts: [], population: [], spikeBits: [], traces: [], traceSteps: [], chunks: 0 };
  await sim.run(steps, {
    onChunk: (ch: RecordChunk) => {
      c.chunks++;
      c.counts.push(...ch.counts);
      c.population.push(...ch.population);
      if (ch.spikeBits) c.spikeBits.push(...ch.spikeBits);
      if (ch.traces) c.traces.push(...ch.traces);
      c.traceSteps.push(...ch.traceSteps);
    },
  });
  const state = await sim.readState();
  sim.dispose();
  sim.dispose();
  return { c, state };
}

const params = [
  resolveParams('poisson', poissonParameters, { sigmoid: 'probit', rIn: 2000 }),
  resolveParams('poisson', poissonParameters, { sigmoid: 'logistic', rIn: 800, theta: 1 }),
  // Large input means (2e4 per step) exercise the rejection sampler, not only inversion.
  resolveParams('poisson', poissonParameters, { sigmoid: 'probit', rIn: 2e8, w: 1e-6, mu: 50, numax: 5e5, u0: 1.5 }),
];

function firstDifference(a: ArrayLike<number>, b: ArrayLike<number>): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) if (!Object.is(a[i], b[i])) return i;
  return -1;
}

describe('poisson model: WebGPU = CPU reference', () => {
  const spec: SimulationSpec = {
    model: poissonPopulation,
    params,
    n: 1000, // not a multiple of the workgroup size
    dt: 1e-4,
    key: seedToKey(2024),
    instanceIds: [4, 9, 1],
    recorders: { spikes: { neurons: [0, 1, 2, 31, 32, 33, 500, 999] }, traces: { neurons: [0, 7, 999], every: 7 }, chunkSteps: 64 },
  };
  const steps = 150; // 3 chunks, the last one partial

  it('spike counts, spike bitfields, traces and final state are identical', async () => {
    const g = await runOn('webgpu', spec, steps);
    const c = await runOn('cpu', spec, steps);
    expect(g.c.chunks).toBe(3);
    expect(g.c.counts.length).toBe(steps * params.length);
    expect(g.c.counts.reduce((s, x) => s + x, 0)).toBeGreaterThan(1000);
    // Integer paths: exact.
    expect(firstDifference(g.c.counts, c.c.counts)).toBe(-1);
    expect(firstDifference(g.c.spikeBits, c.c.spikeBits)).toBe(-1);
    expect(g.c.spikeBits.some((x) => x !== 0)).toBe(true);
    expect(g.c.traceSteps).toEqual(c.c.traceSteps);
    // Float state: the kernel's f32 arithmetic is mirrored op for op, so the states agree bit for bit on SwiftShader.
    const d = firstDifference(g.state, c.state);
    expect(d, d >= 0 ? `first differing neuron ${d}: gpu ${g.state[d]} cpu ${c.state[d]}` : '').toBe(-1);
    expect(firstDifference(g.c.traces, c.c.traces)).toBe(-1);
    // Population moments: GPU merges f32 partials, the CPU sums in f64; tolerance 1e-5 relative to the scale of u.
    for (let i = 0; i < g.c.population.length; i++) {
      expect(Math.abs(g.c.population[i] - c.c.population[i])).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(c.c.population[i])));
    }
  });

  it('an instance gives the same result alone as inside a batch (RNG keyed by instance id)', async () => {
    const alone = await runOn('webgpu', { ...spec, params: [params[1]], instanceIds: [9] }, 40);
    const batched = await runOn('webgpu', spec, 40);
    const fromBatch = batched.c.counts.filter((_, i) => i % 3 === 1);
    expect(alone.c.counts).toEqual(fromBatch);
    expect(firstDifference(alone.state, batched.state.subarray(1000, 2000))).toBe(-1);
  });

  it('results do not depend on the dispatch shape (neurons per thread)', async () => {
    const shapes: { counts: number[]; state: Float32Array }[] = [];
    for (const npt of ['1', '3', '64']) {
      process.env.EI_NEURONS_PER_THREAD = npt;
      try {
        const r = await runOn('webgpu', spec, 30);
        shapes.push({ counts: r.c.counts, state: r.state });
      } finally {
        delete process.env.EI_NEURONS_PER_THREAD;
      }
    }
    expect(shapes[1].counts).toEqual(shapes[0].counts);
    expect(shapes[2].counts).toEqual(shapes[0].counts);
    expect(firstDifference(shapes[1].state, shapes[0].state)).toBe(-1);
    expect(firstDifference(shapes[2].state, shapes[0].state)).toBe(-1);
  });

  it('different seeds give different spike trains', async () => {
    const a = await runOn('webgpu', { ...spec, key: seedToKey(1) }, 20);
    const b = await runOn('webgpu', { ...spec, key: seedToKey(2) }, 20);
    expect(a.c.counts).not.toEqual(b.c.counts);
  });
});
