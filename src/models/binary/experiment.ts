// Batched binary E-I experiments: many (WE, WI, alpha, p0) points as the instances of one simulation (split into batches only
// when the device requires it), the annealed-chain reference per point, and robustness measures of entropy curves.
// Model: a reconstruction of Agrawal et al. (Chaos 28, 103115, 2018) from the abstract; see docs/models/binary-entropy.md.
// Every instance's RNG coordinate is its instance id (default: its position in `points`), so a point's result does not depend
// on how the points are batched or sharded.
import { ParameterError } from '../../errors.ts';
import type { GpuContext } from '../../gpu/context.ts';
import type { RunControl, RunTarget } from '../../core/contract.ts';
import { annealedChain, robustness, type RobustnessResult } from './chain.ts';
import { binaryLambda, CpuBinarySimulation, makeBinaryInstance, makeBinaryPartners, type BinaryChunk, type BinaryParams, type BinarySimulationSpec } from './network.ts';
import { WasmBinarySimulation, binaryDefaultThreads, wasmBinaryLayout } from './wasm-simulation.ts';
import { WebGpuBinarySimulation } from './webgpu-simulation.ts';
import { formatCount, rowHeapBytes, type MemoryItem, type RunEstimate, type TimeKind } from '../../core/limits.ts';

/** Any backend's simulation: the same methods, the same integers. */
export type BinarySimulation = CpuBinarySimulation | WasmBinarySimulation | WebGpuBinarySimulation;

/** The simulation of `spec` on the target's backend (webgpu needs the target's context; wasm takes its threads). */
export async function createBinarySimulation(spec: BinarySimulationSpec, target: RunTarget): Promise<BinarySimulation> {
  if (target.backend === 'cpu') return new CpuBinarySimulation(spec);
  if (target.backend === 'wasm') return WasmBinarySimulation.create({ ...spec, threads: target.threads });
  if (!target.ctx) throw new ParameterError('ctx', 'the webgpu backend needs a GPU context', 'pass target.ctx or use backend cpu');
  return WebGpuBinarySimulation.create(target.ctx, spec);
}

/** Steps per run() call of the simulation: the signal is honoured between them (the simulations' own chunk). */
const controlChunkSteps = 1000;

/** Advances `sim` by `steps`, a chunk at a time, stopping with the signal's reason (an AbortError) at a chunk boundary. */
export async function advanceBinary(sim: BinarySimulation, steps: number, control: RunControl<BinaryChunk> = {}): Promise<void> {
  let done = 0;
  while (done < steps) {
    control.signal?.throwIfAborted();
    const m = Math.min(controlChunkSteps, steps - done);
    const before = done;
    await sim.run(m, { onChunk: control.onChunk, onProgress: (d) => control.onProgress?.(before + d, steps) });
    done += m;
  }
}

export interface BinaryPoint {
  WE: number;
  WI: number;
  alpha: number;
  p0: number;
}

export interface BinaryBatchOptions {
  points: BinaryPoint[];
  N: number;
  k: number;
  steps: number;
  burnin: number;
  seed: number;
  /** RNG instance coordinate per point (default 0..points-1); results depend on (seed, id, point) only. */
  instanceIds?: number[];
  backend: 'cpu' | 'webgpu' | 'wasm';
  ctx?: GpuContext;
  /** wasm: worker threads (default: binaryDefaultThreads). */
  threads?: number;
  /** Cap on instances per simulation (default: as many as the device's binding limits hold). */
  maxBatch?: number;
  /** Connectivity of every instance (default fixed-indegree). */
  connectivity?: BinaryParams['connectivity'];
  /** Also solve the annealed chain per distinct point (default false). */
  chain?: boolean;
  onProgress?: (done: number, total: number) => void;
  /** wasm: told the worker threads the run uses (per simulation) once they are started. */
  onThreads?: (threads: number) => void;
  /** Stops the batch at a chunk boundary (with the signal's reason). */
  signal?: AbortSignal;
}

export interface BinaryPointResult {
  lambda: number;
  entropyBits: number;
  meanActivity: number;
  /** Var(m) over the post-burn-in steps (m = active count); Var(m) / N is the susceptibility of the activity. */
  countVariance: number;
  chainEntropyBits?: number;
  chainMeanActivity?: number;
}

