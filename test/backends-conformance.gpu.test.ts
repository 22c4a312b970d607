// Every registered model on every backend it has, through the model contract only (resolve, createRunner, run,
// readState, result, outputs): the wasm backend (1 and 3 threads) leaves the state bit for bit where the CPU reference
// leaves it and writes the same tables; WebGPU on the software adapter (SwiftShader) runs the same case beside them,
// and where it promises the reference's bits (ModelDefinition.webgpuBits) its state equals them too. The per-model
// *-conformance tests check each model more deeply; this one makes a model that forgets a backend fail.
import { describe, expect, it } from 'vitest';
import type { AnyModel, Backend, RunTarget } from '../src/core/contract.ts';
import { modelList } from '../src/models/index.ts';
import '../src/wasm/node-threads.ts';
import { useGpu } from './helpers/gpu.ts';

const gpu = useGpu();

/** The model's smallest quick bench case, a few steps long where the model takes steps. */
function smallRequest(def: AnyModel) {
  const n = def.bench!.sizes.quick[0];
  const req = def.bench!.scaling(Math.min(n, 2000));
  return def.options.takes.includes('steps') ? { ...req, steps: 12, seed: 3 } : { ...req, seed: 3 };
}

async function runOn(def: AnyModel, target: RunTarget) {
  const r = def.resolve(smallRequest(def));
  const runner = await def.createRunner(r, target);
  try {
    // Two run() calls: chunk boundaries must not matter on any backend.
    const half = Math.floor(r.steps / 2);
    await runner.run(half);
    await runner.run(r.steps - half);
    const state = [...new Uint32Array((await runner.readState()).slice().buffer)];
    const result = await runner.result();
    // The same run info for every backend: the tables must then be the same text.
    const outputs = def.outputs(result as never, r as never, { backend: 'cpu', wallSeconds: 1 });
    const tables = Object.fromEntries(outputs.files.filter((f) => f.name.endsWith('.csv')).map((f) => [f.name, f.content]));
    return { state, tables };
  } finally {
    runner.dispose();
  }
}

describe('every model on every backend it has', () => {
  for (const def of modelList.filter((m) => m.bench)) {
    it(`${def.id}: cpu${def.wasm ? ', wasm (1 and 3 threads)' : ''}${def.webgpu ? ', webgpu' : ''}`, async () => {
      const cpu = await runOn(def, { backend: 'cpu' });
      expect(cpu.state.length).toBeGreaterThan(0);
      if (def.wasm) {
        for (const threads of [1, 3]) {
          const w = await runOn(def, { backend: 'wasm', threads });
          expect(w.state, `${def.id} wasm x${threads}: state bits`).toEqual(cpu.state);
          expect(w.tables, `${def.id} wasm x${threads}: tables`).toEqual(cpu.tables);
        }
      }
      if (def.webgpu) {
        const g = await runOn(def, { backend: 'webgpu' as Backend, ctx: gpu.ctx });
        expect(g.state.length).toBe(cpu.state.length);
        if (def.webgpuBits) expect(g.state, `${def.id} webgpu: state bits`).toEqual(cpu.state);
      }
    }, 120_000);
  }
});
