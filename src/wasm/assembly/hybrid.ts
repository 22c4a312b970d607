// The hybrid network step kernel: src/models/hybrid/cpu-reference.ts (the mirror of shaders/hybrid/step.wgsl) over the
// 2n neurons of one instance, with its record (exact fixed-point totals, f64 two-pass moments) in the same f64 order.
import { detLogistic, detNormalCdf } from './detmath';
import { HYBRID_BLOCK, LANE_SCRATCH_BYTES, LOGPMF_K, POISSON_CACHE_BYTES, rngLoadBlock, rngPtrsConstants, rngNormal, rngPoissonCached, rngPoissonPtrsAfter, rngPoissonPtrsResume, rngReset } from './rng';
import { detLog4, detLogistic4, detNormalCdf4, detRecip4, detSqrt4, detExp4, u64DiffToF32x4, philox4, philox4Pair, philoxPairB0, philoxPairB1, philoxPairB2, philoxPairB3, philoxWord1, philoxWord2, philoxWord3, poissonInversion4, poissonLogPmf4, uniform4 } from './simd';

const streamInputE: u32 = 3;
const streamInputI: u32 = 4;
const streamInit: u32 = 5;

/**
 * One instance, as the host packs it into 24 32-bit words (src/models/hybrid/wasm-simulation.ts): its potentials (f32 x 2n,
 * E then I), intensity units (u32 x 2n), record (f64 x 6: totalE, totalI, meanE, varE, meanI, varI; the step reads the
 * totals of the previous record), the RNG coordinates and the f32 constants of HybridInstance.
 */
// @ts-ignore: decorator
@unmanaged
class HybridParams {
  u: usize;
  units: usize;
  rec: usize;
  n: u32;
  k0: u32;
  k1: u32;
  step: u32;
  instance: u32;
  probit: u32;
  decay: f32;
  driveE: f32;
  driveI: f32;
  jumpEE: f32;
  jumpEI: f32;
  jumpIE: f32;
  jumpII: f32;
  meanPerUnit: f32;
  theta: f32;
  gain: f32;
  initMeanE: f32;
  initSdE: f32;
  initMeanI: f32;
  initSdI: f32;
}

/** f(u)/numax in units of 2^-24, rounded like the reference (Math.trunc(f32(g * 2^24 + 0.5))). */
// @ts-ignore: decorator
@inline function intensityUnits(u: f32, theta: f32, gain: f32, probit: bool): u32 {
  const x = (u - theta) * gain;
  const g = probit ? detNormalCdf(x) : detLogistic(x);
  return <u32>(g * <f32>16777216 + <f32>0.5);
}

/** The reference's u64ToF32: hi scaled by 2^32 exactly, then one rounding of the sum. */
// @ts-ignore: decorator
@inline function u64ToF32(x: u64): f32 {
  return <f32><u32>(x >> 32) * <f32>4294967296 + <f32><u32>x;
}

/** Draws u(0) of all 2n neurons and the units; then the initial record. */
export function hybridInit(params: usize): void {
  const p = changetype<HybridParams>(params);
  const n = p.n, k0 = p.k0, k1 = p.k1, instance = p.instance, probit = p.probit != 0;
  const theta = p.theta, gain = p.gain;
  for (let k: u32 = 0; k < 2 * n; k++) {
    const isE = k < n;
    rngReset(k0, k1, streamInit, 0, instance, k);
    const z = rngNormal();
    const u = (isE ? p.initMeanE : p.initMeanI) + (isE ? p.initSdE : p.initSdI) * z;
    store<f32>(p.u + (<usize>k << 2), u);
    store<u32>(p.units + (<usize>k << 2), intensityUnits(u, theta, gain, probit));
  }
  hybridRecord(params);
}

/** f32(f64(jump) x f64(count)) per lane: the reference multiplies in f64 and rounds once. */
// @ts-ignore: decorator
@inline function jumpTimesCount4(jump: v128, count: v128): v128 {
  const lo = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(jump), f64x2.convert_low_i32x4_s(count)));
  const hi = f32x4.demote_f64x2_zero(f64x2.mul(f64x2.promote_low_f32x4(v128.shuffle<i32>(jump, jump, 2, 3, 0, 1)), f64x2.convert_low_i32x4_s(v128.shuffle<i32>(count, count, 2, 3, 0, 1))));
  return v128.shuffle<i32>(lo, hi, 0, 1, 4, 5);
}

