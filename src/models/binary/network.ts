// Binary E-I network (reconstruction of Agrawal et al., Chaos 2018, after Larremore et al. 2011/2014):
// parameters, the per-instance struct values, procedural connectivity and the CPU reference, which
// mirrors shaders/binary/step.wgsl bit for bit.
//
// Model: N binary neurons, the last round(alpha N) inhibitory; neuron i has k distinct presynaptic
// partners != i, A_ij = +WE/k (j excitatory) or -WI/k (j inhibitory); synchronous update
// P[s_i(t+1) = 1] = p0 + (1 - p0) min(1, max(0, x_i)), x_i = sum_j A_ij s_j(t).
// Connectivity is regenerated every step from the RNG keyed (seed, CONNECT, step 0, instance, i):
// four words key a 4-round Feistel permutation of [0, 2^2h) >= [0, N - 1), cycle-walked into
// [0, N - 1); partners are the images of 0..k-1, shifted past i. They are distinct and != i by
// construction with O(1) memory per thread (no per-thread arrays on the GPU); the subset is
// pseudo-random (a keyed permutation), not an exactly uniform k-subset.
// Variant connectivity: 'erdos-renyi': neuron i's presynaptic set holds each j != i independently with
// probability p = k/(N-1) (in-degree ~ Bin(N-1, p), mean k), regenerated every step identically from the
// same CONNECT stream: candidates v in [0, N-1) (v >= i stands for v + 1) are walked with geometric skips
// G = floor(fl(detLog(u) * fl(1/ln(1-p)))), u ~ U(0,1) (rngUniform); exact in distribution up to the f32
// rounding of that product (the host computes the f32 factor once, so both backends use the same bits).
// Weights stay WE/k and WI/k (normalised by the mean in-degree). At most ~2.6e5 uniforms are drawn per
// neuron (the RNG's per-key block limit), hence k <= 2^17 for this variant.
// Extra statistics: the joint pattern of neurons [0, M) (bit i = s_i, M <= 16) after each step >= burnin,
// histogrammed per instance (2^M bins), and per-neuron active counts over the same steps, from which the
// mean single-neuron entropy (bits) is computed in f64 on the host — exact integers on both backends.
// x is computed from the integer counts a (active E partners) and b (active I partners) as
// fl(fl(a wE) - fl(b wI)), wE = fl(WE/k), wI = fl(WI/k), so it does not depend on summation order.
import { entropyBitsBatch } from '../../analysis/entropy.ts';
import { DisposedError, ParameterError } from '../../errors.ts';
import { maxSteps } from '../../core/limits.ts';
import { rngBernoulli, rngCreate, rngNextU32, rngReset, rngUniform, seedToKey, type Rng } from '../../rng/index.ts';
import { detLog } from '../../rng/detmath.ts';

export type BinaryConnectivity = 'fixed-indegree' | 'erdos-renyi';

export interface BinaryParams {
  /** Neurons per instance (same for every instance of a batch). */
  N: number;
  /** In-degree (same for every instance of a batch), k < N. */
  k: number;
  /** Inhibitory fraction in [0, 1): the last round(alpha N) neurons. */
  alpha: number;
  /** Total excitatory / inhibitory synaptic strengths (each synapse is W/k). */
  WE: number;
  WI: number;
  /** Spontaneous activation probability in [0, 1]. */
  p0: number;
  /** 'fixed-indegree' (default): exactly k partners; 'erdos-renyi': each j != i with probability k/(N-1). Same for the whole batch. */
  connectivity?: BinaryConnectivity;
}

export interface BinarySimulationSpec {
  params: BinaryParams[];
  seed: number;
  /** RNG instance coordinate per instance (default 0..batch-1). */
  instanceIds?: number[];
  /** Steps (0-based step index t, producing s(t+1)) below this are left out of the histogram. */
  burnin: number;
  chunkSteps?: number;
  /** M in [0, min(16, N)] (default 0 = off): neurons [0, M) form the joint pattern histogrammed per instance (2^M bins). */
  patternNeurons?: number;
}

export interface BinaryChunk {
  stepStart: number;
  steps: number;
  batch: number;
  /** [step][instance] active counts m(t+1) after each step t of the chunk. */
  counts: Uint32Array;
}

export interface BinaryRunOptions {
  onChunk?: (c: BinaryChunk) => void;
  onProgress?: (done: number, total: number) => void;
}

/**
 * The per-instance constants of shaders/binary/step.wgsl's BinaryInstance (weights already divided by k). The WebGPU
 * host packs these values as that struct, so a renamed WGSL field breaks the build there; the CPU reference uses them too.
 */
