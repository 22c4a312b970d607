// The rate-circuit integrator: src/models/rate/integrate-cpu.ts (Euler or RK4 of T dx/dt = -x + Phi(W x + u) in f32,
// op for op) for up to sixteen circuits at once, one per lane of four f32x4: each lane does the reference's scalar
// operations in its order, so every lane's state is the reference's bits. softclip's tanh is the reference's (detmath
// exp and reciprocal) in f32x4, the same operations as src/wasm/assembly/detmath.ts lane by lane. Up to four f32x4 per
// group, each an independent chain of the same operations: a small circuit's step is a long chain of dependent
// operations (RK4's four stages, the exp and reciprocal of tanh), so one chain leaves the core idle; four chains in a
// pass ran a batch of 10 Wilson-Cowan pairs 1.5x to 2x faster than two groups of two chains one after the other. One
// chain of 2-cell circuits (runPair) keeps everything in locals.
import { detExp4, detRecip4 } from './simd';

/** What every group of a run shares: the sample rows of the current chunk (host-owned, [row][instance][cell]). */
// @ts-ignore: decorator
@unmanaged
class RateRun {
  samples: usize;
  /** Sample number held by row 0 of `samples`. */
  rowBase: u32;
  /** Record x after every this many steps (0: no samples). */
  sampleEvery: u32;
  batch: u32;
}

/**
 * Sixteen circuits of n cells (src/models/rate/wasm-integrator.ts packs it: 11 words, then from byte 64 the lane masks
 * and bounds, four v128 each). An element is 64 bytes, lanes 0-3, 4-7, 8-11, 12-15: w [n][n] (lane l: W[i][j] of
 * circuit first + l), u, scale (f32(dt / tau)), x [n].
 */
// @ts-ignore: decorator
@unmanaged
class RateGroup {
  w: usize;
  u: usize;
  scale: usize;
  x: usize;
  run: usize;
  n: u32;
  /** Circuits in this group (1..16); the f32x4 past the last circuit are skipped, the empty lanes of the last are zero and not written out. */
  lanes: u32;
  first: u32;
  rk4: u32;
  /** Some lane is clip / softclip. */
  clip: u32;
  soft: u32;
}

const clipMaskAt: usize = 64;
const softMaskAt: usize = 128;
const xmaxAt: usize = 192;
const invAt: usize = 256;

const ZERO: v128 = f32x4(0, 0, 0, 0);
const ONE: v128 = f32x4(1, 1, 1, 1);
const TWO: v128 = f32x4(2, 2, 2, 2);
const HALF: v128 = f32x4(0.5, 0.5, 0.5, 0.5);
const SIXTH: v128 = f32x4(0.16666667, 0.16666667, 0.16666667, 0.16666667);

/** rateTanh of integrate-cpu.ts (y >= 0), lane-wise: the odd polynomial below 0.125, (1 - e) / (1 + e) with e = exp(-2y) above. */
// @ts-ignore: decorator
@inline function tanhX4(y: v128): v128 {
  const y2 = f32x4.mul(y, y);
  let p = f32x4.splat(0.021869488);
  p = f32x4.add(f32x4.splat(-0.053968254), f32x4.mul(y2, p));
  p = f32x4.add(f32x4.splat(0.13333334), f32x4.mul(y2, p));
  p = f32x4.add(f32x4.splat(-0.33333334), f32x4.mul(y2, p));
  const small = f32x4.add(y, f32x4.mul(y, f32x4.mul(y2, p)));
  const isSmall = f32x4.lt(y, f32x4.splat(0.125));
  // Each lane takes one of the two forms: when all four take the polynomial, the exp and reciprocal are skipped.
  if (i32x4.all_true(isSmall)) return small;
  const t = detExp4(f32x4.mul(f32x4.splat(-2), y));
  const large = f32x4.mul(f32x4.sub(ONE, t), detRecip4(f32x4.add(ONE, t)));
  return v128.bitselect(small, large, isSmall);
}

/** For the tests: rateTanh lane-wise over `count` (a multiple of 4) f32 at `ptr`, in place. */
export function rateTanhArray(ptr: usize, count: u32): void {
  for (let q: u32 = 0; q < count; q += 4) {
    const at = ptr + (<usize>q << 2);
    v128.store(at, tanhX4(v128.load(at)));
  }
}

