// The Node side of `ei bench --browser` (src/cli/bench-command.ts loads it from the checkout): checks the flags, builds
// the demo (or takes a built one), serves it on 127.0.0.1 with Vite's preview server (a secure, cross-origin isolated
// origin, so the page has navigator.gpu and wasm threads), starts Chrome/Chromium through puppeteer, runs
// demo/bench.html, and writes its result as bench/results/models-<adapter>-chrome-<date>.json, then SUMMARY.md.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import puppeteer, { type Browser, type Page } from 'puppeteer';
import { build, preview, type PreviewServer } from 'vite';
import { chromeQuietArgs, chromeSoftwareArgs, chromeWebGpuArgs, type BenchFlags, type ChromeRunnerModule } from '../../src/cli/bench-command.ts';
import { AdapterUnavailableError, ConfigError, ParameterError } from '../../src/errors.ts';
import { claimForCleanup, claimProcessGroup, releaseFromCleanup, releaseProcessGroup } from '../../src/io/cleanup-link.ts';
import type { BenchPageState } from '../../demo/bench.ts';
import { writeSummary } from '../summarize.ts';
import { browserResultName, makeBenchQuery, makeBrowserBenchConfig, type BrowserBenchInput } from './browser-bench.ts';
import { makeHostOsRecord, makeResultPath, resultsDir } from './common.ts';
import { formatModelCaseLine, validateModelsBenchResult, type ModelsBenchResult } from './models-harness.ts';

const repoRoot = fileURLToPath(new URL('../..', import.meta.url));
/** The Chromium the project's browser tests use (scripts/setup.sh installs Debian's), unless EI_CHROMIUM names another. */
const defaultChromium = process.env.EI_CHROMIUM ?? '/usr/bin/chromium';
/** A run whose page logs nothing for this long (beyond the budget of a case) is taken as hung. */
const stallSeconds = 120;

interface AdapterProbe {
  found: boolean;
  isSoftware: boolean;
  label: string;
}

/** The page's settings from the flags, as text (so the page parses them with the same code as a query typed by hand). */
function pageInput(f: BenchFlags, given: ReadonlySet<string>): BrowserBenchInput {
  const input: BrowserBenchInput = { backend: f.backend, seed: f.seed };
  if (f.models !== undefined) input.models = f.models;
  if (f.quick) input.quick = true;
  if (f.sizes !== undefined) input.sizes = f.sizes;
  if (f.batches !== undefined) input.batches = f.batches;
  if (given.has('max-seconds')) input.maxSeconds = f['max-seconds'];
  if (f.repeats !== undefined) input.repeats = f.repeats;
  if (f.steps !== undefined) input.steps = f.steps;
  return input;
}

/** Refuses flags that would do nothing or clash, before anything is built or launched; returns where the result goes. */
function checkFlags(f: BenchFlags, given: ReadonlySet<string>, input: BrowserBenchInput): { out: string | null; chrome: string } {
  const config = makeBrowserBenchConfig(input);
  if (f.overwrite && f.out === undefined) throw new ParameterError('--overwrite', 'has no effect without --out (the default name never replaces a file: it adds -2, -3 ...)', 'leave --overwrite out, or give --out FILE');
  const out = f.out === undefined ? null : resolve(f.out);
  if (out !== null && existsSync(out) && !f.overwrite) throw new ConfigError(`--out ${f.out} exists`, 'add --overwrite to replace it, or give another --out');
  if (!f.summary && out !== null && dirname(out) !== resultsDir) {
    throw new ParameterError('--no-summary', `has no effect: SUMMARY.md is regenerated only for results in ${resultsDir}, and --out is elsewhere`, 'leave --no-summary out');
  }
  if (given.has('adapter') && !config.backends.includes('webgpu')) throw new ParameterError('--adapter', `has no effect with --backend ${f.backend} (no WebGPU cases)`, 'leave --adapter out, or use --backend gpu, both or all');
  const chrome = f.chrome ?? defaultChromium;
  if (!existsSync(chrome)) {
    throw new ConfigError(
      f.chrome ? `--chrome ${f.chrome}: no such file` : `Chromium not found at ${chrome}`,
      f.chrome ? 'give the path of a Chrome or Chromium binary, e.g. --chrome /usr/bin/google-chrome' : 'run `npm run setup` (installs Debian\'s chromium), set EI_CHROMIUM, or give --chrome PATH to your own Chrome',
    );
  }
  if (f['demo-dir'] !== undefined && !existsSync(join(resolve(f['demo-dir']), 'bench.html'))) {
    throw new ConfigError(`--demo-dir ${f['demo-dir']} has no bench.html`, 'build the demo first (npm run build:demo, into dist/demo), or leave --demo-dir out to build one');
  }
  return { out, chrome };
}

