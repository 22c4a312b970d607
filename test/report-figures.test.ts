// The figures a reviewer reads: legends off the data, one colour per series group, extremes inside the frame,
// theory through its corners, a figure per sweep, the burn-in marked, units on times, human headings.
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makeLinePlot, makeScale, makeScatter, makeHistogramPlot } from '../src/report/svg.ts';
import { ei } from './helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'ei-report-figures-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

type Box = { x: number; y: number; w: number; h: number };

function legendBox(svg: string): Box {
  const m = /<g class="legend[^"]*">\n<rect x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg);
  if (!m) throw new Error('no legend');
  return { x: +m[1], y: +m[2], w: +m[3], h: +m[4] };
}

/** Every drawn vertex of the series paths (M/L commands) and markers, in pixels. */
function seriesPolylines(svg: string): [number, number][][] {
  const lines: [number, number][][] = [];
  for (const m of svg.matchAll(/<path class="series [^"]*" d="([^"]*)"/g)) {
    for (const part of m[1].split('M').filter(Boolean)) {
      lines.push(part.split('L').map((p) => p.replace(/h.*$/, '').trim().split(' ').map(Number) as [number, number]));
    }
  }
  for (const g of svg.matchAll(/<g class="series points"[^>]*>(.*?)<\/g>/g)) {
    for (const c of g[1].matchAll(/cx="([\d.-]+)" cy="([\d.-]+)"/g)) lines.push([[+c[1], +c[2]]]);
  }
  return lines;
}

/** Does the legend box touch any plotted point or segment (segments sampled every 0.25 px)? */
function legendCovers(svg: string): boolean {
  const b = legendBox(svg);
  const inside = (x: number, y: number) => x >= b.x && x <= b.x + b.w && y >= b.y && y <= b.y + b.h;
  for (const line of seriesPolylines(svg)) {
    if (line.length === 1 && inside(...line[0])) return true;
    for (let i = 1; i < line.length; i++) {
      const [a, c] = [line[i - 1], line[i]];
      const n = Math.ceil(Math.hypot(c[0] - a[0], c[1] - a[1]) * 4) + 1;
      for (let k = 0; k <= n; k++) if (inside(a[0] + ((c[0] - a[0]) * k) / n, a[1] + ((c[1] - a[1]) * k) / n)) return true;
    }
  }
  return false;
}

function frame(svg: string): Box {
  const m = /<rect class="axes" x="([\d.]+)" y="([\d.]+)" width="([\d.]+)" height="([\d.]+)"/.exec(svg)!;
  return { x: +m[1], y: +m[2], w: +m[3], h: +m[4] };
}

const t = Array.from({ length: 501 }, (_, i) => i * 0.01);

describe('legend placement', () => {
  it('goes below the axes when every corner has data (the hybrid means figure: m_E near the top right)', () => {
    const svg = makeLinePlot({
      title: 'Mean of u', x: { label: 'time', unit: 'tau' }, y: { label: 'mean u' },
      series: [
        { name: 'm_E particles', x: t, y: t.map((v) => 0.3 + 0.1 * Math.sin(v * 3)) },
        { name: 'm_E limit', x: t, y: t.map((v) => 0.2 + 0.2 * Math.exp(-v * 2)), style: 'dashed' },
        { name: 'm_I particles', x: t, y: t.map((v) => -0.7 - 0.1 * Math.sin(v * 2)) },
        { name: 'm_I limit', x: t, y: t.map(() => -0.8), style: 'dashed' },
      ],
    });
    expect(svg).toContain('class="legend below"');
    expect(legendBox(svg).y).toBeGreaterThan(frame(svg).y + frame(svg).h);
    expect(legendCovers(svg)).toBe(false);
  });

  it('takes a corner that covers nothing when one is free, also for a sparse line crossing it', () => {
    // Two vertices only: the segment crosses the top-right corner without a vertex inside it.
    const svg = makeLinePlot({ title: 'sparse', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 'a long series name here', x: [0, 1], y: [0, 1.05] }, { name: 'b', x: [0, 0.2], y: [0.9, 1] }] });
    expect(svg).not.toContain('legend below');
    expect(legendCovers(svg)).toBe(false);
  });

  it('never covers scatter points or histogram bars', () => {
    const xs = Array.from({ length: 400 }, (_, i) => (i * 7919) % 400 / 400);
    const ys = Array.from({ length: 400 }, (_, i) => (i * 104729) % 400 / 400);
    expect(legendCovers(makeScatter({ title: 's', x: { label: 'x' }, y: { label: 'y' }, series: [{ name: 'cloud', x: xs, y: ys }] }))).toBe(false);
    const edges = Array.from({ length: 21 }, (_, i) => i);
    const h = makeHistogramPlot({ title: 'h', x: { label: 'x' }, y: { label: 'n' }, edges, counts: edges.slice(1).map(() => 10), name: 'flat bars' });
    const b = legendBox(h);
    const f = frame(h);
    // Full-height flat bars leave no free corner: the legend is below the frame.
    expect(b.y).toBeGreaterThan(f.y + f.h);
  });
});