/** poissonLogPmf4(kf, lam) on the lanes of `active` (k integer in [0, LOGPMF_K)), whose means are one value, from the stream's table where it holds them. */
// @ts-ignore: decorator
@inline function logPmfTable4(table: usize, kf: v128, lam: v128, active: v128): v128 {
  const key = i32x4.extract_lane(lam, 0);
  // Every lane reads an entry (the others that of k = 0), so that the lookup has no branch but the miss.
  const ki = i32x4.shl(v128.and(i32x4.trunc_sat_f32x4_s(kf), active), 3);
  const e0 = table + <usize>i32x4.extract_lane(ki, 0), e1 = table + <usize>i32x4.extract_lane(ki, 1);
  const e2 = table + <usize>i32x4.extract_lane(ki, 2), e3 = table + <usize>i32x4.extract_lane(ki, 3);
  const keys = i32x4(load<i32>(e0), load<i32>(e1), load<i32>(e2), load<i32>(e3));
  if (i32x4.all_true(v128.or(i32x4.eq(keys, i32x4.splat(key)), v128.not(active)))) return f32x4(load<f32>(e0, 4), load<f32>(e1, 4), load<f32>(e2, 4), load<f32>(e3, 4));
  const out = poissonLogPmf4(kf, lam, active);
  const lanes = i32x4.bitmask(active);
  // The values pass through the stage (its +416, before the table): a lane index in a loop cannot name extract_lane's constant.
  const outAt = table - STAGE_BYTES + 416;
  const kAt = table - STAGE_BYTES + 400;
  v128.store(outAt, out);
  v128.store(kAt, ki);
  for (let l: usize = 0; l < 4; l++) {
    if (((lanes >> <i32>l) & 1) == 0) continue;
    const e = table + <usize>load<u32>(kAt + (l << 2));
    store<u32>(e, key);
    store<f32>(e, load<f32>(outAt + (l << 2)), 4);
  }
  return out;
}

/**
 * Staging of one input stream (bytes from its base): four means +0, PTRS's constants b +64, a +80, log(1/alpha) +96,
 * vr +112 (ptrsConstantsStage), the last PTRS means and constants +320 ...
 * +399 (zeroed at first: a PTRS mean is never 0), the log-pmf table's k +400 and values +416, the lengths of the
 * full-test queue +448 and of the next-round queue +452.
 */
const STAGE_BYTES: usize = 512;
const LEN_TESTS: usize = 448;
const LEN_NEXT: usize = 452;
/**
 * Then the stream's log-pmf table: rngPoissonLogPmf(k, lam) for k < LOGPMF_K as (lam's bits, value) pairs, filled as
 * PTRS's full test needs them. Four lanes with one mean (the other population's neurons all have the same one) read
 * it instead of computing the log pmf; a value read back is the value computed, so the draws keep their bits. Zeroed
 * at first, and no PTRS mean has bits 0.
 */
const TABLE: usize = STAGE_BYTES;
/** Then the block's counts (one u32 per neuron of the block, by its slot, and a spare slot), the two lane queues and a lane stage. */
const BLOCK: u32 = HYBRID_BLOCK;
const COUNTS: usize = TABLE + 8 * <usize>LOGPMF_K;
/** A queue holds up to BLOCK lanes as NF fields of QUEUE_CAP words (a compressed store writes four lanes past its end). */
const QUEUE_CAP: usize = <usize>BLOCK + 4;
const FIELD_BYTES: usize = QUEUE_CAP << 2;
// The fields of a lane in a queue or the lane stage: its slot in the block, mean, PTRS constants, words 2 and 3 of its
// Philox block (words 0 and 1 are round 0's, or round 2's, which have been used when a lane is queued) and its
// round's k, V and us.
const F_SLOT: usize = 0, F_LAM: usize = 1, F_B: usize = 2, F_A: usize = 3, F_LIA: usize = 4, F_VR: usize = 5;
const F_W2: usize = 6, F_W3: usize = 7, F_K: usize = 8, F_V: usize = 9, F_US: usize = 10;
const NF: usize = 11;
/** Lanes whose full test of the current round is left: each vector of four runs it on four lanes that need it. */
const QUEUE_TESTS: usize = COUNTS + (<usize>(BLOCK + 4) << 2);
/** Lanes that the current round rejected, for the next. */
const QUEUE_NEXT: usize = QUEUE_TESTS + NF * FIELD_BYTES;
/** Four lanes' fields (16 bytes each) for the one-lane continuation. */
const LANE_STAGE: usize = QUEUE_NEXT + NF * FIELD_BYTES;
/**
 * PTRS rounds 0 ... LAST_ROUND run in SIMD: round r takes words 2(r mod 2) and 2(r mod 2) + 1 of the lane's Philox
 * block r / 2 (a lane is rejected in a round about one time in ten, so round 4 is left to one in ten thousand).
 */
const LAST_ROUND: i32 = 3;
const STREAM_STRIDE: usize = LANE_STAGE + NF * 16;
// rng.ts sizes the scratch (LANE_SCRATCH_BYTES) for two streams of this layout.
if (<usize>2 * STREAM_STRIDE > <usize>LANE_SCRATCH_BYTES) unreachable();

