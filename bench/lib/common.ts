// Model-free benchmark helpers shared by every bench script: timing statistics, the environment record every result
// JSON carries, error text for a case's reason, and result file names. Nothing here knows a model.
import { existsSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { join } from 'node:path';
import { ParameterError } from '../../src/errors.ts';
import type { GpuContext } from '../../src/gpu/context.ts';

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

/** Checks the environment record of a parsed result; returns its problems. */
export function validateEnvironmentRecord(e: EnvironmentRecord | undefined): string[] {
  const problems: string[] = [];
  const posFinite = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v > 0;
  if (!e || typeof e.engineVersion !== 'string' || Number.isNaN(Date.parse(e.date)) || !/^v\d+/.test(e.node ?? '')) problems.push('environment: engineVersion, date or node missing');
  if (!e?.os || typeof e.os.cpuModel !== 'string' || !posFinite(e.os.cpuCount)) problems.push('environment.os: cpuModel or cpuCount missing');
  if (e && e.adapter !== null && (typeof e.adapter?.vendor !== 'string' || typeof e.adapter?.isSoftware !== 'boolean' || typeof e.adapter?.limits !== 'object')) {
    problems.push('environment.adapter: vendor, isSoftware or limits missing');
  }
  return problems;
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

/** `dir/<name>-<YYYY-MM-DD>.json`, with -2, -3 ... for later runs on the same day. */
export function makeResultPath(dir: string, name: string, e: EnvironmentRecord): string {
  const day = e.date.slice(0, 10);
  let path = join(dir, `${name}-${day}.json`);
  for (let i = 2; existsSync(path); i++) path = join(dir, `${name}-${day}-${i}.json`);
  return path;
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
