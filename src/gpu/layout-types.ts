// Types of the reflected layout tables in shaders.generated.ts.

export interface StructField {
  name: string;
  offset: number;
  /** Scalar type of each component. */
  type: string;
  /** 1 for a scalar, 2..4 for vecN. */
  components: number;
  /** 1 for a plain field, the element count for a fixed-size array. */
  count: number;
  /** Byte size (plain field) or array stride. */
  stride: number;
}

export interface StructLayout {
  name: string;
  size: number;
  align: number;
  fields: StructField[];
}

export interface BindingInfo {
  group: number;
  binding: number;
  name: string;
  kind: string;
  type: string;
}
