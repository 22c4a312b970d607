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

/** What ptrsRound4 found besides k, per lane: accepted, rejected (on to the next round), left to finish alone (k past the log-pmf tables), and the round's V and us. */
let ptrsDone: v128 = i32x4.splat(0);
let ptrsRejected: v128 = i32x4.splat(0);
let ptrsResume: v128 = i32x4.splat(0);
let ptrsV: v128 = i32x4.splat(0);
let ptrsUs: v128 = i32x4.splat(0);

/**
 * One round of rng.ts's ptrsRounds for the lanes of `active`, from the Philox words wU and wV (its two uniforms): k,
 * the quick acceptance, the early rejections and the full test in the order the scalar loop takes them. Called, not
 * inlined: its four copies made the step's machine code larger than the instruction cache (3 % slower at n = 1e5).
 */
function ptrsRound4(wU: v128, wV: v128, lam: v128, b: v128, a: v128, logInvAlpha: v128, vr: v128, lamI: v128, lamF: v128, twoA: v128, active: v128, sameLam: bool, table: usize): v128 {
  const U = f32x4.sub(uniform4(wU), f32x4.splat(0.5));
  const V = uniform4(wV);
  const us = f32x4.sub(f32x4.splat(0.5), f32x4.abs(U));
  const kf = f32x4.add(f32x4.floor(f32x4.add(f32x4.mul(f32x4.add(f32x4.mul(twoA, detRecip4(us)), b), U), lamF)), lamI);
  const negative = f32x4.lt(kf, f32x4.splat(0));
  const quick = v128.andnot(v128.and(f32x4.ge(us, f32x4.splat(0.07)), f32x4.le(V, vr)), negative);
  const early = v128.or(negative, v128.and(f32x4.lt(us, f32x4.splat(0.013)), f32x4.gt(V, us)));
  const open = v128.andnot(active, quick);
  let done = v128.and(active, quick);
  let rejected = v128.and(open, early);
  const rest = v128.andnot(open, early);
  const testable = v128.and(rest, f32x4.lt(kf, f32x4.splat(<f32>LOGPMF_K)));
  if (v128.any_true(testable)) {
    const lhs = f32x4.sub(f32x4.add(detLog4(V), logInvAlpha), detLog4(f32x4.add(f32x4.mul(a, detRecip4(f32x4.mul(us, us))), b)));
    const pass = v128.and(testable, f32x4.le(lhs, sameLam ? logPmfTable4(table, kf, lam, testable) : poissonLogPmf4(kf, lam, testable)));
    done = v128.or(done, pass);
    rejected = v128.or(rejected, v128.andnot(testable, pass));
  }
  ptrsDone = done;
  ptrsRejected = rejected;
  ptrsResume = v128.andnot(rest, testable);
  ptrsV = V;
  ptrsUs = us;
  return kf;
}

/**
 * Staging of one input stream for four lanes whose draw goes on one lane at a time (bytes from its base): mean +0, inversion mask +32, PTRS mask +48,
 * PTRS constants b +64, a +80, log(1/alpha) +96, vr +112, counts +128, V +144, us +160, k +176, pending mask +192,
 * after mask +208 (the staged round rejected; else its full test is left), the staged round +224, the table's k +400 and values +416, the Philox block's words 0..3 at +256 ... +319, the last PTRS means and constants +320 ... +399
 * (zeroed at first: a PTRS mean is never 0).
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
 * The input counts of four lanes from one stream with means lam, as rngPoissonCached draws them: the first Philox block
 * of every lane at once, the inversion branch in lock step, PTRS's constants and its first two rounds (the block's four
 * words); a lane that needs more (a third round, a k past the log-pmf tables, a zero or invalid mean) continues one
 * lane at a time from the same generator state, with its values staged at st.
 */
