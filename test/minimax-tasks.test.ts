// The Fig. 2a decoder (network=readout) and the Fig. 3 memory (network=memory) as `ei run minimax` networks: what
// resolve builds, the KKT prediction it solves, and a run whose rates follow it.
import { describe, expect, it } from 'vitest';
import { minimaxModel } from '../src/models/minimax/index.ts';
import type { MinimaxResolved } from '../src/models/minimax/resolve.ts';
import { decoderTarget, makeDecoderNetwork } from '../src/models/minimax/networks.ts';
import type { MinimaxRunResult } from '../src/models/minimax/network.ts';

const resolve = (params: Record<string, string | number>, T?: number) => minimaxModel.resolve({ params, T, seed: 1 }) as MinimaxResolved;

async function run(r: MinimaxResolved, backend: 'cpu' | 'wasm'): Promise<MinimaxRunResult> {
  const runner = await minimaxModel.createRunner(r, { backend });
  try {
    await runner.run(r.steps);
    return (await runner.result()) as MinimaxRunResult;
  } finally {
    runner.dispose();
  }
}

describe('minimax network=readout (Fig. 2a decoder)', () => {
  it('resolves the seed\'s decoder driven by the chosen input vector, with the ridge NNLS point as its KKT prediction', () => {
    const r = resolve({ network: 'readout', vector: 3 });
    const dec = makeDecoderNetwork(1);
    expect([r.plan.network.nE, r.plan.network.nI, r.plan.network.nIn, r.dt, r.steps]).toEqual([60, 10, 10, 1e-3, 20_000]);
    expect(Array.from(r.plan.instance.inputRates)).toEqual(Array.from(dec.inputs[3]));
    expect(r.plan.decoder?.vector).toBe(3);
    // The LCP's KKT point is the reduced problem's minimiser, which decoderTarget finds by another method (within 1e-9 of the rates).
    const target = decoderTarget(dec.H, dec.beta, dec.inputs[3]);
    const th = r.theory!;
    for (let i = 0; i < 60; i++) expect(Math.abs(th.rE[i] - target[i])).toBeLessThan(1e-9 * Math.max(1, Math.abs(target[i])));
  });

  it('refuses a vector outside 0..19 and the parameter under another network', () => {
    expect(() => resolve({ network: 'readout', vector: 20 })).toThrow(/vector/);
    expect(() => resolve({ network: 'tight-balance', vector: 1 })).toThrow(/vector/);
  });

  it('a 4 s run on wasm equals the CPU reference exactly, and the readout H r_E reconstructs the input within 20 %', async () => {
    const r = resolve({ network: 'readout', vector: 0 }, 4);
    const [cpu, wasm] = [await run(r, 'cpu'), await run(r, 'wasm')];
    expect(Array.from(wasm.spikeCounts)).toEqual(Array.from(cpu.spikeCounts));
    const secs = cpu.measuredSteps[0] * r.dt;
    const rate = Array.from(cpu.spikeCounts.subarray(0, 60), (c) => c / secs);
    const { H, m } = r.plan.decoder!;
    const x = r.plan.instance.inputRates;
    let err = 0;
    let norm = 0;
    for (let a = 0; a < m; a++) {
      const y = rate.reduce((s, v, i) => s + H[a * 60 + i] * v, 0);
      err += (y - x[a]) ** 2;
      norm += x[a] ** 2;
    }
    // Seed 1 measured 0.093 over the 2 s measured half (0.05 at the default 20 s; the KKT point itself 0.115, its ridge
    // term pulls it off x): 0.2 leaves room for the Poisson noise of 2 s and fails a readout that is not a decoder.
    expect(Math.sqrt(err / norm)).toBeLessThan(0.2);
  });
});

describe('minimax network=memory (Fig. 3 associative memory)', () => {
  it('cues the chosen pattern for recallCueSeconds, then the background; the prediction is the KKT point at the stored pattern', () => {
    const r = resolve({ network: 'memory', pattern: 2, recallCueSeconds: 1 });
    const { nE, nI, nIn } = r.plan.network;
    expect([nE, nI, nIn, r.steps]).toEqual([100, 20, 100, 13_000]);
    expect([r.plan.instance.segments, r.plan.instance.segmentSteps]).toEqual([2, 1000]);
    const mem = r.plan.memory!;
    expect(mem.pattern).toBe(2);
    // The KKT point found from the pattern is the pattern: its support is the stored one.
    expect(r.theory!.supportE).toEqual(mem.support);
    expect(r.theory!.residual).toBeLessThan(1e-6);
    // The cue raised the input of the cued neurons only.
    const cue = r.plan.instance.inputRates.subarray(0, 100);
    const background = r.plan.instance.inputRates.subarray(100);
    for (let i = 0; i < 100; i++) expect(cue[i] > background[i]).toBe(mem.cued.includes(i));
  });

  it('recalls the cued pattern: after the cue the active E neurons are its support (seed 1, pattern 0, 6 s)', async () => {
    const r = resolve({ network: 'memory', pattern: 0 }, 6);
    const res = await run(r, 'wasm');
    const secs = res.measuredSteps[0] * r.dt;
    const patternHz = r.plan.memory!.level / r.plan.instance.tauE;
    const active = Array.from(res.spikeCounts.subarray(0, 100)).flatMap((c, i) => (c / secs > 0.5 * patternHz ? [i] : []));
    expect(active).toEqual(r.plan.memory!.support);
  });
});
