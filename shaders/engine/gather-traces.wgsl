// Copies the potential of the traced neurons of every instance into the chunk's trace buffer (sampled steps only).
// @include engine/record.wgsl

struct TraceParams {
  n: u32,
  batch: u32,
  count: u32,
  pad: u32,
}

@group(0) @binding(0) var<uniform> traceParams: TraceParams;
@group(0) @binding(1) var<storage, read> traceNeurons: array<u32>;
@group(0) @binding(2) var<storage, read> potential: array<f32>;
@group(0) @binding(3) var<storage, read_write> traces: array<f32>;
@group(1) @binding(0) var<uniform> stepInfo: StepUniforms;

@compute @workgroup_size(64)
fn gatherTraces(@builtin(global_invocation_id) gid: vec3<u32>) {
  let j = gid.x;
  let instance = gid.y;
  if (j >= traceParams.count || instance >= traceParams.batch) { return; }
  traces[(stepInfo.traceRow * traceParams.batch + instance) * traceParams.count + j] = potential[instance * traceParams.n + traceNeurons[j]];
}
