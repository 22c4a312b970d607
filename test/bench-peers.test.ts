// `npm run bench:peers` end to end at its smallest (one size, one repeat), with a Python that does not exist: the
// Brian2 rows are skipped with the install instruction, ei-engine's rows run, and the JSON checks and summarises.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { makePeersSection, validatePeersBenchResult, type PeersBenchResult } from '../bench/lib/peers-harness.ts';

const root = resolve(import.meta.dirname, '..');
const dir = mkdtempSync(join(tmpdir(), 'ei-peers-test-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('bench:peers', () => {
  it('without Brian2: says how to install it, runs ei-engine side by side anyway, and writes a well-formed result', () => {
    const out = join(dir, 'peers.json');
    const args = ['tsx', 'bench/peers.bench.ts', '--quick', '--sizes', '1000', '--repeats', '1', '--engines', 'brian2,wasm', '--threads', '2', '--python', '/nonexistent/python3', '--out', out, '--no-summary'];
    const stderr = execFileSync('npx', args, { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    expect(typeof stderr).toBe('string');
    const r = JSON.parse(readFileSync(out, 'utf8')) as PeersBenchResult;
    expect(validatePeersBenchResult(r)).toEqual([]);
    const brian = r.cases.filter((c) => c.engine === 'brian2');
    expect(brian.map((c) => c.threads)).toEqual([1, 2]);
    for (const c of brian) {
      expect(c.status).toBe('skipped');
      expect(c.reason).toMatch(/apt-get install python3-brian/);
    }
    const wasm = r.cases.filter((c) => c.engine === 'wasm');
    expect(wasm.map((c) => [c.threads, c.status])).toEqual([[2, 'ok'], [1, 'ok']]);
    for (const c of wasm) {
      expect(c.neuronStepsPerSecond).toBeGreaterThan(0);
      // The same network on both thread counts: the same bits, so the same means.
      expect(c.meanE).toBe(wasm[0].meanE);
    }
    expect(r.ratios).toEqual([{ n: 1000, wasmOverBrian2: null, wasm1OverBrian2: null, wasmOverBrian2Threads: null }]);
    expect(r.peer).toBeNull();
    expect(r.synaptic.find((s) => s.engine === 'wasm')?.synapticReadsPerSecond).toBeGreaterThan(0);
    expect(r.limits.map((l) => l.kernel)).toContain('binary, one synaptic read');
    // Every model's wasm kernel has a row, each measured in this run.
    for (const kernel of ['hybrid', 'poisson', 'binary', 'minimax', 'rate']) expect(r.limits.some((l) => l.kernel.startsWith(kernel)), kernel).toBe(true);
    for (const l of r.limits.filter((x) => !x.kernel.startsWith('hybrid'))) expect(l.measured, l.kernel).toBeGreaterThan(0);
    for (const l of r.limits) expect(l.limit).toBeCloseTo(l.machineOpsPerSecond / l.opsPerUpdate, 6);
    // The clock is measured (a VM's os.cpus() says 0 MHz): a latency row is one core's clock over the chain's cycles.
    expect(r.clock!.hz).toBeGreaterThan(5e8);
    const latency = r.limits.filter((l) => l.bound === 'latency');
    expect(latency.map((l) => [l.kernel, l.unit])).toEqual([['rate, one Wilson-Cowan circuit, RK4', 'circuit-steps/s']]);
    expect(latency[0].machineOpsPerSecond).toBe(r.clock!.hz);
    expect(latency[0].measured).toBeGreaterThan(0);
    // The others: cores x the same clock x 4.
    for (const l of r.limits.filter((x) => x.bound !== 'latency')) {
      const cores = l.machineOpsPerSecond / (4 * r.clock!.hz);
      expect(cores).toBeCloseTo(Math.round(cores), 9);
      expect(Math.round(cores)).toBeGreaterThanOrEqual(1);
    }
    const md = makePeersSection('peers.json', r);
    expect(md).toMatch(/Latency limits .*\n\n\| kernel \| cycles per update .*\n.*\n\| rate, one Wilson-Cowan circuit, RK4 \(circuit-steps\/s\) \| 88 /);
    expect(md).toMatch(/\| 1.00 k \| Brian2 C\+\+ standalone, 1 thread \| 100 \| - \| - \| - \| \*\*skipped\*\*: .*apt-get install python3-brian/);
    expect(md).toContain('ei-engine wasm, 2 threads');
  }, 180_000);

  it('the result check refuses a rate without runs and a skip without a reason', () => {
    const bad = { schema: 'ei-engine/bench-peers', schemaVersion: 1, environment: { os: {} }, cases: [{ engine: 'wasm', threads: 1, n: 10, steps: 1, status: 'ok' }, { engine: 'cpu', threads: 1, n: 10, steps: 1, status: 'skipped' }], synaptic: [], limits: [], ratios: [] };
    expect(validatePeersBenchResult(bad)).toEqual(['wasm n=10: ok without a rate', 'cpu n=10: skipped without a reason']);
  });
});