export interface BinaryInstanceValues {
  weightE: number;
  weightI: number;
  p0: number;
  oneMinusP0: number;
  /** Neurons [0, nE) are excitatory. */
  nE: number;
  pad0: number;
  pad1: number;
  pad2: number;
}

const binaryStreams = { connect: 1, update: 2, init: 3 } as const;
export const maxBinaryN = 1 << 20;
const maxPatternNeurons = 16;
/** Largest k for Erdos-Renyi connectivity (the per-neuron draws must stay far below the RNG's 2^18 words per key). */
export const maxErdosRenyiK = 1 << 17;

const f = Math.fround;
const partnerCacheLimit = 1 << 26;

/** lambda = (1 - alpha) WE - alpha WI: the mean row sum of A (boundary of the regimes near 1). */
export function binaryLambda(p: BinaryParams): number {
  return (1 - p.alpha) * p.WE - p.alpha * p.WI;
}

function binaryInhibitoryCount(p: BinaryParams): number {
  return Math.round(p.alpha * p.N);
}

function need(ok: boolean, field: string, problem: string, hint: string): void {
  if (!ok) throw new ParameterError(field, problem, hint);
}

/** Validates a spec; throws ParameterError naming the field. */
export function checkBinarySpec(spec: BinarySimulationSpec): void {
  need(Array.isArray(spec.params) && spec.params.length > 0, 'params', 'no instances', 'pass at least one BinaryParams');
  const { N, k } = spec.params[0];
  need(Number.isInteger(N) && N >= 2 && N <= maxBinaryN, 'N', `${N} is not an integer in [2, 2^20]`, 'use 2 <= N <= 1048576');
  need(Number.isInteger(k) && k >= 1 && k < N, 'k', `${k} is not an integer in [1, N)`, 'use 1 <= k < N');
  spec.params.forEach((p, b) => {
    need(p.N === N, `params[${b}].N`, `${p.N} differs from params[0].N = ${N}`, 'a batch shares N and k');
    need(p.k === k, `params[${b}].k`, `${p.k} differs from params[0].k = ${k}`, 'a batch shares N and k');
    need(Number.isFinite(p.alpha) && p.alpha >= 0 && p.alpha < 1, `params[${b}].alpha`, `${p.alpha} is not in [0, 1)`, 'use 0 <= alpha < 1');
    need(Number.isFinite(p.p0) && p.p0 >= 0 && p.p0 <= 1, `params[${b}].p0`, `${p.p0} is not in [0, 1]`, 'use 0 <= p0 <= 1');
    need(Number.isFinite(p.WE) && p.WE >= 0, `params[${b}].WE`, `${p.WE} is not a finite number >= 0`, 'use WE >= 0');
    need(Number.isFinite(p.WI) && p.WI >= 0, `params[${b}].WI`, `${p.WI} is not a finite number >= 0`, 'use WI >= 0');
    const c = p.connectivity ?? 'fixed-indegree';
    need(c === 'fixed-indegree' || c === 'erdos-renyi', `params[${b}].connectivity`, `${String(p.connectivity)} is not 'fixed-indegree' or 'erdos-renyi'`, "use 'fixed-indegree' or 'erdos-renyi'");
    need(c === binaryConnectivity(spec.params[0]), `params[${b}].connectivity`, `${c} differs from params[0]`, 'a batch shares its connectivity');
  });
  if (binaryConnectivity(spec.params[0]) === 'erdos-renyi') need(k <= maxErdosRenyiK, 'k', `${k} exceeds ${maxErdosRenyiK} for Erdos-Renyi connectivity`, 'use k <= 131072');
  if (spec.patternNeurons !== undefined) {
    const M = spec.patternNeurons;
    need(Number.isInteger(M) && M >= 0 && M <= Math.min(maxPatternNeurons, N), 'patternNeurons', `${M} is not an integer in [0, min(16, N)]`, 'use 0 <= patternNeurons <= 16');
  }
  seedToKey(spec.seed);
  if (spec.instanceIds !== undefined) {
    need(spec.instanceIds.length === spec.params.length, 'instanceIds', `${spec.instanceIds.length} ids for ${spec.params.length} instances`, 'give one id per instance');
    for (const id of spec.instanceIds) need(Number.isInteger(id) && id >= 0 && id <= 0xffffffff, 'instanceIds', `${id} is not a u32`, 'use integers in [0, 2^32)');
  }
  need(Number.isInteger(spec.burnin) && spec.burnin >= 0, 'burnin', `${spec.burnin} is not an integer >= 0`, 'use burnin >= 0');
  if (spec.chunkSteps !== undefined) need(Number.isInteger(spec.chunkSteps) && spec.chunkSteps >= 1, 'chunkSteps', `${spec.chunkSteps} is not an integer >= 1`, 'use chunkSteps >= 1');
}

