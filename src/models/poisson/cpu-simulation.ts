// CPU reference backend: runs a PopulationModel's CPU stepper over B instances x N neurons, recording like the GPU.
import { DisposedError } from '../../errors.ts';
import type { NeuronStepOut } from './population-model.ts';
import { checkSimulationSpec, checkStepBudget, makeChunkSteps, type RecordChunk, type RunOptions, type Simulation, type SimulationSpec } from './simulation.ts';

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
    const traces = this.spec.recorders?.traces;
    // Bound a chunk's record arrays to ~64 MiB like the GPU backend, and (by default) to ~2e6 neuron-steps
    // so progress is reported about once a second.
    const requested = this.spec.recorders?.chunkSteps ?? Math.max(1, Math.min(1000, Math.floor(2e6 / (n * batch))));
    const chunkSteps = makeChunkSteps(requested, batch * (48 + 4 * this.spikeWords), 64 << 20);
    const out: NeuronStepOut = { spikes: 0, extra: 0 };
    let done = 0;
    while (done < steps) {
      const m = Math.min(chunkSteps, steps - done);
      const counts = new Uint32Array(m * batch);
      const population = new Float64Array(m * batch * 4);
      const spikeBits = this.spikeSlot ? new Uint32Array(m * batch * this.spikeWords) : null;
      const traceSteps: number[] = [];
      const traceRows: number[] = [];
      for (let s = 0; s < m; s++) {
        const step = this.stepCount;
        for (let b = 0; b < batch; b++) {
          const stepper = this.steppers[b];
          const id = this.ids[b];
          const base = b * n;
          let count = 0;
          let sum = 0;
          let extra = 0;
          for (let k = 0; k < n; k++) {
            const u = stepper(this.state[base + k], key, step, id, k, out);
            this.state[base + k] = u;
            if (out.spikes > 0) {
              count += out.spikes;
              const slot = this.spikeSlot ? this.spikeSlot[k] : -1;
              if (slot >= 0) spikeBits![(s * batch + b) * this.spikeWords + (slot >>> 5)] |= 1 << (slot & 31);
            }
            sum += u;
            extra += out.extra;
          }
          counts[s * batch + b] = count;
          const mean = sum / n;
          // Two-pass variance in f64: the reference must be more accurate than the kernel it checks.
          let m2 = 0;
          for (let k = 0; k < n; k++) {
            const d = this.state[base + k] - mean;
            m2 += d * d;
          }
          const row = (s * batch + b) * 4;
          population[row] = mean;
          population[row + 1] = m2 / n;
          population[row + 2] = extra / n;
          population[row + 3] = n;
        }
        this.stepCount++;
        if (traces && this.stepCount % traces.every === 0) {
          traceSteps.push(step);
          for (let b = 0; b < batch; b++) for (const k of traces.neurons) traceRows.push(this.state[b * n + k]);
        }
      }
      done += m;
      options.onChunk?.({
        stepStart: this.stepCount - m,
        steps: m,
        batch,
        counts,
        population,
        spikeWords: this.spikeWords,
        spikeBits,
        traces: traces ? Float32Array.from(traceRows) : null,
        traceSteps,
      });
      options.onProgress?.(done, steps);
      // Yield so progress bars redraw and callers stay responsive.
      await new Promise((r) => setTimeout(r, 0));
    }
  }

  async readState(): Promise<Float32Array> {
    if (!this.state) throw new DisposedError('CpuPopulationSimulation');
    return this.state.slice();
  }

  dispose(): void {
    this.state = null;
  }
}
