// Minimax spiking E-I networks (Li & Pehlevan 2020): one workgroup owns one instance and runs many greedy-spiking steps inside the kernel.
//
// The dynamics and the f32 operation order are defined in src/models/minimax/network.ts; the CPU reference
// src/models/minimax/simulate-cpu.ts mirrors this file op for op. Only +, -, * and comparisons touch the
// state (decays, thresholds and input probabilities come precomputed in f32 from the host), so every spike is
// a function of the input bits. Neurons are indexed E first then I (n = nE + nI); thread t owns neurons
// t, t + W, t + 2W, ... (W = workgroupSize) in blocks of 4 lanes, and input channels t, t + W, ...
//
// Per step s: the spike decisions of step s sit in spikeBits buffer (s - stepStart) % 3. Every thread scans
// them in increasing index order, adds the weight column of each spiking neuron (column-packed: coalesced),
// updates traces and accumulators, decides its neurons' spikes of step s + 1 and samples the inputs of step
// s + 1 into buffer (s + 1) % 3, and zeroes buffer (s + 2) % 3. Between two barriers every thread reads
// buffer s % 3, ORs into (s + 1) % 3 and clears (s + 2) % 3: three distinct buffers, so one barrier per step
// suffices. The buffer a step ORs into was cleared a step earlier, before the barrier that separates them.
// @include common/rng.wgsl

override workgroupSize: u32 = 64u;
override nE: u32 = 1u;
override nI: u32 = 1u;
override nIn: u32 = 1u;
/** true: the instance's weights are copied into workgroup memory once per dispatch. */
override sharedWeights: bool = false;
/** Entries of sharedW: nE n + nI n + nIn nE with sharedWeights, else 1 (the host sets it). */
override sharedWeightCount: u32 = 1u;
override nNeurons: u32 = nE + nI;
/** Words of spike bits of the neurons (E then I) and of the inputs, per buffer. */
override spikeWords: u32 = (nE + nI + 31u) / 32u;
override bitWords: u32 = (nE + nI + 31u) / 32u + (nIn + 31u) / 32u;
override bitBufferWords: u32 = 3u * ((nE + nI + 31u) / 32u + (nIn + 31u) / 32u);
/** Blocks of 4 neurons each thread keeps in private memory (registers) for a whole dispatch, read and written once per
 * dispatch; 0: every step reads and writes the block's state in storage (networks above maxResidentBlocks 4 W neurons). */
override residentBlocks: u32 = 0u;
const maxResidentBlocks: u32 = 4u;

/** Fields of `neurons`, [field][instance][neuron]: f32 bits in 0..13 (6..13: the per-chunk sums), u32 counters above; then
 * [instance][nIn] input spike counts at measured steps (from laneFields batch nNeurons on). The host reads these lines. */
const fieldA: u32 = 0u;
const fieldB: u32 = 1u;
const fieldC: u32 = 2u;
const fieldR: u32 = 3u;
const fieldShiftE: u32 = 4u;
const fieldShiftI: u32 = 5u;
const fieldSumR: u32 = 6u;
const fieldSumE: u32 = 7u;
const fieldSumI: u32 = 8u;
const fieldSumEE: u32 = 9u;
const fieldSumII: u32 = 10u;
const fieldSumEI: u32 = 11u;
const fieldIsiSum: u32 = 12u;
const fieldIsiSumSq: u32 = 13u;
const counterLastSpike: u32 = 14u;
const counterSpikes: u32 = 15u;
const counterIsis: u32 = 16u;
const laneFields: u32 = 17u;
const noSpike: u32 = 0xffffffffu;
const streamInput: u32 = 1u;

struct MinimaxParams {
  seed: vec2<u32>,
  batch: u32,
  pad0: u32,
}

/** Per-instance constants; decays fl(1 - dt/tau) are rounded to f32 on the host. */
struct MinimaxInstanceParams {
  network: u32,
  instanceId: u32,
  measureFrom: u32,
  segments: u32,
  segmentSteps: u32,
  /** Offset of this instance's [segment][nIn] input probabilities in `tables`. */
  probOffset: u32,
  decayE: f32,
  decayI: f32,
  decayX: f32,
}

