// `ei sweep binary`: every (grid point, replica) of a binary E-I sweep is one instance of a batched simulation; one CSV row each.
// The RNG coordinate of an instance is its sweep index, so rows do not depend on sharding or batching (merge with `ei merge`).
import type { RunOptionSupport, RunRequest, SweepDefinition } from '../../core/contract.ts';
import { formatCount, type MemoryItem, type RunEstimate } from '../../core/limits.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import { checkRequest, resolveSeed } from '../../core/request.ts';
import type { GridAxis, GridValue, SweepSchema } from '../../core/sweep-grid.ts';
import { ParameterError } from '../../errors.ts';
import { binaryChainEstimate, binaryChainOf, binaryMaxBatch, binaryStepSeconds, estimateBinaryWasm, runBinaryBatch } from './experiment.ts';
import { binaryLambda, type BinaryParams } from './network.ts';
import { binaryBurnin, binaryParameters, makeBinaryParams } from './params.ts';
import { binaryDefaultN, resolveBinarySteps } from './runner.ts';

/** Parameters a binary sweep may vary per instance (N and k are shared by a batch). */
const binarySweepable = ['WE', 'WI', 'alpha', 'p0'] as const;
const notSweepable = 'N and k are shared by a batch (fix them with --n and --set k=...)';
/** The annealed chain is solved per distinct point up to this N (GTH is O(N^3)); above it the chain columns are empty. */
const binarySweepChainMaxN = 2000;
const binarySweepColumns = ['lambda', 'entropyBits', 'meanActivity', 'chainEntropyBits', 'chainMeanActivity'];

/**
 * What a binary sweep row holds. The chain columns are empty in every row exactly when N > binarySweepChainMaxN (the
 * chain is not solved) and finite otherwise; lambda, entropyBits and meanActivity are always finite (the histogram has
 * steps - burnin > 0 samples). Nothing else may be empty or NaN.
 */
export const binarySweepSchema: SweepSchema = {
  resultColumns: binarySweepColumns,
  emptyColumns: (c) => (c.n > binarySweepChainMaxN ? Object.fromEntries(['chainEntropyBits', 'chainMeanActivity'].map((k) => [k, `the chain is not solved above N = ${binarySweepChainMaxN}`])) : {}),
  countColumns: [],
  // A ratio of integer histogram sums, so exactly within [0, 1].
  bounds: { meanActivity: [0, 1] },
  perPointColumns: ['lambda', 'chainEntropyBits', 'chainMeanActivity'],
  checkRow(row, params, config) {
    const lambda = binaryLambda({ N: config.n, k: config.k as number, alpha: params.alpha as number, WE: params.WE as number, WI: params.WI as number, p0: params.p0 as number });
    if (!(Math.abs(row.lambda - lambda) <= 1e-12 * Math.max(1, Math.abs(lambda)))) {
      return `field 'lambda' (${row.lambda}) disagrees with the point: (1 - alpha) WE - alpha WI = ${lambda}`;
    }
    return null;
  },
};

const discrete = 'the binary model is discrete-time: give --steps (default burnin + 20000)';
const oneRow = 'a sweep writes one row per instance (sweep.csv); for time series run `ei run binary`';

/** The run options a sweep takes: every instance is one network of --n neurons for --steps steps. */
const binarySweepOptions: RunOptionSupport = {
  takes: ['n', 'steps'],
  instead: { T: discrete, dt: discrete, batch: 'a sweep batches its instances itself (cap them with --max-batch); use --replicas for replicas', recordEvery: oneRow, recordSpikes: oneRow, recordTraces: oneRow, traceEvery: oneRow },
};

/** A resolved binary sweep: shared N, k, steps, burnin and connectivity, and the network of every distinct point. */
export interface BinarySweep {
  N: number;
  k: number;
  steps: number;
  burnin: number;
  seed: number;
  connectivity: BinaryParams['connectivity'];
  gridNames: readonly string[];
  /** The parameters not swept (resolved). */
  fixed: ParamValues;
  /** Whether the chain columns are filled (N <= binarySweepChainMaxN). */
  chain: boolean;
  /** The network of each distinct point, by pointKey. */
  networks: ReadonlyMap<string, BinaryParams>;
  /** Chain results of the points solved so far in this process, by pointKey. */
  chainCache: Map<string, { entropyBits: number; meanActivity: number }>;
}

function pointKey(gridNames: readonly string[], point: Readonly<Record<string, GridValue>>): string {
  return JSON.stringify(gridNames.map((g) => point[g]));
}

function checkGrids(request: RunRequest, grids: readonly GridAxis[]): void {
  for (const g of grids) {
    if (!(binarySweepable as readonly string[]).includes(g.name)) {
      throw new ParameterError('--grid', `'${g.name}' cannot be swept in one binary sweep`, `sweep ${binarySweepable.join(', ')}; ${notSweepable}`);
    }
    if (request.params && g.name in request.params) throw new ParameterError('--grid', `${g.name} is both swept and fixed with --set`, `drop --set ${g.name}=...`);
  }
}

