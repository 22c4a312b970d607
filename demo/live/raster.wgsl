// The live pages' spike raster: one quad per (time, neuron) point, placed by a 2-D view transform.

struct RasterView {
  // Data coordinates (time, neuron) to clip space: an orthographic matrix made with gl-matrix on the host.
  dataToClip: mat4x4f,
  // Half the quad's width and height, in clip units (a point stays the same size in pixels when the view zooms).
  halfSize: vec2f,
  // Neurons from this index on are inhibitory and drawn in the second colour (a huge value: all excitatory).
  firstInhibitory: f32,
  pad: f32,
  excitatoryColor: vec4f,
  inhibitoryColor: vec4f,
}

@group(0) @binding(0) var<uniform> view: RasterView;

struct SpikeVertex {
  @builtin(position) position: vec4f,
  @location(0) color: vec4f,
}

@group(0) @binding(1) var<storage, read> spikes: array<vec2f>;

// Six vertices per point (two triangles of its quad) in one draw: SwiftShader runs each instance of an instanced
// draw as a draw of its own, which made 1e5 instanced quads take seconds per frame. Vertex v belongs to point v / 6;
// its corner (0, 1, 2, then 2, 1, 3) sits at x = -1 + 2 (c & 1), y = -1 + 2 (c >> 1), computed rather than read from
// a constant array (an indexed array costs a copy per vertex on SwiftShader).
fn quadCorner(v: u32) -> vec2f {
  let k = v % 6u;
  let c = select(k, select(select(3u, 1u, k == 4u), 2u, k == 3u), k >= 3u);
  return vec2f(f32(c & 1u), f32(c >> 1u)) * 2.0 - 1.0;
}

@vertex
fn placeSpikeQuad(@builtin(vertex_index) v: u32) -> SpikeVertex {
  let spike = spikes[v / 6u];
  let centre = view.dataToClip * vec4f(spike, 0.0, 1.0);
  var out: SpikeVertex;
  out.position = vec4f(centre.xy + quadCorner(v) * view.halfSize, 0.0, 1.0);
  out.color = select(view.excitatoryColor, view.inhibitoryColor, spike.y >= view.firstInhibitory);
  return out;
}

@fragment
fn shadeSpike(vertex: SpikeVertex) -> @location(0) vec4f {
  return vertex.color;
}
