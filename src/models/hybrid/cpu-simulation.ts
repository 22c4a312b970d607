// CPU reference backend of the hybrid network: HybridCpuInstance per instance, recording like the GPU.
import { DisposedError } from '../../errors.ts';
import { histogramF32 } from '../../analysis/histogram.ts';
import { HybridCpuInstance } from './cpu-reference.ts';
import { makeHybridInstance } from './params.ts';
import { checkHybridSpec, checkStepBudget, type HybridChunk, type HybridSimulation, type HybridSimulationSpec, type HybridStepRecord } from './simulation.ts';

export class CpuHybridSimulation implements HybridSimulation {
  readonly backend = 'cpu' as const;
  readonly n: number;
  readonly batch: number;
  readonly dt: number;
  readonly initial: HybridStepRecord[];
  readonly chunkSteps: number;
  private stepCount = 0;
  private instances: HybridCpuInstance[] | null;

  constructor(spec: HybridSimulationSpec) {
    checkHybridSpec(spec);
    this.n = spec.n;
    this.batch = spec.params.length;
    this.dt = spec.dt;
    const ids = spec.instanceIds ?? spec.params.map((_, b) => b);
    this.instances = spec.params.map((p, b) => new HybridCpuInstance(spec.n, makeHybridInstance(p, spec.n, spec.dt), spec.key, ids[b]));
    this.initial = this.instances.map((i) => i.init());
    // About 2e6 neuron-steps per chunk: progress roughly once a second.
    this.chunkSteps = spec.chunkSteps ?? Math.max(1, Math.min(1000, Math.floor(2e6 / (2 * this.n * this.batch))));
  }

  get step(): number {
    return this.stepCount;
  }

  async run(steps: number, options: { onChunk?: (c: HybridChunk) => void; onProgress?: (done: number, total: number) => void } = {}): Promise<void> {
    if (!this.instances) throw new DisposedError('CpuHybridSimulation');
    checkStepBudget(this.stepCount, steps);
    const chunk = this.chunkSteps;
    let done = 0;
    while (done < steps) {
      const m = Math.min(chunk, steps - done);
      const records: HybridStepRecord[] = [];
      for (let s = 0; s < m; s++) {
        for (const inst of this.instances) records.push(inst.step(this.stepCount));
        this.stepCount++;
      }
      done += m;
      options.onChunk?.({ stepStart: this.stepCount - m, steps: m, batch: this.batch, records });
      options.onProgress?.(done, steps);
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  async readState(): Promise<Float32Array> {
    if (!this.instances) throw new DisposedError('CpuHybridSimulation');
    const out = new Float32Array(2 * this.n * this.batch);
    this.instances.forEach((inst, b) => out.set(inst.u, b * 2 * this.n));
    return out;
  }

  async histogramU(bins: number, min: number, max: number): Promise<Uint32Array> {
    return histogramF32(await this.readState(), 2 * this.batch, this.n, bins, min, max);
  }

  dispose(): void {
    this.instances = null;
  }
}
