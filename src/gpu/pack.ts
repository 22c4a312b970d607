// Pure packers driven by reflected WGSL struct layouts (no hand-counted offsets anywhere).
import { ParameterError } from '../errors.ts';
import { structLayouts, type StructTypes } from './shaders.generated.ts';
import type { StructLayout } from './layout-types.ts';

export type StructName = keyof StructTypes;

export function structLayout<N extends StructName>(name: N): StructLayout {
  return structLayouts[name] as StructLayout;
}

function writeScalar(view: DataView, offset: number, type: string, v: number, where: string): void {
  if (!Number.isFinite(v)) throw new ParameterError(where, `value ${v} is not finite`, 'pass a finite number');
  if (type === 'f32') view.setFloat32(offset, v, true);
  else if (type === 'u32') {
    if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new ParameterError(where, `${v} is not a u32`, 'pass an integer in [0, 2^32)');
    view.setUint32(offset, v, true);
  } else if (type === 'i32') {
    if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new ParameterError(where, `${v} is not an i32`, 'pass an integer in [-2^31, 2^31)');
    view.setInt32(offset, v, true);
  } else throw new Error(`unsupported scalar type ${type}`);
}

/** Writes `values` into `view` at `base` following `layout`; every field must be given, and no others. */
export function writeStruct(layout: StructLayout, values: Record<string, unknown>, view: DataView, base = 0): void {
  const known = new Set(layout.fields.map((f) => f.name));
  for (const k of Object.keys(values)) {
    if (!known.has(k)) throw new ParameterError(`${layout.name}.${k}`, 'is not a field of the WGSL struct', `valid fields: ${[...known].join(', ')}`);
  }
  for (const f of layout.fields) {
    const v = values[f.name];
    const where = `${layout.name}.${f.name}`;
    if (v === undefined) throw new ParameterError(where, 'is missing', 'give every field of the struct');
    const n = f.components * f.count;
    if (n === 1) {
      writeScalar(view, base + f.offset, f.type, v as number, where);
      continue;
    }
    const arr = v as ArrayLike<number>;
    if (typeof arr !== 'object' || arr.length !== n) throw new ParameterError(where, `needs ${n} components`, `pass an array of length ${n}`);
    // vecN components are 4 bytes apart; array elements are `stride` apart.
    for (let e = 0; e < f.count; e++) {
      for (let c = 0; c < f.components; c++) {
        writeScalar(view, base + f.offset + e * (f.count > 1 ? f.stride : 0) + 4 * c, f.type, arr[e * f.components + c], where);
      }
    }
  }
}

/** Packs one struct into a fresh ArrayBuffer of the reflected size. */
export function packStruct<N extends StructName>(name: N, values: StructTypes[N]): ArrayBuffer {
  const layout = structLayout(name);
  const buf = new ArrayBuffer(layout.size);
  writeStruct(layout, values as unknown as Record<string, unknown>, new DataView(buf));
  return buf;
}

/** Packs an array of structs (element stride = struct size rounded to its alignment). */
export function packStructArray<N extends StructName>(name: N, items: readonly StructTypes[N][]): ArrayBuffer {
  const layout = structLayout(name);
  const stride = structStride(layout);
  const buf = new ArrayBuffer(stride * Math.max(1, items.length));
  const view = new DataView(buf);
  items.forEach((it, i) => writeStruct(layout, it as unknown as Record<string, unknown>, view, i * stride));
  return buf;
}

export function structStride(layout: StructLayout): number {
  return Math.ceil(layout.size / layout.align) * layout.align;
}

/** Reads one struct back as its generated type (the layout and the type come from the same WGSL struct). */
export function readStruct<N extends StructName>(name: N, view: DataView, base = 0): StructTypes[N] {
  return unpackStruct(structLayout(name), view, base) as unknown as StructTypes[N];
}

/** Reads one struct back (tests and readback of parameter echoes). */
export function unpackStruct(layout: StructLayout, view: DataView, base = 0): Record<string, number | number[]> {
  const out: Record<string, number | number[]> = {};
  for (const f of layout.fields) {
    const read = (o: number) => (f.type === 'f32' ? view.getFloat32(o, true) : f.type === 'u32' ? view.getUint32(o, true) : view.getInt32(o, true));
    const n = f.components * f.count;
    if (n === 1) out[f.name] = read(base + f.offset);
    else {
      const arr: number[] = [];
      for (let e = 0; e < f.count; e++) for (let c = 0; c < f.components; c++) arr.push(read(base + f.offset + e * (f.count > 1 ? f.stride : 0) + 4 * c));
      out[f.name] = arr;
    }
  }
  return out;
}
