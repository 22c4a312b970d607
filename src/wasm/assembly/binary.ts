// The binary E-I network step kernel: CpuBinarySimulation of src/models/binary/network.ts (the mirror of
// shaders/binary/step.wgsl) with the same Philox counters, integer counts and f32 roundings, over whole instances
// (one thread runs an instance for a chunk of steps) or one thread's range of neurons of every instance per step.
// Partners come from a per-thread table built from the same Feistel / geometric-skip draws or, when it does not fit,
// are regenerated per neuron and step into a one-neuron table. The counts a and b are integers, so the order in which
// partners are read does not matter.
import { detLog } from './detmath';
import { rngNextU32, rngReset, rngUniform } from './rng';
import { philox4 } from './simd';

const streamConnect: u32 = 1;
const streamUpdate: u32 = 2;
const streamInit: u32 = 3;

/**
 * The simulation, as the host packs it into 22 32-bit words (src/models/binary/wasm-simulation.ts): states (u32,
 * [instance][2][n], parity t & 1 holds s(t): 0, or 1 / activeI for an active E / I neuron), active counts (u32
 * [instance][n]), histograms of m (u32 [instance][n + 1]) and of patterns (u32 [instance][2^M]), the chunk's counts
 * (u32 [step - stepStart][instance]), the instances (BinaryInstance each), thread scratch (scratchBytes each: a partner
 * table), per-thread partial counts and patterns (u32 pairs [thread][instance]), the shape, the RNG key, the step and
 * the table's entry width.
 */
// @ts-ignore: decorator
@unmanaged
class BinaryParams {
  states: usize;
  active: usize;
  hist: usize;
  patternHist: usize;
  counts: usize;
  insts: usize;
  scratch: usize;
  partials: usize;
  scratchBytes: u32;
  n: u32;
  k: u32;
  batch: u32;
  halfBits: u32;
  er: u32;
  erScale: f32;
  patternNeurons: u32;
  burnin: u32;
  k0: u32;
  k1: u32;
  step: u32;
  stepStart: u32;
  wide: u32;
}

/** network.ts's BinaryInstanceValues (weights divided by k) and the instance's RNG coordinate: 8 words. */
// @ts-ignore: decorator
@unmanaged
class BinaryInstance {
  weightE: f32;
  weightI: f32;
  p0: f32;
  oneMinusP0: f32;
  nE: u32;
  id: u32;
  pad0: u32;
  pad1: u32;
}

/**
 * An active neuron's state word: 1 (E) or 2^16 (I), so that one sum over the partners holds a in its low and b in its
 * high half (summed in runs of at most 2^16 - 1 partners, which cannot carry).
 */
const activeI: u32 = 0x10000;
const runMax: u32 = 0xffff;

/**
 * A partner table in thread scratch: a header (word 0: 1 when it holds every neuron of the thread's share), the end
 * (entry index) of each neuron's partners, then the entries: byte offsets of the partners' state words, u16 when
 * 4 N <= 2^16 (wide = 0), else u32. Without a table, a single neuron's partners are regenerated into the entries.
 */
const tableHeader: usize = 16;
const noFit: u32 = 0xffffffff;

/** The pattern bits of the last stepNeurons call. */
let gPattern: u32 = 0;

// @ts-ignore: decorator
@inline function instanceAt(p: BinaryParams, b: u32): BinaryInstance {
  return changetype<BinaryInstance>(p.insts + (<usize>b << 5));
}

// @ts-ignore: decorator
@inline function entriesAt(scratch: usize, neurons: usize): usize {
  return scratch + tableHeader + (neurons << 2);
}

/** network.ts's mix32 (lowbias32) on four lanes. */
// @ts-ignore: decorator
@inline function mix32x4(x: v128): v128 {
  x = v128.xor(x, i32x4.shr_u(x, 16));
  x = i32x4.mul(x, i32x4.splat(0x7feb352d));
  x = v128.xor(x, i32x4.shr_u(x, 15));
  x = i32x4.mul(x, i32x4.splat(<i32>0x846ca68b));
  return v128.xor(x, i32x4.shr_u(x, 16));
}