struct MinimaxDispatch {
  /** Global index of the dispatch's first step. */
  stepStart: u32,
  steps: u32,
  /** Steps [rasterFrom, rasterEnd) write raster row s - rasterFrom. */
  rasterFrom: u32,
  rasterEnd: u32,
}

@group(0) @binding(0) var<uniform> params: MinimaxParams;
@group(0) @binding(1) var<storage, read> instances: array<MinimaxInstanceParams>;
/** [network][neuron] fire thresholds, then each instance's [segment][nIn] input probabilities at its probOffset. */
@group(0) @binding(2) var<storage, read> tables: array<f32>;
/** [network][pre E j][post neuron]: W_EE[post][j] for post < nE, W_IE[post - nE][j] above. */
@group(0) @binding(3) var<storage, read> weightsFromE: array<f32>;
/** [network][pre I j][post neuron]: W_EI[post][j], then W_II[post - nE][j]. */
@group(0) @binding(4) var<storage, read> weightsFromI: array<f32>;
/** [network][input k][post E neuron]: F[post][k]. */
@group(0) @binding(5) var<storage, read> weightsFromIn: array<f32>;
/** [field][instance][neuron]: state, per-chunk sums (the host reads and clears fields 6..13 per chunk) and counters, f32 as bits. */
@group(1) @binding(0) var<storage, read_write> neurons: array<u32>;
/** [row][instance][spikeWords] spike bits of the raster window's steps within this chunk. */
@group(1) @binding(1) var<storage, read_write> raster: array<u32>;
@group(2) @binding(0) var<uniform> dispatchInfo: MinimaxDispatch;

var<workgroup> spikeBits: array<atomic<u32>, bitBufferWords>;
var<workgroup> sharedW: array<f32, sharedWeightCount>;
/** lanes[k][field]: the k-th block of 4 neurons (first + m W) of this thread, every field of `neurons` (f32 as bits). */
var<private> lanes: array<array<vec4<u32>, laneFields>, maxResidentBlocks>;

fn weightFromE(net: u32, j: u32, post: u32) -> f32 {
  if (sharedWeights) {
    return sharedW[j * nNeurons + post];
  }
  return weightsFromE[(net * nE + j) * nNeurons + post];
}

fn weightFromI(net: u32, j: u32, post: u32) -> f32 {
  if (sharedWeights) {
    return sharedW[(nE + j) * nNeurons + post];
  }
  return weightsFromI[(net * nI + j) * nNeurons + post];
}

fn weightFromIn(net: u32, k: u32, post: u32) -> f32 {
  if (sharedWeights) {
    return sharedW[nNeurons * nNeurons + k * nE + post];
  }
  return weightsFromIn[(net * nIn + k) * nE + post];
}

fn spikeBit(buf: u32, p: u32) -> u32 {
  return (atomicLoad(&spikeBits[buf * bitWords + (p >> 5u)]) >> (p & 31u)) & 1u;
}

fn markSpike(buf: u32, p: u32) {
  atomicOr(&spikeBits[buf * bitWords + (p >> 5u)], 1u << (p & 31u));
}

/** Input spikes of `step` into buffer `buf` (thread lid samples channels lid, lid + W, ...; p = 0 draws nothing, as rngBernoulli would return 0). */
fn sampleInputs(buf: u32, step: u32, ip: MinimaxInstanceParams, inst: u32, lid: u32) {
  let seg = min(step / ip.segmentSteps, ip.segments - 1u);
  let row = ip.probOffset + seg * nIn;
  let counts = laneFields * params.batch * nNeurons + inst * nIn;
  for (var k = lid; k < nIn; k += workgroupSize) {
    let p = tables[row + k];
    if (p > 0.0) {
      var r = rngCreate(params.seed, streamInput, step, ip.instanceId, k);
      if (rngBernoulli(&r, p) == 1u) {
        atomicOr(&spikeBits[buf * bitWords + spikeWords + (k >> 5u)], 1u << (k & 31u));
        if (step >= ip.measureFrom) {
          // Channel k belongs to this thread alone: no atomics.
          neurons[counts + k] += 1u;
        }
      }
    }
  }
}

