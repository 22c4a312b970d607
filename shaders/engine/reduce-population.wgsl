// Merges the per-workgroup MomentPartials of each (record row, instance) into population mean, variance and extra sum.
// @include engine/record.wgsl

@group(0) @binding(0) var<uniform> record: RecordParams;
@group(0) @binding(1) var<storage, read> partials: array<MomentPartial>;
@group(0) @binding(2) var<storage, read_write> population: array<vec4<f32>>;

override workgroupSize: u32 = 64u;

@compute @workgroup_size(workgroupSize)
fn reducePopulation(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let idx = gid.x + gid.y * nwg.x * workgroupSize;
  if (idx >= record.rows * record.batch) { return; }
  let base = idx * record.partialsPerInstance;
  var acc = partials[base];
  for (var w = 1u; w < record.partialsPerInstance; w++) {
    acc = mergeMoments(acc, partials[base + w]);
  }
  // (mean, population variance, mean of the extra quantity, count)
  population[idx] = vec4<f32>(acc.mean, acc.m2 / max(acc.count, 1.0), acc.extraSum / max(acc.count, 1.0), acc.count);
}
