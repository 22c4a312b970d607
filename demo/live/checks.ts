// The integer (or, for rate, float) results a live page keeps of a run, collected the same way from the page's run and
// from a CPU runner in Node (test/model-pages.browser.test.ts), so the two can be compared value for value.
import type { Runner } from '../../src/core/contract.ts';
import type { BinaryChunk } from '../../src/models/binary/network.ts';
import type { HybridChunk } from '../../src/models/hybrid/simulation.ts';
import type { MinimaxRunResult } from '../../src/models/minimax/network.ts';
import type { RecordChunk } from '../../src/models/poisson/simulation.ts';

export interface RunCheck {
  /** What the values are, in words. */
  readonly what: string;
  /** Integers (equal on every backend) or floats (rate: equal on cpu and wasm, within a tolerance on WebGPU). */
  readonly exact: boolean;
  readonly values: number[];
  onChunk(chunk: unknown): void;
  /** After the last step: reads what the run's end holds (final states, spike counts). */
  finish(runner: Runner<unknown>): Promise<void>;
}

function collector(what: string, exact: boolean, onChunk: (values: number[], chunk: unknown) => void, finish: (values: number[], runner: Runner<unknown>) => Promise<void> = async () => {}): RunCheck {
  const values: number[] = [];
  return { what, exact, values, onChunk: (c) => onChunk(values, c), finish: (r) => finish(values, r) };
}

/** Per model id: a fresh collector of what its page checks. */
export const runChecks: Record<string, () => RunCheck> = {
  poisson: () =>
    collector('population spike count of every step', true, (v, c) => {
      for (const x of (c as RecordChunk).counts) v.push(x);
    }),
  hybrid: () =>
    collector('exact fixed-point totals of f(u) over E and over I, every step', true, (v, c) => {
      for (const r of (c as HybridChunk).records) v.push(r.totalE, r.totalI);
    }),
  binary: () =>
    collector(
      'active count of every step, then the final binary state of every neuron',
      true,
      (v, c) => {
        for (const x of (c as BinaryChunk).counts) v.push(x);
      },
      async (v, runner) => {
        for (const s of await runner.readState()) v.push(s);
      },
    ),
  minimax: () =>
    collector(
      'spikes of every neuron over the raster window, then over the measured half',
      true,
      () => {},
      async (v, runner) => {
        const res = (await runner.result()) as MinimaxRunResult;
        for (const x of rasterSpikeTotals(res)) v.push(x);
        for (const x of res.spikeCounts) v.push(x);
      },
    ),
  rate: () =>
    collector('final state of every trajectory', false, () => {}, async (v, runner) => {
      for (const x of await runner.readState()) v.push(x);
    }),
};

/** Spikes of every neuron of instance 0 in a minimax result's raster window. */
export function rasterSpikeTotals(res: MinimaxRunResult): Uint32Array {
  const n = res.nE + res.nI;
  const out = new Uint32Array(n);
  const raster = res.raster;
  if (!raster) return out;
  const words = res.rasterWords;
  const rows = raster.length / (res.batch * words);
  for (let s = 0; s < rows; s++) {
    for (let w = 0; w < words; w++) {
      let bits = raster[s * words + w];
      while (bits) {
        const j = 31 - Math.clz32(bits & -bits);
        bits &= bits - 1;
        out[w * 32 + j] += 1;
      }
    }
  }
  return out;
}