/** Instances per simulation the backend holds for N neurons (state 2 N x 4 B, histogram (N + 1) x 4 B per instance). */
export function binaryMaxBatch(N: number, backend: 'cpu' | 'webgpu' | 'wasm', ctx?: GpuContext, cap = 16_384): number {
  // wasm: 16 bytes per neuron of wasm memory (wasm-simulation.ts), 3.2e8 bytes at this bound, far below wasm32's 4 GiB.
  if (backend !== 'webgpu' || !ctx) return Math.max(1, Math.min(cap, Math.floor(2e7 / N)));
  const maxBinding = ctx.device.limits.maxStorageBufferBindingSize;
  return Math.max(1, Math.min(cap, Math.floor(maxBinding / (8 * N)), Math.floor(maxBinding / (4 * (N + 1)))));
}

/**
 * Seconds per step of one binary instance of N neurons with in-degree k. Rough constants from bench/results on a 2-core
 * machine: the CPU reference ~1.2e6 neuron updates/s plus ~7e7 synaptic reads/s; SwiftShader ~6e5 plus ~6e6 reads/s and
 * ~0.5 ms per workgroup and step; a hardware GPU is assumed at ~1e9 neuron updates/s. wasm, one thread on a loaded
 * 2-core machine: ~3e7 neuron updates/s plus ~8e8 synaptic reads/s from a partner table, ~1.5e8 reads/s where the
 * partners are regenerated (`regenerated`: the table does not fit, see wasmBinaryLayout).
 */
export function binaryStepSeconds(N: number, k: number, batch: number, regenerated = false): Record<TimeKind, number> {
  return {
    cpu: (batch * N * (1 + k / 60)) / 1.2e6,
    wasm: batch * N * (3e-8 + k / (regenerated ? 1.5e8 : 8e8)),
    'webgpu-software': 1e-4 + batch * (Math.ceil(N / 2048) * 5e-4 + (N * (1 + k / 10)) / 6e5),
    'webgpu-hardware': 2e-5 + batch * N * (1 + k / 10) * 1e-9,
  };
}

/**
 * Memory and time of the annealed chain of one point (rows Bin(.; N, s) kept where they exceed 1e-300: about
 * 37 sqrt(N s (1 - s)) entries, taken at s = 1/2 for half the rows; dense GTH up to N = 1500). Measured: 8 s at
 * N = 2000 and 106 s at N = 20000 on a 2-core machine.
 */
export function binaryChainEstimate(N: number): { bytes: number; seconds: number } {
  const rows = N + 1;
  const band = Math.min(rows, 37 * Math.sqrt(N) + 1);
  const dense = N <= 1500 ? rows * rows * 8 : 0;
  return { bytes: rows * band * 4 + rows * 8 + dense, seconds: 2e-8 * rows * rows + 5e-3 * N };
}

/**
 * The wasm memory of `batch` instances: states, counts and histograms (16 bytes per neuron and the chunk's counts), and
 * each thread's partner table; `regenerated` when a table does not fit and the partners are regenerated every step.
 */
export function estimateBinaryWasm(s: { N: number; k: number; batch: number; erdosRenyi: boolean; threads?: number }, options: readonly string[]): { items: MemoryItem[]; regenerated: boolean } {
  const { N, k, batch } = s;
  const th = s.threads ?? binaryDefaultThreads(N, k, batch);
  const L = wasmBinaryLayout({ N, k, batch, threads: th, erdosRenyi: s.erdosRenyi });
  const scratch = th * L.scratchBytes;
  const threads = `${th} thread${th === 1 ? '' : 's'}`;
  const items: MemoryItem[] = [
    { what: 'states, active counts, histograms and chunk counts (wasm memory)', bytes: L.bytes - scratch, place: 'host', options },
    { what: L.tables ? `partner tables (wasm memory, ${threads})` : `one neuron's partners per thread (wasm memory, ${threads}; the tables exceed the cache)`, bytes: scratch, place: 'host', options: [...options, 'binary.k'] },
  ];
  return { items, regenerated: !L.tables };
}

