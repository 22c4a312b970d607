// The hardware kit: `npm run kit` builds kit-build/, a copy of it in a temp folder runs `hardware-check --budget 60`
// with the kit's own Node, a bare environment (no repository, no node_modules, PATH /usr/bin:/bin) and SwiftShader as
// the Vulkan driver, and the check leaves JSON with adapter info and SUMMARY.md, with the info, a conformance and a
// benchmark section measured. Runs in CI (SwiftShader from chromium); the pure parts are tested beside it.
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { compareStates, firstDifferingIndex, makeCheckpoints, makeSectionSeconds, pickBestNeuronsPerThread } from '../bench/lib/hardware-check.ts';
import { findSwiftShaderIcd } from '../src/gpu/node-webgpu.ts';

const root = new URL('..', import.meta.url).pathname;
const temp = mkdtempSync(join(tmpdir(), 'ei-kit-test-'));
afterAll(() => rmSync(temp, { recursive: true, force: true }));

describe('hardware check: pure parts', () => {
  it('shares the budget in section order, passing unused time on, never more than is left', () => {
    expect(makeSectionSeconds('info', 480)).toBeCloseTo(480 / 13, 6);
    expect(makeSectionSeconds('heatmap', 100)).toBe(100);
    expect(makeSectionSeconds('info', 10)).toBe(10);
    expect(makeSectionSeconds('bench', 0)).toBe(0);
  });

  it('brackets a divergence with checkpoints and finds the first differing element by bits', () => {
    expect(makeCheckpoints(64)).toEqual([1, 2, 4, 8, 16, 32, 64]);
    expect(makeCheckpoints(5)).toEqual([1, 2, 4, 5]);
    expect(firstDifferingIndex([1, 2, 3], [1, 2, 3])).toBe(-1);
    expect(firstDifferingIndex([1, 2, 3], [1, 5, 3])).toBe(1);
    expect(firstDifferingIndex([1, 2], [1, 2, 3])).toBe(2);
  });

  it('accepts two samples of one distribution and rejects shifted means or NaN', () => {
    const a = Float32Array.from({ length: 4000 }, (_, i) => (i * 7919) % 2);
    const b = Float32Array.from({ length: 4000 }, (_, i) => (i * 104729 + 1) % 2);
    expect(compareStates(a, b).pass).toBe(true);
    expect(compareStates(a, a.map((x) => x + 0.2)).pass).toBe(false);
    expect(compareStates(a, b.map((x, i) => (i === 3 ? NaN : x))).pass).toBe(false);
  });

  it('picks the fastest neurons per thread per model and size', () => {
    const best = pickBestNeuronsPerThread([
      { model: 'm', size: 10, neuronsPerThread: 1, status: 'ok', neuronStepsPerSecond: 5 },
      { model: 'm', size: 10, neuronsPerThread: 4, status: 'ok', neuronStepsPerSecond: 9 },
      { model: 'm', size: 99, neuronsPerThread: 1, status: 'skipped', reason: 'x' },
    ]);
    expect(best).toEqual([{ model: 'm', size: 10, best: 4, neuronStepsPerSecond: 9 }, { model: 'm', size: 99, best: null, neuronStepsPerSecond: null }]);
  });
});

describe('the kit on a bare machine (SwiftShader)', () => {
  it('builds under 60 MiB and runs hardware-check --budget 60 from a temp copy without the repository', () => {
    const icd = findSwiftShaderIcd();
    expect(icd, 'SwiftShader (Debian chromium) is needed: npm run setup').not.toBeNull();
    const t0 = performance.now();
    const built = spawnSync(process.execPath, ['--import', 'tsx', 'scripts/build-kit.ts'], { cwd: root, encoding: 'utf8', timeout: 90_000 });
    expect(built.status, built.stderr).toBe(0);
    const buildSeconds = (performance.now() - t0) / 1000;
    console.log(`kit: ${built.stdout.trim()} (test saw ${buildSeconds.toFixed(1)} s)`);
    expect(buildSeconds).toBeLessThan(60);

    const kit = join(temp, 'kit');
    cpSync(join(root, 'kit-build'), kit, { recursive: true });
    const out = join(temp, 'out');
    const run = spawnSync(join(kit, 'hardware-check'), ['--budget', '60', '--out', out], {
      cwd: temp,
      encoding: 'utf8',
      timeout: 100_000,
      // A clean environment: nothing of this repository or its Node on the path.
      env: { PATH: '/usr/bin:/bin', HOME: temp, TMPDIR: temp, VK_ICD_FILENAMES: icd! },
    });
    console.log(run.stderr.split('\n').filter((l) => l.startsWith('hardware-check:')).join('\n'));
    expect(run.error).toBeUndefined();
    expect(run.stderr).toMatch(/hardware-check: node v\d+/);
    expect(existsSync(join(out, 'SUMMARY.md'))).toBe(true);

    const check = JSON.parse(readFileSync(join(out, 'check.json'), 'utf8'));
    expect(check.schema).toBe('ei-engine/hardware-check');
    expect(check.environment.adapter.architecture).toBe('swiftshader');
    expect(check.kit.vulkanLoader).toMatch(/libvulkan\.so\.1/);
    const status = Object.fromEntries(check.sections.map((s: { name: string; status: string }) => [s.name, s.status]));
    expect(status.info).toBe('ok');

    const info = JSON.parse(readFileSync(join(out, 'info.json'), 'utf8'));
    expect(info.adapter.isSoftware).toBe(true);
    const conformance = JSON.parse(readFileSync(join(out, 'conformance.json'), 'utf8'));
    expect(conformance.environment.adapter.vendor).toBe(check.environment.adapter.vendor);
    const conformed = conformance.cases.filter((c: { status: string }) => c.status === 'ok');
    expect(conformed.length).toBeGreaterThanOrEqual(1);
    // SwiftShader neither fuses nor reassociates: every model that ran must be bit-equal to the CPU reference.
    for (const c of conformance.cases.filter((x: { verdict?: string }) => x.verdict)) expect(c.verdict, c.model).toBe('equal');
    const bench = JSON.parse(readFileSync(join(out, 'bench.json'), 'utf8'));
    expect(bench.schema).toBe('ei-engine/bench-models');
    const measured = bench.cases.filter((c: { status: string; neuronStepsPerSecond?: number }) => c.status === 'ok' && c.neuronStepsPerSecond! > 0);
    expect(measured.length).toBeGreaterThanOrEqual(1);

    const summary = readFileSync(join(out, 'SUMMARY.md'), 'utf8');
    expect(summary).toContain('adapter: google / swiftshader');
    expect(summary).toContain('## Conformance');
    expect(summary).toContain('## Model benchmarks');
  }, 200_000);
});