/** For each 4-bit lane mask, the i8x16.swizzle that moves those lanes to the front, in order (a compressed store). */
const COMPRESS: usize = memory.data(16 * 16);
for (let m: u32 = 0; m < 16; m++) {
  let at: u32 = 0;
  for (let l: u32 = 0; l < 4; l++) {
    if (((m >> l) & 1) == 0) continue;
    for (let b: u32 = 0; b < 4; b++) store<u8>(COMPRESS + (<usize>m << 4) + (at << 2) + b, <u8>(l * 4 + b));
    at++;
  }
}

/**
 * PTRS's constants for four lanes' means lam, as rngPtrsConstants derives them, staged at st + 64 ... 112.
 */
// @ts-ignore: decorator
@inline function ptrsConstantsStage(st: usize, lam: v128, cache: usize): void {
  const sameLam = i32x4.all_true(i32x4.eq(lam, v128.shuffle<i32>(lam, lam, 0, 0, 0, 0)));
  if (i32x4.all_true(i32x4.eq(lam, v128.load(st, 320)))) {
    // The last means seen, which repeat in the stream from the other population (the same total for every neuron).
    v128.store(st, v128.load(st, 336), 64);
    v128.store(st, v128.load(st, 352), 80);
    v128.store(st, v128.load(st, 368), 96);
    v128.store(st, v128.load(st, 384), 112);
  } else if (!sameLam) {
    // A neuron's own population: the four means differ, but a step's take a few hundred values, which
    // rngPoissonCached's cache holds (the same constants, computed one lane at a time on a miss).
    // Each lane's entry is copied before the next lookup, which may evict it: the cache is direct-mapped.
    // The vectors are built in registers: four scalar stores read back as one vector would stall the load.
    const e0 = rngPtrsConstants(f32x4.extract_lane(lam, 0), cache);
    const b0 = load<f32>(e0, 4), a0 = load<f32>(e0, 8), l0 = load<f32>(e0, 12), v0 = load<f32>(e0, 16);
    const e1 = rngPtrsConstants(f32x4.extract_lane(lam, 1), cache);
    const b1 = load<f32>(e1, 4), a1 = load<f32>(e1, 8), l1 = load<f32>(e1, 12), v1 = load<f32>(e1, 16);
    const e2 = rngPtrsConstants(f32x4.extract_lane(lam, 2), cache);
    const b2 = load<f32>(e2, 4), a2 = load<f32>(e2, 8), l2 = load<f32>(e2, 12), v2 = load<f32>(e2, 16);
    const e3 = rngPtrsConstants(f32x4.extract_lane(lam, 3), cache);
    v128.store(st, f32x4(b0, b1, b2, load<f32>(e3, 4)), 64);
    v128.store(st, f32x4(a0, a1, a2, load<f32>(e3, 8)), 80);
    v128.store(st, f32x4(l0, l1, l2, load<f32>(e3, 12)), 96);
    v128.store(st, f32x4(v0, v1, v2, load<f32>(e3, 16)), 112);
  } else {
    const b = f32x4.add(f32x4.splat(0.931), f32x4.mul(f32x4.splat(2.53), detSqrt4(lam)));
    const a = f32x4.add(f32x4.splat(-0.059), f32x4.mul(f32x4.splat(0.02483), b));
    const logInvAlpha = detLog4(f32x4.add(f32x4.splat(1.1239), f32x4.mul(f32x4.splat(1.1328), detRecip4(f32x4.sub(b, f32x4.splat(3.4))))));
    const vr = f32x4.sub(f32x4.splat(0.9277), f32x4.mul(f32x4.splat(3.6224), detRecip4(f32x4.sub(b, f32x4.splat(2)))));
    v128.store(st, lam, 320);
    v128.store(st, b, 336);
    v128.store(st, a, 352);
    v128.store(st, logInvAlpha, 368);
    v128.store(st, vr, 384);
    v128.store(st, b, 64);
    v128.store(st, a, 80);
    v128.store(st, logInvAlpha, 96);
    v128.store(st, vr, 112);
  }
}

/** k of a PTRS round: floor((2a / us + b) U + lam + 0.43), in the reference's order. */
// @ts-ignore: decorator
@inline function ptrsK4(lam: v128, b: v128, a: v128, U: v128, us: v128): v128 {
  const lamI = f32x4.floor(lam);
  const twoA = f32x4.mul(f32x4.splat(2), a);
  return f32x4.add(f32x4.floor(f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(twoA, detRecip4(us)), b), U), f32x4.add(f32x4.sub(lam, lamI), f32x4.splat(0.43)))), lamI);
}

/**
 * Appends the lanes of `mask` (a bitmask) of a vector of lanes to queue q at its length (at st + lenAt): each field
 * compressed to the front and stored whole (the lanes past the new length are written over by the next append).
 */
