// One time step of independent Poisson neurons with sigmoidal intensity driven by a leaky potential
// (the hybrid model's building block): spikes ~ Poisson(f(u) dt), then u <- u (1 - dt/tau) + dt mu + w Poisson(rIn dt).
// @include common/rng.wgsl
// @include engine/record.wgsl

// Per-instance constants, derived on the host from the model parameters and dt.
struct PoissonInstance {
  decay: f32,
  drive: f32,
  jump: f32,
  inputMean: f32,
  sigmoid: u32,
  peakPerStep: f32,
  theta: f32,
  gain: f32,
}

@group(0) @binding(0) var<uniform> sim: SimUniforms;
@group(0) @binding(1) var<storage, read> instances: array<PoissonInstance>;
// The RNG's instance coordinate: a sweep's global row, so results do not depend on how rows are batched or sharded.
@group(0) @binding(2) var<storage, read> instanceIds: array<u32>;
@group(1) @binding(0) var<storage, read_write> potential: array<f32>;
@group(2) @binding(0) var<uniform> stepInfo: StepUniforms;
@group(2) @binding(1) var<storage, read_write> popCounts: array<atomic<u32>>;
@group(2) @binding(2) var<storage, read_write> partials: array<MomentPartial>;
@group(2) @binding(3) var<storage, read_write> spikeBits: array<atomic<u32>>;
@group(2) @binding(4) var<storage, read> recordSlot: array<u32>;

const streamOutput = 1u;
const streamInput = 2u;
const noSlot = 0xffffffffu;

// Each thread updates neuronsPerThread neurons (strided by the workgroup size, so loads stay coalesced):
// fewer threads per neuron means fewer barrier rounds in the population reduction, which dominate on
// software adapters. The host derives workgroupsPerInstance from the same two constants.
override workgroupSize: u32 = 64u;
override neuronsPerThread: u32 = 8u;

var<workgroup> scratch: array<MomentPartial, workgroupSize>;

// Expected spikes per step, f(u) dt: probit uses Phi, logistic 1/(1+e^-x); both from detmath so the CPU mirror is bit-exact.
fn spikesPerStep(p: PoissonInstance, u: f32) -> f32 {
  let x = (u - p.theta) * p.gain;
  if (p.sigmoid == 0u) { return p.peakPerStep * detNormalCdf(x); }
  return p.peakPerStep * detLogistic(x);
}

@compute @workgroup_size(workgroupSize)
fn stepPoissonNeurons(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let wg = wid.x + wid.y * nwg.x;
  let instance = wg / sim.workgroupsPerInstance;
  let wgInInstance = wg % sim.workgroupsPerInstance;

  // Welford running moments of the updated potentials this thread owns, and the sum of intensities used.
  var acc = MomentPartial(0.0, 0.0, 0.0, 0.0);
  if (instance < sim.batch) {
    let p = instances[instance];
    let rngInstance = instanceIds[instance];
    let first = wgInInstance * workgroupSize * neuronsPerThread + lid;
    for (var j = 0u; j < neuronsPerThread; j++) {
      let neuron = first + j * workgroupSize;
      if (neuron >= sim.n) { break; }
      let idx = instance * sim.n + neuron;
      let u = potential[idx];
      let lambda = spikesPerStep(p, u);
      var out = rngCreate(sim.seed, streamOutput, stepInfo.step, rngInstance, neuron);
      let spikes = rngPoisson(&out, lambda);
      var inp = rngCreate(sim.seed, streamInput, stepInfo.step, rngInstance, neuron);
      let inputs = rngPoisson(&inp, p.inputMean);
      // One operation per statement: the CPU mirror rounds each one to f32 in the same order.
      let leaked = u * p.decay;
      let kicked = p.jump * f32(inputs);
      let next = (leaked + p.drive) + kicked;
      potential[idx] = next;
      if (spikes > 0u) {
        atomicAdd(&popCounts[stepInfo.row * sim.batch + instance], spikes);
        if (sim.recordSpikes != 0u) {
          let slot = recordSlot[neuron];
          if (slot != noSlot) {
            let word = (stepInfo.row * sim.batch + instance) * sim.spikeWords + slot / 32u;
            atomicOr(&spikeBits[word], 1u << (slot % 32u));
          }
        }
      }
      acc.count = acc.count + 1.0;
      let d = next - acc.mean;
      acc.mean = acc.mean + d / acc.count;
      acc.m2 = acc.m2 + d * (next - acc.mean);
      acc.extraSum = acc.extraSum + lambda;
    }
  }

  scratch[lid] = acc;
  workgroupBarrier();
  for (var stride = workgroupSize / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      scratch[lid] = mergeMoments(scratch[lid], scratch[lid + stride]);
    }
    workgroupBarrier();
  }
  if (lid == 0u && instance < sim.batch) {
    partials[(stepInfo.row * sim.batch + instance) * sim.workgroupsPerInstance + wgInInstance] = scratch[0];
  }
}