/** One pass of partnerOf's 4-round Feistel permutation of [0, 2^2h) on four lanes. */
// @ts-ignore: decorator
@inline function feistel4(v: v128, h: i32, mask: v128, key0: v128, key1: v128, key2: v128, key3: v128): v128 {
  let l = i32x4.shr_u(v, h);
  let r = v128.and(v, mask);
  let f = v128.and(mix32x4(v128.xor(r, key0)), mask);
  let nl = r;
  r = v128.xor(l, f);
  l = nl;
  f = v128.and(mix32x4(v128.xor(r, key1)), mask);
  nl = r;
  r = v128.xor(l, f);
  l = nl;
  f = v128.and(mix32x4(v128.xor(r, key2)), mask);
  nl = r;
  r = v128.xor(l, f);
  l = nl;
  f = v128.and(mix32x4(v128.xor(r, key3)), mask);
  nl = r;
  r = v128.xor(l, f);
  l = nl;
  return v128.or(i32x4.shl(l, h), r);
}

// @ts-ignore: decorator
@inline function putEntry(ent: usize, q: u32, offset: u32, wide: bool): void {
  if (wide) store<u32>(ent + (<usize>q << 2), offset);
  else store<u16>(ent + (<usize>q << 1), <u16>offset);
}

/** Four partners (lanes of j, each in [0, N) and != i) as entries q .. q + 3, of which the first `left` are kept. */
// @ts-ignore: decorator
@inline function putEntries4(ent: usize, q: u32, j: v128, left: u32, wide: bool): void {
  const o = i32x4.shl(j, 2);
  if (left >= 4 && wide) {
    v128.store(ent + (<usize>q << 2), o, 0, 1);
    return;
  }
  putEntry(ent, q, i32x4.extract_lane(o, 0), wide);
  if (left > 1) putEntry(ent, q + 1, i32x4.extract_lane(o, 1), wide);
  if (left > 2) putEntry(ent, q + 2, i32x4.extract_lane(o, 2), wide);
  if (left > 3) putEntry(ent, q + 3, i32x4.extract_lane(o, 3), wide);
}

/**
 * The partners of neuron i of an instance as entries q, q + 1, ... below cap: network.ts's partnerOf for t = 0 .. k - 1
 * (eight lanes at a time: two independent chains of multiplies) or, for Erdos-Renyi, forEachErPartner's walk.
 * Returns the end entry, or noFit when cap would be passed.
 */
function putPartners(p: BinaryParams, id: u32, i: u32, ent: usize, q: u32, cap: u32): u32 {
  const wide = p.wide != 0;
  const nm1 = p.n - 1;
  rngReset(p.k0, p.k1, streamConnect, 0, id, i);
  if (p.er != 0) {
    const scale = p.erScale;
    let v: u32 = 0;
    for (;;) {
      const g = detLog(rngUniform()) * scale;
      if (<f64>g >= <f64>(nm1 - v)) break;
      // g >= 0 here, so truncation is the reference's floor.
      v += <u32>g;
      if (q >= cap) return noFit;
      putEntry(ent, q++, (v >= i ? v + 1 : v) << 2, wide);
      v += 1;
    }
    return q;
  }
  const k = p.k;
  if (<u64>q + <u64>k > <u64>cap) return noFit;
  // The four Feistel keys: the first block of the neuron's CONNECT stream (makePartnerKeys), in round order.
  const key0 = i32x4.splat(rngNextU32());
  const key1 = i32x4.splat(rngNextU32());
  const key2 = i32x4.splat(rngNextU32());
  const key3 = i32x4.splat(rngNextU32());
  const h = <i32>p.halfBits;
  const mask = i32x4.splat((1 << h) - 1);
  // Every value here is below 2^21, so signed compares (native on x86, unlike unsigned ones) do: v >= N - 1 is
  // v > N - 2, v >= i is v > i - 1.
  const nm2v = i32x4.splat(<i32>nm1 - 1);
  const im1v = i32x4.splat(<i32>i - 1);
  const kv = i32x4.splat(k);
  const eight = i32x4.splat(8);
  let t0 = i32x4(0, 1, 2, 3);
  let t1 = i32x4(4, 5, 6, 7);
  for (let u: u32 = 0; u < k; u += 8) {
    // Lanes past k start at 0 (inside the permutation's domain, so their walk ends); they are not kept.
    let v0 = feistel4(v128.and(t0, i32x4.gt_s(kv, t0)), h, mask, key0, key1, key2, key3);
    let v1 = feistel4(v128.and(t1, i32x4.gt_s(kv, t1)), h, mask, key0, key1, key2, key3);
    // Cycle walking into [0, N - 1): lanes outside take another pass.
    let bad0 = i32x4.gt_s(v0, nm2v);
    let bad1 = i32x4.gt_s(v1, nm2v);
    while (v128.any_true(v128.or(bad0, bad1))) {
      v0 = v128.bitselect(feistel4(v0, h, mask, key0, key1, key2, key3), v0, bad0);
      v1 = v128.bitselect(feistel4(v1, h, mask, key0, key1, key2, key3), v1, bad1);
      bad0 = i32x4.gt_s(v0, nm2v);
      bad1 = i32x4.gt_s(v1, nm2v);
    }
    // Shifted past i: the compare is -1 where v >= i, so subtracting it adds one.
    const left = k - u;
    putEntries4(ent, q + u, i32x4.sub(v0, i32x4.gt_s(v0, im1v)), left, wide);
    if (left > 4) putEntries4(ent, q + u + 4, i32x4.sub(v1, i32x4.gt_s(v1, im1v)), left - 4, wide);
    t0 = i32x4.add(t0, eight);
    t1 = i32x4.add(t1, eight);
  }
  return q + k;
}