/** What `ei run binary` needs: one instance of N neurons, its per-step active counts (every `recordEvery`-th kept), the histogram and the annealed chain. */
export function estimateBinaryRun(s: { N: number; k: number; erdosRenyi: boolean; steps: number; recordEvery: number }, o: { backend: 'cpu' | 'webgpu' | 'wasm'; threads?: number }): RunEstimate {
  const { N, k, steps, recordEvery } = s;
  const rows = Math.floor(steps / recordEvery) + (steps % recordEvery !== 0 ? 1 : 0);
  const chain = binaryChainEstimate(N);
  const wasm = o.backend === 'wasm' ? estimateBinaryWasm({ N, k, batch: 1, erdosRenyi: s.erdosRenyi, threads: o.threads }, ['--n']) : null;
  const memory: MemoryItem[] = [
    ...(wasm ? wasm.items : [{ what: 'states, active counts and histogram', bytes: 16 * N + 4, place: o.backend === 'cpu' ? 'host' : 'device', options: ['--n'], binding: true } satisfies MemoryItem]),
    { what: 'kept active counts', bytes: 4 * rows, place: 'host', options: ['--steps', '--record-every'], elements: rows },
    { what: 'time series rows', bytes: rows * rowHeapBytes(2), place: 'heap', options: ['--steps', '--record-every'] },
    { what: 'histogram rows and plot', bytes: (N + 1) * (rowHeapBytes(3) + 200), place: 'heap', options: ['--n'] },
    { what: 'annealed chain (report reference)', bytes: chain.bytes, place: 'host', options: ['--n'] },
  ];
  if (o.backend === 'cpu' && N * k <= 1 << 26) {
    memory.push({ what: 'cached partner lists', bytes: 4 * N * k, place: 'host', options: ['--n', 'binary.k'], elements: N * k });
    if (s.erdosRenyi) memory.push({ what: 'Erdos-Renyi partner list (building)', bytes: 9 * N * k, place: 'heap', options: ['--n', 'binary.k'] });
  }
  const per = binaryStepSeconds(N, k, 1, wasm?.regenerated);
  const seconds = (kind: TimeKind) => steps * per[kind] + chain.seconds;
  return {
    model: 'binary',
    size: `--n ${formatCount(N)} (k = ${formatCount(k)}) x ${formatCount(steps)} steps`,
    memory,
    outputs: [
      { file: 'timeseries.csv', rows, bytes: rows * 16, options: ['--steps', '--record-every'] },
      { file: 'histogram.csv', rows: N + 1, bytes: (N + 1) * 40, options: ['--n'] },
      { file: 'report.html', rows: N + 1, bytes: (N + 1) * 100, options: ['--n'] },
    ],
    work: { units: N * steps, unit: 'neuron updates', seconds: { cpu: seconds('cpu'), wasm: seconds('wasm'), 'webgpu-software': seconds('webgpu-software'), 'webgpu-hardware': seconds('webgpu-hardware') }, analysisSeconds: chain.seconds, options: ['--n', '--steps'] },
  };
}

/** The annealed chain of one point (N, k fixed). */
export function binaryChainOf(p: BinaryPoint, N: number, k: number): { entropyBits: number; meanActivity: number } {
  const r = annealedChain({ N, k, alpha: p.alpha, WE: p.WE, WI: p.WI, p0: p.p0 });
  return { entropyBits: r.entropyBits, meanActivity: r.meanActivity };
}

/** Runs every point as an instance of one batched simulation (several if the device limit requires). */
export async function runBinaryBatch(o: BinaryBatchOptions): Promise<BinaryPointResult[]> {
  const { points, N, k, steps, burnin, seed } = o;
  if (points.length === 0) throw new ParameterError('points', 'no points', 'pass at least one {WE, WI, alpha, p0}');
  if (!Number.isInteger(steps) || steps <= burnin) throw new ParameterError('steps', `${steps} steps leave nothing after burnin ${burnin}`, `use steps > burnin (${burnin})`);
  if (o.instanceIds && o.instanceIds.length !== points.length) throw new ParameterError('instanceIds', `${o.instanceIds.length} ids for ${points.length} points`, 'give one id per point');
  const ids = o.instanceIds ?? points.map((_, i) => i);
  const per = Math.max(1, Math.min(o.maxBatch ?? Infinity, binaryMaxBatch(N, o.backend, o.ctx)));
  const out: BinaryPointResult[] = new Array(points.length);
  for (let start = 0; start < points.length; start += per) {
    const group = points.slice(start, start + per);
    const params: BinaryParams[] = group.map((p) => ({ N, k, alpha: p.alpha, WE: p.WE, WI: p.WI, p0: p.p0, connectivity: o.connectivity }));
    const spec = { params, seed, instanceIds: ids.slice(start, start + per), burnin };
    const sim = await createBinarySimulation(spec, { backend: o.backend, ctx: o.ctx, threads: o.threads });
    try {
      if (sim instanceof WasmBinarySimulation) o.onThreads?.(sim.threads);
      await advanceBinary(sim, steps, { signal: o.signal, onProgress: (d, t) => o.onProgress?.(start + (group.length * d) / t, points.length) });
      const hist = await sim.histogram();
      const H = await sim.entropyBits();
      for (let b = 0; b < group.length; b++) {
        let total = 0;
        let sum = 0;
        let sum2 = 0;
        for (let m = 0; m <= N; m++) {
          const c = hist[b * (N + 1) + m];
          total += c;
          sum += c * m;
          sum2 += c * m * m;
        }
        const mean = sum / total;
        out[start + b] = { lambda: binaryLambda(params[b]), entropyBits: H[b], meanActivity: mean / N, countVariance: Math.max(0, sum2 / total - mean * mean) };
      }
    } finally {
      sim.dispose();
    }
  }
  if (o.chain) {
    const cache = new Map<string, { entropyBits: number; meanActivity: number }>();
    points.forEach((p, i) => {
      const key = `${p.WE},${p.WI},${p.alpha},${p.p0}`;
      let c = cache.get(key);
      if (!c) cache.set(key, (c = binaryChainOf(p, N, k)));
      out[i].chainEntropyBits = c.entropyBits;
      out[i].chainMeanActivity = c.meanActivity;
    });
  }
  return out;
}