// @ts-ignore: decorator
@inline function inputCounts4(st: usize, lam: v128, kv: v128, k: u32, stream: u32, step: u32, instance: u32, k0: u32, k1: u32, cache: usize): v128 {
  const w0 = philox4(kv, instance, step, stream << 16, k0, k1);
  const w1 = philoxWord1;
  const small = v128.and(f32x4.gt(lam, f32x4.splat(0)), f32x4.lt(lam, f32x4.splat(10)));
  const ptrs = v128.and(f32x4.ge(lam, f32x4.splat(10)), f32x4.le(lam, f32x4.splat(1e7)));
  let count = i32x4.splat(0);
  if (v128.any_true(small)) count = poissonInversion4(uniform4(w0), lam, detExp4(f32x4.neg(lam)), small);
  let pending = i32x4.splat(0);
  if (v128.any_true(ptrs)) {
    // PTRS's constants, as rngPtrsConstants derives them; kept for the last means seen (+320 ...), which repeat in the
    // stream from the other population (the same total for every neuron).
    let b: v128, a: v128, logInvAlpha: v128, vr: v128;
    const sameLam = i32x4.all_true(i32x4.eq(lam, v128.shuffle<i32>(lam, lam, 0, 0, 0, 0)));
    if (i32x4.all_true(i32x4.eq(lam, v128.load(st, 320)))) {
      b = v128.load(st, 336);
      a = v128.load(st, 352);
      logInvAlpha = v128.load(st, 368);
      vr = v128.load(st, 384);
    } else if (!sameLam) {
      // A neuron's own population: the four means differ, but a step's take a few hundred values, which
      // rngPoissonCached's cache holds (the same constants, computed one lane at a time on a miss).
      // Each lane's entry is copied (to the staging slots of b, a, log(1/alpha), vr) before the next lookup, which may
      // evict it: the cache is direct-mapped.
      v128.store(st, lam);
      for (let l: usize = 0; l < 4; l++) {
        const e = rngPtrsConstants(load<f32>(st + (l << 2)), cache);
        for (let c: usize = 0; c < 4; c++) store<f32>(st + 64 + (c << 4) + (l << 2), load<f32>(e + 4 + (c << 2)));
      }
      b = v128.load(st, 64);
      a = v128.load(st, 80);
      logInvAlpha = v128.load(st, 96);
      vr = v128.load(st, 112);
    } else {
      b = f32x4.add(f32x4.splat(0.931), f32x4.mul(f32x4.splat(2.53), detSqrt4(lam)));
      a = f32x4.add(f32x4.splat(-0.059), f32x4.mul(f32x4.splat(0.02483), b));
      logInvAlpha = detLog4(f32x4.add(f32x4.splat(1.1239), f32x4.mul(f32x4.splat(1.1328), detRecip4(f32x4.sub(b, f32x4.splat(3.4))))));
      vr = f32x4.sub(f32x4.splat(0.9277), f32x4.mul(f32x4.splat(3.6224), detRecip4(f32x4.sub(b, f32x4.splat(2)))));
      v128.store(st, lam, 320);
      v128.store(st, b, 336);
      v128.store(st, a, 352);
      v128.store(st, logInvAlpha, 368);
      v128.store(st, vr, 384);
    }
    const lamI = f32x4.floor(lam);
    const lamF = f32x4.add(f32x4.sub(lam, lamI), f32x4.splat(0.43));
    const twoA = f32x4.mul(f32x4.splat(2), a);
    // Round 0 from the block's words 0 and 1; the lanes it rejects try round 1 from words 2 and 3 (a quarter of the
    // groups of four need it, a lane rejected twice goes on alone from the next block).
    let kf = ptrsRound4(w0, w1, lam, b, a, logInvAlpha, vr, lamI, lamF, twoA, ptrs, sameLam, st + STAGE_BYTES);
    count = v128.bitselect(i32x4.trunc_sat_f32x4_s(f32x4.pmax(kf, f32x4.splat(0))), count, ptrsDone);
    let V = ptrsV, us = ptrsUs, resume = ptrsResume, after = i32x4.splat(0), round = i32x4.splat(0);
    const again = ptrsRejected;
    if (v128.any_true(again)) {
      const k2 = ptrsRound4(philoxWord2, philoxWord3, lam, b, a, logInvAlpha, vr, lamI, lamF, twoA, again, sameLam, st + STAGE_BYTES);
      count = v128.bitselect(i32x4.trunc_sat_f32x4_s(f32x4.pmax(k2, f32x4.splat(0))), count, ptrsDone);
      kf = v128.bitselect(k2, kf, again);
      V = v128.bitselect(ptrsV, V, again);
      us = v128.bitselect(ptrsUs, us, again);
      round = v128.and(again, i32x4.splat(1));
      resume = v128.or(resume, ptrsResume);
      after = ptrsRejected;
    }
    pending = v128.or(resume, after);
    if (v128.any_true(pending)) {
      // What the one-lane continuation reads.
      v128.store(st, b, 64);
      v128.store(st, a, 80);
      v128.store(st, logInvAlpha, 96);
      v128.store(st, vr, 112);
      v128.store(st, V, 144);
      v128.store(st, us, 160);
      v128.store(st, kf, 176);
      v128.store(st, after, 208);
      v128.store(st, round, 224);
    }
  }
  if (v128.any_true(v128.or(pending, v128.not(v128.or(small, ptrs))))) {
    v128.store(st, lam);
    v128.store(st, small, 32);
    v128.store(st, ptrs, 48);
    v128.store(st, count, 128);
    v128.store(st, pending, 192);
    v128.store(st, w0, 256);
    v128.store(st, w1, 272);
    v128.store(st, philoxWord2, 288);
    v128.store(st, philoxWord3, 304);
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
    count = v128.load(st, 128);
  }
  return count;
}

/**
 * One step of neurons [from, to) of the 2n (one thread's share), from the totals of the current record; scratch is
 * this thread's THREAD_SCRATCH_BYTES (rngPoissonCached's cache: the input means take few distinct values, a total
 * less one neuron's units; then lane staging and the log-pmf tables). Four neurons at a time (inputCounts4, then the update and the sigmoid
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
    const countE = inputCounts4(stageE, lamE, kv, k, streamInputE, step, instance, k0, k1, cache);
    const countI = inputCounts4(stageI, lamI, kv, k, streamInputI, step, instance, k0, k1, cache);
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
