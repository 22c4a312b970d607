// `ei reproduce --backend wasm`: quick reproductions of binary, hybrid, rate and minimax (poisson's takes too long on a
// CPU) write the CPU reference's CSV bytes, on the wasm kernels (their constructors are spied on: a silent cpu run
// would write the same bytes), with --threads passed to every run and recorded.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { WasmBinarySimulation } from '../src/models/binary/wasm-simulation.ts';
import { WasmHybridSimulation } from '../src/models/hybrid/wasm-simulation.ts';
import { MinimaxWasmSimulation } from '../src/models/minimax/wasm-simulation.ts';
import { RateWasmIntegrator } from '../src/models/rate/wasm-integrator.ts';
import { ei } from './helpers/cli.ts';

const root = mkdtempSync(join(tmpdir(), 'ei-reproduce-wasm-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const json = (path: string) => JSON.parse(readFileSync(path, 'utf8'));

/** Each case: a reproduction (sized to seconds), the wasm class whose create() its runs call, and where that call takes the threads. */
const cases = [
  { id: 'binary-alpha', args: ['--samples', '300'], kernels: WasmBinarySimulation, threadsOf: (a: unknown[]) => (a[0] as { threads?: number }).threads },
  { id: 'hybrid-histogram', args: [], kernels: WasmHybridSimulation, threadsOf: (a: unknown[]) => (a[0] as { threads?: number }).threads },
  { id: 'rate-lateral', args: [], kernels: RateWasmIntegrator, threadsOf: (a: unknown[]) => a[1] },
  { id: 'minimax-fig2a', args: [], kernels: MinimaxWasmSimulation, threadsOf: (a: unknown[]) => a[1] },
];

describe('ei reproduce --backend wasm', () => {
  for (const c of cases) {
    it(`${c.id}: --threads 2 writes the cpu run's CSV files byte for byte, on the wasm kernels`, async () => {
      const create = vi.spyOn(c.kernels, 'create');
      try {
        const dc = join(root, `${c.id}-cpu`);
        const dw = join(root, `${c.id}-wasm`);
        const cpu = await ei('reproduce', c.id, '--quick', ...c.args, '--backend', 'cpu', '--quiet', '--out', dc);
        // 3: a claim not confirmed at this size, still a complete result (the same on both backends).
        expect([0, 3], cpu.err).toContain(cpu.code);
        expect(create).not.toHaveBeenCalled();
        const wasm = await ei('reproduce', c.id, '--quick', ...c.args, '--backend', 'wasm', '--threads', '2', '--quiet', '--out', dw);
        expect(wasm.code, wasm.err).toBe(cpu.code);
        expect(create).toHaveBeenCalled();
        for (const call of create.mock.calls) expect(c.threadsOf(call)).toBe(2);
        const csv = readdirSync(dc).filter((f) => f.endsWith('.csv')).sort();
        expect(csv.length).toBeGreaterThan(0);
        expect(readdirSync(dw).filter((f) => f.endsWith('.csv')).sort()).toEqual(csv);
        for (const f of csv) expect(readFileSync(join(dw, f)).equals(readFileSync(join(dc, f))), f).toBe(true);
        expect(json(join(dw, 'config.json'))).toMatchObject({ backend: 'wasm', threads: 2, adapter: { architecture: 'wasm' } });
        expect(json(join(dc, 'config.json'))).toMatchObject({ backend: 'cpu', threads: null });
        expect(json(join(dw, 'summary.json')).backend).toBe('wasm');
      } finally {
        create.mockRestore();
      }
    });
  }

  it('without --threads each run takes its model default, said and recorded', async () => {
    const d = join(root, 'default-threads');
    const create = vi.spyOn(RateWasmIntegrator, 'create');
    try {
      const r = await ei('reproduce', 'rate-column', '--quick', '--backend', 'wasm', '--quiet', '--out', d);
      expect(r.code, r.err).toBe(0);
      expect(r.err).toMatch(/wasm backend, each run on its model's default threads/);
      expect(create).toHaveBeenCalled();
      for (const call of create.mock.calls) expect(call[1]).toBeUndefined();
      expect(json(join(d, 'config.json'))).toMatchObject({ backend: 'wasm', threads: 'model default per run' });
    } finally {
      create.mockRestore();
    }
  });

  it('auto runs on a hardware GPU or wasm, never the CPU reference (every model has wasm kernels); --threads goes with it on wasm', async () => {
    const d = join(root, 'auto');
    const r = await ei('reproduce', 'rate-column', '--quick', '--threads', '2', '--quiet', '--out', d);
    // A hardware GPU takes no threads (refused); without one (CI) auto picks wasm and runs on the threads given.
    if (/auto picked webgpu/.test(r.err)) expect(r.code).toBe(2);
    else {
      expect(r.code, r.err).toBe(0);
      const config = json(join(d, 'config.json'));
      expect([config.backend, config.threads]).toEqual(['wasm', 2]);
    }
  });

  it('refuses --threads with --backend cpu or webgpu, and out of range, and --adapter off WebGPU, naming the flag and leaving no folder', async () => {
    const cases: [string[], RegExp][] = [
      [['--backend', 'cpu', '--threads', '2'], /--threads has no effect with --backend cpu[\s\S]*--backend wasm/],
      [['--backend', 'webgpu', '--threads', '2'], /--threads has no effect with --backend webgpu/],
      [['--backend', 'wasm', '--adapter', 'software'], /--adapter software has no effect with --backend wasm/],
      [['--backend', 'wasm', '--threads', '65'], /--threads/],
    ];
    for (const [args, re] of cases) {
      const d = join(root, `bad-${args.join('')}`);
      const r = await ei('reproduce', 'rate-column', '--quick', ...args, '--quiet', '--out', d);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.err).toMatch(re);
      expect(existsSync(d)).toBe(false);
    }
  });
});
