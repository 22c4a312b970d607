// A population of neurons stepped by one kernel, thread per neuron, and its CPU mirror (poisson's runner).
import type { ParamValues } from '../../core/params.ts';
import type { StructTypes } from '../../gpu/shaders.generated.ts';

/** Scratch a CPU step writes its per-neuron outputs into (avoids allocating per neuron). */
export interface NeuronStepOut {
  spikes: number;
  /** The quantity averaged into the population's `extra` column (e.g. expected spikes this step). */
  extra: number;
}

/**
 * A population of neurons updated one step at a time by one kernel, thread per neuron.
 * The CPU stepper must consume the same random bits and mirror the kernel's f32 arithmetic.
 */
export interface PopulationModel<N extends keyof StructTypes = keyof StructTypes> {
  id: string;
  /** shaders/ path and entry point of the step kernel; it follows shaders/engine/record.wgsl's recording contract. */
  shader: string;
  entryPoint: string;
  /** The WGSL per-instance struct that makeInstance fills (its generated type: renaming a WGSL field breaks the build). */
  instanceStruct: N;
  /** Pure: per-instance kernel constants from parameters and dt. */
  makeInstance(params: ParamValues, dt: number): StructTypes[N];
  /** Initial potential of every neuron of an instance. */
  initialPotential(params: ParamValues): number;
  /** Returns the CPU mirror of the kernel for one instance's constants. */
  makeCpuStepper(instance: StructTypes[N]): (u: number, key: readonly [number, number], step: number, instance: number, neuron: number, out: NeuronStepOut) => number;
  /** What the population's `extra` column means, for CSV headers. */
  extraName: string;
}
