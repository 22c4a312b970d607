// Memory and output limits of `ei run`: every model estimates what a request needs and refuses what does not fit
// (exit 2, naming the option and both sizes) before any work; runs that fit still run.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ei } from './helpers/cli.ts';
import { checkMemory, maxStringLength, type MachineLimits, type RunEstimate } from '../src/core/limits.ts';
import { defaultRecordEvery, estimatePopulationRun, resolveExperimentShape } from '../src/models/poisson/experiment.ts';
import { ParameterError } from '../src/errors.ts';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'ei-limits-'));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function refused(args: string[], re: RegExp[]) {
  const out = join(dir, `bad-${args.join('_').replace(/[^a-z0-9]/gi, '')}`.slice(0, 120));
  const t0 = performance.now();
  const r = await ei('run', ...args, '--quiet', '--out', out);
  const seconds = (performance.now() - t0) / 1000;
  expect(r.code, `${args.join(' ')}\n${r.err}`).toBe(2);
  for (const x of re) expect(r.err, args.join(' ')).toMatch(x);
  expect(r.err).toMatch(/fix: /);
  expect(existsSync(out)).toBe(false);
  // Refused up front: no allocation, no simulation.
  expect(seconds, args.join(' ')).toBeLessThan(20);
  return r.err;
}

describe('ei run refuses requests that do not fit, naming the option and the sizes', () => {
  it('poisson: a batch of 1e9 (was a V8 out-of-memory abort after 27 s)', async () => {
    await refused(['poisson', '--batch', '1e9', '--n', '10', '--steps', '20', '--backend', 'cpu'], [/invalid --n\/--batch/, /--batch 1e9/, /1e10 elements/, /2\^32/]);
  });

  it('poisson: per-instance results beyond what can be written (at least two time series rows per instance)', async () => {
    await refused(['poisson', '--batch', '1e7', '--n', '1', '--steps', '20', '--set', 'burnin=0', '--backend', 'cpu'], [/invalid --batch/, /timeseries\.csv would be about [\d.]+ GiB \(2e7 rows\)/]);
  });

  it('poisson: a time series that no string can hold (--record-every 1 on a long batched run)', async () => {
    await refused(['poisson', '--batch', '100', '--n', '1', '--steps', '1000000', '--record-every', '1', '--record-spikes', '0', '--record-traces', '0', '--set', 'burnin=0', '--backend', 'cpu'], [/timeseries\.csv would be about [\d.]+ GiB/, /1e8 rows/, /raise --record-every/]);
  });

  it('poisson: traces and spikes are estimated too', async () => {
    await refused(['poisson', '--batch', '3000', '--n', '10', '--T', '3', '--record-spikes', '0', '--backend', 'cpu'], [/traces\.csv would be/, /--record-traces/]);
    await refused(['poisson', '--n', '10', '--steps', '4000000000', '--record-traces', '0', '--backend', 'cpu'], [/spikes\.csv would be/, /--record-spikes/]);
  });

  it('minimax: a batch of 1e9 (was a hang building the instances)', async () => {
    await refused(['minimax', '--batch', '1000000000', '--T', '0.02', '--dt', '1e-4', '--backend', 'cpu'], [/invalid --batch/, /--batch 1e9/, /elements|GiB/]);
  });

  it('hybrid, binary and rate estimate their own allocations', async () => {
    await refused(['hybrid', '--batch', '100000000', '--n', '10', '--steps', '10', '--backend', 'cpu'], [/hybrid/, /--batch/, /GiB|elements/]);
    // The annealed chain the report compares with grows like N^1.5 entries.
    await refused(['binary', '--n', '1048576', '--steps', '2000', '--backend', 'cpu'], [/binary/, /annealed chain/, /--n/]);
    await refused(['rate', '--set', 'circuit=column', '--set', 'channels=12', '--set', 'layers=8', '--set', 'initial=4096', '--backend', 'cpu'], [/rate 4096 circuits of 192 cells/, /--set initial/, /timeseries\.csv|heap/]);
  });

  it('webgpu: device buffers are checked against the adapter limits', async () => {
    const r = await ei('run', 'poisson', '--n', '100000', '--batch', '3000', '--steps', '10', '--set', 'burnin=0', '--backend', 'webgpu', '--quiet', '--out', join(dir, 'gpu-big'));
    if (r.err.match(/WebGPU unavailable|no adapter/i)) return;
    expect(r.code, r.err).toBe(2);
    expect(r.err).toMatch(/GPU potentials is [\d.]+ GiB in one storage binding/);
    expect(r.err).toMatch(/maxStorageBufferBindingSize/);
    expect(existsSync(join(dir, 'gpu-big'))).toBe(false);
  });
});

