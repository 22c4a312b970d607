// The hybrid network step kernel: src/models/hybrid/cpu-reference.ts (the mirror of shaders/hybrid/step.wgsl) over the
// 2n neurons of one instance, with its record (exact fixed-point totals, f64 two-pass moments) in the same f64 order.
import { detLogistic, detNormalCdf } from './detmath';
import { LOGPMF_K, POISSON_CACHE_BYTES, rngLoadBlock, rngPtrsConstants, rngNormal, rngPoissonCached, rngPoissonPtrsAfter, rngPoissonPtrsResume, rngReset } from './rng';
import { detLog4, detLogistic4, detNormalCdf4, detRecip4, detSqrt4, detExp4, u64DiffToF32x4, philox4, philoxWord1, philoxWord2, philoxWord3, poissonInversion4, poissonLogPmf4, uniform4 } from './simd';

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
  const lanes = i32x4.bitmask(active);
  // k and the values pass through the stage (its +400 and +416, before the table): a lane index in a loop cannot name
  // extract_lane's constant.
  const kAt = table - STAGE_BYTES + 400;
  const outAt = table - STAGE_BYTES + 416;
  v128.store(kAt, i32x4.trunc_sat_f32x4_s(kf));
  let hit = true;
  for (let l: usize = 0; l < 4; l++) {
    if (((lanes >> <i32>l) & 1) == 0) continue;
    const e = table + (<usize>load<u32>(kAt + (l << 2)) << 3);
    if (load<u32>(e) != key) {
      hit = false;
      break;
    }
    store<f32>(outAt + (l << 2), load<f32>(e, 4));
  }
  if (hit) return v128.load(outAt);
  const out = poissonLogPmf4(kf, lam, active);
  v128.store(outAt, out);
  for (let l: usize = 0; l < 4; l++) {
    if (((lanes >> <i32>l) & 1) == 0) continue;
    const e = table + (<usize>load<u32>(kAt + (l << 2)) << 3);
    store<u32>(e, key);
    store<f32>(e, load<f32>(outAt + (l << 2)), 4);
  }
  return out;
}

/**
 * Staging of one input stream for four lanes (bytes from its base): mean +0, the lanes round 0 rejected +16, inversion
 * mask +32, PTRS mask +48, PTRS constants b +64, a +80, log(1/alpha) +96, vr +112, counts +128, V +144, us +160, k
 * +176, pending mask +192, after mask +208 (the staged round rejected; else its full test is left), the staged round
 * +224, one mean in all four lanes +240, the Philox block's words 0..3 +256 ... +319, the last PTRS means and constants
 * +320 ... +399 (zeroed at first: a PTRS mean is never 0), the table's k +400 and values +416, the lanes left to
 * finish alone after round 0 +432. A stream's draw goes through it in phases (ptrsConstantsStage, ptrsRoundPair,
 * finishStage), so that the two streams' phases run side by side and their dependency chains overlap.
 */
const STAGE_BYTES: usize = 512;
/**
 * Then the stream's log-pmf table: rngPoissonLogPmf(k, lam) for k < LOGPMF_K as (lam's bits, value) pairs, filled as
 * PTRS's full test needs them. Four lanes with one mean (the other population's neurons all have the same one) read
 * it instead of computing the log pmf; a value read back is the value computed, so the draws keep their bits. Zeroed
 * at first, and no PTRS mean has bits 0.
 */
const STAGE_STRIDE: usize = STAGE_BYTES + 8 * <usize>LOGPMF_K;

/**
 * PTRS's constants for four lanes' means lam, as rngPtrsConstants derives them, staged at st + 64 ... 112, and whether
 * the four means are one value (+240).
 */
