// Unit tests of the dependency-free SVG figures and the HTML report: well-formed markup, labelled axes, ticks, robustness to bad data.
import { describe, expect, it } from 'vitest';
import {
  axisTitle,
  colormapColor,
  decadeTicks,
  escapeXml,
  formatTick,
  makeHeatmap,
  makeHistogramPlot,
  makeLinePlot,
  makeScale,
  makeScatter,
  niceTicks,
} from '../src/report/svg.ts';
import { makeReportHtml } from '../src/report/html.ts';
import { ParameterError } from '../src/errors.ts';

/** A tiny well-formedness check: tags balance, attributes are quoted, entities are known. */
function checkXml(text: string): { root: string; counts: Map<string, number> } {
  const stack: string[] = [];
  const counts = new Map<string, number>();
  let root = '';
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>|<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>/g;
  let last = 0;
  let m: RegExpExecArray | null;
  const checkText = (t: string) => {
    expect(t, 'stray < in text').not.toMatch(/</);
    for (const e of t.match(/&[^;\s]*;?/g) ?? []) expect(e, 'entity').toMatch(/^&(amp|lt|gt|quot|#39|#\d+|#x[0-9a-fA-F]+);$/);
  };
  while ((m = tag.exec(text))) {
    checkText(text.slice(last, m.index));
    last = tag.lastIndex;
    if (!m[2]) continue;
    const [, close, name, attrs, selfClose] = m;
    for (const a of attrs.match(/"[^"]*"/g) ?? []) checkText(a.slice(1, -1));
    if (close) {
      expect(stack.pop(), `closing </${name}>`).toBe(name);
    } else {
      if (!root) root = name;
      else expect(stack.length, `second root <${name}>`).toBeGreaterThan(0);
      counts.set(name, (counts.get(name) ?? 0) + 1);
      if (!selfClose) stack.push(name);
    }
  }
  checkText(text.slice(last));
  expect(stack, 'unclosed tags').toEqual([]);
  return { root, counts };
}

function texts(svg: string, cls: string): string[] {
  const re = new RegExp(`<text class="${cls}"[^>]*>([^<]*)</text>`, 'g');
  return [...svg.matchAll(re)].map((m) => m[1]);
}

const t = Array.from({ length: 101 }, (_, i) => i * 0.01);

describe('ticks', () => {
  it('niceTicks uses 1-2-5 steps', () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(0, 10, 6)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(niceTicks(-3, 3, 6)).toEqual([-3, -2, -1, 0, 1, 2, 3]);
    expect(niceTicks(0, 0.3, 3)).toEqual([0, 0.1, 0.2, 0.3]);
    const steps = new Set<number>();
    for (const [a, b] of [[0, 7], [1, 1234], [0.001, 0.0173], [-50, 20]]) {
      const ticks = niceTicks(a, b);
      const step = ticks[1] - ticks[0];
      const mant = Number((step / 10 ** Math.floor(Math.log10(step) + 1e-9)).toPrecision(6));
      steps.add(mant);
      expect(ticks.length).toBeGreaterThanOrEqual(3);
    }
    for (const s of steps) expect([1, 2, 5]).toContain(s);
  });

  it('linear scales widen to nice ends and format with the step precision', () => {
    const s = makeScale(0.03, 0.41, [0, 100], { label: 'p' });
    expect(s.domain).toEqual([0, 0.5]);
    expect(s.ticks.map((k) => k.label)).toEqual(['0', '0.1', '0.2', '0.3', '0.4', '0.5']);
  });

  it('log scales tick at decades', () => {
    expect(decadeTicks(0.5, 2000)).toEqual([1, 10, 100, 1000]);
    const s = makeScale(100, 1e6, [0, 500], { label: 'N', log: true });
    expect(s.ticks.map((k) => k.value)).toEqual([100, 1000, 1e4, 1e5, 1e6]);
    expect(s.ticks.map((k) => k.label)).toEqual(['100', '1000', '10\u2074', '10\u2075', '10\u2076']);
    expect(s.minor).toContain(200);
    expect(s.minor).toContain(9e5);
    // Equal spacing per decade.
    const px = s.ticks.map((k) => s.map(k.value));
    for (let i = 2; i < px.length; i++) expect(px[i] - px[i - 1]).toBeCloseTo(px[1] - px[0], 9);
  });

  it('log scales within one decade still get at least two labels', () => {
    const s = makeScale(2, 8, [0, 100], { label: 'x', log: true });
    expect(s.ticks.length).toBeGreaterThanOrEqual(2);
  });

  it('formats very small and large values with powers of ten', () => {
    expect(formatTick(2e-6, 1e-6)).toBe('2\u00D710\u207B\u2076');
    expect(formatTick(3e7, 1e7)).toBe('3\u00D710\u2077');
    expect(formatTick(-0.5, 0.5)).toBe('\u22120.5');
  });
});

describe('line plot', () => {
  it('is well-formed SVG with labelled axes, title and legend', () => {
    const svg = makeLinePlot({
      title: 'Rate <E> & <I>',
      x: { label: 'time', unit: 's' },
      y: { label: 'rate', unit: 'Hz' },
      series: [
        { name: 'E', x: t, y: t.map((v) => 5 + Math.sin(v * 6)), band: { lo: t.map(() => 3), hi: t.map(() => 7) } },
        { name: 'I "pop"', x: t, y: t.map((v) => 8 + Math.cos(v * 6)), style: 'dashed' },
        { name: 'steps', x: t, y: t.map((v) => Math.round(v * 5)), style: 'step' },
        { name: 'samples', x: [0.1, 0.5], y: [2, 3], style: 'points' },
      ],
    });
    const { root, counts } = checkXml(svg);
    expect(root).toBe('svg');
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(texts(svg, 'axis-label x')).toEqual(['time (s)']);
    expect(texts(svg, 'axis-label y')).toEqual(['rate (Hz)']);
    expect(svg).toContain('Rate &lt;E&gt; &amp; &lt;I&gt;');
    expect(svg).toContain('I &quot;pop&quot;');
    expect(svg).toContain('class="band"');
    expect(svg).toContain('stroke-dasharray');
    expect(counts.get('circle')).toBeGreaterThanOrEqual(2);
    expect(svg).not.toMatch(/NaN|Infinity|undefined/);
  });

  it('skips NaN and Infinity points without crashing, and says so', () => {
    const y = t.map((v) => v * 2);
    y[10] = NaN;
    y[20] = Infinity;
    y[30] = -Infinity;
    const svg = makeLinePlot({ title: 'gaps', x: { label: 'time', unit: 's' }, y: { label: 'v', unit: 'mV' }, series: [{ name: 'v', x: t, y }] });
    checkXml(svg);
    expect(svg).not.toMatch(/NaN|Infinity/);
    expect(svg).toContain('3 points not drawn (non-finite)');
    // The path breaks at each gap: four segments, four moveto commands.
    const d = /class="series line" d="([^"]*)"/.exec(svg)![1];
    expect(d.match(/M/g)!.length).toBe(4);
  });

  it('drops non-positive values on log axes', () => {
    const svg = makeLinePlot({ title: 'log', x: { label: 'N', log: true }, y: { label: 'var', unit: 'Hz\u00B2', log: true }, series: [{ name: 's', x: [0, 10, 100, 1000], y: [1, 0.1, -1, 0.001] }] });
    checkXml(svg);
    expect(svg).toContain('2 points not drawn (non-finite or non-positive on a log axis)');
    expect(texts(svg, 'axis-label y')).toEqual(['var (Hz\u00B2)']);
  });

  it('shows a visible "no data" note for empty or all-NaN input', () => {
    for (const series of [[], [{ name: 'nan', x: [1, 2], y: [NaN, NaN] }], [{ name: 'empty', x: [], y: [] }]]) {
      const svg = makeLinePlot({ title: 'empty', x: { label: 'time', unit: 's' }, y: { label: 'rate', unit: 'Hz' }, series });
      checkXml(svg);
      expect(texts(svg, 'no-data')).toEqual(['no data']);
      expect(svg).not.toMatch(/NaN|Infinity/);
    }
  });

  it('handles a constant series and decimates long traces', () => {
    const n = 200_000;
    const x = Float64Array.from({ length: n }, (_, i) => i);
    const y = Float64Array.from({ length: n }, (_, i) => Math.sin(i / 100));
    const svg = makeLinePlot({ title: 'long', x: { label: 'step' }, y: { label: 'y' }, series: [{ name: 'y', x, y }, { name: 'c', x: [0, n], y: [0.5, 0.5] }] });
    checkXml(svg);
    expect(svg.length).toBeLessThan(200_000);
    const flat = makeLinePlot({ title: 'flat', x: { label: 'a' }, y: { label: 'b' }, series: [{ name: 'c', x: [1, 2], y: [3, 3] }] });
    expect(flat).not.toMatch(/NaN/);
  });

  it('rejects mismatched lengths with a ParameterError', () => {
    expect(() => makeLinePlot({ title: 'x', x: { label: 'a' }, y: { label: 'b' }, series: [{ name: 's', x: [1, 2, 3], y: [1, 2] }] })).toThrow(ParameterError);
  });

  it('gives every figure distinct ids so several can share one HTML page', () => {
    const a = makeLinePlot({ title: 'A', x: { label: 'a' }, y: { label: 'b' }, series: [] });
    const b = makeLinePlot({ title: 'B', x: { label: 'a' }, y: { label: 'b' }, series: [] });
    const id = (s: string) => /clipPath id="([^"]+)"/.exec(s)![1];
    expect(id(a)).not.toBe(id(b));
    expect(makeLinePlot({ title: 'A', x: { label: 'a' }, y: { label: 'b' }, series: [] })).toBe(a);
  });
});