describe('the shared comparison', () => {
  const machine: MachineLimits = { totalMemory: 8 * 2 ** 30, freeMemory: 4 * 2 ** 30, heapLimit: 2 ** 32, heapUsed: 2 ** 26, device: { name: 'test/soft', isSoftware: true, maxBufferSize: 2 ** 30, maxStorageBufferBindingSize: 2 ** 28 } };
  const est = (memory: RunEstimate['memory'], outputs: RunEstimate['outputs'] = []): RunEstimate => ({
    model: 'test', size: 'x', memory, outputs, work: { units: 1, unit: 'steps', seconds: { cpu: 1, 'webgpu-software': 1, 'webgpu-hardware': 1 }, options: [] },
  });

  it('a binding over maxStorageBufferBindingSize is refused on webgpu and ignored on the cpu backend', () => {
    const e = est([{ what: 'GPU state', bytes: 2 ** 29, place: 'device', options: ['--n'], binding: true }]);
    expect(() => checkMemory(e, 'webgpu', machine)).toThrow(/GPU state is 512\.0 MiB in one storage binding, but the adapter \(test\/soft\) allows 256\.0 MiB/);
    expect(() => checkMemory(e, 'cpu', machine)).not.toThrow();
  });

  it('a software adapter keeps device buffers in host memory', () => {
    const e = est([
      { what: 'host part', bytes: 3.5 * 2 ** 30, place: 'host', options: ['--batch'] },
      { what: 'GPU part', bytes: 2 * 2 ** 27, place: 'device', options: ['--n'], binding: true },
    ]);
    expect(() => checkMemory(e, 'cpu', machine)).not.toThrow();
    expect(() => checkMemory(e, 'webgpu', { ...machine, device: { ...machine.device!, isSoftware: false } })).not.toThrow();
    expect(() => checkMemory({ ...e, memory: [e.memory[0], { ...e.memory[1], bytes: 2 ** 28 }, { ...e.memory[1], bytes: 2 ** 28 }, { ...e.memory[1], bytes: 2 ** 28 }, { ...e.memory[1], bytes: 2 ** 28 }] }, 'webgpu', machine)).toThrow(/software adapter keeps its buffers in host memory/);
  });

  it('JS arrays and objects are bounded by the heap limit, typed arrays by free memory', () => {
    expect(() => checkMemory(est([{ what: 'rows', bytes: 2 ** 33, place: 'heap', options: ['--steps'] }]), 'cpu', machine)).toThrow(/invalid --steps: test x: needs about 8\.0 GiB of JavaScript heap \(rows 8\.0 GiB\), but V8's heap limit is 4\.0 GiB/);
    expect(() => checkMemory(est([{ what: 'state', bytes: 2 ** 33, place: 'host', options: ['--n'] }]), 'cpu', machine)).toThrow(/needs about 8\.0 GiB of memory \(state 8\.0 GiB\), but 4\.0 GiB of 8\.0 GiB is free/);
    expect(() => checkMemory(est([{ what: 'state', bytes: 2 ** 30, place: 'host', options: ['--n'] }]), 'cpu', machine)).not.toThrow();
  });

  it('one file is one string: the longest V8 string bounds it', () => {
    const e = est([], [{ file: 'big.csv', rows: 1e7, bytes: maxStringLength + 1, options: ['--batch'] }]);
    try {
      checkMemory(e, 'cpu', machine);
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(ParameterError);
      expect((err as ParameterError).field).toBe('--batch');
      expect((err as Error).message).toMatch(/big\.csv would be about 512\.0 MiB \(1e7 rows\)/);
    }
  });

  it('the poisson estimate grows with --n x --batch and counts device buffers only on webgpu', () => {
    const shape = resolveExperimentShape({ n: 1000, batch: 10, steps: 100 });
    const cpu = estimatePopulationRun(shape, { backend: 'cpu' });
    const gpu = estimatePopulationRun(shape, { backend: 'webgpu', isSoftware: true });
    const bytes = (e: RunEstimate, place: string) => e.memory.filter((x) => x.place === place).reduce((s, x) => s + x.bytes, 0);
    expect(bytes(cpu, 'device')).toBe(0);
    expect(bytes(gpu, 'device')).toBeGreaterThanOrEqual(4 * 1000 * 10);
    const big = estimatePopulationRun(resolveExperimentShape({ n: 1000, batch: 1000, steps: 100 }), { backend: 'cpu' });
    expect(bytes(big, 'host')).toBeGreaterThan(50 * bytes(cpu, 'host'));
    expect(cpu.work.units).toBe(1000 * 10 * 100);
  });

  it('the default --record-every keeps about 2e6 rows in all (20000 per instance for small batches)', () => {
    expect(defaultRecordEvery(1200, 1)).toBe(1);
    expect(defaultRecordEvery(100_000, 1)).toBe(5);
    expect(defaultRecordEvery(100_000, 100)).toBe(5);
    expect(defaultRecordEvery(100_000, 1000)).toBe(50);
    expect(defaultRecordEvery(10, 1e7)).toBe(10);
  });
});

describe('runs that fit still run', () => {
  it('poisson with a batch large enough to thin its time series by default', async () => {
    const out = join(dir, 'ok-poisson');
    const r = await ei('run', 'poisson', '--n', '1', '--batch', '1000', '--steps', '2100', '--record-spikes', '0', '--record-traces', '0', '--set', 'burnin=0', '--backend', 'cpu', '--quiet', '--out', out);
    expect(r.code, r.err).toBe(0);
    const text = readFileSync(join(out, 'timeseries.csv'), 'utf8');
    // 2e6 / 1000 = 2000 rows per instance at most: every 2nd step (0, 2, ..., 2098) plus the last (2099).
    expect(JSON.parse(readFileSync(join(out, 'config.json'), 'utf8')).steps).toBe(2100);
    expect(text.split('\n').length - 2).toBe(1000 * 1051);
    expect(text).toContain('\n2098,');
    expect(text).toContain('\n2099,');
    expect(text).not.toContain('\n2097,');
  }, 120_000);
});
