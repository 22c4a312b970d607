// CPU reference of the minimax spiking E-I networks: the dynamics of network.ts in f32, op for op as shaders/minimax/step.wgsl,
// drawing the same input spikes (stream 1, counter (k, instanceId, step)), with measurements accumulated in f64.
import { rngBernoulli, rngCreate, rngReset, seedToKey } from '../../rng/index.ts';
import { ParameterError } from '../../errors.ts';
import type { RunControl } from '../../core/contract.ts';
import { checkMinimaxSpec, makeDecays, makeFireThresholds, makeInputProbabilities, makeRasterWords, type MinimaxChunk, type MinimaxInstance, type MinimaxNetwork, type MinimaxRunResult, type MinimaxRunSpec } from './network.ts';

/**
 * The weights as the kernel reads them, f32, column-packed by presynaptic neuron so a spike adds one contiguous
 * column. Neurons are E then I (n = nE + nI): fromE[j][post] = W_EE[post][j] (post < nE) or W_IE[post - nE][j];
 * fromI[j][post] = W_EI[post][j] or W_II[post - nE][j]; fromIn[k][post < nE] = F[post][k]; fire[post] the thresholds.
 */
export interface MinimaxColumns {
  fromE: Float32Array<ArrayBuffer>;
  fromI: Float32Array<ArrayBuffer>;
  fromIn: Float32Array<ArrayBuffer>;
  fire: Float32Array<ArrayBuffer>;
}

/** Pure: the column-packed f32 weights and thresholds of one network (see MinimaxColumns). */
export function makeMinimaxColumns(w: MinimaxNetwork): MinimaxColumns {
  const { nE, nI, nIn } = w;
  const n = nE + nI;
  const fromE = new Float32Array(nE * n);
  const fromI = new Float32Array(nI * n);
  const fromIn = new Float32Array(nIn * nE);
  for (let j = 0; j < nE; j++) {
    for (let i = 0; i < nE; i++) fromE[j * n + i] = w.wEE[i * nE + j];
    for (let i = 0; i < nI; i++) fromE[j * n + nE + i] = w.wIE[i * nE + j];
  }
  for (let j = 0; j < nI; j++) {
    for (let i = 0; i < nE; i++) fromI[j * n + i] = w.wEI[i * nI + j];
    for (let i = 0; i < nI; i++) fromI[j * n + nE + i] = w.wII[i * nI + j];
  }
  for (let k = 0; k < nIn; k++) for (let i = 0; i < nE; i++) fromIn[k * nE + i] = w.F[i * nIn + k];
  const { fireE, fireI } = makeFireThresholds(w);
  const fire = new Float32Array(n);
  fire.set(fireE, 0);
  fire.set(fireI, nE);
  return { fromE, fromI, fromIn, fire };
}

/** Shifted f64 sums of one instance (per neuron), turned into the result's moments by writeMinimaxMoments. */
export interface MinimaxSums {
  /** [neuron][8]: sum r, sum de, sum di, sum de^2, sum di^2, sum de di, sum isi, sum isi^2 (de = e - shiftE, di = i - shiftI). */
  sums: Float64Array;
  shiftE: Float32Array;
  shiftI: Float32Array;
}

/** Sums per neuron in MinimaxSums.sums, in the order of the kernel's fields fieldSumR..fieldIsiSumSq. */
export const minimaxSumCount = 8;

/** Empty result arrays of a run after `stepsDone` steps (default: all of spec.steps). */
export function makeMinimaxResult(spec: MinimaxRunSpec, backend: MinimaxRunResult['backend'], stepsDone = spec.steps): MinimaxRunResult {
  const { nE, nI } = spec.networks[0];
  const n = nE + nI;
  const B = spec.instances.length;
  const rasterWords = makeRasterWords(nE, nI);
  return {
    backend,
    batch: B,
    nE,
    nI,
    steps: stepsDone,
    measuredSteps: Uint32Array.from(spec.instances, (inst) => Math.max(0, stepsDone - inst.measureFrom)),
    spikeCounts: new Uint32Array(B * n),
    inputCounts: new Uint32Array(B * spec.networks[0].nIn),
    meanTrace: new Float64Array(B * n),
    inputMoments: new Float64Array(B * n * 5),
    isiCount: new Uint32Array(B * n),
    isiMean: new Float64Array(B * n),
    isiVar: new Float64Array(B * n),
    raster: spec.raster ? new Uint32Array(B * spec.raster.steps * rasterWords) : null,
    rasterWords,
    wallSeconds: 0,
  };
}

