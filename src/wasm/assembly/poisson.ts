// The poisson step kernel: src/models/poisson/cpu-step.ts (the mirror of shaders/poisson/step.wgsl) over all neurons
// of one instance, with the population reduction of src/models/poisson/cpu-simulation.ts in the same f64 order.
import { detExp, detLogistic, detNormalCdf } from './detmath';
import { rngPoisson, rngPoissonInversion, rngReset } from './rng';
import { detExp4, detLogistic4, detNormalCdf4, philox4, poissonInversion4, uniform4 } from './simd';

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

/** Neuron k's output spikes for a mean off the inversion branch, from a fresh generator like the reference. */
// @ts-ignore: decorator
@inline function outputDraw(p: StepParams, k: u32, lam: f32): u32 {
  rngReset(p.k0, p.k1, streamOutput, p.step, p.instance, k);
  return rngPoisson(lam);
}

/** Neuron k's input events for a mean off the inversion branch. */
// @ts-ignore: decorator
@inline function inputDraw(p: StepParams, k: u32): u32 {
  rngReset(p.k0, p.k1, streamInput, p.step, p.instance, k);
  return rngPoisson(p.inputMean);
}

/** Sets a recorded neuron's spike bit (slots: neuron -> recorder slot or -1). */
// @ts-ignore: decorator
@inline function recordSpike(slots: usize, bits: usize, k: u32): void {
  const slot = load<i32>(slots + (<usize>k << 2));
  if (slot >= 0) {
    const w = bits + (<usize>(<u32>slot >> 5) << 2);
    store<u32>(w, load<u32>(w) | (<u32>1 << (<u32>slot & 31)));
  }
}

/**
 * The step of neurons [from, to) of the instance packed at params, the one copy of cpu-step.ts's neuron update (inlined
 * into each entry point, so the constants live in locals and the other mode folds away): recorded spikes go to bits
 * (u32 words). whole (a constant; then [from, to) is [0, n)): out (f64 x 3) receives the mean of u, its variance
 * (two-pass, like the reference) and the mean intensity; else out (f32 x n) receives each neuron's intensity.
 * Returns the spike count (mod 2^32, like the reference's Uint32Array). Four neurons at a time in SIMD (sigmoid,
 * Philox, both inversions in lock step, update); a draw on another branch (a mean >= 10, zero or invalid) runs one
 * lane at a time from a fresh generator; the f64 sums stay in index order.
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
  let k = from;
  for (; k + 4 <= to; k += 4) {
    const ptr = state + (<usize>k << 2);
    const u = v128.load(ptr);
    const x = f32x4.mul(f32x4.sub(u, f32x4.splat(theta)), f32x4.splat(gain));
    const lambda = f32x4.mul(f32x4.splat(peak), probit ? detNormalCdf4(x) : detLogistic4(x));
    const kv = i32x4.add(i32x4.splat(k), i32x4(0, 1, 2, 3));
    const smallOut = v128.and(f32x4.gt(lambda, f32x4.splat(0)), f32x4.lt(lambda, f32x4.splat(10)));
    let spikes = poissonInversion4(uniform4(philox4(kv, instance, step, streamOutput << 16, k0, k1)), lambda, detExp4(f32x4.neg(lambda)), smallOut);
    if (!i32x4.all_true(smallOut)) {
      // Another branch for some lane (means are rarely >= 10 per step): those lanes one at a time, as the reference.
      let s0 = i32x4.extract_lane(spikes, 0), s1 = i32x4.extract_lane(spikes, 1), s2 = i32x4.extract_lane(spikes, 2), s3 = i32x4.extract_lane(spikes, 3);
      const l0 = f32x4.extract_lane(lambda, 0), l1 = f32x4.extract_lane(lambda, 1), l2 = f32x4.extract_lane(lambda, 2), l3 = f32x4.extract_lane(lambda, 3);
      if (!(l0 > <f32>0 && l0 < <f32>10)) s0 = outputDraw(p, k, l0);
      if (!(l1 > <f32>0 && l1 < <f32>10)) s1 = outputDraw(p, k + 1, l1);
      if (!(l2 > <f32>0 && l2 < <f32>10)) s2 = outputDraw(p, k + 2, l2);
      if (!(l3 > <f32>0 && l3 < <f32>10)) s3 = outputDraw(p, k + 3, l3);
      spikes = i32x4(s0, s1, s2, s3);
    }
    const inputs = smallInput
      ? poissonInversion4(uniform4(philox4(kv, instance, step, streamInput << 16, k0, k1)), f32x4.splat(inputMean), f32x4.splat(inputP0), i32x4.splat(-1))
      : i32x4(inputDraw(p, k), inputDraw(p, k + 1), inputDraw(p, k + 2), inputDraw(p, k + 3));
    const next = f32x4.add(f32x4.add(f32x4.mul(u, f32x4.splat(decay)), f32x4.splat(drive)), f32x4.mul(f32x4.splat(jump), f32x4.convert_i32x4_s(inputs)));
    v128.store(ptr, next);
    if (v128.any_true(spikes)) {
      count += i32x4.extract_lane(spikes, 0) + i32x4.extract_lane(spikes, 1) + i32x4.extract_lane(spikes, 2) + i32x4.extract_lane(spikes, 3);
      if (slots != 0) {
        if (i32x4.extract_lane(spikes, 0) != 0) recordSpike(slots, bits, k);
        if (i32x4.extract_lane(spikes, 1) != 0) recordSpike(slots, bits, k + 1);
        if (i32x4.extract_lane(spikes, 2) != 0) recordSpike(slots, bits, k + 2);
        if (i32x4.extract_lane(spikes, 3) != 0) recordSpike(slots, bits, k + 3);
      }
    }
    if (whole) {
      sum += <f64>f32x4.extract_lane(next, 0);
      extra += <f64>f32x4.extract_lane(lambda, 0);
      sum += <f64>f32x4.extract_lane(next, 1);
      extra += <f64>f32x4.extract_lane(lambda, 1);
      sum += <f64>f32x4.extract_lane(next, 2);
      extra += <f64>f32x4.extract_lane(lambda, 2);
      sum += <f64>f32x4.extract_lane(next, 3);
      extra += <f64>f32x4.extract_lane(lambda, 3);
    } else {
      v128.store(out + (<usize>k << 2), lambda);
    }
  }
  for (; k < to; k++) {
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
      if (slots != 0) recordSpike(slots, bits, k);
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
