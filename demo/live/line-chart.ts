// The live pages' plots on a 2D canvas: lines, points and a coloured grid (a phase diagram) with axes, ticks and a
// legend, redrawn cheaply while a simulation runs.

export interface ChartSeries {
  name: string;
  color: string;
  x: ArrayLike<number>;
  y: ArrayLike<number>;
  /** line (default), dashed (theory), points (simulation samples) or marker (one large point). */
  style?: 'line' | 'dashed' | 'points' | 'marker';
}

/** A grid of cells coloured by category (a phase diagram): z[j * xs.length + i] indexes `colors`. */
export interface ChartGrid {
  xs: readonly number[];
  ys: readonly number[];
  z: readonly number[];
  colors: readonly string[];
  /** Legend entries for the categories (same order as colors). */
  names: readonly string[];
}

export interface ChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  /** Fixed axis ranges (else from the data). */
  xRange?: [number, number];
  yRange?: [number, number];
}

/** Three to six round tick values covering [lo, hi]. */
export function makeTicks(lo: number, hi: number): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / 4;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * mag).find((s) => (hi - lo) / s <= 6) ?? 10 * mag;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Math.abs(v) < step * 1e-9 ? 0 : v);
  return out;
}

const fmt = (v: number) => (Math.abs(v) >= 1e4 || (Math.abs(v) < 1e-3 && v !== 0) ? v.toExponential(1) : String(Number(v.toPrecision(4))));

export class LineChart {
  private series: ChartSeries[] = [];
  private grid: ChartGrid | null = null;
  /** Redraws so far (tests read it to see that a plot changed while the run was going). */
  draws = 0;

  constructor(
    readonly canvas: HTMLCanvasElement,
    private options: ChartOptions,
  ) {}

  setOptions(o: Partial<ChartOptions>): void {
    this.options = { ...this.options, ...o };
  }

  set(series: ChartSeries[], grid: ChartGrid | null = null): void {
    this.series = series;
    this.grid = grid;
  }

  /** The data ranges with 5% padding (a flat series gets +-1 around its value). */
  private ranges(): { x: [number, number]; y: [number, number] } {
    let x0 = Infinity, x1 = -Infinity, y0 = Infinity, y1 = -Infinity;
    const take = (xs: ArrayLike<number>, ys: ArrayLike<number>) => {
      for (let i = 0; i < xs.length; i++) {
        const x = xs[i], y = ys[i];
        if (!Number.isFinite(x) || !Number.isFinite(y)) continue;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
        if (y < y0) y0 = y;
        if (y > y1) y1 = y;
      }
    };
    for (const s of this.series) take(s.x, s.y);
    if (this.grid) take([this.grid.xs[0], this.grid.xs[this.grid.xs.length - 1]], [this.grid.ys[0], this.grid.ys[this.grid.ys.length - 1]]);
    if (!Number.isFinite(x0)) [x0, x1, y0, y1] = [0, 1, 0, 1];
    if (x1 === x0) [x0, x1] = [x0 - 1, x1 + 1];
    if (y1 === y0) [y0, y1] = [y0 - 1, y1 + 1];
    const py = (y1 - y0) * 0.05;
    return { x: this.options.xRange ?? [x0, x1], y: this.options.yRange ?? [y0 - py, y1 + py] };
  }

