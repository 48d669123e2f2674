import { endianness } from 'node:os';
import { batchBytes, type Column, type EventBatch, sliceBatch } from '../../batch/batch.js';
import {
  bytesPerValue,
  DTYPES,
  type DType,
  type Field,
  type Schema,
  type TypedArray,
  viewOf,
} from '../../batch/schema.js';
import type { HardCut } from '../../selection/cutsFile.js';
import type { BatchMsg, ColumnBuffersMsg, FieldMsg, HardCutMsg, SchemaMsg, WireDType } from './messages.js';

// Columns go on the wire as their in-memory bytes, which are little-endian only on a
// little-endian host (every platform Node runs on in practice).
if (endianness() !== 'LE') throw new Error('diffskim gRPC codec: big-endian hosts are not supported');

export function encodeSchema(schema: Schema): SchemaMsg {
  return {
    fields: schema.map((f) => ({
      name: f.name,
      type: f.type.toUpperCase() as WireDType,
      list: f.list,
      nullable: f.nullable,
    })),
  };
}

export function decodeSchema(msg: SchemaMsg): Schema {
  const names = new Set<string>();
  return msg.fields.map((f: FieldMsg): Field => {
    // A batch's columns are keyed by name: a second field of one name would hide the first.
    if (names.has(f.name)) throw new Error(`column '${f.name}' appears twice in the schema`);
    names.add(f.name);
    const type = String(f.type).toLowerCase() as DType;
    if (!(DTYPES as readonly string[]).includes(type)) throw new Error(`column '${f.name}': unknown type ${f.type}`);
    return { name: f.name, type, list: f.list, nullable: f.nullable };
  });
}

