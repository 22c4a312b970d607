// The published package as a user gets it: `npm pack` (which builds dist/ through `prepare`), `npm install <tarball>`
// in a scratch project outside the repository, then plain Node 20 importing 'ei-engine': a hybrid network and a rate
// circuit through createEngine with progress callbacks, the browser entry in Node, a strict TypeScript consumer, the
// `ei` command from the install, and the Node examples of examples/.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { repoRoot, run, runOk, usePackedProject, type PackedProject } from './helpers/packed-project.ts';

let project: PackedProject | null = null;
let release: (() => Promise<void>) | null = null;
let setupError: unknown = null;
const ready = (): PackedProject => {
  if (setupError) throw setupError;
  return project!;
};

beforeAll(async () => {
  try {
    ({ project, release } = await usePackedProject());
    console.log(`package tests: npm pack (with the build) ${project.seconds.pack.toFixed(1)} s, npm install ${project.seconds.install.toFixed(1)} s`);
  } catch (e) {
    setupError = e;
  }
}, 420_000);

afterAll(async () => {
  await release?.();
}, 30_000);

/** Runs an ES module script with plain Node in the scratch project; stdout's last line is its JSON answer. */
async function node(p: PackedProject, name: string, code: string, timeoutMs = 120_000): Promise<{ json: any; stderr: string }> {
  const file = join(p.dir, name);
  writeFileSync(file, code);
  const r = await runOk(process.execPath, [file], { cwd: p.dir, timeoutMs });
  const last = r.stdout.trim().split('\n').at(-1) ?? '';
  return { json: JSON.parse(last), stderr: r.stderr };
}