describe('series groups', () => {
  it('gives the points and the line of one group one colour and one legend entry, with marker/line keys', () => {
    const svg = makeLinePlot({
      title: 'g', x: { label: 'x' }, y: { label: 'y' },
      legendKeys: [{ name: 'simulation', kind: 'points' }, { name: 'theory', kind: 'line' }],
      series: [0.2, 0.4].flatMap((w) => [
        { name: `w ${w} theory`, group: `w = ${w}`, x: [0, 1], y: [0, w], style: 'line' as const },
        { name: `w ${w} simulation`, group: `w = ${w}`, x: [0, 0.5, 1], y: [0, w / 2, w], style: 'points' as const },
      ]),
    });
    const strokes = [...svg.matchAll(/<path class="series line"[^>]*stroke="(#[0-9A-Fa-f]{6})"/g)].map((m) => m[1]);
    const fills = [...svg.matchAll(/<g class="series points" fill="(#[0-9A-Fa-f]{6})"/g)].map((m) => m[1]);
    expect(strokes).toHaveLength(2);
    expect(fills).toEqual(strokes);
    expect(strokes[0]).not.toBe(strokes[1]);
    const legend = /<g class="legend[^"]*">([\s\S]*?)<\/g>/.exec(svg)![1];
    expect([...legend.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1])).toEqual(['simulation', 'theory', 'w = 0.2', 'w = 0.4']);
  });
});

describe('data extremes', () => {
  it('keeps markers on the data extremes inside the frame', () => {
    const svg = makeLinePlot({ title: 'wta', x: { label: 'C_in' }, y: { label: 'C_out' }, series: [{ name: 'p', x: [0, 0.3, 0.6], y: [0, 1, 1], style: 'points' }] });
    const f = frame(svg);
    for (const [cx, cy] of seriesPolylines(svg).map((l) => l[0])) {
      expect(cy).toBeGreaterThan(f.y + 2.6);
      expect(cy).toBeLessThan(f.y + f.h - 2.6);
      expect(cx).toBeGreaterThan(f.x + 2.6);
      expect(cx).toBeLessThan(f.x + f.w - 2.6);
    }
  });
});

describe('ticks', () => {
  it('gives at least three labelled ticks for small, odd and offset ranges, linear and log', () => {
    const cases: [number, number, boolean][] = [[0.31, 0.47, false], [0, 1e-3, false], [0.999, 1.001, false], [1000.0001, 1000.0003, false], [-1e-9, 1e-9, false], [7, 7, false], [2, 8, true], [0.011, 0.05, true], [0.02, 0.9, true], [15, 95, true], [0.3, 0.9, true]];
    for (const [a, b, log] of cases) {
      const s = makeScale(a, b, [300, 0], { label: 'y', log });
      expect(s.ticks.length, `${a}..${b}${log ? ' log' : ''}`).toBeGreaterThanOrEqual(3);
      expect(new Set(s.ticks.map((k) => k.label)).size, `distinct labels ${a}..${b}`).toBe(s.ticks.length);
    }
  });
});

describe('shaded intervals', () => {
  it('shades and labels the burn-in', () => {
    const svg = makeLinePlot({ title: 's', x: { label: 'time', unit: 's' }, y: { label: 'y' }, series: [{ name: 'y', x: t, y: t }], shades: [{ from: 0, to: 2, label: 'burn-in' }] });
    const m = /<rect class="shade" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"/.exec(svg)!;
    const f = frame(svg);
    expect(+m[1]).toBeCloseTo(f.x, 1);
    expect(+m[2]).toBeCloseTo((f.w * 2) / 5, 1);
    expect(svg).toContain('>burn-in</text>');
  });
});

