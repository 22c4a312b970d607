// The minimax runner: one class over the CPU reference, the wasm kernels and the WebGPU simulation of a run spec, advanced incrementally.
import type { Backend, RunControl, Runner, RunTarget } from '../../core/contract.ts';
import { ParameterError } from '../../errors.ts';
import type { MinimaxChunk, MinimaxRunResult, MinimaxRunSpec } from './network.ts';
import { MinimaxCpuSimulation } from './simulate-cpu.ts';
import { MinimaxWasmSimulation } from './wasm-simulation.ts';
import { MinimaxGpuSimulation, type MinimaxGpuOptions } from './webgpu-simulation.ts';

/** What the runner needs of a backend's simulation (MinimaxCpuSimulation, MinimaxWasmSimulation, MinimaxGpuSimulation). */
interface MinimaxBackendSimulation {
  readonly backend: Backend;
  readonly stepsDone: number;
  readonly threads?: number;
  advance(steps: number, control?: RunControl<MinimaxChunk>): Promise<void>;
  result(): MinimaxRunResult | Promise<MinimaxRunResult>;
  readState(): Float32Array | Promise<Float32Array>;
  dispose?(): void;
}

class MinimaxRunner implements Runner<MinimaxRunResult, MinimaxChunk> {
  private disposed = false;

  constructor(
    private readonly sim: MinimaxBackendSimulation,
    readonly stepsTotal: number,
  ) {}

  get backend(): Backend {
    return this.sim.backend;
  }

  get stepsDone(): number {
    return this.sim.stepsDone;
  }

  get threads(): number | undefined {
    return this.sim.backend === 'wasm' ? this.sim.threads : undefined;
  }

  private live(what: string): void {
    if (this.disposed) throw new Error(`minimax runner: ${what} after dispose()`);
  }

  async run(steps: number, control: RunControl<MinimaxChunk> = {}): Promise<void> {
    this.live('run');
    const left = this.stepsTotal - this.stepsDone;
    if (!(Number.isInteger(steps) && steps >= 0 && steps <= left)) {
      throw new ParameterError('steps', `${steps} is not an integer in [0, ${left}] (${this.stepsDone} of ${this.stepsTotal} steps done)`, `run at most the ${left} steps left`);
    }
    await this.sim.advance(steps, control);
  }

  async result(): Promise<MinimaxRunResult> {
    this.live('result');
    return this.sim.result();
  }

  async readState(): Promise<Float32Array> {
    this.live('readState');
    return this.sim.readState();
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    this.sim.dispose?.();
  }
}

/** A runner of any run spec (networks, instances, raster window) on the target's backend; the model's runs and the reproductions use it. */
export async function createMinimaxSpecRunner(spec: MinimaxRunSpec, target: RunTarget, gpuOptions?: MinimaxGpuOptions): Promise<Runner<MinimaxRunResult, MinimaxChunk>> {
  if (target.backend === 'cpu') return new MinimaxRunner(new MinimaxCpuSimulation(spec), spec.steps);
  if (target.backend === 'wasm') return new MinimaxRunner(await MinimaxWasmSimulation.create(spec, target.threads), spec.steps);
  if (!target.ctx) throw new Error('minimax: the webgpu backend needs a GpuContext');
  return new MinimaxRunner(await MinimaxGpuSimulation.create(target.ctx, spec, gpuOptions), spec.steps);
}

/** Runs a spec to its end and frees the runner: what a reproduction needs. */
export async function runMinimaxSpec(spec: MinimaxRunSpec, target: RunTarget, control: RunControl<MinimaxChunk> = {}): Promise<MinimaxRunResult> {
  const runner = await createMinimaxSpecRunner(spec, target);
  try {
    if (runner.threads !== undefined) control.onThreads?.(runner.threads);
    await runner.run(spec.steps, control);
    return await runner.result();
  } finally {
    runner.dispose();
  }
}