// @ts-ignore: decorator
@inline function ptrsConstantsStage(st: usize, lam: v128, cache: usize): void {
  const sameLam = i32x4.all_true(i32x4.eq(lam, v128.shuffle<i32>(lam, lam, 0, 0, 0, 0)));
  store<i32>(st, sameLam ? 1 : 0, 240);
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
    v128.store(st, lam);
    for (let l: usize = 0; l < 4; l++) {
      const e = rngPtrsConstants(load<f32>(st + (l << 2)), cache);
      for (let c: usize = 0; c < 4; c++) store<f32>(st + 64 + (c << 4) + (l << 2), load<f32>(e + 4 + (c << 2)));
    }
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
@inline function ptrsK4(st: usize, lam: v128, U: v128, us: v128): v128 {
  const lamI = f32x4.floor(lam);
  const twoA = f32x4.mul(f32x4.splat(2), v128.load(st, 80));
  return f32x4.add(f32x4.floor(f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(twoA, detRecip4(us)), v128.load(st, 64)), U), f32x4.add(f32x4.sub(lam, lamI), f32x4.splat(0.43)))), lamI);
}

/** The left side of PTRS's full test: log(V) + log(1/alpha) - log(a / us^2 + b). */
// @ts-ignore: decorator
@inline function ptrsLhs4(st: usize, V: v128, us: v128): v128 {
  return f32x4.sub(f32x4.add(detLog4(V), v128.load(st, 96)), detLog4(f32x4.add(f32x4.mul(v128.load(st, 80), detRecip4(f32x4.mul(us, us))), v128.load(st, 64))));
}

/** The right side of the full test on the lanes of `active`: the stream's log-pmf table when its four means are one value. Called: one copy of each form. */
function ptrsLogPmf4(st: usize, kf: v128, lam: v128, active: v128): v128 {
  return load<i32>(st, 240) != 0 ? logPmfTable4(st + STAGE_BYTES, kf, lam, active) : poissonLogPmf4(kf, lam, active);
}

/**
 * What a round of stream st found, into its staging: the counts it accepts (+128); after round 0 the lanes it rejects
 * (+16), its V, us and k (+144 ... +176) and the lanes whose full test is left to the one-lane continuation (+432);
 * after round 1 those of its lanes, and the lanes it rejects (+208).
 */
// @ts-ignore: decorator
@inline function ptrsStageRound(st: usize, round: i32, active: v128, kf: v128, V: v128, us: v128, done: v128, rejected: v128, resume: v128): void {
  v128.store(st, v128.bitselect(i32x4.trunc_sat_f32x4_s(f32x4.pmax(kf, f32x4.splat(0))), v128.load(st, 128), done), 128);
  if (round == 0) {
    v128.store(st, rejected, 16);
    v128.store(st, V, 144);
    v128.store(st, us, 160);
    v128.store(st, kf, 176);
    v128.store(st, resume, 432);
  } else {
    v128.store(st, v128.bitselect(V, v128.load(st, 144), active), 144);
    v128.store(st, v128.bitselect(us, v128.load(st, 160), active), 160);
    v128.store(st, v128.bitselect(kf, v128.load(st, 176), active), 176);
    v128.store(st, v128.or(v128.load(st, 432), resume), 432);
    v128.store(st, rejected, 208);
  }
}

/**
 * One round of rng.ts's ptrsRounds for the lanes of `activeA` of stream stA and of `activeB` of stream stB, from
 * their Philox words wU and wV (the round's two uniforms), with the constants staged by ptrsConstantsStage: k, the
 * quick acceptance, the early rejections and the full test in the order the scalar loop takes them, lane by lane.
 * Each step is written for A, then B: a round is a chain of dependent operations several hundred cycles long (two
 * logs, three reciprocals by Newton's method, the log pmf's series), and the processor overlaps the two streams'
 * chains only when their operations are near each other. A side with no active lane computes nothing that lands.
 * Called, not inlined: inlined copies made the step's code larger than the instruction cache.
 */
