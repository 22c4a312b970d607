// The poisson step kernel: src/models/poisson/cpu-step.ts (the mirror of shaders/poisson/step.wgsl) over all neurons
// of one instance, with the population reduction of src/models/poisson/cpu-simulation.ts in the same f64 order.
import { detExp, detLogistic, detNormalCdf } from './detmath';
import { rngPoisson, rngPoissonInversion, rngReset } from './rng';

const streamOutput: u32 = 1;
const streamInput: u32 = 2;

/**
 * One step of neurons [0, n) of one instance: state (f32 x n) is updated in place. slots (i32 x n, or 0 for none) maps
 * a neuron to its spike-recorder slot (-1: not recorded); bits (u32 words, or 0) receives the recorded spikes.
 * moments (f64 x 3) receives the mean of u, its variance (two-pass, like the reference) and the mean intensity.
 * Returns the instance's spike count (mod 2^32, like the reference's Uint32Array).
 */
export function poissonStep(
  state: usize,
  n: u32,
  k0: u32,
  k1: u32,
  step: u32,
  instance: u32,
  decay: f32,
  drive: f32,
  jump: f32,
  inputMean: f32,
  peak: f32,
  theta: f32,
  gain: f32,
  probit: bool,
  slots: usize,
  bits: usize,
  moments: usize,
): u32 {
  let count: u32 = 0;
  let sum: f64 = 0;
  let extra: f64 = 0;
  // The input mean is the same for every neuron: its inversion start detExp(-mean) is computed once (the same bits).
  const smallInput = inputMean > <f32>0 && inputMean < <f32>10;
  const inputP0 = smallInput ? detExp(-inputMean) : <f32>0;
  for (let k: u32 = 0; k < n; k++) {
    const p = state + (<usize>k << 2);
    const u = load<f32>(p);
    const x = (u - theta) * gain;
    const lambda = peak * (probit ? detNormalCdf(x) : detLogistic(x));
    rngReset(k0, k1, streamOutput, step, instance, k);
    const spikes = rngPoisson(lambda);
    rngReset(k0, k1, streamInput, step, instance, k);
    const inputs = smallInput ? rngPoissonInversion(inputMean, inputP0) : rngPoisson(inputMean);
    const next = u * decay + drive + jump * <f32>inputs;
    store<f32>(p, next);
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
    sum += <f64>next;
    extra += <f64>lambda;
  }
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
  return count;
}

/**
 * The same step for neurons [from, to) of one instance (one thread's share): state is updated in place, each neuron's
 * intensity goes to lambdas (f32 x n) for populationMoments, recorded spikes to this thread's bits words. Returns the
 * range's spike count (counts add up mod 2^32 in any order, so the total does not depend on the split).
 */
export function poissonStepRange(
  state: usize,
  from: u32,
  to: u32,
  k0: u32,
  k1: u32,
  step: u32,
  instance: u32,
  decay: f32,
  drive: f32,
  jump: f32,
  inputMean: f32,
  peak: f32,
  theta: f32,
  gain: f32,
  probit: bool,
  slots: usize,
  bits: usize,
  lambdas: usize,
): u32 {
  let count: u32 = 0;
  const smallInput = inputMean > <f32>0 && inputMean < <f32>10;
  const inputP0 = smallInput ? detExp(-inputMean) : <f32>0;
  for (let k = from; k < to; k++) {
    const p = state + (<usize>k << 2);
    const u = load<f32>(p);
    const x = (u - theta) * gain;
    const lambda = peak * (probit ? detNormalCdf(x) : detLogistic(x));
    rngReset(k0, k1, streamOutput, step, instance, k);
    const spikes = rngPoisson(lambda);
    rngReset(k0, k1, streamInput, step, instance, k);
    const inputs = smallInput ? rngPoissonInversion(inputMean, inputP0) : rngPoisson(inputMean);
    store<f32>(p, u * decay + drive + jump * <f32>inputs);
    store<f32>(lambdas + (<usize>k << 2), lambda);
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
  }
  return count;
}

/** poissonStep's moments of a whole instance after poissonStepRange over all its ranges: the same f64 sums in the same order. */
export function populationMoments(state: usize, lambdas: usize, n: u32, moments: usize): void {
  let sum: f64 = 0;
  let extra: f64 = 0;
  for (let k: u32 = 0; k < n; k++) {
    sum += <f64>load<f32>(state + (<usize>k << 2));
    extra += <f64>load<f32>(lambdas + (<usize>k << 2));
  }
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
