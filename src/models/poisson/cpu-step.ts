// CPU mirror of shaders/poisson/step.wgsl: same random bits, every f32 operation rounded the same way.
import type { PoissonInstance } from '../../gpu/shaders.generated.ts';
import { detLogistic, detNormalCdf, rngCreate, rngPoisson, rngReset } from '../../rng/index.ts';
import type { NeuronStepOut } from './population-model.ts';

const f = Math.fround;
export const streamOutput = 1;
export const streamInput = 2;

/** Returns the per-neuron step function for one instance's constants (as packed into f32). */
export function makePoissonCpuStepper(inst: PoissonInstance) {
  const decay = f(inst.decay);
  const drive = f(inst.drive);
  const jump = f(inst.jump);
  const inputMean = f(inst.inputMean);
  const peak = f(inst.peakPerStep);
  const theta = f(inst.theta);
  const gain = f(inst.gain);
  const probit = inst.sigmoid === 0;
  // Reused generators: one allocation per instance, not per neuron and step.
  const outRng = rngCreate([0, 0], streamOutput, 0, 0, 0);
  const inRng = rngCreate([0, 0], streamInput, 0, 0, 0);
  return (u: number, key: readonly [number, number], step: number, instance: number, neuron: number, out: NeuronStepOut): number => {
    const x = f(f(u - theta) * gain);
    const lambda = f(peak * (probit ? detNormalCdf(x) : detLogistic(x)));
    out.spikes = rngPoisson(rngReset(outRng, key, streamOutput, step, instance, neuron), lambda);
    const inputs = rngPoisson(rngReset(inRng, key, streamInput, step, instance, neuron), inputMean);
    out.extra = lambda;
    return f(f(f(u * decay) + drive) + f(jump * inputs));
  };
}
