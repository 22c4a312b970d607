// Philox4x32-10 and the counter-based generator state, mirroring shaders/common/rng.wgsl bit for bit.
import { ParameterError } from '../errors.ts';

const M0 = 0xd2511f53;
const M1 = 0xcd9e8d57;
const W0 = 0x9e3779b9;
const W1 = 0xbb67ae85;

/** High 32 bits of a*b for u32 a, b, in exact double arithmetic (no BigInt): a*b = (aH b) 2^16 + aL b. */
export function mulHi32(a: number, b: number): number {
  const aH = a >>> 16;
  const aL = a & 0xffff;
  // aH*b and aL*b are < 2^48, so every intermediate is an exact double.
  return Math.floor((aH * b + Math.floor((aL * b) / 65536)) / 65536) >>> 0;
}

/** Philox rounds on scalars, writing the 4 output words into out[0..3] (no allocation: the hot path). */
export function philoxInto(out: Uint32Array, c0: number, c1: number, c2: number, c3: number, k0: number, k1: number): void {
  for (let i = 0; i < 10; i++) {
    const hi0 = mulHi32(M0, c0);
    const lo0 = Math.imul(M0, c0) >>> 0;
    const hi1 = mulHi32(M1, c2);
    const lo1 = Math.imul(M1, c2) >>> 0;
    c0 = (hi1 ^ c1 ^ k0) >>> 0;
    c1 = lo1;
    c2 = (hi0 ^ c3 ^ k1) >>> 0;
    c3 = lo0;
    k0 = (k0 + W0) >>> 0;
    k1 = (k1 + W1) >>> 0;
  }
  out[0] = c0;
  out[1] = c1;
  out[2] = c2;
  out[3] = c3;
}

/** Philox4x32 with 10 rounds (Salmon et al. 2011) of a 4-word counter under a 2-word key. */
export function philox4x32_10(ctr: Uint32Array | readonly number[], key: Uint32Array | readonly number[]): Uint32Array {
  const out = new Uint32Array(4);
  philoxInto(out, ctr[0] >>> 0, ctr[1] >>> 0, ctr[2] >>> 0, ctr[3] >>> 0, key[0] >>> 0, key[1] >>> 0);
  return out;
}

/** Generator state for one (seed, stream, step, instance, neuron); same fields as the WGSL struct Rng. */
export interface Rng {
  /** Philox key = the seed words. */
  key: Uint32Array;
  /** (neuron, instance, step, (stream << 16) | block). */
  ctr: Uint32Array;
  /** The current block's 4 output words. */
  buf: Uint32Array;
  /** Words of `buf` already handed out (4 = none left). */
  used: number;
}

function checkU32(name: string, v: number): void {
  if (!(Number.isInteger(v) && v >= 0 && v <= 0xffffffff)) throw new ParameterError(name, `${v} is not a u32`, 'pass an integer in [0, 2^32)');
}

/** Re-initialises an existing Rng in place (lets CPU loops avoid one allocation per neuron per step). */
export function rngReset(r: Rng, seed: readonly [number, number], stream: number, step: number, instance: number, neuron: number): Rng {
  if (!(Number.isInteger(stream) && stream >= 0 && stream < 65536)) {
    throw new ParameterError('stream', `${stream} is not in [0, 65536)`, 'streams are 16-bit: use a small integer per purpose');
  }
  r.key[0] = seed[0];
  r.key[1] = seed[1];
  r.ctr[0] = neuron;
  r.ctr[1] = instance;
  r.ctr[2] = step;
  r.ctr[3] = stream << 16;
  r.used = 4;
  return r;
}

/** A generator for (seed key, stream < 2^16, step, instance, neuron); nothing is drawn until first use. */
export function rngCreate(seed: readonly [number, number], stream: number, step: number, instance: number, neuron: number): Rng {
  checkU32('seed[0]', seed[0]);
  checkU32('seed[1]', seed[1]);
  checkU32('step', step);
  checkU32('instance', instance);
  checkU32('neuron', neuron);
  const r: Rng = { key: new Uint32Array(2), ctr: new Uint32Array(4), buf: new Uint32Array(4), used: 4 };
  return rngReset(r, seed, stream, step, instance, neuron);
}

/** The next raw 32-bit word (one Philox call per four words; the block counter lives in ctr[3]'s low 16 bits). */
export function rngNextU32(r: Rng): number {
  if (r.used >= 4) {
    const c = r.ctr;
    philoxInto(r.buf, c[0], c[1], c[2], c[3], r.key[0], r.key[1]);
    c[3] = c[3] + 1; // Uint32Array wraps like WGSL's u32.
    r.used = 0;
  }
  return r.buf[r.used++];
}

/**
 * Maps a user seed to the Philox key [lo, hi]: an integer (number up to 2^53 - 1, bigint or
 * decimal/0x string up to 2^64 - 1) becomes its low and high 32-bit words, so seeds 0, 1, 2, ...
 * are distinct keys and every seed below 2^53 round-trips through JSON.
 */
export function seedToKey(seed: number | bigint | string): [number, number] {
  let big: bigint;
  if (typeof seed === 'number') {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new ParameterError('seed', `${seed} is not an integer in [0, 2^53)`, 'pass a non-negative integer seed');
    big = BigInt(seed);
  } else if (typeof seed === 'bigint') {
    big = seed;
  } else {
    const s = seed.trim();
    if (!/^(0x[0-9a-f]+|[0-9]+)$/i.test(s)) throw new ParameterError('seed', `"${seed}" is not an integer`, 'pass a decimal or 0x-hex integer seed');
    big = BigInt(s);
  }
  if (big < 0n || big >= 1n << 64n) throw new ParameterError('seed', `${big} is outside [0, 2^64)`, 'pass a seed below 2^64');
  return [Number(big & 0xffffffffn), Number(big >> 32n)];
}
