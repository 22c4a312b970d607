// The hybrid network step kernel: src/models/hybrid/cpu-reference.ts (the mirror of shaders/hybrid/step.wgsl) over the
// 2n neurons of one instance, with its record (exact fixed-point totals, f64 two-pass moments) in the same f64 order.
import { detLogistic, detNormalCdf } from './detmath';
import { rngNormal, rngPoissonCached, rngReset } from './rng';

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

/**
 * One step of neurons [from, to) of the 2n (one thread's share), from the totals of the current record; cache is this
 * thread's POISSON_CACHE_BYTES of scratch (the input means take few distinct values: a total minus one neuron's units).
 */
export function hybridStepRange(params: usize, from: u32, to: u32, cache: usize): void {
  const p = changetype<HybridParams>(params);
  const n = p.n, k0 = p.k0, k1 = p.k1, step = p.step, instance = p.instance, probit = p.probit != 0;
  const theta = p.theta, gain = p.gain, decay = p.decay, meanPerUnit = p.meanPerUnit;
  const totalE = <u64>load<f64>(p.rec);
  const totalI = <u64>load<f64>(p.rec, 8);
  for (let k = from; k < to; k++) {
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

/** Two-pass f64 moments of the n potentials at u into rec (mean, variance), summed in index order like the reference. */
// @ts-ignore: decorator
@inline function moments(u: usize, n: u32, rec: usize): void {
  let s: f64 = 0;
  for (let k: u32 = 0; k < n; k++) s += <f64>load<f32>(u + (<usize>k << 2));
  const m = s / <f64>n;
  let v: f64 = 0;
  for (let k: u32 = 0; k < n; k++) {
    const d = <f64>load<f32>(u + (<usize>k << 2)) - m;
    v += d * d;
  }
  store<f64>(rec, m);
  store<f64>(rec, v / <f64>n, 8);
}

/** The record of the instance's current state: exact totals of the units, then the moments of each population. */
export function hybridRecord(params: usize): void {
  const p = changetype<HybridParams>(params);
  const n = p.n;
  let tE: u64 = 0;
  let tI: u64 = 0;
  for (let k: u32 = 0; k < n; k++) tE += <u64>load<u32>(p.units + (<usize>k << 2));
  for (let k: u32 = n; k < 2 * n; k++) tI += <u64>load<u32>(p.units + (<usize>k << 2));
  store<f64>(p.rec, <f64>tE);
  store<f64>(p.rec, <f64>tI, 8);
  moments(p.u, n, p.rec + 16);
  moments(p.u + (<usize>n << 2), n, p.rec + 32);
}

/** One step of the whole instance on this thread (cache: its scratch, as in hybridStepRange), then its record. */
export function hybridStep(params: usize, cache: usize): void {
  hybridStepRange(params, 0, 2 * changetype<HybridParams>(params).n, cache);
  hybridRecord(params);
}