describe('the packed package', () => {
  it('holds the build, the command, the model docs and the license, and no tests, results or scratch files', () => {
    const p = ready();
    const files = p.files;
    for (const f of ['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'bin/ei.js', 'bin/ei-child.js', 'dist/index.js', 'dist/index.d.ts', 'dist/browser.js', 'dist/browser.d.ts', 'dist/cli/main.js', 'dist/gpu/shaders.generated.js', 'docs/models/hybrid-balanced.md']) {
      expect(files, f).toContain(f);
    }
    const top = new Set(files.map((f) => f.split('/')[0]));
    expect([...top].sort()).toEqual(['CHANGELOG.md', 'LICENSE', 'README.md', 'bin', 'dist', 'docs', 'package.json']);
    expect(files.filter((f) => /(^|\/)(test|tests|results|bench|scratch|demo|src|examples)\//.test(f) || /\.test\.|\.tsbuildinfo$|\.log$/.test(f))).toEqual([]);
    expect(files.filter((f) => f.startsWith('docs/') && !f.startsWith('docs/models/'))).toEqual([]);
    // Built modules import built modules: no TypeScript source is left for Node to load.
    const index = readFileSync(join(p.dir, 'node_modules/ei-engine/dist/index.js'), 'utf8');
    expect(index).toMatch(/from ["']\.\/browser\.js["']/);
    expect(index).not.toMatch(/\.ts['"]/);
  });

  it('runs a hybrid network and a rate circuit from plain Node through createEngine, with progress', async () => {
    const p = ready();
    const { json, stderr } = await node(
      p,
      'run-models.mjs',
      `import { createEngine, modelIds, engineVersion } from 'ei-engine';
const notices = [];
const engine = await createEngine({ onNotice: (m) => notices.push(m) });
const progress = [];
const hybrid = await engine.simulate('hybrid', { n: 200, T: 1, seed: 3, params: { variant: 'B1', burnin: 0.5 }, onProgress: (done, total) => progress.push([done, total]) });
const h = await hybrid.outputs();
const state = await hybrid.readState();
const rateProgress = [];
const rate = await engine.simulate('rate', { seed: 1, params: { circuit: 'wilson-cowan' }, onProgress: (done, total) => rateProgress.push([done, total]) });
const r = await rate.outputs();
const rateResult = await rate.result();
engine.dispose();
console.log(JSON.stringify({ modelIds, engineVersion, backend: engine.backend, hybridBackend: hybrid.backend, notices, progress, steps: hybrid.resolved.steps, n: hybrid.resolved.n,
  stateLength: state.length, summary: h.summary, summaryJson: h.summaryJson, config: h.config, files: h.files.map((f) => f.name),
  rateProgress, rateSteps: rate.resolved.steps, rate: r.summary, rateLine: r.line, rateResultType: typeof rateResult }));`,
    );
    expect(json.modelIds).toEqual(expect.arrayContaining(['poisson', 'hybrid', 'binary', 'rate', 'minimax']));
    expect(json.engineVersion).toBe(JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')).version);
    // Dawn loads from the install: WebGPU on SwiftShader in CI (a hardware GPU elsewhere); a CPU fallback says why.
    if (json.backend === 'cpu') expect(json.notices.join('\n')).toMatch(/FALLING BACK/);
    expect(['webgpu', 'cpu']).toContain(json.backend);
    expect(stderr).not.toMatch(/Error|ERR_/);

    // Progress: increasing, ending at every step of the run.
    expect(json.progress.length).toBeGreaterThan(0);
    expect(json.progress.at(-1)).toEqual([json.steps, json.steps]);
    for (let i = 1; i < json.progress.length; i++) expect(json.progress[i][0]).toBeGreaterThan(json.progress[i - 1][0]);
    expect(json.n).toBe(200);
    expect(json.steps).toBeGreaterThan(100);
    expect(json.stateLength).toBeGreaterThanOrEqual(2 * 200);

    // The balanced network next to its limit: finite moments, no blow-up, particles within reach of the limit at n = 200.
    const s = json.summary;
    expect(s.blowup).toBeNull();
    for (const k of ['mE', 'mI', 'vE', 'vI', 'nuE', 'nuI', 'X']) {
      expect(Number.isFinite(s.sim[k]), `sim.${k}`).toBe(true);
      expect(Number.isFinite(s.limit[k]), `limit.${k}`).toBe(true);
      expect(Math.abs(s.sim[k] - s.limit[k]), `sim.${k} - limit.${k}`).toBeLessThan(1);
    }
    expect(s.sim.vE).toBeGreaterThan(0);
    expect(json.summaryJson).toMatchObject({ model: 'hybrid', n: 200, steps: json.steps, seed: 3, backend: json.hybridBackend });
    expect(json.summaryJson.neuronStepsPerSecond).toBeGreaterThan(0);
    expect(json.config).toMatchObject({ model: 'hybrid', seed: 3, backend: json.hybridBackend });
    expect(json.files).toContain('timeseries.csv');

    // The Wilson-Cowan circuit: its unique stable equilibrium, reached by the simulation, with progress.
    expect(json.rateProgress.at(-1)).toEqual([json.rateSteps, json.rateSteps]);
    expect(json.rate.circuit).toBe('wilson-cowan');
    expect(json.rate.equilibrium).toHaveLength(2);
    expect(json.rate.equilibrium[0]).toBeCloseTo(1.2, 6);
    expect(json.rate.equilibrium[1]).toBeCloseTo(0.8, 6);
    expect(json.rate.nashResidualSimulated).toBeLessThan(1e-3);
    expect(json.rateLine).toMatch(/wilson-cowan/);
    expect(json.rateResultType).toBe('object');
  }, 180_000);

  it("the browser entry imported in Node runs without Dawn: 'auto' falls back to the CPU, 'webgpu' is a typed error", async () => {
    const p = ready();
    const { json } = await node(
      p,
      'browser-entry.mjs',
      `import { createEngine, WebGpuUnavailableError, EiError } from 'ei-engine/browser';
const notices = [];
const engine = await createEngine({ onNotice: (m) => notices.push(m) });
const sim = await engine.simulate('rate', { seed: 1 });
const r = await sim.outputs();
engine.dispose();
let error = null;
try { await createEngine({ backend: 'webgpu' }); } catch (e) { error = { name: e.name, typed: e instanceof WebGpuUnavailableError && e instanceof EiError, message: e.message }; }
const dawnLoaded = Object.keys(globalThis).some((k) => k === 'GPUBufferUsage');
console.log(JSON.stringify({ backend: engine.backend, notices, circuit: r.summary.circuit, error, dawnLoaded }));`,
    );
    expect(json.backend).toBe('cpu');
    expect(json.notices.join('\n')).toMatch(/no WebGPU implementation for Node/);
    expect(json.circuit).toBe('wilson-cowan');
    expect(json.error).toMatchObject({ name: 'WebGpuUnavailableError', typed: true });
    expect(json.error.message).toMatch(/import from 'ei-engine'/);
    expect(json.dawnLoaded).toBe(false);
  }, 120_000);

  it('type-checks a strict TypeScript consumer of the public types with 0 errors', async () => {
    const p = ready();
    writeFileSync(
      join(p.dir, 'consumer.ts'),
      `import {
  createEngine, modelIds, engineVersion, runOptionNames, EiError, ParameterError, WebGpuUnavailableError,
  type Engine, type EngineOptions, type ModelSummary, type ModelDefinition, type ResolvedRun, type Runner,
  type RunOutputs, type RunRequest, type SimulateOptions, type Simulation, type ParamSpec, type Backend,
} from 'ei-engine';
import { createEngine as createBrowserEngine, type Engine as BrowserEngine } from 'ei-engine/browser';

const options: EngineOptions = { backend: 'auto', onNotice: (m: string) => console.warn(m) };
const request: RunRequest = { n: 200, T: 1, seed: 1, params: { variant: 'B1', burnin: 0.5 } };
const simulate: SimulateOptions = { ...request, onProgress: (done: number, total: number) => console.log(done / total), signal: new AbortController().signal };

export async function main(): Promise<number> {
  const engine: Engine = await createEngine(options);
  const backend: Backend = engine.backend;
  const models: readonly ModelSummary[] = engine.models;
  const params: readonly ParamSpec[] = models[0].parameters;
  const sim: Simulation = await engine.simulate('hybrid', simulate);
  const resolved: ResolvedRun = sim.resolved;
  const out: RunOutputs & { summaryJson: Record<string, unknown> } = await sim.outputs();
  const result: unknown = await sim.result();
  const state: Float32Array = await sim.readState();
  sim.dispose();
  engine.dispose();
  const browser: BrowserEngine = await createBrowserEngine({ backend: 'cpu' });
  browser.dispose();
  try {
    await engine.simulate('nope');
  } catch (e) {
    if (e instanceof ParameterError || e instanceof WebGpuUnavailableError) console.error(e.hint);
    else if (e instanceof EiError) console.error(e.message);
  }
  // @ts-expect-error: an unknown option is a type error as well as a run-time one
  await engine.simulate('hybrid', { nn: 5 });
  return backend.length + params.length + resolved.steps + out.files.length + state.length + modelIds.length + engineVersion.length + runOptionNames.length + (result === null ? 0 : 1);
}

export type Model = ModelDefinition;
export type AnyRunner = Runner<unknown>;
`,
    );
    // Strict, declaration files checked too (no skipLibCheck), no @types/node: what a browser project compiles with.
    writeFileSync(
      join(p.dir, 'tsconfig.json'),
      JSON.stringify({ compilerOptions: { strict: true, noEmit: true, target: 'ES2022', module: 'NodeNext', moduleResolution: 'NodeNext', lib: ['ES2022', 'DOM'], types: [], skipLibCheck: false }, files: ['consumer.ts'] }, null, 2),
    );
    const tsc = join(repoRoot, 'node_modules/typescript/bin/tsc');
    const nodeNext = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false'], { cwd: p.dir, timeoutMs: 120_000 });
    expect(nodeNext.stdout + nodeNext.stderr).toBe('');
    expect(nodeNext.code).toBe(0);
    // A bundler project (Vite's template) resolves the same declarations.
    const bundler = await run(process.execPath, [tsc, '-p', 'tsconfig.json', '--pretty', 'false', '--module', 'ESNext', '--moduleResolution', 'Bundler'], { cwd: p.dir, timeoutMs: 120_000 });
    expect(bundler.stdout + bundler.stderr).toBe('');
    expect(bundler.code).toBe(0);
  }, 180_000);

  it('`npx ei` works from the install: --help, and a run that writes a result folder', async () => {
    const p = ready();
    const npx = process.platform === 'win32' ? 'npx.cmd' : 'npx';
    const help = await runOk(npx, ['--no-install', 'ei', '--help'], { cwd: p.dir, timeoutMs: 60_000 });
    expect(help.stdout).toMatch(/^ei \d+\.\d+\.\d+/);
    expect(help.stdout).toMatch(/ei run <model>/);
    const r = await runOk(npx, ['--no-install', 'ei', 'run', 'rate', '--backend', 'cpu', '--out', 'cli-rate'], { cwd: p.dir, timeoutMs: 120_000 });
    expect(r.stderr).not.toMatch(/Error/);
    const summary = JSON.parse(readFileSync(join(p.dir, 'cli-rate/summary.json'), 'utf8'));
    expect(summary).toMatchObject({ model: 'rate', backend: 'cpu' });
    expect(existsSync(join(p.dir, 'cli-rate/config.json'))).toBe(true);
  }, 180_000);

  it('runs examples/node-run.mjs (the hybrid network against its limit, with progress)', async () => {
    const p = ready();
    const r = await runOk(process.execPath, ['examples/node-run.mjs', '--n', '200', '--T', '1', '--backend', 'cpu'], { cwd: p.dir, timeoutMs: 120_000 });
    expect(r.stdout).toMatch(/hybrid \(variant B1\) on cpu: 200 E \+ 200 I neurons/);
    expect(r.stdout).toMatch(/^mE\s+-?\d+\.\d{4}\s+-?\d+\.\d{4}\s+\d+\.\d{4}$/m);
    expect(r.stdout).toMatch(/^X\s/m);
    expect(r.stdout).toMatch(/blow-up: none/);
    expect(r.stderr).toMatch(/step \d+ \/ \d+/);
  }, 150_000);

  it('runs examples/sweep.mjs (a batched sweep of the input rate, next to theory)', async () => {
    const p = ready();
    const r = await runOk(process.execPath, ['examples/sweep.mjs', '--n', '300', '--T', '0.15', '--batch', '2', '--rates', '2000,3000', '--backend', 'cpu'], { cwd: p.dir, timeoutMs: 120_000 });
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toBe('rIn_Hz,rateHz_mean,rateHz_sd,rateHz_theory,meanU,meanU_theory');
    expect(lines).toHaveLength(3);
    const rows = lines.slice(1).map((l) => l.split(',').map(Number));
    expect(rows.map((x) => x[0])).toEqual([2000, 3000]);
    for (const [, mean, , theory, meanU, meanUTheory] of rows) {
      expect(Math.abs(mean - theory) / theory).toBeLessThan(0.25);
      expect(Math.abs(meanU - meanUTheory)).toBeLessThan(0.2);
    }
    // A higher input rate drives the neurons harder.
    expect(rows[1][1]).toBeGreaterThan(rows[0][1]);
  }, 150_000);
});