/**
 * Fills instance b's meanTrace, inputMoments, isiMean and isiVar from its shifted sums (isiCount must be set).
 * Means of nothing (no measured step, no ISI) are NaN.
 */
export function writeMinimaxMoments(res: MinimaxRunResult, b: number, s: MinimaxSums): void {
  const n = res.nE + res.nI;
  const M = res.measuredSteps[b];
  for (let p = 0; p < n; p++) {
    const o = b * n + p;
    const q = p * minimaxSumCount;
    const [sr, se, si, see, sii, sei, sisi, sisi2] = s.sums.subarray(q, q + minimaxSumCount);
    res.meanTrace[o] = sr / M;
    const me = se / M;
    const mi = si / M;
    res.inputMoments.set([s.shiftE[p] + me, s.shiftI[p] + mi, see / M - me * me, sii / M - mi * mi, sei / M - me * mi], o * 5);
    const c = res.isiCount[o];
    const mIsi = sisi / c;
    res.isiMean[o] = mIsi;
    res.isiVar[o] = sisi2 / c - mIsi * mIsi;
  }
}

/** The state of one instance on the CPU: the f32 components, the f64 sums and the counters, advanced step by step. */
class InstanceState {
  readonly a: Float32Array;
  readonly bb: Float32Array;
  readonly c: Float32Array;
  readonly r: Float32Array;
  private readonly decayR: Float32Array;
  private readonly spiking: Int32Array;
  private readonly inputs: Int32Array;
  private readonly spiked: Uint8Array;
  private readonly lastSpike: Float64Array;
  readonly sums: Float64Array;
  readonly shiftE: Float32Array;
  readonly shiftI: Float32Array;
  readonly isiCount: Uint32Array;
  readonly spikeCount: Uint32Array;
  readonly inputCount: Uint32Array;
  private readonly decays: { decayE: number; decayI: number; decayX: number };
  private readonly probs: Float32Array;
  private readonly key: [number, number];
  private readonly id: number;
  private readonly rng: ReturnType<typeof rngCreate>;

  constructor(
    private readonly spec: MinimaxRunSpec,
    private readonly b: number,
    private readonly cols: MinimaxColumns,
    private readonly raster: Uint32Array | null,
    private readonly words: number,
  ) {
    const inst = spec.instances[b];
    const { nE, nI, nIn } = spec.networks[0];
    const n = nE + nI;
    this.decays = makeDecays(inst);
    this.probs = makeInputProbabilities(inst);
    this.key = seedToKey(spec.seed);
    this.id = inst.instanceId ?? b;
    this.rng = rngCreate(this.key, 1, 0, this.id, 0);
    // Float32Array stores round to f32; for +, - and * of f32 operands the double result rounded once to f32
    // equals the f32 operation (53 >= 2 x 24 + 2), so `a[p] = a[p] + w` is fl(a + w).
    this.a = new Float32Array(n);
    this.bb = new Float32Array(n);
    this.c = new Float32Array(n);
    this.r = new Float32Array(n);
    this.decayR = new Float32Array(n).fill(this.decays.decayE, 0, nE).fill(this.decays.decayI, nE);
    this.spiking = new Int32Array(n);
    this.inputs = new Int32Array(nIn);
    this.spiked = new Uint8Array(n);
    this.lastSpike = new Float64Array(n).fill(-1);
    this.sums = new Float64Array(n * minimaxSumCount);
    this.shiftE = new Float32Array(n);
    this.shiftI = new Float32Array(n);
    this.isiCount = new Uint32Array(n);
    this.spikeCount = new Uint32Array(n);
    this.inputCount = new Uint32Array(nIn);
  }

