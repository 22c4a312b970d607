// The minimax step kernel: src/models/minimax/simulate-cpu.ts (the f32 dynamics, the input spikes of stream 1 and the
// f64 measurement sums) for one instance over a range of steps, four neurons (or inputs) per f32x4 / f64x2 operation.
// Every lane does the reference's operations in its order (a column add is one add per element, in spike order), so the
// state, counts and sums are the reference's bits.
import { philoxX4Round1, philoxX4Word0Uniform } from './philox-x4';

const streamInput: u32 = 1;
const LANES: v128 = i32x4(0, 1, 2, 3);

/**
 * One instance, as src/models/minimax/wasm-simulation.ts packs it into 39 32-bit words. Arrays of 4-neuron groups have
 * n4 = ceil4(n) (nE4, nIn4) entries with zero padding; fire pads with +Infinity so padding never spikes.
 * a, b, c, r, decayR, shiftE, shiftI: f32 [n4]; sums: f64 [6][n4] (r, de, di, de^2, di^2, de di); isi: f64 [2][n]
 * (sum isi, sum isi^2); last: i64 [n] (last spike step, -1: none); spikeCount, isiCount: u32 [n]; inputCount: u32 [nIn];
 * thr, always: u32 [segments][nIn4] (an input spikes when its word < thr, or always); pre: v128 [nIn4 / 4][2] (round 1
 * of the channels' Philox, minimaxInit); raster: u32 [rasterSteps][words];
 * the network: fromE f32 [nE][n4], fromI f32 [nI][n4], fromIn f32 [nIn][nE4], fire f32 [n4].
 */
// @ts-ignore: decorator
@unmanaged
class MinimaxParams {
  a: usize;
  b: usize;
  c: usize;
  r: usize;
  decayR: usize;
  shiftE: usize;
  shiftI: usize;
  sums: usize;
  isi: usize;
  last: usize;
  spikeCount: usize;
  isiCount: usize;
  inputCount: usize;
  thr: usize;
  always: usize;
  pre: usize;
  raster: usize;
  fromE: usize;
  fromI: usize;
  fromIn: usize;
  fire: usize;
  n: u32;
  nE: u32;
  nIn: u32;
  n4: u32;
  nE4: u32;
  nIn4: u32;
  segments: u32;
  segmentSteps: u32;
  measureFrom: u32;
  rasterFrom: u32;
  rasterSteps: u32;
  words: u32;
  instance: u32;
  k0: u32;
  k1: u32;
  decayE: f32;
  decayI: f32;
  decayX: f32;
}

/** x[p] = x[p] + col0[p] (+ col1[p] + ...) over p in [0, len): up to four columns per pass, each added in list order. */
// @ts-ignore: decorator
@inline function addColumns(x: usize, len: u32, cols: usize, stride: u32, list: usize, from: u32, to: u32, offset: u32): void {
  const bytes = <usize>stride << 2;
  let q = from;
  for (; q + 4 <= to; q += 4) {
    const c0 = cols + <usize>(load<u32>(list + (<usize>q << 2)) - offset) * bytes;
    const c1 = cols + <usize>(load<u32>(list + (<usize>q << 2), 4) - offset) * bytes;
    const c2 = cols + <usize>(load<u32>(list + (<usize>q << 2), 8) - offset) * bytes;
    const c3 = cols + <usize>(load<u32>(list + (<usize>q << 2), 12) - offset) * bytes;
    for (let g: u32 = 0; g < len; g += 4) {
      const o = <usize>g << 2;
      let v = f32x4.add(v128.load(x + o), v128.load(c0 + o));
      v = f32x4.add(v, v128.load(c1 + o));
      v = f32x4.add(v, v128.load(c2 + o));
      v128.store(x + o, f32x4.add(v, v128.load(c3 + o)));
    }
  }
  for (; q < to; q++) {
    const c0 = cols + <usize>(load<u32>(list + (<usize>q << 2)) - offset) * bytes;
    for (let g: u32 = 0; g < len; g += 4) {
      const o = <usize>g << 2;
      v128.store(x + o, f32x4.add(v128.load(x + o), v128.load(c0 + o)));
    }
  }
}

/** sums[field] += v over one f64x2 pair at byte offset o. */
// @ts-ignore: decorator
@inline function accumulate(sums: usize, field: usize, o: usize, v: v128): void {
  const at = sums + field + o;
  v128.store(at, f64x2.add(v128.load(at), v));
}

