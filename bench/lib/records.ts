// The pure parts of every benchmark's result records, shared by the Node bench scripts and the browser bench page
// (demo/bench.ts): timing statistics, the environment record's shape and its check, a case's error text, adapter
// slugs of result names, list flags and number formatting. No node: module and no DOM here.
import { ParameterError } from '../../src/errors.ts';
import type { GpuContext } from '../../src/gpu/context.ts';

/** `digits` significant digits, '-' for a missing or non-finite number. */
export function formatPrecision(x: number | undefined, digits = 3): string {
  return x === undefined || !Number.isFinite(x) ? '-' : x.toPrecision(digits);
}

export interface TimingStats {
  /** Wall seconds of each timed call. */
  samples: number[];
  median: number;
  min: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function makeTimingStats(samples: readonly number[]): TimingStats {
  return { samples: [...samples], median: median(samples), min: Math.min(...samples) };
}

/** Where a browser run happened, from the page itself (absent on records of Node runs). */
export interface BrowserRecord {
  /** navigator.userAgent, e.g. 'Mozilla/5.0 (X11; Linux x86_64) ... HeadlessChrome/131.0.6778.85 Safari/537.36'. */
  userAgent: string;
  /** The browser's name and version from the user agent, e.g. 'Chrome 131.0.6778.85 (headless)'. */
  name: string;
  /** Whether the page was cross-origin isolated (the wasm backend's worker threads need it). */
  crossOriginIsolated: boolean;
  /** How `ei bench --browser` started the browser (absent when the page was opened by hand). */
  launch?: { executable: string; args: string[]; headless: boolean };
}

export interface EnvironmentRecord {
  engineVersion: string;
  date: string;
  /** process.version of a Node run; null in a browser (see `browser`). */
  node: string | null;
  os: { platform: string; release: string; arch: string; cpuModel: string; cpuCount: number; totalMemoryBytes: number };
  /** null when no WebGPU backend ran. */
  adapter: {
    vendor: string;
    architecture: string;
    device: string;
    description: string;
    isSoftware: boolean;
    features: string[];
    limits: Record<string, number>;
    /** Neurons per thread of the population kernels (bench/lib/harness.ts records it; the generic harness does not know kernels). */
    neuronsPerThread?: number;
  } | null;
  env: Record<string, string>;
  /** Present on records of browser runs: the user agent and how the browser was started. */
  browser?: BrowserRecord;
}

/** The adapter part of the environment record: the facts GpuContext read from GPUAdapter.info and the device, or null. */
export function makeAdapterFacts(ctx: GpuContext | null): EnvironmentRecord['adapter'] {
  if (!ctx) return null;
  const i = ctx.info;
  return { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description, isSoftware: i.isSoftware, features: i.features, limits: i.limits };
}

export function isPositiveFinite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/** Checks the environment record of a parsed result; returns its problems. */
export function validateEnvironmentRecord(e: EnvironmentRecord | undefined): string[] {
  const problems: string[] = [];
  if (!e || typeof e.engineVersion !== 'string' || Number.isNaN(Date.parse(e.date))) problems.push('environment: engineVersion or date missing');
  // A Node run names its Node version; a browser run has node null and the browser's user agent instead.
  if (e && e.browser === undefined && !/^v\d+/.test(e.node ?? '')) problems.push('environment: node missing (and no browser record)');
  if (e?.browser !== undefined && (e.node !== null || typeof e.browser?.userAgent !== 'string' || e.browser.userAgent === '' || typeof e.browser.name !== 'string')) {
    problems.push('environment.browser: userAgent or name missing, or node not null');
  }
  if (!e?.os || typeof e.os.cpuModel !== 'string' || !isPositiveFinite(e.os.cpuCount)) problems.push('environment.os: cpuModel or cpuCount missing');
  if (e && e.adapter !== null && (typeof e.adapter?.vendor !== 'string' || typeof e.adapter?.isSoftware !== 'boolean' || typeof e.adapter?.limits !== 'object')) {
    problems.push('environment.adapter: vendor, isSoftware or limits missing');
  }
  return problems;
}

/** Whether parsed timings are well formed: positive finite median, min and samples, one sample per repeat. */
export function isValidTimingStats(t: TimingStats | undefined, repeats: number | undefined): boolean {
  return !!t && isPositiveFinite(t.median) && isPositiveFinite(t.min) && t.samples.length === repeats && t.samples.every(isPositiveFinite);
}

/** The problems of a parsed case whose status is not 'ok': skipped or failed need a reason; any other status is unknown. */
export function validateNotOkCase(at: string, c: { status: string; reason?: string }): string[] {
  if (c.status === 'skipped' || c.status === 'failed') return typeof c.reason !== 'string' || c.reason.length === 0 ? [`${at}: ${c.status} without a reason`] : [];
  return [`${at}: unknown status ${String(c.status)}`];
}

/** The problems of a parsed result's speedups: a list whose ratios are positive finite numbers. */
export function validateSpeedups(speedups: readonly { gpuOverCpu: number }[] | undefined): string[] {
  return !Array.isArray(speedups) || speedups.some((s) => !isPositiveFinite(s.gpuOverCpu)) ? ['speedups invalid'] : [];
}

/** Where a result ran, for tables: 'Node v20.20.0 / Dawn', or the browser's name and version. */
export function runtimeLabel(e: EnvironmentRecord): string {
  return e.browser ? e.browser.name : `Node ${e.node} / Dawn`;
}

/** The runtime without its version, to group results by: 'Node / Dawn', 'Chrome', 'Edge', 'Firefox' ... */
export function runtimeKind(e: EnvironmentRecord): string {
  return e.browser ? e.browser.name.split(' ')[0] : 'Node / Dawn';
}

/** 'Name: message; fix: hint' on one line, for a case's reason. */
export function describeError(e: unknown): string {
  const err = e instanceof Error ? e : new Error(String(e));
  return `${err.name}: ${err.message.replace(/\n\s*/g, '; ')}`;
}

export function slug(s: string): string {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '') || 'unknown';
}

