// Progress reporting for long CLI work: a redrawn bar on terminals, a few plain lines in CI logs.
import { ParameterError } from '../errors.ts';

/** The part of a writable stream the bar needs (process.stderr fits; tests pass a fake). */
export interface ProgressStream {
  write(text: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  label: string;
  /** Units of work in all, e.g. steps or sweep points; 0 is allowed (done at once). */
  total: number;
  stream?: ProgressStream;
  /** Unit name for the rate, e.g. 'steps' -> '1.2k steps/s'. */
  unit?: string;
  /** Write nothing at all (e.g. --quiet, or when stdout carries the results). */
  silent?: boolean;
  /** Clock in milliseconds; injectable for tests. */
  now?: () => number;
  /** TTY redraw interval; 100 ms is 10 Hz, smooth without flooding slow terminals. */
  ttyIntervalMs?: number;
  /** Plain (non-TTY) mode: minimum gap between lines. */
  plainIntervalMs?: number;
  /** Plain mode: progress (fraction of total) needed since the last line. */
  plainFraction?: number;
  /** Plain mode: a heartbeat line after this long even if progress is slower than plainFraction. */
  heartbeatMs?: number;
}

export interface ProgressBar {
  /** Sets the amount done so far (absolute, not an increment). */
  update(done: number): void;
  /** Marks the work complete and prints the final line. */
  finish(message?: string): void;
  /** Marks the work as failed and prints where it stopped. */
  fail(message?: string): void;
  readonly done: number;
}

/** '950 ms', '12.3 s', '4m05s', '2h03m'. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  const s = ms / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  const total = Math.round(s);
  if (total < 3600) return `${Math.floor(total / 60)}m${String(total % 60).padStart(2, '0')}s`;
  return `${Math.floor(total / 3600)}h${String(Math.floor((total % 3600) / 60)).padStart(2, '0')}m`;
}

// Exact integers read better for modest amounts ('500/1000'); SI prefixes beyond that.
function formatAmount(x: number): string {
  return Number.isInteger(x) && Math.abs(x) < 100_000 ? String(x) : formatCount(x);
}

/** '850', '12.3k', '4.56M' with SI prefixes, three significant digits. */
export function formatCount(x: number): string {
  if (!Number.isFinite(x)) return '--';
  const prefixes = ['', 'k', 'M', 'G', 'T'];
  let i = 0;
  let v = Math.abs(x);
  while (v >= 999.5 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  const sign = x < 0 ? '-' : '';
  if (i === 0) return sign + (v >= 100 || Number.isInteger(v) ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2));
  return `${sign}${v.toFixed(v >= 99.95 ? 0 : v >= 9.995 ? 1 : 2)}${prefixes[i]}`;
}

/**
 * A progress bar. On a TTY it redraws one line (percentage, rate, ETA) at most every
 * ttyIntervalMs. Elsewhere (CI, files) it prints a plain line only when at least
 * plainIntervalMs (5 s) have passed AND either plainFraction (10%) more is done or
 * heartbeatMs (60 s) have passed, so a log gets at most ~11 lines plus one a minute.
 */
export function createProgressBar(options: ProgressOptions): ProgressBar {
  const { label, total } = options;
  if (!Number.isFinite(total) || total < 0) {
    throw new ParameterError('progress total', `${total} is not a finite count >= 0`, 'pass the number of units of work');
  }
  const stream = options.stream ?? process.stderr;
  const now = options.now ?? (() => performance.now());
  const unit = options.unit ?? 'it';
  const silent = options.silent === true;
  const tty = stream.isTTY === true;
  const ttyInterval = options.ttyIntervalMs ?? 100;
  const plainInterval = options.plainIntervalMs ?? 5000;
  const plainFraction = options.plainFraction ?? 0.1;
  const heartbeat = options.heartbeatMs ?? 60_000;
  const start = now();
  let done = 0;
  let closed = false;
  let lastDraw = -Infinity;
  let lastPlainTime = start;
  let lastPlainDone = 0;
  let drewTty = false;

  const fraction = () => (total === 0 ? 1 : Math.min(1, done / total));
  const stats = () => {
    const elapsed = now() - start;
    const rate = elapsed > 0 ? (done / elapsed) * 1000 : NaN;
    const eta = rate > 0 ? ((total - done) / rate) * 1000 : NaN;
    return { elapsed, rate, eta };
  };
  const pct = () => `${(fraction() * 100).toFixed(fraction() < 0.1 ? 1 : 0).padStart(4)}%`;

  const ttyLine = () => {
    const { rate, eta } = stats();
    const tail = ` ${pct()} ${formatAmount(done)}/${formatAmount(total)} ${unit}  ${formatCount(rate)} ${unit}/s  ETA ${formatDuration(eta)}`;
    const cols = Math.max(20, (stream.columns ?? 80) - 1);
    const barWidth = Math.max(0, Math.min(30, cols - label.length - tail.length - 4));
    const filled = Math.round(fraction() * barWidth);
    const bar = barWidth > 0 ? ` [${'#'.repeat(filled)}${'-'.repeat(barWidth - filled)}]` : '';
    // Truncate rather than wrap: a wrapped line breaks the \r redraw.
    return `${label}${bar}${tail}`.slice(0, cols);
  };
  const plainLine = () => {
    const { rate, eta } = stats();
    return `${label}: ${pct().trim()} (${formatAmount(done)}/${formatAmount(total)} ${unit}, ${formatCount(rate)} ${unit}/s, ETA ${formatDuration(eta)})\n`;
  };

  const drawTty = () => {
    stream.write(`\r${ttyLine()}\x1b[K`);
    drewTty = true;
  };

  return {
    get done() {
      return done;
    },
    update(value: number) {
      if (closed || silent || !Number.isFinite(value)) {
        if (!closed && Number.isFinite(value)) done = Math.max(0, value);
        return;
      }
      done = Math.max(0, value);
      const t = now();
      if (tty) {
        if (t - lastDraw >= ttyInterval) {
          lastDraw = t;
          drawTty();
        }
        return;
      }
      const since = t - lastPlainTime;
      const advanced = total > 0 ? (done - lastPlainDone) / total : 0;
      if (since >= plainInterval && (advanced >= plainFraction || (since >= heartbeat && done > lastPlainDone))) {
        lastPlainTime = t;
        lastPlainDone = done;
        stream.write(plainLine());
      }
    },
    finish(message?: string) {
      if (closed) return;
      closed = true;
      done = Math.max(done, total);
      if (silent) return;
      const { elapsed } = stats();
      const rate = elapsed > 0 ? (done / elapsed) * 1000 : NaN;
      const text = `${label}: done, ${formatAmount(done)} ${unit} in ${formatDuration(elapsed)} (${formatCount(rate)} ${unit}/s)${message ? ` ${message}` : ''}`;
      stream.write(tty ? `\r${text}\x1b[K\n` : `${text}\n`);
    },
    fail(message?: string) {
      if (closed) return;
      closed = true;
      if (silent) return;
      const { elapsed } = stats();
      const text = `${label}: failed at ${pct().trim()} (${formatAmount(done)}/${formatAmount(total)} ${unit}) after ${formatDuration(elapsed)}${message ? `: ${message}` : ''}`;
      stream.write(tty && drewTty ? `\r${text}\x1b[K\n` : `${text}\n`);
    },
  };
}
