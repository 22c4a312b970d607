// Runs a minimax spiking batch on the chosen backend (the CLI picks it and says so when it falls back to CPU).
import type { GpuContext } from '../gpu/context.ts';
import type { MinimaxInstance, MinimaxRunResult, MinimaxRunSpec } from '../models/minimax/network.ts';
import { runMinimaxCpu } from '../models/minimax/simulate-cpu.ts';
import { runMinimaxGpu } from '../backends/webgpu/minimax-simulation.ts';

export async function runMinimax(spec: MinimaxRunSpec, backend: 'cpu' | 'webgpu', ctx?: GpuContext | null, onProgress?: (done: number, total: number) => void): Promise<MinimaxRunResult> {
  if (backend === 'cpu') return runMinimaxCpu(spec, onProgress);
  if (!ctx) throw new Error('runMinimax: the webgpu backend needs a GpuContext');
  return runMinimaxGpu(ctx, spec, onProgress);
}

/** Pure: an instance with one time constant for E, I and the input trace and constant input rates. */
export function makeConstantInputInstance(network: number, tau: number, dt: number, rates: ArrayLike<number>, measureFrom: number, instanceId?: number): MinimaxInstance {
  return { network, dt, tauE: tau, tauI: tau, tauX: tau, inputRates: Float64Array.from(rates), segments: 1, segmentSteps: 1, measureFrom, instanceId };
}