describe('histogram', () => {
  it('draws one bar per bin with a Gaussian overlay', () => {
    const edges = Array.from({ length: 21 }, (_, i) => -4 + i * 0.4);
    const counts = edges.slice(0, -1).map((e) => Math.round(1000 * Math.exp(-((e + 0.2) ** 2) / 2)));
    const xs = Array.from({ length: 81 }, (_, i) => -4 + i * 0.1);
    const svg = makeHistogramPlot({
      title: 'input', x: { label: 'input', unit: 'mV' }, y: { label: 'count' }, edges, counts,
      overlays: [{ name: 'Gaussian', x: xs, y: xs.map((v) => 1000 * Math.exp(-(v * v) / 2)) }],
    });
    checkXml(svg);
    expect(svg.match(/class="bar"/g)!.length).toBe(20);
    expect(texts(svg, 'axis-label x')).toEqual(['input (mV)']);
    expect(svg).toContain('Gaussian');
  });

  it('validates edges and handles empty input', () => {
    expect(() => makeHistogramPlot({ title: 'h', x: { label: 'a' }, y: { label: 'b' }, edges: [0, 1], counts: [1, 2] })).toThrow(/bins \+ 1 edges/);
    expect(() => makeHistogramPlot({ title: 'h', x: { label: 'a' }, y: { label: 'b' }, edges: [0, 1, 1], counts: [1, 2] })).toThrow(ParameterError);
    const svg = makeHistogramPlot({ title: 'h', x: { label: 'a' }, y: { label: 'b' }, edges: [], counts: [] });
    checkXml(svg);
    expect(texts(svg, 'no-data')).toEqual(['no data']);
  });
});

