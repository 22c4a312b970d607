// The run and time limits of `ei run` before and after the backend is chosen, and the note of a lowered default dt.
import { checkRunLimits, type RunEstimate } from '../core/limits.ts';
import type { GpuContext } from '../gpu/context.ts';

/** Before the backend is chosen: memory, and a refusal when even the fastest possible backend would take too long. */
export function checkBeforeSession(e: RunEstimate, f: { backend: string; adapter: string }): void {
  checkRunLimits(e, { backend: f.backend as 'auto', adapter: f.adapter });
}

/** Once the backend is chosen: device limits and the time estimate, printed first when the run is long. */
export function checkInSession(e: RunEstimate, sel: { backend: 'cpu' | 'webgpu' | 'wasm'; ctx: GpuContext | null }): void {
  checkRunLimits(e, { backend: sel.backend, ctx: sel.ctx }, (m) => console.error(m));
}

/** Prints the notice of a lowered default dt (also recorded in config.json as dtAdjusted). */
export function noteDtAdjusted(adj: { note: string } | null): void {
  if (adj) console.error(`ei: note: ${adj.note}`);
}
