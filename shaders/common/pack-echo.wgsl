// Test kernel: echoes every field of a parameter struct as raw bits, proving the TS packer matches WGSL's layout.

struct EchoParams {
  count: u32,
  scale: f32,
  offset: i32,
  origin: vec3<f32>,
  weights: vec4<f32>,
  taps: array<vec4<u32>, 2>,
  last: f32,
}

@group(0) @binding(0) var<uniform> params: EchoParams;
@group(0) @binding(1) var<storage, read_write> echoed: array<u32>;

@compute @workgroup_size(1)
fn echoParams() {
  echoed[0] = params.count;
  echoed[1] = bitcast<u32>(params.scale);
  echoed[2] = bitcast<u32>(params.offset);
  for (var i = 0u; i < 3u; i++) { echoed[3u + i] = bitcast<u32>(params.origin[i]); }
  for (var i = 0u; i < 4u; i++) { echoed[6u + i] = bitcast<u32>(params.weights[i]); }
  for (var t = 0u; t < 2u; t++) {
    for (var i = 0u; i < 4u; i++) { echoed[10u + 4u * t + i] = params.taps[t][i]; }
  }
  echoed[18] = bitcast<u32>(params.last);
}