// @ts-ignore: decorator
@inline function pushLanes(st: usize, lenAt: usize, q: usize, mask: i32, slot: v128, lam: v128, b: v128, a: v128, lia: v128, vr: v128, w2: v128, w3: v128, k: v128, V: v128, us: v128): void {
  const n = load<u32>(st + lenAt);
  const sw = v128.load(COMPRESS + (<usize>mask << 4));
  const at = q + (<usize>n << 2);
  v128.store(at + F_SLOT * FIELD_BYTES, i8x16.swizzle(slot, sw));
  v128.store(at + F_LAM * FIELD_BYTES, i8x16.swizzle(lam, sw));
  v128.store(at + F_B * FIELD_BYTES, i8x16.swizzle(b, sw));
  v128.store(at + F_A * FIELD_BYTES, i8x16.swizzle(a, sw));
  v128.store(at + F_LIA * FIELD_BYTES, i8x16.swizzle(lia, sw));
  v128.store(at + F_VR * FIELD_BYTES, i8x16.swizzle(vr, sw));
  v128.store(at + F_W2 * FIELD_BYTES, i8x16.swizzle(w2, sw));
  v128.store(at + F_W3 * FIELD_BYTES, i8x16.swizzle(w3, sw));
  v128.store(at + F_K * FIELD_BYTES, i8x16.swizzle(k, sw));
  v128.store(at + F_V * FIELD_BYTES, i8x16.swizzle(V, sw));
  v128.store(at + F_US * FIELD_BYTES, i8x16.swizzle(us, sw));
  store<u32>(st + lenAt, n + <u32>popcnt<i32>(mask));
}

/** The one-lane continuation of the lanes of `mask`, with their fields in the lane stage (stageLanes). */
// @ts-ignore: decorator
@inline function stageLanes(st: usize, slot: v128, lam: v128, b: v128, a: v128, lia: v128, vr: v128, w2: v128, w3: v128, k: v128, V: v128, us: v128): void {
  const s = st + LANE_STAGE;
  v128.store(s + (F_SLOT << 4), slot);
  v128.store(s + (F_LAM << 4), lam);
  v128.store(s + (F_B << 4), b);
  v128.store(s + (F_A << 4), a);
  v128.store(s + (F_LIA << 4), lia);
  v128.store(s + (F_VR << 4), vr);
  v128.store(s + (F_W2 << 4), w2);
  v128.store(s + (F_W3 << 4), w3);
  v128.store(s + (F_K << 4), k);
  v128.store(s + (F_V << 4), V);
  v128.store(s + (F_US << 4), us);
}

/**
 * The lanes of `mask` in the lane stage go on one at a time from the generator after round `round`'s two words (of
 * the lane's Philox block round / 2, whose words 2 and 3 are in the stage): the lanes of `resume` from that round's full test (a
 * k past the log-pmf tables), the others from the next round.
 */
function finishLanes(st: usize, mask: i32, resume: i32, round: i32, blockStart: u32, stream: u32, step: u32, instance: u32, k0: u32, k1: u32): void {
  const s = st + LANE_STAGE;
  for (let l: usize = 0; l < 4; l++) {
    if (((mask >> <i32>l) & 1) == 0) continue;
    const o = s + (l << 2);
    const slot = load<u32>(o + (F_SLOT << 4));
    rngLoadBlock(k0, k1, blockStart + slot, instance, step, (stream << 16) + <u32>(round >> 1), 0, 0, load<u32>(o + (F_W2 << 4)), load<u32>(o + (F_W3 << 4)), 2 * ((round & 1) + 1));
    const lam = load<f32>(o + (F_LAM << 4)), b = load<f32>(o + (F_B << 4)), a = load<f32>(o + (F_A << 4)), lia = load<f32>(o + (F_LIA << 4)), vr = load<f32>(o + (F_VR << 4)), k = load<f32>(o + (F_K << 4));
    const count = ((resume >> <i32>l) & 1) != 0 ? rngPoissonPtrsResume(lam, b, a, lia, vr, load<f32>(o + (F_V << 4)), load<f32>(o + (F_US << 4)), k, round) : rngPoissonPtrsAfter(lam, b, a, lia, vr, k, round);
    store<u32>(st + COUNTS + (<usize>slot << 2), count);
  }
}

/**
 * Counts of the lanes of `mask` (a lane mask) to their slots (the lanes of a queue vector belong to any slots of the
 * block); the other lanes write to the spare slot BLOCK, so that no branch depends on the lanes.
 */
