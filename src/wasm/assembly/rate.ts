// The rate-circuit integrator: src/models/rate/integrate-cpu.ts (Euler or RK4 of T dx/dt = -x + Phi(W x + u) in f32,
// op for op) for eight circuits at once, one per lane of two f32x4: each lane does the reference's scalar operations
// in its order, so every lane's state is the reference's bits. softclip's tanh is the reference's (detmath exp and
// reciprocal) in f32x4, the same operations as src/wasm/assembly/detmath.ts lane by lane. Eight lanes rather than
// four: a small circuit's step is a short chain of dependent operations, and two independent chains per loop pass ran
// 1.2x (Euler) to 2x (RK4) faster on Wilson-Cowan pairs.
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
 * Eight circuits of n cells (src/models/rate/wasm-integrator.ts packs it: 11 words, then from byte 64 the lane masks
 * and bounds, two v128 each). An element is 32 bytes, lanes 0-3 then 4-7: w [n][n] (lane l: W[i][j] of circuit
 * first + l), u, scale (f32(dt / tau)), x [n].
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
  /** Circuits in this group (1..8); the other lanes are zero and not written out. */
  lanes: u32;
  first: u32;
  rk4: u32;
  /** Some lane is clip / softclip. */
  clip: u32;
  soft: u32;
}

const clipMaskAt: usize = 64;
const softMaskAt: usize = 96;
const xmaxAt: usize = 128;
const invAt: usize = 160;

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
  const t = detExp4(f32x4.mul(f32x4.splat(-2), y));
  const large = f32x4.mul(f32x4.sub(ONE, t), detRecip4(f32x4.add(ONE, t)));
  return v128.bitselect(small, large, f32x4.lt(y, f32x4.splat(0.125)));
}

/** For the tests: rateTanh lane-wise over `count` (a multiple of 4) f32 at `ptr`, in place. */
export function rateTanhArray(ptr: usize, count: u32): void {
  for (let q: u32 = 0; q < count; q += 4) {
    const at = ptr + (<usize>q << 2);
    v128.store(at, tanhX4(v128.load(at)));
  }
}

/** Phi of one f32x4 of pre-activations s: [s]+, then clip or softclip in the lanes that use them. */
// @ts-ignore: decorator
@inline function activate(s: v128, clip: bool, soft: bool, clipMask: v128, softMask: v128, xmax: v128, inv: v128): v128 {
  let phi = v128.bitselect(s, ZERO, f32x4.gt(s, ZERO));
  if (clip) phi = v128.bitselect(f32x4.min(phi, xmax), phi, clipMask);
  if (soft) phi = v128.bitselect(f32x4.mul(xmax, tanhX4(f32x4.mul(phi, inv))), phi, softMask);
  return phi;
}

/** kv[i] = f32(scale_i (Phi(u_i + sum_j W_ij xs_j) - xs_i)), the sum in increasing j, for every cell of the group. */
// @ts-ignore: decorator
@inline function slopes(g: usize, w: usize, u: usize, scale: usize, n: u32, clip: bool, soft: bool, xs: usize, kv: usize): void {
  const rowBytes = <usize>n << 5;
  const clipA = v128.load(g, clipMaskAt), clipB = v128.load(g, clipMaskAt + 16);
  const softA = v128.load(g, softMaskAt), softB = v128.load(g, softMaskAt + 16);
  const xmaxA = v128.load(g, xmaxAt), xmaxB = v128.load(g, xmaxAt + 16);
  const invA = v128.load(g, invAt), invB = v128.load(g, invAt + 16);
  for (let i: u32 = 0; i < n; i++) {
    const oi = <usize>i << 5;
    const row = w + <usize>i * rowBytes;
    let sa = v128.load(u + oi);
    let sb = v128.load(u + oi, 16);
    for (let j: u32 = 0; j < n; j++) {
      const oj = <usize>j << 5;
      sa = f32x4.add(sa, f32x4.mul(v128.load(row + oj), v128.load(xs + oj)));
      sb = f32x4.add(sb, f32x4.mul(v128.load(row + oj, 16), v128.load(xs + oj, 16)));
    }
    const phiA = activate(sa, clip, soft, clipA, softA, xmaxA, invA);
    const phiB = activate(sb, clip, soft, clipB, softB, xmaxB, invB);
    v128.store(kv + oi, f32x4.mul(v128.load(scale + oi), f32x4.sub(phiA, v128.load(xs + oi))));
    v128.store(kv + oi, f32x4.mul(v128.load(scale + oi, 16), f32x4.sub(phiB, v128.load(xs + oi, 16))), 16);
  }
}

