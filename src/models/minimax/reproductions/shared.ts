// Pieces the minimax reproductions share: the source line, run notes, raster figures and number formatting.
import { makeLinePlot } from '../../../report/svg.ts';
import type { MinimaxRunResult } from '../network.ts';

export type { Check } from '../../../report/checks.ts';

export const minimaxSource = 'Li & Pehlevan, NeurIPS 2020 (arXiv 2006.08115); parameters from docs/models/minimax-spiking.md';

export const fmt = (x: number, d = 3): string => (Number.isFinite(x) ? (Math.abs(x) >= 1e4 || (Math.abs(x) < 1e-3 && x !== 0) ? x.toExponential(2) : x.toFixed(d)) : String(x));

export function quickNote(quick: boolean, what: string): string {
  return quick ? `QUICK RUN (${what}). Statistics are noisier than the full run's; run without --quick for the spec's sizes.` : `Full run (${what}).`;
}

/** Raster of instance b (neurons on y, E then I) over raster steps [from, to), at most `maxPoints` spikes drawn. */
export function makeRasterPlot(r: MinimaxRunResult, b: number, title: string, dt: number, rasterFrom: number, opts: { from?: number; to?: number; maxPoints?: number } = {}): string {
  const raster = r.raster;
  if (!raster) throw new Error('makeRasterPlot: no raster recorded');
  const W = r.rasterWords;
  const steps = raster.length / (r.batch * W);
  const from = opts.from ?? 0;
  const to = Math.min(steps, opts.to ?? steps);
  const max = opts.maxPoints ?? 20000;
  const ex: number[] = [];
  const ey: number[] = [];
  const ix: number[] = [];
  const iy: number[] = [];
  for (let s = from; s < to && ex.length + ix.length < max; s++) {
    for (let w = 0; w < W; w++) {
      let bits = raster[(b * steps + s) * W + w];
      while (bits !== 0) {
        const low = bits & -bits;
        const n = w * 32 + 31 - Math.clz32(low);
        bits ^= low;
        const t = (rasterFrom + s) * dt;
        if (n < r.nE) {
          ex.push(t);
          ey.push(n);
        } else {
          ix.push(t);
          iy.push(n);
        }
      }
    }
  }
  return makeLinePlot({
    title,
    x: { label: 'time', unit: 's' },
    y: { label: 'neuron (E below, I above)', unit: '' },
    series: [
      { name: 'E spikes', x: ex, y: ey, style: 'points', color: '#c0392b' },
      { name: 'I spikes', x: ix, y: iy, style: 'points', color: '#2c6fbb' },
    ],
    legend: 'top-right',
  });
}