/** Steps `done + steps` must stay within the u32 step counter of the kernel and the random streams. */
export function checkBinaryStepBudget(done: number, steps: number): void {
  if (!(Number.isInteger(steps) && steps >= 0)) throw new ParameterError('steps', `${steps} is not a whole number of steps`, 'run a non-negative integer number of steps');
  if (done + steps > maxSteps) throw new ParameterError('steps', `${done} + ${steps} steps passes the ${maxSteps} (2^32 - 1) a simulation can take (u32 step counter)`, `run at most ${maxSteps - done} more steps`);
}

export function binaryConnectivity(p: BinaryParams): BinaryConnectivity {
  return p.connectivity ?? 'fixed-indegree';
}

/** fl(1 / ln(1 - p)), p = k / (N - 1): the Erdos-Renyi skip factor (-0 when p = 1: every candidate is a partner). */
export function makeErScale(N: number, k: number): number {
  return f(1 / Math.log1p(-k / (N - 1)));
}

/** The per-instance struct values (shaders/binary/step.wgsl BinaryInstance). */
export function makeBinaryInstance(p: BinaryParams): BinaryInstanceValues {
  const p0 = f(p.p0);
  return { weightE: f(p.WE / p.k), weightI: f(p.WI / p.k), p0, oneMinusP0: f(1 - p0), nE: p.N - binaryInhibitoryCount(p), pad0: 0, pad1: 0, pad2: 0 };
}

/** Half the bit width of the Feistel domain: the least h >= 1 with 2^(2h) >= N - 1. */
export function makeHalfBits(N: number): number {
  let h = 1;
  while (2 ** (2 * h) < N - 1) h++;
  return h;
}

/** lowbias32 integer mixer (mirror of mix32). */
function mix32(v: number): number {
  let x = v >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d) >>> 0;
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

/** The Feistel keys of neuron i (mirror of the four rngNextU32 words drawn in stepBinaryNeurons). */
function makePartnerKeys(seed: readonly [number, number], instanceId: number, i: number, out = new Uint32Array(4), rng?: Rng): Uint32Array {
  const r = rng ? rngReset(rng, seed, binaryStreams.connect, 0, instanceId, i) : rngCreate(seed, binaryStreams.connect, 0, instanceId, i);
  for (let w = 0; w < 4; w++) out[w] = rngNextU32(r);
  return out;
}

/** The t-th partner of neuron i (mirror of partnerOf). */
export function partnerOf(keys: Uint32Array, t: number, i: number, N: number, halfBits: number): number {
  const mask = (1 << halfBits) - 1;
  let v = t;
  for (;;) {
    let l = v >>> halfBits;
    let r = v & mask;
    for (let round = 0; round < 4; round++) {
      const fr = mix32((r ^ keys[round]) >>> 0) & mask;
      const nl = r;
      r = l ^ fr;
      l = nl;
    }
    v = ((l << halfBits) | r) >>> 0;
    if (v < N - 1) break;
  }
  return v >= i ? v + 1 : v;
}

/** The k presynaptic partners of neuron i of an instance (procedural; identical on the GPU). */
export function makeBinaryPartners(seed: number, instanceId: number, i: number, N: number, k: number): Uint32Array {
  const keys = makePartnerKeys(seedToKey(seed), instanceId, i);
  const h = makeHalfBits(N);
  const out = new Uint32Array(k);
  for (let t = 0; t < k; t++) out[t] = partnerOf(keys, t, i, N, h);
  return out;
}

/**
 * The Erdos-Renyi presynaptic set of neuron i (mirror of the geometric-skip loop of stepBinaryNeurons), ascending,
 * never i. `emit` receives each partner; returns the set size.
 */
function forEachErPartner(seed: readonly [number, number], instanceId: number, i: number, N: number, erScale: number, emit: (j: number) => void, rng?: Rng): number {
  const r = rng ? rngReset(rng, seed, binaryStreams.connect, 0, instanceId, i) : rngCreate(seed, binaryStreams.connect, 0, instanceId, i);
  let v = 0;
  let size = 0;
  for (;;) {
    const g = f(detLog(rngUniform(r)) * erScale);
    if (g >= N - 1 - v) break;
    v += Math.floor(g);
    emit(v >= i ? v + 1 : v);
    size++;
    v += 1;
  }
  return size;
}

