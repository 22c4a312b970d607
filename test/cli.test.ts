// The `ei` command end to end, in-process: result folders, reproducibility, sweeps, shards, merges and errors.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ei } from './helpers/cli.ts';
import { parseCsv } from '../src/io/csv.ts';
import { selectBackend } from '../src/engine/backend.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-cli-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));


const json = (p: string) => JSON.parse(readFileSync(p, 'utf8'));

describe('ei run', () => {
  it('writes a complete, reproducible result folder', async () => {
    const a = join(dir, 'run-a');
    const r = await ei('run', 'poisson', '--backend', 'cpu', '--n', '300', '--steps', '1200', '--seed', '11', '--set', 'rIn=3000', '--quiet', '--out', a);
    expect(r.code, r.err).toBe(0);
    expect(r.out.trim()).toBe(a);
    for (const f of ['config.json', 'summary.json', 'timeseries.csv', 'spikes.csv', 'traces.csv', 'report.html', 'rate.svg']) expect(existsSync(join(a, f)), f).toBe(true);
    const config = json(join(a, 'config.json'));
    expect(config).toMatchObject({ model: 'poisson', n: 300, steps: 1200, seed: 11, backend: 'cpu', backendRequested: 'cpu' });
    expect(config.params[0].rIn).toBe(3000);
    expect(config.rngKey).toEqual([11, 0]);
    const s = json(join(a, 'summary.json'));
    expect(s.instances[0].sim.spikes).toBeGreaterThan(0);
    expect(Object.keys(s.instances[0].sim).sort()).toEqual(['intensityHz', 'meanU', 'rateHz', 'spikes', 'steps', 'varU']);
    const ts = parseCsv(readFileSync(join(a, 'timeseries.csv'), 'utf8'));
    expect(ts.columns).toEqual(['step', 't_s', 'instance', 'spikes', 'rateHz', 'meanU', 'varU', 'intensityHz', 'meanUTheory', 'varUTheory', 'rateHzTheory']);
    expect(ts.rows.length).toBe(1200);
    expect(readFileSync(join(a, 'report.html'), 'utf8')).toContain('<svg');

    // Same command, same numbers.
    const b = join(dir, 'run-b');
    expect((await ei('run', 'poisson', '--backend', 'cpu', '--n', '300', '--steps', '1200', '--seed', '11', '--set', 'rIn=3000', '--quiet', '--out', b)).code).toBe(0);
    expect(readFileSync(join(b, 'timeseries.csv'), 'utf8')).toBe(readFileSync(join(a, 'timeseries.csv'), 'utf8'));
    expect(json(join(b, 'summary.json')).instances).toEqual(s.instances);
  });

  it('gives the same spike counts on webgpu as on the cpu backend', async () => {
    const g = join(dir, 'run-gpu');
    const c = join(dir, 'run-cpu');
    const args = ['--n', '500', '--steps', '200', '--batch', '2', '--seed', '5', '--set', 'burnin=0', '--quiet'];
    expect((await ei('run', 'poisson', '--backend', 'webgpu', ...args, '--out', g)).code).toBe(0);
    expect((await ei('run', 'poisson', '--backend', 'cpu', ...args, '--out', c)).code).toBe(0);
    const spikes = (d: string) => parseCsv(readFileSync(join(d, 'timeseries.csv'), 'utf8')).rows.map((r) => r[3]);
    expect(spikes(g)).toEqual(spikes(c));
    expect(readFileSync(join(g, 'spikes.csv'), 'utf8')).toBe(readFileSync(join(c, 'spikes.csv'), 'utf8'));
    expect(json(join(g, 'config.json')).adapter.architecture).toBeTruthy();
  });

  it('rejects bad input with exit code 2 and leaves no result folder', async () => {
    const cases: [string[], RegExp][] = [
      [['run', 'poissn'], /unknown model 'poissn' \(did you mean poisson\?\)/],
      [['run', 'poisson', '--set', 'tau=-0.1'], /poisson\.tau.*must be > 0/],
      [['run', 'poisson', '--set', 'thta=1'], /did you mean theta/],
      [['run', 'poisson', '--n', '-5'], /--n/],
      [['run', 'poisson', '--steps', '10', '--set', 'burnin=1'], /burnin/],
      [['run', 'poisson', '--dt', '0.5'], /dt/],
      [['run', 'poisson', '--bogus', '1'], /--bogus/],
      [['sweep', 'poisson', '--grid', 'tau=1:2'], /--grid/],
      [['sweep', 'poisson', '--grid', 'tau=0:0.02:3'], /poisson\.tau/],
      [['reproduce', 'nope'], /unknown reproduction/],
    ];
    for (const [argv, re] of cases) {
      const out = join(dir, `bad-${argv.join('_').replace(/[^a-z0-9]/gi, '')}`);
      const r = await ei(...argv, '--backend', 'cpu', '--out', out);
      expect(r.code, argv.join(' ')).toBe(2);
      expect(r.err, argv.join(' ')).toMatch(re);
      expect(r.err).toMatch(/fix: /);
      expect(existsSync(out), argv.join(' ')).toBe(false);
    }
    // A GPU that cannot be had fails the same way (this machine class has no hardware GPU; on one that
    // does, the software adapter is refused instead).
    const hw = join(dir, 'bad-hardware');
    const r = await ei('run', 'poisson', '--backend', 'webgpu', '--adapter', 'hardware', '--out', hw);
    const r2 = r.code === 0 ? await ei('info', '--adapter', 'software', '--json') : r;
    if (r.code !== 0) {
      expect(r.code).toBe(2);
      expect(r.err).toMatch(/hardware/);
      expect(existsSync(hw)).toBe(false);
    } else {
      expect(JSON.parse(r2.out).adapter.isSoftware).toBe(true);
    }
    // No half-written folders anywhere.
    expect(readdirSync(dir).filter((f) => f.includes('.partial-'))).toEqual([]);
  });
});

