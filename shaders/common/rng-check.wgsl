// Test kernels for rng.wgsl/detmath.wgsl: raw Philox blocks, every sampler and every detmath function written out as bits, for exact comparison with src/rng (test/rng.gpu.test.ts).
// @include common/rng.wgsl

struct RngCheckParams {
  seed: vec2<u32>,
  count: u32,
  stream: u32,
  step: u32,
  which: u32,
  n: u32,
  p: f32,
  mean: f32,
}

@group(0) @binding(0) var<uniform> check: RngCheckParams;
// Per-element inputs as raw words (f32 inputs are bitcast), layout defined by each entry point.
@group(0) @binding(1) var<storage, read> checkIn: array<u32>;
@group(0) @binding(2) var<storage, read_write> checkOut: array<u32>;

fn checkIndex(gid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return gid.x + gid.y * nwg.x * 64u;
}

/** checkIn[8i..8i+5] = (ctr, key) -> checkOut[4i..4i+3] = Philox block. */
@compute @workgroup_size(64)
fn checkPhilox(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = checkIndex(gid, nwg);
  if (i >= check.count) { return; }
  let b = 8u * i;
  let c = vec4<u32>(checkIn[b], checkIn[b + 1u], checkIn[b + 2u], checkIn[b + 3u]);
  let k = vec2<u32>(checkIn[b + 4u], checkIn[b + 5u]);
  let o = philox4x32_10(c, k);
  for (var j = 0u; j < 4u; j++) { checkOut[4u * i + j] = o[j]; }
}

/**
 * Element i has inputs (mean, p, n, instance) in checkIn[4i..4i+3] and uses the counter
 * (neuron = i, instance, check.step); writes 12 words: 2 raw u32, uniform, normal, Bernoulli(p),
 * Poisson(mean), binomial(n, p), then a second Poisson and binomial from a fresh stream, the
 * words used, and two more raw words after all draws (catches any divergence in words consumed).
 */
@compute @workgroup_size(64)
fn checkDraws(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = checkIndex(gid, nwg);
  if (i >= check.count) { return; }
  let mean = bitcast<f32>(checkIn[4u * i]);
  let p = bitcast<f32>(checkIn[4u * i + 1u]);
  let n = checkIn[4u * i + 2u];
  let inst = checkIn[4u * i + 3u];
  var r = rngCreate(check.seed, check.stream, check.step, inst, i);
  let o = 12u * i;
  checkOut[o] = rngNextU32(&r);
  checkOut[o + 1u] = rngNextU32(&r);
  checkOut[o + 2u] = bitcast<u32>(rngUniform(&r));
  checkOut[o + 3u] = bitcast<u32>(rngNormal(&r));
  checkOut[o + 4u] = rngBernoulli(&r, p);
  checkOut[o + 5u] = rngPoisson(&r, mean);
  checkOut[o + 6u] = rngBinomial(&r, n, p);
  var r2 = rngCreate(check.seed, check.stream + 1u, check.step, inst, i);
  checkOut[o + 7u] = rngPoisson(&r2, mean);
  checkOut[o + 8u] = rngBinomial(&r2, n, p);
  checkOut[o + 9u] = (r.ctr.w & 0xffffu) * 4u + r.used;
  checkOut[o + 10u] = rngNextU32(&r);
  checkOut[o + 11u] = rngNextU32(&r2);
}

/** checkIn[i] = bits of x -> 8 words: detExp, detLog, detNormalCdf, detLogistic, detRecip, detSqrt, detLog1p, detCos2Pi. */
@compute @workgroup_size(64)
fn checkDetmath(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = checkIndex(gid, nwg);
  if (i >= check.count) { return; }
  let x = bitcast<f32>(checkIn[i]);
  let o = 8u * i;
  checkOut[o] = bitcast<u32>(detExp(x));
  checkOut[o + 1u] = bitcast<u32>(detLog(x));
  checkOut[o + 2u] = bitcast<u32>(detNormalCdf(x));
  checkOut[o + 3u] = bitcast<u32>(detLogistic(x));
  checkOut[o + 4u] = bitcast<u32>(detRecip(x));
  checkOut[o + 5u] = bitcast<u32>(detSqrt(x));
  checkOut[o + 6u] = bitcast<u32>(detLog1p(x));
  checkOut[o + 7u] = bitcast<u32>(detCos2Pi(x));
}

/** checkIn[3i..3i+2] = bits of (a, b, c) -> a*b+c as written (an FMA-contraction probe) and fma(a, b, c). */
@compute @workgroup_size(64)
fn checkContraction(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = checkIndex(gid, nwg);
  if (i >= check.count) { return; }
  let a = bitcast<f32>(checkIn[3u * i]);
  let b = bitcast<f32>(checkIn[3u * i + 1u]);
  let c = bitcast<f32>(checkIn[3u * i + 2u]);
  checkOut[2u * i] = bitcast<u32>(a * b + c);
  checkOut[2u * i + 1u] = bitcast<u32>(fma(a, b, c));
}

/**
 * Distribution samples: element i draws one variate with counter (neuron = i, instance 0,
 * check.step): which = 0 raw u32, 1 uniform bits, 2 normal bits, 3 Bernoulli(p), 4 Poisson(mean),
 * 5 binomial(n, p).
 */
@compute @workgroup_size(64)
fn sampleMany(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let i = checkIndex(gid, nwg);
  if (i >= check.count) { return; }
  var r = rngCreate(check.seed, check.stream, check.step, 0u, i);
  var v = 0u;
  switch (check.which) {
    case 0u: { v = rngNextU32(&r); }
    case 1u: { v = bitcast<u32>(rngUniform(&r)); }
    case 2u: { v = bitcast<u32>(rngNormal(&r)); }
    case 3u: { v = rngBernoulli(&r, check.p); }
    case 4u: { v = rngPoisson(&r, check.mean); }
    default: { v = rngBinomial(&r, check.n, check.p); }
  }
  checkOut[i] = v;
}
