// Pure packing of the per-step StepUniforms slots (shaders/engine/record.wgsl) that step kernels read through a dynamic offset.

export interface StepSlot {
  /** Slot index: its byte offset is at * slotStride. */
  at: number;
  step: number;
  /** Record row within the chunk. */
  row: number;
  traceRow?: number;
}

/** One slotStride-sized slot per entry, up to the largest `at`; fields in StepUniforms order (step, row, traceRow, pad). */
export function packStepSlots(slots: readonly StepSlot[], slotStride: number): Uint32Array<ArrayBuffer> {
  const words = slotStride / 4;
  const maxAt = slots.reduce((m, s) => Math.max(m, s.at), 0);
  const data = new Uint32Array((maxAt + 1) * words);
  for (const s of slots) {
    data[s.at * words] = s.step;
    data[s.at * words + 1] = s.row;
    data[s.at * words + 2] = s.traceRow ?? 0;
  }
  return data;
}