/** Phi of f32x4 number q of a row's pre-activations s: [s]+, then clip or softclip in the lanes that use them. */
// @ts-ignore: decorator
@inline function activate(g: usize, q: usize, s: v128, clip: bool, soft: bool): v128 {
  // pmax(0, s) is 0 < s ? s : 0, the reference's [s]+ (NaN and -0 give +0) in one instruction, not a compare and a select.
  let phi = f32x4.pmax(ZERO, s);
  const at = g + (q << 4);
  if (clip) phi = v128.bitselect(f32x4.min(phi, v128.load(at, xmaxAt)), phi, v128.load(at, clipMaskAt));
  if (soft) phi = v128.bitselect(f32x4.mul(v128.load(at, xmaxAt), tanhX4(f32x4.mul(phi, v128.load(at, invAt)))), phi, v128.load(at, softMaskAt));
  return phi;
}

/**
 * kv[i] = f32(scale_i (Phi(u_i + sum_j W_ij xs_j) - xs_i)), the sum in increasing j, for every cell of the group, over
 * the first `c` f32x4 of each element (c is a constant where this is inlined, so the unused chains compile away).
 */
// @ts-ignore: decorator
@inline function slopes(g: usize, w: usize, u: usize, scale: usize, n: u32, clip: bool, soft: bool, c: i32, xs: usize, kv: usize): void {
  const rowBytes = <usize>n << 6;
  for (let i: u32 = 0; i < n; i++) {
    const oi = <usize>i << 6;
    const row = w + <usize>i * rowBytes;
    let s0 = v128.load(u + oi);
    let s1 = c > 1 ? v128.load(u + oi, 16) : ZERO;
    let s2 = c > 2 ? v128.load(u + oi, 32) : ZERO;
    let s3 = c > 3 ? v128.load(u + oi, 48) : ZERO;
    for (let j: u32 = 0; j < n; j++) {
      const r = row + (<usize>j << 6);
      const x = xs + (<usize>j << 6);
      s0 = f32x4.add(s0, f32x4.mul(v128.load(r), v128.load(x)));
      if (c > 1) s1 = f32x4.add(s1, f32x4.mul(v128.load(r, 16), v128.load(x, 16)));
      if (c > 2) s2 = f32x4.add(s2, f32x4.mul(v128.load(r, 32), v128.load(x, 32)));
      if (c > 3) s3 = f32x4.add(s3, f32x4.mul(v128.load(r, 48), v128.load(x, 48)));
    }
    const e = xs + oi, k = kv + oi, sc = scale + oi;
    v128.store(k, f32x4.mul(v128.load(sc), f32x4.sub(activate(g, 0, s0, clip, soft), v128.load(e))));
    if (c > 1) v128.store(k, f32x4.mul(v128.load(sc, 16), f32x4.sub(activate(g, 1, s1, clip, soft), v128.load(e, 16))), 16);
    if (c > 2) v128.store(k, f32x4.mul(v128.load(sc, 32), f32x4.sub(activate(g, 2, s2, clip, soft), v128.load(e, 32))), 32);
    if (c > 3) v128.store(k, f32x4.mul(v128.load(sc, 48), f32x4.sub(activate(g, 3, s3, clip, soft), v128.load(e, 48))), 48);
  }
}

/**
 * Steps [from, to) of one group over its first `c` f32x4 (a constant at each inlined call site); see rateRun.
 */