/** The Erdos-Renyi presynaptic set of neuron i (each j != i with probability k/(N-1); identical on the GPU). */
export function makeErPartners(seed: number, instanceId: number, i: number, N: number, k: number): Uint32Array {
  const out: number[] = [];
  forEachErPartner(seedToKey(seed), instanceId, i, N, makeErScale(N, k), (j) => out.push(j));
  return Uint32Array.from(out);
}

/** Binary entropy (bits) of an activity fraction c / T; 0 at c = 0 or c = T (or T = 0). */
function binaryEntropyBits(c: number, T: number): number {
  if (T <= 0 || c <= 0 || c >= T) return 0;
  const q = c / T;
  return -(q * Math.log2(q) + (1 - q) * Math.log2(1 - q));
}

/** Per instance: the mean over neurons of binaryEntropyBits(active count, post-burnin steps), from [instance][neuron] counts. */
export function meanSingleNeuronEntropyBits(active: Uint32Array, batch: number, N: number, steps: number): Float64Array {
  const out = new Float64Array(batch);
  for (let b = 0; b < batch; b++) {
    let s = 0;
    for (let i = 0; i < N; i++) s += binaryEntropyBits(active[b * N + i], steps);
    out[b] = s / N;
  }
  return out;
}

/** P[s_i(t+1) = 1] from the active partner counts, in the WGSL's f32 operation order. */
function makeActivationProbability(inst: BinaryInstanceValues, a: number, b: number): number {
  const drive = f(a * inst.weightE);
  const brake = f(b * inst.weightI);
  const x = f(drive - brake);
  const g = Math.min(1, Math.max(0, x));
  return f(inst.p0 + f(inst.oneMinusP0 * g));
}

/** CPU reference backend: same draws, same integers, same f32 roundings as the WebGPU backend. */
export class CpuBinarySimulation {
  readonly backend = 'cpu' as const;
  readonly n: number;
  readonly k: number;
  readonly batch: number;
  private readonly key: [number, number];
  private readonly ids: number[];
  private readonly instances: BinaryInstanceValues[];
  private readonly halfBits: number;
  private readonly chunkSteps: number;
  private cur: Uint32Array;
  private next: Uint32Array;
  private readonly hist: Uint32Array;
  private readonly er: boolean;
  private readonly erScale: number;
  private readonly M: number;
  private readonly patternHist: Uint32Array;
  private readonly active: Uint32Array;
  /** Partners per (instance, neuron), cached when small (they are fixed over time); else regenerated per step. */
  private readonly partners: Uint32Array | null;
  /** Erdos-Renyi cache: partners of (instance, neuron) c are partners[offsets[c] .. offsets[c + 1]). */
  private readonly offsets: Uint32Array | null = null;
  private readonly keys = new Uint32Array(4);
  private stepCount = 0;
  private disposed = false;

  constructor(private readonly spec: BinarySimulationSpec) {
    checkBinarySpec(spec);
    const { N, k } = spec.params[0];
    this.n = N;
    this.k = k;
    this.batch = spec.params.length;
    this.key = seedToKey(spec.seed);
    this.ids = spec.instanceIds ?? spec.params.map((_, b) => b);
    this.instances = spec.params.map(makeBinaryInstance);
    this.halfBits = makeHalfBits(N);
    this.chunkSteps = spec.chunkSteps ?? 1000;
    this.cur = new Uint32Array(this.batch * N);
    this.next = new Uint32Array(this.batch * N);
    this.hist = new Uint32Array(this.batch * (N + 1));
    this.er = binaryConnectivity(spec.params[0]) === 'erdos-renyi';
    this.erScale = this.er ? makeErScale(N, k) : 0;
    this.M = spec.patternNeurons ?? 0;
    this.patternHist = new Uint32Array(this.batch << this.M);
    this.active = new Uint32Array(this.batch * N);
    const cache = this.batch * N * k <= partnerCacheLimit;
    const rng = rngCreate(this.key, binaryStreams.init, 0, 0, 0);
    const keys = new Uint32Array(4);
    if (this.er && cache) {
      const list: number[] = [];
      this.offsets = new Uint32Array(this.batch * N + 1);
      for (let b = 0; b < this.batch; b++) {
        for (let i = 0; i < N; i++) {
          forEachErPartner(this.key, this.ids[b], i, N, this.erScale, (j) => list.push(j), rng);
          this.offsets[b * N + i + 1] = list.length;
        }
      }
      this.partners = Uint32Array.from(list);
    } else {
      this.partners = cache && !this.er ? new Uint32Array(this.batch * N * k) : null;
    }
    for (let b = 0; b < this.batch; b++) {
      for (let i = 0; i < N; i++) {
        this.cur[b * N + i] = rngBernoulli(rngReset(rng, this.key, binaryStreams.init, 0, this.ids[b], i), 0.5);
        if (!this.partners || this.er) continue;
        makePartnerKeys(this.key, this.ids[b], i, keys, rng);
        const base = (b * N + i) * k;
        for (let t = 0; t < k; t++) this.partners[base + t] = partnerOf(keys, t, i, N, this.halfBits);
      }
    }
  }

