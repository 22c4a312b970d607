// Dependency-free SVG figures (line, histogram, heatmap, scatter) rendered as strings, so Node runs can write figures without a browser.
import { ParameterError } from '../errors.ts';

// ---------------------------------------------------------------------------------------------
// Public types

/** One axis: its label and unit are always printed together, e.g. "time (s)". */
export interface AxisSpec {
  label: string;
  /** Physical unit; omitted or '' for dimensionless quantities. */
  unit?: string;
  log?: boolean;
  /** Fixed ends; when omitted the data range is used (linear axes are widened to nice ticks). */
  min?: number;
  max?: number;
}

export type SeriesStyle = 'line' | 'points' | 'step' | 'dashed';

export interface PlotSeries {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  style?: SeriesStyle;
  /** CSS colour; defaults to a colour-blind-safe palette by series order. */
  color?: string;
  /** Shaded interval drawn under the series, e.g. mean +- 1 s.d.; same length as x. */
  band?: { lo: ArrayLike<number>; hi: ArrayLike<number> };
  /**
   * Series with the same group (e.g. simulation points and theory line of one parameter value) share one
   * colour and one legend entry named by the group, whose swatch shows every style in it.
   */
  group?: string;
}

/** A legend entry that explains a style rather than a series, e.g. marker = simulation, line = theory. */
export interface LegendKey {
  name: string;
  kind: SeriesStyle;
}

/** A shaded x interval with a label, e.g. the burn-in excluded from time averages. */
export interface XShade {
  from: number;
  to: number;
  label: string;
}

/** 'auto': an inside corner that covers no data, else below the x-axis title; 'below' forces the latter. */
export type LegendPosition = 'auto' | 'top-right' | 'top-left' | 'bottom-right' | 'bottom-left' | 'below' | 'none';

interface CommonPlotOptions {
  title: string;
  x: AxisSpec;
  y: AxisSpec;
  width?: number;
  height?: number;
  legend?: LegendPosition;
  /** Extra small-print lines under the figure (parameters, seed, ...). */
  notes?: string[];
}

export interface LinePlotOptions extends CommonPlotOptions {
  series: PlotSeries[];
  /** Grey style entries drawn first in the legend (which marker means what). */
  legendKeys?: LegendKey[];
  /** Shaded x intervals under the data, each labelled at the top of the frame. */
  shades?: XShade[];
}

export interface HistogramPlotOptions extends CommonPlotOptions {
  /** Bin edges, strictly increasing, length = bins + 1. */
  edges: ArrayLike<number>;
  /** Bar heights: give counts or densities (densities win when both are given). */
  counts?: ArrayLike<number>;
  densities?: ArrayLike<number>;
  /** Legend name of the bars. */
  name?: string;
  color?: string;
  /** Curves drawn over the bars, e.g. a Gaussian pdf. */
  overlays?: PlotSeries[];
}

export type Colormap = 'viridis' | 'magma';

export interface ContourLine {
  name: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  color?: string;
}

export interface HeatmapOptions extends CommonPlotOptions {
  /** Cell centres along x (columns) and y (rows), strictly monotonic. */
  xValues: ArrayLike<number>;
  yValues: ArrayLike<number>;
  /** Row-major values: z[iy * xValues.length + ix]; non-finite cells are drawn grey. */
  z: ArrayLike<number>;
  zLabel: string;
  zUnit?: string;
  zMin?: number;
  zMax?: number;
  colormap?: Colormap;
  /** Polylines drawn on top, e.g. a theoretical phase boundary. */
  contours?: ContourLine[];
}

export interface ScatterOptions extends CommonPlotOptions {
  series: PlotSeries[];
  /** Draw the y = x reference line (and give both axes the same range). */
  identity?: boolean | { name?: string };
}

// ---------------------------------------------------------------------------------------------
// Text and number helpers

/** Escapes text for XML content and attribute values; drops control characters XML 1.0 forbids. */
export function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** "time (s)", or just "entropy" for a dimensionless axis. */
export function axisTitle(axis: { label: string; unit?: string }): string {
  return axis.unit ? `${axis.label} (${axis.unit})` : axis.label;
}

// Pixel coordinates rounded to 1/100 px keep files small without visible change.
function px(v: number): string {
  const r = Math.round(v * 100) / 100;
  return String(Object.is(r, -0) ? 0 : r);
}

const SUPERSCRIPT: Record<string, string> = {
  '-': '\u207B', '0': '\u2070', '1': '\u00B9', '2': '\u00B2', '3': '\u00B3', '4': '\u2074',
  '5': '\u2075', '6': '\u2076', '7': '\u2077', '8': '\u2078', '9': '\u2079',
};

function superscript(n: number): string {
  return String(n).split('').map((c) => SUPERSCRIPT[c] ?? c).join('');
}

/**
 * A tick label for value `v` on an axis whose tick spacing is `step`: fixed decimals just
 * fine enough for the step, switching to "a×10ⁿ" for very large or very small magnitudes.
 */
export function formatTick(v: number, step: number): string {
  if (v === 0) return '0';
  const av = Math.abs(v);
  // By magnitude only: a fine step on a large offset (1000.0001, 1000.0002) needs decimals, not 10³ six times.
  if (av >= 1e6 || av < 1e-4 || (step < 1e-4 && step / av > 1e-3)) {
    const exp = Math.floor(Math.log10(av) + 1e-12);
    const mant = Number((v / 10 ** exp).toPrecision(6));
    const base = `10${superscript(exp)}`;
    return mant === 1 ? base : mant === -1 ? `\u2212${base}` : `${String(mant).replace('-', '\u2212')}\u00D7${base}`;
  }
  const decimals = Math.max(0, Math.min(12, -Math.floor(Math.log10(step) + 1e-9)));
  return v.toFixed(decimals).replace('-', '\u2212');
}

// ---------------------------------------------------------------------------------------------
// Ticks and scales

/** The 1-2-5 step closest to dividing `span` into `target` intervals. */
export function niceStep(span: number, target = 6): number {
  if (!(span > 0) || !Number.isFinite(span)) return 1;
  const raw = span / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const r = raw / mag;
  // Thresholds at the geometric means of neighbouring nice steps pick the closest one.
  const m = r < Math.SQRT2 ? 1 : r < Math.sqrt(10) ? 2 : r < Math.sqrt(50) ? 5 : 10;
  return m * mag;
}

/** Multiples of a 1-2-5 step within [min, max] (inclusive, with round-off tolerance). */
export function niceTicks(min: number, max: number, target = 6): number[] {
  if (!Number.isFinite(min) || !Number.isFinite(max)) return [];
  if (min > max) [min, max] = [max, min];
  if (min === max) return [min];
  const step = niceStep(max - min, target);
  const eps = 1e-9;
  const k0 = Math.ceil(min / step - eps);
  const k1 = Math.floor(max / step + eps);
  const out: number[] = [];
  for (let k = k0; k <= k1; k++) {
    const v = Number((k * step).toPrecision(12));
    out.push(Object.is(v, -0) ? 0 : v);
  }
  return out;
}

