// Conformance: the minimax spiking networks on WebGPU (one workgroup per instance, many steps per dispatch) against the f32
// CPU reference: the same input bits and the same f32 operations give the same spikes, so rasters, counts and ISIs agree
// exactly and the f32-chunk-summed means agree to a stated tolerance; plus batching, dispatch splitting and limits.
import { describe, expect, it } from 'vitest';
import { useGpu } from './helpers/gpu.ts';
import { runMinimaxGpu, type MinimaxGpuOptions } from '../src/models/minimax/webgpu-simulation.ts';
import { AdapterLimitError, ParameterError } from '../src/errors.ts';
import type { MinimaxInstance, MinimaxNetwork, MinimaxRunResult, MinimaxRunSpec } from '../src/models/minimax/network.ts';
import { makeTightBalanceNetwork } from '../src/models/minimax/networks.ts';
import { MinimaxCpuSimulation, runMinimaxCpu } from '../src/models/minimax/simulate-cpu.ts';
import { createMinimaxSpecRunner } from '../src/models/minimax/runner.ts';

const gpu = useGpu();

const fig1a = makeTightBalanceNetwork(1);
const fig1b = makeTightBalanceNetwork(2);

function instance(network: number, tau: number, dt: number, rates: Float64Array, instanceId: number, measureFrom: number, extra: Partial<MinimaxInstance> = {}): MinimaxInstance {
  return { network, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: rates, segments: 1, segmentSteps: 1, measureFrom, instanceId, ...extra };
}

const steps = 20_000;
// Three instances over two Fig. 1 networks: the spec's dt = 1e-4 tau, a coarse dt = 1e-2 tau, and separate tau_E,
// tau_I, tau_x with the input rates switching halfway (two segments).
const twoSegments = new Float64Array(40);
twoSegments.set(fig1a.inputRates, 0);
twoSegments.set(fig1a.inputRates.map((r) => 0.5 * r), 20);
const spec: MinimaxRunSpec = {
  networks: [fig1a.network, fig1b.network],
  instances: [
    instance(0, 1, 1e-4, fig1a.inputRates, 0, 10_000),
    instance(1, 0.1, 1e-3, fig1b.inputRates, 5, 4_000),
    instance(0, 0.5, 5e-4, twoSegments, 9, 12_345, { tauI: 0.25, tauX: 0.8, segments: 2, segmentSteps: 10_000 }),
  ],
  steps,
  seed: 2024,
  raster: { from: 0, steps },
};

/** First step at which two [instance][step][word] rasters differ for instance b (-1: never). */
function firstDifferingStep(a: MinimaxRunResult, b: MinimaxRunResult, inst: number): number {
  const w = a.rasterWords;
  const rows = a.raster!.length / (a.batch * w);
  for (let t = 0; t < rows; t++) {
    for (let k = 0; k < w; k++) {
      const q = (inst * rows + t) * w + k;
      if (a.raster![q] !== b.raster![q]) return t;
    }
  }
  return -1;
}

let cpuResult: MinimaxRunResult | null = null;
const cpu = (): MinimaxRunResult => (cpuResult ??= runMinimaxCpu(spec));