describe('run and reproduction figures', () => {
  const headings = (html: string) => [...html.matchAll(/<h2>([^<]*)<\/h2>/g)].map((m) => m[1]);

  it('hybrid: burn-in marked, dt with its unit, human headings', async () => {
    const out = join(root, 'hybrid');
    const r = await ei('run', 'hybrid', '--n', '200', '--T', '3', '--backend', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(0);
    const means = readFileSync(join(out, 'means.svg'), 'utf8');
    expect(means).toContain('class="shade"');
    expect(means).toMatch(/burn-in \(2 tau/);
    expect(means).toMatch(/dt = [\d.e-]+ tau/);
    const html = readFileSync(join(out, 'report.html'), 'utf8');
    expect(html).toMatch(/<tr><th>dt<\/th><td>[\d.e-]+ time units</);
    const svgNames = readdirSync(out).filter((f) => f.endsWith('.svg')).map((f) => f.replace(/\.svg$/, ''));
    for (const h of headings(html)) {
      expect(h).not.toMatch(/\.(svg|csv|json)$/);
      expect(svgNames).not.toContain(h);
    }
    expect(headings(html)).toContain('Mean of u');
    // No burn-in, no mark.
    const out0 = join(root, 'hybrid-0');
    expect((await ei('run', 'hybrid', '--n', '200', '--T', '3', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', out0)).code).toBe(0);
    expect(readFileSync(join(out0, 'means.svg'), 'utf8')).not.toContain('class="shade"');
  });

  it('replicates (ei run --batch of one parameter set) are their mean with a min-max band; distinct points are not', async () => {
    const out = join(root, 'poisson-batch');
    expect((await ei('run', 'poisson', '--n', '300', '--steps', '400', '--set', 'burnin=0.01', '--batch', '3', '--backend', 'cpu', '--quiet', '--out', out)).code).toBe(0);
    const rate = readFileSync(join(out, 'rate.svg'), 'utf8');
    expect(rate).toContain('<path class="band"');
    expect(rate).toContain('mean of 3 replicates, band: their min-max');
    expect(rate).toContain('rate sim (mean of 3)');
    expect(rate).not.toContain('#1');
    const h = join(root, 'hybrid-batch');
    expect((await ei('run', 'hybrid', '--n', '200', '--T', '1', '--batch', '2', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', h)).code).toBe(0);
    const means = readFileSync(join(h, 'means.svg'), 'utf8');
    expect(means.match(/<path class="band"/g)?.length).toBe(2);
    expect(means).toContain('m_E particles (mean of 2)');
    // One instance: no band.
    expect(readFileSync(join(root, 'hybrid', 'means.svg'), 'utf8')).not.toContain('class="band"');
  });

  it('rate-lateral: shared colours, theory through the clamp corner, a competition figure', async () => {
    const out = join(root, 'lateral');
    const r = await ei('reproduce', 'rate-lateral', '--quick', '--backend', 'cpu', '--quiet', '--out', out);
    expect([0, 3], r.err).toContain(r.code);
    const svg = readFileSync(join(out, 'contrast.svg'), 'utf8');
    const strokes = [...svg.matchAll(/<path class="series line"[^>]*stroke="(#[0-9A-Fa-f]{6})"/g)].map((m) => m[1]);
    const fills = [...svg.matchAll(/<g class="series points" fill="(#[0-9A-Fa-f]{6})"/g)].map((m) => m[1]);
    expect(strokes).toHaveLength(4);
    expect(fills).toEqual(strokes);
    expect(svg).toMatch(/>simulation<\/text>/);
    expect(svg).toMatch(/>theory<\/text>/);
    // wEE = 0.2: G = (0.8 + 1/3) / (0.8 - 1/3), the clamp corner at C_in = 1/G, C_out = 1 is a vertex of its line.
    const G = (0.8 + 1 / 3) / (0.8 - 1 / 3);
    const f = frame(svg);
    const xTicks = [...svg.matchAll(/<text class="tick-label x" x="([\d.]+)"[^>]*>([^<]*)</g)].map((m) => [+m[1], Number(m[2].replace('\u2212', '-'))]);
    const yTicks = [...svg.matchAll(/<text class="tick-label y" x="[\d.]+" y="([\d.]+)"[^>]*>([^<]*)</g)].map((m) => [+m[1] - 4, Number(m[2].replace('\u2212', '-'))]);
    const xpx = (v: number) => xTicks[0][0] + ((v - xTicks[0][1]) * (xTicks[1][0] - xTicks[0][0])) / (xTicks[1][1] - xTicks[0][1]);
    const ypx = (v: number) => yTicks[0][0] + ((v - yTicks[0][1]) * (yTicks[1][0] - yTicks[0][0])) / (yTicks[1][1] - yTicks[0][1]);
    const first = seriesPolylines(svg)[0];
    expect(first.some(([x, y]) => Math.abs(x - xpx(1 / G)) < 0.02 && Math.abs(y - ypx(1)) < 0.02)).toBe(true);
    // Winner-take-all points (C_out = 1) are inside the frame, not on its top edge.
    const top = seriesPolylines(svg).filter((l) => l.length === 1).map((l) => l[0][1]);
    expect(Math.min(...top)).toBeGreaterThan(f.y + 2.6);
    const comp = readFileSync(join(out, 'competition.svg'), 'utf8');
    expect(comp).toContain('self-excitation w_EE');
    expect(readFileSync(join(out, 'report.html'), 'utf8')).toContain('<h2>Soft vs winner-take-all competition</h2>');
  });
});
