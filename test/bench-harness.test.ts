// Unit test of the benchmark harness on the CPU backend: a tiny run yields a well-formed result JSON with positive finite numbers, budget skips carry a reason, and the summary renders it.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { makeCases, median, runBenchmark, runCase, validateBenchResult, type BenchPlan } from '../bench/lib/harness.ts';
import { loadResults, makeSummaryMarkdown } from '../bench/summarize.ts';

const plan: BenchPlan = { backends: ['cpu'], sizes: [2000], batches: [1, 3], batchN: 500, chunkSizes: [1, 10], chunkN: 1000 };

describe('bench harness (cpu backend)', () => {
  it('median and case planning', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    // Chunking cases are WebGPU-only, so a CPU-only plan has scaling + batched cases only.
    expect(makeCases(plan).map((c) => `${c.group}:${c.n}x${c.batch}`)).toEqual(['scaling:2000x1', 'batched:500x1', 'batched:500x3']);
  });

  it('produces a valid result JSON with positive, finite rates', async () => {
    const result = await runBenchmark(plan, null, { steps: 12, repeats: 2, maxSeconds: 5, kernelTime: false }, { test: true });
    expect(validateBenchResult(result)).toEqual([]);
    // Survives a JSON round trip unchanged (no NaN/Infinity turning into null).
    const parsed = JSON.parse(JSON.stringify(result));
    expect(validateBenchResult(parsed)).toEqual([]);
    expect(result.environment.adapter).toBeNull();
    expect(result.environment.os.cpuCount).toBeGreaterThan(0);
    expect(result.cases).toHaveLength(3);
    for (const c of result.cases) {
      expect(c.status, c.reason).toBe('ok');
      expect(c.steps).toBe(12);
      expect(c.wall!.samples).toHaveLength(2);
      expect(c.wall!.min).toBeLessThanOrEqual(c.wall!.median);
      expect(Number.isFinite(c.neuronStepsPerSecond!) && c.neuronStepsPerSecond! > 0).toBe(true);
      expect(c.neuronStepsPerSecondBest!).toBeGreaterThanOrEqual(c.neuronStepsPerSecond!);
      // Byte model: 12 B per neuron-step + 36 B per instance-step on the CPU backend.
      expect(c.bytesPerRun).toBe(c.n * c.batch * 12 * 12 + c.batch * 12 * 36);
      expect(c.chunking!.chunksPerRun).toBeGreaterThanOrEqual(1);
    }
    expect(result.speedups).toEqual([]);
  });

  it('skips a case over the budget with a reason, and a malformed result is caught', async () => {
    const r = await runCase({ group: 'scaling', backend: 'cpu', n: 1000, batch: 1 }, null, { steps: 1000, repeats: 3, maxSeconds: 1e-9 });
    expect(r.status).toBe('skipped');
    expect(r.reason).toMatch(/over --max-seconds budget/);
    const webgpuWithoutContext = await runCase({ group: 'scaling', backend: 'webgpu', n: 1000, batch: 1 }, null, { steps: 10, repeats: 1, maxSeconds: 1 });
    expect(webgpuWithoutContext.status).toBe('skipped');
    expect(validateBenchResult({ schema: 'ei-engine/bench-poisson' }).length).toBeGreaterThan(0);
  });

  it('summarises a results folder into a markdown table', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ei-bench-'));
    try {
      const result = await runBenchmark({ ...plan, batches: [] }, null, { steps: 5, repeats: 1, maxSeconds: 5 }, {});
      writeFileSync(join(dir, 'cpu-only-test.json'), JSON.stringify(result));
      writeFileSync(join(dir, 'broken.json'), '{"schema": "something-else"}');
      const { loaded, rejected } = loadResults(dir);
      expect(loaded).toHaveLength(1);
      expect(rejected).toHaveLength(1);
      const md = makeSummaryMarkdown(loaded, rejected);
      expect(md).toMatch(/## poisson model, CPU only/);
      expect(md).toMatch(/\| scaling \| 2000 \| 1 \| cpu \| 5 x 1 \|/);
      expect(md).toMatch(/broken\.json/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('summarises a minimax result: cases per backend and the ratios', () => {
    const dir = mkdtempSync(join(tmpdir(), 'ei-bench-'));
    try {
      const environment = { engineVersion: '0.0.0', date: '2026-01-01T00:00:00.000Z', node: 'v20', os: { platform: 'linux', release: 'x', arch: 'x64', cpuModel: 'Test CPU', cpuCount: 2, totalMemoryBytes: 1 }, adapter: { vendor: 'acme', architecture: 'gpu9', description: '', isSoftware: false }, env: {} };
      const minimax = {
        schema: 'ei-engine/bench-minimax',
        schemaVersion: 1,
        environment,
        flags: { quick: true, steps: 5000, gridSteps: 4, maxSeconds: 60 },
        kernel: { defaultWorkgroupSize: { tauSweep: 32, grid: 256 }, defaultStepsPerDispatch: 10000 },
        cases: [
          { case: 'tau-sweep', backend: 'webgpu', batch: 9, neurons: 40, status: 'ok', steps: 5000, wallSeconds: 0.5, stepsPerSecond: 10000, instanceStepsPerSecond: 90000 },
          { case: 'tau-sweep', backend: 'cpu', batch: 9, neurons: 40, status: 'ok', steps: 5000, wallSeconds: 2, stepsPerSecond: 2500, instanceStepsPerSecond: 22500 },
          { case: 'grid 63x63', backend: 'webgpu', batch: 1, neurons: 7938, status: 'skipped', reason: 'too big | for this test' },
        ],
        ratios: { tauSweepGpuOverCpu: 4, gridGpuOverCpu: null, inKernelLoopOverDispatchPerStep: 6.346, sharedOverStorageWeights: 1.29, registersOverStorageState: 2.02 },
        conformance: { steps: 20000, firstDifferingStep: [-1, 1843, -1] },
      };
      writeFileSync(join(dir, 'acme-gpu9-minimax-2026-01-01.json'), JSON.stringify(minimax));
      const { loaded, rejected, rate, binary, minimax: mm } = loadResults(dir);
      expect([loaded.length, rejected.length, mm.length]).toEqual([0, 0, 1]);
      const md = makeSummaryMarkdown(loaded, rejected, rate, binary, mm);
      expect(md).toMatch(/## minimax model/);
      expect(md).toMatch(/### acme-gpu9-minimax-2026-01-01\.json/);
      expect(md).toMatch(/adapter: acme \/ gpu9/);
      expect(md).toContain('| tau-sweep | webgpu | 9 | 40 | 5000 | 500.0 ms | 10.0 k | 90.0 k |  |');
      expect(md).toContain('| tau-sweep | cpu | 9 | 40 | 5000 | 2.00 s | 2.50 k | 22.5 k |  |');
      expect(md).toContain('| grid 63x63 | webgpu | 1 | 7938 | - | - | - | - | **skipped**: too big \\| for this test |');
      expect(md).toContain('| GPU / CPU, tau sweep | 4.00x |');
      expect(md).toContain('| GPU / CPU, grid 63x63 | - (steps differ or a case is missing) |');
      expect(md).toContain('| in-kernel loop / one dispatch per step (GPU) | 6.35x |');
      expect(md).toContain('| weights in workgroup memory / in storage (GPU) | 1.29x |');
      expect(md).toContain('| state in registers / in storage (GPU) | 2.02x |');
      expect(md).toContain('GPU vs CPU spike trains, tau sweep, 20000 steps: first differing step per instance none, 1843, none.');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
