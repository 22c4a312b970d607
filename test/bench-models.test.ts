// The generic benchmark (bench/models.bench.ts + bench/lib/models-harness.ts): every registered model with a bench
// member is timed through the contract alone, the result JSON is well formed and summarised, and the harness names
// no model.
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCaseRequest, lengthOptionOf, runModelCase, runModelsBenchmark, validateModelsBenchResult, type ModelsBenchOptions } from '../bench/lib/models-harness.ts';
import { makeEnvironmentRecord } from '../bench/lib/common.ts';
import { loadResults, makeSummaryMarkdown } from '../bench/summarize.ts';
import { modelList } from '../src/models/index.ts';
import { readImportGraph } from './helpers/import-graph.ts';

const root = resolve(import.meta.dirname, '..');
const benched = modelList.filter((m) => m.bench);
const tiny: ModelsBenchOptions = {
  models: modelList,
  backends: ['cpu'],
  ctx: null,
  // The smallest quick size of each model, 4 steps, one repeat: the plumbing, not the speed.
  sizes: (b) => [Math.min(...b.sizes.quick)],
  batches: [2],
  steps: 4,
  repeats: 1,
  maxSeconds: 20,
  probeSeconds: 0.01,
  minTimedSeconds: 0,
  environment: makeEnvironmentRecord,
};

describe('bench:models with the wasm backend', () => {
  it('times models with wasm kernels next to the CPU reference (ratio in speedups) and skips the others with a reason', async () => {
    const result = await runModelsBenchmark({ ...tiny, backends: ['cpu', 'wasm'], threads: 2, batches: [] }, { test: true });
    expect(validateModelsBenchResult(result)).toEqual([]);
    const withWasm = benched.filter((m) => m.wasm);
    expect(withWasm.length).toBeGreaterThan(0);
    for (const m of benched) {
      const c = result.cases.find((x) => x.model === m.id && x.backend === 'wasm' && x.group === 'scaling')!;
      if (m.wasm) {
        expect(c.status, `${m.id}: ${c.reason}`).toBe('ok');
        const sp = result.speedups.find((x) => x.model === m.id && x.backend === 'wasm');
        expect(sp?.overCpu).toBeGreaterThan(0);
      } else {
        expect(c.status).toBe('skipped');
        expect(c.reason).toMatch(/no wasm kernels/);
      }
    }
  });
});