export const binarySweep: SweepDefinition<BinarySweep> = {
  sweepable: { names: binarySweepable, why: notSweepable },
  schema: binarySweepSchema,
  resolve(request, points, grids) {
    checkRequest('binary', binarySweepOptions, request);
    checkGrids(request, grids);
    const N = request.n ?? binaryDefaultN;
    const gridNames = grids.map((g) => g.name);
    // Every distinct point first: a bad grid value fails (naming the field) before any simulation runs.
    const networks = new Map<string, BinaryParams>();
    let first: { p: ParamValues; network: BinaryParams } | null = null;
    for (const point of points) {
      const key = pointKey(gridNames, point);
      if (networks.has(key)) continue;
      const p = resolveParams('binary', binaryParameters, { ...request.params, ...point });
      const network = makeBinaryParams(p, N);
      first ??= { p, network };
      networks.set(key, network);
    }
    if (!first) throw new ParameterError('--grid', 'the sweep has no points', 'add at least one --grid name=start:stop:count');
    const burnin = binaryBurnin(first.p);
    const steps = resolveBinarySteps(request.steps, burnin);
    const { seed } = resolveSeed(request.seed);
    const fixed = Object.fromEntries(Object.entries(first.p).filter(([name]) => !gridNames.includes(name)));
    return { N, k: first.network.k, steps, burnin, seed, connectivity: first.network.connectivity, gridNames, fixed, chain: N <= binarySweepChainMaxN, networks, chainCache: new Map() };
  },
  estimate(request, grids, counts, target): RunEstimate {
    checkGrids(request, grids);
    const base = resolveParams('binary', binaryParameters, { ...request.params });
    const N = request.n ?? binaryDefaultN;
    const bp = makeBinaryParams(base, N);
    const burnin = binaryBurnin(base);
    const steps = resolveBinarySteps(request.steps, burnin);
    const backend = target.backend;
    const perBatch = Math.max(1, Math.min(counts.maxBatch ?? Infinity, binaryMaxBatch(N, backend, target.ctx ?? undefined), Math.max(1, counts.mine)));
    const wasm = backend === 'wasm' ? estimateBinaryWasm({ N, k: bp.k, batch: perBatch, erdosRenyi: bp.connectivity === 'erdos-renyi', threads: target.threads }, ['--n', '--max-batch']) : null;
    const memory: MemoryItem[] = [
      { what: 'resolved grid points', bytes: counts.points * 700, place: 'heap', options: ['--grid'] },
      ...(wasm ? wasm.items : [{ what: 'states, counts and histograms of one batch', bytes: perBatch * (16 * N + 4), place: backend === 'cpu' ? 'host' : 'device', options: ['--n', '--max-batch'], binding: true } satisfies MemoryItem]),
    ];
    if (backend === 'cpu' && perBatch * N * bp.k <= 1 << 26) memory.push({ what: 'cached partner lists of one batch', bytes: 4 * perBatch * N * bp.k, place: 'host', options: ['--n', 'binary.k'] });
    const chain = N <= binarySweepChainMaxN ? binaryChainEstimate(N) : { bytes: 0, seconds: 0 };
    if (chain.bytes) memory.push({ what: 'annealed chain of one point', bytes: chain.bytes, place: 'host', options: ['--n'] });
    const per = binaryStepSeconds(N, bp.k, 1, wasm?.regenerated);
    const seconds = (kind: keyof typeof per) => counts.mine * steps * per[kind] + Math.min(counts.points, counts.mine) * chain.seconds;
    return {
      model: 'sweep binary',
      size: `${formatCount(counts.mine)} of ${formatCount(counts.total)} instances x --n ${formatCount(N)} x ${formatCount(steps)} steps`,
      memory,
      outputs: [],
      work: { units: counts.mine * N * steps, unit: 'neuron updates', seconds: { cpu: seconds('cpu'), wasm: seconds('wasm'), 'webgpu-software': seconds('webgpu-software'), 'webgpu-hardware': seconds('webgpu-hardware') }, options: ['--grid', '--replicas', '--n', '--steps'] },
    };
  },
  maxBatch(s, target) {
    return binaryMaxBatch(s.N, target.backend, target.ctx ?? undefined);
  },
  async runBatch(s, group, target, control) {
    const keys = group.map((p) => pointKey(s.gridNames, p.point));
    const networks = keys.map((key) => {
      const bp = s.networks.get(key);
      if (!bp) throw new ParameterError('--grid', `point ${key} was not resolved`, 'pass the points of the sweep to resolve');
      return bp;
    });
    const res = await runBinaryBatch({
      points: networks,
      N: s.N,
      k: s.k,
      steps: s.steps,
      burnin: s.burnin,
      seed: s.seed,
      connectivity: s.connectivity,
      instanceIds: group.map((p) => p.index),
      backend: target.backend,
      ctx: target.ctx ?? undefined,
      threads: target.threads,
      maxBatch: group.length,
      onProgress: control.onProgress,
      signal: control.signal,
      onThreads: control.onThreads,
    });
    return res.map((r, i) => {
      let c: { entropyBits: number; meanActivity: number } | null = null;
      if (s.chain) {
        c = s.chainCache.get(keys[i]) ?? null;
        if (!c) s.chainCache.set(keys[i], (c = binaryChainOf(networks[i], s.N, s.k)));
      }
      return [r.lambda, r.entropyBits, r.meanActivity, c ? c.entropyBits : null, c ? c.meanActivity : null];
    });
  },
  config(s) {
    return {
      n: s.N,
      k: s.k,
      steps: s.steps,
      burnin: s.burnin,
      dt: null,
      fixed: s.fixed,
      chain: s.chain ? 'annealed chain (GTH / power iteration) per distinct point' : `not computed: N > ${binarySweepChainMaxN}`,
    };
  },
  neuronStepsPerInstance(s) {
    return s.N * s.steps;
  },
};
