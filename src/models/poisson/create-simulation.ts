// Chooses a backend and builds a Simulation: WebGPU on the best adapter, the CPU reference or its wasm twin on request.
import { CpuPopulationSimulation } from './cpu-simulation.ts';
import { WebGpuPopulationSimulation } from './webgpu-simulation.ts';
import { WasmPopulationSimulation } from './wasm-simulation.ts';
import type { GpuContext } from '../../gpu/context.ts';
import type { Simulation, SimulationSpec } from './simulation.ts';

/** Builds a simulation on the CPU reference, or on WebGPU using `ctx`. */
export async function createSimulation(spec: SimulationSpec, backend: 'cpu' | 'webgpu' | 'wasm', ctx?: GpuContext): Promise<Simulation> {
  if (backend === 'cpu') return new CpuPopulationSimulation(spec);
  if (backend === 'wasm') return WasmPopulationSimulation.create(spec);
  if (!ctx) throw new Error('createSimulation: the webgpu backend needs a GpuContext (createGpuContext())');
  return WebGpuPopulationSimulation.create(ctx, spec);
}