fn laneIndex(first: u32) -> vec4<u32> {
  return vec4<u32>(first) + vec4<u32>(0u, 1u, 2u, 3u) * workgroupSize;
}

/** Lanes past the last neuron alias neuron `first` (owned by this thread) and are never stored, so no lane reads another thread's state. */
fn laneSource(first: u32) -> vec4<u32> {
  let lanes = laneIndex(first);
  return select(vec4<u32>(first), lanes, lanes < vec4<u32>(nNeurons));
}

fn loadWords(field: u32, base: u32, q: vec4<u32>) -> vec4<u32> {
  let o = field * params.batch * nNeurons + base;
  return vec4<u32>(neurons[o + q.x], neurons[o + q.y], neurons[o + q.z], neurons[o + q.w]);
}

fn storeWords(field: u32, base: u32, first: u32, v: vec4<u32>) {
  let o = field * params.batch * nNeurons + base;
  let lanes = laneIndex(first);
  for (var m = 0u; m < 4u; m++) {
    if (lanes[m] < nNeurons) {
      neurons[o + lanes[m]] = v[m];
    }
  }
}

/** Fields [lo, hi) of block k from storage into lanes[k]. */
fn loadFields(k: u32, first: u32, base: u32, lo: u32, hi: u32) {
  let q = laneSource(first);
  for (var f = lo; f < hi; f++) {
    lanes[k][f] = loadWords(f, base, q);
  }
}

fn storeFields(k: u32, first: u32, base: u32, lo: u32, hi: u32) {
  for (var f = lo; f < hi; f++) {
    storeWords(f, base, first, lanes[k][f]);
  }
}

fn lane(k: u32, f: u32) -> vec4<f32> {
  return bitcast<vec4<f32>>(lanes[k][f]);
}

fn setLane(k: u32, f: u32, v: vec4<f32>) {
  lanes[k][f] = bitcast<vec4<u32>>(v);
}

fn addLane(k: u32, f: u32, v: vec4<f32>) {
  setLane(k, f, lane(k, f) + v);
}

/** Spike decisions of the current state for neurons lid, lid + W, ... into buffer `buf` (the first step of a dispatch). */
fn decideFromState(buf: u32, net: u32, base: u32, lid: u32) {
  let stride = params.batch * nNeurons;
  for (var p = lid; p < nNeurons; p += workgroupSize) {
    let o = base + p;
    let v = (bitcast<f32>(neurons[fieldA * stride + o]) - bitcast<f32>(neurons[fieldB * stride + o])) + bitcast<f32>(neurons[fieldC * stride + o]);
    if (v > tables[net * nNeurons + p]) {
      markSpike(buf, p);
    }
  }
}

/**
 * Step s for the 4 neurons first + m W (m < 4) of this thread, held in lanes[k]: decay, add the columns of the
 * neurons and inputs that spiked at s (buffer cur), traces and measurements, then the spikes of s + 1 into buffer
 * nxt. Without residentBlocks the lanes are read from and written back to storage around the update.
 */