// @ts-ignore: decorator
@inline function runChains(group: usize, scratch: usize, from: u32, to: u32, c: i32): void {
  const p = changetype<RateGroup>(group);
  const run = changetype<RateRun>(p.run);
  // Fields in locals: the kernel's stores could alias the records, so field reads in loops would reload.
  const n = p.n, x = p.x, w = p.w, u = p.u, scale = p.scale, rk4 = p.rk4 != 0, clip = p.clip != 0, soft = p.soft != 0;
  const lanes = p.lanes, first = p.first;
  const bytes = <usize>n << 6;
  const used = <usize>c << 4;
  const xt = scratch;
  const kv = scratch + bytes;
  const acc = kv + bytes;
  const every = run.sampleEvery, samples = run.samples, rowBase = run.rowBase, batch = <usize>run.batch;
  let nextSample: u32 = every != 0 ? (from / every + 1) * every : 0;
  for (let step = from; step < to; step++) {
    if (rk4) {
      slopes(group, w, u, scale, n, clip, soft, c, x, kv);
      for (let e: usize = 0; e < bytes; e += 64) {
        for (let o = e; o < e + used; o += 16) {
          const k = v128.load(kv + o);
          v128.store(acc + o, k);
          v128.store(xt + o, f32x4.add(v128.load(x + o), f32x4.mul(HALF, k)));
        }
      }
      slopes(group, w, u, scale, n, clip, soft, c, xt, kv);
      for (let e: usize = 0; e < bytes; e += 64) {
        for (let o = e; o < e + used; o += 16) {
          const k = v128.load(kv + o);
          v128.store(acc + o, f32x4.add(v128.load(acc + o), f32x4.mul(TWO, k)));
          v128.store(xt + o, f32x4.add(v128.load(x + o), f32x4.mul(HALF, k)));
        }
      }
      slopes(group, w, u, scale, n, clip, soft, c, xt, kv);
      for (let e: usize = 0; e < bytes; e += 64) {
        for (let o = e; o < e + used; o += 16) {
          const k = v128.load(kv + o);
          v128.store(acc + o, f32x4.add(v128.load(acc + o), f32x4.mul(TWO, k)));
          v128.store(xt + o, f32x4.add(v128.load(x + o), k));
        }
      }
      slopes(group, w, u, scale, n, clip, soft, c, xt, kv);
      for (let e: usize = 0; e < bytes; e += 64) {
        for (let o = e; o < e + used; o += 16) {
          v128.store(x + o, f32x4.add(v128.load(x + o), f32x4.mul(f32x4.add(v128.load(acc + o), v128.load(kv + o)), SIXTH)));
        }
      }
    } else {
      slopes(group, w, u, scale, n, clip, soft, c, x, kv);
      for (let e: usize = 0; e < bytes; e += 64) {
        for (let o = e; o < e + used; o += 16) v128.store(x + o, f32x4.add(v128.load(x + o), v128.load(kv + o)));
      }
    }
    if (step + 1 == nextSample) {
      const row = <usize>(nextSample / every - rowBase);
      for (let l: u32 = 0; l < lanes; l++) {
        const out = samples + ((row * batch + <usize>(first + l)) * <usize>n << 2);
        for (let i: u32 = 0; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(x + (<usize>i << 6) + (<usize>l << 2)));
      }
      nextSample += every;
    }
  }
}

/**
 * Steps [from, to) of one group of up to sixteen circuits, the state in place; after steps that are multiples of
 * sampleEvery the states go to their rows of the run's sample buffer. scratch: this thread's 192 n bytes (the RK4 stage
 * state, kv, acc). RK4's stages start from the state itself, which the reference copies to x1 first: the same values.
 */
export function rateRun(group: usize, scratch: usize, from: u32, to: u32): void {
  const c = (changetype<RateGroup>(group).lanes + 3) >> 2;
  if (changetype<RateGroup>(group).n == 2) {
    if (c == 1) runPair(group, from, to);
    else runPairs(group, from, to, c);
  } else if (c >= 4) runChains4(group, scratch, from, to);
  else if (c == 3) runChains3(group, scratch, from, to);
  else if (c == 2) runChains2(group, scratch, from, to);
  else runChains1(group, scratch, from, to);
}

// One function per chain count: inlined into one function, the optimizer folded the four copies back into one with
// the count as a variable (and the chains' branches left in the inner loops).
function runChains1(group: usize, scratch: usize, from: u32, to: u32): void {
  runChains(group, scratch, from, to, 1);
}
function runChains2(group: usize, scratch: usize, from: u32, to: u32): void {
  runChains(group, scratch, from, to, 2);
}
function runChains3(group: usize, scratch: usize, from: u32, to: u32): void {
  runChains(group, scratch, from, to, 3);
}
function runChains4(group: usize, scratch: usize, from: u32, to: u32): void {
  runChains(group, scratch, from, to, 4);
}

/** kv of one cell of a 2-cell circuit (f32x4 number q of the group), as slopes computes it: f32(scale (Phi(u + W0 x0 + W1 x1) - xi)), left to right. */
// @ts-ignore: decorator
@inline function pairSlope(g: usize, u: v128, w0: v128, w1: v128, sc: v128, x0: v128, x1: v128, xi: v128, clip: bool, soft: bool, q: usize = 0): v128 {
  const s = f32x4.add(f32x4.add(u, f32x4.mul(w0, x0)), f32x4.mul(w1, x1));
  return f32x4.mul(sc, f32x4.sub(activate(g, q, s, clip, soft), xi));
}

