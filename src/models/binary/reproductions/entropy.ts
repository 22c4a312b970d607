// Reproductions of the binary E-I entropy paper (Agrawal et al., arXiv 1804.05266, Chaos 2018), reconstructed from its abstract only
// (see docs/models/binary-entropy.md): entropy heat map with the lambda = 1 boundary, entropy and robustness along the boundary
// vs synaptic strength, the inhibitory fraction at WE = WI, and simulation vs the annealed chain with N / k scaling.
// Every check states its criterion before the run; a claim that the run does not show is reported with pass = false.
import { makeCsv } from '../../../io/csv.ts';
import { makeReportHtml } from '../../../report/html.ts';
import { makeHeatmap, makeLinePlot } from '../../../report/svg.ts';
import { annealedChain, boundaryW, clippedInputFractions, isBimodal, meanFieldBoundary, type MeanFieldVariant } from '../chain.ts';
import { binaryChainEstimate, binaryChainOf, binaryRobustness, binaryStepSeconds, measureBinaryClipping, perturbationDeltas, runBinaryBatch, type BinaryPoint, type BinaryPointResult } from '../experiment.ts';
import { ParameterError } from '../../../errors.ts';
import { claimsSection, claimsToChecks, makeClaim, type Claim } from './claims.ts';
import type { Reproduction, ReproductionContext } from '../../../core/contract.ts';
import { checksSection, type Check } from '../../../report/checks.ts';


const modelNote =
  'Model: a reconstruction from the abstract only (binary neurons, fixed in-degree k with procedural partners, A = +WE/k / -WI/k, ' +
  'P[s = 1] = p0 + (1 - p0) min(1, max(0, x)), entropy = Shannon entropy in bits of the distribution of the active count m after burn-in). ' +
  'lambda = (1 - alpha) WE - alpha WI. Numbers are not the paper\'s; the claims are the abstract\'s.';

function linspace(a: number, b: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (n === 1 ? a : a + ((b - a) * i) / (n - 1)));
}

const fmt = (x: number, d = 3) => (Number.isFinite(x) ? x.toFixed(d) : String(x));

function runNote(c: Pick<ReproductionContext, 'quick' | 'fullSize' | 'samples' | 'networks'>, what: string): string {
  const size = c.fullSize ? 'FULL SIZE (for a hardware GPU)' : c.quick ? 'QUICK SIZES (CI)' : 'DEFAULT SIZES (N = 1000, k = 100; about an hour on a 2-core machine with --backend wasm)';
  const samples = `${c.samples !== undefined ? ` with --samples ${c.samples} post-burn-in steps per point` : ''}${c.networks !== undefined ? ` with --networks ${c.networks}` : ''}`;
  const caveat = c.quick && c.samples === undefined ? ' Small networks and short runs: entropies from ~1e3 samples are biased low and noisy; this shows trends, not converged values.' : '';
  return `${size}${samples} (${what}).${caveat}`;
}

interface Sizes {
  N: number;
  k: number;
  steps: number;
  burnin: number;
  /** Independent networks per point: replica r of point p is instance p * networks + r, with its own connectivity draw. */
  networks: number;
}

/** The size for this run (quick, default or --full-size); --samples replaces the post-burn-in steps, --networks the networks per point. */
function makeSizes(c: Pick<ReproductionContext, 'quick' | 'fullSize' | 'samples' | 'networks'>, sizes: { quick: Sizes; standard: Sizes; full?: Sizes }): Sizes {
  if (c.fullSize && !sizes.full) throw new ParameterError('--full-size', 'this reproduction has no full size', 'drop --full-size (binary-heatmap has one)');
  const s = c.fullSize ? sizes.full! : c.quick ? sizes.quick : sizes.standard;
  return { ...s, ...(c.samples !== undefined ? { steps: s.burnin + c.samples } : {}), ...(c.networks !== undefined ? { networks: c.networks } : {}) };
}

/** The estimate printed before a run: instance-steps of each simulated size, in seconds per backend kind. */
function planOf(runs: { N: number; k: number; instances: number; steps: number }[], chainSolves: { N: number; count: number }[], what: string): string {
  const kinds = [['cpu', 'cpu'], ['wasm', 'wasm (one thread of a 2-core machine)'], ['webgpu-software', 'webgpu SwiftShader'], ['webgpu-hardware', 'webgpu hardware GPU']] as const;
  // Dense GTH (N <= 1500) measured at ~1 s for N = 1000 on a shared 2-core machine (N^3 / 3 multiply-adds); above, the power-iteration estimate.
  const chain = chainSolves.reduce((a, z) => a + z.count * (z.N <= 1500 ? 1e-9 * z.N ** 3 : binaryChainEstimate(z.N).seconds), 0);
  const total = (kind: (typeof kinds)[number][0]) => runs.reduce((a, r) => a + r.steps * binaryStepSeconds(r.N, r.k, r.instances)[kind], 0) + chain;
  const human = (t: number) => (t < 120 ? `${t.toFixed(0)} s` : t < 7200 ? `${(t / 60).toFixed(0)} min` : `${(t / 3600).toFixed(1)} h`);
  const work = runs.reduce((a, r) => a + r.instances * r.steps, 0);
  return `${what}: ${work.toExponential(2)} instance-steps; estimated ${kinds.map(([k, name]) => `${name} ~${human(total(k))}`).join(', ')} (annealed chains ~${human(chain)} of it, on the CPU)`;
}

/** One point: the network mean of each measure, and every network's own result. */
interface PointStats extends BinaryPointResult {
  nets: BinaryPointResult[];
}

/** A point's value for network `net`, or the network mean for net = -1. */
function valueAt(p: PointStats, net: number, f: (x: BinaryPointResult) => number): number {
  return f(net < 0 ? p : p.nets[net]);
}

/** Runs points x networks as one batch (instance id = firstId + point * networks + network). */
async function simulate(c: ReproductionContext, points: BinaryPoint[], s: Sizes, progress?: (d: number, t: number) => void, firstId = 0): Promise<PointStats[]> {
  const all = points.flatMap((p) => Array.from({ length: s.networks }, () => p));
  const r = await runBinaryBatch({ points: all, N: s.N, k: s.k, steps: s.steps, burnin: s.burnin, seed: c.seed, instanceIds: all.map((_, i) => firstId + i), backend: c.backend, ctx: c.ctx ?? undefined, threads: c.threads, onProgress: progress ?? c.onProgress });
  return points.map((_, i) => {
    const nets = r.slice(i * s.networks, (i + 1) * s.networks);
    const mean = (f: (x: BinaryPointResult) => number) => nets.reduce((a, x) => a + f(x), 0) / nets.length;
    return { lambda: nets[0].lambda, entropyBits: mean((x) => x.entropyBits), meanActivity: mean((x) => x.meanActivity), countVariance: mean((x) => x.countVariance), nets };
  });
}

/** Index of the largest f over items (first on ties). */
function argmax<T>(items: readonly T[], f: (x: T) => number): number {
  let best = 0;
  for (let i = 1; i < items.length; i++) if (f(items[i]) > f(items[best])) best = i;
  return best;
}

/** Networks plus the mean: -1, 0, .., networks - 1. */
const netsAndMean = (networks: number) => [-1, ...Array.from({ length: networks }, (_, r) => r)];
const netName = (net: number) => (net < 0 ? 'mean' : `network ${net}`);

/** Spearman rank correlation (average ranks on ties). */
function spearman(x: readonly number[], y: readonly number[]): number {
  const rank = (v: readonly number[]) => {
    const idx = v.map((_, i) => i).sort((a, b) => v[a] - v[b]);
    const r = new Array<number>(v.length);
    for (let i = 0; i < idx.length; ) {
      let j = i;
      while (j + 1 < idx.length && v[idx[j + 1]] === v[idx[i]]) j++;
      for (let t = i; t <= j; t++) r[idx[t]] = (i + j) / 2;
      i = j + 1;
    }
    return r;
  };
  const rx = rank(x);
  const ry = rank(y);
  const mx = rx.reduce((a, b) => a + b, 0) / rx.length;
  const my = ry.reduce((a, b) => a + b, 0) / ry.length;
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < rx.length; i++) {
    sxy += (rx[i] - mx) * (ry[i] - my);
    sxx += (rx[i] - mx) ** 2;
    syy += (ry[i] - my) ** 2;
  }
  return sxx > 0 && syy > 0 ? sxy / Math.sqrt(sxx * syy) : NaN;
}

// ---------------------------------------------------------------------------------------------------------------------------

const heatmapSizes = {
  quick: { N: 200, k: 20, steps: 250, burnin: 50, networks: 2 },
  standard: { N: 1000, k: 100, steps: 21_000, burnin: 1000, networks: 2 },
  full: { N: 1000, k: 100, steps: 51_000, burnin: 1000, networks: 4 },
};