fn updateLanes(k: u32, first: u32, cur: u32, nxt: u32, s: u32, ip: MinimaxInstanceParams, base: u32) {
  let resident = residentBlocks > 0u;
  let net = ip.network;
  let idx = laneIndex(first);
  let valid = idx < vec4<u32>(nNeurons);
  let isE = idx < vec4<u32>(nE);
  let q = laneSource(first);
  let qe = min(q, vec4<u32>(nE - 1u));
  if (!resident) {
    loadFields(k, first, base, fieldA, fieldR + 1u);
  }
  var a = ip.decayE * lane(k, fieldA);
  var b = ip.decayI * lane(k, fieldB);
  var c = ip.decayX * lane(k, fieldC);
  let cb = cur * bitWords;
  for (var w = 0u; w < spikeWords; w++) {
    var bits = atomicLoad(&spikeBits[cb + w]);
    loop {
      if (bits == 0u) {
        break;
      }
      let j = w * 32u + countTrailingZeros(bits);
      bits = bits & (bits - 1u);
      if (j < nE) {
        a = a + vec4<f32>(weightFromE(net, j, q.x), weightFromE(net, j, q.y), weightFromE(net, j, q.z), weightFromE(net, j, q.w));
      } else {
        let ji = j - nE;
        b = b + vec4<f32>(weightFromI(net, ji, q.x), weightFromI(net, ji, q.y), weightFromI(net, ji, q.z), weightFromI(net, ji, q.w));
      }
    }
  }
  if (first < nE) {
    for (var w = 0u; w < bitWords - spikeWords; w++) {
      var bits = atomicLoad(&spikeBits[cb + spikeWords + w]);
      loop {
        if (bits == 0u) {
          break;
        }
        let kIn = w * 32u + countTrailingZeros(bits);
        bits = bits & (bits - 1u);
        // I lanes add +0 to c = +0 (V and e of an I neuron do not use c).
        let col = vec4<f32>(weightFromIn(net, kIn, qe.x), weightFromIn(net, kIn, qe.y), weightFromIn(net, kIn, qe.z), weightFromIn(net, kIn, qe.w));
        c = c + select(vec4<f32>(0.0), col, isE);
      }
    }
  }
  let sp = vec4<u32>(spikeBit(cur, q.x), spikeBit(cur, q.y), spikeBit(cur, q.z), spikeBit(cur, q.w)) & select(vec4<u32>(0u), vec4<u32>(1u), valid);
  let decayR = select(vec4<f32>(ip.decayI), vec4<f32>(ip.decayE), isE);
  let rd = decayR * lane(k, fieldR);
  let r = rd + vec4<f32>(sp);
  setLane(k, fieldA, a);
  setLane(k, fieldB, b);
  setLane(k, fieldC, c);
  setLane(k, fieldR, r);
  if (!resident) {
    storeFields(k, first, base, fieldA, fieldR + 1u);
  }

  let measured = s >= ip.measureFrom;
  if (measured) {
    if (!resident) {
      loadFields(k, first, base, fieldShiftE, fieldIsiSumSq + 1u);
    }
    // Input moments about the neuron's e, i at its first measured step: tight balance (large, nearly equal
    // means) would otherwise cancel catastrophically in f32.
    let e = a + c;
    if (s == ip.measureFrom) {
      setLane(k, fieldShiftE, e);
      setLane(k, fieldShiftI, b);
    }
    let de = e - lane(k, fieldShiftE);
    let di = b - lane(k, fieldShiftI);
    addLane(k, fieldSumR, r);
    addLane(k, fieldSumE, de);
    addLane(k, fieldSumI, di);
    addLane(k, fieldSumEE, de * de);
    addLane(k, fieldSumII, di * di);
    addLane(k, fieldSumEI, de * di);
  }
  if (any(sp == vec4<u32>(1u))) {
    if (!resident) {
      loadFields(k, first, base, counterLastSpike, counterIsis + 1u);
    }
    // ISIs with both spikes at measured steps; exact in f32 below 2^24 steps.
    let last = lanes[k][counterLastSpike];
    let isi = select(vec4<u32>(0u), vec4<u32>(s) - last, (last != vec4<u32>(noSpike)) & (last >= vec4<u32>(ip.measureFrom)));
    let hasIsi = select(vec4<u32>(0u), vec4<u32>(1u), isi > vec4<u32>(0u)) & sp;
    if (measured) {
      lanes[k][counterSpikes] += sp;
      lanes[k][counterIsis] += hasIsi;
      let isiF = vec4<f32>(isi * hasIsi);
      addLane(k, fieldIsiSum, isiF);
      addLane(k, fieldIsiSumSq, isiF * isiF);
    }
    lanes[k][counterLastSpike] = select(last, vec4<u32>(s), sp == vec4<u32>(1u));
    if (!resident) {
      storeFields(k, first, base, counterLastSpike, counterIsis + 1u);
    }
  }
  if (measured && !resident) {
    storeFields(k, first, base, fieldShiftE, fieldIsiSumSq + 1u);
  }
  let fire = vec4<f32>(tables[net * nNeurons + q.x], tables[net * nNeurons + q.y], tables[net * nNeurons + q.z], tables[net * nNeurons + q.w]);
  let v = (a - b) + c;
  let fires = (v > fire) & valid;
  for (var m = 0u; m < 4u; m++) {
    if (fires[m]) {
      markSpike(nxt, idx[m]);
    }
  }
}

