// `ei run binary`: a binary E-I network's entropy of the active count (GPU histogram and reduction) next to the annealed chain.
import { makeCsv } from '../../io/csv.ts';
import { makeReportHtml } from '../../report/html.ts';
import { makeLinePlot } from '../../report/svg.ts';
import { resolveParams } from '../../core/params.ts';
import { binaryParameters, makeBinaryParams } from './params.ts';
import { binaryLambda, CpuBinarySimulation } from './network.ts';
import { annealedChain } from './chain.ts';
import { WebGpuBinarySimulation } from './webgpu-simulation.ts';
import { parseSetAssignments, type ParsedArgs } from '../../cli/args.ts';
import { makeSummaryJson } from '../../io/summary-json.ts';
import { withResultSession } from '../../cli/result-session.ts';
import { defaultOutDir, makeAdapterRecord } from '../../cli/run-command.ts';
import { ParameterError } from '../../errors.ts';
import { resolveSteps } from '../../core/limits.ts';
import { estimateBinaryRun } from './experiment.ts';
import { checkBeforeSession, checkInSession } from '../../cli/run-options.ts';

export async function runBinaryCommand(a: ParsedArgs & { flags: { set: string[]; n?: number; steps?: number; 'record-every'?: number; seed: number; backend: string; adapter: string; quiet: boolean; overwrite: boolean; out?: string } }, argv: string[], engineVersion: string): Promise<number> {
  const f = a.flags;
  const p = resolveParams('binary', binaryParameters, parseSetAssignments(f.set));
  const N = f.n ?? 500;
  const bp = makeBinaryParams(p, N);
  const burnin = p.burnin as number;
  const { steps } = resolveSteps({ model: 'binary', steps: f.steps, dtDefault: 1, defaultT: burnin + 20_000 });
  if (steps <= burnin) throw new ParameterError('--steps', `${steps} steps leave nothing after burnin ${burnin}`, `use --steps above ${burnin}`);
  const every = f['record-every'] ?? 1;
  // The active count after step t (1-based) is kept when t is a multiple of --record-every, and after the last step.
  const kept = Math.floor(steps / every) + (steps % every !== 0 ? 1 : 0);
  const estimate = (backend: 'cpu' | 'webgpu') => estimateBinaryRun({ N, k: bp.k, erdosRenyi: bp.connectivity === 'erdos-renyi', steps, recordEvery: every }, { backend });
  checkBeforeSession(estimate(f.backend === 'cpu' ? 'cpu' : 'webgpu'), f);
  return withResultSession(
    { outPath: f.out ?? defaultOutDir('binary'), backend: f.backend as 'auto', adapter: f.adapter as 'auto', label: (b) => `binary on ${b}`, total: steps, unit: 'steps', quiet: f.quiet, overwrite: f.overwrite },
    async ({ sel, bar, out }) => {
      checkInSession(estimate(sel.backend), sel);
      const spec = { params: [bp], seed: f.seed, burnin };
      const sim = sel.backend === 'webgpu' ? await WebGpuBinarySimulation.create(sel.ctx!, spec) : new CpuBinarySimulation(spec);
      const counts = new Uint32Array(kept);
      let nKept = 0;
      const keep = (c: { stepStart: number; steps: number; counts: Uint32Array }) => {
        for (let s = 0; s < c.steps; s++) {
          const t = c.stepStart + s + 1;
          if (t % every === 0 || t === steps) counts[nKept++] = c.counts[s];
        }
      };
      const t0 = performance.now();
      try {
        await sim.run(steps, { onChunk: keep, onProgress: (d) => bar.update(d) });
        const wallSeconds = (performance.now() - t0) / 1000;
        const hist = await sim.histogram();
        const [entropyBits] = await sim.entropyBits();
        const total = hist.reduce((s, x) => s + x, 0);
        const meanActivity = hist.reduce((s, x, m) => s + x * m, 0) / total / N;
        const chain = annealedChain(bp);
        const summary = {
          model: 'binary', backend: sel.backend, N, k: bp.k, steps, burnin, seed: f.seed, wallSeconds,
          neuronUpdatesPerSecond: (N * steps) / wallSeconds,
          lambda: binaryLambda(bp),
          entropyBits,
          meanActivity,
          chain: { entropyBits: chain.entropyBits, meanActivity: chain.meanActivity, method: chain.method },
          maxEntropyBits: Math.log2(N + 1),
        };
        out.write('config.json', JSON.stringify({ engineVersion, command: ['ei', 'run', ...argv], createdAt: new Date().toISOString(), model: 'binary', params: p, network: bp, steps, recordEvery: every, seed: f.seed, backend: sel.backend, fallbackReason: sel.fallbackReason, adapter: makeAdapterRecord(sel), node: process.version, note: 'binary is a reconstruction of Agrawal et al. (2018) from the abstract' }, null, 2) + '\n');
        out.write('timeseries.csv', makeCsv(['step', 'activeCount'], Array.from(counts, (m, i) => [i === kept - 1 ? steps : (i + 1) * every, m])));
        out.write('histogram.csv', makeCsv(['m', 'count', 'chainProbability'], Array.from(hist, (c, m) => [m, c, chain.pi[m]])));
        const ms = Array.from({ length: N + 1 }, (_, m) => m);
        const svg = makeLinePlot({ title: 'Distribution of the active count m', x: { label: 'active neurons m', unit: '' }, y: { label: 'probability', unit: '' }, series: [{ name: 'simulation', x: ms, y: Array.from(hist, (c) => c / total), style: 'step' }, { name: 'annealed chain', x: ms, y: Array.from(chain.pi), style: 'dashed' }] });
        out.write('histogram.svg', svg);
        out.write('report.html', makeReportHtml({ title: 'ei run binary', subtitle: 'Entropy of the active count of a binary E-I network', sections: [{ heading: 'Summary', table: { columns: ['quantity', 'simulation', 'annealed chain'], rows: [['entropy (bits)', entropyBits, chain.entropyBits], ['mean activity', meanActivity, chain.meanActivity], ['lambda', summary.lambda, summary.lambda]] } }, { heading: 'Distribution of m', svg }], meta: { engineVersion, backend: sel.backend, N, k: bp.k, steps, seed: f.seed } }));
        out.write('summary.json', makeSummaryJson(summary));
        console.error(`ei: binary: N = ${N}, k = ${bp.k}, lambda ${summary.lambda.toFixed(3)}: entropy ${entropyBits.toFixed(3)} bits (chain ${chain.entropyBits.toFixed(3)}), mean activity ${meanActivity.toPrecision(4)} (chain ${chain.meanActivity.toPrecision(4)})`);
        console.log(out.path);
        return 0;
      } finally {
        sim.dispose();
      }
    },
  );
}