// @ts-ignore: decorator
@inline function scatterCounts(st: usize, mask: v128, slot: v128, k: v128): void {
  const at = i32x4.shl(v128.bitselect(slot, i32x4.splat(BLOCK), mask), 2);
  const c = i32x4.trunc_sat_f32x4_s(f32x4.pmax(k, f32x4.splat(0)));
  const counts = st + COUNTS;
  store<u32>(counts + <usize>i32x4.extract_lane(at, 0), i32x4.extract_lane(c, 0));
  store<u32>(counts + <usize>i32x4.extract_lane(at, 1), i32x4.extract_lane(c, 1));
  store<u32>(counts + <usize>i32x4.extract_lane(at, 2), i32x4.extract_lane(c, 2));
  store<u32>(counts + <usize>i32x4.extract_lane(at, 3), i32x4.extract_lane(c, 3));
}

/**
 * One PTRS round for four lanes (those of `active`) from their round's two Philox words wU, wV, as rng.ts's ptrsRounds
 * takes it: k, then the quick acceptance (its counts to the slots), the early rejections and the lanes left to the
 * full test, which go to the stream's full-test queue. Its rejections go to the next-round queue (after LAST_ROUND,
 * on one lane at a time, like a k past the log-pmf tables in any round).
 */
// @ts-ignore: decorator
@inline function ptrsRound(st: usize, round: i32, active: v128, slot: v128, lam: v128, b: v128, a: v128, lia: v128, vr: v128, w0: v128, w1: v128, w2: v128, w3: v128, blockStart: u32, stream: u32, step: u32, instance: u32, k0: u32, k1: u32): void {
  const U = f32x4.sub(uniform4((round & 1) == 0 ? w0 : w2), f32x4.splat(0.5));
  const V = uniform4((round & 1) == 0 ? w1 : w3);
  const us = f32x4.sub(f32x4.splat(0.5), f32x4.abs(U));
  const k = ptrsK4(lam, b, a, U, us);
  const negative = f32x4.lt(k, f32x4.splat(0));
  const quick = v128.andnot(v128.and(f32x4.ge(us, f32x4.splat(0.07)), f32x4.le(V, vr)), negative);
  const early = v128.or(negative, v128.and(f32x4.lt(us, f32x4.splat(0.013)), f32x4.gt(V, us)));
  const open = v128.andnot(active, quick);
  const rest = v128.andnot(open, early);
  const testable = v128.and(rest, f32x4.lt(k, f32x4.splat(<f32>LOGPMF_K)));
  const done = v128.and(active, quick);
  const rejected = i32x4.bitmask(v128.and(open, early));
  const tests = i32x4.bitmask(testable);
  const resume = i32x4.bitmask(v128.andnot(rest, testable));
  if (round == 0) {
    // The group's own four slots.
    const counts = st + COUNTS + (<usize>i32x4.extract_lane(slot, 0) << 2);
    v128.store(counts, v128.bitselect(i32x4.trunc_sat_f32x4_s(f32x4.pmax(k, f32x4.splat(0))), v128.load(counts), done));
  } else scatterCounts(st, done, slot, k);
  // Unconditional (no lane in the mask appends nothing): whether a group has a full test left is a coin toss, which a
  // branch would mispredict.
  pushLanes(st, LEN_TESTS, st + QUEUE_TESTS, tests, slot, lam, b, a, lia, vr, w2, w3, k, V, us);
  if (round < LAST_ROUND && rejected != 0) pushLanes(st, LEN_NEXT, st + QUEUE_NEXT, rejected, slot, lam, b, a, lia, vr, w2, w3, k, V, us);
  const alone = (round < LAST_ROUND ? 0 : rejected) | resume;
  if (alone != 0) {
    stageLanes(st, slot, lam, b, a, lia, vr, w2, w3, k, V, us);
    finishLanes(st, alone, resume, round, blockStart, stream, step, instance, k0, k1);
  }
}

/** The lanes of queue vector at, valid where its index is below the queue's length n. */
// @ts-ignore: decorator
@inline function queueValid(at: u32, n: u32): v128 {
  return i32x4.lt_u(i32x4.add(i32x4.splat(at), i32x4(0, 1, 2, 3)), i32x4.splat(n));
}

/**
 * The full tests of round `round` in the stream's queue, four lanes at a time: log(V) + log(1/alpha) - log(a / us^2 +
 * b) against the log pmf (from the stream's table where a vector's four means are one value). A lane that passes
 * has its count; one that fails goes to the next round's queue (after LAST_ROUND, on alone). Empties the queue.
 */
