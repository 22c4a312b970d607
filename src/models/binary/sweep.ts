// `ei sweep binary`: every (grid point, replica) of a binary E-I sweep is one instance of a batched simulation; one CSV row each.
// The RNG coordinate of an instance is its sweep index, so rows do not depend on sharding or batching (merge with `ei merge`).
import { ParameterError } from '../../errors.ts';
import { resolveParams, type ParamValues } from '../../core/params.ts';
import { makeEmptyShardNote, makeSweepPoints, parseGridSpec, resolveShard, selectShard, shardDigests, sweepHashOf, type SweepSchema } from '../../core/sweep-grid.ts';
import { binaryChainOf, runBinaryBatch, binaryMaxBatch } from './experiment.ts';
import { makeCsv, type CsvCell } from '../../io/csv.ts';
import { binaryLambda } from './network.ts';
import { binaryParameters, makeBinaryParams } from './params.ts';
import { seedToKey } from '../../rng/index.ts';
import { makeHelpText, parseArgs, parseSetAssignments, type ArgSpec } from '../../cli/args.ts';
import { withResultSession } from '../../cli/result-session.ts';
import { checkSweepInSession, checkSweepLimits } from '../../engine/sweep-limits.ts';
import { defaultOutDir, makeAdapterRecord, simulationFlags } from '../../cli/run-command.ts';

const sweepBinarySpec = {
  command: 'ei sweep binary',
  description:
    'Sweeps the binary E-I network (a reconstruction of Agrawal et al. 2018): every grid point x replica is one instance of a batched simulation. ' +
    'Writes DIR/sweep.csv (index, pointIndex, replica, grid parameters, lambda, entropyBits, meanActivity, chainEntropyBits, chainMeanActivity), config.json and summary.json.',
  positionals: [{ name: 'model', help: 'binary', required: true }],
  flags: {
    ...simulationFlags,
    grid: { type: 'strings', valueName: 'name=start:stop:count', help: 'swept parameter (WE, WI, alpha, p0; repeatable): start:stop:count, start:stop:count:log or a,b,c' },
    replicas: { type: 'integer', min: 1, default: 1, help: 'independent replicas (network and noise) per grid point' },
    shard: { type: 'string', valueName: 'i/N', help: 'run only shard i of N (0-based; also from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX)' },
    'max-batch': { type: 'integer', min: 1, help: 'cap on instances per simulation (default: as many as fit the device)' },
    out: { type: 'string', help: 'result folder (default results/binary-sweep-<time>)' },
  },
} as const satisfies ArgSpec;

/** Parameters a binary sweep may vary per instance (N and k are shared by a batch). */
export const binarySweepable = ['WE', 'WI', 'alpha', 'p0'] as const;
/** The annealed chain is solved per distinct point up to this N (GTH is O(N^3)); above it the chain columns are empty. */
export const binarySweepChainMaxN = 2000;
export const binarySweepColumns = ['lambda', 'entropyBits', 'meanActivity', 'chainEntropyBits', 'chainMeanActivity'];

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