/**
 * Steps [from, to) of one group of eight circuits, the state in place; after steps that are multiples of sampleEvery
 * the states go to their rows of the run's sample buffer. scratch: this thread's 96 n bytes (the RK4 stage state, kv,
 * acc). RK4's stages start from the state itself, which the reference copies to x1 first: the same values.
 */
export function rateRun(group: usize, scratch: usize, from: u32, to: u32): void {
  const p = changetype<RateGroup>(group);
  const run = changetype<RateRun>(p.run);
  // Fields in locals: the kernel's stores could alias the records, so field reads in loops would reload.
  const n = p.n, x = p.x, w = p.w, u = p.u, scale = p.scale, rk4 = p.rk4 != 0, clip = p.clip != 0, soft = p.soft != 0;
  const lanes = p.lanes, first = p.first;
  const bytes = <usize>n << 5;
  const xt = scratch;
  const kv = scratch + bytes;
  const acc = kv + bytes;
  const every = run.sampleEvery, samples = run.samples, rowBase = run.rowBase, batch = <usize>run.batch;
  let nextSample: u32 = every != 0 ? (from / every + 1) * every : 0;
  for (let step = from; step < to; step++) {
    if (rk4) {
      slopes(group, w, u, scale, n, clip, soft, x, kv);
      for (let o: usize = 0; o < bytes; o += 16) {
        const k = v128.load(kv + o);
        v128.store(acc + o, k);
        v128.store(xt + o, f32x4.add(v128.load(x + o), f32x4.mul(HALF, k)));
      }
      slopes(group, w, u, scale, n, clip, soft, xt, kv);
      for (let o: usize = 0; o < bytes; o += 16) {
        const k = v128.load(kv + o);
        v128.store(acc + o, f32x4.add(v128.load(acc + o), f32x4.mul(TWO, k)));
        v128.store(xt + o, f32x4.add(v128.load(x + o), f32x4.mul(HALF, k)));
      }
      slopes(group, w, u, scale, n, clip, soft, xt, kv);
      for (let o: usize = 0; o < bytes; o += 16) {
        const k = v128.load(kv + o);
        v128.store(acc + o, f32x4.add(v128.load(acc + o), f32x4.mul(TWO, k)));
        v128.store(xt + o, f32x4.add(v128.load(x + o), k));
      }
      slopes(group, w, u, scale, n, clip, soft, xt, kv);
      for (let o: usize = 0; o < bytes; o += 16) {
        v128.store(x + o, f32x4.add(v128.load(x + o), f32x4.mul(f32x4.add(v128.load(acc + o), v128.load(kv + o)), SIXTH)));
      }
    } else {
      slopes(group, w, u, scale, n, clip, soft, x, kv);
      for (let o: usize = 0; o < bytes; o += 16) v128.store(x + o, f32x4.add(v128.load(x + o), v128.load(kv + o)));
    }
    if (step + 1 == nextSample) {
      const row = <usize>(nextSample / every - rowBase);
      for (let l: u32 = 0; l < lanes; l++) {
        const out = samples + ((row * batch + <usize>(first + l)) * <usize>n << 2);
        for (let i: u32 = 0; i < n; i++) store<f32>(out + (<usize>i << 2), load<f32>(x + (<usize>i << 5) + (<usize>l << 2)));
      }
      nextSample += every;
    }
  }
}