  /** Runs steps [from, to); progress(k) after every `every` steps of the run and for the rest at the end. */
  advance(from: number, to: number, every: number, progress: (steps: number) => void): void {
    const spec = this.spec;
    const inst: MinimaxInstance = spec.instances[this.b];
    const { nE, nI, nIn } = spec.networks[0];
    const n = nE + nI;
    const f = Math.fround;
    const { decayE, decayI, decayX } = this.decays;
    const { probs, key, id, rng, a, bb, c, r, decayR, spiking, inputs, spiked, lastSpike, sums, shiftE, shiftI, isiCount, spikeCount, inputCount } = this;
    const { fromE, fromI, fromIn, fire } = this.cols;
    const raster = this.raster;
    const words = this.words;
    const rasterFrom = spec.raster?.from ?? 0;
    const rasterSteps = spec.raster?.steps ?? 0;
    const rasterEnd = spec.raster ? rasterFrom + rasterSteps : 0;
    const measureFrom = inst.measureFrom;
    const lastSegment = inst.segments - 1;
    let reported = 0;
    for (let s = from; s < to; s++) {
      // Spike decisions of step s from the state after step s - 1: V = fl(fl(a - b) + c) > fire (c = 0 for I).
      let ns = 0;
      for (let p = 0; p < n; p++) {
        if (f(f(a[p] - bb[p]) + c[p]) > fire[p]) {
          spiking[ns++] = p;
          spiked[p] = 1;
        }
      }
      const row = Math.min(Math.floor(s / inst.segmentSteps), lastSegment) * nIn;
      let ni = 0;
      for (let k = 0; k < nIn; k++) {
        const pk = probs[row + k];
        if (pk > 0 && rngBernoulli(rngReset(rng, key, 1, s, id, k), pk) === 1) inputs[ni++] = k;
      }
      if (s >= measureFrom) for (let q = 0; q < ni; q++) inputCount[inputs[q]]++;
      for (let p = 0; p < n; p++) {
        a[p] = decayE * a[p];
        bb[p] = decayI * bb[p];
      }
      for (let p = 0; p < nE; p++) c[p] = decayX * c[p];
      for (let q = 0; q < ns; q++) {
        const j = spiking[q];
        // A column view per spike: V8 runs `x[p] += col[p]` faster than offset indexing.
        if (j < nE) {
          const col = fromE.subarray(j * n, (j + 1) * n);
          for (let p = 0; p < n; p++) a[p] += col[p];
        } else {
          const col = fromI.subarray((j - nE) * n, (j - nE + 1) * n);
          for (let p = 0; p < n; p++) bb[p] += col[p];
        }
      }
      for (let q = 0; q < ni; q++) {
        const col = fromIn.subarray(inputs[q] * nE, (inputs[q] + 1) * nE);
        for (let p = 0; p < nE; p++) c[p] += col[p];
      }
      for (let p = 0; p < n; p++) r[p] = f(decayR[p] * r[p]) + spiked[p];
      if (s >= measureFrom) {
        if (s === measureFrom) {
          for (let p = 0; p < n; p++) {
            shiftE[p] = a[p] + c[p];
            shiftI[p] = bb[p];
          }
        }
        for (let p = 0; p < n; p++) {
          const de = f(a[p] + c[p]) - shiftE[p];
          const di = bb[p] - shiftI[p];
          const o = p * minimaxSumCount;
          sums[o] += r[p];
          sums[o + 1] += de;
          sums[o + 2] += di;
          sums[o + 3] += de * de;
          sums[o + 4] += di * di;
          sums[o + 5] += de * di;
        }
      }
      for (let q = 0; q < ns; q++) {
        const p = spiking[q];
        if (s >= measureFrom) {
          spikeCount[p]++;
          const last = lastSpike[p];
          if (last >= measureFrom) {
            const isi = s - last;
            isiCount[p]++;
            sums[p * minimaxSumCount + 6] += isi;
            sums[p * minimaxSumCount + 7] += isi * isi;
          }
        }
        lastSpike[p] = s;
        spiked[p] = 0;
      }
      if (s >= rasterFrom && s < rasterEnd && raster) {
        const o = (this.b * rasterSteps + (s - rasterFrom)) * words;
        for (let q = 0; q < ns; q++) raster[o + (spiking[q] >>> 5)] |= 1 << (spiking[q] & 31);
      }
      if ((s + 1) % every === 0) {
        progress(s + 1 - from - reported);
        reported = s + 1 - from;
      }
    }
    progress(to - from - reported);
  }
}

/** Steps between progress reports of one instance: about 1e7 synaptic updates (a 40-neuron step is ~1e3 times cheaper than a grid step). */
function progressEvery(n: number): number {
  return Math.max(16, Math.min(8192, 2 ** Math.floor(Math.log2(1e7 / (n * n)))));
}

/**
 * The CPU reference of a run, advanced incrementally: advancing k1 then k2 steps gives exactly the result of k1 + k2
 * (every instance keeps its own state; measureFrom and the raster window are absolute steps of the spec).
 */
export class MinimaxCpuSimulation {
  readonly backend = 'cpu' as const;
  private readonly states: InstanceState[];
  private readonly raster: Uint32Array | null;
  private readonly words: number;
  private done = 0;
  private seconds = 0;

