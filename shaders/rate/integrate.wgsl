// Batched integration of independent rate circuits T dx/dt = -x + Phi(W x + u): one thread per circuit, many Euler or RK4 steps per dispatch.
//
// Mirrored op for op by src/models/rate/integrate-cpu.ts. Only +, -, * (correctly rounded in
// WGSL) and the detmath functions are used, so each result is a function of its input bits:
// no `/` (dt/tau and 1/xmax come precomputed from the host), no builtin tanh. Sums run in the
// order u_i + W_i0 x_0 + W_i1 x_1 + ...; no barriers, no shared memory (one thread per circuit).
// @include common/detmath.wgsl

/** Private arrays need a constant size; the host reads this line to reject larger n. */
const rateMaxN: u32 = 32u;
override workgroupSize: u32 = 64u;
/** Cells per circuit (<= rateMaxN) and the method are pipeline constants: fixed loop bounds let the compiler unroll and keep x in registers. */
override circuitSize: u32 = 2u;
/** false = forward Euler, true = classical RK4. */
override useRk4: bool = false;

struct RateBatchParams {
  batch: u32,
  /** Sample x after every global step that is a multiple of this (0 = no samples). */
  sampleEvery: u32,
  /** Threads per row of the 2-D dispatch fold (workgroups in x times workgroupSize). */
  threadsPerRow: u32,
}

struct RateDispatch {
  /** Global steps done before this dispatch. */
  stepStart: u32,
  steps: u32,
  /** Global sample number (step / sampleEvery) stored in row 0 of `samples`. */
  sampleBase: u32,
}

struct RateActivation {
  /** 0 = relu, 1 = clip to [0, xmax], 2 = softclip xmax tanh(z+ / xmax). */
  kind: u32,
  xmax: f32,
  invXmax: f32,
}

@group(0) @binding(0) var<uniform> params: RateBatchParams;
/** [instance][i][j]: weight from j onto i. */
@group(0) @binding(1) var<storage, read> weights: array<f32>;
/** [instance][i]: u_i. */
@group(0) @binding(2) var<storage, read> inputs: array<f32>;
/** [instance][i]: dt / tau_i, rounded to f32 on the host. */
@group(0) @binding(3) var<storage, read> stepScales: array<f32>;
@group(0) @binding(4) var<storage, read> activations: array<RateActivation>;
/** [instance][i]: the state, read at the start of a dispatch and written at its end. */
@group(1) @binding(0) var<storage, read_write> state: array<f32>;
/** [sample row][instance][i]. */
@group(1) @binding(1) var<storage, read_write> samples: array<f32>;
@group(2) @binding(0) var<uniform> dispatchInfo: RateDispatch;

var<private> xs: array<f32, rateMaxN>; // the state (Euler) or the stage point (RK4)
var<private> x: array<f32, rateMaxN>;  // RK4: the state at the start of the step
var<private> kv: array<f32, rateMaxN>; // dt T^-1 f(xs)
var<private> acc: array<f32, rateMaxN>; // RK4: k1 + 2 k2 + 2 k3 + k4

/** tanh(y) for y >= 0 to ~1e-7 absolute: odd Taylor series below 1/8, (1 - e^-2y) / (1 + e^-2y) above. */
fn rateTanh(y: f32) -> f32 {
  if (y < 0.125) {
    let y2 = y * y;
    var p: f32 = 0.021869488; // 62/2835
    p = -0.053968254 + y2 * p; // -17/315
    p = 0.13333334 + y2 * p; // 2/15
    p = -0.33333334 + y2 * p;
    return y + y * (y2 * p);
  }
  let t = detExp(-2.0 * y);
  return (1.0 - t) * detRecip(1.0 + t);
}

fn ratePhi(z: f32, act: RateActivation) -> f32 {
  let zp = max(z, 0.0);
  if (act.kind == 1u) {
    return min(zp, act.xmax);
  }
  if (act.kind == 2u) {
    return act.xmax * rateTanh(zp * act.invXmax);
  }
  return zp;
}

/** kv_i = (dt / tau_i) (Phi(u_i + sum_j W_ij xs_j) - xs_i) for every i. */
fn rateSlopes(inst: u32, n: u32, act: RateActivation) {
  for (var i = 0u; i < n; i++) {
    let row = (inst * n + i) * n;
    var s = inputs[inst * n + i];
    for (var j = 0u; j < n; j++) {
      s = s + weights[row + j] * xs[j];
    }
    kv[i] = stepScales[inst * n + i] * (ratePhi(s, act) - xs[i]);
  }
}

@compute @workgroup_size(workgroupSize)
fn integrateRateCircuits(@builtin(global_invocation_id) gid: vec3u) {
  let inst = gid.x + gid.y * params.threadsPerRow;
  if (inst >= params.batch) {
    return;
  }
  let n = circuitSize;
  let act = activations[inst];
  for (var i = 0u; i < n; i++) {
    xs[i] = state[inst * n + i];
  }
  for (var s = 0u; s < dispatchInfo.steps; s++) {
    if (useRk4) {
      for (var i = 0u; i < n; i++) {
        x[i] = xs[i];
      }
      rateSlopes(inst, n, act);
      for (var i = 0u; i < n; i++) {
        acc[i] = kv[i];
        xs[i] = x[i] + 0.5 * kv[i];
      }
      rateSlopes(inst, n, act);
      for (var i = 0u; i < n; i++) {
        acc[i] = acc[i] + 2.0 * kv[i];
        xs[i] = x[i] + 0.5 * kv[i];
      }
      rateSlopes(inst, n, act);
      for (var i = 0u; i < n; i++) {
        acc[i] = acc[i] + 2.0 * kv[i];
        xs[i] = x[i] + kv[i];
      }
      rateSlopes(inst, n, act);
      for (var i = 0u; i < n; i++) {
        xs[i] = x[i] + (acc[i] + kv[i]) * 0.16666667;
      }
    } else {
      rateSlopes(inst, n, act);
      for (var i = 0u; i < n; i++) {
        xs[i] = xs[i] + kv[i];
      }
    }
    let done = dispatchInfo.stepStart + s + 1u;
    if (params.sampleEvery > 0u && done % params.sampleEvery == 0u) {
      let base = ((done / params.sampleEvery - dispatchInfo.sampleBase) * params.batch + inst) * n;
      for (var i = 0u; i < n; i++) {
        samples[base + i] = xs[i];
      }
    }
  }
  for (var i = 0u; i < n; i++) {
    state[inst * n + i] = xs[i];
  }
}
