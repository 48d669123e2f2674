/**
 * Column schema of an event batch. Physical types follow Arrow's names so that a batch maps
 * one-to-one onto Parquet, DuckDB and the gRPC wire format.
 */
export type DType =
  'bool' | 'int8' | 'int16' | 'int32' | 'int64' | 'uint8' | 'uint16' | 'uint32' | 'float32' | 'float64';

export interface Field {
  name: string;
  type: DType;
  /** Variable-length list column (e.g. jet pT): stored as offsets + flat values. */
  list: boolean;
  nullable: boolean;
}

export type Schema = Field[];

export type TypedArray =
  | Uint8Array
  | Int8Array
  | Int16Array
  | Int32Array
  | BigInt64Array
  | Uint16Array
  | Uint32Array
  | Float32Array
  | Float64Array;

interface TypedArrayClass {
  new (n: number): TypedArray;
  new (buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray;
  BYTES_PER_ELEMENT: number;
}

export const DTYPES = [
  'bool',
  'int8',
  'int16',
  'int32',
  'int64',
  'uint8',
  'uint16',
  'uint32',
  'float32',
  'float64',
] as const satisfies readonly DType[];

const ARRAY_OF: Record<DType, TypedArrayClass> = {
  bool: Uint8Array,
  int8: Int8Array,
  int16: Int16Array,
  int32: Int32Array,
  int64: BigInt64Array,
  uint8: Uint8Array,
  uint16: Uint16Array,
  uint32: Uint32Array,
  float32: Float32Array,
  float64: Float64Array,
};

export function allocate(type: DType, n: number): TypedArray {
  return new ARRAY_OF[type](n);
}

/** A typed-array view of `length` values of `type` over a buffer (byteOffset must be aligned). */
export function viewOf(type: DType, buffer: ArrayBufferLike, byteOffset: number, length: number): TypedArray {
  return new ARRAY_OF[type](buffer, byteOffset, length);
}

export function bytesPerValue(type: DType): number {
  return ARRAY_OF[type].BYTES_PER_ELEMENT;
}

export function sameSchema(a: Schema, b: Schema): boolean {
  return a.length === b.length && a.every((f, i) => describeField(f) === describeField(b[i]));
}

export function describeField(f: Field): string {
  return `${f.name}: ${f.list ? `list<${f.type}>` : f.type}${f.nullable ? '?' : ''}`;
}

/** The first difference between two schemas, in words, or null when they agree. */
export function schemaDifference(a: Schema, b: Schema): string | null {
  const byName = new Map(b.map((f) => [f.name, f]));
  for (const f of a) {
    const g = byName.get(f.name);
    if (!g) return `column '${f.name}' is missing`;
    if (f.type !== g.type || f.list !== g.list)
      return `column '${f.name}' is ${describeField(f)} in one and ${describeField(g)} in the other`;
  }
  const names = new Set(a.map((f) => f.name));
  const extra = b.find((f) => !names.has(f.name));
  return extra ? `column '${extra.name}' is extra` : null;
}
