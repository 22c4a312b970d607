// Pure outputs of `ei run binary`: a binary E-I network's entropy of the active count (GPU histogram and reduction) next to the annealed chain.
import type { RunInfo, RunOutputs } from '../../core/contract.ts';
import type { BinaryResolved, BinaryResult } from './runner.ts';
import { makeCsv } from '../../io/csv.ts';
import { makeLinePlot } from '../../report/svg.ts';

/** Why a summary value is not finite: only before any post-burn-in step (an empty histogram). */
function explainBinaryNonFinite(result: BinaryResult): (path: readonly (string | number)[]) => string | undefined {
  return () => (result.steps <= result.burnin ? `no step after the burn-in (${result.steps} of ${result.burnin} burn-in steps run): the histogram of m is empty` : undefined);
}

/** Pure: summary fields, timeseries.csv, histogram.csv / .svg and the report of one binary run. */
export function makeBinaryOutputs(result: BinaryResult, _r: BinaryResolved, _info: RunInfo): RunOutputs {
  const { N, k, histogram: hist, chain } = result;
  const total = hist.reduce((s, x) => s + x, 0);
  const ms = Array.from({ length: N + 1 }, (_, m) => m);
  const svg = makeLinePlot({
    title: 'Distribution of the active count m',
    x: { label: 'active neurons m', unit: '' },
    y: { label: 'probability', unit: '' },
    series: [
      { name: 'simulation', x: ms, y: Array.from(hist, (c) => c / total), style: 'step' },
      { name: 'annealed chain', x: ms, y: Array.from(chain.pi), style: 'dashed' },
    ],
  });
  const ts = result.timeseries;
  return {
    summary: {
      N,
      k,
      burnin: result.burnin,
      lambda: result.lambda,
      entropyBits: result.entropyBits,
      meanActivity: result.meanActivity,
      chain: { entropyBits: chain.entropyBits, meanActivity: chain.meanActivity, method: chain.method },
      maxEntropyBits: Math.log2(N + 1),
    },
    explainNonFinite: explainBinaryNonFinite(result),
    files: [
      { name: 'timeseries.csv', content: makeCsv(['step', 'activeCount'], Array.from(ts.activeCount, (m, i) => [ts.steps[i], m])) },
      { name: 'histogram.csv', content: makeCsv(['m', 'count', 'chainProbability'], Array.from(hist, (c, m) => [m, c, chain.pi[m]])) },
      { name: 'histogram.svg', content: svg },
    ],
    report: {
      title: 'ei run binary',
      subtitle: 'Entropy of the active count of a binary E-I network',
      sections: [
        {
          heading: 'Summary',
          table: {
            columns: ['quantity', 'simulation', 'annealed chain'],
            rows: [
              ['entropy (bits)', result.entropyBits, chain.entropyBits],
              ['mean activity', result.meanActivity, chain.meanActivity],
              ['lambda', result.lambda, result.lambda],
            ],
          },
        },
        { heading: 'Distribution of m', svg },
      ],
    },
    line: `binary: N = ${N}, k = ${k}, lambda ${result.lambda.toFixed(3)}: entropy ${result.entropyBits.toFixed(3)} bits (chain ${chain.entropyBits.toFixed(3)}), mean activity ${result.meanActivity.toPrecision(4)} (chain ${chain.meanActivity.toPrecision(4)})`,
  };
}
