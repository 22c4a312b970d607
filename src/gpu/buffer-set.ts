// A set of labelled GPU buffers created for one owner and released together (also when setup fails half-way).
import type { GpuContext } from './context.ts';

export interface BufferSet {
  /** Creates a buffer labelled `<owner>.<label>`, size rounded up to 4 bytes (16 at least). */
  create(label: string, size: number, usage: number): Promise<GPUBuffer>;
  readonly buffers: readonly GPUBuffer[];
  /** Destroys every buffer of the set; safe to call twice. */
  release(): void;
}

export function createBufferSet(ctx: GpuContext, owner: string): BufferSet {
  const buffers: GPUBuffer[] = [];
  return {
    buffers,
    async create(label, size, usage) {
      const b = await ctx.createBuffer({ label: `${owner}.${label}`, size: Math.max(16, Math.ceil(size / 4) * 4), usage });
      buffers.push(b);
      return b;
    },
    release() {
      if (ctx.isDisposed) return;
      for (const b of buffers.splice(0)) ctx.release(b);
    },
  };
}