/** Sum of the state words at the entries [from, to) (entries of type T: byte offsets into cur). */
// @ts-ignore: decorator
@inline function sumStates<T>(cur: usize, ent: usize, from: u32, to: u32): u32 {
  let s0: u32 = 0;
  let s1: u32 = 0;
  let at = ent + (<usize>from) * sizeof<T>();
  const end = ent + (<usize>to) * sizeof<T>();
  for (; at + 8 * sizeof<T>() <= end; at += 8 * sizeof<T>()) {
    s0 += load<u32>(cur + <usize>load<T>(at)) + load<u32>(cur + <usize>load<T>(at, sizeof<T>()));
    s1 += load<u32>(cur + <usize>load<T>(at, 2 * sizeof<T>())) + load<u32>(cur + <usize>load<T>(at, 3 * sizeof<T>()));
    s0 += load<u32>(cur + <usize>load<T>(at, 4 * sizeof<T>())) + load<u32>(cur + <usize>load<T>(at, 5 * sizeof<T>()));
    s1 += load<u32>(cur + <usize>load<T>(at, 6 * sizeof<T>())) + load<u32>(cur + <usize>load<T>(at, 7 * sizeof<T>()));
  }
  for (; at < end; at += sizeof<T>()) s0 += load<u32>(cur + <usize>load<T>(at));
  return s0 + s1;
}

/** The active (E count) | (I count) << 32 of the partners at entries [from, to). */
// @ts-ignore: decorator
@inline function countActive(cur: usize, ent: usize, from: u32, to: u32, wide: bool): u64 {
  let a: u64 = 0;
  let c: u64 = 0;
  for (let q = from; q < to; ) {
    const e = to - q > runMax ? q + runMax : to;
    const s = wide ? sumStates<u32>(cur, ent, q, e) : sumStates<u16>(cur, ent, q, e);
    a += s & 0xffff;
    c += s >>> 16;
    q = e;
  }
  return a | (c << 32);
}

/** Lane l (< 4) of v. */
// @ts-ignore: decorator
@inline function laneOf(v: v128, l: u32): u32 {
  return l == 0 ? i32x4.extract_lane(v, 0) : l == 1 ? i32x4.extract_lane(v, 1) : l == 2 ? i32x4.extract_lane(v, 2) : i32x4.extract_lane(v, 3);
}

/** rng.ts's rngBernoulli(p) given its word x. */
// @ts-ignore: decorator
@inline function bernoulliOf(x: u32, p: f32): u32 {
  if (!(p > <f32>0)) return 0;
  if (p >= <f32>1) return 1;
  return <u64>x < <u64>Math.floor(<f64>p * 4294967296.0) ? 1 : 0;
}

/**
 * Step t of neurons [from, to) of instance b: reads s(t), writes s(t + 1) and the active counts; returns the count of
 * active neurons among them and leaves their pattern bits (neurons < M) in gPattern. cached: partners from the table
 * (the end entry of neuron `from` at ends, entries at ent, its first entry `start`); else regenerated into ent.
 */
