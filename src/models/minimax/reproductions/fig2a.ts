// Fig. 2a of Li & Pehlevan 2020: the E-I network as an input decoder. With the spec's weights the minimax problem reduces to
// min_{rE >= 0} 1/2 ||x - H rE||^2 + beta/2 ||rE||^2, so the readout H rE of the spiking network reconstructs the input x.
import { makeCsv } from '../../../io/csv.ts';
import { makeReportHtml } from '../../../report/html.ts';
import { makeScatter } from '../../../report/svg.ts';
import { makeConstantInputInstance } from '../network.ts';
import { runMinimaxSpec } from '../runner.ts';
import { empiricalInputRatesHz, pearson } from '../analysis.ts';
import { decoderTarget, makeDecoderNetwork } from '../networks.ts';
import type { Reproduction } from '../../../core/contract.ts';
import { minimaxCpuBeatsSoftware } from '../params.ts';
import { fmt, minimaxSource, quickNote, type Check } from './shared.ts';
import { checksSection } from '../../../report/checks.ts';

export const minimaxFig2a: Reproduction = {
  id: 'minimax-fig2a',
  title: 'Minimax spiking E-I network as a decoder: the readout H r_E reconstructs the input',
  source: `${minimaxSource}; experiment 2 (their Fig. 2a)`,
  cpuBeatsSoftware: minimaxCpuBeatsSoftware,
  description:
    'm = 10 inputs, NE = 60, NI = 10, H = pinv(|N(0,1)|) scaled by 1/std(H)/NE, beta = 6e-3/NE, tau = 1, dt = 1e-3. Each of 20 input vectors ' +
    '(10 Poisson rates U(0,50) Hz) is held 100 s; the vectors run as independent instances of one batch (the network restarts from rest for each, ' +
    'where the paper ran them back to back). Readout = H times the mean of r_E over the second half of each presentation; x = the empirical input rates over the same half (tau = 1). ' +
    '--quick: 6 input vectors held 20 s.',
  async run(c) {
    const dec = makeDecoderNetwork(c.seed);
    const { network, H, inputs } = dec;
    const m = network.nIn;
    const vectors = c.quick ? inputs.slice(0, 6) : inputs;
    const tau = 1;
    const dt = 1e-3;
    const steps = Math.round((c.quick ? 20 : 100) / dt);
    const res = await runMinimaxSpec(
      { networks: [network], instances: vectors.map((x, b) => makeConstantInputInstance(0, tau, dt, x, steps / 2, b)), steps, seed: c.seed },
      { backend: c.backend, ctx: c.ctx, threads: c.threads },
      { onProgress: c.onProgress },
    );
    const N = network.nE + network.nI;
    const xs: number[] = [];
    const ys: number[] = [];
    const ts: number[] = [];
    const rows: number[][] = [];
    vectors.forEach((_, b) => {
      // The input as the network saw it: the empirical rates of this presentation's measured half (x = rate tau).
      const x = empiricalInputRatesHz(res, b, m, dt);
      const rE = res.meanTrace.subarray(b * N, b * N + network.nE);
      const target = decoderTarget(H, dec.beta, x);
      for (let k = 0; k < m; k++) {
        let y = 0;
        let t = 0;
        for (let i = 0; i < network.nE; i++) {
          y += H[k * network.nE + i] * rE[i];
          t += H[k * network.nE + i] * target[i];
        }
        xs.push(x[k] * tau);
        ys.push(y);
        ts.push(t);
        rows.push([b, k, x[k] * tau, y, t]);
      }
    });
    const norm = (a: number[], b: number[]) => Math.sqrt(a.reduce((s, v, i) => s + (v - b[i]) ** 2, 0)) / Math.sqrt(b.reduce((s, v) => s + v * v, 0));
    const corr = pearson(xs, ys);
    const relError = norm(ys, xs);
    const theoryRelError = norm(ts, xs);
    const simVsTheory = norm(ys, ts);
    c.out.write('reconstruction.csv', makeCsv(['vector', 'channel', 'input', 'readout', 'theoryReadout'], rows));
    const svg = makeScatter({
      title: 'Input vs readout H r_E',
      x: { label: 'input x (rate x tau)', unit: '' },
      y: { label: 'readout', unit: '' },
      series: [
        { name: 'spiking network', x: xs, y: ys, style: 'points' },
        { name: 'optimum of the reduced problem', x: xs, y: ts, style: 'points' },
      ],
      identity: { name: 'y = x' },
    });
    c.out.write('reconstruction.svg', svg);
    const checks: Check[] = [
      { name: 'readout correlates with the input', expected: 'corr(input, readout) about 0.999 (>= 0.995)', measured: fmt(corr, 5), pass: corr >= 0.995 },
      // The regularised optimum itself misses x by theoryRelError; the spiking network adds sampling noise on top.
      { name: 'relative reconstruction error', expected: 'about 5 % (<= 8 %)', measured: `${fmt(100 * relError, 2)} % (optimum of the reduced problem: ${fmt(100 * theoryRelError, 2)} %)`, pass: relError <= 0.08 },
    ];
    c.out.write('report.html', makeReportHtml({
      title: 'minimax-fig2a: input reconstruction',
      subtitle: this.title,
      sections: [
        { heading: 'Run', text: `${quickNote(c.quick, `${vectors.length} input vectors x ${steps} steps`)}\n\n${this.description}` },
        checksSection(checks),
        {
          heading: 'Against the reduced problem',
          text:
            `The optimum of min_{rE >= 0} 1/2 ||x - H rE||^2 + beta/2 ||rE||^2 misses x by ${fmt(100 * theoryRelError, 2)} % (the ridge term shrinks the readout), ` +
            `and the spiking readout lies ${fmt(100 * simVsTheory, 2)} % (relative to |x|) from that optimum, on the other side of x: the synchronous spiking network ` +
            'does not settle on the regularised optimum. With W_EE,ii = -beta the E reset is tiny, so an E neuron keeps firing on consecutive steps until the I ' +
            'feedback of the next step arrives; the readout overshoots by about as much as the ridge term undershoots. Not a claim of the paper; reported, not checked.',
        },
        { heading: 'Input vs readout', svg },
      ],
      meta: { seed: c.seed, backend: c.backend, quick: c.quick, steps, wallSeconds: res.wallSeconds },
    }));
    return { summary: { corr, relError, theoryRelError, simVsTheory, vectors: vectors.length, steps, simulationSeconds: res.wallSeconds }, checks };
  },
};
