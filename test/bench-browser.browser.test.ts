// Browser tier: `ei bench --browser --quick` end to end, as a user runs it (bin/ei.js in a child process): it builds
// the demo, serves it, drives headless Chromium with WebGPU on SwiftShader through demo/bench.html, and writes a
// models result with the adapter from the browser's GPUAdapter.info, the user agent, positive rates and the same
// schema as the Node benchmark's files; SUMMARY.md generated over it and a Node file has a Chrome section beside the
// Node one. Everything is written into a temporary folder, never into bench/results.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { validateModelsBenchResult, type ModelsBenchResult } from '../bench/lib/models-harness.ts';
import { writeSummary } from '../bench/summarize.ts';
import { chromiumPath, repoRoot, requireChromium } from './helpers/browser.ts';

const dir = mkdtempSync(join(tmpdir(), 'ei-bench-browser-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const resultsDir = join(repoRoot, 'bench', 'results');

/** The newest committed Node result of the models benchmark: the schema the browser's file must share. */
function newestNodeFile(): string {
  const runs = readdirSync(resultsDir)
    .filter((f) => f.startsWith('models-') && f.endsWith('.json'))
    .map((file) => ({ file, r: JSON.parse(readFileSync(join(resultsDir, file), 'utf8')) as ModelsBenchResult }))
    .filter(({ r }) => r.environment.browser === undefined)
    .sort((a, b) => a.r.environment.date.localeCompare(b.r.environment.date));
  return runs[runs.length - 1].file;
}

function runEi(args: string[], timeoutMs: number): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((ok, fail) => {
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ei.js'), ...args], { cwd: repoRoot, env: { ...process.env, EI_CHROMIUM: chromiumPath } });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    const timer = setTimeout(() => {
      child.kill('SIGTERM');
      fail(new Error(`ei ${args.join(' ')} did not finish within ${timeoutMs / 1000} s; stderr:\n${err}`));
    }, timeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      ok({ code, out, err });
    });
  });
}

describe('ei bench --browser (headless Chromium, SwiftShader)', () => {
  it('SIGTERM while Chrome runs the page stops Chrome and its helpers, removes its temporary folder, writes no result and exits 143', async () => {
    requireChromium();
    const out = join(dir, 'killed.json');
    const temps = () => readdirSync(tmpdir()).filter((n) => n.startsWith('ei-bench-browser-')).sort();
    const before = temps();
    const child = spawn(process.execPath, [join(repoRoot, 'bin', 'ei.js'), 'bench', '--browser', '--models', 'poisson', '--backend', 'cpu', '--max-seconds', '60', '--out', out], { cwd: repoRoot, env: { ...process.env, EI_CHROMIUM: chromiumPath } });
    let err = '';
    const code = await new Promise<number | null>((ok, fail) => {
      const timer = setTimeout(() => fail(new Error(`Chrome did not start within 120 s; stderr:\n${err}`)), 120_000);
      child.stderr.on('data', (d) => {
        err += d;
        // The user agent is logged once Chrome has the page: then it is running.
        if (/bench: Mozilla\//.test(err) && !child.killed) child.kill('SIGTERM');
      });
      child.on('close', (c) => {
        clearTimeout(timer);
        ok(c);
      });
    });
    expect(code, err).toBe(143);
    expect(err).toMatch(/ei: stopped by SIGTERM; partial output removed/);
    expect(existsSync(out)).toBe(false);
    // The runner's temporary folder (the built demo, Chrome's profile) went with it.
    expect(temps()).toEqual(before);
    // No Chrome process with one of the runner's profiles (ei-bench-browser-*/profile-*) is left.
    const left = spawnSync('pgrep', ['-f', 'ei-bench-browser-[^ ]*/profile-'], { encoding: 'utf8' });
    expect(left.stdout.trim(), 'Chrome processes left running').toBe('');
  }, 150_000);

  it('writes the models JSON from the browser and SUMMARY.md shows it beside the Node run', async () => {
    requireChromium();
    const before = readdirSync(resultsDir).sort();
    const out = join(dir, 'chrome.json');
    const r = await runEi(['bench', '--browser', '--quick', '--models', 'poisson,hybrid', '--max-seconds', '1', '--adapter', 'software', '--out', out], 150_000);
    expect(r.code, r.err).toBe(0);
    expect(readdirSync(resultsDir).sort()).toEqual(before);
    expect(r.err).toMatch(/bench: Chrome's adapter: google\/swiftshader/);

    const result = JSON.parse(readFileSync(out, 'utf8')) as ModelsBenchResult;
    expect(validateModelsBenchResult(result)).toEqual([]);
    const e = result.environment;
    expect(e.node).toBeNull();
    expect(e.browser!.userAgent).toMatch(/Chrome\/\d+/);
    expect(e.browser!.name).toMatch(/^Chrome \d+\.\d+\.\d+\.\d+ \(headless\)$/);
    expect(e.browser!.crossOriginIsolated).toBe(true);
    expect(e.browser!.launch!.args).toEqual(expect.arrayContaining(['--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-webgpu-adapter=swiftshader']));
    // The adapter as the browser reports it (GPUAdapter.info), with the device's limits.
    expect(e.adapter).toMatchObject({ vendor: 'google', architecture: 'swiftshader', isSoftware: true });
    expect(e.adapter!.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    expect(result.flags).toMatchObject({ quick: true, maxSeconds: 1, backends: ['webgpu'], models: ['poisson', 'hybrid'] });

    const ok = result.cases.filter((c) => c.status === 'ok');
    for (const model of ['poisson', 'hybrid']) {
      for (const group of ['scaling', 'batched'] as const) expect(ok.some((c) => c.model === model && c.group === group && c.backend === 'webgpu'), `${model} ${group}`).toBe(true);
    }
    for (const c of ok) expect(c.neuronStepsPerSecond! > 0 && Number.isFinite(c.neuronStepsPerSecond)).toBe(true);
    for (const c of result.cases.filter((x) => x.status !== 'ok')) expect(c.reason).toMatch(/budget|refused|not tried/);

    // The same schema as a Node file: top level, environment (plus its browser record), an ok case's fields.
    const nodeFile = newestNodeFile();
    const node = JSON.parse(readFileSync(join(resultsDir, nodeFile), 'utf8')) as ModelsBenchResult;
    const keys = (o: object) => Object.keys(o).filter((k) => k !== 'stepsReason').sort();
    expect([result.schema, result.schemaVersion]).toEqual([node.schema, node.schemaVersion]);
    expect(keys(result)).toEqual(keys(node));
    expect(keys(e)).toEqual([...keys(node.environment), 'browser'].sort());
    expect(keys(ok[0])).toEqual(keys(node.cases.find((c) => c.status === 'ok')!));

    copyFileSync(join(resultsDir, nodeFile), join(dir, nodeFile));
    const md = readFileSync(writeSummary(dir), 'utf8');
    expect(md).toMatch(/### google \/ swiftshader.* — Chrome\n\n#### chrome\.json/);
    expect(md).toMatch(/- runtime: Chrome \d+\S* \(headless\), user agent `Mozilla\/5\.0/);
    expect(md).toMatch(/— Node \/ Dawn\n/);
    expect(md).toMatch(/### Node \/ Dawn and Chrome side by side: google-swiftshader/);
    expect(md).toMatch(/\| poisson \| scaling \| 1e4 \| webgpu \| \S+ k?M? ?\| \S+ [kM]? ?\| \d+\.\d\dx \|/);
    expect(existsSync(join(dir, 'SUMMARY.md'))).toBe(true);
  }, 180_000);
});
