// Binary E-I network (Agrawal et al. 2018 / Larremore et al., reconstruction): synchronous stochastic update
// of N binary neurons per instance with procedural fixed in-degree or Erdos-Renyi connectivity, mirrored by
// src/models/binary/network.ts bit for bit.
// @include common/rng.wgsl
// @include engine/record.wgsl

struct BinaryUniforms {
  n: u32,
  batch: u32,
  seed: vec2<u32>,
  k: u32,
  // Half the bit width of the Feistel domain that permutes [0, n - 1) (see partnerOf).
  halfBits: u32,
  workgroupsPerInstance: u32,
  burnin: u32,
  // 0 = fixed in-degree k (Feistel partners), 1 = Erdos-Renyi with p = k / (n - 1) (geometric skips).
  connectivity: u32,
  // Erdos-Renyi: fl(1 / ln(1 - p)) computed on the host (-0 when p = 1); unused for fixed in-degree.
  erScale: f32,
  // M in [0, 16]: neurons [0, M) form the joint pattern (bit i = s_i) histogrammed per instance.
  patternNeurons: u32,
  pad0: u32,
}

// Per-instance constants, derived on the host (makeBinaryInstance): weights already divided by k.
struct BinaryInstance {
  weightE: f32,
  weightI: f32,
  p0: f32,
  oneMinusP0: f32,
  // Neurons [0, nE) are excitatory, [nE, n) inhibitory.
  nE: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

@group(0) @binding(0) var<uniform> sim: BinaryUniforms;
@group(0) @binding(1) var<storage, read> instances: array<BinaryInstance>;
@group(0) @binding(2) var<storage, read> instanceIds: array<u32>;
// Ping-pong pair [parity][instance][neuron] of 0/1 states: step t reads parity t & 1, writes the other.
@group(1) @binding(0) var<storage, read_write> state: array<u32>;
// [row][instance] active counts of the chunk's steps (cleared by the host per chunk).
@group(1) @binding(1) var<storage, read_write> counts: array<atomic<u32>>;
// [instance][m], m in [0, n]: counts of steps >= burnin whose new state had m active neurons.
@group(1) @binding(2) var<storage, read_write> hist: array<atomic<u32>>;
// [row][instance] M-bit patterns of neurons [0, M) after each step of the chunk (cleared per chunk with counts).
@group(1) @binding(3) var<storage, read_write> patterns: array<atomic<u32>>;
// [instance][pattern], pattern in [0, 2^M): counts of steps >= burnin by the pattern after them.
@group(1) @binding(4) var<storage, read_write> patternHist: array<atomic<u32>>;
// [instance][neuron]: steps >= burnin after which the neuron was active (one owner thread per neuron: no atomics).
@group(1) @binding(5) var<storage, read_write> activeCounts: array<u32>;
@group(2) @binding(0) var<uniform> stepInfo: StepUniforms;

const streamConnect = 1u;
const streamUpdate = 2u;
const streamInit = 3u;

override workgroupSize: u32 = 64u;
override neuronsPerThread: u32 = 8u;

// Integer mixer (lowbias32); the Feistel round function.
fn mix32(v: u32) -> u32 {
  var x = v;
  x = x ^ (x >> 16u);
  x = x * 0x7feb352du;
  x = x ^ (x >> 15u);
  x = x * 0x846ca68bu;
  x = x ^ (x >> 16u);
  return x;
}

// The t-th presynaptic partner of neuron i: a keyed 4-round Feistel permutation of [0, 2^(2h)),
// cycle-walked into [0, n - 1), then shifted past i. Distinct for distinct t, never i, O(1) memory.
fn partnerOf(keys: vec4<u32>, t: u32, i: u32) -> u32 {
  let h = sim.halfBits;
  let mask = (1u << h) - 1u;
  var v = t;
  loop {
    var l = v >> h;
    var r = v & mask;
    for (var round = 0u; round < 4u; round++) {
      let f = mix32(r ^ keys[round]) & mask;
      let nl = r;
      r = l ^ f;
      l = nl;
    }
    v = (l << h) | r;
    if (v < sim.n - 1u) { break; }
  }
  return select(v, v + 1u, v >= i);
}

fn instanceOf(wid: vec3<u32>, nwg: vec3<u32>) -> vec2<u32> {
  let wg = wid.x + wid.y * nwg.x;
  return vec2<u32>(wg / sim.workgroupsPerInstance, wg % sim.workgroupsPerInstance);
}

// s_i(0) ~ Bernoulli(1/2) from stream INIT; writes parity 0.
@compute @workgroup_size(workgroupSize)
fn initBinaryNeurons(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let at = instanceOf(wid, nwg);
  if (at.x >= sim.batch) { return; }
  let id = instanceIds[at.x];
  let first = at.y * workgroupSize * neuronsPerThread + lid;
  for (var j = 0u; j < neuronsPerThread; j++) {
    let i = first + j * workgroupSize;
    if (i >= sim.n) { break; }
    var r = rngCreate(sim.seed, streamInit, 0u, id, i);
    state[at.x * sim.n + i] = rngBernoulli(&r, 0.5);
  }
}

// One synchronous step: count active E (a) and I (b) partners, x = a wE - b wI, P = p0 + (1 - p0) clamp(x, 0, 1).
@compute @workgroup_size(workgroupSize)
fn stepBinaryNeurons(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let at = instanceOf(wid, nwg);
  if (at.x >= sim.batch) { return; }
  let p = instances[at.x];
  let id = instanceIds[at.x];
  let total = sim.batch * sim.n;
  let src = (stepInfo.step & 1u) * total + at.x * sim.n;
  let dst = ((stepInfo.step + 1u) & 1u) * total + at.x * sim.n;
  let first = at.y * workgroupSize * neuronsPerThread + lid;
  var fired = 0u;
  for (var j = 0u; j < neuronsPerThread; j++) {
    let i = first + j * workgroupSize;
    if (i >= sim.n) { break; }
    // Connectivity is keyed by step 0: the same partners at every step.
    var rc = rngCreate(sim.seed, streamConnect, 0u, id, i);
    var a = 0u;
    var b = 0u;
    if (sim.connectivity == 1u) {
      // Erdos-Renyi: walk the candidates v in [0, n - 1) (v >= i stands for v + 1) by geometric skips
      // G = floor(ln(u) / ln(1 - p)), u ~ U(0, 1) from this neuron's CONNECT stream: each candidate is
      // included independently with probability p (exact up to the f32 rounding of ln(u) * erScale).
      var v = 0u;
      loop {
        let g = detLog(rngUniform(&rc)) * sim.erScale;
        // f32(n - 1 - v) is exact (n <= 2^20); g >= it means no further partner.
        if (g >= f32(sim.n - 1u - v)) { break; }
        v += u32(g);
        let q = select(v, v + 1u, v >= i);
        let s = state[src + q];
        if (q < p.nE) { a += s; } else { b += s; }
        v += 1u;
      }
    } else {
      let keys = vec4<u32>(rngNextU32(&rc), rngNextU32(&rc), rngNextU32(&rc), rngNextU32(&rc));
      for (var t = 0u; t < sim.k; t++) {
        let q = partnerOf(keys, t, i);
        let s = state[src + q];
        if (q < p.nE) { a += s; } else { b += s; }
      }
    }
    // One rounding per statement, in this order (the CPU mirror does the same); a, b < 2^24 convert exactly.
    let drive = f32(a) * p.weightE;
    let brake = f32(b) * p.weightI;
    let x = drive - brake;
    let g = min(1.0, max(0.0, x));
    let scaled = p.oneMinusP0 * g;
    let prob = p.p0 + scaled;
    var ru = rngCreate(sim.seed, streamUpdate, stepInfo.step, id, i);
    let next = rngBernoulli(&ru, prob);
    state[dst + i] = next;
    fired += next;
    if (next == 1u) {
      if (i < sim.patternNeurons) {
        atomicOr(&patterns[stepInfo.row * sim.batch + at.x], 1u << i);
      }
      if (stepInfo.step >= sim.burnin) {
        activeCounts[at.x * sim.n + i] += 1u;
      }
    }
  }
  if (fired > 0u) {
    atomicAdd(&counts[stepInfo.row * sim.batch + at.x], fired);
  }
}

// Once per chunk: adds the chunk's counts (and patterns) of steps >= burnin to the histograms. stepInfo.step is the
// chunk's first step, stepInfo.row its number of rows.
@compute @workgroup_size(workgroupSize)
fn accumulateHistogram(@builtin(global_invocation_id) gid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>) {
  let cell = gid.x + gid.y * nwg.x * workgroupSize;
  if (cell >= stepInfo.row * sim.batch) { return; }
  let row = cell / sim.batch;
  let instance = cell % sim.batch;
  if (stepInfo.step + row < sim.burnin) { return; }
  let m = atomicLoad(&counts[cell]);
  atomicAdd(&hist[instance * (sim.n + 1u) + m], 1u);
  let pattern = atomicLoad(&patterns[cell]);
  atomicAdd(&patternHist[(instance << sim.patternNeurons) + pattern], 1u);
}