/**
 * runChains for up to four circuits of two cells (Wilson-Cowan pairs, one f32x4) with the state, weights and stage
 * values in locals: the same operations in the same order, without the stores and reloads of kv and the stage state
 * that lengthen each step's chain of dependent operations, which is all a batch of one circuit is. (With more chains
 * runChains overlaps them, and the round trips weigh less.)
 */
function runPair(group: usize, from: u32, to: u32): void {
  const p = changetype<RateGroup>(group);
  const run = changetype<RateRun>(p.run);
  const rk4 = p.rk4 != 0, clip = p.clip != 0, soft = p.soft != 0;
  // Element (i, j) of w is at (2 i + j) x 64 bytes, u, scale and x at i x 64.
  const w00 = v128.load(p.w), w01 = v128.load(p.w, 64), w10 = v128.load(p.w, 128), w11 = v128.load(p.w, 192);
  const u0 = v128.load(p.u), u1 = v128.load(p.u, 64);
  const sc0 = v128.load(p.scale), sc1 = v128.load(p.scale, 64);
  const xAt = p.x;
  let x0 = v128.load(xAt), x1 = v128.load(xAt, 64);
  const every = run.sampleEvery, samples = run.samples, rowBase = run.rowBase, batch = <usize>run.batch;
  const lanes = p.lanes, first = p.first;
  let nextSample: u32 = every != 0 ? (from / every + 1) * every : 0;
  for (let step = from; step < to; step++) {
    if (rk4) {
      let k0 = pairSlope(group, u0, w00, w01, sc0, x0, x1, x0, clip, soft);
      let k1 = pairSlope(group, u1, w10, w11, sc1, x0, x1, x1, clip, soft);
      let a0 = k0, a1 = k1;
      let t0 = f32x4.add(x0, f32x4.mul(HALF, k0)), t1 = f32x4.add(x1, f32x4.mul(HALF, k1));
      k0 = pairSlope(group, u0, w00, w01, sc0, t0, t1, t0, clip, soft);
      k1 = pairSlope(group, u1, w10, w11, sc1, t0, t1, t1, clip, soft);
      a0 = f32x4.add(a0, f32x4.mul(TWO, k0));
      a1 = f32x4.add(a1, f32x4.mul(TWO, k1));
      t0 = f32x4.add(x0, f32x4.mul(HALF, k0));
      t1 = f32x4.add(x1, f32x4.mul(HALF, k1));
      k0 = pairSlope(group, u0, w00, w01, sc0, t0, t1, t0, clip, soft);
      k1 = pairSlope(group, u1, w10, w11, sc1, t0, t1, t1, clip, soft);
      a0 = f32x4.add(a0, f32x4.mul(TWO, k0));
      a1 = f32x4.add(a1, f32x4.mul(TWO, k1));
      t0 = f32x4.add(x0, k0);
      t1 = f32x4.add(x1, k1);
      k0 = pairSlope(group, u0, w00, w01, sc0, t0, t1, t0, clip, soft);
      k1 = pairSlope(group, u1, w10, w11, sc1, t0, t1, t1, clip, soft);
      x0 = f32x4.add(x0, f32x4.mul(f32x4.add(a0, k0), SIXTH));
      x1 = f32x4.add(x1, f32x4.mul(f32x4.add(a1, k1), SIXTH));
    } else {
      const k0 = pairSlope(group, u0, w00, w01, sc0, x0, x1, x0, clip, soft);
      const k1 = pairSlope(group, u1, w10, w11, sc1, x0, x1, x1, clip, soft);
      x0 = f32x4.add(x0, k0);
      x1 = f32x4.add(x1, k1);
    }
    if (step + 1 == nextSample) {
      v128.store(xAt, x0);
      v128.store(xAt, x1, 64);
      const row = <usize>(nextSample / every - rowBase);
      for (let l: u32 = 0; l < lanes; l++) {
        const out = samples + ((row * batch + <usize>(first + l)) << 3);
        store<f32>(out, load<f32>(xAt + (<usize>l << 2)));
        store<f32>(out, load<f32>(xAt + (<usize>l << 2), 64), 4);
      }
      nextSample += every;
    }
  }
  v128.store(xAt, x0);
  v128.store(xAt, x1, 64);
}

