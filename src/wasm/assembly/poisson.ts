// The poisson step kernel: src/models/poisson/cpu-step.ts (the mirror of shaders/poisson/step.wgsl) over all neurons
// of one instance, with the population reduction of src/models/poisson/cpu-simulation.ts in the same f64 order.
import { detExp, detLogistic, detNormalCdf } from './detmath';
import { rngPoisson, rngPoissonInversion, rngReset } from './rng';

const streamOutput: u32 = 1;
const streamInput: u32 = 2;

/**
 * One instance's step, as the host packs it into 16 32-bit words (src/models/poisson/wasm-simulation.ts, stepParamsWords):
 * its state (f32 x n, updated in place), the RNG coordinates, the f32 constants of PoissonInstance, and the spike
 * recorder's slots (i32 x n, neuron -> recorder slot or -1; 0 for no recorder).
 */
// @ts-ignore: decorator
@unmanaged
class StepParams {
  state: usize;
  n: u32;
  k0: u32;
  k1: u32;
  step: u32;
  instance: u32;
  decay: f32;
  drive: f32;
  jump: f32;
  inputMean: f32;
  peak: f32;
  theta: f32;
  gain: f32;
  probit: u32;
  slots: usize;
  bits: usize;
}

/**
 * The step of neurons [from, to) of the instance packed at params, the one copy of cpu-step.ts's neuron update (inlined
 * into each entry point, so the constants live in locals and the other mode folds away): recorded spikes go to bits
 * (u32 words). whole (a constant; then [from, to) is [0, n)): out (f64 x 3) receives the mean of u, its variance
 * (two-pass, like the reference) and the mean intensity; else out (f32 x n) receives each neuron's intensity.
 * Returns the spike count (mod 2^32, like the reference's Uint32Array).
 */
// @ts-ignore: decorator
@inline function stepNeurons(p: StepParams, from: u32, to: u32, bits: usize, out: usize, whole: bool): u32 {
  const state = p.state;
  const slots = p.slots;
  const k0 = p.k0, k1 = p.k1, step = p.step, instance = p.instance;
  const decay = p.decay, drive = p.drive, jump = p.jump, inputMean = p.inputMean;
  const peak = p.peak, theta = p.theta, gain = p.gain, probit = p.probit != 0;
  // The input mean is the same for every neuron: its inversion start detExp(-mean) is computed once (the same bits).
  const smallInput = inputMean > <f32>0 && inputMean < <f32>10;
  const inputP0 = smallInput ? detExp(-inputMean) : <f32>0;
  let count: u32 = 0;
  let sum: f64 = 0;
  let extra: f64 = 0;
  for (let k = from; k < to; k++) {
    const ptr = state + (<usize>k << 2);
    const u = load<f32>(ptr);
    const x = (u - theta) * gain;
    const lambda = peak * (probit ? detNormalCdf(x) : detLogistic(x));
    rngReset(k0, k1, streamOutput, step, instance, k);
    const spikes = rngPoisson(lambda);
    rngReset(k0, k1, streamInput, step, instance, k);
    const inputs = smallInput ? rngPoissonInversion(inputMean, inputP0) : rngPoisson(inputMean);
    const next = u * decay + drive + jump * <f32>inputs;
    store<f32>(ptr, next);
    if (spikes > 0) {
      count += spikes;
      if (slots != 0) {
        const slot = load<i32>(slots + (<usize>k << 2));
        if (slot >= 0) {
          const w = bits + (<usize>(<u32>slot >> 5) << 2);
          store<u32>(w, load<u32>(w) | (<u32>1 << (<u32>slot & 31)));
        }
      }
    }
    if (whole) {
      sum += <f64>next;
      extra += <f64>lambda;
    } else {
      store<f32>(out + (<usize>k << 2), lambda);
    }
  }
  if (whole) storeMoments(state, to, sum, extra, out);
  return count;
}

/** One step of all neurons of the instance packed at params: its spike count; moments (f64 x 3) as in stepNeurons. */
export function poissonStep(params: usize, moments: usize): u32 {
  const p = changetype<StepParams>(params);
  return stepNeurons(p, 0, p.n, p.bits, moments, true);
}

/**
 * The same step for neurons [from, to) (one thread's share): each neuron's intensity goes to lambdas (f32 x n) for
 * populationMoments, recorded spikes to this thread's bits words. Returns the range's spike count (counts add up mod
 * 2^32 in any order, so the total does not depend on the split).
 */
export function poissonStepRange(params: usize, from: u32, to: u32, bits: usize, lambdas: usize): u32 {
  return stepNeurons(changetype<StepParams>(params), from, to, bits, lambdas, false);
}

/** poissonStep's moments of a whole instance after poissonStepRange over all its ranges: the same f64 sums in the same order. */
export function populationMoments(state: usize, lambdas: usize, n: u32, moments: usize): void {
  let sum: f64 = 0;
  let extra: f64 = 0;
  for (let k: u32 = 0; k < n; k++) {
    sum += <f64>load<f32>(state + (<usize>k << 2));
    extra += <f64>load<f32>(lambdas + (<usize>k << 2));
  }
  storeMoments(state, n, sum, extra, moments);
}

/** Mean, two-pass variance (about the mean of the sum) and mean intensity of n neurons into moments (f64 x 3). */
// @ts-ignore: decorator
@inline function storeMoments(state: usize, n: u32, sum: f64, extra: f64, moments: usize): void {
  const nd = <f64>n;
  const mean = sum / nd;
  let m2: f64 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const d = <f64>load<f32>(state + (<usize>k << 2)) - mean;
    m2 += d * d;
  }
  store<f64>(moments, mean);
  store<f64>(moments, m2 / nd, 8);
  store<f64>(moments, extra / nd, 16);
}
