// The Node side of the model-free benchmark helpers: flag parsing and the script's entry point, the environment record
// of a Node run (this machine's OS, CPU and Node), result file names and writing. The pure parts (timing statistics,
// the record's shape and checks, formatting) are in records.ts, which the browser bench page shares. Nothing here knows a model.
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { makeHelpText, parseArgs, type ArgSpec, type FlagSpec, type ParsedFlags } from '../../src/cli/args.ts';
import { engineVersion } from '../../src/engine/version.ts';
import { EiError } from '../../src/errors.ts';
import { createGpuContext, type GpuContext } from '../../src/gpu/context.ts';
import { adapterName, makeAdapterFacts, type EnvironmentRecord } from './records.ts';

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

/** The machine's OS and CPU facts (a browser run's record gets them from `ei bench --browser`, which started the browser here). */
export function makeHostOsRecord(): EnvironmentRecord['os'] {
  const cpus = os.cpus();
  return { platform: os.platform(), release: os.release(), arch: os.arch(), cpuModel: cpus[0]?.model ?? 'unknown', cpuCount: cpus.length, totalMemoryBytes: os.totalmem() };
}

/** Where the run happened: engine version, Node, OS/CPU, adapter facts and limits, relevant env vars. */
export function makeEnvironmentRecord(ctx: GpuContext | null, now = new Date()): EnvironmentRecord {
  const env: Record<string, string> = {};
  for (const k of ['EI_NEURONS_PER_THREAD', 'EI_ADAPTER', 'VK_ICD_FILENAMES']) if (process.env[k]) env[k] = process.env[k]!;
  return { engineVersion, date: now.toISOString(), node: process.version, os: makeHostOsRecord(), adapter: makeAdapterFacts(ctx), env };
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
