// Backend selection for the engine and the CLI: WebGPU on the best adapter, with a loud notice when it falls back to the CPU;
// cpu and wasm (the WebAssembly kernels, bit-identical to cpu) only when asked for.
import { createGpuContext, type GpuContext } from '../gpu/context.ts';
import { AdapterUnavailableError, WebGpuUnavailableError } from '../errors.ts';
import type { AdapterChoice } from '../gpu/node-webgpu.ts';
import type { Backend } from '../core/contract.ts';

export interface BackendSelection {
  backend: Backend;
  requested: 'auto' | Backend;
  ctx: GpuContext | null;
  /** Why WebGPU was not used when it was not asked for explicitly. */
  fallbackReason: string | null;
}

/** What --backend auto does given the adapter found (hardware, software or none) and the model: the one rule, shared by selectBackend and `ei info`. */
export function chooseAutoBackend(adapter: 'hardware' | 'software' | null, model: { wasm: boolean; cpuBeatsSoftware?: string }): { backend: Backend; why: string } {
  if (adapter === 'hardware') return { backend: 'webgpu', why: 'a hardware GPU is the fastest backend' };
  if (model.wasm) return { backend: 'wasm', why: adapter === 'software' ? 'the adapter is a software one (SwiftShader, a correctness tool); the wasm kernels are faster and bit-identical to the CPU reference' : 'no WebGPU adapter; the wasm kernels are bit-identical to the CPU reference and faster' };
  if (adapter === 'software') return model.cpuBeatsSoftware ? { backend: 'cpu', why: `the adapter is a software one and ${model.cpuBeatsSoftware}` } : { backend: 'webgpu', why: 'the model has no wasm kernels; the software adapter (SwiftShader) runs its WebGPU kernels' };
  return { backend: 'cpu', why: 'no WebGPU adapter and no wasm kernels: the CPU reference (slow)' };
}

/**
 * auto: the backend chooseAutoBackend names for the adapter that answers (hardware, else SwiftShader, else none), with
 * a notice on stderr whenever it is not WebGPU; --backend webgpu still runs on a software adapter; cpu and wasm only
 * when asked for or chosen. `cpuBeatsSoftware` and `wasm` describe the model (ModelDefinition).
 */
export async function selectBackend(requested: 'auto' | Backend, adapter: AdapterChoice, notify: (m: string) => void, cpuBeatsSoftware?: string, wasm = false): Promise<BackendSelection> {
  if (requested === 'cpu' || requested === 'wasm') return { backend: requested, requested, ctx: null, fallbackReason: null };
  try {
    // auto may leave the software adapter for wasm or the CPU: the context's "using software adapter" notice waits
    // for that choice, so that the user reads one line that says what runs.
    const held: string[] = [];
    const ctx = await createGpuContext({ adapter, notify: requested === 'auto' ? (m) => held.push(m) : notify });
    if (requested === 'auto' && ctx.info.isSoftware) {
      const pick = chooseAutoBackend('software', { wasm, cpuBeatsSoftware });
      if (pick.backend !== 'webgpu') {
        ctx.dispose();
        const noHardware = held.some((m) => m.includes('no hardware GPU adapter')) ? 'no hardware GPU adapter; ' : '';
        notify(`ei: ${noHardware}${pick.why}; using the ${pick.backend === 'wasm' ? 'wasm backend' : 'CPU reference backend'}. Use --backend webgpu to run on the software adapter anyway.`);
        return { backend: pick.backend, requested, ctx: null, fallbackReason: `software adapter: ${pick.backend === 'wasm' ? 'the wasm backend is faster than SwiftShader' : cpuBeatsSoftware}` };
      }
    }
    held.forEach(notify);
    return { backend: 'webgpu', requested, ctx, fallbackReason: null };
  } catch (e) {
    if (requested === 'auto' && isNoGpuError(e)) {
      const reason = (e as Error).message.split('\n')[0];
      if (wasm) {
        notify(`ei: WebGPU unavailable (${reason}); using the wasm backend (bit-identical to the CPU reference). Use --backend webgpu to make this an error.`);
        return { backend: 'wasm', requested, ctx: null, fallbackReason: reason };
      }
      notify(`ei: WebGPU unavailable (${reason}); FALLING BACK to the CPU reference backend (slow). Use --backend webgpu to make this an error.`);
      return { backend: 'cpu', requested, ctx: null, fallbackReason: reason };
    }
    throw e;
  }
}

/** True for the errors that mean "no WebGPU here" (as opposed to a bug or bad input). */
export function isNoGpuError(e: unknown): boolean {
  return e instanceof WebGpuUnavailableError || e instanceof AdapterUnavailableError;
}

/** config.json's adapter record: the WebGPU adapter, or the CPU (running the TypeScript reference or the wasm kernels). */
export function makeAdapterRecord(sel: BackendSelection): unknown {
  return sel.ctx ? { ...sel.ctx.info, notice: sel.ctx.notice } : { vendor: 'cpu', architecture: sel.backend === 'wasm' ? 'wasm' : 'javascript', isSoftware: true, runtime: typeof process !== 'undefined' && process.versions?.node ? 'node' : 'browser' };
}