describe('ei run hybrid', () => {
  it('writes limit, sim and blowup in summary.json and both trajectories in timeseries.csv', async () => {
    const out = join(dir, 'hybrid');
    const r = await ei('run', 'hybrid', '--backend', 'cpu', '--n', '200', '--T', '2', '--set', 'burnin=1', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(0);
    const s = json(join(out, 'summary.json'));
    for (const part of ['limit', 'sim']) expect(Object.keys(s[part]).sort()).toEqual(['X', 'mE', 'mI', 'nuE', 'nuI', 'vE', 'vI']);
    expect(s.blowup).toBeNull();
    expect(s.limit.mE).toBeCloseTo(0.2136, 2);
    const ts = parseCsv(readFileSync(join(out, 'timeseries.csv'), 'utf8'));
    expect(ts.columns).toEqual(['t_tau', 'instance', 'mE', 'mI', 'vE', 'vI', 'nuE', 'nuI', 'X', 'limitME', 'limitMI', 'limitVE', 'limitVI', 'limitNuE', 'limitNuI', 'limitX']);
    expect(json(join(out, 'config.json')).params[0].variant).toBe('B1');
    // A failing condition is reported, not a NaN.
    const bad = join(dir, 'hybrid-blowup');
    expect((await ei('run', 'hybrid', '--backend', 'cpu', '--n', '100', '--T', '0.5', '--set', 'variant=B2', '--set', 'JEE=2', '--set', 'JII=2', '--set', 'JEI=1', '--set', 'JIE=1', '--set', 'burnin=0', '--quiet', '--out', bad)).code).toBe(0);
    expect(json(join(bad, 'summary.json')).blowup.condition).toMatch(/D <= 0/);
  });
});

describe('ei sweep and merge', () => {
  const base = ['sweep', 'poisson', '--grid', 'rIn=1000:3000:3', '--grid', 'theta=1.5,2', '--replicas', '2', '--n', '200', '--steps', '150', '--set', 'burnin=0', '--quiet'];

  it('shards merge back to exactly the unsharded sweep, whatever the batching', async () => {
    const whole = join(dir, 'sweep-whole');
    const r = await ei(...base, '--backend', 'webgpu', '--out', whole);
    expect(r.code, r.err).toBe(0);
    const table = parseCsv(readFileSync(join(whole, 'sweep.csv'), 'utf8'));
    expect(table.rows.length).toBe(12);
    expect(table.columns.slice(0, 5)).toEqual(['index', 'pointIndex', 'replica', 'rIn', 'theta']);
    // Replicas of a point differ (own random streams), rows are in index order.
    expect(table.rows.map((x) => x[0])).toEqual([...Array(12).keys()]);
    expect(table.rows[0][9]).not.toEqual(table.rows[1][9]);

    const s0 = join(dir, 'sweep-s0');
    const s1 = join(dir, 'sweep-s1');
    expect((await ei(...base, '--backend', 'webgpu', '--shard', '1/2', '--max-batch', '2', '--out', s1)).code).toBe(0);
    expect((await ei(...base, '--backend', 'webgpu', '--shard', '0/2', '--max-batch', '5', '--out', s0)).code).toBe(0);
    const merged = join(dir, 'sweep-merged');
    const m = await ei('merge', s1, s0, '--out', merged);
    expect(m.code, m.err).toBe(0);
    expect(readFileSync(join(merged, 'sweep.csv'), 'utf8')).toBe(readFileSync(join(whole, 'sweep.csv'), 'utf8'));

    // A missing shard is an error, not a silently short merge.
    const bad = await ei('merge', s0, '--out', join(dir, 'sweep-bad'));
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/missing|expected|gap/i);
  });

  it('reads the shard from SLURM_ARRAY_TASK_ID', async () => {
    vi.stubEnv('SLURM_ARRAY_TASK_ID', '1');
    vi.stubEnv('SLURM_ARRAY_TASK_COUNT', '3');
    try {
      const out = join(dir, 'sweep-slurm');
      expect((await ei(...base, '--backend', 'cpu', '--out', out)).code).toBe(0);
      const rows = parseCsv(readFileSync(join(out, 'sweep.csv'), 'utf8')).rows;
      expect(rows.map((x) => x[0])).toEqual([1, 4, 7, 10]);
      expect(json(join(out, 'config.json')).shard).toEqual({ index: 1, count: 3 });
    } finally {
      vi.unstubAllEnvs();
    }
  });
});