/** The f64 sums of lanes [lane, lane + 2) of one group of 4 neurons (de, di are f64 differences of the f32 values). */
// @ts-ignore: decorator
@inline function measurePair(sums: usize, plane: usize, o: usize, e: v128, se: v128, i: v128, si: v128, r: v128): void {
  const de = f64x2.sub(f64x2.promote_low_f32x4(e), f64x2.promote_low_f32x4(se));
  const di = f64x2.sub(f64x2.promote_low_f32x4(i), f64x2.promote_low_f32x4(si));
  accumulate(sums, 0, o, f64x2.promote_low_f32x4(r));
  accumulate(sums, plane, o, de);
  accumulate(sums, 2 * plane, o, di);
  accumulate(sums, 3 * plane, o, f64x2.mul(de, de));
  accumulate(sums, 4 * plane, o, f64x2.mul(di, di));
  accumulate(sums, 5 * plane, o, f64x2.mul(de, di));
}

/** Lanes 2, 3 moved to 0, 1 (for the f64x2 of the upper pair). */
// @ts-ignore: decorator
@inline function upper(v: v128): v128 {
  return i32x4.shuffle(v, v, 2, 3, 2, 3);
}

/**
 * A thread's list slot (of one parity): spike count, input count, 8 bytes of padding, the spiking neurons (n4 words)
 * and the spiking inputs (nIn4 words) it found in its ranges, in increasing order.
 */
// @ts-ignore: decorator
@inline function slotBytes(n4: u32, nIn4: u32): usize {
  return 16 + ((<usize>n4 + <usize>nIn4) << 2);
}

/**
 * Phase 1 of step s for neurons [lo, hi) and input groups [glo, ghi) (groups of 4 channels): spike decisions from the
 * state after step s - 1, V = fl(fl(a - b) + c) > fire (masks at `masks`, by neuron), and the input spikes,
 * Bernoulli(p) of the first word of Philox (k, instance, s, stream 1 << 16) (channels with p = 0 draw nothing), into `slot`.
 */
// @ts-ignore: decorator
@inline function decide(params: usize, masks: usize, slot: usize, lo: u32, hi: u32, glo: u32, ghi: u32, s: u32): void {
  const p = changetype<MinimaxParams>(params);
  const a = p.a, b = p.b, c = p.c, fire = p.fire, nIn4 = p.nIn4;
  const spikes = slot + 16;
  const inputs = spikes + (<usize>p.n4 << 2);
  let ns: u32 = 0;
  for (let g = lo; g < hi; g += 4) {
    const o = <usize>g << 2;
    const m = f32x4.gt(f32x4.add(f32x4.sub(v128.load(a + o), v128.load(b + o)), v128.load(c + o)), v128.load(fire + o));
    v128.store(masks + o, m);
    let bits = i32x4.bitmask(m);
    while (bits != 0) {
      store<u32>(spikes + (<usize>ns << 2), g + <u32>ctz(bits));
      ns++;
      bits &= bits - 1;
    }
  }
  const lastSegment = p.segments - 1;
  const seg = lastSegment == 0 ? 0 : min(s / p.segmentSteps, lastSegment);
  const thr = p.thr + ((<usize>seg * <usize>nIn4) << 2);
  const always = p.always + ((<usize>seg * <usize>nIn4) << 2);
  const instance = p.instance, pre = p.pre, k0 = p.k0, k1 = p.k1;
  let ni: u32 = 0;
  for (let g = glo << 2; g < ghi << 2; g += 4) {
    const o = <usize>g << 2;
    const t = v128.load(thr + o);
    const al = v128.load(always + o);
    if (!v128.any_true(v128.or(t, al))) continue;
    const x = philoxX4Word0Uniform(v128.load(pre + (<usize>g << 3)), v128.load(pre + (<usize>g << 3), 16), instance, s, k0, k1);
    let bits = i32x4.bitmask(v128.or(i32x4.lt_u(x, t), al));
    while (bits != 0) {
      store<u32>(inputs + (<usize>ni << 2), g + <u32>ctz(bits));
      ni++;
      bits &= bits - 1;
    }
  }
  store<u32>(slot, ns);
  store<u32>(slot, ni, 4);
}

/**
 * Phase 2 of step s for neurons [lo, hi): the leaks, the columns of every spike of the step (list: all spikes, nsE of
 * them E, in increasing order; inputs: all ni input spikes), the traces, the measurement sums; then the counters, ISIs
 * and raster bits of this thread's own spikes and inputs (`own`, its slot). Ranges are whole raster words (32 neurons)
 * except at n4, so no two threads touch one word.
 */
