// Sweeps of any model: instance counts per shard and the estimate of a whole sweep from its grids.
import type { AnyModel, RunRequest, RunTarget, SweepCounts, SweepDefinition } from '../core/contract.ts';
import { rowHeapBytes, type MemoryItem, type RunEstimate } from '../core/limits.ts';
import { resolveShard, type GridAxis } from '../core/sweep-grid.ts';

/** Instances of the whole sweep (points x replicas) and of this shard (round-robin: k belongs to shard k mod N). */
export function sweepInstanceCounts(grids: readonly GridAxis[], replicas: number, shard?: string): { total: number; points: number; mine: number } {
  const points = grids.reduce((s, g) => s * g.values.length, 1);
  const total = points * replicas;
  const sh = resolveShard({ shard });
  const mine = sh ? (total > sh.index ? Math.floor((total - 1 - sh.index) / sh.count) + 1 : 0) : total;
  return { total, points, mine };
}

/**
 * What a sweep needs, from its grids before any point is expanded: the expanded points (all of them, before
 * sharding), this shard's rows and sweep.csv, and the model's own memory and time for this shard's instances.
 */
export function estimateModelSweep(def: AnyModel, sweep: SweepDefinition<unknown>, request: RunRequest, grids: readonly GridAxis[], counts: SweepCounts, target: RunTarget): RunEstimate {
  const g = grids.length;
  const cols = sweep.schema.resultColumns.length;
  const gridOpts = ['--grid', '--replicas'];
  const own = sweep.estimate(request, grids, counts, target);
  const memory: MemoryItem[] = [
    { what: 'expanded sweep points', bytes: counts.total * (200 + 16 * g), place: 'heap', options: gridOpts },
    { what: "this shard's result rows", bytes: counts.mine * (rowHeapBytes(3 + g + cols) + 100), place: 'heap', options: [...gridOpts, '--shard'] },
    ...own.memory,
  ];
  const csv = { file: 'sweep.csv', rows: counts.mine, bytes: counts.mine * (30 + 20 * g + cols * 20), options: [...gridOpts, '--shard'] };
  return { ...own, model: `sweep ${def.id}`, memory, outputs: [csv, ...own.outputs] };
}

