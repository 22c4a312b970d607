// How many neurons one thread of a per-neuron step kernel updates, and the workgroup size those kernels use.

/** Workgroup size of the per-neuron step kernels (the WGSL `workgroupSize` override). */
export const stepWorkgroupSize = 64;

/**
 * Neurons each thread updates. Software adapters pay per barrier round per thread, so they get more
 * neurons per thread; hardware GPUs want threads for latency hiding. Override with EI_NEURONS_PER_THREAD.
 */
export function makeNeuronsPerThread(isSoftware: boolean, env: Record<string, string | undefined> = typeof process !== 'undefined' ? process.env : {}): number {
  const forced = Number(env.EI_NEURONS_PER_THREAD);
  if (Number.isInteger(forced) && forced >= 1 && forced <= 1024) return forced;
  return isSoftware ? 32 : 4;
}
