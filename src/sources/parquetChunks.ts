import type { DuckDBDataChunk, DuckDBResult } from '@duckdb/node-api';
import duckdb from '@duckdb/node-bindings';
import type { Column, EventBatch } from '../batch/batch.js';
import {
  allocate,
  bytesPerValue,
  type DType,
  type Field,
  type Schema,
  type TypedArray,
  viewOf,
} from '../batch/schema.js';
import { duckTypeOf } from './parquetDuckdb.js';
import { FileError } from './inputError.js';

/**
 * One column of a fetched chunk, copied out of DuckDB with its C API (@duckdb/node-bindings):
 * the values, the validity bitmap (bit i of byte i >> 3, least significant first; null when all
 * are valid), and for lists the (offset, length) entries into a child vector. node-api's vector
 * objects would give the same bytes, but building them for every 2048-row chunk cost more than
 * the copy itself.
 */
interface ChunkVector {
  /** Flat vectors only. */
  values?: TypedArray;
  validity: Uint8Array | null;
  /** List rows: 32-bit words of (offset, length) uint64 pairs, offset at 4i, length at 4i + 2. */
  entries?: Uint32Array;
  child?: ChunkVector;
}

function readVector(vector: duckdb.Vector, type: DType, list: boolean, rows: number): ChunkVector {
  const validity = duckdb.vector_get_validity(vector, Math.ceil(rows / 64) * 8);
  if (list) {
    const e = duckdb.vector_get_data(vector, rows * 16);
    const child = duckdb.list_vector_get_child(vector);
    const size = duckdb.list_vector_get_size(vector);
    const entries = new Uint32Array(e.buffer, e.byteOffset, rows * 4);
    return { validity, entries, child: readVector(child, type, false, size) };
  }
  const bytes = duckdb.vector_get_data(vector, rows * bytesPerValue(type));
  return { values: viewOf(type, bytes.buffer, bytes.byteOffset, rows), validity };
}

/** Every column of a chunk, as the schema's types (checked against the result by checkResultTypes). */
export function readChunk(chunk: DuckDBDataChunk, schema: Schema): ChunkVector[] {
  return schema.map((f, c) => readVector(duckdb.data_chunk_get_vector(chunk.chunk, c), f.type, f.list, chunk.rowCount));
}

/** The result's columns must have the schema's types: the chunks are read as raw bytes of those. */
export function checkResultTypes(result: DuckDBResult, schema: Schema, file: string): void {
  schema.forEach((f, c) => {
    const expected = duckTypeOf(f.type) + (f.list ? '[]' : '');
    const got = String(result.columnType(c));
    if (got !== expected)
      throw new FileError(`${file}: column '${f.name}' came back from DuckDB as ${got}, expected ${expected}`);
  });
}

/** Validity of each row in [start, end) as one byte per row, or null when all are valid. */
function nullsIn(bits: Uint8Array | null, start: number, end: number): Uint8Array | null {
  if (!bits) return null;
  let out: Uint8Array | null = null;
  for (let i = start; i < end;) {
    // Whole bytes of valid rows are skipped 8 at a time.
    if ((i & 7) === 0 && i + 8 <= end && bits[i >> 3] === 255) i += 8;
    else {
      if (!((bits[i >> 3] >> (i & 7)) & 1)) (out ??= new Uint8Array(end - start).fill(1))[i - start] = 0;
      i++;
    }
  }
  return out;
}

/** A null's value slot: NaN for floats (so it fails every cut even if the validity is lost), else 0. */
function blank(values: TypedArray): number | bigint {
  if (values instanceof Float32Array || values instanceof Float64Array) return NaN;
  return values instanceof BigInt64Array ? 0n : 0;
}

/** A null element inside a list, where the reader was asked to refuse one (ReadOptions.nullListElements). */
export class NullListElementError extends Error {
  constructor(
    readonly column: string,
    /** Row of the chunk the list belongs to. */
    readonly chunkRow: number,
  ) {
    super(`column '${column}' holds a null element inside a list`);
  }
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
    /** A null list element is an error (NullListElementError) instead of NaN or 0. */
    private readonly strictLists: boolean,
  ) {
    this.values = allocate(field.type, field.list ? Math.max(16, capacity) : capacity);
    if (field.list) this.offsets = new Int32Array(capacity + 1);
  }

  append(v: ChunkVector, start: number, end: number, at: number): void {
    const nulls = nullsIn(v.validity, start, end);
    if (nulls) {
      this.validity ??= new Uint8Array(this.capacity).fill(1);
      this.validity.set(nulls, at);
    }
    if (!this.field.list) {
      this.values.set(v.values!.subarray(start, end) as never, at);
      if (nulls)
        for (let i = 0; i < nulls.length; i++) if (!nulls[i]) this.values[at + i] = blank(this.values) as never;
      return;
    }
    this.appendLists(v, start, end, at, nulls);
  }

  /** List rows: entryData holds (offset, length) pairs into the flat child vector. */
  private appendLists(v: ChunkVector, start: number, end: number, at: number, nulls: Uint8Array | null): void {
    const offsets = this.offsets!;
    const entries = v.entries!;
    const child = v.child!;
    for (let i = start; i < end; i++) {
      const len = nulls && !nulls[i - start] ? 0 : entries[4 * i + 2];
      offsets[at + i - start + 1] = offsets[at + i - start] + len;
    }
    this.reserve(offsets[at + end - start]);
    let out = offsets[at];
    for (let i = start; i < end;) {
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
      this.values.set(child.values!.subarray(from, to) as never, out);
      const elementNulls = nullsIn(child.validity, from, to);
      // diffskim has no per-element validity: a null element becomes NaN (or 0 for integers).
      if (elementNulls && this.strictLists) {
        const element = from + elementNulls.indexOf(0);
        let row = i;
        while (entries[4 * row] + entries[4 * row + 2] <= element) row++;
        throw new NullListElementError(this.field.name, row);
      }
      if (elementNulls)
        for (let k = 0; k < elementNulls.length; k++)
          if (!elementNulls[k]) this.values[out + k] = blank(this.values) as never;
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
    /** Where a null list element is an error: every column (true), none, or those named. */
    strictLists: boolean | string[] = false,
  ) {
    const strict = (f: Field) => strictLists === true || (Array.isArray(strictLists) && strictLists.includes(f.name));
    const columns = () => schema.map((f) => new ColumnBuilder(f, capacity, reuse > 0, strict(f)));
    this.sets = Array.from({ length: Math.max(1, reuse) }, columns);
    this.columns = this.sets[0];
  }

  /** Copy rows [start, end) of a chunk read by readChunk with this schema. */
  append(vectors: ChunkVector[], start: number, end: number): void {
    for (let c = 0; c < this.columns.length; c++) this.columns[c].append(vectors[c], start, end, this.length);
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