/** Grid side, and the stride of the grid points (and rows) that get the annealed chain: at most 25 x 25 chains (each ~1 s at N = 1000). */
function heatmapGrid(c: Pick<ReproductionContext, 'quick' | 'fullSize'>): { G: number; stride: number } {
  const G = c.fullSize ? 100 : c.quick ? 12 : 24;
  return { G, stride: Math.ceil(G / 25) };
}

export const binaryHeatmap: Reproduction = {
  acceptsSamples: true,
  acceptsNetworks: true,
  acceptsFullSize: true,
  id: 'binary-heatmap',
  title: 'Binary E-I network: entropy over (W_E, W_I) peaks at the boundary between inhibition- and excitation-dominant dynamics; where that boundary lies',
  source: 'Agrawal et al. 2018 (arXiv 1804.05266), reconstructed from the abstract; experiment 1 of docs/models/binary-entropy.md',
  description:
    'Entropy of the active count over a (W_E, W_I) grid at alpha = 0.2, p0 = 1e-3, every grid point x network one instance of one batched simulation (each network its own ' +
    'connectivity draw). Boundaries drawn: lambda = 1; the annealed chain\'s mean-field boundary (largest slope p\'(S*) of the fixed point reached from silence, with the clipped ' +
    'sigma and with the clipping moved to the mean input); where the chain\'s stationary law is bimodal; and the simulation\'s own boundary, the peak of the activity variance ' +
    'Var(m) / N along each W_I row. The fraction of clipped inputs (x < 0 or x > 1) is measured in the same networks at the simulated boundary. --full-size: 100 x 100, 4 networks, 5e4 samples.',
  plan(c) {
    const s = makeSizes(c, heatmapSizes);
    const { G, stride } = heatmapGrid(c);
    const chains = Math.ceil(G / stride) ** 2;
    return planOf([{ N: s.N, k: s.k, instances: G * G * s.networks, steps: s.steps }], [{ N: s.N, count: chains }], `binary-heatmap ${G} x ${G} x ${s.networks} networks, N = ${s.N}, k = ${s.k}, ${s.steps} steps`);
  },
  async run(c) {
    const s = makeSizes(c, heatmapSizes);
    const { G, stride } = heatmapGrid(c);
    const alpha = 0.2;
    const p0 = 1e-3;
    const WEs = linspace(0.5, 4, G);
    const WIs = linspace(0.5, 8, G);
    const points: BinaryPoint[] = WIs.flatMap((WI) => WEs.map((WE) => ({ WE, WI, alpha, p0 })));
    const clipRows = WIs.map((_, iy) => iy).filter((iy) => iy % Math.max(1, Math.round(G / (c.quick ? 4 : 8))) === 0 || iy === G - 1);
    const clipSteps = s.burnin + (c.quick ? 100 : 2000);
    const clipEvery = c.quick ? 5 : 10;
    const simWork = points.length * s.networks * s.steps;
    const clipWork = clipRows.length * s.networks * clipSteps;
    const res = await simulate(c, points, s, (d, t) => c.onProgress((simWork * d) / t, simWork + clipWork));
    const lambdaStep = (1 - alpha) * (WEs[1] - WEs[0]);
    const nets = netsAndMean(s.networks);
    const H = (net: number, iy: number, ix: number) => valueAt(res[iy * G + ix], net, (x) => x.entropyBits);
    const V = (net: number, iy: number, ix: number) => valueAt(res[iy * G + ix], net, (x) => x.countVariance);
    const ixs = WEs.map((_, ix) => ix);
    // Per row and network: the W_E of maximal entropy and of maximal activity variance (the simulation's boundary).
    const peaks = nets.map((net) => WIs.map((_, iy) => ({ H: argmax(ixs, (ix) => H(net, iy, ix)), V: argmax(ixs, (ix) => V(net, iy, ix)) })));
    const peakOf = (net: number) => peaks[net + 1];
    // Annealed chain on every stride-th point: stationary entropy, mean activity, bimodality.
    const chainIdx = new Map<number, { H: number; act: number; bimodal: boolean }>();
    for (let iy = 0; iy < G; iy += stride) {
      for (let ix = 0; ix < G; ix += stride) {
        const ch = annealedChain({ N: s.N, k: s.k, alpha, WE: WEs[ix], WI: WIs[iy], p0 });
        chainIdx.set(iy * G + ix, { H: ch.entropyBits, act: ch.meanActivity, bimodal: isBimodal(ch.pi) });
      }
    }
    const rows = WIs.map((WI, iy) => {
      if (iy % stride !== 0) return null;
      const base = { N: s.N, k: s.k, alpha, WI, p0 };
      const mfClip = meanFieldBoundary(base, WEs);
      const mfFree = meanFieldBoundary(base, WEs, 'mean-input');
      const bi = WEs.filter((_, ix) => chainIdx.get(iy * G + ix)?.bimodal);
      const chainRow = WEs.map((_, ix) => chainIdx.get(iy * G + ix)).filter((x) => x !== undefined);
      const chainPeak = argmax(chainRow, (x) => x!.H) * stride;
      const p = peakOf(-1)[iy];
      return {
        WI,
        lambdaEntropyPeak: res[iy * G + p.H].lambda,
        lambdaVariancePeak: res[iy * G + p.V].lambda,
        WEEntropyPeak: WEs[p.H],
        WEVariancePeak: WEs[p.V],
        perNetwork: peaks.slice(1).map((q) => ({ lambdaEntropyPeak: res[iy * G + q[iy].H].lambda, lambdaVariancePeak: res[iy * G + q[iy].V].lambda })),
        meanField: { WE: mfClip.WE, lambda: mfClip.lambda, slope: mfClip.slope, S: mfClip.S, bistable: mfClip.bistable },
        meanFieldNoClip: { WE: mfFree.WE, lambda: mfFree.lambda, slope: mfFree.slope },
        chainEntropyPeakLambda: (1 - alpha) * WEs[chainPeak] - alpha * WI,
        chainBimodalWE: bi.length ? [bi[0], bi[bi.length - 1]] : null,
      };
    });
    const chainRows = rows.filter((r) => r !== null);
    // The fraction of clipped inputs in the same networks (same instance ids) at each measured row's simulated boundary.
    const clipPts = clipRows.flatMap((iy) => Array.from({ length: s.networks }, () => points[iy * G + peakOf(-1)[iy].V]));
    const clipIds = clipRows.flatMap((iy) => Array.from({ length: s.networks }, (_, r) => (iy * G + peakOf(-1)[iy].V) * s.networks + r));
    const clipped = await measureBinaryClipping({ points: clipPts, N: s.N, k: s.k, steps: clipSteps, burnin: s.burnin, seed: c.seed, instanceIds: clipIds, backend: c.backend, ctx: c.ctx ?? undefined, threads: c.threads, every: clipEvery, onProgress: (d) => c.onProgress(simWork + (clipWork * d) / clipSteps, simWork + clipWork) });
    const clipTable = clipRows.map((iy, j) => {
      const pt = points[iy * G + peakOf(-1)[iy].V];
      const r = res[iy * G + peakOf(-1)[iy].V];
      const per = clipped.slice(j * s.networks, (j + 1) * s.networks);
      const chainPred = clippedInputFractions({ N: s.N, k: s.k, ...pt }, r.meanActivity);
      const mean = (f: (x: { below: number; above: number }) => number) => per.reduce((a, x) => a + f(x), 0) / per.length;
      return { WI: pt.WI, WE: pt.WE, lambda: r.lambda, meanActivity: r.meanActivity, below: mean((x) => x.below), above: mean((x) => x.above), perNetwork: per, chainBelow: chainPred.below, chainAbove: chainPred.above };
    });
    let gi = 0;
    for (let i = 1; i < res.length; i++) if (res[i].entropyBits > res[gi].entropyBits) gi = i;

    const third = Math.max(1, Math.floor(G / 3));
    const rowShift = (net: number, iy: number) => Math.abs(res[iy * G + peakOf(net)[iy].V].lambda - 1);
    const meanOver = (xs: number[]) => xs.reduce((a, x) => a + x, 0) / xs.length;
    const claims: Claim[] = [
      makeClaim(
        { claim: 'entropy is highest at the boundary, taken as lambda = 1', source: 'abstract', criterion: `per W_I row the W_E of maximal entropy has |lambda - 1| <= ${fmt(lambdaStep)} (one grid step) in >= 80% of ${G} rows`, opposite: 'fewer than 50% of the rows' },
        s.networks,
        (net) => peakOf(net).filter((q, iy) => Math.abs(res[iy * G + q.H].lambda - 1) <= lambdaStep + 1e-12).length / G,
        (f) => f >= 0.8,
        (f) => f < 0.5,
        (f) => `${fmt(100 * f, 0)}% of rows`,
      ),
      makeClaim(
        { claim: 'entropy is highest at the boundary, taken as the simulation\'s own (the activity-variance peak)', source: 'abstract', criterion: `per W_I row the W_E of maximal entropy is within one W_E grid step of the W_E of maximal Var(m) in >= 80% of ${G} rows`, opposite: 'fewer than 50% of the rows', note: 'added to the lambda = 1 criterion: lambda = 1 is the boundary of the linearised mean field only' },
        s.networks,
        (net) => peakOf(net).filter((q) => Math.abs(q.H - q.V) <= 1).length / G,
        (f) => f >= 0.8,
        (f) => f < 0.5,
        (f) => `${fmt(100 * f, 0)}% of rows`,
      ),
      makeClaim(
        { claim: 'deep in the inhibition-dominant regime the entropy is far below the peak', source: 'abstract', criterion: 'max H over lambda < 0.5 < 0.5 x the global maximum', opposite: 'max H over lambda < 0.5 >= 0.9 x the global maximum' },
        s.networks,
        (net) => {
          const all = res.map((r) => valueAt(r, net, (x) => x.entropyBits));
          return { below: Math.max(...res.map((r, i) => (r.lambda < 0.5 ? all[i] : -Infinity))), peak: Math.max(...all) };
        },
        (v) => v.below < 0.5 * v.peak,
        (v) => v.below >= 0.9 * v.peak,
        (v) => `${fmt(v.below)} vs peak ${fmt(v.peak)} bits`,
      ),
      makeClaim(
        { claim: 'strong synapses move the boundary away from lambda = 1', source: 'mechanism (issue)', criterion: `mean |lambda_varpeak - 1| over the ${third} strongest-W_I rows exceeds that over the ${third} weakest by more than one lambda step (${fmt(lambdaStep)})`, opposite: 'the strongest rows are no farther from lambda = 1 than the weakest' },
        s.networks,
        (net) => {
          const sh = WIs.map((_, iy) => rowShift(net, iy));
          return { weak: meanOver(sh.slice(0, third)), strong: meanOver(sh.slice(G - third)) };
        },
        (v) => v.strong - v.weak > lambdaStep,
        (v) => v.strong <= v.weak,
        (v) => `${fmt(v.strong)} (strong) vs ${fmt(v.weak)} (weak)`,
      ),
      makeClaim(
        { claim: 'the clipping of sigma under large input fluctuations moves the boundary (test: the annealed chain with and without per-input clipping)', source: 'mechanism (issue)', criterion: `in >= 80% of the rows whose simulated boundary is > ${fmt(lambdaStep)} from lambda = 1, the clipped chain's mean-field boundary is within ${fmt(lambdaStep)} of the simulated one and the unclipped chain's is not`, opposite: `in >= 80% of those rows the clipped and unclipped chains' boundaries are within ${fmt(lambdaStep)} of each other (independent-input clipping does not move the boundary)` },
        s.networks,
        (net) => {
          const sim = (r: (typeof chainRows)[number]) => (net < 0 ? r.lambdaVariancePeak : r.perNetwork[net].lambdaVariancePeak);
          const rel = chainRows.filter((r) => Math.abs(sim(r) - 1) > lambdaStep + 1e-12);
          return {
            n: rel.length,
            explained: rel.filter((r) => Math.abs(r.meanField.lambda - sim(r)) <= lambdaStep && Math.abs(r.meanFieldNoClip.lambda - sim(r)) > lambdaStep).length,
            same: rel.filter((r) => Math.abs(r.meanField.lambda - r.meanFieldNoClip.lambda) <= lambdaStep).length,
          };
        },
        (v) => v.n > 0 && v.explained >= 0.8 * v.n,
        (v) => v.n > 0 && v.same >= 0.8 * v.n,
        (v) => `${v.n} shifted rows: clipped chain follows the simulation in ${v.explained}, clipped = unclipped chain in ${v.same}`,
      ),
      makeClaim(
        { claim: 'at the simulated boundary the fraction of clipped inputs grows with the synaptic strength', source: 'mechanism (issue)', criterion: `Spearman correlation of W_I and the clipped fraction (x < 0 or x > 1) over the ${clipRows.length} measured rows >= 0.8`, opposite: 'correlation <= 0' },
        s.networks,
        (net) => {
          const f = clipTable.map((t) => (net < 0 ? t.below + t.above : t.perNetwork[net].below + t.perNetwork[net].above));
          return { rho: spearman(clipTable.map((t) => t.WI), f), f };
        },
        (v) => v.rho >= 0.8,
        (v) => v.rho <= 0,
        (v) => `rho = ${fmt(v.rho, 2)}; clipped ${clipTable.map((t, j) => `${fmt(100 * v.f[j], 1)}% (chain ${fmt(100 * (t.chainBelow + t.chainAbove), 1)}%) at W_I = ${fmt(t.WI, 2)}`).join(', ')}`,
      ),
    ];
    const checks = claimsToChecks(claims);
    const netCols = Array.from({ length: s.networks }, (_, r) => [`entropyBits_net${r}`, `countVariance_net${r}`]).flat();
    c.out.write('heatmap.csv', makeCsv(['WE', 'WI', 'alpha', 'lambda', 'entropyBits', 'meanActivity', 'countVariance', ...netCols, 'chainEntropyBits', 'chainMeanActivity', 'chainBimodal'], points.map((p, i) => {
      const ch = chainIdx.get(i);
      return [p.WE, p.WI, alpha, res[i].lambda, res[i].entropyBits, res[i].meanActivity, res[i].countVariance, ...res[i].nets.flatMap((x) => [x.entropyBits, x.countVariance]), ch?.H ?? null, ch?.act ?? null, ch === undefined ? null : ch.bimodal ? 1 : 0];
    })));
    c.out.write('boundaries.csv', makeCsv(['WI', 'lambdaEntropyPeak', 'lambdaVariancePeak', 'lambdaMeanField', 'slopeMeanField', 'lambdaMeanFieldNoClip', 'chainEntropyPeakLambda', 'chainBimodalWEmin', 'chainBimodalWEmax'], chainRows.map((r) => [r.WI, r.lambdaEntropyPeak, r.lambdaVariancePeak, r.meanField.lambda, r.meanField.slope, r.meanFieldNoClip.lambda, r.chainEntropyPeakLambda, r.chainBimodalWE?.[0] ?? null, r.chainBimodalWE?.[1] ?? null])));
    c.out.write('clipping.csv', makeCsv(['WI', 'WE', 'lambda', 'meanActivity', 'clippedBelow', 'clippedAbove', 'chainClippedBelow', 'chainClippedAbove'], clipTable.map((t) => [t.WI, t.WE, t.lambda, t.meanActivity, t.below, t.above, t.chainBelow, t.chainAbove])));
    const line = (f: (WI: number) => number, ys: readonly number[]) => {
      const x: number[] = [];
      const y: number[] = [];
      for (const WI of ys) {
        const WE = f(WI);
        if (WE >= WEs[0] && WE <= WEs[G - 1]) {
          x.push(WE);
          y.push(WI);
        }
      }
      return { x, y };
    };
    const lam1 = line((WI) => (1 + alpha * WI) / (1 - alpha), linspace(WIs[0], WIs[G - 1], 50));
    const bimodalRows = chainRows.filter((r) => r.chainBimodalWE);
    const contours = [
      { name: 'lambda = 1', ...lam1, color: '#ffffff' },
      // Dashed (odd place) over the solid lambda = 1, which it follows closely: both stay visible.
      { name: 'annealed chain, clipping on the mean input', x: chainRows.map((r) => r.meanFieldNoClip.WE), y: chainRows.map((r) => r.WI), color: '#CC79A7' },
      { name: 'annealed chain: max p\'(S*) (clipped sigma)', x: chainRows.map((r) => r.meanField.WE), y: chainRows.map((r) => r.WI), color: '#56B4E9' },
      { name: 'simulation: max Var(m) per row', x: WIs.map((_, iy) => WEs[peakOf(-1)[iy].V]), y: WIs, color: '#009E73' },
      { name: 'simulation: max entropy per row', x: WIs.map((_, iy) => WEs[peakOf(-1)[iy].H]), y: WIs, color: '#D55E00' },
      ...(bimodalRows.length ? [{ name: 'chain stationary law bimodal (first W_E)', x: bimodalRows.map((r) => r.chainBimodalWE![0]), y: bimodalRows.map((r) => r.WI), color: '#F0E442' }] : []),
    ];
    const svg = makeHeatmap({
      title: `Entropy of m (alpha = ${alpha}, N = ${s.N}, k = ${s.k}, ${s.networks} networks)`,
      x: { label: 'W_E', unit: '' },
      y: { label: 'W_I', unit: '' },
      xValues: WEs,
      yValues: WIs,
      z: res.map((r) => r.entropyBits),
      zLabel: 'entropy',
      zUnit: 'bits',
      zMin: 0,
      contours,
      notes: [`steps ${s.steps}, burn-in ${s.burnin}, networks ${s.networks}, p0 ${p0}, seed ${c.seed}`],
    });
    c.out.write('heatmap.svg', svg);
    const varSvg = makeHeatmap({
      title: `log10 Var(m) / N (alpha = ${alpha}, N = ${s.N}, k = ${s.k})`,
      x: { label: 'W_E', unit: '' },
      y: { label: 'W_I', unit: '' },
      xValues: WEs,
      yValues: WIs,
      z: res.map((r) => Math.log10(Math.max(r.countVariance, 1e-6) / s.N)),
      zLabel: 'log10 Var(m)/N',
      contours: contours.slice(0, 4),
      notes: [`steps ${s.steps}, burn-in ${s.burnin}, networks ${s.networks}`],
    });
    c.out.write('variance.svg', varSvg);
    c.out.write('report.html', makeReportHtml({
      title: this.title,
      subtitle: this.description,
      sections: [
        { heading: 'Run size', text: `${runNote(c, `${G} x ${G} grid x ${s.networks} networks, N = ${s.N}, k = ${s.k}`)}\n\n${modelNote}` },
        claimsSection(claims),
        checksSection(checks),
        { heading: 'Entropy heat map and boundaries', svg },
        { heading: 'Activity variance', svg: varSvg },
        { heading: 'Boundaries per W_I row (lambda)', table: { columns: ['W_I', 'entropy peak', 'variance peak', 'chain max p\'', 'max p\'', 'chain, no per-input clip', 'chain entropy peak', 'chain bimodal W_E'], rows: chainRows.map((r) => [r.WI, r.lambdaEntropyPeak, r.lambdaVariancePeak, r.meanField.lambda, r.meanField.slope, r.meanFieldNoClip.lambda, r.chainEntropyPeakLambda, r.chainBimodalWE ? r.chainBimodalWE.map((x) => fmt(x)).join('..') : 'none']) } },
        { heading: 'Clipped inputs at the simulated boundary', table: { columns: ['W_I', 'W_E', 'lambda', 'activity', 'x < 0', 'x > 1', 'chain x < 0', 'chain x > 1'], rows: clipTable.map((t) => [t.WI, t.WE, t.lambda, t.meanActivity, t.below, t.above, t.chainBelow, t.chainAbove]) } },
      ],
      meta: { ...s, grid: G, alpha, p0, backend: c.backend, seed: c.seed },
    }));
    return {
      summary: { grid: G, ...s, alpha, p0, lambdaStep, claims, globalPeak: { ...points[gi], lambda: res[gi].lambda, H: res[gi].entropyBits, perNetwork: res[gi].nets.map((x) => x.entropyBits) }, boundaries: chainRows, clipping: clipTable },
      checks,
    };
  },
};