function stepNeurons(p: BinaryParams, b: u32, t: u32, from: u32, to: u32, cached: bool, ends: usize, ent: usize, start: u32, cap: u32): u32 {
  const n = p.n;
  const M = p.patternNeurons;
  const wide = p.wide != 0;
  const k0 = p.k0;
  const k1 = p.k1;
  const inst = instanceAt(p, b);
  const nE = inst.nE;
  const id = inst.id;
  const wE = inst.weightE;
  const wI = inst.weightI;
  const p0 = inst.p0;
  const oneMinusP0 = inst.oneMinusP0;
  const base = p.states + ((<usize>b * 2 * <usize>n) << 2);
  const cur = base + ((<usize>(t & 1) * n) << 2);
  const next = base + ((<usize>((t + 1) & 1) * n) << 2);
  const post = t >= p.burnin;
  const active = p.active + ((<usize>b * <usize>n) << 2);
  let m: u32 = 0;
  let pattern: u32 = 0;
  let q = start;
  for (let i0 = from; i0 < to; i0 += 4) {
    // The update draws of four neurons at once: word 0 of each one's UPDATE block (rngReset + rngBernoulli).
    const words = philox4(i32x4.add(i32x4.splat(i0), i32x4(0, 1, 2, 3)), id, t, streamUpdate << 16, k0, k1);
    const last = min<u32>(to, i0 + 4);
    for (let i = i0; i < last; i++) {
      let counts: u64;
      if (cached) {
        const end = load<u32>(ends + (<usize>(i - from) << 2));
        counts = countActive(cur, ent, q, end, wide);
        q = end;
      } else {
        counts = countActive(cur, ent, 0, putPartners(p, id, i, ent, 0, cap), wide);
      }
      // makeActivationProbability: fl(fl(a wE) - fl(b wI)), clipped, then fl(p0 + fl((1 - p0) g)).
      const x = <f32><u32>counts * wE - <f32><u32>(counts >>> 32) * wI;
      const g = min<f32>(1, max<f32>(0, x));
      const s = bernoulliOf(laneOf(words, i - i0), p0 + oneMinusP0 * g);
      store<u32>(next + (<usize>i << 2), s == 0 ? 0 : i < nE ? 1 : activeI);
      m += s;
      if (s != 0) {
        if (i < M) pattern |= <u32>1 << i;
        if (post) {
          const w = active + (<usize>i << 2);
          store<u32>(w, load<u32>(w) + 1);
        }
      }
    }
  }
  gPattern = pattern;
  return m;
}

/** Instance b's record of step t: its count in the chunk, and (after the burn-in) its histograms. */
// @ts-ignore: decorator
@inline function recordStep(p: BinaryParams, b: u32, t: u32, m: u32, pattern: u32): void {
  store<u32>(p.counts + ((<usize>(t - p.stepStart) * <usize>p.batch + <usize>b) << 2), m);
  if (t >= p.burnin) {
    const h = p.hist + ((<usize>b * <usize>(p.n + 1) + <usize>m) << 2);
    store<u32>(h, load<u32>(h) + 1);
    const ph = p.patternHist + (((<usize>b << p.patternNeurons) + <usize>pattern) << 2);
    store<u32>(ph, load<u32>(ph) + 1);
  }
}

/**
 * The table of neurons [from, to) of instances [b0, b1) at scratch, in that order (header word 0 set when it fits the
 * thread's scratchBytes; else cleared, and the steps regenerate the partners). Returns whether it fits.
 */
function buildTable(p: BinaryParams, b0: u32, b1: u32, from: u32, to: u32, scratch: usize): bool {
  store<u32>(scratch, 0);
  const count = <usize>(b1 - b0) * <usize>(to - from);
  const ent = entriesAt(scratch, count);
  const scratchBytes = <usize>p.scratchBytes;
  if (scratchBytes < ent - scratch) return false;
  const cap = <u32>((scratchBytes - (ent - scratch)) >> (p.wide != 0 ? 2 : 1));
  let q: u32 = 0;
  let r: usize = 0;
  for (let b = b0; b < b1; b++) {
    const id = instanceAt(p, b).id;
    for (let i = from; i < to; i++) {
      q = putPartners(p, id, i, ent, q, cap);
      if (q == noFit) return false;
      store<u32>(scratch + tableHeader + (r++ << 2), q);
    }
  }
  store<u32>(scratch, 1);
  return true;
}

/** Entries that fit one thread's scratch after the header and `neurons` ends. */
// @ts-ignore: decorator
@inline function entryCap(p: BinaryParams, neurons: usize): u32 {
  const used = tableHeader + (neurons << 2);
  return <usize>p.scratchBytes <= used ? 0 : <u32>((<usize>p.scratchBytes - used) >> (p.wide != 0 ? 2 : 1));
}