  constructor(readonly spec: MinimaxRunSpec) {
    const t0 = performance.now();
    checkMinimaxSpec(spec);
    const { nE, nI } = spec.networks[0];
    this.words = makeRasterWords(nE, nI);
    this.raster = spec.raster ? new Uint32Array(spec.instances.length * spec.raster.steps * this.words) : null;
    const cols = new Map<number, MinimaxColumns>();
    this.states = spec.instances.map((inst, b) => {
      let cl = cols.get(inst.network);
      if (!cl) cols.set(inst.network, (cl = makeMinimaxColumns(spec.networks[inst.network])));
      return new InstanceState(spec, b, cl, this.raster, this.words);
    });
    this.seconds += (performance.now() - t0) / 1000;
  }

  get stepsDone(): number {
    return this.done;
  }

  /** Advances every instance by `steps` (one instance after the other); progress(k) reports k more instance-steps. */
  step(steps: number, progress: (instanceSteps: number) => void = () => {}): void {
    if (!(Number.isInteger(steps) && steps >= 0 && this.done + steps <= this.spec.steps)) {
      throw new ParameterError('steps', `${steps} steps after ${this.done} overrun the spec's ${this.spec.steps}`, `advance at most ${this.spec.steps - this.done} more steps`);
    }
    const t0 = performance.now();
    const n = this.spec.networks[0].nE + this.spec.networks[0].nI;
    for (const st of this.states) st.advance(this.done, this.done + steps, progressEvery(n), progress);
    this.done += steps;
    this.seconds += (performance.now() - t0) / 1000;
  }

  /**
   * Advances `steps` steps in chunks of about 1e7 synaptic updates over all instances; after each chunk reports
   * progress (steps of this call), passes the chunk's step range and yields to the event loop; an aborted signal
   * stops it at the next chunk boundary.
   */
  async advance(steps: number, control: RunControl<MinimaxChunk> = {}): Promise<void> {
    const { nE, nI } = this.spec.networks[0];
    const n = nE + nI;
    const chunk = Math.max(1, Math.min(8192, 2 ** Math.floor(Math.log2(1e7 / (n * n * this.states.length)))));
    const start = this.done;
    const end = start + steps;
    control.signal?.throwIfAborted();
    while (this.done < end) {
      const from = this.done;
      this.step(Math.min(chunk, end - from));
      control.onChunk?.({ from, to: this.done });
      control.onProgress?.(this.done - start, steps);
      if (this.done < end) {
        await new Promise<void>((resolve) => setTimeout(resolve, 0));
        control.signal?.throwIfAborted();
      }
    }
  }

  /** The measurements of the steps done so far (MinimaxRunResult.steps = stepsDone). */
  result(): MinimaxRunResult {
    const spec = this.spec;
    const res = makeMinimaxResult(spec, 'cpu', this.done);
    const { nE, nI, nIn } = spec.networks[0];
    const n = nE + nI;
    if (this.raster && res.raster) res.raster.set(this.raster);
    this.states.forEach((st, b) => {
      res.spikeCounts.set(st.spikeCount, b * n);
      res.isiCount.set(st.isiCount, b * n);
      res.inputCounts.set(st.inputCount, b * nIn);
      writeMinimaxMoments(res, b, { sums: st.sums, shiftE: st.shiftE, shiftI: st.shiftI });
    });
    res.wallSeconds = this.seconds;
    return res;
  }

  /** f32 state [instance][neuron][a, b, c, r] (V = a - b + c; see network.ts). */
  readState(): Float32Array {
    const { nE, nI } = this.spec.networks[0];
    const n = nE + nI;
    const out = new Float32Array(this.states.length * n * 4);
    this.states.forEach((st, b) => {
      for (let p = 0; p < n; p++) out.set([st.a[p], st.bb[p], st.c[p], st.r[p]], (b * n + p) * 4);
    });
    return out;
  }
}

/** Runs every instance of the spec on the CPU (one after the other); same contract and f32 spikes as runMinimaxGpu. */
export function runMinimaxCpu(spec: MinimaxRunSpec, onProgress?: (done: number, total: number) => void): MinimaxRunResult {
  const sim = new MinimaxCpuSimulation(spec);
  const total = spec.steps * spec.instances.length;
  let done = 0;
  sim.step(spec.steps, (k) => {
    done += k;
    onProgress?.(done, total);
  });
  return sim.result();
}