describe('ei info and reproduce', () => {
  it('info --json names the adapter and limits, lists the backends, and says what auto picks for each model and why', async () => {
    const r = await ei('info', '--json');
    expect(r.code).toBe(0);
    const info = JSON.parse(r.out);
    expect(info.adapter.architecture.length + info.adapter.vendor.length).toBeGreaterThan(0);
    expect(info.adapter.limits.maxStorageBufferBindingSize).toBeGreaterThan(0);
    const kinds = info.backends.map((b: { kind: string }) => b.kind);
    expect(kinds).toEqual(['webgpu-hardware', 'webgpu-software', 'wasm', 'cpu']);
    expect(info.backends.find((b: { kind: string }) => b.kind === 'wasm').available).toBe(true);
    const hybrid = info.models.find((m: { model: string }) => m.model === 'hybrid');
    expect(hybrid.how).toBe('estimated');
    expect(hybrid.speeds.wasm).toBeGreaterThan(hybrid.speeds.cpu);
    // Stepping alone: binary's annealed chain (~5 s at N = 1000, the same on every backend) once hid a 14x difference.
    const binary = info.models.find((m: { model: string }) => m.model === 'binary');
    expect(binary.speeds.wasm).toBeGreaterThan(5 * binary.speeds.cpu);
    // CI has no hardware GPU: auto takes wasm over SwiftShader for a model with wasm kernels, and says why.
    if (!info.backends[0].available) {
      expect(hybrid.auto.backend).toBe('wasm');
      expect(hybrid.auto.why).toMatch(/software|no WebGPU/);
    }
  });

  it('info --measure times a short run on each backend (rates, not a speed check: that is bench/)', async () => {
    const r = await ei('info', '--measure', '--json');
    expect(r.code).toBe(0);
    const hybrid = JSON.parse(r.out).models.find((m: { model: string }) => m.model === 'hybrid');
    expect(hybrid.how).toBe('measured');
    for (const kind of ['wasm', 'cpu', 'webgpu-software']) expect(hybrid.speeds[kind]).toBeGreaterThan(0);
  }, 120_000);

  it('reproduce --list and a quick reproduction whose checks pass', async () => {
    const list = await ei('reproduce', '--list');
    expect(list.out).toContain('poisson-rate-curve');
    const out = join(dir, 'repro');
    const r = await ei('reproduce', 'poisson-rate-curve', '--quick', '--backend', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(0);
    const s = json(join(out, 'summary.json'));
    expect(s.allPassed).toBe(true);
    expect(s.checks.length).toBe(4);
    for (const f of ['rate-curve.csv', 'rate-probit.svg', 'report.html', 'config.json']) expect(existsSync(join(out, f))).toBe(true);
  });
});

describe('ei models', () => {
  it('lists every registered model with its run options and definition, and a reader that stops early is not an error', async () => {
    const { modelList } = await import('../src/models/index.ts');
    const all = await ei('models');
    expect(all.code).toBe(0);
    for (const m of modelList) {
      expect(all.out).toContain(`${m.id}: ${m.title}`);
      expect(all.out).toContain(`definition: ${m.doc}`);
      expect(existsSync(join(__dirname, '..', m.doc)), m.doc).toBe(true);
    }
    // A reader that is gone before ei writes (`| true` exits at once; `| head -1` is the same race): ei exits 0
    // without a stack trace (it threw EPIPE).
    const { spawnSync } = await import('node:child_process');
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', 'node bin/ei.js models | true'], { cwd: join(__dirname, '..'), encoding: 'utf8' });
    expect(r.stderr).not.toMatch(/EPIPE|Error/);
    expect(r.status).toBe(0);
  });
});

describe('--backend auto with wasm kernels', () => {
  it('prefers wasm over the software adapter for a model with wasm kernels, says so and records it; --backend webgpu still uses the adapter', async () => {
    const out = join(dir, 'auto-wasm');
    const r = await ei('run', 'poisson', '--n', '1500', '--steps', '20', '--set', 'burnin=0', '--set', 'u0=3', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(0);
    expect(r.err).toMatch(/using the wasm backend/);
    // One line says what runs: not also the adapter's "using software adapter" notice, which auto did not keep.
    expect(r.err).not.toMatch(/using software adapter/);
    const config = JSON.parse(readFileSync(join(out, 'config.json'), 'utf8'));
    expect(config.backend).toBe('wasm');
    expect(config.backendRequested).toBe('auto');
    expect(config.fallbackReason).toMatch(/software adapter/);
    expect(config.threads).toBe(1); // 1500 neurons: below two threads' worth of work (neuronsPerThreadMin 1000)
    const gpu = await ei('run', 'poisson', '--n', '1500', '--steps', '20', '--set', 'burnin=0', '--set', 'u0=3', '--backend', 'webgpu', '--quiet', '--out', join(dir, 'auto-webgpu'));
    expect(gpu.code, gpu.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'auto-webgpu', 'config.json'), 'utf8')).backend).toBe('webgpu');
    // The same spike counts either way (the moments are reduced in another order on the GPU, so only the integers match).
    const spikes = (d: string) => parseCsv(readFileSync(join(d, 'timeseries.csv'), 'utf8')).rows.map((x) => x[3]);
    expect(spikes(out)).toEqual(spikes(join(dir, 'auto-webgpu')));
    expect(spikes(out).some((x) => (x as number) > 0)).toBe(true);
    // hybrid has wasm kernels too: auto prefers them over the software adapter.
    const h = await ei('run', 'hybrid', '--n', '100', '--T', '0.5', '--set', 'burnin=0.1', '--quiet', '--out', join(dir, 'auto-hybrid'));
    expect(h.code, h.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'auto-hybrid', 'config.json'), 'utf8')).backend).toBe('wasm');
    // So has binary.
    const b = await ei('run', 'binary', '--n', '200', '--steps', '50', '--set', 'k=20', '--set', 'burnin=10', '--quiet', '--out', join(dir, 'auto-binary'));
    expect(b.code, b.err).toBe(0);
    expect(JSON.parse(readFileSync(join(dir, 'auto-binary', 'config.json'), 'utf8')).backend).toBe('wasm');
    // A model without wasm kernels keeps today's choice, the software adapter (asked of the selection itself, which
    // `ei run` makes from ModelDefinition.wasm, so that this holds whichever models have kernels).
    const sel = await selectBackend('auto', 'auto', () => {}, undefined, false);
    try {
      expect(sel.backend).toBe('webgpu');
    } finally {
      sel.ctx?.dispose();
    }
  });
});
