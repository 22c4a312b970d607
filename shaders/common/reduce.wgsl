// Batched reductions over instance-major data (value i of instance b at b*n + i): moments, exact u32 sums, histograms, entropy.
//
// Every entry point maps workgroups to (instance, chunk) pairs, so a workgroup never straddles two
// instances; dispatches above 65535 workgroups are folded into 2-D and flattened back here.
// Multi-pass reductions (moments, sums) write one partial per workgroup and are merged in a tree by
// the host issuing further passes, because WGSL has no float atomics and order must not matter.
// @include common/u64.wgsl

// Must be a power of two (the in-workgroup trees halve it); set by the host.
override workgroupSize: u32 = 256;
// Histograms with at most this many bins are privatised in workgroup memory (4 bytes a bin).
override sharedBins: u32 = 1024;

// One parameter block for every pass; fields a pass does not use are zero.
struct ReduceParams {
  // Instances in the batch.
  batch: u32,
  // Raw values per instance in `values`, and the index of instance 0's first value.
  valueCount: u32,
  valueOffset: u32,
  // Partials per instance in `partials` (merge passes; instance-major, starting at 0).
  partialCount: u32,
  // Workgroups (= outputs) per instance of this pass, and inputs each of them covers.
  chunksPerInstance: u32,
  itemsPerWorkgroup: u32,
  // Index of instance 0's first output in the destination binding (in its own element units).
  outputOffset: u32,
  // Histogram bins; f32 binning is bin = floor((x - binMin) * binScale), clamped to [0, bins-1].
  bins: u32,
  binMin: f32,
  binScale: f32,
}

// A per-chunk summary: count, mean of (x - shift), and the sum of squared deviations from that mean.
// `shift` is the instance's first value; subtracting it first keeps a large common offset
// (e.g. 1e4 + N(0,1)) from eating the f32 mantissa in the means and Chan's delta term.
struct MomentChunk {
  count: u32,
  mean: f32,
  m2: f32,
}

// What `encodeMoments` leaves on the GPU, one per instance (population variance: m2 / count).
struct MomentStats {
  count: u32,
  mean: f32,
  variance: f32,
  sum: f32,
}

@group(0) @binding(0) var<uniform> params: ReduceParams;
// Raw inputs (u32 values, or f32 values as bits) and histogram counts for entropy.
@group(1) @binding(0) var<storage, read> values: array<u32>;
// Partials of the previous pass: MomentChunk as 3 words, u64 sums as (lo, hi).
@group(1) @binding(1) var<storage, read> partials: array<u32>;
// Partials of this pass, final u64 sums (lo, hi) and entropies (f32 bits).
@group(2) @binding(0) var<storage, read_write> results: array<u32>;
@group(2) @binding(1) var<storage, read_write> stats: array<MomentStats>;
@group(2) @binding(2) var<storage, read_write> counts: array<atomic<u32>>;

var<workgroup> wgCount: array<u32, workgroupSize>;
var<workgroup> wgMean: array<f32, workgroupSize>;
var<workgroup> wgM2: array<f32, workgroupSize>;
var<workgroup> wgHi: array<u32, workgroupSize>;
var<workgroup> wgHist: array<atomic<u32>, sharedBins>;

const momentWords = 3u;
// A quiet NaN as bits: written for an empty histogram, so the host can refuse it loudly.
const nanBits = 0x7fc00000u;

fn flatWorkgroup(wid: vec3<u32>, nwg: vec3<u32>) -> u32 {
  return wid.x + wid.y * nwg.x;
}

// Chan et al.'s pairwise update; exact in count, and stable because delta is a difference of
// shifted means of similar size.
fn mergeMoments(a: MomentChunk, b: MomentChunk) -> MomentChunk {
  if (b.count == 0u) { return a; }
  if (a.count == 0u) { return b; }
  let count = a.count + b.count;
  let wb = f32(b.count) / f32(count);
  let delta = b.mean - a.mean;
  return MomentChunk(count, a.mean + delta * wb, a.m2 + b.m2 + delta * delta * f32(a.count) * wb);
}

fn loadPartial(index: u32) -> MomentChunk {
  let w = index * momentWords;
  return MomentChunk(partials[w], bitcast<f32>(partials[w + 1u]), bitcast<f32>(partials[w + 2u]));
}

fn storePartial(index: u32, m: MomentChunk) {
  let w = index * momentWords;
  results[w] = m.count;
  results[w + 1u] = bitcast<u32>(m.mean);
  results[w + 2u] = bitcast<u32>(m.m2);
}

// Halving tree over the workgroup; every invocation gets the workgroup's total.
fn reduceMomentsInWorkgroup(lid: u32, mine: MomentChunk) -> MomentChunk {
  wgCount[lid] = mine.count;
  wgMean[lid] = mine.mean;
  wgM2[lid] = mine.m2;
  workgroupBarrier();
  for (var stride = workgroupSize / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      let a = MomentChunk(wgCount[lid], wgMean[lid], wgM2[lid]);
      let b = MomentChunk(wgCount[lid + stride], wgMean[lid + stride], wgM2[lid + stride]);
      let m = mergeMoments(a, b);
      wgCount[lid] = m.count;
      wgMean[lid] = m.mean;
      wgM2[lid] = m.m2;
    }
    workgroupBarrier();
  }
  let total = MomentChunk(wgCount[0], wgMean[0], wgM2[0]);
  workgroupBarrier();
  return total;
}