// ---------------------------------------------------------------------------------------------------------------------------

const boundarySizes = {
  quick: { N: 200, k: 20, steps: 600, burnin: 100, networks: 2 },
  standard: { N: 1000, k: 100, steps: 31_000, burnin: 1000, networks: 2 },
};

function boundaryDesign(c: Pick<ReproductionContext, 'quick'>) {
  return {
    strengths: c.quick ? [0.25, 2, 8] : [0.25, 1, 2, 4, 8],
    lambdas: c.quick ? linspace(0.6, 1.4, 11) : linspace(0.5, 1.5, 21),
    refine: c.quick ? 10 : 9,
  };
}

export const binaryBoundary: Reproduction = {
  acceptsSamples: true,
  acceptsNetworks: true,
  id: 'binary-boundary',
  title: 'Binary E-I network: along the boundary, weak synapses give high but fragile entropy, strong synapses lower but robust entropy',
  source: 'Agrawal et al. 2018 (arXiv 1804.05266), reconstructed from the abstract; experiment 2 of docs/models/binary-entropy.md',
  description:
    'At alpha = 0.2, for synaptic strengths W_I = s (W_E set by lambda), entropy curves H(lambda) across the boundary in each of the networks; robustness = lambda-width where ' +
    'H >= 0.5 / 0.9 H_peak, and mean H over W -> W (1 + delta), delta in {+-0.1, +-0.3} (both W_E and W_I scaled) relative to H at lambda = 1. ' +
    'Each curve is refined between the neighbours of the coarse maximum of its network-mean curve.',
  plan(c) {
    const s = makeSizes(c, boundarySizes);
    const d = boundaryDesign(c);
    const per = d.lambdas.length + 1 + perturbationDeltas.length + d.refine;
    return planOf([{ N: s.N, k: s.k, instances: d.strengths.length * per * s.networks, steps: s.steps }], [{ N: s.N, count: d.strengths.length * d.lambdas.length }], `binary-boundary ${d.strengths.length} strengths x ${per} points x ${s.networks} networks, N = ${s.N}, k = ${s.k}, ${s.steps} steps`);
  },
  async run(c) {
    const s = makeSizes(c, boundarySizes);
    const { strengths, lambdas, refine } = boundaryDesign(c);
    const alpha = 0.2;
    const p0 = 1e-3;
    const at = (lambda: number, WI: number): BinaryPoint => ({ WE: (lambda + alpha * WI) / (1 - alpha), WI, alpha, p0 });
    const curvePts = strengths.flatMap((WI) => lambdas.map((l) => at(l, WI)));
    const pertPts = strengths.flatMap((WI) => [at(1, WI), ...perturbationsOf(at(1, WI))]);
    const nl = lambdas.length;
    const np = 1 + perturbationDeltas.length;
    const total = (curvePts.length + pertPts.length + strengths.length * refine) * s.networks;
    const first = curvePts.length + pertPts.length;
    const res = await simulate(c, [...curvePts, ...pertPts], s, (d, t) => c.onProgress((first * s.networks * d) / t, total));
    // Weak synapses peak within a few percent of lambda = 1, narrower than the coarse grid: refine between the neighbours of
    // each coarse maximum so the peak height and widths are measured at the peak.
    const refineLambdas = strengths.map((_, j) => {
      const best = argmax(lambdas.map((_, i) => i), (i) => res[j * nl + i].entropyBits);
      const lo = lambdas[Math.max(0, best - 1)];
      const hi = lambdas[Math.min(nl - 1, best + 1)];
      return linspace(lo, hi, refine + 2).slice(1, -1).filter((l) => !lambdas.some((m) => Math.abs(m - l) < 1e-12));
    });
    // Instance ids after the first batch's: the refined points get their own networks and random streams.
    const fine = await simulate(c, strengths.flatMap((WI, j) => refineLambdas[j].map((l) => at(l, WI))), s, (d, t) => c.onProgress(first * s.networks + ((total - first * s.networks) * d) / t, total), first * s.networks);
    const nets = netsAndMean(s.networks);
    let fineAt = 0;
    const table = strengths.map((WI, j) => {
      // Each curve point with the instance id of its network 0 (the simulate() numbering), for the clipping run below.
      const pts = [...lambdas.map((_, i) => ({ r: res[j * nl + i], id0: (j * nl + i) * s.networks })), ...refineLambdas[j].map(() => ({ r: fine[fineAt], id0: (first + fineAt++) * s.networks }))].sort((a, b) => a.r.lambda - b.r.lambda);
      const base = curvePts.length + j * np;
      const byNet = nets.map((net) => {
        const curve = pts.map(({ r: p }) => ({ lambda: p.lambda, H: valueAt(p, net, (x) => x.entropyBits), meanActivity: valueAt(p, net, (x) => x.meanActivity), countVariance: valueAt(p, net, (x) => x.countVariance) }));
        const H0 = valueAt(res[base], net, (x) => x.entropyBits);
        const rob = binaryRobustness(curve, H0, res.slice(base + 1, base + np).map((r) => valueAt(r, net, (x) => x.entropyBits)));
        // The simulation's own boundary: the lambda of the largest activity variance on this curve.
        const variancePeakLambda = curve[argmax(curve, (p) => p.countVariance)].lambda;
        return { H0, ...rob, variancePeakLambda, curve };
      });
      return { WI, WE: at(1, WI).WE, byNet, pts };
    });
    // Where the regimes part in three annealed pictures (max slope p'(S*) of the fixed point reached from silence, scanned over
    // lambda in [0, 1.5]), and the chain's stationary entropy on the coarse lambdas.
    const scan = linspace(0, 1.5, 31);
    const theory = strengths.map((WI) => {
      const base = { N: s.N, k: s.k, alpha, WI, p0 };
      const WEs = scan.map((l) => at(l, WI).WE);
      const mf = (v: MeanFieldVariant) => {
        const b = meanFieldBoundary(base, WEs, v);
        return { lambda: b.lambda, slope: b.slope, S: b.S };
      };
      const chainH = lambdas.map((l) => annealedChain({ ...base, WE: at(l, WI).WE }).entropyBits);
      return { clip: mf('clip'), meanInput: mf('mean-input'), quenched: mf('quenched-indegree'), chainH, chainPeakLambda: lambdas[argmax(chainH, (h) => h)] };
    });
    // Clipped inputs in the same networks at each strength's simulated boundary (network-mean variance peak).
    const clipSteps = s.burnin + (c.quick ? 100 : 2000);
    const clipAt = table.map((t) => t.pts[argmax(t.pts, (p) => p.r.countVariance)]);
    const clipPts = clipAt.flatMap((q, j) => Array.from({ length: s.networks }, () => at(q.r.lambda, strengths[j])));
    const clipIds = clipAt.flatMap((q) => Array.from({ length: s.networks }, (_, r) => q.id0 + r));
    const clipped = await measureBinaryClipping({ points: clipPts, N: s.N, k: s.k, steps: clipSteps, burnin: s.burnin, seed: c.seed, instanceIds: clipIds, backend: c.backend, ctx: c.ctx ?? undefined, threads: c.threads, every: c.quick ? 5 : 10 });
    const clipTable = clipAt.map((q, j) => {
      const per = clipped.slice(j * s.networks, (j + 1) * s.networks);
      const pred = clippedInputFractions({ N: s.N, k: s.k, ...at(q.r.lambda, strengths[j]) }, q.r.meanActivity);
      return { WI: strengths[j], lambda: q.r.lambda, meanActivity: q.r.meanActivity, perNetwork: per, clipped: per.reduce((a, x) => a + x.below + x.above, 0) / per.length, chainClipped: pred.below + pred.above };
    });
    const weak = table[0];
    const strong = table[table.length - 1];
    const robOf = (t: (typeof table)[number], net: number) => t.byNet[net + 1];
    const dl = lambdas[1] - lambdas[0];
    const claims: Claim[] = [
      makeClaim(
        { claim: 'along the boundary weak synapses give high entropy (higher than strong ones)', source: 'abstract', criterion: `peak H (W_I = ${weak.WI}) > peak H (W_I = ${strong.WI})`, opposite: 'peak H (weak) < peak H (strong)' },
        s.networks,
        (net) => ({ w: robOf(weak, net).peakH, s: robOf(strong, net).peakH }),
        (v) => v.w > v.s,
        (v) => v.w < v.s,
        (v) => `${fmt(v.w)} vs ${fmt(v.s)} bits`,
      ),
      makeClaim(
        { claim: 'weak-synapse entropy is fragile', source: 'abstract', criterion: 'width90 (weak) < width90 (strong) and mean perturbed H / H(lambda = 1): weak < strong', opposite: 'both reversed' },
        s.networks,
        (net) => ({ w90: robOf(weak, net).width90, s90: robOf(strong, net).width90, wr: robOf(weak, net).perturbedRatio, sr: robOf(strong, net).perturbedRatio }),
        (v) => v.w90 < v.s90 && v.wr < v.sr,
        (v) => v.w90 > v.s90 && v.wr > v.sr,
        (v) => `width90 ${fmt(v.w90)} vs ${fmt(v.s90)}, perturbed ratio ${fmt(v.wr)} vs ${fmt(v.sr)}`,
      ),
      makeClaim(
        { claim: 'strong-synapse entropy is robust', source: 'abstract', criterion: `W_I = ${strong.WI}: mean perturbed H >= 0.8 H(lambda = 1) and width50 > width50 (weak)`, opposite: 'perturbed ratio < 0.5 or width50 < width50 (weak)' },
        s.networks,
        (net) => ({ r: robOf(strong, net).perturbedRatio, w: robOf(strong, net).width50, ww: robOf(weak, net).width50 }),
        (v) => v.r >= 0.8 && v.w > v.ww,
        (v) => v.r < 0.5 || v.w < v.ww,
        (v) => `ratio ${fmt(v.r)}, width50 ${fmt(v.w)} vs ${fmt(v.ww)}`,
      ),
      makeClaim(
        { claim: 'the trend holds across all strengths: stronger synapses, lower peak and wider (more robust) peak', source: 'abstract', criterion: `over the ${strengths.length} strengths, Spearman(W_I, peak H) <= -0.8 and Spearman(W_I, width50) >= 0.8`, opposite: 'Spearman(W_I, peak H) >= 0 or Spearman(W_I, width50) <= 0' },
        s.networks,
        (net) => ({ h: spearman(strengths, table.map((t) => robOf(t, net).peakH)), w: spearman(strengths, table.map((t) => robOf(t, net).width50)) }),
        (v) => v.h <= -0.8 && v.w >= 0.8,
        (v) => v.h >= 0 || v.w <= 0,
        (v) => `rho(peak H) = ${fmt(v.h, 2)}, rho(width50) = ${fmt(v.w, 2)}`,
      ),
      makeClaim(
        { claim: 'strong synapses move the boundary away from lambda = 1', source: 'mechanism (issue)', criterion: `boundary = the lambda of the largest activity variance on the curve: |lambda_var(W_I = ${strong.WI}) - 1| > |lambda_var(W_I = ${weak.WI}) - 1| + ${fmt(dl, 2)} (one coarse lambda step)`, opposite: '|lambda_var(strong) - 1| <= |lambda_var(weak) - 1|' },
        s.networks,
        (net) => ({ w: robOf(weak, net).variancePeakLambda, s: robOf(strong, net).variancePeakLambda }),
        (v) => Math.abs(v.s - 1) > Math.abs(v.w - 1) + dl,
        (v) => Math.abs(v.s - 1) <= Math.abs(v.w - 1),
        (v) => `lambda_var ${fmt(v.s)} (strong) vs ${fmt(v.w)} (weak); entropy peaks at ${fmt(robOf(strong, -1).peakLambda)} vs ${fmt(robOf(weak, -1).peakLambda)}`,
      ),
      makeClaim(
        { claim: 'the clipping of sigma with independent inputs (the annealed chain) accounts for the strong-synapse shift', source: 'mechanism (issue)', criterion: `at W_I = ${strong.WI}, with the simulated boundary > ${fmt(dl, 2)} from lambda = 1: the clipped chain's mean-field boundary is within ${fmt(dl, 2)} of it and the mean-input (unclipped) chain's is not`, opposite: `the simulated boundary is > ${fmt(dl, 2)} from lambda = 1 but the clipped and unclipped chains' boundaries are within ${fmt(dl, 2)} of each other` },
        s.networks,
        (net) => ({ sim: robOf(strong, net).variancePeakLambda, clip: theory[theory.length - 1].clip.lambda, free: theory[theory.length - 1].meanInput.lambda }),
        (v) => Math.abs(v.sim - 1) > dl && Math.abs(v.clip - v.sim) <= dl && Math.abs(v.free - v.sim) > dl,
        (v) => Math.abs(v.sim - 1) > dl && Math.abs(v.clip - v.free) <= dl,
        (v) => `simulated ${fmt(v.sim)}, clipped chain ${fmt(v.clip)}, unclipped ${fmt(v.free)}`,
      ),
      makeClaim(
        { claim: 'clipping of quenched inputs (the neurons\' fixed numbers of E partners, averaged in the mean field) accounts for the shift', source: 'mechanism (issue)', criterion: `at W_I = ${strong.WI}, with the simulated boundary > ${fmt(dl, 2)} from lambda = 1: the quenched-in-degree mean field's boundary is within ${fmt(dl, 2)} of it and the unclipped chain's is not`, opposite: `the simulated boundary is > ${fmt(dl, 2)} from lambda = 1 but the quenched-in-degree and unclipped boundaries are within ${fmt(dl, 2)} of each other` },
        s.networks,
        (net) => ({ sim: robOf(strong, net).variancePeakLambda, q: theory[theory.length - 1].quenched.lambda, free: theory[theory.length - 1].meanInput.lambda }),
        (v) => Math.abs(v.sim - 1) > dl && Math.abs(v.q - v.sim) <= dl && Math.abs(v.free - v.sim) > dl,
        (v) => Math.abs(v.sim - 1) > dl && Math.abs(v.q - v.free) <= dl,
        (v) => `simulated ${fmt(v.sim)}, quenched-in-degree mean field ${fmt(v.q)} (max slope ${fmt(theory[theory.length - 1].quenched.slope)}), unclipped ${fmt(v.free)}`,
      ),
      makeClaim(
        { claim: 'at the simulated boundary the fraction of clipped inputs grows with the synaptic strength', source: 'mechanism (issue)', criterion: `Spearman(W_I, fraction of neuron-steps with x < 0 or x > 1) >= 0.8 over the ${strengths.length} strengths`, opposite: 'Spearman <= 0' },
        s.networks,
        (net) => clipTable.map((t) => (net < 0 ? t.clipped : t.perNetwork[net].below + t.perNetwork[net].above)),
        (f) => spearman(strengths, f) >= 0.8,
        (f) => spearman(strengths, f) <= 0,
        (f) => `rho = ${fmt(spearman(strengths, f), 2)}; ${clipTable.map((t, j) => `${fmt(100 * f[j], 1)}% (chain ${fmt(100 * t.chainClipped, 1)}%) at W_I = ${t.WI}`).join(', ')}`,
      ),
    ];
    const checks = claimsToChecks(claims);
    c.out.write('curves.csv', makeCsv(['WI', 'lambda', 'WE', 'entropyBits', 'meanActivity', 'countVariance', ...Array.from({ length: s.networks }, (_, r) => `entropyBits_net${r}`)], table.flatMap((t) => t.byNet[0].curve.map((p, i) => [t.WI, p.lambda, at(p.lambda, t.WI).WE, p.H, p.meanActivity, p.countVariance, ...t.byNet.slice(1).map((b) => b.curve[i].H)]))));
    c.out.write('chain-curves.csv', makeCsv(['WI', 'lambda', 'chainEntropyBits'], strengths.flatMap((WI, j) => lambdas.map((l, i) => [WI, l, theory[j].chainH[i]]))));
    const robRows = table.flatMap((t) => nets.map((net) => {
      const r = robOf(t, net);
      return [t.WI, netName(net), t.WE, r.H0, r.peakLambda, r.peakH, r.width50, r.width90, r.meanPerturbedH, r.perturbedRatio, r.variancePeakLambda];
    }));
    const robCols = ['WI', 'network', 'WEatBoundary', 'Hboundary', 'peakLambda', 'peakH', 'width50', 'width90', 'meanPerturbedH', 'perturbedRatio', 'variancePeakLambda'];
    c.out.write('robustness.csv', makeCsv(robCols, robRows, { Hboundary: 'bits', peakH: 'bits', meanPerturbedH: 'bits' }));
    const mechCols = ['WI', 'lambdaVariancePeak', 'lambdaEntropyPeak', 'chainEntropyPeakLambda', 'meanFieldClip', 'slopeClip', 'meanFieldMeanInput', 'meanFieldQuenched', 'slopeQuenched', 'clippedFraction', 'chainClippedFraction'];
    const mechRows = strengths.map((WI, j) => [WI, robOf(table[j], -1).variancePeakLambda, robOf(table[j], -1).peakLambda, theory[j].chainPeakLambda, theory[j].clip.lambda, theory[j].clip.slope, theory[j].meanInput.lambda, theory[j].quenched.lambda, theory[j].quenched.slope, clipTable[j].clipped, clipTable[j].chainClipped]);
    c.out.write('boundaries.csv', makeCsv(mechCols, mechRows));
    const svg = makeLinePlot({ title: `Entropy across the boundary by synaptic strength (alpha = ${alpha}, N = ${s.N}, k = ${s.k}, mean of ${s.networks} networks)`, x: { label: 'lambda', unit: '' }, y: { label: 'entropy', unit: 'bits' }, series: table.map((t) => ({ name: `W_I = ${t.WI}`, x: t.byNet[0].curve.map((p) => p.lambda), y: t.byNet[0].curve.map((p) => p.H) })) });
    c.out.write('curves.svg', svg);
    const varSvg = makeLinePlot({ title: `Activity susceptibility Var(m) / N across the boundary (N = ${s.N}, k = ${s.k})`, x: { label: 'lambda', unit: '' }, y: { label: 'Var(m) / N', unit: '', log: true }, series: table.map((t) => ({ name: `W_I = ${t.WI}`, x: t.byNet[0].curve.map((p) => p.lambda), y: t.byNet[0].curve.map((p) => Math.max(p.countVariance, 1e-6) / s.N) })) });
    c.out.write('variance.svg', varSvg);
    c.out.write('report.html', makeReportHtml({ title: this.title, subtitle: this.description, sections: [{ heading: 'Run size', text: `${runNote(c, `N = ${s.N}, k = ${s.k}, ${lambdas.length} lambdas (+${refine} refined) x ${strengths.length} strengths x ${s.networks} networks`)}\n\n${modelNote}` }, claimsSection(claims), checksSection(checks), { heading: 'Entropy curves', svg }, { heading: 'Activity variance', svg: varSvg }, { heading: 'Robustness', table: { columns: robCols, rows: robRows } }, { heading: 'Where the regimes part (lambda)', table: { columns: mechCols, rows: mechRows } }], meta: { ...s, alpha, p0, backend: c.backend, seed: c.seed } }));
    return {
      summary: {
        ...s,
        alpha,
        p0,
        claims,
        strengths: table.map((t, j) => ({ WI: t.WI, WE: t.WE, ...Object.fromEntries(nets.map((net) => { const { curve: _c, ...r } = robOf(t, net); return [netName(net), r]; })), theory: { clip: theory[j].clip, meanInput: theory[j].meanInput, quenched: theory[j].quenched, chainPeakLambda: theory[j].chainPeakLambda }, clipping: clipTable[j] })),
      },
      checks,
    };
  },
};