function ptrsTests(st: usize, round: i32, blockStart: u32, stream: u32, step: u32, instance: u32, k0: u32, k1: u32): void {
  const n = load<u32>(st + LEN_TESTS);
  store<u32>(st + LEN_TESTS, 0);
  const q = st + QUEUE_TESTS;
  for (let i: u32 = 0; i < n; i += 4) {
    const at = q + (<usize>i << 2);
    const valid = queueValid(i, n);
    const slot = v128.load(at + F_SLOT * FIELD_BYTES);
    const lam0 = v128.load(at + F_LAM * FIELD_BYTES);
    // Past the length, lane 0's mean: a vector's means are one value whenever its valid lanes' are.
    const lam = v128.bitselect(lam0, v128.shuffle<i32>(lam0, lam0, 0, 0, 0, 0), valid);
    const b = v128.load(at + F_B * FIELD_BYTES);
    const a = v128.load(at + F_A * FIELD_BYTES);
    const lia = v128.load(at + F_LIA * FIELD_BYTES);
    const k = v128.load(at + F_K * FIELD_BYTES);
    const V = v128.load(at + F_V * FIELD_BYTES);
    const us = v128.load(at + F_US * FIELD_BYTES);
    const lhs = f32x4.sub(f32x4.add(detLog4(V), lia), detLog4(f32x4.add(f32x4.mul(a, detRecip4(f32x4.mul(us, us))), b)));
    const sameLam = i32x4.all_true(i32x4.eq(lam, v128.shuffle<i32>(lam, lam, 0, 0, 0, 0)));
    const logPmf = sameLam ? logPmfTable4(st + TABLE, k, lam, valid) : poissonLogPmf4(k, lam, valid);
    const pass = v128.and(valid, f32x4.le(lhs, logPmf));
    const failed = i32x4.bitmask(v128.andnot(valid, pass));
    // Branch-free, like ptrsRound's appends: whether a vector's lanes pass is as good as random.
    scatterCounts(st, pass, slot, k);
    const vr = v128.load(at + F_VR * FIELD_BYTES);
    const w2 = v128.load(at + F_W2 * FIELD_BYTES), w3 = v128.load(at + F_W3 * FIELD_BYTES);
    if (round < LAST_ROUND) pushLanes(st, LEN_NEXT, st + QUEUE_NEXT, failed, slot, lam, b, a, lia, vr, w2, w3, k, V, us);
    else if (failed != 0) {
      stageLanes(st, slot, lam, b, a, lia, vr, w2, w3, k, V, us);
      finishLanes(st, failed, 0, round, blockStart, stream, step, instance, k0, k1);
    }
  }
}

/**
 * Round `round` (1 ... LAST_ROUND) for the lanes in the stream's next-round queue, four at a time (ptrsRound), with
 * their Philox block round / 2 (round 2 computes block 1; its lanes' neurons are any of the block's). Empties the
 * queue: the round's rejections go back into it, each at or before the vector that read it (already loaded).
 */
function ptrsRoundQueue(st: usize, round: i32, blockStart: u32, stream: u32, step: u32, instance: u32, k0: u32, k1: u32): void {
  const n = load<u32>(st + LEN_NEXT);
  store<u32>(st + LEN_NEXT, 0);
  const q = st + QUEUE_NEXT;
  for (let i: u32 = 0; i < n; i += 4) {
    const at = q + (<usize>i << 2);
    const slot = v128.load(at + F_SLOT * FIELD_BYTES);
    // Rounds 1 and 3 take words 2 and 3 of the lane's block; round 2, words 0 and 1 of its next block (w0, w1 are unused otherwise).
    let w0 = i32x4.splat(0), w1 = i32x4.splat(0), w2 = v128.load(at + F_W2 * FIELD_BYTES), w3 = v128.load(at + F_W3 * FIELD_BYTES);
    if (round == 2) {
      w0 = philox4(i32x4.add(i32x4.splat(blockStart), slot), instance, step, (stream << 16) + 1, k0, k1);
      w1 = philoxWord1;
      w2 = philoxWord2;
      w3 = philoxWord3;
    }
    ptrsRound(st, round, queueValid(i, n), slot, v128.load(at + F_LAM * FIELD_BYTES), v128.load(at + F_B * FIELD_BYTES), v128.load(at + F_A * FIELD_BYTES),
      v128.load(at + F_LIA * FIELD_BYTES), v128.load(at + F_VR * FIELD_BYTES), w0, w1, w2, w3, blockStart, stream, step, instance, k0, k1);
  }
}

/**
 * The start of four lanes' draws from one input stream (neurons blockStart + slot ...), as rngPoissonCached takes
 * them: the first Philox block of every lane at once, the inversion branch in lock step (its counts to the slots) and
 * PTRS's round 0 (ptrsRound), which leaves its full tests and rejections to the stream's queues; a zero or invalid
 * mean goes through rngPoissonCached itself.
 */
