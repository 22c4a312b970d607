// The balanced stochastic hybrid network (MacLaurin & Vilanova, reconstruction): 2n neurons per instance,
// E = [0, n), I = [n, 2n). Per step each neuron receives Poisson input counts with means
// dt (S_b - [own population] f(u_k)), S_b = sum of f over population b, held as exact fixed-point totals.
// @include common/rng.wgsl
// @include common/u64.wgsl
// @include engine/record.wgsl

struct HybridUniforms {
  n: u32,
  batch: u32,
  seed: vec2<u32>,
  workgroupsPerPopulation: u32,
  pad0: u32,
  pad1: u32,
  pad2: u32,
}

// Per-instance constants, derived on the host (src/models/hybrid/params.ts).
struct HybridInstance {
  decay: f32,
  driveE: f32,
  driveI: f32,
  // Jump of u per input event, by target (E, I) and source (E, I), already divided by sqrt(n).
  jumpEE: f32,
  jumpEI: f32,
  jumpIE: f32,
  jumpII: f32,
  // Poisson mean per fixed-point unit of intensity: numax dt 2^-24.
  meanPerUnit: f32,
  sigmoid: u32,
  theta: f32,
  gain: f32,
  initMeanE: f32,
  initSdE: f32,
  initMeanI: f32,
  initSdI: f32,
  pad: f32,
}

// One step's population record of an instance: exact intensity totals and moment partials per population.
struct HybridRecord {
  totalE: vec2<u32>,
  totalI: vec2<u32>,
  meanE: f32,
  m2E: f32,
  meanI: f32,
  m2I: f32,
}

@group(0) @binding(0) var<uniform> sim: HybridUniforms;
@group(0) @binding(1) var<storage, read> instances: array<HybridInstance>;
@group(0) @binding(2) var<storage, read> instanceIds: array<u32>;
@group(1) @binding(0) var<storage, read_write> potential: array<f32>;
// [instance][population]: the fixed-point totals of f(u) the next step uses.
@group(1) @binding(1) var<storage, read_write> totals: array<vec2<u32>>;
// [instance][population][workgroup] partials of the step just taken.
@group(1) @binding(2) var<storage, read_write> totalPartials: array<vec2<u32>>;
@group(1) @binding(3) var<storage, read_write> momentPartials: array<MomentPartial>;
@group(2) @binding(0) var<uniform> stepInfo: StepUniforms;
@group(2) @binding(1) var<storage, read_write> records: array<HybridRecord>;

const streamInputE = 3u;
const streamInputI = 4u;
const streamInit = 5u;
const fixedPointOne = 16777216.0;

override workgroupSize: u32 = 64u;
override neuronsPerThread: u32 = 8u;

var<workgroup> scratchMoments: array<MomentPartial, workgroupSize>;
var<workgroup> scratchTotals: array<vec2<u32>, workgroupSize>;

// f(u)/numax in fixed point (2^-24 units): integer totals make S_b exact and independent of summation order.
fn intensityUnits(p: HybridInstance, u: f32) -> u32 {
  let x = (u - p.theta) * p.gain;
  var g: f32;
  if (p.sigmoid == 0u) { g = detNormalCdf(x); } else { g = detLogistic(x); }
  return u32(g * fixedPointOne + 0.5);
}

struct Slot {
  instance: u32,
  population: u32,
  workgroupInPopulation: u32,
  valid: bool,
}

fn slotOf(wid: vec3<u32>, nwg: vec3<u32>) -> Slot {
  let wg = wid.x + wid.y * nwg.x;
  let perInstance = 2u * sim.workgroupsPerPopulation;
  let instance = wg / perInstance;
  let inInstance = wg % perInstance;
  return Slot(instance, inInstance / sim.workgroupsPerPopulation, inInstance % sim.workgroupsPerPopulation, instance < sim.batch);
}

struct Partials {
  total: vec2<u32>,
  moments: MomentPartial,
}

// Tree reduction over the workgroup in a fixed order; every thread gets the result.
fn reduceInWorkgroup(lid: u32, total: vec2<u32>, moments: MomentPartial) -> Partials {
  scratchTotals[lid] = total;
  scratchMoments[lid] = moments;
  workgroupBarrier();
  for (var stride = workgroupSize / 2u; stride > 0u; stride = stride / 2u) {
    if (lid < stride) {
      scratchTotals[lid] = addU64(scratchTotals[lid], scratchTotals[lid + stride]);
      scratchMoments[lid] = mergeMoments(scratchMoments[lid], scratchMoments[lid + stride]);
    }
    workgroupBarrier();
  }
  let out = Partials(scratchTotals[0], scratchMoments[0]);
  // The scratch arrays are reused by the caller's next reduction.
  workgroupBarrier();
  return out;
}

// Thread 0 writes the workgroup's partials for (instance, population, workgroup).
fn writePartials(slot: Slot, lid: u32, total: vec2<u32>, moments: MomentPartial) {
  let r = reduceInWorkgroup(lid, total, moments);
  if (lid == 0u && slot.valid) {
    let at = (slot.instance * 2u + slot.population) * sim.workgroupsPerPopulation + slot.workgroupInPopulation;
    totalPartials[at] = r.total;
    momentPartials[at] = r.moments;
  }
}