// @ts-ignore: decorator
@inline function update(params: usize, masks: usize, own: usize, list: usize, ns: u32, nsE: u32, inputs: usize, ni: u32, lo: u32, hi: u32, s: u32): void {
  const p = changetype<MinimaxParams>(params);
  const nE = p.nE, n4 = p.n4, nE4 = p.nE4;
  const a = p.a, b = p.b, c = p.c, r = p.r, decayR = p.decayR, shiftE = p.shiftE, shiftI = p.shiftI, sums = p.sums;
  const measureFrom = p.measureFrom;
  const measured = s >= measureFrom;
  const lo4 = <usize>lo << 2;
  if (measured) {
    const ownInputs = own + 16 + (<usize>n4 << 2);
    for (let q: u32 = 0, m = load<u32>(own, 4); q < m; q++) {
      const at = p.inputCount + (<usize>load<u32>(ownInputs + (<usize>q << 2)) << 2);
      store<u32>(at, load<u32>(at) + 1);
    }
  }
  const dE = f32x4.splat(p.decayE);
  const dI = f32x4.splat(p.decayI);
  const dX = f32x4.splat(p.decayX);
  const hiE = min(hi, nE4);
  for (let g = lo; g < hi; g += 4) {
    const o = <usize>g << 2;
    v128.store(a + o, f32x4.mul(dE, v128.load(a + o)));
    v128.store(b + o, f32x4.mul(dI, v128.load(b + o)));
  }
  for (let g = lo; g < hiE; g += 4) {
    const o = <usize>g << 2;
    v128.store(c + o, f32x4.mul(dX, v128.load(c + o)));
  }
  addColumns(a + lo4, hi - lo, p.fromE + lo4, n4, list, 0, nsE, 0);
  addColumns(b + lo4, hi - lo, p.fromI + lo4, n4, list, nsE, ns, nE);
  if (hiE > lo) addColumns(c + lo4, hiE - lo, p.fromIn + lo4, nE4, inputs, 0, ni, 0);
  const one = f32x4.splat(1);
  for (let g = lo; g < hi; g += 4) {
    const o = <usize>g << 2;
    v128.store(r + o, f32x4.add(f32x4.mul(v128.load(decayR + o), v128.load(r + o)), v128.and(v128.load(masks + o), one)));
  }
  if (measured) {
    if (s == measureFrom) {
      for (let g = lo; g < hi; g += 4) {
        const o = <usize>g << 2;
        v128.store(shiftE + o, f32x4.add(v128.load(a + o), v128.load(c + o)));
        v128.store(shiftI + o, v128.load(b + o));
      }
    }
    const plane = <usize>n4 << 3;
    for (let g = lo; g < hi; g += 4) {
      const o = <usize>g << 2;
      const e = f32x4.add(v128.load(a + o), v128.load(c + o));
      const se = v128.load(shiftE + o);
      const i = v128.load(b + o);
      const si = v128.load(shiftI + o);
      const rr = v128.load(r + o);
      measurePair(sums, plane, o << 1, e, se, i, si, rr);
      measurePair(sums, plane, (o << 1) + 16, upper(e), upper(se), upper(i), upper(si), upper(rr));
    }
  }
  const ownSpikes = own + 16;
  const mine = load<u32>(own);
  const n = <usize>p.n;
  for (let q: u32 = 0; q < mine; q++) {
    const j = <usize>load<u32>(ownSpikes + (<usize>q << 2));
    const lastAt = p.last + (j << 3);
    if (measured) {
      const countAt = p.spikeCount + (j << 2);
      store<u32>(countAt, load<u32>(countAt) + 1);
      const last = load<i64>(lastAt);
      if (last >= <i64>measureFrom) {
        const isi = <f64>(<i64>s - last);
        const isiCountAt = p.isiCount + (j << 2);
        store<u32>(isiCountAt, load<u32>(isiCountAt) + 1);
        const sumAt = p.isi + (j << 3);
        store<f64>(sumAt, load<f64>(sumAt) + isi);
        const sqAt = sumAt + (n << 3);
        store<f64>(sqAt, load<f64>(sqAt) + isi * isi);
      }
    }
    store<i64>(lastAt, <i64>s);
  }
  const rasterFrom = p.rasterFrom;
  if (s >= rasterFrom && s < rasterFrom + p.rasterSteps) {
    const row = p.raster + (<usize>(s - rasterFrom) * <usize>p.words << 2);
    for (let q: u32 = 0; q < mine; q++) {
      const j = load<u32>(ownSpikes + (<usize>q << 2));
      const at = row + (<usize>(j >> 5) << 2);
      store<u32>(at, load<u32>(at) | (<u32>1 << (j & 31)));
    }
  }
}