describe('heatmap', () => {
  const xValues = [1, 2, 3, 4, 5];
  const yValues = [10, 20, 30];
  const z = Array.from({ length: 15 }, (_, i) => i);

  it('draws one cell per grid point, a colour bar with its label, and contours', () => {
    const zz = z.slice();
    zz[7] = NaN;
    const svg = makeHeatmap({
      title: 'entropy', x: { label: 'W_E' }, y: { label: 'W_I', unit: 'mV' }, xValues, yValues, z: zz,
      zLabel: 'entropy', zUnit: 'bits', contours: [{ name: 'boundary', x: [1, 5], y: [10, 30] }],
    });
    checkXml(svg);
    expect(svg.match(/class="cell[ "]/g)!.length).toBe(15);
    expect(svg.match(/class="cell missing"/g)!.length).toBe(1);
    expect(texts(svg, 'axis-label z')).toEqual(['entropy (bits)']);
    expect(texts(svg, 'axis-label y')).toEqual(['W_I (mV)']);
    expect(svg).toContain('linearGradient');
    expect(svg).toContain('boundary');
    expect(svg).toContain('1 cell without a finite value (grey)');
    // Lowest value gets the first viridis colour, highest the last.
    expect(svg).toContain('fill="#440154"');
    expect(svg).toContain('fill="#fde725"');
  });

  it('rejects a z of the wrong size and non-monotonic axes', () => {
    expect(() => makeHeatmap({ title: 'h', x: { label: 'a' }, y: { label: 'b' }, xValues, yValues, z: z.slice(1), zLabel: 'z' })).toThrow(/row-major/);
    expect(() => makeHeatmap({ title: 'h', x: { label: 'a' }, y: { label: 'b' }, xValues: [1, 3, 2, 4, 5], yValues, z, zLabel: 'z' })).toThrow(ParameterError);
  });

  it('supports log axes and empty grids', () => {
    checkXml(makeHeatmap({ title: 'h', x: { label: 'N', log: true }, y: { label: 'b' }, xValues: [100, 1000, 10000, 1e5, 1e6], yValues, z, zLabel: 'z' }));
    const empty = makeHeatmap({ title: 'h', x: { label: 'a' }, y: { label: 'b' }, xValues: [], yValues: [], z: [], zLabel: 'z' });
    checkXml(empty);
    expect(texts(empty, 'no-data')).toEqual(['no data']);
  });

  it('interpolates the colormap', () => {
    expect(colormapColor(0)).toBe('#440154');
    expect(colormapColor(1)).toBe('#fde725');
    expect(colormapColor(0.5)).toBe('#21918c');
    expect(colormapColor(2)).toBe('#fde725');
    expect(colormapColor(NaN)).toBe('#440154');
  });
});

