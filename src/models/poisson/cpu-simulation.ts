// CPU reference backend: runs a PopulationModel's CPU stepper over B instances x N neurons, recording like the GPU.
import { DisposedError } from '../../errors.ts';
import type { NeuronStepOut } from './population-model.ts';
import { runChunked } from './chunk-recorder.ts';
import { checkSimulationSpec, checkStepBudget, type RunOptions, type Simulation, type SimulationSpec } from './simulation.ts';

export class CpuPopulationSimulation implements Simulation {
  readonly backend = 'cpu' as const;
  readonly n: number;
  readonly batch: number;
  readonly dt: number;
  private stepCount = 0;
  private state: Float32Array | null;
  private readonly steppers: ReturnType<SimulationSpec['model']['makeCpuStepper']>[];
  private readonly spikeSlot: Int32Array | null;
  private readonly spikeWords: number;
  private readonly ids: readonly number[];

  constructor(private readonly spec: SimulationSpec) {
    checkSimulationSpec(spec);
    this.n = spec.n;
    this.batch = spec.params.length;
    this.dt = spec.dt;
    this.state = new Float32Array(this.n * this.batch);
    this.ids = spec.instanceIds ?? spec.params.map((_, b) => b);
    this.steppers = spec.params.map((p) => spec.model.makeCpuStepper(spec.model.makeInstance(p, spec.dt)));
    spec.params.forEach((p, b) => this.state!.fill(spec.model.initialPotential(p), b * this.n, (b + 1) * this.n));
    const rec = spec.recorders?.spikes?.neurons;
    this.spikeWords = rec ? Math.ceil(rec.length / 32) : 0;
    this.spikeSlot = rec ? new Int32Array(this.n).fill(-1) : null;
    rec?.forEach((k, j) => (this.spikeSlot![k] = j));
  }

  get step(): number {
    return this.stepCount;
  }

  async run(steps: number, options: RunOptions = {}): Promise<void> {
    if (!this.state) throw new DisposedError('CpuPopulationSimulation');
    checkStepBudget(this.stepCount, steps);
    const { n, batch } = this;
    const key = this.spec.key;
    const out: NeuronStepOut = { spikes: 0, extra: 0 };
    await runChunked(this.spec, this.spikeWords, steps, options, {
      state: () => this.state!,
      step: (rec) => {
        const state = this.state;
        if (!state) throw new DisposedError('CpuPopulationSimulation');
        const step = this.stepCount;
        for (let b = 0; b < batch; b++) {
          const stepper = this.steppers[b];
          const id = this.ids[b];
          const base = b * n;
          const spikeBits = rec.spikes(b);
          let count = 0;
          let sum = 0;
          let extra = 0;
          for (let k = 0; k < n; k++) {
            const u = stepper(state[base + k], key, step, id, k, out);
            state[base + k] = u;
            if (out.spikes > 0) {
              count += out.spikes;
              const slot = this.spikeSlot ? this.spikeSlot[k] : -1;
              if (slot >= 0) spikeBits![slot >>> 5] |= 1 << (slot & 31);
            }
            sum += u;
            extra += out.extra;
          }
          const mean = sum / n;
          // Two-pass variance in f64: the reference must be more accurate than the kernel it checks.
          let m2 = 0;
          for (let k = 0; k < n; k++) {
            const d = state[base + k] - mean;
            m2 += d * d;
          }
          rec.set(b, count, mean, m2 / n, extra / n);
        }
        return this.stepCount++;
      },
    });
  }

  async readState(): Promise<Float32Array> {
    if (!this.state) throw new DisposedError('CpuPopulationSimulation');
    return this.state.slice();
  }

  dispose(): void {
    this.state = null;
  }
}