function perturbationsOf(p: BinaryPoint): BinaryPoint[] {
  return perturbationDeltas.map((d) => ({ ...p, WE: p.WE * (1 + d), WI: p.WI * (1 + d) }));
}

// ---------------------------------------------------------------------------------------------------------------------------

const alphaSizes = {
  quick: { N: 200, k: 20, steps: 900, burnin: 100, networks: 2 },
  standard: { N: 1000, k: 100, steps: 51_000, burnin: 1000, networks: 2 },
};
const alphasOf = (quick: boolean) => (quick ? [0, 0.05, 0.1, 0.2, 0.3, 0.4] : [0, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45]);

export const binaryAlpha: Reproduction = {
  acceptsSamples: true,
  acceptsNetworks: true,
  id: 'binary-alpha',
  title: 'Binary E-I network with W_E = W_I: a small non-zero inhibitory fraction gives robust, relatively high entropy',
  source: 'Agrawal et al. 2018 (arXiv 1804.05266), reconstructed from the abstract; experiment 3 of docs/models/binary-entropy.md',
  description:
    'W_E = W_I = W = W*(1 + delta), W* = 1 / (1 - 2 alpha) (so lambda = 1 + delta): entropy at delta = 0 and the mean entropy over delta in {+-0.1, +-0.3} ' +
    '(robust entropy) for each alpha, in each network. Claims checked: the alpha with the highest robust entropy is small and non-zero (0 < alpha <= 0.2), its entropy at the boundary is at least 75% of the best over alpha, and alpha = 0 is more fragile.',
  plan(c) {
    const s = makeSizes(c, alphaSizes);
    const n = alphasOf(c.quick).length * (1 + perturbationDeltas.length);
    return planOf([{ N: s.N, k: s.k, instances: n * s.networks, steps: s.steps }], [], `binary-alpha ${n} points x ${s.networks} networks, N = ${s.N}, k = ${s.k}, ${s.steps} steps`);
  },
  async run(c) {
    const s = makeSizes(c, alphaSizes);
    const p0 = 1e-3;
    const alphas = alphasOf(c.quick);
    const deltas = [0, ...perturbationDeltas];
    const points = alphas.flatMap((alpha) => deltas.map((d) => ({ WE: boundaryW(alpha) * (1 + d), WI: boundaryW(alpha) * (1 + d), alpha, p0 })));
    const res = await simulate(c, points, s);
    const nd = deltas.length;
    const nets = netsAndMean(s.networks);
    // Per network (and for the mean): H at delta = 0, the robust (perturbation-mean) H, the old ratio robust / H0 and the
    // fragility 1 - robust / max over all five deltas, which stays meaningful where H0 is near zero.
    const tableOf = (net: number) => alphas.map((alpha, j) => {
      const perDelta = res.slice(j * nd, (j + 1) * nd).map((r) => valueAt(r, net, (x) => x.entropyBits));
      const H0 = perDelta[0];
      const robustH = perDelta.slice(1).reduce((a, x) => a + x, 0) / (nd - 1);
      const top = Math.max(...perDelta);
      return { alpha, W: boundaryW(alpha), H0, robustH, ratio: robustH / H0, fragility: top > 0 ? 1 - robustH / top : NaN, perDelta };
    });
    const tables = nets.map(tableOf);
    const tab = (net: number) => tables[net + 1];
    const small = (t: ReturnType<typeof tableOf>) => argmax(t, (x) => (x.alpha > 0 && x.alpha <= 0.2 ? x.robustH : -Infinity));
    const claims: Claim[] = [
      makeClaim(
        { claim: 'at W_E = W_I a small non-zero inhibitory fraction gives the most robust entropy', source: 'abstract', criterion: 'the alpha of the highest robust H (mean over delta = +-0.1, +-0.3) is in (0, 0.2]', opposite: 'that alpha is 0 or above 0.2' },
        s.networks,
        (net) => tab(net)[argmax(tab(net), (x) => x.robustH)],
        (b) => b.alpha > 0 && b.alpha <= 0.2,
        (b) => !(b.alpha > 0 && b.alpha <= 0.2),
        (b) => `alpha = ${b.alpha} (robust H ${fmt(b.robustH)} bits)`,
      ),
      makeClaim(
        { claim: '... and relatively high entropy there', source: 'abstract', criterion: 'at the alpha in (0, 0.2] of the highest robust H, H(delta = 0) >= 0.75 max over alpha of H(delta = 0)', opposite: 'H(delta = 0) < 0.5 max over alpha' },
        s.networks,
        (net) => ({ b: tab(net)[small(tab(net))], max: Math.max(...tab(net).map((x) => x.H0)) }),
        (v) => v.b.H0 >= 0.75 * v.max,
        (v) => v.b.H0 < 0.5 * v.max,
        (v) => `alpha = ${v.b.alpha}: ${fmt(v.b.H0)} of max ${fmt(v.max)} bits`,
      ),
      makeClaim(
        { claim: 'alpha = 0 (no inhibition) is more fragile than that small alpha', source: 'abstract', criterion: 'fragility 1 - robust H / max over the five deltas of H: alpha = 0 > the best small alpha, and robust H (alpha = 0) < robust H (best small alpha)', opposite: 'fragility (alpha = 0) < fragility (best small alpha)', note: 'replaces robust H / H(delta = 0), meaningless where H(delta = 0) is near zero (alpha = 0); the old ratio is in alpha.csv and the measured text' },
        s.networks,
        (net) => ({ z: tab(net)[0], b: tab(net)[small(tab(net))] }),
        (v) => v.z.fragility > v.b.fragility && v.z.robustH < v.b.robustH,
        (v) => v.z.fragility < v.b.fragility,
        (v) => `fragility ${fmt(v.z.fragility)} vs ${fmt(v.b.fragility)} (alpha = ${v.b.alpha}); robust H ${fmt(v.z.robustH)} vs ${fmt(v.b.robustH)}; old ratio ${fmt(v.z.ratio)} vs ${fmt(v.b.ratio)} (H(delta = 0) at alpha = 0: ${fmt(v.z.H0)} bits)`,
      ),
    ];
    const checks = claimsToChecks(claims);
    const cols = ['alpha', 'network', 'Wstar', ...deltas.map((d) => `Hdelta${d}`), 'robustH', 'ratio', 'fragility'];
    const rows = alphas.flatMap((_, j) => nets.map((net) => {
      const t = tab(net)[j];
      return [t.alpha, netName(net), t.W, ...t.perDelta, t.robustH, t.ratio, t.fragility];
    }));
    c.out.write('alpha.csv', makeCsv(cols, rows, { ...Object.fromEntries(deltas.map((d) => [`Hdelta${d}`, 'bits'])), robustH: 'bits' }));
    const svg = makeLinePlot({ title: `Entropy vs inhibitory fraction at W_E = W_I = W*(1 + delta) (N = ${s.N}, k = ${s.k}, mean of ${s.networks} networks)`, x: { label: 'alpha', unit: '' }, y: { label: 'entropy', unit: 'bits' }, series: [{ name: 'delta = 0', x: alphas, y: tab(-1).map((t) => t.H0) }, { name: 'mean over delta = +-0.1, +-0.3', x: alphas, y: tab(-1).map((t) => t.robustH), style: 'dashed' }] });
    c.out.write('alpha.svg', svg);
    c.out.write('report.html', makeReportHtml({ title: this.title, subtitle: this.description, sections: [{ heading: 'Run size', text: `${runNote(c, `N = ${s.N}, k = ${s.k}, ${alphas.length} alphas x ${s.networks} networks`)}\n\n${modelNote}` }, claimsSection(claims), checksSection(checks), { heading: 'Entropy vs alpha', svg }, { heading: 'Table', table: { columns: cols, rows } }], meta: { ...s, p0, backend: c.backend, seed: c.seed } }));
    return { summary: { ...s, p0, claims, table: tab(-1), perNetwork: tables.slice(1) }, checks };
  },
};