/** GPU = CPU: identical spikes, exact integer measurements, f32-summed means within tolerance. */
function expectConforms(g: MinimaxRunResult, c: MinimaxRunResult, label: string): void {
  expect(g.backend).toBe('webgpu');
  const firsts = [0, 1, 2].map((b) => firstDifferingStep(g, c, b));
  console.log(`minimax ${label}: first differing raster step per instance (-1 = none in ${steps}): ${firsts.join(', ')}`);
  if (gpu.ctx.info.isSoftware) {
    // SwiftShader neither fuses nor reassociates the kernel's separate f32 operations: bit-identical spikes.
    expect(firsts).toEqual([-1, -1, -1]);
  } else {
    // A hardware compiler may contract a * b + c into an fma; tight balance then flips a decision after ~1e3 steps.
    for (const f of firsts) expect(f === -1 || f > 500).toBe(true);
  }
  // Input spikes depend only on the RNG: equal on every adapter.
  expect(Array.from(g.inputCounts)).toEqual(Array.from(c.inputCounts));
  expect(c.inputCounts.some((x) => x > 0)).toBe(true);
  if (firsts.some((f) => f >= 0)) {
    // Spike trains parted (hardware rounding): the rates must still agree statistically. Both runs see the same input
    // spikes and track the same balanced state, so per-neuron counts differ far less than Poisson noise; the bound
    // 5 sqrt(count) + 5 is loose on purpose (the f32-vs-f64 test in minimax-cpu.test.ts measures the typical gap).
    g.spikeCounts.forEach((x, p) => expect(Math.abs(x - c.spikeCounts[p])).toBeLessThanOrEqual(5 * Math.sqrt(c.spikeCounts[p]) + 5));
    return;
  }
  expect(Array.from(g.spikeCounts)).toEqual(Array.from(c.spikeCounts));
  expect(Array.from(g.isiCount)).toEqual(Array.from(c.isiCount));
  expect(Array.from(g.measuredSteps)).toEqual(Array.from(c.measuredSteps));
  // ISI sums are integers below 2^24 per chunk: exact in f32 on the GPU and in f64 on the CPU.
  expect(Array.from(g.isiMean)).toEqual(Array.from(c.isiMean));
  // GPU sums are f32 over chunks of <= 1e4 steps (shifted by the first measured value), accumulated in f64 on the host.
  // Measured worst cases on these runs: means 1.6e-6 of (|value| + 1), (co)variances 1.3e-5 of (|value| + variance
  // scale), ISI variance 6e-7 relative. Tolerances are about 10x those: 2e-5, 2e-4, 1e-5.
  for (let q = 0; q < g.meanTrace.length; q++) {
    expect(Math.abs(g.meanTrace[q] - c.meanTrace[q])).toBeLessThan(2e-5 * (Math.abs(c.meanTrace[q]) + 1));
    const m = (k: number, r: MinimaxRunResult) => r.inputMoments[q * 5 + k];
    const varScale = Math.abs(m(2, c)) + Math.abs(m(3, c)) + 1e-6;
    for (let k = 0; k < 5; k++) {
      const tol = k < 2 ? 2e-5 * (Math.abs(m(k, c)) + 1) : 2e-4 * (Math.abs(m(k, c)) + varScale);
      expect(Math.abs(m(k, g) - m(k, c)), `${label}: moment ${k} of neuron-instance ${q}`).toBeLessThan(tol);
    }
    if (c.isiCount[q] > 1) expect(Math.abs(g.isiVar[q] - c.isiVar[q])).toBeLessThanOrEqual(1e-5 * Math.abs(c.isiVar[q]) + 1e-9);
  }
}