/** Byte-per-event flags (non-zero = set) to an Arrow bitmap, least significant bit first. */
export function packBits(flags: Uint8Array, n = flags.length): Uint8Array {
  const out = new Uint8Array(Math.ceil(n / 8));
  // Eight flags per output byte, unrolled: 2-3x the speed of a loop over bits. Only over flags
  // that exist: past the end of `flags` (n larger), the bit-by-bit tail leaves bits unset.
  const whole = Math.min(n, flags.length) >> 3;
  for (let j = 0, i = 0; j < whole; j++, i += 8)
    out[j] =
      (flags[i] !== 0 ? 1 : 0) |
      (flags[i + 1] !== 0 ? 2 : 0) |
      (flags[i + 2] !== 0 ? 4 : 0) |
      (flags[i + 3] !== 0 ? 8 : 0) |
      (flags[i + 4] !== 0 ? 16 : 0) |
      (flags[i + 5] !== 0 ? 32 : 0) |
      (flags[i + 6] !== 0 ? 64 : 0) |
      (flags[i + 7] !== 0 ? 128 : 0);
  for (let i = whole << 3; i < n; i++) if (flags[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

/** An Arrow bitmap to byte-per-event flags (0 or 1). */
export function unpackBits(bits: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  const whole = n >> 3;
  for (let j = 0, i = 0; j < whole; j++, i += 8) {
    const b = bits[j];
    if (b === 0) continue;
    out[i] = b & 1;
    out[i + 1] = (b >> 1) & 1;
    out[i + 2] = (b >> 2) & 1;
    out[i + 3] = (b >> 3) & 1;
    out[i + 4] = (b >> 4) & 1;
    out[i + 5] = (b >> 5) & 1;
    out[i + 6] = (b >> 6) & 1;
    out[i + 7] = b >> 7;
  }
  for (let i = whole << 3; i < n; i++) out[i] = (bits[i >> 3] >> (i & 7)) & 1;
  return out;
}

function bytesOf(a: TypedArray): Uint8Array {
  return new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
}

const EMPTY = new Uint8Array(0);

function encodeValues(f: Field, values: TypedArray): Uint8Array {
  return f.type === 'bool' ? packBits(values as Uint8Array) : bytesOf(values);
}

function encodeColumn(f: Field, col: Column, n: number): ColumnBuffersMsg {
  const validity = col.validity && col.validity.subarray(0, n).includes(0) ? packBits(col.validity, n) : EMPTY;
  if (col.kind === 'flat') return { values: encodeValues(f, col.values.subarray(0, n)), offsets: EMPTY, validity };
  // Arrow allows offsets not starting at 0, but a reader is simpler when they do.
  let { offsets, values } = col;
  if (offsets[0] !== 0) {
    const base = offsets[0];
    offsets = offsets.map((o) => o - base);
    values = values.subarray(base, base + offsets[n]);
  }
  return {
    values: encodeValues(f, values.subarray(0, offsets[n])),
    offsets: bytesOf(offsets.subarray(0, n + 1)),
    validity,
  };
}

/** A batch as a wire message (buffers are views of the batch's arrays where possible). */
export function encodeBatch(batch: EventBatch): BatchMsg {
  const columns = batch.schema.map((f) => {
    const col = batch.columns[f.name];
    if (!col) throw new Error(`column '${f.name}' is in the schema but not in the batch`);
    return encodeColumn(f, col, batch.length);
  });
  const o = batch.origin;
  return {
    length: batch.length,
    columns,
    origin: o ? { file: o.file, rowGroup: o.rowGroup ?? -1, firstRow: o.firstRow ?? -1 } : null,
  };
}

/** A typed array over wire bytes: a view when aligned, else a copy. */
function typedView(type: DType, bytes: Uint8Array, count: number): TypedArray {
  const size = bytesPerValue(type);
  if (bytes.byteOffset % size === 0) return viewOf(type, bytes.buffer, bytes.byteOffset, count);
  const copy = new Uint8Array(count * size);
  copy.set(bytes.subarray(0, count * size));
  return viewOf(type, copy.buffer, 0, count);
}

function decodeValues(f: Field, bytes: Uint8Array, count: number): TypedArray {
  if (f.type === 'bool') {
    if (bytes.byteLength !== Math.ceil(count / 8))
      throw new Error(`column '${f.name}': ${bytes.byteLength} bytes of bool bits for ${count} values`);
    return unpackBits(bytes, count);
  }
  const need = count * bytesPerValue(f.type);
  if (bytes.byteLength !== need)
    throw new Error(
      `column '${f.name}': values buffer has ${bytes.byteLength} bytes, expected ${need} (${count} × ${f.type})`,
    );
  return typedView(f.type, bytes, count);
}

function decodeColumn(f: Field, msg: ColumnBuffersMsg, n: number): Column {
  if (msg.validity.byteLength > 0) {
    if (!f.nullable) throw new Error(`column '${f.name}' is not nullable but has a validity bitmap`);
    if (msg.validity.byteLength < Math.ceil(n / 8))
      throw new Error(`column '${f.name}': validity bitmap of ${msg.validity.byteLength} bytes for ${n} events`);
  }
  // The buffers' sizes are checked against the event count before the bitmap is unpacked, so
  // that a message claiming more events than it carries costs nothing.
  const validity = () => (msg.validity.byteLength > 0 ? unpackBits(msg.validity, n) : undefined);
  if (!f.list) {
    const values = decodeValues(f, msg.values, n);
    return { kind: 'flat', values, validity: validity() };
  }
  if (msg.offsets.byteLength !== 4 * (n + 1))
    throw new Error(`column '${f.name}': offsets buffer has ${msg.offsets.byteLength} bytes, expected ${4 * (n + 1)}`);
  const offsets = typedView('int32', msg.offsets, n + 1) as Int32Array;
  if (offsets[0] !== 0) throw new Error(`column '${f.name}': offsets must start at 0`);
  for (let i = 0; i < n; i++)
    if (offsets[i + 1] < offsets[i]) throw new Error(`column '${f.name}': offsets decrease at event ${i}`);
  return { kind: 'list', offsets, values: decodeValues(f, msg.values, offsets[n]), validity: validity() };
}

/** A wire message back to a batch; checks every buffer's size against the schema. */
export function decodeBatch(schema: Schema, msg: BatchMsg): EventBatch {
  if (msg.columns.length !== schema.length)
    throw new Error(`batch has ${msg.columns.length} columns, schema has ${schema.length}`);
  const n = msg.length;
  const columns: Record<string, Column> = {};
  schema.forEach((f, i) => (columns[f.name] = decodeColumn(f, msg.columns[i], n)));
  const o = msg.origin;
  const origin =
    o && o.file
      ? {
          file: o.file,
          ...(o.rowGroup >= 0 && { rowGroup: o.rowGroup }),
          ...(o.firstRow >= 0 && { firstRow: o.firstRow }),
        }
      : undefined;
  return { schema, length: n, columns, ...(origin && { origin }) };
}

/**
 * Bytes a BatchChunk of this batch needs besides its buffers' contents, at most: the schema (sent
 * with the first batch), the origin's file name and each buffer's protobuf framing.
 */
export function messageOverhead(schema: Schema, originFile = ''): number {
  const perColumn = schema.reduce((s, f) => s + Buffer.byteLength(f.name) + 48, 0);
  return 64 + perColumn + Buffer.byteLength(originFile);
}

/**
 * Events per batch (at most `maxRows`) whose buffers fit in `roomBytes`: from each field's bytes
 * per event in memory, a list's from its mean length (`meanLength`), with a tenth to spare for
 * batches whose lists run longer (splitForWire splits the ones that still do not fit).
 */
export function rowsPerMessage(
  schema: Schema,
  meanLength: (name: string) => number,
  roomBytes: number,
  maxRows: number,
): number {
  const values = (f: Field) => (f.list ? 4 + meanLength(f.name) * bytesPerValue(f.type) : bytesPerValue(f.type));
  const perEvent = schema.reduce((s, f) => s + values(f) + (f.nullable ? 1 : 0), 0);
  return Math.max(1, Math.min(maxRows, Math.floor((0.9 * roomBytes) / Math.max(perEvent, 1))));
}

/**
 * Splits a batch into consecutive pieces of at most `maxBytes` in memory (one event may exceed
 * it). A later piece's origin keeps the file; its first row is known only when the batch's rows
 * are `contiguous` in the file (no cuts dropped any), and its row group not at all.
 */
export function splitForWire(batch: EventBatch, maxBytes: number, contiguous: boolean): EventBatch[] {
  if (batch.length <= 1 || batchBytes(batch) <= maxBytes) return [batch];
  const half = batch.length >> 1;
  const second = sliceBatch(batch, half, batch.length);
  const o = batch.origin;
  if (o)
    second.origin = { file: o.file, ...(contiguous && o.firstRow !== undefined && { firstRow: o.firstRow + half }) };
  return [
    ...splitForWire(sliceBatch(batch, 0, half), maxBytes, contiguous),
    ...splitForWire(second, maxBytes, contiguous),
  ];
}

/** A cuts.json cut as a wire cut (the server decodes it with grpc/cuts.ts). */
export function encodeCut(cut: HardCut): HardCutMsg {
  if (cut.op === 'between') return { column: cut.column, op: 'BETWEEN', low: cut.low, high: cut.high };
  return { column: cut.column, op: WIRE_OP[cut.op], value: cut.value };
}

/** The wire name of each threshold op (the server's grpc/cuts.ts reads them back). */
export const WIRE_OP = {
  '>': 'GREATER',
  '<': 'LESS',
  '>=': 'GREATER_EQUAL',
  '<=': 'LESS_EQUAL',
  '==': 'EQUAL',
} as const;