// ---------------------------------------------------------------------------------------------------------------------------

const chainSizes = {
  quick: { N: 200, k: 20, steps: 1100, burnin: 100, networks: 2 },
  standard: { N: 1000, k: 100, steps: 51_000, burnin: 1000, networks: 2 },
};
const chainDesign = (quick: boolean) => ({
  lambdas: quick ? [0.5, 0.8, 0.9, 0.95, 1.05, 1.2] : linspace(0.5, 1.5, 21),
  strengths: [0.25, 8],
  sizes: quick ? [{ N: 100, k: 10 }, { N: 200, k: 20 }, { N: 400, k: 40 }] : [{ N: 250, k: 25 }, { N: 500, k: 50 }, { N: 1000, k: 100 }, { N: 2000, k: 200 }],
});

export const binaryChain: Reproduction = {
  acceptsSamples: true,
  acceptsNetworks: true,
  id: 'binary-chain',
  title: 'Binary E-I network: simulation vs the annealed Markov chain (mean activity, entropy gap for strong synapses, N / k scaling)',
  source: 'Agrawal et al. 2018 (arXiv 1804.05266) and docs/models/binary-entropy.md (analytical reference); experiment 4',
  description:
    'Simulated entropy and mean activity next to the annealed chain on m (independent inputs each step) at alpha = 0.2 for weak (W_I = 0.25) and strong (W_I = 8) synapses ' +
    'across lambda, and the entropy gap at lambda = 0.95 as N and k grow (N / k = 10), each in several networks. The chain is exactly absorbing at m = N for lambda >= 1 (mean activity 1), so the ' +
    'mean-activity agreement is checked for lambda < 1 and separately for lambda >= 1.',
  plan(c) {
    const s = makeSizes(c, chainSizes);
    const d = chainDesign(c.quick);
    return planOf(
      [{ N: s.N, k: s.k, instances: d.lambdas.length * d.strengths.length * s.networks, steps: s.steps }, ...d.sizes.map((z) => ({ N: z.N, k: z.k, instances: d.strengths.length * s.networks, steps: s.steps }))],
      [{ N: s.N, count: d.lambdas.length * d.strengths.length }, ...d.sizes.map((z) => ({ N: z.N, count: d.strengths.length }))],
      `binary-chain ${d.lambdas.length * d.strengths.length} points and N = ${d.sizes.map((z) => z.N).join(', ')} x ${s.networks} networks, ${s.steps} steps`,
    );
  },
  async run(c) {
    const s = makeSizes(c, chainSizes);
    const alpha = 0.2;
    const p0 = 1e-3;
    const { lambdas, strengths, sizes } = chainDesign(c.quick);
    const at = (lambda: number, WI: number): BinaryPoint => ({ WE: (lambda + alpha * WI) / (1 - alpha), WI, alpha, p0 });
    const pts = strengths.flatMap((WI) => lambdas.map((l) => at(l, WI)));
    // The scaling runs take the same burn-in and sample length as the main runs.
    const scalingSteps = s.steps;
    const work = (N: number, k: number, n: number, steps: number) => n * s.networks * N * k * steps;
    const totalWork = work(s.N, s.k, pts.length, s.steps) + sizes.reduce((a, z) => a + work(z.N, z.k, strengths.length, scalingSteps), 0);
    let doneWork = 0;
    const step = (w: number) => (d: number, t: number) => c.onProgress(doneWork + (w * d) / t, totalWork);
    const res = await simulate(c, pts, s, step(work(s.N, s.k, pts.length, s.steps)));
    doneWork += work(s.N, s.k, pts.length, s.steps);
    const rows = pts.map((p, i) => ({ ...p, sim: res[i], chain: binaryChainOf(p, s.N, s.k) }));
    const nets = netsAndMean(s.networks);
    const actTol = (a: number) => 0.005 + 0.25 * a;
    const within = (net: number, rs: typeof rows) => rs.filter((r) => Math.abs(valueAt(r.sim, net, (x) => x.meanActivity) - r.chain.meanActivity) <= actTol(r.chain.meanActivity)).length;
    const maxErr = (net: number, rs: typeof rows) => Math.max(...rs.map((r) => Math.abs(valueAt(r.sim, net, (x) => x.meanActivity) - r.chain.meanActivity)));
    const sub = rows.filter((r) => r.sim.lambda < 1);
    const sup = rows.filter((r) => r.sim.lambda >= 1);
    const nearest = (WI: number, lambda: number) => rows.filter((r) => r.WI === WI).reduce((b, r) => (Math.abs(r.sim.lambda - lambda) < Math.abs(b.sim.lambda - lambda) ? r : b));
    const gap = (r: (typeof rows)[number], net: number) => valueAt(r.sim, net, (x) => x.entropyBits) - r.chain.entropyBits;
    // N / k scaling at lambda = 0.95, weak and strong synapses, the same number of networks.
    const scaling: { N: number; k: number; WI: number; sim: PointStats; chainH: number; chainAct: number }[] = [];
    for (const z of sizes) {
      const zs: Sizes = { N: z.N, k: z.k, steps: scalingSteps, burnin: s.burnin, networks: s.networks };
      const two = strengths.map((WI) => at(0.95, WI));
      const r = await simulate(c, two, zs, step(work(z.N, z.k, strengths.length, scalingSteps)));
      doneWork += work(z.N, z.k, strengths.length, scalingSteps);
      two.forEach((p, i) => {
        const ch = binaryChainOf(p, z.N, z.k);
        scaling.push({ N: z.N, k: z.k, WI: p.WI, sim: r[i], chainH: ch.entropyBits, chainAct: ch.meanActivity });
      });
    }
    const scalGap = (x: (typeof scaling)[number], net: number) => valueAt(x.sim, net, (y) => y.entropyBits) - x.chainH;
    const strongScal = scaling.filter((x) => x.WI === 8);
    const ref = strongScal.find((x) => x.N === 1000 && x.k === 100) ?? strongScal[strongScal.length - 1];
    const claims: Claim[] = [
      makeClaim(
        { claim: 'mean activity of the simulation matches the annealed chain (lambda < 1)', source: 'spec analytical reference', criterion: `|a_sim - a_chain| <= 0.005 + 0.25 a_chain at all ${sub.length} points with lambda < 1 (W_I = 0.25 and 8)`, opposite: 'fewer than half the points within' },
        s.networks,
        (net) => ({ n: within(net, sub), err: maxErr(net, sub) }),
        (v) => v.n === sub.length,
        (v) => v.n < sub.length / 2,
        (v) => `${v.n} of ${sub.length} within (max error ${fmt(v.err, 4)})`,
      ),
      makeClaim(
        { claim: 'mean activity matches the chain also for lambda >= 1 ("always")', source: 'spec analytical reference', criterion: `same tolerance at all ${sup.length} points with lambda >= 1 (where the chain is absorbing at m = N)`, opposite: 'fewer than half the points within' },
        s.networks,
        (net) => ({ n: within(net, sup), err: maxErr(net, sup) }),
        (v) => v.n === sup.length,
        (v) => v.n < sup.length / 2,
        (v) => `${v.n} of ${sup.length} within (max error ${fmt(v.err, 4)})`,
      ),
      makeClaim(
        { claim: 'for weak synapses the chain gives the simulated entropy', source: 'spec analytical reference', criterion: `|H_sim - H_chain| <= 0.5 bit at lambda = 0.95, W_I = 0.25 (N = ${s.N}, k = ${s.k})`, opposite: '|H_sim - H_chain| > 1 bit' },
        s.networks,
        (net) => gap(nearest(0.25, 0.95), net),
        (g) => Math.abs(g) <= 0.5,
        (g) => Math.abs(g) > 1,
        (g) => `gap ${fmt(g)} bits`,
      ),
      makeClaim(
        { claim: 'the chain underestimates the strong-synapse entropy by about 2 bits at N = 1000, k = 100', source: 'spec analytical reference', criterion: `H_sim - H_chain in [1.5, 2.5] bits at W_I = 8, lambda = 0.95, N = ${ref.N}, k = ${ref.k}`, opposite: 'H_sim - H_chain < 0.5 bit' },
        s.networks,
        (net) => scalGap(ref, net),
        (g) => g >= 1.5 && g <= 2.5,
        (g) => g < 0.5,
        (g) => `gap ${fmt(g)} bits`,
      ),
      makeClaim(
        { claim: 'the strong-synapse gap grows with N (N / k = 10)', source: 'spec analytical reference', criterion: `gap at N = ${strongScal[strongScal.length - 1].N} > gap at N = ${strongScal[0].N}`, opposite: 'gap at the largest N < gap at the smallest' },
        s.networks,
        (net) => strongScal.map((x) => scalGap(x, net)),
        (g) => g[g.length - 1] > g[0],
        (g) => g[g.length - 1] < g[0],
        (g) => strongScal.map((x, i) => `N=${x.N}: ${fmt(g[i])}`).join(', '),
      ),
    ];
    const checks = claimsToChecks(claims);
    const netCols = (name: string) => Array.from({ length: s.networks }, (_, r) => `${name}_net${r}`);
    c.out.write('chain.csv', makeCsv(['WE', 'WI', 'alpha', 'lambda', 'entropyBits', 'chainEntropyBits', 'meanActivity', 'chainMeanActivity', ...netCols('entropyBits'), ...netCols('meanActivity')], rows.map((r) => [r.WE, r.WI, r.alpha, r.sim.lambda, r.sim.entropyBits, r.chain.entropyBits, r.sim.meanActivity, r.chain.meanActivity, ...r.sim.nets.map((x) => x.entropyBits), ...r.sim.nets.map((x) => x.meanActivity)])));
    c.out.write('scaling.csv', makeCsv(['N', 'k', 'WI', 'entropyBits', 'chainEntropyBits', 'gap', 'meanActivity', 'chainMeanActivity', ...netCols('gap')], scaling.map((x) => [x.N, x.k, x.WI, x.sim.entropyBits, x.chainH, x.sim.entropyBits - x.chainH, x.sim.meanActivity, x.chainAct, ...x.sim.nets.map((y) => y.entropyBits - x.chainH)])));
    const series = strengths.flatMap((WI) => {
      const rr = rows.filter((r) => r.WI === WI);
      return [{ name: `simulation W_I = ${WI}`, x: rr.map((r) => r.sim.lambda), y: rr.map((r) => r.sim.entropyBits) }, { name: `chain W_I = ${WI}`, x: rr.map((r) => r.sim.lambda), y: rr.map((r) => r.chain.entropyBits), style: 'dashed' as const }];
    });
    const svg = makeLinePlot({ title: `Simulation (mean of ${s.networks} networks) vs annealed chain (alpha = ${alpha}, N = ${s.N}, k = ${s.k})`, x: { label: 'lambda', unit: '' }, y: { label: 'entropy', unit: 'bits' }, series });
    c.out.write('chain.svg', svg);
    const scalRows = scaling.flatMap((x) => nets.map((net) => [x.N, x.k, x.WI, netName(net), valueAt(x.sim, net, (y) => y.entropyBits), x.chainH, scalGap(x, net), valueAt(x.sim, net, (y) => y.meanActivity), x.chainAct]));
    c.out.write('report.html', makeReportHtml({ title: this.title, subtitle: this.description, sections: [{ heading: 'Run size', text: `${runNote(c, `N = ${s.N}, k = ${s.k}; scaling N = ${sizes.map((z) => z.N).join(', ')}; ${s.networks} networks`)}\n\n${modelNote}` }, claimsSection(claims), checksSection(checks), { heading: 'Entropy: simulation vs chain', svg }, { heading: 'N / k scaling at lambda = 0.95', table: { columns: ['N', 'k', 'W_I', 'network', 'H sim', 'H chain', 'gap', 'activity sim', 'activity chain'], rows: scalRows } }], meta: { ...s, alpha, p0, backend: c.backend, seed: c.seed } }));
    return {
      summary: {
        ...s,
        alpha,
        p0,
        claims,
        weakGap: nets.map((net) => gap(nearest(0.25, 0.95), net)),
        strongGap: nets.map((net) => gap(nearest(8, 0.95), net)),
        scaling: scaling.map((x) => ({ N: x.N, k: x.k, WI: x.WI, H: x.sim.entropyBits, chainH: x.chainH, gapPerNetwork: x.sim.nets.map((y) => y.entropyBits - x.chainH), act: x.sim.meanActivity, chainAct: x.chainAct })),
      },
      checks,
    };
  },
};