/** Powers of ten within [min, max] (both > 0). */
export function decadeTicks(min: number, max: number): number[] {
  if (!(min > 0) || !(max > 0) || !Number.isFinite(min) || !Number.isFinite(max)) return [];
  const out: number[] = [];
  for (let e = Math.ceil(Math.log10(min) - 1e-9); e <= Math.floor(Math.log10(max) + 1e-9); e++) {
    out.push(Number((10 ** e).toPrecision(12)));
  }
  return out;
}

export interface Tick {
  value: number;
  label: string;
}

/** A mapping from data values to pixels along one axis, with its ticks. */
export interface Scale {
  domain: [number, number];
  range: [number, number];
  log: boolean;
  map(v: number): number;
  ticks: Tick[];
  minor: number[];
}

/**
 * Builds a scale from data extents; linear domains widen to the enclosing nice ticks. `pad` (a fraction
 * of the span) moves a free end outward when the data reach it, so markers on the extremes are not cut by the frame.
 */
export function makeScale(
  dataMin: number,
  dataMax: number,
  range: [number, number],
  axis: AxisSpec,
  target = 6,
  pad = 0,
): Scale {
  const log = axis.log === true;
  let lo = axis.min ?? dataMin;
  let hi = axis.max ?? dataMax;
  if (!Number.isFinite(lo) || !Number.isFinite(hi) || (log && (lo <= 0 || hi <= 0))) {
    [lo, hi] = log ? [1, 10] : [0, 1];
  }
  if (lo > hi) [lo, hi] = [hi, lo];
  if (lo === hi) {
    if (log) [lo, hi] = [lo / 2, hi * 2];
    else if (lo === 0) [lo, hi] = [-1, 1];
    else [lo, hi] = [lo - Math.abs(lo) * 0.1, hi + Math.abs(hi) * 0.1];
  }
  let ticks: Tick[];
  let minor: number[] = [];
  if (!log) {
    // Widening can change the best step (0.41 -> 0.45 -> step 0.1), so snap until it is stable.
    let step = niceStep(hi - lo, target);
    for (let pass = 0; pass < 3; pass++) {
      if (axis.min === undefined) lo = Number((Math.floor(lo / step + 1e-9) * step).toPrecision(12));
      if (axis.max === undefined) hi = Number((Math.ceil(hi / step - 1e-9) * step).toPrecision(12));
      const next = niceStep(hi - lo, target);
      if (next === step) break;
      step = next;
    }
    ticks = niceTicks(lo, hi, target).map((v) => ({ value: v, label: formatTick(v, step) }));
    const margin = pad * (hi - lo);
    if (margin > 0 && Number.isFinite(dataMin) && Number.isFinite(dataMax)) {
      if (axis.min === undefined && dataMin - lo < margin) lo = Number((lo - margin).toPrecision(12));
      if (axis.max === undefined && hi - dataMax < margin) hi = Number((hi + margin).toPrecision(12));
    }
  } else {
    // Log axes keep the data range (padded 3% of its decades) rather than whole decades.
    const l0 = Math.log10(lo);
    const l1 = Math.log10(hi);
    const pad = (l1 - l0) * 0.03;
    if (axis.min === undefined) lo = 10 ** (l0 - pad);
    if (axis.max === undefined) hi = 10 ** (l1 + pad);
    const decades = decadeTicks(lo, hi);
    const span = Math.log10(hi) - Math.log10(lo);
    const every = Math.max(1, Math.ceil(decades.length / 8));
    const labelled = decades.filter((d) => Math.round(Math.log10(d)) % every === 0);
    ticks = labelled.map((v) => ({ value: v, label: formatLogTick(v) }));
    if (span <= 8) {
      for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
        for (let m = 2; m <= 9; m++) {
          const v = Number((m * 10 ** e).toPrecision(12));
          if (v >= lo && v <= hi) minor.push(v);
        }
      }
    }
    if (every > 1) minor = minor.concat(decades.filter((d) => !labelled.includes(d)));
    if (ticks.length < 3) {
      // Less than three decades visible: label 2x and 5x too, then fall back to linear ticks.
      const extra = minor.filter((v) => [2, 5].includes(Math.round(v / 10 ** Math.floor(Math.log10(v) + 1e-9))));
      ticks = ticks.concat(extra.map((v) => ({ value: v, label: formatPlain(v) }))).sort((a, b) => a.value - b.value);
      if (ticks.length < 3) {
        const step = niceStep(hi - lo, 4);
        ticks = niceTicks(lo, hi, 4).filter((v) => v > 0).map((v) => ({ value: v, label: formatTick(v, step) }));
      }
      const labelledValues = new Set(ticks.map((t) => t.value));
      minor = minor.filter((v) => !labelledValues.has(v));
    }
  }
  const [r0, r1] = range;
  const t0 = log ? Math.log10(lo) : lo;
  const t1 = log ? Math.log10(hi) : hi;
  const k = (r1 - r0) / (t1 - t0);
  const map = log ? (v: number) => r0 + (Math.log10(v) - t0) * k : (v: number) => r0 + (v - t0) * k;
  return { domain: [lo, hi], range, log, map, ticks, minor };
}

function formatLogTick(v: number): string {
  const e = Math.round(Math.log10(v));
  // Plain numbers read faster than powers of ten in the everyday range.
  if (e >= -2 && e <= 3) return formatPlain(v);
  return `10${superscript(e)}`;
}

function formatPlain(v: number): string {
  return String(Number(v.toPrecision(6)));
}

// ---------------------------------------------------------------------------------------------
// Colour

/** Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale print. */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#999999'];

// 11 evenly spaced samples of each map; linear interpolation between them is visually exact.
const COLORMAPS: Record<Colormap, string[]> = {
  viridis: ['#440154', '#482475', '#414487', '#355f8d', '#2a788e', '#21918c', '#22a884', '#44bf70', '#7ad151', '#bddf26', '#fde725'],
  magma: ['#000004', '#140e36', '#3b0f70', '#641a80', '#8c2981', '#b73779', '#de4968', '#f7705c', '#fe9f6d', '#fecf92', '#fcfdbf'],
};

/** Colour for t in [0, 1] (clamped) from a named colormap, as #rrggbb. */
export function colormapColor(t: number, name: Colormap = 'viridis'): string {
  const stops = COLORMAPS[name];
  const u = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(u));
  const f = u - i;
  const a = hexToRgb(stops[i]);
  const b = hexToRgb(stops[i + 1]);
  const c = a.map((av, j) => Math.round(av + (b[j] - av) * f));
  return `#${c.map((v) => v.toString(16).padStart(2, '0')).join('')}`;
}