export async function sweepBinaryCommand(argv: string[], engineVersion: string): Promise<number> {
  const a = parseArgs(argv, sweepBinarySpec);
  if (a.help) {
    console.log(makeHelpText(sweepBinarySpec));
    return 0;
  }
  const f = a.flags;
  if (f.T !== undefined) throw new ParameterError('--T', 'the binary model is discrete-time', 'use --steps');
  if (f.dt !== undefined) throw new ParameterError('--dt', 'the binary model is discrete-time', 'use --steps');
  if (f.grid.length === 0) throw new ParameterError('--grid', 'no grid given', 'add at least one --grid name=start:stop:count, e.g. --grid WE=0.5:8:64');
  const grids = f.grid.map((g) => parseGridSpec(g, '--grid', { id: 'binary', parameters: binaryParameters }));
  const set = parseSetAssignments(f.set);
  for (const g of grids) {
    if (!(binarySweepable as readonly string[]).includes(g.name)) {
      throw new ParameterError('--grid', `'${g.name}' cannot be swept in one binary sweep`, `sweep ${binarySweepable.join(', ')}; N and k are shared by a batch (fix them with --n and --set k=...)`);
    }
    if (g.name in set) throw new ParameterError('--grid', `${g.name} is both swept and fixed with --set`, `drop --set ${g.name}=...`);
  }
  checkSweepLimits('binary', grids, f);
  const points = makeSweepPoints(grids, f.replicas);
  const shard = resolveShard({ shard: f.shard });
  const mine = selectShard(points, shard);
  const emptyNote = makeEmptyShardNote(points.length, shard, mine.length);
  if (emptyNote) console.error(emptyNote);
  const N = f.n ?? 500;
  // Resolve every distinct point first: a bad grid value fails (naming the field) before any simulation runs.
  const nPoints = points.length / f.replicas;
  const resolved: ParamValues[] = [];
  for (let p = 0; p < nPoints; p++) resolved.push(resolveParams('binary', binaryParameters, { ...set, ...points[p * f.replicas].point }));
  const bps = resolved.map((r) => makeBinaryParams(r, N));
  const { k } = bps[0];
  const burnin = resolved[0].burnin as number;
  const steps = f.steps ?? burnin + 20_000;
  if (steps <= burnin) throw new ParameterError('--steps', `${steps} steps leave nothing after burnin ${burnin}`, `use --steps above ${burnin} (or --set burnin=...)`);
  seedToKey(f.seed);
  const gridNames = grids.map((g) => g.name);
  const fixed = Object.fromEntries(Object.entries(resolved[0]).filter(([name]) => !gridNames.includes(name)));
  return withResultSession(
    { outPath: f.out ?? defaultOutDir('binary-sweep'), overwrite: f.overwrite, backend: f.backend as 'auto', adapter: f.adapter as 'auto', label: (b) => `sweep binary on ${b}`, total: mine.length, unit: 'instances', quiet: f.quiet },
    async ({ sel, bar, out }) => {
      checkSweepInSession('binary', grids, f, sel);
      const perBatch = Math.min(f['max-batch'] ?? Infinity, binaryMaxBatch(N, sel.backend, sel.ctx ?? undefined));
      const t0 = performance.now();
      const res = await runBinaryBatch({
        points: mine.map((s) => bps[s.pointIndex]),
        N, k, steps, burnin, seed: f.seed,
        connectivity: bps[0].connectivity,
        instanceIds: mine.map((s) => s.index),
        backend: sel.backend,
        ctx: sel.ctx ?? undefined,
        maxBatch: perBatch,
        onProgress: (d) => bar.update(d),
      });
      const wallSeconds = (performance.now() - t0) / 1000;
      const chainCache = new Map<number, { entropyBits: number; meanActivity: number }>();
      const chainOf = (pi: number) => {
        let c = chainCache.get(pi);
        if (!c) chainCache.set(pi, (c = binaryChainOf(bps[pi], N, k)));
        return c;
      };
      const rows: CsvCell[][] = mine.map((s, i) => {
        const r = res[i];
        const c = N <= binarySweepChainMaxN ? chainOf(s.pointIndex) : null;
        return [s.index, s.pointIndex, s.replica, ...gridNames.map((g) => s.point[g]), r.lambda, r.entropyBits, r.meanActivity, c ? c.entropyBits : null, c ? c.meanActivity : null];
      });
      const columns = ['index', 'pointIndex', 'replica', ...gridNames, ...binarySweepColumns];
      const csv = makeCsv(columns, rows);
      const config: Record<string, unknown> = {
        engineVersion,
        command: ['ei', 'sweep', ...argv],
        createdAt: new Date().toISOString(),
        model: 'binary',
        n: N,
        k,
        steps,
        burnin,
        dt: null,
        seed: f.seed,
        rngKey: seedToKey(f.seed),
        fixed,
        grids,
        replicas: f.replicas,
        totalInstances: points.length,
        columns,
        shard,
        shardSelection: 'round-robin: sweep index i belongs to shard i mod N; the RNG instance coordinate of a row is its sweep index, so results do not depend on sharding or batching',
        chain: N <= binarySweepChainMaxN ? 'annealed chain (GTH / power iteration) per distinct point' : `not computed: N > ${binarySweepChainMaxN}`,
        backend: sel.backend,
        fallbackReason: sel.fallbackReason,
        adapter: makeAdapterRecord(sel),
        node: process.version,
        note: 'binary is a reconstruction of Agrawal et al. (2018) from the abstract',
      };
      config.sweepHash = sweepHashOf(config);
      out.write('sweep.csv', csv);
      out.write('config.json', JSON.stringify(config, null, 2) + '\n');
      // Written last, with the digests `ei merge` checks the other two files against.
      out.write('summary.json', JSON.stringify({ model: 'binary', backend: sel.backend, instances: rows.length, totalInstances: points.length, shard, perBatch, N, k, steps, wallSeconds, neuronUpdatesPerSecond: (rows.length * N * steps) / wallSeconds, ...shardDigests(config, csv) }, null, 2) + '\n');
      console.error(`ei: sweep binary: ${rows.length} of ${points.length} instances on ${sel.backend} (up to ${perBatch} per batch) in ${wallSeconds.toFixed(2)} s`);
      console.log(out.path);
      return 0;
    },
  );
}
