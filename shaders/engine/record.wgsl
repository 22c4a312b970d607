// Population recording shared by neuron-model step kernels: workgroup moment partials and their per-step merge.
// Contract: a step kernel writes one MomentPartial per (record row, instance, workgroup); reducePopulation
// merges them in a fixed order, so results do not depend on scheduling.

// Run-wide constants every population step kernel binds at group 0, binding 0.
struct SimUniforms {
  n: u32,
  batch: u32,
  seed: vec2<u32>,
  workgroupsPerInstance: u32,
  spikeWords: u32,
  recordSpikes: u32,
  pad: u32,
}

// One 256-byte slot per step of a chunk, bound with a dynamic offset: the step counter stays an integer.
struct StepUniforms {
  step: u32,
  row: u32,
  traceRow: u32,
  pad: u32,
}

struct MomentPartial {
  count: f32,
  mean: f32,
  m2: f32,
  extraSum: f32,
}

struct RecordParams {
  batch: u32,
  rows: u32,
  partialsPerInstance: u32,
  pad: u32,
}

// Chan et al.'s pairwise update: stable for large counts and large common offsets.
fn mergeMoments(a: MomentPartial, b: MomentPartial) -> MomentPartial {
  let n = a.count + b.count;
  if (b.count == 0.0) { return a; }
  if (a.count == 0.0) { return b; }
  let d = b.mean - a.mean;
  let wb = b.count / n;
  var out: MomentPartial;
  out.count = n;
  out.mean = a.mean + d * wb;
  out.m2 = a.m2 + b.m2 + d * d * a.count * wb;
  out.extraSum = a.extraSum + b.extraSum;
  return out;
}