// @ts-ignore: decorator
@inline function drawLanes(st: usize, slot: u32, lam: v128, w0: v128, w1: v128, w2: v128, w3: v128, blockStart: u32, stream: u32, step: u32, instance: u32, k0: u32, k1: u32, cache: usize): void {
  const neuron = blockStart + slot;
  const small = v128.and(f32x4.gt(lam, f32x4.splat(0)), f32x4.lt(lam, f32x4.splat(10)));
  const ptrs = v128.and(f32x4.ge(lam, f32x4.splat(10)), f32x4.le(lam, f32x4.splat(1e7)));
  const counts = st + COUNTS + (<usize>slot << 2);
  v128.store(counts, v128.any_true(small) ? poissonInversion4(uniform4(w0), lam, detExp4(f32x4.neg(lam)), small) : i32x4.splat(0));
  if (v128.any_true(ptrs)) {
    ptrsConstantsStage(st, lam, cache);
    ptrsRound(st, 0, ptrs, i32x4.add(i32x4.splat(slot), i32x4(0, 1, 2, 3)), lam, v128.load(st, 64), v128.load(st, 80), v128.load(st, 96), v128.load(st, 112), w0, w1, w2, w3, blockStart, stream, step, instance, k0, k1);
  }
  const other = i32x4.bitmask(v128.not(v128.or(small, ptrs)));
  if (other != 0) {
    v128.store(st, lam);
    for (let l: u32 = 0; l < 4; l++) {
      if (((other >> <i32>l) & 1) == 0) continue;
      rngReset(k0, k1, stream, step, instance, neuron + l);
      store<u32>(counts + (<usize>l << 2), rngPoissonCached(load<f32>(st + (<usize>l << 2)), cache));
    }
  }
}

/**
 * One step of neurons [from, to) of the 2n (one thread's share), from the totals of the current record; scratch is
 * this thread's THREAD_SCRATCH_BYTES (rngPoissonCached's cache: the input means take few distinct values, a total
 * less one neuron's units; then the two streams' staging, log-pmf tables and queues). Blocks of BLOCK neurons: first
 * every lane's draws start, four at a time (drawLanes); the full tests and the later rounds then run four queued lanes at a time
 * (a group of four rarely has four lanes that need them, and the queues spare the work of the lanes that do not);
 * then the update and the sigmoid in SIMD. The one-neuron loop that finishes the range is the reference's step as written.
 */