describe('scatter', () => {
  it('draws points and a y = x reference over a shared range', () => {
    const svg = makeScatter({
      title: 'rates', x: { label: 'predicted rate', unit: 'Hz' }, y: { label: 'simulated rate', unit: 'Hz' },
      series: [{ name: 'E', x: [1, 2, 3, NaN], y: [1.1, 1.9, 3.2, 4] }], identity: true,
    });
    checkXml(svg);
    const points = /<g class="series points"[^>]*>(.*?)<\/g>/.exec(svg)![1];
    expect(points.match(/<circle/g)!.length).toBe(3);
    expect(svg).toContain('class="reference identity"');
    expect(svg).toContain('y = x');
    const xt = texts(svg, 'tick-label x');
    const yt = texts(svg, 'tick-label y');
    expect(xt).toEqual(yt);
    expect(svg).toContain('1 point not drawn');
  });
});

describe('helpers', () => {
  it('escapes XML and builds axis titles with units', () => {
    expect(escapeXml(`a<b>&"c'\u0001`)).toBe('a&lt;b&gt;&amp;&quot;c&#39;');
    expect(axisTitle({ label: 'time', unit: 's' })).toBe('time (s)');
    expect(axisTitle({ label: 'entropy' })).toBe('entropy');
  });
});

describe('HTML report', () => {
  it('is a standalone page with inline SVG, an escaped summary table and metadata', () => {
    const svg = makeLinePlot({ title: 'fig', x: { label: 'time', unit: 's' }, y: { label: 'rate', unit: 'Hz' }, series: [{ name: 'r', x: [0, 1], y: [1, 2] }] });
    const html = makeReportHtml({
      title: 'Hybrid <balanced> run',
      subtitle: 'N = 10000',
      sections: [
        { heading: 'Rates', text: 'First paragraph.\n\nSecond <b>not bold</b>.', svg },
        { heading: 'Summary', table: { columns: ['quantity', 'measured', 'expected', 'ok'], rows: [['mean rate (Hz)', 10.00012345678, 10, true], ['variance', NaN, 0.5, false], ['note', null, null, null]] } },
      ],
      meta: { seed: 42, adapter: { vendor: 'nvidia' }, big: 10n, evil: '</script><b>' },
    });
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).toContain('<svg xmlns');
    expect(html).toContain('<style>');
    expect(html).not.toMatch(/<script(?![^>]*application\/json)/);
    expect(html).not.toContain('<script src');
    expect(html).toContain('Hybrid &lt;balanced&gt; run');
    expect(html).toContain('Second &lt;b&gt;not bold&lt;/b&gt;.');
    expect(html.match(/<p>/g)!.length).toBeGreaterThanOrEqual(2);
    expect(html).toContain('10.0001');
    expect(html).toContain('\u2713 pass');
    expect(html).toContain('\u2717 fail');
    expect(html).toContain('NaN');
    // The JSON block cannot be closed by a value.
    const json = /<script type="application\/json" id="ei-meta">([\s\S]*?)<\/script>/.exec(html)![1];
    expect(JSON.parse(json)).toEqual({ seed: 42, adapter: { vendor: 'nvidia' }, big: '10', evil: '</script><b>' });
  });
});
