// Runs a minimax spiking batch on the chosen backend (the CLI picks it and says so when it falls back to CPU).
import type { GpuContext } from '../../gpu/context.ts';
import type { MinimaxInstance, MinimaxRunResult, MinimaxRunSpec } from './network.ts';
import { runMinimaxCpu } from './simulate-cpu.ts';
import { minimaxNeuronFields, runMinimaxGpu } from './webgpu-simulation.ts';
import { formatCount, rowHeapBytes, type MemoryItem, type RunEstimate } from '../../core/limits.ts';

export async function runMinimax(spec: MinimaxRunSpec, backend: 'cpu' | 'webgpu', ctx?: GpuContext | null, onProgress?: (done: number, total: number) => void): Promise<MinimaxRunResult> {
  if (backend === 'cpu') return runMinimaxCpu(spec, onProgress);
  if (!ctx) throw new Error('runMinimax: the webgpu backend needs a GpuContext');
  return runMinimaxGpu(ctx, spec, onProgress);
}

/** Pure: an instance with one time constant for E, I and the input trace and constant input rates. */
export function makeConstantInputInstance(network: number, tau: number, dt: number, rates: ArrayLike<number>, measureFrom: number, instanceId?: number): MinimaxInstance {
  return { network, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: Float64Array.from(rates), segments: 1, segmentSteps: 1, measureFrom, instanceId };
}

/**
 * What `ei run minimax` needs: the network (f64 blocks and f32 columns), per-instance results, the raster of the last
 * `rasterSteps` steps, the tables, and time. Rough constants from bench/results on a 2-core machine, per instance-step
 * with x = n^2 + nE nIn synaptic weights: CPU reference max(5.6 us, 4 ns x), SwiftShader max(18 us, 30 ns x); a
 * hardware GPU is assumed at max(1 us, 0.1 ns x) per 128 instances.
 */
export function estimateMinimaxRun(s: { nE: number; nI: number; nIn: number; batch: number; steps: number; rasterSteps: number; stepsFlag: string }, o: { backend: 'cpu' | 'webgpu' }): RunEstimate {
  const { nE, nI, nIn, batch: B, steps } = s;
  const n = nE + nI;
  const words = Math.ceil(n / 32);
  const weights = n * n + nE * nIn;
  const net = ['--set network'];
  const memory: MemoryItem[] = [
    { what: 'network weights (f64 blocks and f32 columns)', bytes: weights * 12, place: 'host', options: net, elements: nE * n },
    { what: 'per-neuron results', bytes: B * n * 76 + B * nIn * 4, place: 'host', options: ['--batch'], elements: B * n * 5 },
    { what: 'spike raster', bytes: B * s.rasterSteps * words * 4, place: 'host', options: ['--batch'], elements: B * s.rasterSteps * words },
    { what: 'per-instance specs and summaries', bytes: B * 850, place: 'heap', options: ['--batch'] },
    { what: 'rate table rows', bytes: B * n * rowHeapBytes(6), place: 'heap', options: ['--batch'] },
  ];
  if (o.backend === 'webgpu') {
    const state = (minimaxNeuronFields * B * n + B * nIn) * 4;
    const rasterRows = Math.max(1, Math.min(s.rasterSteps, Math.floor((64 << 20) / (B * words * 4))));
    const staging = 8 * B * n * 4 + rasterRows * B * words * 4;
    memory.push(
      { what: 'f64 sums and state readback', bytes: B * n * 64 + 2 * state, place: 'host', options: ['--batch'], elements: state / 4 },
      { what: 'GPU E-presynaptic weights', bytes: nE * n * 4, place: 'device', options: net, binding: true },
      { what: 'GPU I-presynaptic weights', bytes: nI * n * 4, place: 'device', options: net, binding: true },
      { what: 'GPU input weights', bytes: nIn * nE * 4, place: 'device', options: net, binding: true },
      { what: 'GPU neuron state', bytes: state, place: 'device', options: ['--batch'], binding: true },
      { what: 'GPU raster chunk', bytes: rasterRows * B * words * 4, place: 'device', options: ['--batch'], binding: true },
      { what: 'GPU readback staging (x2)', bytes: 2 * staging, place: 'device', options: ['--batch'] },
    );
  }
  const per = (lo: number, c: number) => Math.max(lo, c * weights);
  return {
    model: 'minimax',
    size: `${formatCount(n)} neurons x --batch ${formatCount(B)} x ${formatCount(steps)} steps`,
    memory,
    outputs: [
      { file: 'rates.csv', rows: B * n, bytes: B * n * 60, options: ['--batch'] },
      { file: 'summary.json', rows: B, bytes: B * 400, options: ['--batch'] },
      { file: 'report.html', rows: B, bytes: B * 300 + 4e6, options: ['--batch'] },
    ],
    work: {
      units: B * steps,
      unit: 'instance-steps',
      seconds: {
        cpu: steps * B * per(5.6e-6, 4e-9),
        'webgpu-software': steps * B * per(1.8e-5, 3e-8),
        'webgpu-hardware': steps * Math.ceil(B / 128) * per(1e-6, 1e-10),
      },
      options: ['--batch', s.stepsFlag],
    },
  };
}
