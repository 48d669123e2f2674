import type { DuckDBDataChunk, DuckDBVector } from '@duckdb/node-api';
import type { Column, EventBatch } from '../batch/batch.js';
import { allocate, type Field, type Schema, type TypedArray } from '../batch/schema.js';

/**
 * The parts of a DuckDB result vector we copy from. node-api keeps them private, but they are
 * plain views into DuckDB's memory (valid until the next fetchChunk), so we read them directly
 * instead of converting value by value.
 */
interface RawVector {
  items?: TypedArray;
  dataView?: DataView;
  validity: { data: BigUint64Array | null };
  entryData?: BigUint64Array;
  childData?: RawVector;
}

const raw = (v: DuckDBVector): RawVector => v as unknown as RawVector;

/** Bytes of the vector's values for rows [start, end) (booleans are one byte each). */
function valuesOf(v: RawVector, start: number, end: number): TypedArray {
  if (v.items) return v.items.subarray(start, end);
  if (v.dataView) return new Uint8Array(v.dataView.buffer, v.dataView.byteOffset + start, end - start);
  throw new Error('unsupported vector type');
}

/** Validity bit of each row in [start, end), or null when all are valid. */
function nullsIn(v: RawVector, start: number, end: number): Uint8Array | null {
  const bits = v.validity.data;
  if (!bits) return null;
  const bytes = new Uint8Array(bits.buffer, bits.byteOffset, bits.byteLength);
  let out: Uint8Array | null = null;
  for (let i = start; i < end; i++) {
    if ((bytes[i >> 3] >> (i & 7)) & 1) continue;
    out ??= new Uint8Array(end - start).fill(1);
    out[i - start] = 0;
  }
  return out;
}

/** A null's value slot: NaN for floats (so it fails every cut even if the validity is lost), else 0. */
function blank(values: TypedArray): number | bigint {
  if (values instanceof Float32Array || values instanceof Float64Array) return NaN;
  return values instanceof BigInt64Array ? 0n : 0;
}

class ColumnBuilder {
  private values: TypedArray;
  private offsets?: Int32Array;
  private validity?: Uint8Array;

  /** `reuse`: take() hands out views of this builder's arrays, which it fills again afterwards. */
  constructor(
    private readonly field: Field,
    private readonly capacity: number,
    private readonly reuse: boolean,
  ) {
    this.values = allocate(field.type, field.list ? Math.max(16, capacity) : capacity);
    if (field.list) this.offsets = new Int32Array(capacity + 1);
  }

  append(vec: DuckDBVector, start: number, end: number, at: number): void {
    const v = raw(vec);
    const nulls = nullsIn(v, start, end);
    if (nulls) {
      this.validity ??= new Uint8Array(this.capacity).fill(1);
      this.validity.set(nulls, at);
    }
    if (!this.field.list) {
      this.values.set(valuesOf(v, start, end) as never, at);
      if (nulls) for (let i = 0; i < nulls.length; i++) if (!nulls[i]) this.values[at + i] = blank(this.values) as never;
      return;
    }
    this.appendLists(v, start, end, at, nulls);
  }

  /** List rows: entryData holds (offset, length) pairs into the flat child vector. */
  private appendLists(v: RawVector, start: number, end: number, at: number, nulls: Uint8Array | null): void {
    const offsets = this.offsets!;
    const entries = new Uint32Array(v.entryData!.buffer, v.entryData!.byteOffset, v.entryData!.length * 2);
    const child = v.childData!;
    for (let i = start; i < end; i++) {
      const len = nulls && !nulls[i - start] ? 0 : entries[4 * i + 2];
      offsets[at + i - start + 1] = offsets[at + i - start] + len;
    }
    this.reserve(offsets[at + end - start]);
    let out = offsets[at];
    for (let i = start; i < end; ) {
      // Copy runs of rows whose entries are adjacent in the child vector in one go.
      const from = entries[4 * i];
      let to = from;
      let j = i;
      while (j < end && entries[4 * j] === to && !(nulls && !nulls[j - start])) to += entries[4 * j++ + 2];
      if (j === i) {
        j = i + 1; // a null list: nothing to copy
        i = j;
        continue;
      }
      this.values.set(valuesOf(child, from, to) as never, out);
      const elementNulls = nullsIn(child, from, to);
      // diffskim has no per-element validity: a null element becomes NaN (or 0 for integers).
      if (elementNulls) for (let k = 0; k < elementNulls.length; k++) if (!elementNulls[k]) this.values[out + k] = blank(this.values) as never;
      out += to - from;
      i = j;
    }
  }

  private reserve(n: number): void {
    if (n <= this.values.length) return;
    const bigger = allocate(this.field.type, Math.max(n, this.values.length * 2));
    bigger.set(this.values as never);
    this.values = bigger;
  }

  /** The filled column, copied to its exact size (with `reuse`, views), and a reset builder. */
  take(length: number): Column {
    const validity = this.validity?.slice(0, length);
    this.validity = undefined;
    if (this.reuse) {
      if (!this.field.list) return { kind: 'flat', values: this.values.subarray(0, length), validity };
      const offsets = this.offsets!.subarray(0, length + 1);
      return { kind: 'list', offsets, values: this.values.subarray(0, offsets[length]), validity };
    }
    if (!this.field.list) {
      // A full batch hands its array over instead of copying it.
      const values = length === this.capacity ? this.values : this.values.slice(0, length);
      if (length === this.capacity) this.values = allocate(this.field.type, this.capacity);
      return { kind: 'flat', values, validity };
    }
    const offsets = this.offsets!.slice(0, length + 1);
    return { kind: 'list', offsets, values: this.values.slice(0, offsets[length]), validity };
  }
}

/**
 * Accumulates DuckDB data chunks into EventBatches of at most `capacity` events. With `reuse`
 * = k > 0 (ReadOptions.reuseArrays) it fills k sets of arrays in turn and hands out views of
 * them, so batch i's arrays are refilled by batch i + k; otherwise each batch gets arrays of its own.
 */
export class BatchBuilder {
  private readonly sets: ColumnBuilder[][];
  private columns: ColumnBuilder[];
  private taken = 0;
  length = 0;

  constructor(
    readonly schema: Schema,
    readonly capacity: number,
    reuse = 0,
  ) {
    this.sets = Array.from({ length: Math.max(1, reuse) }, () => schema.map((f) => new ColumnBuilder(f, capacity, reuse > 0)));
    this.columns = this.sets[0];
  }

  /** Copy rows [start, end) of the chunk; vector i of the chunk is column i of the schema. */
  append(chunk: DuckDBDataChunk, start: number, end: number): void {
    for (let c = 0; c < this.columns.length; c++) this.columns[c].append(chunk.getColumnVector(c), start, end, this.length);
    this.length += end - start;
  }

  take(): EventBatch {
    const columns: Record<string, Column> = {};
    this.schema.forEach((f, i) => (columns[f.name] = this.columns[i].take(this.length)));
    const batch: EventBatch = { schema: this.schema, length: this.length, columns };
    this.length = 0;
    this.columns = this.sets[++this.taken % this.sets.length];
    return batch;
  }
}