/** Chrome's switches for an adapter choice, plus the user's own. */
function chromeArgs(software: boolean, extra: readonly string[]): string[] {
  // Chrome refuses to start as root with its sandbox on (CI containers run as root).
  const root = typeof process.getuid === 'function' && process.getuid() === 0;
  return [...chromeWebGpuArgs, ...(software ? chromeSoftwareArgs : []), ...chromeQuietArgs, ...(root ? ['--no-sandbox'] : []), ...extra];
}

/** What navigator.gpu answers on the (idle) bench page. */
async function probeAdapter(page: Page): Promise<AdapterProbe> {
  return page.evaluate(async () => {
    const a = await navigator.gpu?.requestAdapter({ powerPreference: 'high-performance' });
    if (!a) return { found: false, isSoftware: false, label: 'none' };
    const i = a.info;
    const text = `${i.vendor} ${i.architecture} ${i.device} ${i.description}`;
    return { found: true, isSoftware: /swiftshader|llvmpipe|lavapipe/i.test(text) || Boolean((i as { isFallbackAdapter?: boolean }).isFallbackAdapter), label: `${i.vendor}/${i.architecture}${i.description ? ` (${i.description})` : ''}` };
  });
}

/** Polls the page's state, passing its new log lines on, until it is done or failed; a page silent too long is an error. */
async function waitForPage(page: Page, maxSeconds: number, log: (line: string) => void): Promise<BenchPageState> {
  let seen = 0;
  let lastNews = Date.now();
  const patience = (stallSeconds + 2 * maxSeconds) * 1000;
  for (;;) {
    const s = await page.evaluate(() => window.__eiBench ?? null);
    if (!s) throw new Error('the bench page did not start (window.__eiBench is missing)');
    for (const line of s.log.slice(seen)) log(line);
    if (s.log.length > seen) lastNews = Date.now();
    seen = s.log.length;
    if (s.status === 'done' || s.status === 'error') return s;
    if (Date.now() - lastNews > patience) throw new Error(`the bench page logged nothing for ${patience / 1000} s (last: ${s.log[s.log.length - 1] ?? 'nothing'}); the browser or its GPU may be hung`);
    await new Promise((ok) => setTimeout(ok, 500));
  }
}