/** Round 1 of every channel's Philox (counter (k, instance, s, stream 1 << 16): only k differs between lanes) into `pre`. */
export function minimaxInit(params: usize): void {
  const p = changetype<MinimaxParams>(params);
  for (let g: u32 = 0; g < p.nIn4; g += 4) philoxX4Round1(p.pre + (<usize>g << 3), i32x4.add(i32x4.splat(g), LANES), streamInput << 16, p.k1);
}

/**
 * Steps [from, to) of one instance on this thread. scratch: this thread's 4 (2 n4 + nIn4) + 16 bytes (spike masks,
 * and a list slot), 16-byte aligned like every array of the instance.
 */
export function minimaxRun(params: usize, scratch: usize, from: u32, to: u32): void {
  const p = changetype<MinimaxParams>(params);
  const n4 = p.n4, nIn4 = p.nIn4, nE = p.nE;
  const masks = scratch;
  const slot = scratch + (<usize>n4 << 2);
  const spikes = slot + 16;
  const inputs = spikes + (<usize>n4 << 2);
  for (let s = from; s < to; s++) {
    decide(params, masks, slot, 0, n4, 0, nIn4 >> 2, s);
    const ns = load<u32>(slot);
    let nsE: u32 = 0;
    while (nsE < ns && load<u32>(spikes + (<usize>nsE << 2)) < nE) nsE++;
    update(params, masks, slot, spikes, ns, nsE, inputs, load<u32>(slot, 4), 0, n4, s);
  }
}

/** Neurons [lo, hi) of thread t of T for one instance: whole 32-neuron raster words, the last range ending at n4. */
// @ts-ignore: decorator
@inline function rangeLo(n4: u32, t: u32, T: u32): u32 {
  const words = (<u64>n4 + 31) >> 5;
  return min(<u32>((words * <u64>t / <u64>T) << 5), n4);
}

/** Input groups (of 4 channels) of thread t of T. */
// @ts-ignore: decorator
@inline function groupLo(nIn4: u32, t: u32, T: u32): u32 {
  return <u32>(<u64>(nIn4 >> 2) * <u64>t / <u64>T);
}

/**
 * One instance split over T threads, phase 1 of step s on thread t: its neurons' decisions and its inputs' draws into
 * its slot of parity s & 1 in `lists` (2 T slots). Every thread runs phase 1, then a barrier, then minimaxUpdate.
 * scratch: this thread's 4 (2 n4 + nIn4) + 16 bytes (spike masks, then all spikes and inputs of the step gathered).
 */
export function minimaxDecide(params: usize, scratch: usize, lists: usize, t: u32, T: u32, s: u32): void {
  const p = changetype<MinimaxParams>(params);
  const n4 = p.n4, nIn4 = p.nIn4;
  const slot = lists + <usize>((s & 1) * T + t) * slotBytes(n4, nIn4);
  decide(params, scratch, slot, rangeLo(n4, t, T), rangeLo(n4, t + 1, T), groupLo(nIn4, t, T), groupLo(nIn4, t + 1, T), s);
}

/** Phase 2 of step s on thread t: gathers every thread's spikes and inputs of the step (thread order is index order), then updates its neurons. */
export function minimaxUpdate(params: usize, scratch: usize, lists: usize, t: u32, T: u32, s: u32): void {
  const p = changetype<MinimaxParams>(params);
  const n4 = p.n4, nIn4 = p.nIn4, nE = p.nE;
  const bytes = slotBytes(n4, nIn4);
  const base = lists + <usize>((s & 1) * T) * bytes;
  const list = scratch + (<usize>n4 << 2) + 16;
  const inputs = list + (<usize>n4 << 2);
  let ns: u32 = 0;
  let nsE: u32 = 0;
  let ni: u32 = 0;
  for (let u: u32 = 0; u < T; u++) {
    const slot = base + <usize>u * bytes;
    const m = load<u32>(slot);
    const k = load<u32>(slot, 4);
    memory.copy(list + (<usize>ns << 2), slot + 16, <usize>m << 2);
    memory.copy(inputs + (<usize>ni << 2), slot + 16 + (<usize>n4 << 2), <usize>k << 2);
    for (let q: u32 = 0; q < m; q++) if (load<u32>(slot + 16 + (<usize>q << 2)) < nE) nsE++;
    ns += m;
    ni += k;
  }
  update(params, scratch, base + <usize>t * bytes, list, ns, nsE, inputs, ni, rangeLo(n4, t, T), rangeLo(n4, t + 1, T), s);
}
