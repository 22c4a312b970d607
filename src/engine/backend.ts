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

/**
 * auto: WebGPU if any adapter (hardware or SwiftShader) answers, else the CPU reference with a notice on stderr.
 * `cpuBeatsSoftware` (a reason, e.g. measured speeds): with auto and a software adapter, use the CPU reference instead,
 * saying so; --backend webgpu still runs on the software adapter.
 * `wasm` (the model has wasm kernels): auto prefers a hardware GPU, then wasm; SwiftShader, a correctness tool, only
 * when asked for with --backend webgpu.
 */
export async function selectBackend(requested: 'auto' | Backend, adapter: AdapterChoice, notify: (m: string) => void, cpuBeatsSoftware?: string, wasm = false): Promise<BackendSelection> {
  if (requested === 'cpu' || requested === 'wasm') return { backend: requested, requested, ctx: null, fallbackReason: null };
  try {
    const ctx = await createGpuContext({ adapter, notify });
    if (requested === 'auto' && wasm && ctx.info.isSoftware) {
      ctx.dispose();
      notify('ei: the adapter is a software one (SwiftShader, correct but slow); using the wasm backend (bit-identical to the CPU reference, and faster). Use --backend webgpu to run on the software adapter anyway.');
      return { backend: 'wasm', requested, ctx: null, fallbackReason: 'software adapter: the wasm backend is faster than SwiftShader' };
    }
    if (requested === 'auto' && cpuBeatsSoftware && ctx.info.isSoftware) {
      ctx.dispose();
      const reason = `software adapter: ${cpuBeatsSoftware}`;
      notify(`ei: the adapter is a software one and ${cpuBeatsSoftware}; using the CPU reference backend. Use --backend webgpu to run on the software adapter anyway.`);
      return { backend: 'cpu', requested, ctx: null, fallbackReason: reason };
    }
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