/** The initial states s(0) of every instance: a fair coin per neuron from its INIT stream. */
export function binaryInit(params: usize): void {
  const p = changetype<BinaryParams>(params);
  const n = p.n;
  for (let b: u32 = 0; b < p.batch; b++) {
    const inst = instanceAt(p, b);
    const base = p.states + ((<usize>b * 2 * <usize>n) << 2);
    for (let i0: u32 = 0; i0 < n; i0 += 4) {
      const words = philox4(i32x4.add(i32x4.splat(i0), i32x4(0, 1, 2, 3)), inst.id, 0, streamInit << 16, p.k0, p.k1);
      for (let i = i0; i < min<u32>(n, i0 + 4); i++) {
        store<u32>(base + (<usize>i << 2), bernoulliOf(laneOf(words, i - i0), 0.5) == 0 ? 0 : i < inst.nE ? 1 : activeI);
      }
    }
  }
}

/** Steps [step, step + steps) of instance b on one thread (its partner table in scratch `thread`, built first). */
export function binaryRunInstance(params: usize, b: u32, thread: u32, steps: u32): void {
  const p = changetype<BinaryParams>(params);
  const n = p.n;
  const scratch = p.scratch + <usize>thread * <usize>p.scratchBytes;
  const cached = buildTable(p, b, b + 1, 0, n, scratch);
  const ends = scratch + tableHeader;
  const ent = cached ? entriesAt(scratch, n) : entriesAt(scratch, 0);
  const cap = entryCap(p, 0);
  for (let s: u32 = 0; s < steps; s++) {
    const t = p.step + s;
    const m = stepNeurons(p, b, t, 0, n, cached, ends, ent, 0, cap);
    recordStep(p, b, t, m, gPattern);
  }
}

// @ts-ignore: decorator
@inline function rangeFrom(n: u32, thread: u32, threads: u32): u32 {
  return <u32>((<u64>n * <u64>thread) / <u64>threads);
}

/** The partner table of this thread's range of neurons of every instance (kept for the whole run). */
export function binaryBuildRange(params: usize, thread: u32, threads: u32): void {
  const p = changetype<BinaryParams>(params);
  buildTable(p, 0, p.batch, rangeFrom(p.n, thread, threads), rangeFrom(p.n, thread + 1, threads), p.scratch + <usize>thread * <usize>p.scratchBytes);
}

/** Step `step` of this thread's range of neurons of every instance; its counts and pattern bits go to the partials. */
export function binaryStepRange(params: usize, thread: u32, threads: u32): void {
  const p = changetype<BinaryParams>(params);
  const from = rangeFrom(p.n, thread, threads);
  const to = rangeFrom(p.n, thread + 1, threads);
  const scratch = p.scratch + <usize>thread * <usize>p.scratchBytes;
  const cached = load<u32>(scratch) != 0;
  const width = <usize>(to - from);
  const ent = cached ? entriesAt(scratch, <usize>p.batch * width) : entriesAt(scratch, 0);
  const cap = entryCap(p, 0);
  const partials = p.partials + ((<usize>thread * <usize>p.batch) << 3);
  let start: u32 = 0;
  for (let b: u32 = 0; b < p.batch; b++) {
    const ends = scratch + tableHeader + ((<usize>b * width) << 2);
    const m = stepNeurons(p, b, p.step, from, to, cached, ends, ent, start, cap);
    if (cached && width > 0) start = load<u32>(ends + ((width - 1) << 2));
    store<u32>(partials + (<usize>b << 3), m);
    store<u32>(partials + (<usize>b << 3), gPattern, 4);
  }
}

/** After every thread's binaryStepRange: each instance's count and pattern (the ranges are disjoint) and its record. */
export function binaryFinishStep(params: usize, threads: u32): void {
  const p = changetype<BinaryParams>(params);
  for (let b: u32 = 0; b < p.batch; b++) {
    let m: u32 = 0;
    let pattern: u32 = 0;
    for (let th: u32 = 0; th < threads; th++) {
      const at = p.partials + ((<usize>th * <usize>p.batch + <usize>b) << 3);
      m += load<u32>(at);
      pattern |= load<u32>(at, 4);
    }
    recordStep(p, b, p.step, m, pattern);
  }
}