export function hybridStepRange(params: usize, from: u32, to: u32, scratch: usize): void {
  const p = changetype<HybridParams>(params);
  const n = p.n, k0 = p.k0, k1 = p.k1, step = p.step, instance = p.instance, probit = p.probit != 0;
  const theta = p.theta, gain = p.gain, decay = p.decay, meanPerUnit = p.meanPerUnit;
  const totalE = <u64>load<f64>(p.rec);
  const totalI = <u64>load<f64>(p.rec, 8);
  const cache = scratch;
  const stageE = scratch + POISSON_CACHE_BYTES;
  const stageI = stageE + STREAM_STRIDE;
  const end4 = from + ((to - from) & ~3);
  // Every block leaves the queues empty; a step that trapped part-way (an invalid mean) must not leave lanes behind.
  store<u32>(stageE + LEN_TESTS, 0);
  store<u32>(stageE + LEN_NEXT, 0);
  store<u32>(stageI + LEN_TESTS, 0);
  store<u32>(stageI + LEN_NEXT, 0);
  for (let block = from; block < end4; block += BLOCK) {
    const blockEnd = min<u32>(block + BLOCK, end4);
    for (let k = block; k < blockEnd; k += 4) {
      const own = v128.load(p.units + (<usize>k << 2));
      const isE = i32x4.lt_u(i32x4.add(i32x4.splat(k), i32x4(0, 1, 2, 3)), i32x4.splat(n));
      // The other neurons' units of each population: the total less the neuron's own where it belongs to it.
      const lamE = f32x4.mul(u64DiffToF32x4(totalE, v128.and(own, isE)), f32x4.splat(meanPerUnit));
      const lamI = f32x4.mul(u64DiffToF32x4(totalI, v128.andnot(own, isE)), f32x4.splat(meanPerUnit));
      const e0 = philox4Pair(i32x4.add(i32x4.splat(k), i32x4(0, 1, 2, 3)), instance, step, streamInputE << 16, streamInputI << 16, k0, k1);
      const e1 = philoxWord1, e2 = philoxWord2, e3 = philoxWord3;
      drawLanes(stageE, k - block, lamE, e0, e1, e2, e3, block, streamInputE, step, instance, k0, k1, cache);
      drawLanes(stageI, k - block, lamI, philoxPairB0, philoxPairB1, philoxPairB2, philoxPairB3, block, streamInputI, step, instance, k0, k1, cache);
    }
    ptrsTests(stageE, 0, block, streamInputE, step, instance, k0, k1);
    ptrsTests(stageI, 0, block, streamInputI, step, instance, k0, k1);
    for (let round = 1; round <= LAST_ROUND; round++) {
      ptrsRoundQueue(stageE, round, block, streamInputE, step, instance, k0, k1);
      ptrsRoundQueue(stageI, round, block, streamInputI, step, instance, k0, k1);
      ptrsTests(stageE, round, block, streamInputE, step, instance, k0, k1);
      ptrsTests(stageI, round, block, streamInputI, step, instance, k0, k1);
    }
    for (let k = block; k < blockEnd; k += 4) {
      const uPtr = p.u + (<usize>k << 2);
      const isE = i32x4.lt_u(i32x4.add(i32x4.splat(k), i32x4(0, 1, 2, 3)), i32x4.splat(n));
      const countE = v128.load(stageE + COUNTS + (<usize>(k - block) << 2));
      const countI = v128.load(stageI + COUNTS + (<usize>(k - block) << 2));
      const drive = v128.bitselect(f32x4.splat(p.driveE), f32x4.splat(p.driveI), isE);
      const excited = jumpTimesCount4(v128.bitselect(f32x4.splat(p.jumpEE), f32x4.splat(p.jumpIE), isE), countE);
      const inhibited = jumpTimesCount4(v128.bitselect(f32x4.splat(p.jumpEI), f32x4.splat(p.jumpII), isE), countI);
      const next = f32x4.sub(f32x4.add(f32x4.add(f32x4.mul(v128.load(uPtr), f32x4.splat(decay)), drive), excited), inhibited);
      v128.store(uPtr, next);
      const x = f32x4.mul(f32x4.sub(next, f32x4.splat(theta)), f32x4.splat(gain));
      const g = probit ? detNormalCdf4(x) : detLogistic4(x);
      v128.store(p.units + (<usize>k << 2), i32x4.trunc_sat_f32x4_s(f32x4.add(f32x4.mul(g, f32x4.splat(16777216)), f32x4.splat(0.5))));
    }
  }
  for (let k = end4; k < to; k++) {
    const isE = k < n;
    const uPtr = p.u + (<usize>k << 2);
    const unitPtr = p.units + (<usize>k << 2);
    const own = <u64>load<u32>(unitPtr);
    const fromE = isE ? totalE - own : totalE;
    const fromI = isE ? totalI : totalI - own;
    rngReset(k0, k1, streamInputE, step, instance, k);
    const countE = rngPoissonCached(u64ToF32(fromE) * meanPerUnit, cache);
    rngReset(k0, k1, streamInputI, step, instance, k);
    const countI = rngPoissonCached(u64ToF32(fromI) * meanPerUnit, cache);
    const leaked = load<f32>(uPtr) * decay;
    // f32(jump * count) with the count exact (the reference multiplies in f64, then rounds once).
    const excited = <f32>(<f64>(isE ? p.jumpEE : p.jumpIE) * <f64>countE);
    const inhibited = <f32>(<f64>(isE ? p.jumpEI : p.jumpII) * <f64>countI);
    const next = leaked + (isE ? p.driveE : p.driveI) + excited - inhibited;
    store<f32>(uPtr, next);
    store<u32>(unitPtr, intensityUnits(next, theta, gain, probit));
  }
}

/**
 * The record of the instance's current state: exact totals of the units, then the two-pass f64 moments (mean,
 * variance) of each population, summed in index order like the reference. The two populations' sums go through one
 * loop: each chain keeps its order (the same bits) and the two independent chains overlap.
 */
export function hybridRecord(params: usize): void {
  const p = changetype<HybridParams>(params);
  const n = p.n;
  const uE = p.u, uI = p.u + (<usize>n << 2);
  const unitsE = p.units, unitsI = p.units + (<usize>n << 2);
  let tE: u64 = 0;
  let tI: u64 = 0;
  let sE: f64 = 0;
  let sI: f64 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const o = <usize>k << 2;
    tE += <u64>load<u32>(unitsE + o);
    tI += <u64>load<u32>(unitsI + o);
    sE += <f64>load<f32>(uE + o);
    sI += <f64>load<f32>(uI + o);
  }
  const mE = sE / <f64>n;
  const mI = sI / <f64>n;
  let vE: f64 = 0;
  let vI: f64 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const o = <usize>k << 2;
    const dE = <f64>load<f32>(uE + o) - mE;
    const dI = <f64>load<f32>(uI + o) - mI;
    vE += dE * dE;
    vI += dI * dI;
  }
  store<f64>(p.rec, <f64>tE);
  store<f64>(p.rec, <f64>tI, 8);
  store<f64>(p.rec, mE, 16);
  store<f64>(p.rec, vE / <f64>n, 24);
  store<f64>(p.rec, mI, 32);
  store<f64>(p.rec, vI / <f64>n, 40);
}

/** One step of the whole instance on this thread (scratch: its THREAD_SCRATCH_BYTES, as in hybridStepRange), then its record. */
export function hybridStep(params: usize, scratch: usize): void {
  hybridStepRange(params, 0, 2 * changetype<HybridParams>(params).n, scratch);
  hybridRecord(params);
}
