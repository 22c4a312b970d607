// The poisson model's statistics against theory, on the CPU reference (the GPU equals it: see the conformance test).
import { describe, expect, it } from 'vitest';
import { runExperiment } from '../src/models/poisson/experiment.ts';
import { getModelDefinition } from '../src/engine/models.ts';
import { makePoissonInstance, momentsAtStep } from '../src/models/poisson/index.ts';
import { resolveParams } from '../src/core/params.ts';
import { poissonParameters } from '../src/models/poisson/params.ts';
import { ParameterError, ConfigError } from '../src/errors.ts';

describe('poisson model statistics (fixed seed 7)', () => {
  it('stationary mean, variance and rate match theory', async () => {
    const r = await runExperiment({ n: 1000, T: 0.5, seed: 7, backend: 'cpu', set: { burnin: 0.1 } });
    const s = r.instances[0];
    // Time-averaged population mean: SE ~ sqrt(v/n * 2 tau/T') ~ 0.1% of m; allow 1%.
    expect(Math.abs(s.sim.meanU - s.theory.meanU) / s.theory.meanU).toBeLessThan(0.01);
    // Variance: relative SE of a sample variance averaged over ~20 correlation times ~ 1%; allow 5%.
    expect(Math.abs(s.sim.varU - s.theory.varU) / s.theory.varU).toBeLessThan(0.05);
    // Rate: ~2e4 spikes (Poisson SE 0.7%) plus the Gaussian approximation (< 0.5% here); allow 3%.
    expect(Math.abs(s.sim.rateHz - s.theory.rateHz) / s.theory.rateHz).toBeLessThan(0.03);
    // Given the intensities used, the total count is exactly Poisson: |z| < 4.5 fails with probability < 1e-5.
    expect(Math.abs(s.spikeCountZ)).toBeLessThan(4.5);
  });

  it('the transient mean follows the exact solution from u0', async () => {
    const r = await runExperiment({ n: 2000, steps: 400, seed: 3, backend: 'cpu', set: { u0: 0, burnin: 0 }, recordEvery: 1 });
    const p = resolveParams('poisson', poissonParameters, { u0: 0 });
    const inst = makePoissonInstance(p, 1e-4);
    for (const step of [10, 50, 100, 200, 399]) {
      const row = r.timeseries.rows.find((x) => x[0] === step)!;
      const th = momentsAtStep(inst, 0, step + 1);
      // A single step's population mean has SE sqrt(v/n); allow 5 SE plus 1e-6.
      expect(Math.abs(row[5] - th.mean)).toBeLessThan(5 * Math.sqrt(th.variance / 2000) + 1e-6);
      expect(row[8]).toBeCloseTo(th.mean, 10);
    }
  });

  it('rejects bad input with the field named', async () => {
    await expect(runExperiment({ set: { tau: '-1' }, backend: 'cpu' })).rejects.toThrow(/poisson\.tau.*must be > 0/);
    await expect(runExperiment({ set: { tua: '1' }, backend: 'cpu' })).rejects.toThrow(/did you mean tau/);
    await expect(runExperiment({ n: -5, backend: 'cpu' })).rejects.toBeInstanceOf(ParameterError);
    await expect(runExperiment({ dt: 0.05, backend: 'cpu' })).rejects.toThrow(/dt/);
    expect(() => getModelDefinition('nope')).toThrow(ConfigError);
    expect(() => getModelDefinition('poison')).toThrow(/did you mean poisson/);
    await expect(runExperiment({ set: { sigmoid: 'tanh' }, backend: 'cpu' })).rejects.toThrow(/probit, logistic/);
  });
});
