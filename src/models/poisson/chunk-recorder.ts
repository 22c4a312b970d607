// The chunked recording shared by the CPU reference and the wasm backend: chunk sizes, the records of each chunk
// (spike counts, population moments, spike bits, traces) and their delivery, so both report exactly the same chunks.
import { makeChunkSteps, type RecordChunk, type RunOptions, type SimulationSpec } from './simulation.ts';

/** Where one step writes each instance's records. */
export interface StepRecords {
  /** Instance b's spike words of this step (all zero; null without a spike recorder): bit j for recorded neuron j. */
  spikes(b: number): Uint32Array | null;
  /** Instance b's spike count and population moments (mean u, variance u, mean extra quantity) after this step. */
  set(b: number, count: number, mean: number, variance: number, extra: number): void;
}

export interface ChunkedStepper {
  /** Steps every instance once, writing its records to rec, and advances the simulation; returns the step's index. */
  step(rec: StepRecords): number;
  /** The potentials after the step (instance-major, n per instance), for the trace recorder. */
  state(): Float32Array;
}

/**
 * Runs `steps` steps of `sim` in chunks, reporting each chunk's records (options.onChunk) and progress, then yielding.
 * A chunk's record arrays stay within ~64 MiB like the GPU backend's, and (by default) a chunk is ~2e6 neuron-steps,
 * so progress comes about once a second.
 */
export async function runChunked(spec: SimulationSpec, spikeWords: number, steps: number, options: RunOptions, sim: ChunkedStepper): Promise<void> {
  const n = spec.n;
  const batch = spec.params.length;
  const traces = spec.recorders?.traces;
  const requested = spec.recorders?.chunkSteps ?? Math.max(1, Math.min(1000, Math.floor(2e6 / (n * batch))));
  const chunkSteps = makeChunkSteps(requested, batch * (48 + 4 * spikeWords), 64 << 20);
  let done = 0;
  while (done < steps) {
    const m = Math.min(chunkSteps, steps - done);
    const counts = new Uint32Array(m * batch);
    const population = new Float64Array(m * batch * 4);
    const spikeBits = spikeWords > 0 ? new Uint32Array(m * batch * spikeWords) : null;
    const traceSteps: number[] = [];
    const traceRows: number[] = [];
    let s = 0;
    const rec: StepRecords = {
      spikes: (b) => (spikeBits ? spikeBits.subarray((s * batch + b) * spikeWords, (s * batch + b + 1) * spikeWords) : null),
      set: (b, count, mean, variance, extra) => {
        counts[s * batch + b] = count;
        const row = (s * batch + b) * 4;
        population[row] = mean;
        population[row + 1] = variance;
        population[row + 2] = extra;
        population[row + 3] = n;
      },
    };
    let stepStart = 0;
    for (s = 0; s < m; s++) {
      const step = sim.step(rec);
      if (s === 0) stepStart = step;
      if (traces && (step + 1) % traces.every === 0) {
        traceSteps.push(step);
        const state = sim.state();
        for (let b = 0; b < batch; b++) for (const k of traces.neurons) traceRows.push(state[b * n + k]);
      }
    }
    done += m;
    const chunk: RecordChunk = { stepStart, steps: m, batch, counts, population, spikeWords, spikeBits, traces: traces ? Float32Array.from(traceRows) : null, traceSteps };
    options.onChunk?.(chunk);
    options.onProgress?.(done, steps);
    // Yield so progress bars redraw and callers stay responsive.
    await new Promise((r) => setTimeout(r, 0));
  }
}