  get step(): number {
    return this.stepCount;
  }

  private assertLive(): void {
    if (this.disposed) throw new DisposedError('CpuBinarySimulation');
  }

  private stepOnce(counts: Uint32Array, row: number, rng: Rng): void {
    const { n, k } = this;
    const t = this.stepCount;
    const keys = this.keys;
    for (let b = 0; b < this.batch; b++) {
      const inst = this.instances[b];
      let m = 0;
      let pattern = 0;
      const post = t >= this.spec.burnin;
      for (let i = 0; i < n; i++) {
        let a = 0;
        let c = 0;
        const add = (j: number) => {
          const s = this.cur[b * n + j];
          if (j < inst.nE) a += s;
          else c += s;
        };
        if (this.er) {
          if (this.offsets) {
            for (let q = this.offsets[b * n + i]; q < this.offsets[b * n + i + 1]; q++) add(this.partners![q]);
          } else {
            forEachErPartner(this.key, this.ids[b], i, n, this.erScale, add, rng);
          }
        } else {
          const base = (b * n + i) * k;
          if (!this.partners) makePartnerKeys(this.key, this.ids[b], i, keys, rng);
          for (let q = 0; q < k; q++) add(this.partners ? this.partners[base + q] : partnerOf(keys, q, i, n, this.halfBits));
        }
        const s = rngBernoulli(rngReset(rng, this.key, binaryStreams.update, t, this.ids[b], i), makeActivationProbability(inst, a, c));
        this.next[b * n + i] = s;
        m += s;
        if (s === 1) {
          if (i < this.M) pattern |= 1 << i;
          if (post) this.active[b * n + i]++;
        }
      }
      counts[row * this.batch + b] = m;
      if (post) {
        this.hist[b * (n + 1) + m]++;
        this.patternHist[(b << this.M) + (pattern >>> 0)]++;
      }
    }
    [this.cur, this.next] = [this.next, this.cur];
    this.stepCount++;
  }

  async run(steps: number, options: BinaryRunOptions = {}): Promise<void> {
    this.assertLive();
    checkBinaryStepBudget(this.stepCount, steps);
    const rng = rngCreate(this.key, binaryStreams.update, 0, 0, 0);
    let done = 0;
    while (done < steps) {
      const m = Math.min(this.chunkSteps, steps - done);
      const stepStart = this.stepCount;
      const counts = new Uint32Array(m * this.batch);
      for (let s = 0; s < m; s++) this.stepOnce(counts, s, rng);
      done += m;
      options.onChunk?.({ stepStart, steps: m, batch: this.batch, counts });
      options.onProgress?.(done, steps);
    }
  }

  /** [instance][m], m in [0, N]. */
  async histogram(): Promise<Uint32Array> {
    this.assertLive();
    return this.hist.slice();
  }

  /** Shannon entropy (bits, f64) of each instance's histogram of m: the reference for the GPU reduction. */
  async entropyBits(): Promise<Float64Array> {
    this.assertLive();
    return entropyBitsBatch(this.hist, this.hist.length / (this.spec.params[0].N + 1), this.spec.params[0].N + 1);
  }

  /** [instance][pattern], pattern in [0, 2^M): steps t >= burnin by the joint state of neurons [0, M) after them (bit i = s_i). */
  async patternHistogram(): Promise<Uint32Array> {
    this.assertLive();
    return this.patternHist.slice();
  }

  /** [instance][neuron]: steps t >= burnin after which the neuron was active. */
  async activeCounts(): Promise<Uint32Array> {
    this.assertLive();
    return this.active.slice();
  }

  /** Per instance: mean over neurons of the binary entropy (bits) of each neuron's post-burnin activity fraction. */
  async meanSingleNeuronEntropyBits(): Promise<Float64Array> {
    this.assertLive();
    return meanSingleNeuronEntropyBits(this.active, this.batch, this.n, Math.max(0, this.stepCount - this.spec.burnin));
  }

  /** [instance][neuron] current states (0/1). */
  async readState(): Promise<Uint32Array> {
    this.assertLive();
    return this.cur.slice();
  }

  dispose(): void {
    this.disposed = true;
  }
}