fn reduceSumInWorkgroup(lid: u32, mine: vec2<u32>) -> vec2<u32> {
  wgCount[lid] = mine.x;
  wgHi[lid] = mine.y;
  workgroupBarrier();
  for (var stride = workgroupSize / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      let s = addU64(vec2<u32>(wgCount[lid], wgHi[lid]), vec2<u32>(wgCount[lid + stride], wgHi[lid + stride]));
      wgCount[lid] = s.x;
      wgHi[lid] = s.y;
    }
    workgroupBarrier();
  }
  let total = vec2<u32>(wgCount[0], wgHi[0]);
  workgroupBarrier();
  return total;
}

fn reduceF32InWorkgroup(lid: u32, mine: f32) -> f32 {
  wgMean[lid] = mine;
  workgroupBarrier();
  for (var stride = workgroupSize / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      wgMean[lid] = wgMean[lid] + wgMean[lid + stride];
    }
    workgroupBarrier();
  }
  let total = wgMean[0];
  workgroupBarrier();
  return total;
}

// Pass 0 of moments: one MomentChunk per (instance, chunk) from raw f32 values.
@compute @workgroup_size(workgroupSize)
fn reduceMomentsPartials(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = flatWorkgroup(wid, nwg);
  if (w >= params.batch * params.chunksPerInstance) { return; }
  let instance = w / params.chunksPerInstance;
  let chunk = w % params.chunksPerInstance;
  let base = params.valueOffset + instance * params.valueCount;
  let shift = bitcast<f32>(values[base]);
  let begin = chunk * params.itemsPerWorkgroup;
  let end = min(begin + params.itemsPerWorkgroup, params.valueCount);
  // Welford per invocation (strided, so neighbouring invocations read neighbouring words).
  var acc = MomentChunk(0u, 0.0, 0.0);
  for (var i = begin + lid; i < end; i += workgroupSize) {
    let y = bitcast<f32>(values[base + i]) - shift;
    acc.count += 1u;
    let d = y - acc.mean;
    acc.mean += d / f32(acc.count);
    acc.m2 += d * (y - acc.mean);
  }
  let total = reduceMomentsInWorkgroup(lid, acc);
  if (lid == 0u) { storePartial(params.outputOffset + w, total); }
}

// Later passes of moments: merges chunks of partialCount partials per instance into one each.
@compute @workgroup_size(workgroupSize)
fn mergeMomentPartials(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = flatWorkgroup(wid, nwg);
  if (w >= params.batch * params.chunksPerInstance) { return; }
  let instance = w / params.chunksPerInstance;
  let chunk = w % params.chunksPerInstance;
  let base = instance * params.partialCount;
  let begin = chunk * params.itemsPerWorkgroup;
  let end = min(begin + params.itemsPerWorkgroup, params.partialCount);
  var acc = MomentChunk(0u, 0.0, 0.0);
  for (var i = begin + lid; i < end; i += workgroupSize) {
    acc = mergeMoments(acc, loadPartial(base + i));
  }
  let total = reduceMomentsInWorkgroup(lid, acc);
  if (lid == 0u) { storePartial(params.outputOffset + w, total); }
}

// Last pass of moments: one invocation per instance turns its single partial into MomentStats.
@compute @workgroup_size(workgroupSize)
fn finalizeMoments(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let instance = flatWorkgroup(wid, nwg) * workgroupSize + lid;
  if (instance >= params.batch) { return; }
  let m = loadPartial(instance);
  let shift = bitcast<f32>(values[params.valueOffset + instance * params.valueCount]);
  let mean = shift + m.mean;
  let n = f32(m.count);
  stats[params.outputOffset + instance] = MomentStats(m.count, mean, m.m2 / n, n * mean);
}

// Pass 0 of the exact u32 sum: one (lo, hi) partial per (instance, chunk).
@compute @workgroup_size(workgroupSize)
fn reduceSumPartials(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = flatWorkgroup(wid, nwg);
  if (w >= params.batch * params.chunksPerInstance) { return; }
  let instance = w / params.chunksPerInstance;
  let chunk = w % params.chunksPerInstance;
  let base = params.valueOffset + instance * params.valueCount;
  let begin = chunk * params.itemsPerWorkgroup;
  let end = min(begin + params.itemsPerWorkgroup, params.valueCount);
  var acc = vec2<u32>(0u, 0u);
  for (var i = begin + lid; i < end; i += workgroupSize) {
    acc = addU64(acc, vec2<u32>(values[base + i], 0u));
  }
  let total = reduceSumInWorkgroup(lid, acc);
  if (lid == 0u) {
    let o = 2u * (params.outputOffset + w);
    results[o] = total.x;
    results[o + 1u] = total.y;
  }
}

