// The pure parts of the browser benchmark (bench/lib/browser-bench.ts) and `ei bench`'s refusals: settings and their
// page query, the size ladders, the browser's environment record, the JSON and CSV of a run (the page's own pipeline,
// here on the CPU reference in Node), SUMMARY.md with a browser section next to a Node one, and the flags refused
// before anything is built or launched.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { BenchDefinition } from '../src/core/contract.ts';
import { ConfigError, ParameterError } from '../src/errors.ts';
import { parseCsv } from '../src/io/csv.ts';
import { modelList } from '../src/models/index.ts';
import { batchLadder, browserNameOf, browserResultName, makeBenchQuery, makeBrowserBenchConfig, makeModelsCsv, makeSizeLadder, neuronLadder, readBenchQuery, runBrowserBenchmark, type PageFacts } from '../bench/lib/browser-bench.ts';
import { makeEnvironmentRecord, makeHostOsRecord } from '../bench/lib/common.ts';
import { runModelsBenchmark, validateModelsBenchResult } from '../bench/lib/models-harness.ts';
import { validateEnvironmentRecord } from '../bench/lib/records.ts';
import { makeSummaryMarkdown } from '../bench/summarize.ts';
import { ei } from './helpers/cli.ts';

const dir = mkdtempSync(join(tmpdir(), 'ei-bench-browser-unit-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const chromeUa = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/156.0.0.0 Safari/537.36';
const facts: PageFacts = { userAgent: chromeUa, crossOriginIsolated: true, platform: 'Linux', hardwareConcurrency: 2, fullVersion: '156.0.8078.114' };
const benched = modelList.filter((m) => m.bench);
/** The smallest quick size of each model: plumbing, not speed. */
const tinySizes = (b: BenchDefinition) => [Math.min(...b.sizes.quick)];

describe('browser bench settings', () => {
  it('size ladders: decades from 1e3 for a size in neurons, else the own sizes then doublings of the largest', () => {
    const inNeurons: BenchDefinition = { scaling: (n) => ({ n }), sizes: { full: [1e4, 1e5], quick: [1e4] } };
    const inSides: BenchDefinition = { scaling: (side) => ({ params: { side } }), sizes: { full: [16, 32, 63], quick: [8] } };
    expect(makeSizeLadder(inNeurons, false)).toEqual([1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9]);
    expect(makeSizeLadder(inNeurons, true)).toEqual([...neuronLadder.quick]);
    expect(makeSizeLadder(inSides, false)).toEqual([16, 32, 63, 126, 252, 504]);
    expect(makeSizeLadder(inSides, true)).toEqual([8]);
  });

  it('defaults, and refusals that name the setting', () => {
    const c = makeBrowserBenchConfig({});
    expect(c.models.map((m) => m.id)).toEqual(benched.map((m) => m.id));
    expect([c.backends, c.quick, c.sizes, c.batches, c.maxSeconds, c.repeats, c.steps, c.seed]).toEqual([['webgpu'], false, null, [...batchLadder.full], 60, 3, null, 1]);
    const q = makeBrowserBenchConfig({ quick: true, backend: 'all' });
    expect([q.backends, q.batches, q.maxSeconds, q.repeats]).toEqual([['webgpu', 'cpu', 'wasm'], [...batchLadder.quick], 5, 2]);
    expect(() => makeBrowserBenchConfig({ quick: true, sizes: '1e3' })).toThrow(/invalid --sizes: was given with --quick/);
    expect(() => makeBrowserBenchConfig({ models: 'nosuchmodel' })).toThrow(ConfigError);
    expect(() => makeBrowserBenchConfig({ backend: 'gpus' })).toThrow(/invalid --backend: 'gpus' is not one of/);
    expect(() => makeBrowserBenchConfig({ sizes: '1e3,abc' })).toThrow(/invalid --sizes/);
    expect(() => makeBrowserBenchConfig({ maxSeconds: -1 })).toThrow(/invalid --max-seconds/);
    const unbatched = benched.find((m) => !m.bench!.batched);
    if (unbatched) expect(() => makeBrowserBenchConfig({ models: unbatched.id, batches: '1,2' })).toThrow(/invalid --batches: none of the models/);
  });

  it('the page query round-trips the settings; an unknown name is refused', () => {
    const input = { models: benched.slice(0, 2).map((m) => m.id).join(','), backend: 'both', quick: true, batches: 'none', maxSeconds: 1.5, repeats: 2, steps: 7, seed: 3 };
    const query = makeBenchQuery(input, true);
    expect(query).toContain('max-seconds=1.5');
    expect(readBenchQuery(`?${query}`)).toEqual({ input, run: true });
    expect(readBenchQuery('')).toEqual({ input: {}, run: false });
    expect(() => readBenchQuery('?maxseconds=5')).toThrow(ParameterError);
    expect(() => readBenchQuery('?max-seconds=abc')).toThrow(/'abc' is not a number/);
  });

  it("names the browser from its user agent, with the full version where the page could read it", () => {
    expect(browserNameOf(chromeUa)).toBe('Chrome 156.0.0.0 (headless)');
    expect(browserNameOf(chromeUa, '156.0.8078.114')).toBe('Chrome 156.0.8078.114 (headless)');
    expect(browserNameOf(chromeUa, '155.1.2.3')).toBe('Chrome 156.0.0.0 (headless)');
    expect(browserNameOf('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0')).toBe('Edge 131.0.0.0');
    expect(browserNameOf('Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0')).toBe('Firefox 133.0');
  });
});

describe('browser bench results', () => {
  // Models whose bench size is a neuron count, at n = 1000: the page's pipeline, on the CPU reference, in Node.
  const neuronModels = benched.filter((m) => makeSizeLadder(m.bench!, true)[0] === neuronLadder.quick[0]).slice(0, 2);

  it("the page's pipeline: the models JSON with a browser record, a CSV row per case, and SUMMARY.md beside a Node run", async () => {
    expect(neuronModels.length).toBeGreaterThan(0);
    const config = makeBrowserBenchConfig({ models: neuronModels.map((m) => m.id).join(','), backend: 'cpu', sizes: '1000', batches: '2', steps: 4, repeats: 1, maxSeconds: 20 });
    const lines: string[] = [];
    const result = await runBrowserBenchmark(config, { ctx: null, facts, threads: 1, log: (l) => lines.push(l) });
    expect(validateModelsBenchResult(result)).toEqual([]);
    expect(validateModelsBenchResult(JSON.parse(JSON.stringify(result)))).toEqual([]);
    expect(result.environment).toMatchObject({ node: null, adapter: null, browser: { userAgent: chromeUa, name: 'Chrome 156.0.8078.114 (headless)', crossOriginIsolated: true } });
    expect(result.flags).toMatchObject({ sizes: [1000], batches: [2], maxSeconds: 20, repeats: 1, steps: 4, backends: ['cpu'] });
    expect(lines.some((l) => l.includes('scaling 1000'))).toBe(true);
    for (const c of result.cases) {
      expect(c.status, `${c.model} ${c.group}: ${c.reason}`).toBe('ok');
      expect(c.neuronStepsPerSecond).toBeGreaterThan(0);
    }
    expect(browserResultName(result.environment)).toMatch(/^models-cpu-only-.*-chrome$/);

    const csv = parseCsv(makeModelsCsv(result));
    expect(csv.columns.slice(0, 8)).toEqual(['runtime', 'adapter', 'model', 'group', 'size', 'backend', 'status', 'reason']);
    expect(csv.rows).toHaveLength(result.cases.length);
    const rate = csv.columns.indexOf('neuronStepsPerSecond');
    expect(csv.rows.map((r) => r[rate])).toEqual(result.cases.map((c) => c.neuronStepsPerSecond));
    expect(csv.rows.every((r) => r[0] === 'Chrome 156.0.8078.114 (headless)')).toBe(true);

    // A browser record names no Node; a Node record needs its version.
    expect(validateEnvironmentRecord({ ...result.environment, node: 'v20.0.0' })).not.toEqual([]);
    const { browser: _browser, ...nodeLike } = result.environment;
    expect(validateEnvironmentRecord(nodeLike)).not.toEqual([]);

    // As `ei bench --browser` files it (the machine's OS), beside a Node run of the same cases: one section each and a side-by-side table.
    const browserRun = { ...result, environment: { ...result.environment, os: makeHostOsRecord() } };
    const nodeRun = await runModelsBenchmark({ models: config.models, backends: ['cpu'], ctx: null, sizes: () => [1000], batches: [2], steps: 4, repeats: 1, maxSeconds: 20, environment: makeEnvironmentRecord }, { test: true });
    const md = makeSummaryMarkdown([], [], [], [], [], [{ file: 'models-cpu-only-node.json', result: nodeRun }, { file: 'models-cpu-only-chrome.json', result: browserRun }]);
    expect(md).toMatch(/### CPU only \(.*\) — Chrome\n/);
    expect(md).toMatch(/### CPU only \(.*\) — Node \/ Dawn\n/);
    expect(md).toContain('- runtime: Chrome 156.0.8078.114 (headless), user agent `' + chromeUa + '`');
    expect(md).toMatch(/### Node \/ Dawn and Chrome side by side/);
    expect(md).toMatch(new RegExp(`\\| ${neuronModels[0].id} \\| scaling \\| 1e3 \\| cpu \\| \\S+ k?M? ?\\| \\S+`));
  }, 120_000);

  it('a refused size stops the ladder: the larger sizes are not tried, and say why', async () => {
    const m = neuronModels[0];
    const r = await runModelsBenchmark({ models: [m], backends: ['cpu'], ctx: null, sizes: () => [1e15, 1e16], batches: [], steps: 4, repeats: 1, maxSeconds: 20, environment: makeEnvironmentRecord }, {});
    expect(r.cases.map((c) => c.status)).toEqual(['skipped', 'skipped']);
    expect(r.cases[0].reason).toMatch(/refused/);
    expect(r.cases[1].reason).toBe('not tried: the smaller size 1000000000000000 was already refused (see its reason)');
  });
});

describe('ei bench: refusals before anything is built or launched', () => {
  it('without --browser says what to run instead', async () => {
    const r = await ei('bench', '--quick');
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/--browser was not given/);
    expect(r.err).toMatch(/npm run bench:models/);
  });

  it('unknown, clashing and unused flags name the flag and the fix', async () => {
    const existing = join(dir, 'existing.json');
    writeFileSync(existing, '{}');
    const cases: [string[], RegExp][] = [
      [['--sise', '1e3'], /unknown flag --sise .*did you mean --sizes\?/s],
      [['--quick', '--sizes', '1e3'], /invalid --sizes: was given with --quick/],
      [['--overwrite'], /invalid --overwrite: has no effect without --out/],
      [['--out', existing], /--out .*existing\.json exists\n\s+fix: add --overwrite/],
      [['--no-summary', '--out', join(dir, 'new.json')], /invalid --no-summary: has no effect/],
      [['--backend', 'cpu', '--adapter', 'hardware'], /invalid --adapter: has no effect with --backend cpu/],
      [['--chrome', join(dir, 'no-such-chrome')], /--chrome .*no such file/],
      [['--demo-dir', dir], /has no bench\.html/],
      [['--models', 'nosuchmodel'], /unknown model 'nosuchmodel'/],
    ];
    for (const [args, re] of cases) {
      const r = await ei('bench', '--browser', ...args);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err, args.join(' ')).toMatch(re);
    }
  });

  it('--help lists the Chrome switches it passes', async () => {
    const r = await ei('bench', '--help');
    expect(r.code).toBe(0);
    for (const s of ['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader']) expect(r.out).toContain(s);
  });
});