function isLight(color: string): boolean {
  if (!/^#[0-9a-fA-F]{6}$/.test(color)) return color === 'white';
  const [r, g, b] = hexToRgb(color);
  return 0.299 * r + 0.587 * g + 0.114 * b > 200;
}

function hexToRgb(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

// ---------------------------------------------------------------------------------------------
// Layout and frame

const FONT = 'Helvetica, Arial, sans-serif';

interface Frame {
  width: number;
  height: number;
  left: number;
  right: number;
  top: number;
  bottom: number;
  id: string;
}

// autoNotes: lines the figure itself will add (points not drawn), reserved so nothing overlaps.
function makeFrame(opts: CommonPlotOptions, extraRight: number, kind: string, fingerprint: string, autoNotes = 0): Frame {
  const width = opts.width ?? 640;
  const height = opts.height ?? 420;
  if (!(width >= 200 && height >= 150)) {
    throw new ParameterError('width/height', `${width}x${height} px is too small for a labelled figure`, 'use at least 200x150 px');
  }
  const noteLines = (opts.notes?.length ?? 0) + autoNotes;
  return {
    width,
    height,
    left: 74,
    right: width - 18 - extraRight,
    top: 40,
    bottom: height - 52 - noteLines * 13,
    id: `ei${kind}${hashString(`${opts.title}|${fingerprint}|${width}x${height}`)}`,
  };
}

// Ids must differ between figures inlined in one HTML page, and stay stable between runs.
function hashString(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(36);
}

// Long y tick labels (e.g. "2.5×10⁻⁵") would run into the rotated axis title: widen the margin.
function fitLeft(f: Frame, ys: Scale): void {
  const longest = Math.max(0, ...ys.ticks.map((t) => t.label.length));
  f.left = Math.max(f.left, Math.ceil(36 + longest * 6.4));
}

function svgOpen(f: Frame, title: string): string {
  return (
    `<svg xmlns="http://www.w3.org/2000/svg" width="${f.width}" height="${f.height}" viewBox="0 0 ${f.width} ${f.height}" ` +
    `font-family="${FONT}" role="img" aria-labelledby="${f.id}-title">\n` +
    `<title id="${f.id}-title">${escapeXml(title)}</title>\n` +
    `<rect class="background" x="0" y="0" width="${f.width}" height="${f.height}" fill="#ffffff"/>\n` +
    `<defs><clipPath id="${f.id}-clip"><rect x="${px(f.left)}" y="${px(f.top)}" width="${px(f.right - f.left)}" height="${px(f.bottom - f.top)}"/></clipPath></defs>\n`
  );
}

function drawGridAndAxes(f: Frame, xs: Scale, ys: Scale, opts: CommonPlotOptions, grid = true): string {
  const parts: string[] = [];
  const { left, right, top, bottom } = f;
  if (grid) {
    const g: string[] = [];
    for (const t of xs.ticks) g.push(`M${px(xs.map(t.value))} ${px(top)}V${px(bottom)}`);
    for (const t of ys.ticks) g.push(`M${px(left)} ${px(ys.map(t.value))}H${px(right)}`);
    if (g.length) parts.push(`<path class="grid" d="${g.join('')}" stroke="#e5e5e5" stroke-width="1" fill="none"/>`);
  }
  const tickPath: string[] = [];
  const labels: string[] = [];
  for (const t of xs.ticks) {
    const x = xs.map(t.value);
    tickPath.push(`M${px(x)} ${px(bottom)}v5`);
    labels.push(`<text class="tick-label x" x="${px(x)}" y="${px(bottom + 18)}" text-anchor="middle" font-size="11">${escapeXml(t.label)}</text>`);
  }
  for (const v of xs.minor) tickPath.push(`M${px(xs.map(v))} ${px(bottom)}v3`);
  for (const t of ys.ticks) {
    const y = ys.map(t.value);
    tickPath.push(`M${px(left)} ${px(y)}h-5`);
    labels.push(`<text class="tick-label y" x="${px(left - 8)}" y="${px(y + 4)}" text-anchor="end" font-size="11">${escapeXml(t.label)}</text>`);
  }
  for (const v of ys.minor) tickPath.push(`M${px(left)} ${px(ys.map(v))}h-3`);
  parts.push(`<rect class="axes" x="${px(left)}" y="${px(top)}" width="${px(right - left)}" height="${px(bottom - top)}" fill="none" stroke="#333333" stroke-width="1"/>`);
  if (tickPath.length) parts.push(`<path class="ticks" d="${tickPath.join('')}" stroke="#333333" stroke-width="1" fill="none"/>`);
  parts.push(...labels);
  parts.push(
    `<text class="axis-label x" x="${px((left + right) / 2)}" y="${px(bottom + 40)}" text-anchor="middle" font-size="13">${escapeXml(axisTitle(opts.x))}</text>`,
  );
  const cy = (top + bottom) / 2;
  parts.push(
    `<text class="axis-label y" x="${px(18)}" y="${px(cy)}" text-anchor="middle" font-size="13" transform="rotate(-90 ${px(18)} ${px(cy)})">${escapeXml(axisTitle(opts.y))}</text>`,
  );
  parts.push(`<text class="title" x="${px(f.width / 2)}" y="24" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(opts.title)}</text>`);
  return parts.join('\n') + '\n';
}

function drawNotes(f: Frame, notes: string[]): string {
  return notes
    .map((n, i) => `<text class="note" x="${px(f.width - 8)}" y="${px(f.height - 8 - (notes.length - 1 - i) * 13)}" text-anchor="end" font-size="10" fill="#666666">${escapeXml(n)}</text>`)
    .join('\n') + (notes.length ? '\n' : '');
}

function drawNoData(f: Frame): string {
  return `<text class="no-data" x="${px((f.left + f.right) / 2)}" y="${px((f.top + f.bottom) / 2)}" text-anchor="middle" font-size="16" fill="#888888">no data</text>\n`;
}

// ---------------------------------------------------------------------------------------------
// Data extraction

interface Extent {
  min: number;
  max: number;
}

function usable(v: number, log: boolean): boolean {
  return Number.isFinite(v) && (!log || v > 0);
}

function extendExtent(e: Extent, values: ArrayLike<number>, log: boolean): void {
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    if (usable(v, log)) {
      if (v < e.min) e.min = v;
      if (v > e.max) e.max = v;
    }
  }
}

function countSkipped(series: { x: ArrayLike<number>; y: ArrayLike<number> }[], xlog: boolean, ylog: boolean): number {
  let n = 0;
  for (const s of series) {
    for (let i = 0; i < Math.min(s.x.length, s.y.length); i++) if (!usable(s.x[i], xlog) || !usable(s.y[i], ylog)) n++;
  }
  return n;
}

function checkSameLength(what: string, a: ArrayLike<number>, b: ArrayLike<number>, aName: string, bName: string): void {
  if (a.length !== b.length) {
    throw new ParameterError(what, `${aName} has ${a.length} values but ${bName} has ${b.length}`, `give ${aName} and ${bName} the same length`);
  }
}

/** Pixel polylines of the drawable points, split wherever a point cannot be drawn. */
function segments(x: ArrayLike<number>, y: ArrayLike<number>, xs: Scale, ys: Scale): { segs: [number, number][][]; skipped: number } {
  const segs: [number, number][][] = [];
  let cur: [number, number][] = [];
  let skipped = 0;
  const n = Math.min(x.length, y.length);
  for (let i = 0; i < n; i++) {
    const xv = x[i];
    const yv = y[i];
    if (usable(xv, xs.log) && usable(yv, ys.log)) {
      cur.push([xs.map(xv), ys.map(yv)]);
    } else {
      skipped++;
      if (cur.length) segs.push(cur);
      cur = [];
    }
  }
  if (cur.length) segs.push(cur);
  return { segs, skipped };
}

// Long traces (e.g. 10^6 steps) collapse to first/min/max/last per pixel column: same picture, small file.
function decimate(seg: [number, number][], limit: number): [number, number][] {
  if (seg.length <= limit) return seg;
  const out: [number, number][] = [];
  let i = 0;
  while (i < seg.length) {
    const col = Math.floor(seg[i][0]);
    let j = i;
    let lo = i;
    let hi = i;
    while (j + 1 < seg.length && Math.floor(seg[j + 1][0]) === col) {
      j++;
      if (seg[j][1] < seg[lo][1]) lo = j;
      if (seg[j][1] > seg[hi][1]) hi = j;
    }
    const keep = [...new Set([i, Math.min(lo, hi), Math.max(lo, hi), j])];
    for (const k of keep) out.push(seg[k]);
    i = j + 1;
  }
  return out;
}

function pathD(seg: [number, number][], step: boolean): string {
  let d = `M${px(seg[0][0])} ${px(seg[0][1])}`;
  for (let i = 1; i < seg.length; i++) {
    // Post-step: value holds until the next sample, as for per-step population counts.
    if (step) d += `H${px(seg[i][0])}V${px(seg[i][1])}`;
    else d += `L${px(seg[i][0])} ${px(seg[i][1])}`;
  }
  return d;
}

interface LegendEntry {
  name: string;
  color: string;
  kind: SeriesStyle | 'band' | 'bar' | 'reference';
  /** Grouped series: every style of the group, drawn on top of each other in the swatch. */
  kinds?: SeriesStyle[];
}

/** What a legend must not cover, in pixels: polylines (a one-vertex polyline is a marker) and filled boxes. */
interface Obstacles {
  lines: [number, number][][];
  rects: [number, number, number, number][];
}

function emptyObstacles(): Obstacles {
  return { lines: [], rects: [] };
}

// Liang-Barsky: does the segment a-b pass through the box [x0, x1] x [y0, y1]?
function segmentHitsBox(a: [number, number], b: [number, number], x0: number, y0: number, x1: number, y1: number): boolean {
  const dx = b[0] - a[0];
  const dy = b[1] - a[1];
  let t0 = 0;
  let t1 = 1;
  const clip = (p: number, q: number): boolean => {
    if (p === 0) return q >= 0;
    const r = q / p;
    if (p < 0) {
      if (r > t1) return false;
      if (r > t0) t0 = r;
    } else {
      if (r < t0) return false;
      if (r < t1) t1 = r;
    }
    return true;
  };
  return clip(-dx, a[0] - x0) && clip(dx, x1 - a[0]) && clip(-dy, a[1] - y0) && clip(dy, y1 - a[1]);
}

/** How many drawn elements (segments, markers, bars) a box, grown by `margin` px, covers. */
export function countCovered(box: { x: number; y: number; w: number; h: number }, obs: Obstacles, margin = 4): number {
  const x0 = box.x - margin;
  const y0 = box.y - margin;
  const x1 = box.x + box.w + margin;
  const y1 = box.y + box.h + margin;
  let n = 0;
  for (const line of obs.lines) {
    if (line.length === 1) {
      const [x, y] = line[0];
      if (x >= x0 && x <= x1 && y >= y0 && y <= y1) n++;
      continue;
    }
    for (let i = 1; i < line.length; i++) if (segmentHitsBox(line[i - 1], line[i], x0, y0, x1, y1)) n++;
  }
  for (const [a0, b0, a1, b1] of obs.rects) if (a0 <= x1 && a1 >= x0 && b0 <= y1 && b1 >= y0) n++;
  return n;
}

function drawSeries(s: PlotSeries, color: string, xs: Scale, ys: Scale, f: Frame): { svg: string; skipped: number; lines: [number, number][][] } {
  checkSameLength(`series '${s.name}'`, s.x, s.y, 'x', 'y');
  const style = s.style ?? 'line';
  const parts: string[] = [];
  const limit = Math.max(200, Math.ceil((f.right - f.left) * 4));
  const bandEdges: [number, number][][] = [];
  if (s.band) {
    checkSameLength(`series '${s.name}' band`, s.x, s.band.lo, 'x', 'band.lo');
    checkSameLength(`series '${s.name}' band`, s.x, s.band.hi, 'x', 'band.hi');
    // Band polygons: keep indices where x, lo and hi are all drawable, split on gaps.
    const polys: string[] = [];
    let upper: [number, number][] = [];
    let lower: [number, number][] = [];
    const flush = () => {
      if (upper.length > 1) {
        bandEdges.push(decimate(upper.slice(), limit), decimate(lower.slice(), limit));
        const pts = upper.concat(lower.reverse());
        polys.push(`M${pts.map((p) => `${px(p[0])} ${px(p[1])}`).join('L')}Z`);
      }
      upper = [];
      lower = [];
    };
    for (let i = 0; i < s.x.length; i++) {
      const xv = s.x[i];
      const l = s.band.lo[i];
      const h = s.band.hi[i];
      if (usable(xv, xs.log) && usable(l, ys.log) && usable(h, ys.log)) {
        upper.push([xs.map(xv), ys.map(h)]);
        lower.push([xs.map(xv), ys.map(l)]);
      } else flush();
    }
    flush();
    if (polys.length) parts.push(`<path class="band" d="${polys.join('')}" fill="${color}" fill-opacity="0.2" stroke="none"/>`);
  }
  const { segs, skipped } = segments(s.x, s.y, xs, ys);
  let lines: [number, number][][];
  if (style === 'points') {
    lines = segs.flat().map((p) => [p]);
    const circles = segs.flat().map((p) => `<circle cx="${px(p[0])}" cy="${px(p[1])}" r="2.6"/>`);
    if (circles.length) parts.push(`<g class="series points" fill="${color}" fill-opacity="0.85" stroke="none">${circles.join('')}</g>`);
  } else {
    const dec = segs.map((seg) => decimate(seg, limit));
    // Obstacles follow the drawn path: a step holds its value, then jumps.
    lines = style === 'step' ? dec.map((seg) => seg.flatMap((p, k) => (k === 0 ? [p] : [[p[0], seg[k - 1][1]] as [number, number], p]))) : dec;
    const ds = dec.map((seg) => (seg.length === 1 ? `M${px(seg[0][0])} ${px(seg[0][1])}h0.01` : pathD(seg, style === 'step')));
    const dash = style === 'dashed' ? ' stroke-dasharray="6 4"' : '';
    if (ds.length) {
      parts.push(`<path class="series ${style}" d="${ds.join('')}" fill="none" stroke="${color}" stroke-width="1.8" stroke-linejoin="round" stroke-linecap="round"${dash}/>`);
    }
  }
  return { svg: parts.join('\n') + (parts.length ? '\n' : ''), skipped, lines: bandEdges.concat(lines) };
}


const LEGEND_ROW = 17;

function entryWidth(e: LegendEntry): number {
  return 30 + e.name.length * 6.4;
}

function legendBox(f: Frame, entries: LegendEntry[]): { w: number; h: number } {
  const longest = Math.max(...entries.map(entryWidth));
  return { w: Math.min(f.right - f.left - 8, 10 + longest), h: 8 + entries.length * LEGEND_ROW };
}

// Below the x-axis title the entries flow in rows across the figure width.
function belowLayout(width: number, entries: LegendEntry[]): { at: [number, number][]; rows: number; w: number } {
  const x0 = 18;
  const avail = width - 36 - 16;
  const at: [number, number][] = [];
  let x = 0;
  let row = 0;
  let w = 0;
  for (const e of entries) {
    const ew = entryWidth(e) + 16;
    if (x > 0 && x + ew > avail) {
      row++;
      x = 0;
    }
    at.push([x0 + 8 + x, row]);
    x += ew;
    w = Math.max(w, x);
  }
  return { at, rows: entries.length ? row + 1 : 0, w: Math.min(avail + 16, w + 8) };
}

/** Pixels a below-the-axes legend needs (0 when there is none). */
function belowHeight(width: number, entries: LegendEntry[]): number {
  const { rows } = belowLayout(width, entries);
  return rows ? rows * LEGEND_ROW + 14 : 0;
}

// 'auto' takes the first corner (top-right, top-left, bottom-right, bottom-left) that covers nothing drawn; null: none is free.
function freeCorner(f: Frame, entries: LegendEntry[], obs: Obstacles): Exclude<LegendPosition, 'auto' | 'none' | 'below'> | null {
  const { w, h } = legendBox(f, entries);
  for (const c of ['top-right', 'top-left', 'bottom-right', 'bottom-left'] as const) {
    if (countCovered({ ...legendOrigin(f, c, w, h), w, h }, obs) === 0) return c;
  }
  return null;
}

function legendOrigin(f: Frame, corner: string, w: number, h: number): { x: number; y: number } {
  const x = corner.endsWith('right') ? f.right - w - 8 : f.left + 8;
  const y = corner.startsWith('top') ? f.top + 8 : f.bottom - h - 8;
  return { x, y };
}

function drawSwatch(parts: string[], e: LegendEntry, sx: number, cy: number): void {
  for (const kind of e.kinds ?? [e.kind]) {
    if (kind === 'points') parts.push(`<circle cx="${px(sx + 11)}" cy="${px(cy)}" r="3" fill="${e.color}"/>`);
    else if (kind === 'band' || kind === 'bar') parts.push(`<rect x="${px(sx)}" y="${px(cy - 5)}" width="22" height="10" fill="${e.color}" fill-opacity="${kind === 'band' ? 0.25 : 0.55}" stroke="${e.color}"/>`);
    else {
      const dash = kind === 'dashed' || kind === 'reference' ? ' stroke-dasharray="6 4"' : '';
      // A dark halo keeps light swatches (white contours on a heatmap) visible on the white box.
      if (isLight(e.color)) parts.push(`<path d="M${px(sx)} ${px(cy)}h22" stroke="#333333" stroke-width="4"/>`);
      parts.push(`<path d="M${px(sx)} ${px(cy)}h22" stroke="${e.color}" stroke-width="2"${dash}/>`);
    }
  }
}

/**
 * The legend; `needBelow` when 'auto' found no free corner and no room was reserved below the axes
 * (the caller then renders again with that room, see belowHeight).
 */
function drawLegend(f: Frame, entries: LegendEntry[], pos: LegendPosition, obs: Obstacles, reservedBelow: boolean): { svg: string; needBelow: boolean } {
  if (pos === 'none' || entries.length === 0) return { svg: '', needBelow: false };
  const corner = reservedBelow ? 'below' : pos === 'auto' ? freeCorner(f, entries, obs) : pos;
  if (corner === null || corner === 'below') {
    if (!reservedBelow) return { svg: '', needBelow: true };
    const { at, rows, w } = belowLayout(f.width, entries);
    const y = f.bottom + 48;
    const parts = [`<g class="legend below">`, `<rect x="18" y="${px(y)}" width="${px(w)}" height="${px(rows * LEGEND_ROW + 6)}" fill="#ffffff" stroke="#bbbbbb" stroke-width="0.8"/>`];
    entries.forEach((e, i) => {
      const [sx, row] = at[i];
      const cy = y + 11 + row * LEGEND_ROW;
      drawSwatch(parts, e, sx, cy);
      parts.push(`<text x="${px(sx + 30)}" y="${px(cy + 4)}" font-size="11">${escapeXml(e.name)}</text>`);
    });
    parts.push('</g>');
    return { svg: parts.join('\n') + '\n', needBelow: false };
  }
  const { w, h } = legendBox(f, entries);
  const { x, y } = legendOrigin(f, corner, w, h);
  const parts = [`<g class="legend">`, `<rect x="${px(x)}" y="${px(y)}" width="${px(w)}" height="${px(h)}" fill="#ffffff" fill-opacity="0.85" stroke="#bbbbbb" stroke-width="0.8"/>`];
  entries.forEach((e, i) => {
    const cy = y + 13 + i * LEGEND_ROW;
    const sx = x + 8;
    drawSwatch(parts, e, sx, cy);
    parts.push(`<text x="${px(sx + 30)}" y="${px(cy + 4)}" font-size="11">${escapeXml(e.name)}</text>`);
  });
  parts.push('</g>');
  return { svg: parts.join('\n') + '\n', needBelow: false };
}

function skippedNote(skipped: number, xs: Scale, ys: Scale): string[] {
  if (skipped === 0) return [];
  const why = xs.log || ys.log ? 'non-finite or non-positive on a log axis' : 'non-finite';
  return [`${skipped} point${skipped === 1 ? '' : 's'} not drawn (${why})`];
}

// ---------------------------------------------------------------------------------------------
// Figures

/** Line / point / step plot of one or more series, with optional shaded bands. */
export function makeLinePlot(opts: LinePlotOptions): string {
  const skip = countSkipped(opts.series, opts.x.log === true, opts.y.log === true);
  const fingerprint = opts.series.map((s) => `${s.name}:${s.x.length}`).join(',');
  const ex: Extent = { min: Infinity, max: -Infinity };
  const ey: Extent = { min: Infinity, max: -Infinity };
  for (const s of opts.series) {
    checkSameLength(`series '${s.name}'`, s.x, s.y, 'x', 'y');
    // Extents only from points that will be drawn, so one NaN in y cannot stretch x.
    const n = s.x.length;
    for (let i = 0; i < n; i++) {
      const xv = s.x[i];
      if (!usable(xv, opts.x.log === true)) continue;
      const yv = [s.y[i], s.band?.lo[i] ?? NaN, s.band?.hi[i] ?? NaN];
      let any = false;
      for (const v of yv) {
        if (usable(v, opts.y.log === true)) {
          any = true;
          if (v < ey.min) ey.min = v;
          if (v > ey.max) ey.max = v;
        }
      }
      if (any) {
        if (xv < ex.min) ex.min = xv;
        if (xv > ex.max) ex.max = xv;
      }
    }
  }
  return withLegendRoom((below) => renderXY(opts, makeFrame(opts, 0, 'line', fingerprint, skip ? 1 : 0), ex, ey, opts.series, 'line', { below, shades: opts.shades, keys: opts.legendKeys }));
}

/** Renders once; when an 'auto' legend finds no free corner, renders again with room for it below the axes. */
function withLegendRoom(render: (below: boolean) => { svg: string; needBelow: boolean }): string {
  const first = render(false);
  return first.needBelow ? render(true).svg : first.svg;
}

interface RenderExtras {
  below: boolean;
  identity?: string;
  shades?: XShade[];
  keys?: LegendKey[];
}

// Colours by group (or by series when ungrouped) in order of first appearance; one legend entry per group.
function seriesColors(series: PlotSeries[], defaultStyle: SeriesStyle, keys: LegendKey[] = []): { colors: string[]; entries: LegendEntry[] } {
  const slot = new Map<string, number>();
  const groupColor = new Map<string, string>();
  const colors: string[] = [];
  const entries: LegendEntry[] = keys.map((k) => ({ name: k.name, color: '#555555', kind: k.kind }));
  const groupEntry = new Map<string, LegendEntry>();
  series.forEach((s, i) => {
    const key = s.group === undefined ? `\u0000${i}` : `g${s.group}`;
    if (!slot.has(key)) slot.set(key, slot.size);
    const style = s.style ?? defaultStyle;
    const color = s.color ?? groupColor.get(key) ?? PALETTE[slot.get(key)! % PALETTE.length];
    if (!groupColor.has(key)) groupColor.set(key, color);
    colors.push(color);
    if (s.group === undefined) entries.push({ name: s.name, color, kind: style });
    else {
      const e = groupEntry.get(key);
      if (!e) {
        const ne: LegendEntry = { name: s.group, color, kind: style, kinds: [style] };
        groupEntry.set(key, ne);
        entries.push(ne);
      } else if (!e.kinds!.includes(style)) {
        // Lines under markers, as in the plot.
        e.kinds = [...e.kinds!, style].sort((a, b) => Number(a === 'points') - Number(b === 'points'));
      }
    }
  });
  return { colors, entries };
}

function drawShades(f: Frame, xs: Scale, shades: XShade[]): { inside: string; labels: string } {
  let inside = '';
  let labels = '';
  for (const sh of shades) {
    const a = Math.max(Math.min(sh.from, sh.to), xs.domain[0]);
    const b = Math.min(Math.max(sh.from, sh.to), xs.domain[1]);
    if (!(b > a) || (xs.log && a <= 0)) continue;
    const x0 = xs.map(a);
    const x1 = xs.map(b);
    inside += `<rect class="shade" x="${px(x0)}" y="${px(f.top)}" width="${px(x1 - x0)}" height="${px(f.bottom - f.top)}" fill="#000000" fill-opacity="0.07" stroke="none"/>\n`;
    // Labelled just above the frame, where no data can be.
    labels += `<text class="shade-label" x="${px(x0 + 2)}" y="${px(f.top - 4)}" font-size="10" fill="#555555">${escapeXml(sh.label)}</text>\n`;
  }
  return { inside, labels };
}

function renderXY(opts: CommonPlotOptions, f: Frame, ex: Extent, ey: Extent, series: PlotSeries[], defaultStyle: SeriesStyle, extras: RenderExtras): { svg: string; needBelow: boolean } {
  const { identity } = extras;
  const { colors, entries: seriesEntries } = seriesColors(series, defaultStyle, extras.keys);
  const entries: LegendEntry[] = identity !== undefined ? [{ name: identity, color: '#777777', kind: 'reference' }, ...seriesEntries] : seriesEntries;
  if (extras.below && (opts.legend ?? 'auto') !== 'none') f.bottom -= belowHeight(f.width, entries);
  const empty = !(ex.min <= ex.max && ey.min <= ey.max);
  // Markers on the data extremes would sit on the frame: pad y always, x when markers are drawn.
  const markers = series.some((s) => (s.style ?? defaultStyle) === 'points');
  const ys = makeScale(ey.min, ey.max, [f.bottom, f.top], opts.y, 6, 0.03);
  fitLeft(f, ys);
  const xs = makeScale(ex.min, ex.max, [f.left, f.right], opts.x, 6, markers ? 0.03 : 0);
  const shades = drawShades(f, xs, extras.shades ?? []);
  let out = svgOpen(f, opts.title) + drawGridAndAxes(f, xs, ys, opts) + shades.labels;
  out += `<g class="plot-area" clip-path="url(#${f.id}-clip)">\n`;
  out += shades.inside;
  const obs = emptyObstacles();
  let skipped = 0;
  if (identity !== undefined) {
    const lo = Math.max(xs.domain[0], ys.domain[0]);
    const hi = Math.min(xs.domain[1], ys.domain[1]);
    if (lo < hi) {
      const a: [number, number] = [xs.map(lo), ys.map(lo)];
      const b: [number, number] = [xs.map(hi), ys.map(hi)];
      out += `<path class="reference identity" d="M${px(a[0])} ${px(a[1])}L${px(b[0])} ${px(b[1])}" stroke="#777777" stroke-width="1.2" stroke-dasharray="6 4" fill="none"/>\n`;
      obs.lines.push([a, b]);
    }
  }
  series.forEach((s, i) => {
    const style = s.style ?? defaultStyle;
    const r = drawSeries({ ...s, style }, colors[i], xs, ys, f);
    out += r.svg;
    skipped += r.skipped;
    obs.lines.push(...r.lines);
  });
  out += '</g>\n';
  if (empty) out += drawNoData(f);
  const legend = drawLegend(f, entries, opts.legend ?? 'auto', obs, extras.below);
  out += legend.svg;
  out += drawNotes(f, [...(opts.notes ?? []), ...skippedNote(skipped, xs, ys)]);
  return { svg: out + '</svg>\n', needBelow: legend.needBelow };
}

/** Histogram bars from bin edges and counts (or densities), with optional overlay curves. */
export function makeHistogramPlot(opts: HistogramPlotOptions): string {
  const heights = opts.densities ?? opts.counts;
  if (!heights) throw new ParameterError('histogram', 'neither counts nor densities were given', 'pass counts or densities');
  const edges = opts.edges;
  if (heights.length > 0 && edges.length !== heights.length + 1) {
    throw new ParameterError('edges', `has ${edges.length} entries for ${heights.length} bins`, 'pass bins + 1 edges');
  }
  for (let i = 1; i < edges.length; i++) {
    if (!(edges[i] > edges[i - 1])) throw new ParameterError('edges', `not strictly increasing at index ${i}`, 'sort the bin edges and remove duplicates');
  }
  const xlog = opts.x.log === true;
  const ylog = opts.y.log === true;
  let barSkip = 0;
  for (let i = 0; i < heights.length; i++) {
    const h = heights[i];
    if (!usable(edges[i], xlog) || !usable(edges[i + 1], xlog) || !Number.isFinite(h) || (ylog && h < 0)) barSkip++;
  }
  const skip = barSkip + countSkipped(opts.overlays ?? [], xlog, ylog);
  return withLegendRoom((below) => renderHistogram(opts, heights, makeFrame(opts, 0, 'hist', `${edges.length}:${(opts.overlays ?? []).map((s) => s.name).join(',')}`, skip ? 1 : 0), below));
}

function renderHistogram(opts: HistogramPlotOptions, heights: ArrayLike<number>, f: Frame, below: boolean): { svg: string; needBelow: boolean } {
  const edges = opts.edges;
  const xlog = opts.x.log === true;
  const ylog = opts.y.log === true;
  const color = opts.color ?? '#7f9fbf';
  const entries: LegendEntry[] = heights.length ? [{ name: opts.name ?? (opts.densities ? 'density' : 'counts'), color, kind: 'bar' }] : [];
  const overlayColors = (opts.overlays ?? []).map((s, i) => s.color ?? PALETTE[(i + 1) % PALETTE.length]);
  (opts.overlays ?? []).forEach((s, i) => entries.push({ name: s.name, color: overlayColors[i], kind: s.style ?? 'line' }));
  if (below && (opts.legend ?? 'auto') !== 'none') f.bottom -= belowHeight(f.width, entries);
  const ex: Extent = { min: Infinity, max: -Infinity };
  const ey: Extent = { min: Infinity, max: -Infinity };
  if (heights.length > 0) {
    extendExtent(ex, edges, xlog);
    extendExtent(ey, heights, ylog);
    // Bars grow from zero on a linear axis, so zero must be in range.
    if (!ylog && ey.min <= ey.max) {
      ey.min = Math.min(0, ey.min);
      ey.max = Math.max(0, ey.max);
    }
  }
  for (const s of opts.overlays ?? []) {
    checkSameLength(`overlay '${s.name}'`, s.x, s.y, 'x', 'y');
    extendExtent(ex, s.x, xlog);
    extendExtent(ey, s.y, ylog);
  }
  // Bars stand on the frame; only the top is padded, so the tallest bar and overlay peaks stay inside.
  const ys = makeScale(ey.min, ey.max, [f.bottom, f.top], { ...opts.y, min: opts.y.min ?? (!ylog && ey.min === 0 ? 0 : undefined) }, 6, 0.03);
  fitLeft(f, ys);
  const xs = makeScale(ex.min, ex.max, [f.left, f.right], opts.x);
  const rects: string[] = [];
  let skipped = 0;
  const obs = emptyObstacles();
  for (let i = 0; i < heights.length; i++) {
    const a = edges[i];
    const b = edges[i + 1];
    const h = heights[i];
    if (!usable(a, xlog) || !usable(b, xlog) || !Number.isFinite(h) || (ylog && h <= 0)) {
      if (!(ylog && h === 0)) skipped++;
      continue;
    }
    const x0 = xs.map(a);
    const x1 = xs.map(b);
    const y0 = ylog ? f.bottom : ys.map(0);
    const y1 = ys.map(h);
    rects.push(`<rect class="bar" x="${px(x0)}" y="${px(Math.min(y0, y1))}" width="${px(Math.max(0, x1 - x0))}" height="${px(Math.abs(y0 - y1))}"/>`);
    obs.rects.push([Math.min(x0, x1), Math.min(y0, y1), Math.max(x0, x1), Math.max(y0, y1)]);
  }
  const bars = rects.length ? `<g class="bars" fill="${color}" fill-opacity="0.75" stroke="#ffffff" stroke-width="0.5">${rects.join('')}</g>\n` : '';
  const overlays = opts.overlays ?? [];
  const empty = !(ex.min <= ex.max && ey.min <= ey.max);
  let out = svgOpen(f, opts.title) + drawGridAndAxes(f, xs, ys, opts) + `<g class="plot-area" clip-path="url(#${f.id}-clip)">\n` + bars;
  overlays.forEach((s, i) => {
    const r = drawSeries(s, overlayColors[i], xs, ys, f);
    out += r.svg;
    skipped += r.skipped;
    obs.lines.push(...r.lines);
  });
  out += '</g>\n';
  if (empty) out += drawNoData(f);
  const legend = drawLegend(f, entries, opts.legend ?? 'auto', obs, below);
  out += legend.svg;
  out += drawNotes(f, [...(opts.notes ?? []), ...skippedNote(skipped, xs, ys)]);
  return { svg: out + '</svg>\n', needBelow: legend.needBelow };
}

// Cell boundaries halfway between centres (geometrically on log axes); the outer ones mirror the inner.
function cellEdges(centres: ArrayLike<number>, log: boolean, field: string): number[] {
  const n = centres.length;
  const t = Array.from({ length: n }, (_, i) => (log ? Math.log10(centres[i]) : centres[i]));
  for (let i = 0; i < n; i++) {
    if (!Number.isFinite(t[i])) throw new ParameterError(field, `value ${centres[i]} at index ${i} cannot be placed${log ? ' on a log axis' : ''}`, `give finite${log ? ', positive' : ''} cell centres`);
  }
  const dir = n > 1 ? Math.sign(t[1] - t[0]) : 1;
  for (let i = 1; i < n; i++) {
    if (Math.sign(t[i] - t[i - 1]) !== dir || t[i] === t[i - 1]) {
      throw new ParameterError(field, `not strictly monotonic at index ${i}`, 'sort the grid values and remove duplicates');
    }
  }
  const e: number[] = new Array(n + 1);
  if (n === 1) {
    e[0] = t[0] - 0.5;
    e[1] = t[0] + 0.5;
  } else {
    for (let i = 1; i < n; i++) e[i] = (t[i - 1] + t[i]) / 2;
    e[0] = t[0] - (t[1] - t[0]) / 2;
    e[n] = t[n - 1] + (t[n - 1] - t[n - 2]) / 2;
  }
  return log ? e.map((v) => 10 ** v) : e;
}

/** A colour-coded grid (e.g. a sweep over two parameters) with colour bar and optional contour lines. */
export function makeHeatmap(opts: HeatmapOptions): string {
  const nx = opts.xValues.length;
  const ny = opts.yValues.length;
  if (opts.z.length !== nx * ny) {
    throw new ParameterError('z', `has ${opts.z.length} values but the grid is ${ny} rows x ${nx} columns = ${nx * ny}`, 'pass z row-major, z[iy * xValues.length + ix]');
  }
  let missingCells = 0;
  for (let i = 0; i < opts.z.length; i++) if (!Number.isFinite(opts.z[i])) missingCells++;
  const contourSkip = countSkipped(opts.contours ?? [], opts.x.log === true, opts.y.log === true);
  const f = makeFrame(opts, 78, 'heat', `${nx}x${ny}:${opts.colormap ?? 'viridis'}`, (missingCells ? 1 : 0) + (contourSkip ? 1 : 0));
  const contourColors = ['#ffffff', '#e41a1c', '#000000', '#ff7f00'];
  const entries: LegendEntry[] = (opts.contours ?? []).map((c, i) => ({ name: c.name, color: c.color ?? contourColors[i % contourColors.length], kind: i % 2 ? 'dashed' : 'line' }));
  // Cells fill the whole frame, so an 'auto' legend always goes below the axes rather than over data.
  const legendPos = opts.legend ?? 'auto';
  const legendBelow = legendPos === 'auto' || legendPos === 'below';
  if (legendBelow) f.bottom -= belowHeight(f.width, entries);
  const cmap = opts.colormap ?? 'viridis';
  const empty = nx === 0 || ny === 0;
  const xe = empty ? [] : cellEdges(opts.xValues, opts.x.log === true, 'xValues');
  const ye = empty ? [] : cellEdges(opts.yValues, opts.y.log === true, 'yValues');
  const ys = makeScale(Math.min(...ye), Math.max(...ye), [f.bottom, f.top], { ...opts.y, min: opts.y.min ?? (empty ? undefined : Math.min(...ye)), max: opts.y.max ?? (empty ? undefined : Math.max(...ye)) });
  fitLeft(f, ys);
  const xs = makeScale(Math.min(...xe), Math.max(...xe), [f.left, f.right], { ...opts.x, min: opts.x.min ?? (empty ? undefined : Math.min(...xe)), max: opts.x.max ?? (empty ? undefined : Math.max(...xe)) });
  const zext: Extent = { min: Infinity, max: -Infinity };
  extendExtent(zext, opts.z, false);
  let zmin = opts.zMin ?? zext.min;
  let zmax = opts.zMax ?? zext.max;
  if (!(zmin <= zmax)) [zmin, zmax] = [0, 1];
  if (zmin === zmax) [zmin, zmax] = [zmin - 0.5, zmax + 0.5];
  const cells: string[] = [];
  let missing = 0;
  for (let iy = 0; iy < ny; iy++) {
    const y0 = ys.map(ye[iy]);
    const y1 = ys.map(ye[iy + 1]);
    for (let ix = 0; ix < nx; ix++) {
      const x0 = xs.map(xe[ix]);
      const x1 = xs.map(xe[ix + 1]);
      const v = opts.z[iy * nx + ix];
      const ok = Number.isFinite(v);
      if (!ok) missing++;
      const fill = ok ? colormapColor((v - zmin) / (zmax - zmin), cmap) : '#d0d0d0';
      // +0.5 px overlap hides hairline seams between abutting cells in most renderers.
      cells.push(`<rect class="cell${ok ? '' : ' missing'}" x="${px(Math.min(x0, x1))}" y="${px(Math.min(y0, y1))}" width="${px(Math.abs(x1 - x0) + 0.5)}" height="${px(Math.abs(y1 - y0) + 0.5)}" fill="${fill}"/>`);
    }
  }
  let out = svgOpen(f, opts.title) + drawGridAndAxes(f, xs, ys, opts, false);
  out += `<g class="plot-area" clip-path="url(#${f.id}-clip)">\n`;
  if (cells.length) out += `<g class="cells" shape-rendering="crispEdges">${cells.join('')}</g>\n`;
  let skipped = 0;
  (opts.contours ?? []).forEach((c, i) => {
    const r = drawSeries({ name: c.name, x: c.x, y: c.y, style: i % 2 ? 'dashed' : 'line' }, entries[i].color, xs, ys, f);
    out += r.svg;
    skipped += r.skipped;
  });
  out += '</g>\n';
  // Re-stroke the frame so cells do not cover it.
  out += `<rect x="${px(f.left)}" y="${px(f.top)}" width="${px(f.right - f.left)}" height="${px(f.bottom - f.top)}" fill="none" stroke="#333333" stroke-width="1"/>\n`;
  if (empty) out += drawNoData(f);
  out += drawColorbar(f, zmin, zmax, cmap, { label: opts.zLabel, unit: opts.zUnit });
  out += drawLegend(f, entries, legendPos, emptyObstacles(), legendBelow).svg;
  const notes = [...(opts.notes ?? []), ...skippedNote(skipped, xs, ys)];
  if (missing) notes.push(`${missing} cell${missing === 1 ? '' : 's'} without a finite value (grey)`);
  out += drawNotes(f, notes);
  return out + '</svg>\n';
}

function drawColorbar(f: Frame, zmin: number, zmax: number, cmap: Colormap, axis: { label: string; unit?: string }): string {
  const x = f.right + 14;
  const w = 14;
  const gid = `${f.id}-cbar`;
  const stops: string[] = [];
  for (let i = 0; i <= 10; i++) stops.push(`<stop offset="${i / 10}" stop-color="${colormapColor(i / 10, cmap)}"/>`);
  const parts = [
    `<g class="colorbar">`,
    `<defs><linearGradient id="${gid}" x1="0" y1="1" x2="0" y2="0">${stops.join('')}</linearGradient></defs>`,
    `<rect x="${px(x)}" y="${px(f.top)}" width="${w}" height="${px(f.bottom - f.top)}" fill="url(#${gid})" stroke="#333333" stroke-width="0.8"/>`,
  ];
  const step = niceStep(zmax - zmin, 5);
  const map = (v: number) => f.bottom - ((v - zmin) / (zmax - zmin)) * (f.bottom - f.top);
  for (const v of niceTicks(zmin, zmax, 5)) {
    const y = map(v);
    parts.push(`<path d="M${px(x + w)} ${px(y)}h4" stroke="#333333"/>`);
    parts.push(`<text class="tick-label z" x="${px(x + w + 6)}" y="${px(y + 4)}" font-size="11">${escapeXml(formatTick(v, step))}</text>`);
  }
  const lx = f.width - 12;
  const cy = (f.top + f.bottom) / 2;
  parts.push(`<text class="axis-label z" x="${px(lx)}" y="${px(cy)}" text-anchor="middle" font-size="13" transform="rotate(-90 ${px(lx)} ${px(cy)})">${escapeXml(axisTitle(axis))}</text>`);
  parts.push('</g>');
  return parts.join('\n') + '\n';
}

/** Scatter of paired values, e.g. measured vs predicted, with an optional y = x reference. */
export function makeScatter(opts: ScatterOptions): string {
  const skip = countSkipped(opts.series, opts.x.log === true, opts.y.log === true);
  const fingerprint = opts.series.map((s) => `${s.name}:${s.x.length}`).join(',');
  const ex: Extent = { min: Infinity, max: -Infinity };
  const ey: Extent = { min: Infinity, max: -Infinity };
  for (const s of opts.series) {
    checkSameLength(`series '${s.name}'`, s.x, s.y, 'x', 'y');
    for (let i = 0; i < s.x.length; i++) {
      const xv = s.x[i];
      const yv = s.y[i];
      if (usable(xv, opts.x.log === true) && usable(yv, opts.y.log === true)) {
        ex.min = Math.min(ex.min, xv);
        ex.max = Math.max(ex.max, xv);
        ey.min = Math.min(ey.min, yv);
        ey.max = Math.max(ey.max, yv);
      }
    }
  }
  let identity: string | undefined;
  if (opts.identity) {
    identity = typeof opts.identity === 'object' && opts.identity.name ? opts.identity.name : 'y = x';
    // Same range on both axes so the reference line is the diagonal and deviations read true.
    if (opts.x.log === opts.y.log && ex.min <= ex.max) {
      const lo = Math.min(ex.min, ey.min);
      const hi = Math.max(ex.max, ey.max);
      ex.min = ey.min = lo;
      ex.max = ey.max = hi;
    }
  }
  return withLegendRoom((below) => renderXY(opts, makeFrame(opts, 0, 'scatter', fingerprint, skip ? 1 : 0), ex, ey, opts.series, 'points', { below, identity }));
}