@compute @workgroup_size(workgroupSize)
fn stepMinimaxNetworks(@builtin(workgroup_id) wid: vec3<u32>, @builtin(num_workgroups) nwg: vec3<u32>, @builtin(local_invocation_index) lid: u32) {
  let inst = wid.x + wid.y * nwg.x;
  if (inst >= params.batch) {
    return;
  }
  let ip = instances[inst];
  let base = inst * nNeurons;
  if (sharedWeights) {
    let countE = nE * nNeurons;
    let countI = nI * nNeurons;
    let countIn = nIn * nE;
    for (var q = lid; q < countE; q += workgroupSize) {
      sharedW[q] = weightsFromE[ip.network * countE + q];
    }
    for (var q = lid; q < countI; q += workgroupSize) {
      sharedW[countE + q] = weightsFromI[ip.network * countI + q];
    }
    for (var q = lid; q < countIn; q += workgroupSize) {
      sharedW[countE + countI + q] = weightsFromIn[ip.network * countIn + q];
    }
  }
  for (var q = lid; q < bitBufferWords; q += workgroupSize) {
    atomicStore(&spikeBits[q], 0u);
  }
  workgroupBarrier();
  let s0 = dispatchInfo.stepStart;
  for (var k = 0u; k < residentBlocks; k++) {
    let first = lid + k * 4u * workgroupSize;
    if (first < nNeurons) {
      loadFields(k, first, base, 0u, laneFields);
    }
  }
  decideFromState(0u, ip.network, base, lid);
  sampleInputs(0u, s0, ip, inst, lid);
  workgroupBarrier();
  for (var i = 0u; i < dispatchInfo.steps; i++) {
    let s = s0 + i;
    let cur = i % 3u;
    let nxt = (i + 1u) % 3u;
    let clear = (i + 2u) % 3u;
    for (var q = lid; q < bitWords; q += workgroupSize) {
      atomicStore(&spikeBits[clear * bitWords + q], 0u);
    }
    if (i + 1u < dispatchInfo.steps) {
      sampleInputs(nxt, s + 1u, ip, inst, lid);
    }
    if (residentBlocks > 0u) {
      for (var k = 0u; k < residentBlocks; k++) {
        let first = lid + k * 4u * workgroupSize;
        if (first < nNeurons) {
          updateLanes(k, first, cur, nxt, s, ip, base);
        }
      }
    } else {
      for (var first = lid; first < nNeurons; first += 4u * workgroupSize) {
        updateLanes(0u, first, cur, nxt, s, ip, base);
      }
    }
    if (s >= dispatchInfo.rasterFrom && s < dispatchInfo.rasterEnd) {
      let row = ((s - dispatchInfo.rasterFrom) * params.batch + inst) * spikeWords;
      for (var w = lid; w < spikeWords; w += workgroupSize) {
        raster[row + w] = atomicLoad(&spikeBits[cur * bitWords + w]);
      }
    }
    workgroupBarrier();
  }
  for (var k = 0u; k < residentBlocks; k++) {
    let first = lid + k * 4u * workgroupSize;
    if (first < nNeurons) {
      storeFields(k, first, base, 0u, laneFields);
    }
  }
}