describe('bench:models (cpu backend, tiny cases)', () => {
  it('the registry has models with bench members, each with quick sizes', () => {
    expect(benched.length).toBeGreaterThan(0);
    for (const m of benched) expect(m.bench!.sizes.quick.length, m.id).toBeGreaterThan(0);
  });

  it('times every model through the contract: a valid JSON with an ok case and a positive finite throughput each', async () => {
    const result = await runModelsBenchmark(tiny, { test: true });
    expect(validateModelsBenchResult(result)).toEqual([]);
    // Survives a JSON round trip unchanged (no NaN/Infinity turning into null).
    expect(validateModelsBenchResult(JSON.parse(JSON.stringify(result)))).toEqual([]);
    expect(result.environment.adapter).toBeNull();
    expect(result.models.map((m) => m.id)).toEqual(benched.map((m) => m.id));
    expect(result.speedups).toEqual([]);
    for (const m of benched) {
      const cases = result.cases.filter((c) => c.model === m.id);
      expect(cases.map((c) => c.group), m.id).toEqual(m.bench!.batched ? ['scaling', 'batched'] : ['scaling']);
      for (const c of cases) {
        expect(c.status, `${m.id} ${c.group}: ${c.reason}`).toBe('ok');
        expect(Number.isFinite(c.neuronStepsPerSecond) && c.neuronStepsPerSecond! > 0).toBe(true);
        // The length reached the model the way it takes it (steps, or T = steps x dt): 4 steps exactly.
        expect(c.lengthBy).toBe(lengthOptionOf(m));
        if (c.lengthBy !== 'fixed') expect(c.steps, `${m.id} ${c.group}`).toBe(4);
        expect(c.wall!.samples).toHaveLength(1);
        expect(c.setup!.samples).toHaveLength(1);
        expect(c.neuronStepsPerSecond).toBeCloseTo((c.neuronsPerStep! * c.steps!) / c.wall!.median, 6);
      }
    }
    const md = makeSummaryMarkdown([], [], [], [], [], [{ file: 'models-cpu-only-test-2026-01-01.json', result }]);
    expect(md).toMatch(/## All registered models \(bench\/models\.bench\.ts, ei bench --browser\)/);
    expect(md).toMatch(/#### models-cpu-only-test-2026-01-01\.json/);
    for (const m of benched) expect(md).toMatch(new RegExp(`\\| ${m.id} \\| scaling \\| \\S+ \\| cpu \\| \\d+ \\| 4 x 1 \\|`));
  });

  it('skips with a reason: no WebGPU context, and a case over the budget', async () => {
    const def = benched[0];
    const size = Math.min(...def.bench!.sizes.quick);
    const gpu = await runModelCase(def, 'scaling', size, 'webgpu', { ...tiny, ctx: null });
    expect([gpu.status, gpu.reason]).toEqual(['skipped', 'no WebGPU context']);
    const over = await runModelCase(def, 'scaling', size, 'cpu', { ...tiny, maxSeconds: 1e-9 });
    expect(over.status).toBe('skipped');
    expect(over.reason).toMatch(/over --max-seconds budget/);
    expect(validateModelsBenchResult({ schema: 'ei-engine/bench-models' }).length).toBeGreaterThan(0);
  });

  it('a case shorter than the probe is warmed on fresh runners, and its timed runs repeat until they sum to minTimedSeconds', async () => {
    const def = benched.find((m) => m.id === 'rate')!;
    const c = await runModelCase(def, 'batched', 1, 'cpu', { ...tiny, probeSeconds: 0.02, minTimedSeconds: 10, maxRepeats: 4 });
    expect(c.status, c.reason).toBe('ok');
    expect(c.warmup!.rewarmRuns).toBeGreaterThan(0);
    // Until 0.02 s have passed, or at the cap of 1000 runs.
    expect(c.warmup!.rewarmRuns === 1000 || c.warmup!.rewarmSeconds! >= 0.02).toBe(true);
    // 4 steps of one circuit take microseconds, so the 10 s cannot be reached: the cap of 4 repeats holds.
    expect(c.repeats).toBe(4);
    expect(c.wall!.samples).toHaveLength(4);
    expect(c.repeatsReason).toMatch(/^4 repeats instead of 1: a run takes/);
    const plain = await runModelCase(def, 'batched', 1, 'cpu', tiny);
    expect([plain.repeats, plain.repeatsReason]).toEqual([1, undefined]);
  });

  it('sets the length of a model that takes T instead of steps as T = steps x dt', () => {
    for (const m of benched.filter((x) => lengthOptionOf(x) === 'T')) {
      const req = m.bench!.scaling(m.bench!.sizes.quick[0]);
      const dt = m.resolve(req).dt!;
      const r = m.resolve(makeCaseRequest(m, req, 'T', 7, dt, 1));
      expect([r.steps, r.dt], m.id).toEqual([7, dt]);
    }
  });

  it('SUMMARY shows an older run whole while a newer partial run lacks some of its models (and lists it as earlier once covered)', () => {
    const full = loadResults(join(root, 'bench', 'results')).models.find((m) => !m.result.environment.browser)!;
    const later = (file: string, keep: (model: string) => boolean) => ({
      file,
      result: { ...full.result, environment: { ...full.result.environment, date: '2099-01-01T00:00:00.000Z' }, cases: full.result.cases.filter((c) => keep(c.model)) },
    });
    const one = full.result.cases[0].model;
    const partial = makeSummaryMarkdown([], [], [], [], [], [full, later('partial.json', (m) => m === one)]);
    expect(partial).toContain('#### partial.json');
    expect(partial).toContain(`#### ${full.file}`);
    const whole = makeSummaryMarkdown([], [], [], [], [], [full, later('whole.json', () => true)]);
    expect(whole).not.toContain(`#### ${full.file}`);
    expect(whole).toMatch(new RegExp(`Earlier runs on this adapter .*\`${full.file.replace(/\./g, '\\.')}\``));
  });

  it('SUMMARY pairs a browser run of the CPU backends (no adapter) with the newest Node run on the same CPU', () => {
    const { models } = loadResults(join(root, 'bench', 'results'));
    const node = models.find((m) => !m.result.environment.browser && m.result.cases.some((c) => c.backend === 'wasm' && c.status === 'ok'))!;
    const wasmCase = node.result.cases.find((c) => c.backend === 'wasm' && c.status === 'ok')!;
    const browserEnv = { ...node.result.environment, adapter: null, date: '2099-01-01T00:00:00.000Z', browser: { userAgent: 'Mozilla/5.0 Chrome/999.0.0.0', name: 'Chrome 999.0.0.0 (headless)', crossOriginIsolated: true } };
    const browser = { file: 'chrome-cpu.json', result: { ...node.result, environment: browserEnv, cases: [{ ...wasmCase, neuronStepsPerSecond: 2 * wasmCase.neuronStepsPerSecond! }] } };
    const md = makeSummaryMarkdown([], [], [], [], [], [node, browser as typeof node]);
    expect(md).toContain(`### Node and Chrome side by side, CPU backends: ${node.result.environment.os.cpuModel}`);
    expect(md).toMatch(new RegExp(`\\| ${wasmCase.model} \\| ${wasmCase.group} \\| [^|]+ \\| wasm \\| [^|]+ \\| [^|]+ \\| 2\\.00x \\|`));
  });

  it('every committed result file is accepted by summarize', () => {
    expect(loadResults(join(root, 'bench', 'results')).rejected).toEqual([]);
  });

  it('bench/models.bench.ts and the harness it uses name no registered model', () => {
    const edges = readImportGraph(root, ['bench']);
    // The bench files models.bench.ts reaches; summarize.ts is the report over every result file (the older
    // model-specific benches' files too), not the harness.
    const files = new Set(['bench/models.bench.ts']);
    for (let grew = true; grew; ) {
      grew = false;
      for (const e of edges) {
        if (files.has(e.from) && e.to.startsWith('bench/') && e.to !== 'bench/summarize.ts' && !files.has(e.to)) {
          files.add(e.to);
          grew = true;
        }
      }
    }
    expect([...files].sort()).toEqual(['bench/lib/common.ts', 'bench/lib/models-harness.ts', 'bench/lib/records.ts', 'bench/models.bench.ts']);
    for (const f of files) {
      const text = readFileSync(join(root, f), 'utf8');
      for (const m of modelList) expect(text.match(new RegExp(`\\b${m.id}\\b`, 'gi')), `${f} names ${m.id}`).toBeNull();
      // Models are reached through the registry only, never a model's own folder.
      for (const e of edges.filter((x) => x.from === f)) expect(e.to, f).not.toMatch(/^src\/models\/[^/]+\//);
    }
  });
});