// Later passes of the u32 sum: merges chunks of (lo, hi) partials.
@compute @workgroup_size(workgroupSize)
fn mergeSumPartials(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = flatWorkgroup(wid, nwg);
  if (w >= params.batch * params.chunksPerInstance) { return; }
  let instance = w / params.chunksPerInstance;
  let chunk = w % params.chunksPerInstance;
  let base = instance * params.partialCount;
  let begin = chunk * params.itemsPerWorkgroup;
  let end = min(begin + params.itemsPerWorkgroup, params.partialCount);
  var acc = vec2<u32>(0u, 0u);
  for (var i = begin + lid; i < end; i += workgroupSize) {
    let p = 2u * (base + i);
    acc = addU64(acc, vec2<u32>(partials[p], partials[p + 1u]));
  }
  let total = reduceSumInWorkgroup(lid, acc);
  if (lid == 0u) {
    let o = 2u * (params.outputOffset + w);
    results[o] = total.x;
    results[o + 1u] = total.y;
  }
}

// Integer values: values >= bins are clamped into the last bin ("bins-1 or more").
fn binOfU32(v: u32) -> u32 {
  return min(v, params.bins - 1u);
}

// f32 values: the host's CPU reference performs exactly these two f32 operations.
// Below binMin goes to bin 0, at or above binMin + bins/binScale to the last bin.
fn binOfF32(bits: u32) -> u32 {
  let t = (bitcast<f32>(bits) - params.binMin) * params.binScale;
  if (t >= f32(params.bins)) { return params.bins - 1u; }
  if (t > 0.0) { return min(u32(t), params.bins - 1u); }
  return 0u;
}

// Shared body of both histogram entry points; counts must be cleared by the host beforehand.
fn accumulateChunk(w: u32, lid: u32, asF32: bool) {
  let instance = w / params.chunksPerInstance;
  let chunk = w % params.chunksPerInstance;
  let base = params.valueOffset + instance * params.valueCount;
  let begin = chunk * params.itemsPerWorkgroup;
  let end = min(begin + params.itemsPerWorkgroup, params.valueCount);
  let outBase = params.outputOffset + instance * params.bins;
  // Privatising in workgroup memory turns most global atomics into one add per bin per workgroup.
  let privatised = params.bins <= sharedBins;
  if (privatised) {
    for (var i = lid; i < params.bins; i += workgroupSize) { atomicStore(&wgHist[i], 0u); }
  }
  workgroupBarrier();
  for (var i = begin + lid; i < end; i += workgroupSize) {
    let raw = values[base + i];
    let bin = select(binOfU32(raw), binOfF32(raw), asF32);
    if (privatised) {
      atomicAdd(&wgHist[bin], 1u);
    } else {
      atomicAdd(&counts[outBase + bin], 1u);
    }
  }
  workgroupBarrier();
  if (privatised) {
    for (var i = lid; i < params.bins; i += workgroupSize) {
      let c = atomicLoad(&wgHist[i]);
      if (c != 0u) { atomicAdd(&counts[outBase + i], c); }
    }
  }
}

@compute @workgroup_size(workgroupSize)
fn accumulateHistogram(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = flatWorkgroup(wid, nwg);
  if (w >= params.batch * params.chunksPerInstance) { return; }
  accumulateChunk(w, lid, false);
}

@compute @workgroup_size(workgroupSize)
fn accumulateHistogramF32(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let w = flatWorkgroup(wid, nwg);
  if (w >= params.batch * params.chunksPerInstance) { return; }
  accumulateChunk(w, lid, true);
}

// Shannon entropy in bits of each instance's histogram (`values` = counts, bins per instance).
// One workgroup per instance; total is exact (u64), each term -p log2 p is non-negative, so the
// f32 sum has no cancellation. An empty histogram yields NaN bits.
@compute @workgroup_size(workgroupSize)
fn histogramEntropy(
  @builtin(workgroup_id) wid: vec3<u32>,
  @builtin(num_workgroups) nwg: vec3<u32>,
  @builtin(local_invocation_index) lid: u32,
) {
  let instance = flatWorkgroup(wid, nwg);
  if (instance >= params.batch) { return; }
  let base = params.valueOffset + instance * params.bins;
  var t = vec2<u32>(0u, 0u);
  for (var i = lid; i < params.bins; i += workgroupSize) {
    t = addU64(t, vec2<u32>(values[base + i], 0u));
  }
  let total = reduceSumInWorkgroup(lid, t);
  let totalF = f32(total.y) * 4294967296.0 + f32(total.x);
  var h = 0.0;
  for (var i = lid; i < params.bins; i += workgroupSize) {
    let c = values[base + i];
    // A bin holding everything contributes exactly 0 (f32 division need not give exactly 1).
    let whole = total.y == 0u && c == total.x;
    if (c != 0u && !whole) {
      let p = f32(c) / totalF;
      h -= p * log2(p);
    }
  }
  let entropy = reduceF32InWorkgroup(lid, h);
  if (lid == 0u) {
    let empty = total.x == 0u && total.y == 0u;
    results[params.outputOffset + instance] = select(bitcast<u32>(entropy), nanBits, empty);
  }
}