function ptrsRoundPair(round: i32, stA: usize, wUA: v128, wVA: v128, lamA: v128, activeA: v128, stB: usize, wUB: v128, wVB: v128, lamB: v128, activeB: v128): void {
  const UA = f32x4.sub(uniform4(wUA), f32x4.splat(0.5));
  const UB = f32x4.sub(uniform4(wUB), f32x4.splat(0.5));
  const VA = uniform4(wVA);
  const VB = uniform4(wVB);
  const usA = f32x4.sub(f32x4.splat(0.5), f32x4.abs(UA));
  const usB = f32x4.sub(f32x4.splat(0.5), f32x4.abs(UB));
  const kA = ptrsK4(stA, lamA, UA, usA);
  const kB = ptrsK4(stB, lamB, UB, usB);
  const negativeA = f32x4.lt(kA, f32x4.splat(0));
  const negativeB = f32x4.lt(kB, f32x4.splat(0));
  const quickA = v128.andnot(v128.and(f32x4.ge(usA, f32x4.splat(0.07)), f32x4.le(VA, v128.load(stA, 112))), negativeA);
  const quickB = v128.andnot(v128.and(f32x4.ge(usB, f32x4.splat(0.07)), f32x4.le(VB, v128.load(stB, 112))), negativeB);
  const earlyA = v128.or(negativeA, v128.and(f32x4.lt(usA, f32x4.splat(0.013)), f32x4.gt(VA, usA)));
  const earlyB = v128.or(negativeB, v128.and(f32x4.lt(usB, f32x4.splat(0.013)), f32x4.gt(VB, usB)));
  const openA = v128.andnot(activeA, quickA);
  const openB = v128.andnot(activeB, quickB);
  let doneA = v128.and(activeA, quickA);
  let doneB = v128.and(activeB, quickB);
  let rejectedA = v128.and(openA, earlyA);
  let rejectedB = v128.and(openB, earlyB);
  const restA = v128.andnot(openA, earlyA);
  const restB = v128.andnot(openB, earlyB);
  const testableA = v128.and(restA, f32x4.lt(kA, f32x4.splat(<f32>LOGPMF_K)));
  const testableB = v128.and(restB, f32x4.lt(kB, f32x4.splat(<f32>LOGPMF_K)));
  const testA = v128.any_true(testableA);
  const testB = v128.any_true(testableB);
  if (testA || testB) {
    const lhsA = ptrsLhs4(stA, VA, usA);
    const lhsB = ptrsLhs4(stB, VB, usB);
    const passA = testA ? v128.and(testableA, f32x4.le(lhsA, ptrsLogPmf4(stA, kA, lamA, testableA))) : i32x4.splat(0);
    const passB = testB ? v128.and(testableB, f32x4.le(lhsB, ptrsLogPmf4(stB, kB, lamB, testableB))) : i32x4.splat(0);
    doneA = v128.or(doneA, passA);
    doneB = v128.or(doneB, passB);
    rejectedA = v128.or(rejectedA, v128.andnot(testableA, passA));
    rejectedB = v128.or(rejectedB, v128.andnot(testableB, passB));
  }
  ptrsStageRound(stA, round, activeA, kA, VA, usA, doneA, rejectedA, v128.andnot(restA, testableA));
  ptrsStageRound(stB, round, activeB, kB, VB, usB, doneB, rejectedB, v128.andnot(restB, testableB));
}

/**
 * The lanes a stream's draw left to one lane at a time (a third PTRS round, a k past the log-pmf tables, a zero or
 * invalid mean), from the same generator state, with the values staged at st; the stream's counts at st + 128.
 */
function finishStage(st: usize, k: u32, stream: u32, step: u32, instance: u32, k0: u32, k1: u32, cache: usize): void {
  for (let l: u32 = 0; l < 4; l++) {
    const o = st + (<usize>l << 2);
    if (load<i32>(o, 192) != 0) {
      // The generator after the staged round's two words: word 2 of the block after round 0, the next block after round 1.
      const round = load<i32>(o, 224);
      rngLoadBlock(k0, k1, k + l, instance, step, stream << 16, load<u32>(o, 256), load<u32>(o, 272), load<u32>(o, 288), load<u32>(o, 304), 2 * (round + 1));
      const lamL = load<f32>(o), b = load<f32>(o, 64), a = load<f32>(o, 80), logInvAlpha = load<f32>(o, 96), vr = load<f32>(o, 112), kL = load<f32>(o, 176);
      store<u32>(o, load<i32>(o, 208) != 0 ? rngPoissonPtrsAfter(lamL, b, a, logInvAlpha, vr, kL, round) : rngPoissonPtrsResume(lamL, b, a, logInvAlpha, vr, load<f32>(o, 144), load<f32>(o, 160), kL, round), 128);
    } else if (load<i32>(o, 32) == 0 && load<i32>(o, 48) == 0) {
      rngReset(k0, k1, stream, step, instance, k + l);
      store<u32>(o, rngPoissonCached(load<f32>(o), cache), 128);
    }
  }
}