  draw(): void {
    const c = this.canvas;
    const dpr = devicePixelRatio;
    const W = Math.max(1, Math.round(c.clientWidth * dpr));
    const H = Math.max(1, Math.round(c.clientHeight * dpr));
    if (c.width !== W || c.height !== H) {
      c.width = W;
      c.height = H;
    }
    const g = c.getContext('2d')!;
    g.setTransform(dpr, 0, 0, dpr, 0, 0);
    const w = W / dpr, h = H / dpr;
    g.clearRect(0, 0, w, h);
    const left = 58, right = 12, top = 24, bottom = 38;
    const legendRows = this.series.filter((s) => s.name !== '').length + (this.grid ? this.grid.names.length : 0);
    const legendW = legendRows ? 180 : 0;
    const pw = Math.max(10, w - left - right - legendW), ph = Math.max(10, h - top - bottom);
    const { x: [x0, x1], y: [y0, y1] } = this.ranges();
    const X = (x: number) => left + ((x - x0) / (x1 - x0)) * pw;
    const Y = (y: number) => top + ph - ((y - y0) / (y1 - y0)) * ph;
    g.font = '12px system-ui, sans-serif';
    g.fillStyle = '#1d232b';
    g.textBaseline = 'alphabetic';
    g.fillText(this.options.title, left, 15);
    if (this.grid) {
      const { xs, ys, z, colors } = this.grid;
      const dx = xs.length > 1 ? xs[1] - xs[0] : 1, dy = ys.length > 1 ? ys[1] - ys[0] : 1;
      for (let j = 0; j < ys.length; j++) {
        for (let i = 0; i < xs.length; i++) {
          g.fillStyle = colors[z[j * xs.length + i]] ?? '#ccc';
          const ax = X(xs[i] - dx / 2), bx = X(xs[i] + dx / 2), ay = Y(ys[j] + dy / 2), by = Y(ys[j] - dy / 2);
          g.fillRect(Math.max(left, ax), Math.max(top, ay), Math.min(left + pw, bx) - Math.max(left, ax) + 0.5, Math.min(top + ph, by) - Math.max(top, ay) + 0.5);
        }
      }
    }
    // Axes and ticks.
    g.strokeStyle = '#9aa3ad';
    g.lineWidth = 1;
    g.strokeRect(left, top, pw, ph);
    g.fillStyle = '#5b6470';
    g.font = '11px system-ui, sans-serif';
    g.textAlign = 'center';
    for (const t of makeTicks(x0, x1)) {
      g.fillText(fmt(t), X(t), top + ph + 14);
      g.beginPath();
      g.moveTo(X(t), top + ph);
      g.lineTo(X(t), top + ph + 4);
      g.stroke();
    }
    g.textAlign = 'right';
    for (const t of makeTicks(y0, y1)) {
      g.fillText(fmt(t), left - 6, Y(t) + 4);
      g.beginPath();
      g.moveTo(left - 4, Y(t));
      g.lineTo(left, Y(t));
      g.stroke();
    }
    g.textAlign = 'center';
    g.fillText(this.options.xLabel, left + pw / 2, h - 6);
    g.save();
    g.translate(13, top + ph / 2);
    g.rotate(-Math.PI / 2);
    g.fillText(this.options.yLabel, 0, 0);
    g.restore();
    // Data, clipped to the plot area.
    g.save();
    g.beginPath();
    g.rect(left, top, pw, ph);
    g.clip();
    for (const s of this.series) {
      g.strokeStyle = g.fillStyle = s.color;
      const style = s.style ?? 'line';
      if (style === 'points' || style === 'marker') {
        const r = style === 'marker' ? 5 : 1.8;
        for (let i = 0; i < s.x.length; i++) {
          if (!Number.isFinite(s.x[i]) || !Number.isFinite(s.y[i])) continue;
          g.beginPath();
          g.arc(X(s.x[i]), Y(s.y[i]), r, 0, 2 * Math.PI);
          if (style === 'marker') {
            g.lineWidth = 2;
            g.stroke();
          } else g.fill();
        }
        continue;
      }
      g.lineWidth = style === 'dashed' ? 2 : 1.3;
      g.setLineDash(style === 'dashed' ? [6, 4] : []);
      g.beginPath();
      let pen = false;
      for (let i = 0; i < s.x.length; i++) {
        if (!Number.isFinite(s.x[i]) || !Number.isFinite(s.y[i])) {
          pen = false;
          continue;
        }
        if (pen) g.lineTo(X(s.x[i]), Y(s.y[i]));
        else g.moveTo(X(s.x[i]), Y(s.y[i]));
        pen = true;
      }
      g.stroke();
      g.setLineDash([]);
    }
    g.restore();
    // Legend.
    g.textAlign = 'left';
    g.font = '11.5px system-ui, sans-serif';
    let ly = top + 8;
    const lx = left + pw + 12;
    const entries: { name: string; color: string; style: string }[] = [
      // A series with an empty name has no legend entry (the rest of a bundle of trajectories).
      ...this.series.filter((s) => s.name !== '').map((s) => ({ name: s.name, color: s.color, style: s.style ?? 'line' })),
      ...(this.grid ? this.grid.names.map((n, i) => ({ name: n, color: this.grid!.colors[i], style: 'cell' })) : []),
    ];
    for (const e of entries) {
      g.strokeStyle = g.fillStyle = e.color;
      if (e.style === 'cell') g.fillRect(lx, ly - 6, 18, 10);
      else if (e.style === 'points' || e.style === 'marker') {
        g.beginPath();
        g.arc(lx + 9, ly - 1, e.style === 'marker' ? 4 : 2.5, 0, 2 * Math.PI);
        if (e.style === 'marker') g.stroke();
        else g.fill();
      } else {
        g.lineWidth = 2;
        g.setLineDash(e.style === 'dashed' ? [5, 3] : []);
        g.beginPath();
        g.moveTo(lx, ly - 1);
        g.lineTo(lx + 18, ly - 1);
        g.stroke();
        g.setLineDash([]);
      }
      g.fillStyle = '#1d232b';
      g.fillText(e.name, lx + 24, ly + 3);
      ly += 16;
    }
    this.draws += 1;
  }
}
