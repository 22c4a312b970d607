// CPU reference of the minimax spiking E-I networks: the dynamics of network.ts in f32, op for op as shaders/minimax/step.wgsl,
// drawing the same input spikes (stream 1, counter (k, instanceId, step)), with measurements accumulated in f64.
import { rngBernoulli, rngCreate, rngReset, seedToKey } from '../../rng/index.ts';
import { checkMinimaxSpec, makeDecays, makeFireThresholds, makeInputProbabilities, makeRasterWords, type MinimaxInstance, type MinimaxNetwork, type MinimaxRunResult, type MinimaxRunSpec } from './network.ts';

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

/** Empty result arrays of a run. */
export function makeMinimaxResult(spec: MinimaxRunSpec, backend: 'cpu' | 'webgpu'): MinimaxRunResult {
  const { nE, nI } = spec.networks[0];
  const n = nE + nI;
  const B = spec.instances.length;
  const rasterWords = makeRasterWords(nE, nI);
  return {
    backend,
    batch: B,
    nE,
    nI,
    steps: spec.steps,
    measuredSteps: Uint32Array.from(spec.instances, (inst) => Math.max(0, spec.steps - inst.measureFrom)),
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

/** Runs one instance; writes its rows of `res`. */
function runInstance(spec: MinimaxRunSpec, b: number, cols: MinimaxColumns, res: MinimaxRunResult, progress: (steps: number) => void): void {
  const inst: MinimaxInstance = spec.instances[b];
  const { nE, nI, nIn } = spec.networks[0];
  const n = nE + nI;
  const f = Math.fround;
  const { decayE, decayI, decayX } = makeDecays(inst);
  const probs = makeInputProbabilities(inst);
  const key = seedToKey(spec.seed);
  const id = inst.instanceId ?? b;
  const rng = rngCreate(key, 1, 0, id, 0);
  const { fromE, fromI, fromIn, fire } = cols;
  // Float32Array stores round to f32; for +, - and * of f32 operands the double result rounded once to f32
  // equals the f32 operation (53 >= 2 x 24 + 2), so `a[p] = a[p] + w` is fl(a + w).
  const a = new Float32Array(n);
  const bb = new Float32Array(n);
  const c = new Float32Array(n);
  const r = new Float32Array(n);
  const decayR = new Float32Array(n).fill(decayE, 0, nE).fill(decayI, nE);
  const spiking = new Int32Array(n);
  const inputs = new Int32Array(nIn);
  const spiked = new Uint8Array(n);
  const lastSpike = new Float64Array(n).fill(-1);
  const sums = new Float64Array(n * minimaxSumCount);
  const shiftE = new Float32Array(n);
  const shiftI = new Float32Array(n);
  const isiCount = new Uint32Array(n);
  const spikeCount = new Uint32Array(n);
  const words = res.rasterWords;
  const rasterFrom = spec.raster?.from ?? 0;
  const rasterEnd = spec.raster ? rasterFrom + spec.raster.steps : 0;
  const measureFrom = inst.measureFrom;
  // Progress about every 1e7 synaptic updates' worth of steps (a 40-neuron step is ~1e3 times cheaper than a grid step).
  const every = Math.max(16, Math.min(8192, 2 ** Math.floor(Math.log2(1e7 / (n * n)))));
  const lastSegment = inst.segments - 1;
  for (let s = 0; s < spec.steps; s++) {
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
    if (s >= measureFrom) for (let q = 0; q < ni; q++) res.inputCounts[b * nIn + inputs[q]]++;
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
    if (s >= rasterFrom && s < rasterEnd && res.raster) {
      const o = (b * spec.raster!.steps + (s - rasterFrom)) * words;
      for (let q = 0; q < ns; q++) res.raster[o + (spiking[q] >>> 5)] |= 1 << (spiking[q] & 31);
    }
    if ((s + 1) % every === 0) progress(every);
  }
  progress(spec.steps % every);
  res.spikeCounts.set(spikeCount, b * n);
  res.isiCount.set(isiCount, b * n);
  writeMinimaxMoments(res, b, { sums, shiftE, shiftI });
}

/** Runs every instance of the spec on the CPU (one after the other); same contract and f32 spikes as runMinimaxGpu. */
export function runMinimaxCpu(spec: MinimaxRunSpec, onProgress?: (done: number, total: number) => void): MinimaxRunResult {
  checkMinimaxSpec(spec);
  const t0 = performance.now();
  const res = makeMinimaxResult(spec, 'cpu');
  const cols = new Map<number, MinimaxColumns>();
  const total = spec.steps * spec.instances.length;
  let done = 0;
  const progress = (steps: number) => {
    done += steps;
    onProgress?.(done, total);
  };
  spec.instances.forEach((inst, b) => {
    let cl = cols.get(inst.network);
    if (!cl) cols.set(inst.network, (cl = makeMinimaxColumns(spec.networks[inst.network])));
    runInstance(spec, b, cl, res, progress);
  });
  res.wallSeconds = (performance.now() - t0) / 1000;
  return res;
}