export const runChromeBench: ChromeRunnerModule['runChromeBench'] = async (f, given, log) => {
  const input = pageInput(f, given);
  const { out, chrome } = checkFlags(f, given, input);
  const wantsGpu = makeBrowserBenchConfig(input).backends.includes('webgpu');
  const temp = mkdtempSync(join(tmpdir(), 'ei-bench-browser-'));
  let server: PreviewServer | null = null;
  let browser: Browser | null = null;
  // Ctrl-C or a kill makes bin/ei.js SIGKILL this process at once: it then removes the temporary folder and kills
  // Chrome's process group (puppeteer starts Chrome detached, so it would outlive us with its helpers).
  claimForCleanup(temp);
  const groups: number[] = [];
  try {
    let demoDir = f['demo-dir'] === undefined ? null : resolve(f['demo-dir']);
    if (!demoDir) {
      demoDir = join(temp, 'demo');
      log('bench: building the demo (vite build)');
      await build({ configFile: join(repoRoot, 'vite.config.ts'), logLevel: 'warn', build: { outDir: demoDir, emptyOutDir: true, sourcemap: false } });
    }
    // Vite's preview server sends the cross-origin isolation headers of vite.config.ts; port 0: any free port.
    server = await preview({ configFile: join(repoRoot, 'vite.config.ts'), logLevel: 'warn', preview: { host: '127.0.0.1', port: 0, strictPort: true, open: false }, build: { outDir: demoDir } });
    const address = server.httpServer.address();
    if (!address || typeof address === 'string') throw new Error('the preview server has no TCP address');
    const base = `http://127.0.0.1:${address.port}/bench.html`;

    const launch = async (software: boolean) => {
      const args = chromeArgs(software, f['chrome-arg']);
      // A copy: puppeteer moves --enable-features out of the array it is given (merging it with its own).
      const b = await puppeteer.launch({ executablePath: chrome, headless: f.headless, args: [...args], userDataDir: mkdtempSync(join(temp, 'profile-')), timeout: 60_000, protocolTimeout: 0, env: { ...process.env, XDG_RUNTIME_DIR: process.env.XDG_RUNTIME_DIR ?? tmpdir() } });
      const pid = b.process()?.pid;
      if (pid !== undefined) {
        claimProcessGroup(pid);
        groups.push(pid);
      }
      const page = await b.newPage();
      await page.goto(base, { waitUntil: 'load' });
      return { b, page, args };
    };
    let { b, page, args } = await launch(f.adapter === 'software');
    browser = b;
    if (wantsGpu) {
      let probe = await probeAdapter(page);
      if (!probe.found && f.adapter === 'auto') {
        log('bench: Chrome found no hardware WebGPU adapter; trying SwiftShader (correct but slow: the numbers measure plumbing, not GPU speed)');
        await b.close();
        ({ b, page, args } = await launch(true));
        browser = b;
        probe = await probeAdapter(page);
      }
      if (!probe.found) throw new AdapterUnavailableError(`Chrome (${chrome}) found no WebGPU adapter with ${args.join(' ')}`, 'check chrome://gpu in that Chrome; try --adapter software (SwiftShader), or --chrome-arg=--use-angle=vulkan on Linux');
      if (f.adapter === 'hardware' && probe.isSoftware) throw new AdapterUnavailableError(`Chrome offered only a software adapter (${probe.label})`, 'install or enable the GPU driver (Vulkan on Linux; see chrome://gpu), or use --adapter auto or software');
      log(`bench: Chrome's adapter: ${probe.label}${probe.isSoftware ? ' (software)' : ''}`);
    }
    const userAgent = await b.userAgent();
    log(`bench: ${userAgent}`);
    await page.goto(`${base}?${makeBenchQuery(input, true)}`, { waitUntil: 'load' });
    const state = await waitForPage(page, makeBrowserBenchConfig(input).maxSeconds, log);
    if (state.status === 'error' || !state.result) throw new ConfigError(`the bench page failed: ${state.error ?? 'no result'}`, 'see the lines above; run the page by hand (npm run demo, then /bench.html) to look closer');
    const result: ModelsBenchResult = state.result;
    // Chrome ran on this machine: its OS and CPU replace what the page could see, with how Chrome was started.
    result.environment.os = makeHostOsRecord();
    result.environment.browser = { ...result.environment.browser!, launch: { executable: chrome, args, headless: f.headless } };
    const problems = validateModelsBenchResult(result);
    if (problems.length) throw new Error(`the bench page produced a malformed result:\n  ${problems.join('\n  ')}`);
    const path = out ?? makeResultPath(resultsDir, browserResultName(result.environment), result.environment);
    mkdirSync(dirname(path), { recursive: true });
    // 'wx' unless --overwrite: a file that appeared while the benchmark ran is not replaced either.
    writeFileSync(path, JSON.stringify(result, null, 2) + '\n', { flag: f.overwrite ? 'w' : 'wx' });
    for (const c of result.cases) console.log(formatModelCaseLine(c));
    log(`bench: wrote ${path}`);
    if (f.summary && dirname(path) === resultsDir) log(`bench: wrote ${writeSummary(resultsDir)}`);
    return path;
  } finally {
    await browser?.close().catch(() => browser?.process()?.kill('SIGKILL'));
    // Helpers that outlived the browser (they name the profile folder under `temp` on their command line) would keep
    // writing the profile while it is removed.
    spawnSync('pkill', ['-KILL', '-f', temp]);
    for (const pid of groups) releaseProcessGroup(pid);
    await server?.close();
    rmSync(temp, { recursive: true, force: true });
    releaseFromCleanup(temp);
  }
};