/** finishStage for a stream with lanes pending or a zero or invalid mean, after staging what it reads. */
// @ts-ignore: decorator
@inline function finishPending(st: usize, lam: v128, small: v128, ptrs: v128, w0: v128, w1: v128, w2: v128, w3: v128, k: u32, stream: u32, step: u32, instance: u32, k0: u32, k1: u32, cache: usize): void {
  if (!v128.any_true(v128.or(v128.load(st, 192), v128.not(v128.or(small, ptrs))))) return;
  v128.store(st, lam);
  v128.store(st, small, 32);
  v128.store(st, ptrs, 48);
  v128.store(st, w0, 256);
  v128.store(st, w1, 272);
  v128.store(st, w2, 288);
  v128.store(st, w3, 304);
  finishStage(st, k, stream, step, instance, k0, k1, cache);
}

/** The input counts of the four lanes of stream B from the last inputCountsPair. */
let pairCountsB: v128 = i32x4.splat(0);

/**
 * The input counts of four lanes (neurons kv) from two streams A and B with means lamA and lamB, as rngPoissonCached
 * draws them: the first Philox block of every lane at once, the inversion branch in lock step, PTRS's constants and
 * its first two rounds (the block's four words); a lane that needs more continues alone (finishStage). Each phase
 * runs for A, then B: the two streams are independent, so the processor overlaps their long chains of dependent
 * operations (a round's full test is several hundred cycles of latency). B's counts in pairCountsB.
 */
// @ts-ignore: decorator
@inline function inputCountsPair(stA: usize, stB: usize, lamA: v128, lamB: v128, kv: v128, k: u32, streamA: u32, streamB: u32, step: u32, instance: u32, k0: u32, k1: u32, cache: usize): v128 {
  const a0 = philox4(kv, instance, step, streamA << 16, k0, k1);
  const a1 = philoxWord1, a2 = philoxWord2, a3 = philoxWord3;
  const b0 = philox4(kv, instance, step, streamB << 16, k0, k1);
  const b1 = philoxWord1, b2 = philoxWord2, b3 = philoxWord3;
  const smallA = v128.and(f32x4.gt(lamA, f32x4.splat(0)), f32x4.lt(lamA, f32x4.splat(10)));
  const smallB = v128.and(f32x4.gt(lamB, f32x4.splat(0)), f32x4.lt(lamB, f32x4.splat(10)));
  const ptrsA = v128.and(f32x4.ge(lamA, f32x4.splat(10)), f32x4.le(lamA, f32x4.splat(1e7)));
  const ptrsB = v128.and(f32x4.ge(lamB, f32x4.splat(10)), f32x4.le(lamB, f32x4.splat(1e7)));
  v128.store(stA, v128.any_true(smallA) ? poissonInversion4(uniform4(a0), lamA, detExp4(f32x4.neg(lamA)), smallA) : i32x4.splat(0), 128);
  v128.store(stB, v128.any_true(smallB) ? poissonInversion4(uniform4(b0), lamB, detExp4(f32x4.neg(lamB)), smallB) : i32x4.splat(0), 128);
  // Round 0 from the block's words 0 and 1; the lanes it rejects try round 1 from words 2 and 3 (a quarter of the
  // groups of four need it; a lane rejected twice goes on alone from the next block).
  v128.store(stA, i32x4.splat(0), 16);
  v128.store(stB, i32x4.splat(0), 16);
  v128.store(stA, i32x4.splat(0), 432);
  v128.store(stB, i32x4.splat(0), 432);
  if (v128.any_true(v128.or(ptrsA, ptrsB))) {
    if (v128.any_true(ptrsA)) ptrsConstantsStage(stA, lamA, cache);
    if (v128.any_true(ptrsB)) ptrsConstantsStage(stB, lamB, cache);
    ptrsRoundPair(0, stA, a0, a1, lamA, ptrsA, stB, b0, b1, lamB, ptrsB);
  }
  const againA = v128.load(stA, 16), againB = v128.load(stB, 16);
  v128.store(stA, i32x4.splat(0), 208);
  v128.store(stB, i32x4.splat(0), 208);
  if (v128.any_true(v128.or(againA, againB))) ptrsRoundPair(1, stA, a2, a3, lamA, againA, stB, b2, b3, lamB, againB);
  v128.store(stA, v128.and(againA, i32x4.splat(1)), 224);
  v128.store(stB, v128.and(againB, i32x4.splat(1)), 224);
  v128.store(stA, v128.or(v128.load(stA, 432), v128.load(stA, 208)), 192);
  v128.store(stB, v128.or(v128.load(stB, 432), v128.load(stB, 208)), 192);
  finishPending(stA, lamA, smallA, ptrsA, a0, a1, a2, a3, k, streamA, step, instance, k0, k1, cache);
  finishPending(stB, lamB, smallB, ptrsB, b0, b1, b2, b3, k, streamB, step, instance, k0, k1, cache);
  pairCountsB = v128.load(stB, 128);
  return v128.load(stA, 128);
}