/** One RK4 (or Euler) step of f32x4 number q of a group of 2-cell circuits, its state from and back to memory. */
// @ts-ignore: decorator
@inline function pairStep(group: usize, q: usize, rk4: bool, clip: bool, soft: bool): void {
  const p = changetype<RateGroup>(group);
  const o = q << 4;
  const w00 = v128.load(p.w + o), w01 = v128.load(p.w + o, 64), w10 = v128.load(p.w + o, 128), w11 = v128.load(p.w + o, 192);
  const u0 = v128.load(p.u + o), u1 = v128.load(p.u + o, 64);
  const sc0 = v128.load(p.scale + o), sc1 = v128.load(p.scale + o, 64);
  const xAt = p.x + o;
  const x0 = v128.load(xAt), x1 = v128.load(xAt, 64);
  if (rk4) {
    let k0 = pairSlope(group, u0, w00, w01, sc0, x0, x1, x0, clip, soft, q);
    let k1 = pairSlope(group, u1, w10, w11, sc1, x0, x1, x1, clip, soft, q);
    let a0 = k0, a1 = k1;
    let t0 = f32x4.add(x0, f32x4.mul(HALF, k0)), t1 = f32x4.add(x1, f32x4.mul(HALF, k1));
    k0 = pairSlope(group, u0, w00, w01, sc0, t0, t1, t0, clip, soft, q);
    k1 = pairSlope(group, u1, w10, w11, sc1, t0, t1, t1, clip, soft, q);
    a0 = f32x4.add(a0, f32x4.mul(TWO, k0));
    a1 = f32x4.add(a1, f32x4.mul(TWO, k1));
    t0 = f32x4.add(x0, f32x4.mul(HALF, k0));
    t1 = f32x4.add(x1, f32x4.mul(HALF, k1));
    k0 = pairSlope(group, u0, w00, w01, sc0, t0, t1, t0, clip, soft, q);
    k1 = pairSlope(group, u1, w10, w11, sc1, t0, t1, t1, clip, soft, q);
    a0 = f32x4.add(a0, f32x4.mul(TWO, k0));
    a1 = f32x4.add(a1, f32x4.mul(TWO, k1));
    t0 = f32x4.add(x0, k0);
    t1 = f32x4.add(x1, k1);
    k0 = pairSlope(group, u0, w00, w01, sc0, t0, t1, t0, clip, soft, q);
    k1 = pairSlope(group, u1, w10, w11, sc1, t0, t1, t1, clip, soft, q);
    v128.store(xAt, f32x4.add(x0, f32x4.mul(f32x4.add(a0, k0), SIXTH)));
    v128.store(xAt, f32x4.add(x1, f32x4.mul(f32x4.add(a1, k1), SIXTH)), 64);
  } else {
    v128.store(xAt, f32x4.add(x0, pairSlope(group, u0, w00, w01, sc0, x0, x1, x0, clip, soft, q)));
    v128.store(xAt, f32x4.add(x1, pairSlope(group, u1, w10, w11, sc1, x0, x1, x1, clip, soft, q)), 64);
  }
}

/**
 * runChains for 5 to 16 circuits of two cells (c f32x4): each chain's step in registers (pairStep: runPair's
 * operations), the chains one after another, so that the core overlaps their independent steps; the state goes
 * through memory once per step rather than at every stage as in runChains (a batch of 10 pairs: 116 to 77 µs per
 * 1000 RK4 steps on a 2-core AMD EPYC).
 */
function runPairs(group: usize, from: u32, to: u32, c: u32): void {
  const p = changetype<RateGroup>(group);
  const run = changetype<RateRun>(p.run);
  const rk4 = p.rk4 != 0, clip = p.clip != 0, soft = p.soft != 0;
  const every = run.sampleEvery, samples = run.samples, rowBase = run.rowBase, batch = <usize>run.batch;
  const lanes = p.lanes, first = p.first, xAt = p.x;
  let nextSample: u32 = every != 0 ? (from / every + 1) * every : 0;
  for (let step = from; step < to; step++) {
    pairStep(group, 0, rk4, clip, soft);
    pairStep(group, 1, rk4, clip, soft);
    if (c > 2) pairStep(group, 2, rk4, clip, soft);
    if (c > 3) pairStep(group, 3, rk4, clip, soft);
    if (step + 1 == nextSample) {
      const row = <usize>(nextSample / every - rowBase);
      for (let l: u32 = 0; l < lanes; l++) {
        const out = samples + ((row * batch + <usize>(first + l)) << 3);
        const at = xAt + (<usize>(l >> 2) << 4) + (<usize>(l & 3) << 2);
        store<f32>(out, load<f32>(at));
        store<f32>(out, load<f32>(at, 64), 4);
      }
      nextSample += every;
    }
  }
}
