// Memory and time of a whole sweep, checked from its grids before any point is expanded (a 1e7-point grid would
// otherwise spend minutes building objects, then run out of heap or run for years).
import { ParameterError } from '../errors.ts';
import { binaryChainEstimate, binaryMaxBatch, binaryStepSeconds } from '../models/binary/experiment.ts';
import type { GpuContext } from '../gpu/context.ts';
import { binaryParameters, makeBinaryParams } from '../models/binary/params.ts';
import { estimatePopulationRun, resolveExperimentShape } from '../models/poisson/experiment.ts';
import { checkRunLimits, formatCount, resolveSteps, rowHeapBytes, type MemoryItem, type RunEstimate } from '../core/limits.ts';
import { resolveParams } from '../core/params.ts';
import { resolveShard, type GridAxis } from '../core/sweep-grid.ts';

/** The `ei sweep` flags the estimate reads. */
export interface SweepLimitFlags {
  set: readonly string[];
  n?: number;
  steps?: number;
  T?: number;
  dt?: number;
  seed: number;
  backend: string;
  adapter: string;
  replicas: number;
  shard?: string;
  'max-batch'?: number;
}

function parseSet(items: readonly string[]): Record<string, string> {
  // The sweep commands parse --set themselves (and report its errors); here only well-formed items matter.
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq > 0) out[item.slice(0, eq).trim()] = item.slice(eq + 1).trim();
  }
  return out;
}

/** Instances of the whole sweep (points x replicas) and of this shard (round-robin: k belongs to shard k mod N). */
export function sweepInstanceCounts(grids: readonly GridAxis[], replicas: number, shard?: string): { total: number; points: number; mine: number } {
  const points = grids.reduce((s, g) => s * g.values.length, 1);
  const total = points * replicas;
  const sh = resolveShard({ shard });
  const mine = sh ? (total > sh.index ? Math.floor((total - 1 - sh.index) / sh.count) + 1 : 0) : total;
  return { total, points, mine };
}

/**
 * What a sweep needs: the expanded points and their parameters (all of them, before sharding), this shard's rows and
 * sweep.csv, one batch of instances at a time, and the time of all of this shard's instances.
 */
export function estimateSweep(model: string, grids: readonly GridAxis[], f: SweepLimitFlags, backend: 'cpu' | 'webgpu' = f.backend === 'cpu' ? 'cpu' : 'webgpu', ctx?: GpuContext | null): RunEstimate {
  const { total, points, mine } = sweepInstanceCounts(grids, f.replicas, f.shard);
  const g = grids.length;
  const gridOpts = ['--grid', '--replicas'];
  const memory: MemoryItem[] = [
    { what: 'expanded sweep points', bytes: total * (200 + 16 * g), place: 'heap', options: gridOpts },
    { what: "this shard's result rows", bytes: mine * (rowHeapBytes(3 + g + 9) + 100), place: 'heap', options: [...gridOpts, '--shard'] },
  ];
  const csv = { file: 'sweep.csv', rows: mine, bytes: mine * (30 + 20 * g + 9 * 20), options: [...gridOpts, '--shard'] };
  if (model === 'binary') {
    const base = resolveParams('binary', binaryParameters, parseSet(f.set));
    const N = f.n ?? 500;
    const bp = makeBinaryParams(base, N);
    const burnin = base.burnin as number;
    const { steps } = resolveSteps({ model: 'binary', steps: f.steps, dtDefault: 1, defaultT: burnin + 20_000 });
    const perBatch = Math.max(1, Math.min(f['max-batch'] ?? Infinity, binaryMaxBatch(N, backend, ctx ?? undefined), Math.max(1, mine)));
    memory.push(
      { what: 'resolved grid points', bytes: points * 700, place: 'heap', options: ['--grid'] },
      { what: 'states, counts and histograms of one batch', bytes: perBatch * (16 * N + 4), place: backend === 'cpu' ? 'host' : 'device', options: ['--n', '--max-batch'], binding: true },
    );
    if (backend === 'cpu' && perBatch * N * bp.k <= 1 << 26) memory.push({ what: 'cached partner lists of one batch', bytes: 4 * perBatch * N * bp.k, place: 'host', options: ['--n', 'binary.k'] });
    const chain = N <= 2000 ? binaryChainEstimate(N) : { bytes: 0, seconds: 0 };
    if (chain.bytes) memory.push({ what: 'annealed chain of one point', bytes: chain.bytes, place: 'host', options: ['--n'] });
    const per = binaryStepSeconds(N, bp.k, 1);
    const seconds = (kind: keyof typeof per) => mine * steps * per[kind] + points * chain.seconds;
    return {
      model: 'sweep binary',
      size: `${formatCount(mine)} of ${formatCount(total)} instances x --n ${formatCount(N)} x ${formatCount(steps)} steps`,
      memory,
      outputs: [csv],
      work: { units: mine * N * steps, unit: 'neuron updates', seconds: { cpu: seconds('cpu'), 'webgpu-software': seconds('webgpu-software'), 'webgpu-hardware': seconds('webgpu-hardware') }, options: [...gridOpts, '--n', '--steps'] },
    };
  }
  const shape = resolveExperimentShape({ model, set: parseSet(f.set), n: f.n, steps: f.steps, T: f.T, dt: f.dt, seed: f.seed, batch: Math.max(1, mine), recordEvery: Number.MAX_SAFE_INTEGER, backend });
  // Time of every instance of this shard; memory of the instances' parameters (all of them are resolved up front).
  const all = estimatePopulationRun(shape, { backend, isSoftware: ctx?.info.isSoftware });
  memory.push({ what: 'resolved instance parameters', bytes: total * 700, place: 'heap', options: gridOpts });
  return {
    model: `sweep ${model}`,
    size: `${formatCount(mine)} of ${formatCount(total)} instances x --n ${formatCount(shape.n)} x ${formatCount(shape.steps)} steps`,
    memory,
    outputs: [csv],
    work: { ...all.work, options: [...gridOpts, '--n', shape.stepsFlag] },
  };
}

/**
 * The check `ei sweep` runs right after parsing its grids, before makeSweepPoints: refuses a sweep whose points,
 * parameters, rows or sweep.csv cannot fit, or that would take far too long even on the fastest backend it may get
 * (the CPU reference's estimate is printed first when --backend cpu makes the sweep long).
 */
export function checkSweepLimits(model: string, grids: readonly GridAxis[], f: SweepLimitFlags): void {
  if (!Number.isInteger(f.replicas) || f.replicas < 1) throw new ParameterError('--replicas', `${f.replicas} is not a positive integer`, 'use --replicas 1 or more');
  const e = estimateSweep(model, grids, f);
  checkRunLimits(e, { backend: f.backend as 'auto', adapter: f.adapter }, (m) => console.error(m));
}

/** The same once the backend is chosen (first line of the session): device limits and the time estimate, printed first when long. */
export function checkSweepInSession(model: string, grids: readonly GridAxis[], f: SweepLimitFlags, sel: { backend: 'cpu' | 'webgpu'; ctx: GpuContext | null }): void {
  // With --backend cpu, checkSweepLimits has printed the estimate already.
  checkRunLimits(estimateSweep(model, grids, f, sel.backend, sel.ctx), { backend: sel.backend, ctx: sel.ctx }, f.backend === 'cpu' ? undefined : (m) => console.error(m));
}
