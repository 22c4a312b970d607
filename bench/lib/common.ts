// Model-free benchmark helpers shared by every bench script: flag parsing and the script's entry point, timing
// statistics, the environment record every result JSON carries, checks of a parsed result, error text for a case's
// reason, and result file names and writing. Nothing here knows a model.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeHelpText, parseArgs, type ArgSpec, type FlagSpec, type ParsedFlags } from '../../src/cli/args.ts';
import { EiError, ParameterError } from '../../src/errors.ts';
import { createGpuContext, type GpuContext } from '../../src/gpu/context.ts';

/** bench/results/: the committed result files, which SUMMARY.md covers. */
export const resultsDir = fileURLToPath(new URL('../results', import.meta.url));

/** --backend as npm run bench and npm run bench:models spell it. */
export const backendFlag = { type: 'string', choices: ['gpu', 'cpu', 'both'], default: 'both', help: 'which backends to time' } as const satisfies FlagSpec;

/** The last flags of npm run bench and npm run bench:models: --adapter, --seed, --out (by default bench/results/`defaultFile`) and --summary. */
export function resultFlags(defaultFile: string) {
  return {
    adapter: { type: 'string', choices: ['auto', 'hardware', 'software'], default: 'auto', help: 'WebGPU adapter (auto: hardware if present, else SwiftShader)' },
    seed: { type: 'integer', min: 0, default: 1, help: 'RNG seed' },
    out: { type: 'string', valueName: 'FILE', help: `result JSON path (default bench/results/${defaultFile})` },
    summary: { type: 'boolean', default: true, help: 'regenerate bench/results/SUMMARY.md afterwards (--no-summary to skip)' },
  } as const satisfies ArgSpec['flags'];
}

/** The flags of `argv`, or null once -h / --help has printed the help text (the script then exits 0). */
export function parseBenchFlags<const S extends ArgSpec>(argv: readonly string[], spec: S): ParsedFlags<S> | null {
  const a = parseArgs(argv, spec);
  if (a.help) {
    console.log(makeHelpText(spec));
    return null;
  }
  return a.flags;
}

/** Runs a bench script's main on the command line's arguments and exits with its code; an EiError prints as `bench: <message>`. */
export function runBenchMain(main: (argv: string[]) => Promise<number>): void {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e: unknown) => {
      if (e instanceof EiError) console.error(`bench: ${e.message}`);
      else console.error(e);
      process.exit(1);
    },
  );
}

/** The backends a `--backend gpu|cpu|both` flag names, WebGPU first. */
export function backendsOf(choice: string): ('webgpu' | 'cpu')[] {
  return choice === 'gpu' ? ['webgpu'] : choice === 'cpu' ? ['cpu'] : ['webgpu', 'cpu'];
}

/** The WebGPU context (--adapter) unless `--backend cpu`: no adapter is then an error, not a silent CPU-only run. */
export async function createBenchGpuContext(backend: string, adapter: string): Promise<GpuContext | null> {
  return backend === 'cpu' ? null : createGpuContext({ adapter: adapter as 'auto', notify: (m) => console.error(m) });
}

/** Says on stderr which adapter the bench runs on, and that a software one measures plumbing, not GPU speed. */
export function logAdapter(ctx: GpuContext): void {
  const i = ctx.info;
  console.error(`bench: adapter ${i.vendor}/${i.architecture}${i.description ? ` (${i.description})` : ''}${i.isSoftware ? ' — SOFTWARE: numbers measure plumbing, not GPU speed' : ''}`);
}

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

export interface EnvironmentRecord {
  engineVersion: string;
  date: string;
  node: string;
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
}

function readEngineVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** Where the run happened: engine version, Node, OS/CPU, adapter facts and limits, relevant env vars. */
export function makeEnvironmentRecord(ctx: GpuContext | null, now = new Date()): EnvironmentRecord {
  const cpus = os.cpus();
  const env: Record<string, string> = {};
  for (const k of ['EI_NEURONS_PER_THREAD', 'EI_ADAPTER', 'VK_ICD_FILENAMES']) if (process.env[k]) env[k] = process.env[k]!;
  return {
    engineVersion: readEngineVersion(),
    date: now.toISOString(),
    node: process.version,
    os: {
      platform: os.platform(),
      release: os.release(),
      arch: os.arch(),
      cpuModel: cpus[0]?.model ?? 'unknown',
      cpuCount: cpus.length,
      totalMemoryBytes: os.totalmem(),
    },
    adapter: ctx
      ? {
          vendor: ctx.info.vendor,
          architecture: ctx.info.architecture,
          device: ctx.info.device,
          description: ctx.info.description,
          isSoftware: ctx.info.isSoftware,
          features: ctx.info.features,
          limits: ctx.info.limits,
        }
      : null,
    env,
  };
}

export function isPositiveFinite(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v) && v > 0;
}

/** Checks the environment record of a parsed result; returns its problems. */
export function validateEnvironmentRecord(e: EnvironmentRecord | undefined): string[] {
  const problems: string[] = [];
  if (!e || typeof e.engineVersion !== 'string' || Number.isNaN(Date.parse(e.date)) || !/^v\d+/.test(e.node ?? '')) problems.push('environment: engineVersion, date or node missing');
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

/** `dir/<name>-<YYYY-MM-DD>.json`, with -2, -3 ... for later runs on the same day. */
export function makeResultPath(dir: string, name: string, e: EnvironmentRecord): string {
  const day = e.date.slice(0, 10);
  let path = join(dir, `${name}-${day}.json`);
  for (let i = 2; existsSync(path); i++) path = join(dir, `${name}-${day}-${i}.json`);
  return path;
}

/** Writes a result as JSON (2-space indents, a final newline), creating its folder. */
export function writeResultFile(path: string, result: unknown): void {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, JSON.stringify(result, null, 2) + '\n');
}

/** Throws the problems a result's check found; else writes it to `pathOf(result)` and returns that path. */
export function writeCheckedResult<R>(result: R, problems: readonly string[], pathOf: (r: R) => string): string {
  if (problems.length) throw new Error(`bench produced a malformed result:\n  ${problems.join('\n  ')}`);
  const path = pathOf(result);
  writeResultFile(path, result);
  return path;
}

/**
 * Says on stderr where the result went; when `summary` is set and it went to bench/results/ (resultsDir; a result
 * written elsewhere leaves SUMMARY.md alone), regenerates the summary with `writeSummary` (bench/summarize.ts) and says so.
 */
export function reportResult(path: string, summary: boolean, writeSummary: (dir: string) => string): void {
  console.error(`bench: wrote ${path}`);
  if (summary && dirname(resolve(path)) === resultsDir) console.error(`bench: wrote ${writeSummary(resultsDir)}`);
}

/**
 * Writes the result of a single model's own bench script (bench/<model>.bench.ts) to `out`, by default
 * bench/results/<adapterName>-<kind>-<YYYY-MM-DD>.json, reports it and regenerates SUMMARY.md for bench/results/.
 */
export function saveResult<R extends { environment: EnvironmentRecord }>(result: R, kind: string, writeSummary: (dir: string) => string, out?: string): void {
  const path = out ?? makeResultPath(resultsDir, `${adapterName(result.environment)}-${kind}`, result.environment);
  writeResultFile(path, result);
  reportResult(path, true, writeSummary);
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
