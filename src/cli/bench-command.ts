// `ei bench --browser`: the models benchmark in Chrome/Chromium (demo/bench.html driven by puppeteer), written as the
// same JSON as `npm run bench:models`. The browser side needs a checkout (the demo, Vite, puppeteer, bench/), so the
// work is in bench/lib/chrome-runner.ts, loaded from the checkout at run time; an installed package says so.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../errors.ts';
import { makeHelpText, parseArgs, type ArgSpec, type ParsedFlags } from './args.ts';

/** Chrome's switches for WebGPU on Linux: without them WebGPU is off there (and Chrome's GPU process lacks Vulkan). */
export const chromeWebGpuArgs: readonly string[] = ['--enable-unsafe-webgpu', '--enable-features=Vulkan'];
/** Added for --adapter software: WebGPU on SwiftShader, Chrome's CPU implementation of Vulkan. */
export const chromeSoftwareArgs: readonly string[] = ['--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader'];
/** Always added: nothing the browser does in the background while it is timed, and a fresh profile's prompts skipped. */
export const chromeQuietArgs: readonly string[] = ['--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'];

export const benchSpec = {
  command: 'ei bench',
  description:
    "Benchmarks every registered model (or --models a,b) in Chrome/Chromium: demo/bench.html runs each model's scaling case from n = 1e3 up to the size the adapter's limits " +
    "or the time budget stop (a model's own sizes where its size is not a neuron count) and its batched case over batches 1..1e5, on the page's navigator.gpu, with the harness of " +
    '`npm run bench:models` (Node) and the same JSON, adapter facts from GPUAdapter.info and the user agent. Writes bench/results/models-<adapter>-chrome-<date>.json and regenerates ' +
    'bench/results/SUMMARY.md. Needs a checkout with npm install. The Node benchmark is `npm run bench:models` (ei bench without --browser only says so).',
  flags: {
    browser: { type: 'boolean', help: 'run in Chrome/Chromium (required; the Node benchmark is npm run bench:models)' },
    chrome: { type: 'string', valueName: 'PATH', help: "your own Chrome or Chromium (default: EI_CHROMIUM, else /usr/bin/chromium, the Chromium the project's browser tests use)" },
    adapter: {
      type: 'string',
      choices: ['auto', 'hardware', 'software'],
      default: 'auto',
      help: `the WebGPU adapter: Chrome always gets ${chromeWebGpuArgs.join(' ')} (and ${chromeQuietArgs.join(' ')}; --no-sandbox when run as root); software adds ${chromeSoftwareArgs.join(' ')} (SwiftShader); hardware refuses a software adapter; auto is hardware, else SwiftShader with a notice`,
    },
    'chrome-arg': { type: 'strings', valueName: 'ARG', help: 'another Chrome switch, e.g. --chrome-arg=--use-angle=vulkan (repeatable)' },
    headless: { type: 'boolean', default: true, help: 'run Chrome without a window (--no-headless shows it)' },
    models: { type: 'string', valueName: 'id,id,...', help: 'models to time (default: every registered model with a bench member; `ei models` lists them)' },
    backend: { type: 'string', choices: ['gpu', 'cpu', 'wasm', 'both', 'all'], default: 'gpu', help: "what the page times: gpu (its WebGPU), the CPU reference, the wasm kernels (threads where the page is cross-origin isolated), both (gpu and cpu) or all" },
    quick: { type: 'boolean', help: 'sizes 1e3, 1e4 (a model whose size is not neurons: its quick sizes), batches 1, 10, 2 repeats, 5 s per case' },
    sizes: { type: 'string', valueName: 'n,n,...', help: "scaling sizes of every model, in each model's own unit (default: the ladder; not with --quick)" },
    batches: { type: 'string', valueName: 'b,b,...', help: "batches of the batched case (default 1,10,...,1e5 until refused or over budget; quick 1,10; 'none' skips)" },
    'max-seconds': { type: 'number', min: 0, help: "budget per case for the timed runs; the model's estimate and a probe lower the steps or skip the case and the larger sizes (default 60, quick 5)" },
    repeats: { type: 'integer', min: 1, help: 'timed runs per case, each on a fresh runner (default 3, quick 2)' },
    steps: { type: 'integer', min: 1, help: "steps per timed run before the budget lowers them (default: each case's own length)" },
    seed: { type: 'integer', min: 0, default: 1, help: 'RNG seed' },
    'demo-dir': { type: 'string', valueName: 'DIR', help: 'serve this built demo (e.g. dist/demo from npm run build:demo) instead of building one into a temporary folder' },
    out: { type: 'string', valueName: 'FILE', help: 'result JSON path (default bench/results/models-<adapter>-chrome-<date>.json, -2, -3 ... for later runs that day)' },
    overwrite: { type: 'boolean', help: 'replace --out FILE when it exists (without it, an existing file is an error)' },
    summary: { type: 'boolean', default: true, help: 'regenerate bench/results/SUMMARY.md when the result goes there (--no-summary to skip)' },
  },
} as const satisfies ArgSpec;

export type BenchFlags = ParsedFlags<typeof benchSpec>;

/** What the checkout's bench/lib/chrome-runner.ts offers: runs the page in Chrome and writes the result; returns its path. */
export interface ChromeRunnerModule {
  runChromeBench(flags: BenchFlags, given: ReadonlySet<string>, log: (line: string) => void): Promise<string>;
}

const runnerUrl = new URL('../../bench/lib/chrome-runner.ts', import.meta.url);

export async function benchCommand(argv: string[]): Promise<number> {
  const a = parseArgs(argv, benchSpec);
  if (a.help) {
    console.log(makeHelpText(benchSpec));
    return 0;
  }
  if (!a.flags.browser) {
    throw new ConfigError(
      "'ei bench' runs the benchmark in a browser only, and --browser was not given",
      'add --browser (ei bench --browser --quick for a short run); for the Node benchmark (Dawn, wasm, cpu) run `npm run bench:models -- --help` in a checkout (bench/README.md)',
    );
  }
  if (!existsSync(fileURLToPath(runnerUrl))) {
    throw new ConfigError(
      'ei bench --browser needs a checkout of ei-engine (the demo pages, Vite and puppeteer are not in the installed package)',
      'clone the repository, run npm install (and npm run setup for Chromium), then node bin/ei.js bench --browser; or serve the demo and open bench.html in Chrome yourself',
    );
  }
  const runner = (await import(runnerUrl.href)) as ChromeRunnerModule;
  await runner.runChromeBench(a.flags, a.given, (line) => console.error(line));
  return 0;
}
