// CPU mirror of shaders/hybrid/step.wgsl: same random bits, same exact fixed-point totals, same f32 roundings.
import { detLogistic, detNormalCdf, rngCreate, rngNormal, rngPoisson, rngReset } from '../../rng/index.ts';
import type { HybridInstance } from './params.ts';

const f = Math.fround;
export const streamInputE = 3;
export const streamInputI = 4;
export const streamInit = 5;
const two32 = 4294967296;

/** What one step (or the initial state) of an instance records: exact totals and per-population moments. */
export interface HybridStepRecord {
  /** Sum over E (resp. I) of f(u)/numax in units of 2^-24 (exact integers). */
  totalE: number;
  totalI: number;
  meanE: number;
  varE: number;
  meanI: number;
  varI: number;
}

/** f32 of a u64 the way the kernel does it: hi scaled by 2^32 exactly, then one rounding of the sum. */
export function u64ToF32(x: number): number {
  const hi = Math.floor(x / two32);
  const lo = x - hi * two32;
  return f(f(f(hi) * two32) + f(lo));
}

/** The kernel's view of the instance constants: every value as the f32 the GPU reads (the u32 sigmoid flag is exact either way). */
function toF32(c: HybridInstance): HybridInstance {
  return {
    decay: f(c.decay), driveE: f(c.driveE), driveI: f(c.driveI), jumpEE: f(c.jumpEE), jumpEI: f(c.jumpEI), jumpIE: f(c.jumpIE), jumpII: f(c.jumpII),
    meanPerUnit: f(c.meanPerUnit), sigmoid: c.sigmoid, theta: f(c.theta), gain: f(c.gain), initMeanE: f(c.initMeanE), initSdE: f(c.initSdE),
    initMeanI: f(c.initMeanI), initSdI: f(c.initSdI), pad: f(c.pad),
  };
}

/** One instance of the hybrid network on the CPU (state: 2n f32 potentials). */
export class HybridCpuInstance {
  readonly u: Float32Array;
  private readonly units: Uint32Array;
  totalE = 0;
  totalI = 0;
  private readonly c: HybridInstance;
  private readonly probit: boolean;
  private readonly rng = rngCreate([0, 0], streamInit, 0, 0, 0);

  constructor(readonly n: number, instance: HybridInstance, private readonly key: readonly [number, number], private readonly id: number) {
    this.u = new Float32Array(2 * n);
    this.units = new Uint32Array(2 * n);
    this.c = toF32(instance);
    this.probit = instance.sigmoid === 0;
  }

  private intensityUnits(u: number): number {
    const x = f(f(u - this.c.theta) * this.c.gain);
    const g = this.probit ? detNormalCdf(x) : detLogistic(x);
    return Math.trunc(f(g * 16777216 + 0.5));
  }

  /** Draws u(0) ~ N(initMean_a, initSd_a^2) and returns the initial record. */
  init(): HybridStepRecord {
    const { n, c } = this;
    for (let k = 0; k < 2 * n; k++) {
      const isE = k < n;
      const z = rngNormal(rngReset(this.rng, this.key, streamInit, 0, this.id, k));
      const u = f((isE ? c.initMeanE : c.initMeanI) + f((isE ? c.initSdE : c.initSdI) * z));
      this.u[k] = u;
      this.units[k] = this.intensityUnits(u);
    }
    return this.record();
  }

  /** One Euler/tau-leaping step with Poisson input counts; returns the record after the step. */
  step(step: number): HybridStepRecord {
    const { n, c } = this;
    const totalE = this.totalE;
    const totalI = this.totalI;
    for (let k = 0; k < 2 * n; k++) {
      const isE = k < n;
      const own = this.units[k];
      const fromE = isE ? totalE - own : totalE;
      const fromI = isE ? totalI : totalI - own;
      const countE = rngPoisson(rngReset(this.rng, this.key, streamInputE, step, this.id, k), f(u64ToF32(fromE) * c.meanPerUnit));
      const countI = rngPoisson(rngReset(this.rng, this.key, streamInputI, step, this.id, k), f(u64ToF32(fromI) * c.meanPerUnit));
      const leaked = f(this.u[k] * c.decay);
      const excited = f((isE ? c.jumpEE : c.jumpIE) * countE);
      const inhibited = f((isE ? c.jumpEI : c.jumpII) * countI);
      const next = f(f(f(leaked + (isE ? c.driveE : c.driveI)) + excited) - inhibited);
      this.u[k] = next;
      this.units[k] = this.intensityUnits(next);
    }
    return this.record();
  }

  /** Totals for the next step and f64 two-pass moments of each population. */
  private record(): HybridStepRecord {
    const { n } = this;
    let tE = 0;
    let tI = 0;
    for (let k = 0; k < n; k++) tE += this.units[k];
    for (let k = n; k < 2 * n; k++) tI += this.units[k];
    this.totalE = tE;
    this.totalI = tI;
    const moments = (from: number) => {
      let s = 0;
      for (let k = from; k < from + n; k++) s += this.u[k];
      const m = s / n;
      let v = 0;
      for (let k = from; k < from + n; k++) v += (this.u[k] - m) ** 2;
      return [m, v / n];
    };
    const [meanE, varE] = moments(0);
    const [meanI, varI] = moments(n);
    return { totalE: tE, totalI: tI, meanE, varE, meanI, varI };
  }
}