export const perturbationDeltas = [-0.3, -0.1, 0.1, 0.3] as const;

export interface BinaryRobustness extends RobustnessResult {
  /** Mean H over W -> W (1 + delta), delta in perturbationDeltas (both WE and WI scaled). */
  meanPerturbedH: number;
  /** meanPerturbedH / H at the unperturbed point. */
  perturbedRatio: number;
}

/** Robustness of one entropy curve in lambda, plus the mean entropy at the perturbed points (their H in `perturbedH`). */
export function binaryRobustness(curve: ReadonlyArray<{ lambda: number; H: number }>, H0: number, perturbedH: readonly number[]): BinaryRobustness {
  const r = robustness(curve);
  const meanPerturbedH = perturbedH.reduce((s, x) => s + x, 0) / perturbedH.length;
  return { ...r, meanPerturbedH, perturbedRatio: H0 > 0 ? meanPerturbedH / H0 : NaN };
}

/** Fractions of neuron-steps whose input x was clipped by sigma (x < 0: below, x > 1: above). */
export interface BinaryClipping {
  below: number;
  above: number;
}

/**
 * Measures how often sigma = min(1, max(0, x)) clips the input in the simulated network (fixed in-degree only): runs the
 * points (instance ids as in runBinaryBatch, so the same quenched networks) through burn-in, then every `every`-th of the
 * following steps reads the state and recomputes every neuron's x from its partners exactly as the kernel does.
 */
export async function measureBinaryClipping(o: Omit<BinaryBatchOptions, 'chain' | 'maxBatch' | 'connectivity' | 'signal'> & { every: number }): Promise<BinaryClipping[]> {
  const { points, N, k, seed, burnin } = o;
  const ids = o.instanceIds ?? points.map((_, i) => i);
  const params: BinaryParams[] = points.map((p) => ({ N, k, alpha: p.alpha, WE: p.WE, WI: p.WI, p0: p.p0 }));
  const batch = points.length;
  const partners = new Uint32Array(batch * N * k);
  for (let b = 0; b < batch; b++) for (let i = 0; i < N; i++) partners.set(makeBinaryPartners(seed, ids[b], i, N, k), (b * N + i) * k);
  const inst = params.map(makeBinaryInstance);
  const below = new Float64Array(batch);
  const above = new Float64Array(batch);
  let samples = 0;
  const sim = await createBinarySimulation({ params, seed, instanceIds: ids, burnin }, { backend: o.backend, ctx: o.ctx, threads: o.threads });
  try {
    await advanceBinary(sim, burnin);
    for (let done = burnin; done < o.steps; done += o.every) {
      if (done > burnin) await sim.run(o.every);
      const s = await sim.readState();
      for (let b = 0; b < batch; b++) {
        const { weightE, weightI, nE } = inst[b];
        for (let i = 0; i < N; i++) {
          let a = 0;
          let c = 0;
          const base = (b * N + i) * k;
          for (let t = 0; t < k; t++) {
            const j = partners[base + t];
            if (s[b * N + j]) {
              if (j < nE) a++;
              else c++;
            }
          }
          // The kernel's x: fl(fl(a wE) - fl(b wI)), see network.ts.
          const x = Math.fround(Math.fround(a * weightE) - Math.fround(c * weightI));
          if (x < 0) below[b]++;
          else if (x > 1) above[b]++;
        }
      }
      samples++;
      o.onProgress?.(done, o.steps);
    }
  } finally {
    sim.dispose();
  }
  return points.map((_, b) => ({ below: below[b] / (samples * N), above: above[b] / (samples * N) }));
}