fn addMoment(acc: ptr<function, MomentPartial>, x: f32) {
  (*acc).count = (*acc).count + 1.0;
  let d = x - (*acc).mean;
  (*acc).mean = (*acc).mean + d / (*acc).count;
  (*acc).m2 = (*acc).m2 + d * (x - (*acc).mean);
}

// u_k(0) ~ N(initMean_a, initSd_a^2), from the RNG's init stream (step counter 0).
@compute @workgroup_size(workgroupSize)
fn initHybridNeurons(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let slot = slotOf(wid, nwg);
  var total = vec2<u32>(0u, 0u);
  var acc = MomentPartial(0.0, 0.0, 0.0, 0.0);
  if (slot.valid) {
    let p = instances[slot.instance];
    let mean = select(p.initMeanI, p.initMeanE, slot.population == 0u);
    let sd = select(p.initSdI, p.initSdE, slot.population == 0u);
    let first = slot.workgroupInPopulation * workgroupSize * neuronsPerThread + lid;
    for (var j = 0u; j < neuronsPerThread; j++) {
      let inPop = first + j * workgroupSize;
      if (inPop >= sim.n) { break; }
      let neuron = slot.population * sim.n + inPop;
      var r = rngCreate(sim.seed, streamInit, 0u, instanceIds[slot.instance], neuron);
      let z = rngNormal(&r);
      let u = mean + sd * z;
      potential[slot.instance * 2u * sim.n + neuron] = u;
      total = addU64(total, vec2<u32>(intensityUnits(p, u), 0u));
      addMoment(&acc, u);
    }
  }
  writePartials(slot, lid, total, acc);
}

@compute @workgroup_size(workgroupSize)
fn stepHybridNeurons(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let slot = slotOf(wid, nwg);
  var total = vec2<u32>(0u, 0u);
  var acc = MomentPartial(0.0, 0.0, 0.0, 0.0);
  if (slot.valid) {
    let p = instances[slot.instance];
    let rngInstance = instanceIds[slot.instance];
    let totalE = totals[slot.instance * 2u];
    let totalI = totals[slot.instance * 2u + 1u];
    let isE = slot.population == 0u;
    let drive = select(p.driveI, p.driveE, isE);
    let jumpFromE = select(p.jumpIE, p.jumpEE, isE);
    let jumpFromI = select(p.jumpII, p.jumpEI, isE);
    let first = slot.workgroupInPopulation * workgroupSize * neuronsPerThread + lid;
    for (var j = 0u; j < neuronsPerThread; j++) {
      let inPop = first + j * workgroupSize;
      if (inPop >= sim.n) { break; }
      let neuron = slot.population * sim.n + inPop;
      let idx = slot.instance * 2u * sim.n + neuron;
      let u = potential[idx];
      // A neuron does not drive itself: remove its own intensity from its population's total, exactly.
      let own = vec2<u32>(intensityUnits(p, u), 0u);
      let fromE = select(totalE, subU64(totalE, own), isE);
      let fromI = select(subU64(totalI, own), totalI, isE);
      var re = rngCreate(sim.seed, streamInputE, stepInfo.step, rngInstance, neuron);
      let countE = rngPoisson(&re, u64ToF32(fromE) * p.meanPerUnit);
      var ri = rngCreate(sim.seed, streamInputI, stepInfo.step, rngInstance, neuron);
      let countI = rngPoisson(&ri, u64ToF32(fromI) * p.meanPerUnit);
      // One rounding per operation, in this order: the CPU mirror does the same.
      let leaked = u * p.decay;
      let excited = jumpFromE * f32(countE);
      let inhibited = jumpFromI * f32(countI);
      let next = ((leaked + drive) + excited) - inhibited;
      potential[idx] = next;
      total = addU64(total, vec2<u32>(intensityUnits(p, next), 0u));
      addMoment(&acc, next);
    }
  }
  writePartials(slot, lid, total, acc);
}

// One workgroup per instance: merges the partials of both populations in a fixed order, stores the totals
// for the next step and the step's record row.
@compute @workgroup_size(workgroupSize)
fn reduceHybridPopulations(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let instance = wid.x + wid.y * nwg.x;
  let valid = instance < sim.batch;
  var record: HybridRecord;
  for (var pop = 0u; pop < 2u; pop++) {
    var total = vec2<u32>(0u, 0u);
    var acc = MomentPartial(0.0, 0.0, 0.0, 0.0);
    if (valid) {
      let base = (instance * 2u + pop) * sim.workgroupsPerPopulation;
      for (var w = lid; w < sim.workgroupsPerPopulation; w += workgroupSize) {
        total = addU64(total, totalPartials[base + w]);
        acc = mergeMoments(acc, momentPartials[base + w]);
      }
    }
    let r = reduceInWorkgroup(lid, total, acc);
    if (pop == 0u) {
      record.totalE = r.total;
      record.meanE = r.moments.mean;
      record.m2E = r.moments.m2;
    } else {
      record.totalI = r.total;
      record.meanI = r.moments.mean;
      record.m2I = r.moments.m2;
    }
  }
  if (lid == 0u && valid) {
    totals[instance * 2u] = record.totalE;
    totals[instance * 2u + 1u] = record.totalI;
    records[stepInfo.row * sim.batch + instance] = record;
  }
}
