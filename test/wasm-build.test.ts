// src/wasm/kernels.generated.ts (committed) must be the binary that the pinned asc builds from src/wasm/assembly/*.ts:
// `npm run build:wasm` regenerates it; this test recompiles and compares, so a stale binary cannot pass.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { compileWasm, generatedWasmModule, generatedWasmPath, wasmInputsSha256 } from '../scripts/build-wasm.ts';
import { kernelsInputsSha256, kernelsWasmBase64, kernelsWasmBytes } from '../src/wasm/kernels.generated.ts';
import { compileKernels } from '../src/wasm/kernels.ts';

describe('generated wasm kernels', () => {
  it('record the current sources, compiler version and flags', () => {
    expect(kernelsInputsSha256, 'src/wasm/assembly changed: run `npm run build:wasm`').toBe(wasmInputsSha256());
  });

  it('are exactly what asc compiles from src/wasm/assembly (deterministic build)', async () => {
    const text = generatedWasmModule(await compileWasm());
    expect(readFileSync(generatedWasmPath, 'utf8') === text, 'src/wasm/kernels.generated.ts is stale: run `npm run build:wasm -- --force`').toBe(true);
  }, 120_000);

  it('decode to a valid module that exports the kernels and one memory, with no imports', async () => {
    const m = await compileKernels();
    expect(Buffer.from(kernelsWasmBase64, 'base64').length).toBe(kernelsWasmBytes);
    expect(WebAssembly.Module.imports(m)).toEqual([]);
    const names = WebAssembly.Module.exports(m).map((e) => e.name);
    expect(names).toEqual(expect.arrayContaining(['memory', 'poissonStep', 'philox4x32_10', 'rngPoisson', 'detExp']));
  });
});