/**
 * One step of neurons [from, to) of the 2n (one thread's share), from the totals of the current record; scratch is
 * this thread's THREAD_SCRATCH_BYTES (rngPoissonCached's cache: the input means take few distinct values, a total
 * less one neuron's units; then lane staging and the log-pmf tables). Four neurons at a time (inputCountsPair, then the update and the sigmoid
 * in SIMD); the one-neuron loop that finishes the range is the reference's step as written.
 */
export function hybridStepRange(params: usize, from: u32, to: u32, scratch: usize): void {
  const p = changetype<HybridParams>(params);
  const n = p.n, k0 = p.k0, k1 = p.k1, step = p.step, instance = p.instance, probit = p.probit != 0;
  const theta = p.theta, gain = p.gain, decay = p.decay, meanPerUnit = p.meanPerUnit;
  const totalE = <u64>load<f64>(p.rec);
  const totalI = <u64>load<f64>(p.rec, 8);
  const cache = scratch;
  const stageE = scratch + POISSON_CACHE_BYTES;
  const stageI = stageE + STAGE_STRIDE;
  let k = from;
  for (; k + 4 <= to; k += 4) {
    const uPtr = p.u + (<usize>k << 2);
    const unitPtr = p.units + (<usize>k << 2);
    const own = v128.load(unitPtr);
    const kv = i32x4.add(i32x4.splat(k), i32x4(0, 1, 2, 3));
    const isE = i32x4.lt_u(kv, i32x4.splat(n));
    // The other neurons' units of each population: the total less the neuron's own where it belongs to it.
    const lamE = f32x4.mul(u64DiffToF32x4(totalE, v128.and(own, isE)), f32x4.splat(meanPerUnit));
    const lamI = f32x4.mul(u64DiffToF32x4(totalI, v128.andnot(own, isE)), f32x4.splat(meanPerUnit));
    const countE = inputCountsPair(stageE, stageI, lamE, lamI, kv, k, streamInputE, streamInputI, step, instance, k0, k1, cache);
    const countI = pairCountsB;
    const drive = v128.bitselect(f32x4.splat(p.driveE), f32x4.splat(p.driveI), isE);
    const excited = jumpTimesCount4(v128.bitselect(f32x4.splat(p.jumpEE), f32x4.splat(p.jumpIE), isE), countE);
    const inhibited = jumpTimesCount4(v128.bitselect(f32x4.splat(p.jumpEI), f32x4.splat(p.jumpII), isE), countI);
    const next = f32x4.sub(f32x4.add(f32x4.add(f32x4.mul(v128.load(uPtr), f32x4.splat(decay)), drive), excited), inhibited);
    v128.store(uPtr, next);
    const x = f32x4.mul(f32x4.sub(next, f32x4.splat(theta)), f32x4.splat(gain));
    const g = probit ? detNormalCdf4(x) : detLogistic4(x);
    v128.store(unitPtr, i32x4.trunc_sat_f32x4_s(f32x4.add(f32x4.mul(g, f32x4.splat(16777216)), f32x4.splat(0.5))));
  }
  for (; k < to; k++) {
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