describe('minimax spiking network: WebGPU = CPU reference', () => {
  it('Fig. 1 networks, 3 instances x 20000 steps, weights in workgroup memory, state in registers: identical rasters and counts', async () => {
    const c = cpu();
    // The run is not degenerate: every instance spikes a lot, E and I, and its E inputs fluctuate.
    for (let b = 0; b < 3; b++) {
      const counts = c.spikeCounts.subarray(b * 40, (b + 1) * 40);
      expect(counts.subarray(0, 20).reduce((s, x) => s + x, 0)).toBeGreaterThan(200);
      expect(counts.subarray(20).reduce((s, x) => s + x, 0)).toBeGreaterThan(200);
    }
    const progress: number[] = [];
    const g = await runMinimaxGpu(gpu.ctx, spec, (done) => progress.push(done), { sharedWeights: 'on', chunkSteps: 6000 });
    expect(progress).toEqual([6000, 12000, 18000, 20000]);
    expectConforms(g, c, 'shared weights');
  }, 60_000);

  it('weights and state in storage buffers, dispatches of 3001 steps across chunks of 7000: identical rasters and counts', async () => {
    const g = await runMinimaxGpu(gpu.ctx, spec, undefined, { sharedWeights: 'off', residentState: false, stepsPerDispatch: 3001, chunkSteps: 7000, dispatchesPerSubmit: 2, workgroupSize: 8 });
    expectConforms(g, cpu(), 'storage weights');
  }, 60_000);

  it('split run() calls of the runner give exactly one call\'s result: chunks stay on the grid of absolute steps', async () => {
    const options: MinimaxGpuOptions = { stepsPerDispatch: 3001, chunkSteps: 7000 };
    const whole = await runMinimaxGpu(gpu.ctx, spec, undefined, options);
    const runner = await createMinimaxSpecRunner(spec, { backend: 'webgpu', ctx: gpu.ctx }, options);
    const cpuPart = new MinimaxCpuSimulation(spec);
    try {
      await runner.run(1);
      await runner.run(4999);
      await runner.run(7345);
      // Mid-chunk (step 12345 of the chunk [7000, 14000)): the chunk's sums are read from the GPU; counts are exact.
      const mid = await runner.result();
      cpuPart.step(12_345);
      const c = cpuPart.result();
      expect(mid.steps).toBe(12_345);
      expect(Array.from(mid.measuredSteps)).toEqual(Array.from(c.measuredSteps));
      if (gpu.ctx.info.isSoftware) {
        expect(Array.from(mid.spikeCounts)).toEqual(Array.from(c.spikeCounts));
        expect(Array.from(mid.isiMean)).toEqual(Array.from(c.isiMean));
        // Instance 2 starts measuring at step 12345: nothing measured yet, NaN means on both.
        for (let q = 0; q < c.meanTrace.length; q++) {
          if (Number.isNaN(c.meanTrace[q])) expect(mid.meanTrace[q]).toBeNaN();
          else expect(Math.abs(mid.meanTrace[q] - c.meanTrace[q])).toBeLessThan(2e-5 * (Math.abs(c.meanTrace[q]) + 1));
        }
        expect(c.meanTrace.some((x) => x > 0)).toBe(true);
      }
      await runner.run(1655);
      await runner.run(spec.steps - 14_000);
      const g = await runner.result();
      for (const k of ['spikeCounts', 'inputCounts', 'meanTrace', 'inputMoments', 'isiCount', 'isiMean', 'isiVar', 'raster'] as const) {
        expect(Array.from(g[k] ?? []), k).toEqual(Array.from(whole[k] ?? []));
      }
    } finally {
      runner.dispose();
      runner.dispose();
    }
  }, 120_000);

  it('an instance gives the same result alone as in a batch (same instanceId), also one dispatch per step', async () => {
    const inst = spec.instances[1];
    const short = 3000;
    const alone: MinimaxRunSpec = { networks: [fig1b.network], instances: [{ ...inst, network: 0, measureFrom: 1000 }], steps: short, seed: spec.seed, raster: { from: 500, steps: 2000 } };
    const batched: MinimaxRunSpec = { ...spec, instances: spec.instances.map((x) => ({ ...x, measureFrom: 1000 })), steps: short, raster: alone.raster };
    const a = await runMinimaxGpu(gpu.ctx, alone, undefined, { stepsPerDispatch: 1 });
    const b = await runMinimaxGpu(gpu.ctx, batched);
    const words = a.rasterWords;
    expect(Array.from(a.raster!)).toEqual(Array.from(b.raster!.subarray(2000 * words, 4000 * words)));
    expect(Array.from(a.spikeCounts)).toEqual(Array.from(b.spikeCounts.subarray(40, 80)));
    expect(Array.from(a.meanTrace)).toEqual(Array.from(b.meanTrace.subarray(40, 80)));
    expect(Array.from(a.inputMoments)).toEqual(Array.from(b.inputMoments.subarray(200, 400)));
    const c = runMinimaxCpu(alone);
    expect(Array.from(a.raster!)).toEqual(Array.from(c.raster!));
    expect(a.raster!.some((x) => x !== 0)).toBe(true);
  }, 60_000);

  it('several words of inputs and neurons, thresholds th_E and th_I: identical rasters and counts', async () => {
    // 35 E + 6 I neurons (2 words, the E-I boundary inside word 1), 40 inputs (2 words), non-zero thresholds.
    const nE = 35;
    const nI = 6;
    const nIn = 40;
    const net: MinimaxNetwork = {
      nE, nI, nIn,
      wEE: Float64Array.from({ length: nE * nE }, (_, q) => (q % (nE + 1) === 0 ? -1 : 0.05 * ((q * 7) % 5))),
      wEI: new Float64Array(nE * nI).fill(0.2),
      wIE: new Float64Array(nI * nE).fill(0.1),
      wII: Float64Array.from({ length: nI * nI }, (_, q) => (q % (nI + 1) === 0 ? 1 : 0.02)),
      F: Float64Array.from({ length: nE * nIn }, (_, q) => 0.3 * ((q % 3) - 0.5)),
      thE: Float64Array.from({ length: nE }, (_, i) => 0.01 * i),
      thI: new Float64Array(nI).fill(0.1),
    };
    const small: MinimaxRunSpec = { networks: [net], instances: [instance(0, 0.05, 1e-3, new Float64Array(nIn).fill(50), 3, 500, { tauI: 0.02 })], steps: 3000, seed: 8, raster: { from: 0, steps: 3000 } };
    const c = runMinimaxCpu(small);
    for (const residentState of [true, false]) {
      const g = await runMinimaxGpu(gpu.ctx, small, undefined, { residentState, workgroupSize: 4 });
      expect(firstDifferingStep(g, c, 0)).toBe(-1);
      expect(Array.from(g.spikeCounts)).toEqual(Array.from(c.spikeCounts));
    }
    expect(c.spikeCounts.subarray(0, nE).filter((x) => x > 0).length).toBeGreaterThan(10);
    expect(c.spikeCounts.subarray(nE).reduce((x, y) => x + y, 0)).toBeGreaterThan(10);
  }, 60_000);

  it('rejects bad options and weights that cannot be shared, naming the limit', async () => {
    const big: MinimaxNetwork = {
      nE: 64, nI: 64, nIn: 64,
      wEE: new Float64Array(64 * 64), wEI: new Float64Array(64 * 64), wIE: new Float64Array(64 * 64),
      wII: Float64Array.from({ length: 64 * 64 }, (_, q) => (q % 65 === 0 ? 1 : 0)), F: new Float64Array(64 * 64),
    };
    const bigSpec: MinimaxRunSpec = { networks: [big], instances: [instance(0, 1, 1e-3, new Float64Array(64).fill(10), 0, 0)], steps: 10, seed: 1 };
    // 128 x 128 + 64 x 64 f32 weights = 80 KiB, over every adapter's workgroup storage (16-48 KiB).
    await expect(runMinimaxGpu(gpu.ctx, bigSpec, undefined, { sharedWeights: 'on' })).rejects.toThrow(AdapterLimitError);
    const auto = await runMinimaxGpu(gpu.ctx, bigSpec);
    expect(auto.spikeCounts.every((x) => x === 0)).toBe(true);
    const bad: [MinimaxGpuOptions, string][] = [[{ stepsPerDispatch: 0 }, 'stepsPerDispatch'], [{ workgroupSize: 2.5 }, 'workgroupSize'], [{ sharedWeights: 'yes' as 'on' }, 'sharedWeights']];
    for (const [opts, field] of bad) {
      await expect(runMinimaxGpu(gpu.ctx, bigSpec, undefined, opts)).rejects.toSatisfy((e) => e instanceof ParameterError && e.field === field);
    }
    await expect(runMinimaxGpu(gpu.ctx, bigSpec, undefined, { workgroupSize: 1 << 16 })).rejects.toThrow(AdapterLimitError);
  });
});