/** `<vendor>-<architecture>` of the adapter, or `cpu-only-<cpu model>` without WebGPU. */
export function adapterSlug(e: EnvironmentRecord): string {
  const a = e.adapter;
  return a ? `${slug(a.vendor)}-${slug(a.architecture || a.device || 'gpu')}` : `cpu-only-${slug(e.os.cpuModel).slice(0, 40)}`;
}

/**
 * `<vendor>-<architecture>` lower-cased with other characters as '-', or `cpu-only` without WebGPU: the adapter part of
 * the result names of the bench scripts of single models that write through saveResult (adapterSlug is that of npm run
 * bench and npm run bench:models).
 */
export function adapterName(e: EnvironmentRecord): string {
  const a = e.adapter;
  return a ? `${a.vendor}-${a.architecture}`.toLowerCase().replace(/[^a-z0-9]+/g, '-') : 'cpu-only';
}

/** Parses `--flag a,b,c` as positive integers (1e4 allowed); undefined gives the fallback, 'none' an empty list. */
export function parsePositiveList(flag: string, text: string | undefined, fallback: readonly number[]): number[] {
  if (text === undefined) return [...fallback];
  if (text.trim() === 'none') return [];
  const out = text.split(',').map((s) => Number(s.trim()));
  if (out.length === 0 || out.some((v) => !Number.isSafeInteger(v) || v < 1)) {
    throw new ParameterError(`--${flag}`, `'${text}' is not a comma-separated list of positive integers`, `write e.g. --${flag} 1,10,100`);
  }
  return out;
}

/** 1.23 M, 456 k, 12.3 MB/s: three significant digits with an SI prefix. */
export function formatSi(x: number | undefined, unit = ''): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  const prefixes = ['', 'k', 'M', 'G', 'T', 'P'];
  let i = 0;
  let v = Math.abs(x);
  while (v >= 999.5 && i < prefixes.length - 1) {
    v /= 1000;
    i++;
  }
  return `${x < 0 ? '-' : ''}${v.toPrecision(3)} ${prefixes[i]}${unit}`.trim();
}

/** 1.23 s, 45.6 ms, 789 µs. */
export function formatSeconds(x: number | undefined): string {
  if (x === undefined || !Number.isFinite(x)) return '-';
  return x >= 1 ? `${x.toFixed(2)} s` : x >= 1e-3 ? `${(x * 1e3).toFixed(1)} ms` : `${(x * 1e6).toFixed(0)} µs`;
}
