// Conformance: the hybrid network on WebGPU and on the CPU reference consume the same random bits, so the
// exact fixed-point intensity totals (which set every Poisson input mean) agree step by step.
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { CpuHybridSimulation } from '../src/models/hybrid/cpu-simulation.ts';
import { WebGpuHybridSimulation } from '../src/models/hybrid/webgpu-simulation.ts';
import type { HybridSimulation, HybridSimulationSpec, HybridStepRecord } from '../src/models/hybrid/simulation.ts';
import { resolveParams } from '../src/core/params.ts';
import { hybridParameters } from '../src/models/hybrid/params.ts';
import { seedToKey } from '../src/rng/index.ts';
import { resolveHybridRun } from '../src/models/hybrid/resolve.ts';
import { HybridRunner } from '../src/models/hybrid/runner.ts';

const gpu = useGpu();

async function collect(sim: HybridSimulation, steps: number): Promise<{ records: HybridStepRecord[]; state: Float32Array }> {
  const records: HybridStepRecord[] = [...sim.initial];
  await sim.run(steps, { onChunk: (c) => records.push(...c.records) });
  const state = await sim.readState();
  sim.dispose();
  return { records, state };
}

describe('hybrid model: WebGPU = CPU reference', () => {
  const n = 300; // per population; not a multiple of the workgroup size
  const spec: HybridSimulationSpec = {
    params: [
      resolveParams('hybrid', hybridParameters, { variant: 'B1', mE0: 0.5, mI0: -0.3 }),
      resolveParams('hybrid', hybridParameters, { variant: 'B2', sigmoid: 'logistic', beta: 2 }),
    ],
    n,
    dt: 0.1 / Math.sqrt(n),
    key: seedToKey(99),
    instanceIds: [3, 8],
    chunkSteps: 25,
  };
  const steps = 60;

  it('exact totals equal at every step; states equal bit for bit on the software adapter', async () => {
    const g = await collect(await WebGpuHybridSimulation.create(gpu.ctx, spec), steps);
    const c = await collect(new CpuHybridSimulation(spec), steps);
    expect(g.records.length).toBe((steps + 1) * 2);
    let firstDiff = -1;
    for (let i = 0; i < g.records.length && firstDiff < 0; i++) {
      if (g.records[i].totalE !== c.records[i].totalE || g.records[i].totalI !== c.records[i].totalI) firstDiff = i;
    }
    expect(firstDiff, `first differing record (step ${Math.floor(firstDiff / 2) - 1})`).toBe(-1);
    expect(g.records[2 * steps].totalE).toBeGreaterThan(0);
    let d = -1;
    for (let i = 0; i < g.state.length && d < 0; i++) if (!Object.is(g.state[i], c.state[i])) d = i;
    expect(d, d >= 0 ? `first differing neuron ${d}: gpu ${g.state[d]} cpu ${c.state[d]}` : '').toBe(-1);
    // Moments: the GPU merges f32 partials, the CPU uses f64 two-pass sums.
    for (let i = 0; i < g.records.length; i++) {
      for (const k of ['meanE', 'varE', 'meanI', 'varI'] as const) {
        expect(Math.abs(g.records[i][k] - c.records[i][k])).toBeLessThan(2e-5 * (1 + Math.abs(c.records[i][k])));
      }
    }
  });
});

describe('hybrid u histograms', () => {
  it('the GPU histogram of each population equals the CPU reference count for count', async () => {
    const n = 500;
    const spec: HybridSimulationSpec = { params: [resolveParams('hybrid', hybridParameters, {}), resolveParams('hybrid', hybridParameters, { vE0: 2 })], n, dt: 0.004, key: seedToKey(4) };
    const g = await WebGpuHybridSimulation.create(gpu.ctx, spec);
    const c = new CpuHybridSimulation(spec);
    await g.run(20);
    await c.run(20);
    const hg = await g.histogramU(40, -4, 4);
    const hc = await c.histogramU(40, -4, 4);
    expect(hg.length).toBe(2 * 2 * 40);
    expect([...hg]).toEqual([...hc]);
    for (let row = 0; row < 4; row++) expect(hg.slice(row * 40, row * 40 + 40).reduce((s, x) => s + x, 0)).toBe(n);
    g.dispose();
    c.dispose();
  });
});

describe('hybrid runner on WebGPU', () => {
  it('split run() calls equal one call, and the exact totals equal the CPU runner\'s', async () => {
    const r = resolveHybridRun({ n: 300, batch: 2, steps: 90, seed: 4, params: { burnin: 0 }, recordEvery: 1 }, { snapshotTimes: [0.05], chunkSteps: 16 });
    const run = async (backend: 'cpu' | 'webgpu', parts: number[]) => {
      const runner = await HybridRunner.create(r, { backend, ctx: gpu.ctx });
      try {
        for (const p of parts) await runner.run(p);
        return await runner.result();
      } finally {
        runner.dispose();
      }
    };
    const one = await run('webgpu', [90]);
    const split = await run('webgpu', [7, 40, 43]);
    expect(split.timeseries.rows).toEqual(one.timeseries.rows);
    expect([...split.finalState]).toEqual([...one.finalState]);
    expect([...split.snapshots[0].counts]).toEqual([...one.snapshots[0].counts]);
    expect(split.instances).toEqual(one.instances);
    // nuE, nuI (columns 6, 7) come from the exact totals: equal to the CPU reference's.
    const cpu = await run('cpu', [90]);
    expect(one.timeseries.rows.map((row) => [row[6], row[7]])).toEqual(cpu.timeseries.rows.map((row) => [row[6], row[7]]));
  });
});
