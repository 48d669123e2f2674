import { allocate, bytesPerValue, type DType, type Field, type Schema, type TypedArray } from './schema.js';

/** A flat column: one value per event; `validity[i] === 0` marks a null. */
export interface FlatColumn {
  kind: 'flat';
  values: TypedArray;
  validity?: Uint8Array;
}

/** A list column: event i owns values[offsets[i] .. offsets[i+1]). */
export interface ListColumn {
  kind: 'list';
  offsets: Int32Array;
  values: TypedArray;
  validity?: Uint8Array;
}

export type Column = FlatColumn | ListColumn;

/** Where a batch came from, so that errors can name the file and row group. */
export interface BatchOrigin {
  file: string;
  rowGroup?: number;
  /** Index of the batch's first event within the file. */
  firstRow?: number;
}

/**
 * A columnar batch of events: a schema plus one typed array per column. Nothing in diffskim
 * makes an object per event.
 */
export interface EventBatch {
  schema: Schema;
  length: number;
  columns: Record<string, Column>;
  origin?: BatchOrigin;
}

export function field(batch: EventBatch, name: string): Field {
  const f = batch.schema.find((x) => x.name === name);
  if (!f)
    throw new Error(`column '${name}' is not in the batch (columns: ${batch.schema.map((x) => x.name).join(', ')})`);
  return f;
}

export function column(batch: EventBatch, name: string): Column {
  const c = batch.columns[name];
  if (!c) field(batch, name);
  return c;
}

/** In-memory bytes of one column (values, offsets and validity). */
export function columnBytes(col: Column): number {
  return col.values.byteLength + (col.kind === 'list' ? col.offsets.byteLength : 0) + (col.validity?.byteLength ?? 0);
}

export function batchBytes(batch: EventBatch): number {
  return Object.values(batch.columns).reduce((s, c) => s + columnBytes(c), 0);
}

/** Values of a flat numeric column as float64 (int64 converted through Number). */
export function flatAsFloat64(batch: EventBatch, name: string): Float64Array {
  const c = column(batch, name);
  if (c.kind !== 'flat')
    throw new Error(`column '${name}' is a list column; use a derived quantity (count, leading element)`);
  if (c.values instanceof Float64Array) return c.values;
  const out = new Float64Array(batch.length);
  const v = c.values;
  if (v instanceof BigInt64Array) for (let i = 0; i < out.length; i++) out[i] = Number(v[i]);
  else out.set(v as ArrayLike<number>);
  return out;
}

function sliceColumn(col: Column, start: number, end: number): Column {
  const validity = col.validity?.slice(start, end);
  if (col.kind === 'flat') return { kind: 'flat', values: col.values.slice(start, end), validity };
  const lo = col.offsets[start];
  const offsets = new Int32Array(end - start + 1);
  for (let i = 0; i < offsets.length; i++) offsets[i] = col.offsets[start + i] - lo;
  return { kind: 'list', offsets, values: col.values.slice(lo, col.offsets[end]), validity };
}

/**
 * The origin of events taken out of batches: their file, when they all come from one. A source
 * batch's rows need not be contiguous in the file (cuts may have dropped some), so the row group
 * and first row of its parts are not known.
 */
function derivedOrigin(batches: EventBatch[]): BatchOrigin | undefined {
  const file = batches[0].origin?.file;
  return file !== undefined && batches.every((b) => b.origin?.file === file) ? { file } : undefined;
}

/** Events [start, end) of a batch, copied. */
export function sliceBatch(batch: EventBatch, start: number, end: number): EventBatch {
  const columns: Record<string, Column> = {};
  for (const f of batch.schema) columns[f.name] = sliceColumn(batch.columns[f.name], start, end);
  const origin = start === 0 ? batch.origin : derivedOrigin([batch]);
  return { schema: batch.schema, length: end - start, columns, ...(origin && { origin }) };
}

/** Indices of the set entries of a mask of which `count` are set, for takeRows. */
export function indicesOf(mask: Uint8Array, count: number): Uint32Array {
  const rows = new Uint32Array(count);
  for (let i = 0, k = 0; i < mask.length; i++) if (mask[i]) rows[k++] = i;
  return rows;
}

/** The events whose indices are listed in `rows`, in that order, copied. */
export function takeRows(batch: EventBatch, rows: Uint32Array): EventBatch {
  const columns: Record<string, Column> = {};
  for (const f of batch.schema) columns[f.name] = takeColumn(f, batch.columns[f.name], rows);
  const origin = derivedOrigin([batch]);
  return { schema: batch.schema, length: rows.length, columns, ...(origin && { origin }) };
}

function takeColumn(f: Field, col: Column, rows: Uint32Array): Column {
  const n = rows.length;
  let validity: Uint8Array | undefined;
  if (col.validity) {
    validity = new Uint8Array(n);
    gather8(col.validity, rows, validity);
  }
  const size = bytesPerValue(f.type);
  if (col.kind === 'flat') {
    const values = allocate(f.type, n);
    if (size === 8) gather32x2(words(col.values), rows, words(values));
    else if (size === 4) gather32(words(col.values), rows, words(values));
    else if (size === 2) gather16(halves(col.values), rows, halves(values));
    else gather8(bytes(col.values), rows, bytes(values));
    return { kind: 'flat', values, validity };
  }
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + col.offsets[rows[i] + 1] - col.offsets[rows[i]];
  const values = allocate(f.type, offsets[n]);
  if (size >= 4) gatherRanges32(words(col.values), col.offsets, rows, words(values), size / 4);
  else gatherRanges8(bytes(col.values), col.offsets, rows, bytes(values), size);
  return { kind: 'list', offsets, values, validity };
}

/*
 * The gathers copy values by their bits through integer views, one loop per value size: each loop
 * then sees one array type (one loop over every type, as a mix of samples' batches holds 5, made
 * V8's element access megamorphic, ~20x slower), and NaN payloads and int64 values pass unchanged. A typed array's offset is a multiple of its value
 * size, so the views are aligned.
 */
const words = (a: TypedArray) => new Int32Array(a.buffer, a.byteOffset, a.byteLength / 4);
const halves = (a: TypedArray) => new Uint16Array(a.buffer, a.byteOffset, a.byteLength / 2);
const bytes = (a: TypedArray) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

function gather32(src: Int32Array, rows: Uint32Array, dst: Int32Array): void {
  for (let i = 0; i < rows.length; i++) dst[i] = src[rows[i]];
}

function gather32x2(src: Int32Array, rows: Uint32Array, dst: Int32Array): void {
  for (let i = 0; i < rows.length; i++) {
    const r = 2 * rows[i];
    dst[2 * i] = src[r];
    dst[2 * i + 1] = src[r + 1];
  }
}

function gather16(src: Uint16Array, rows: Uint32Array, dst: Uint16Array): void {
  for (let i = 0; i < rows.length; i++) dst[i] = src[rows[i]];
}

function gather8(src: Uint8Array, rows: Uint32Array, dst: Uint8Array): void {
  for (let i = 0; i < rows.length; i++) dst[i] = src[rows[i]];
}

/** The values of list entries `rows` one after the other, `per` words a value. */
function gatherRanges32(src: Int32Array, offsets: Int32Array, rows: Uint32Array, dst: Int32Array, per: number): void {
  let at = 0;
  for (let i = 0; i < rows.length; i++) {
    const end = offsets[rows[i] + 1] * per;
    for (let k = offsets[rows[i]] * per; k < end; k++) dst[at++] = src[k];
  }
}

/** gatherRanges32 by bytes, `per` bytes a value (lists of 1- and 2-byte values). */
function gatherRanges8(src: Uint8Array, offsets: Int32Array, rows: Uint32Array, dst: Uint8Array, per: number): void {
  let at = 0;
  for (let i = 0; i < rows.length; i++) {
    const end = offsets[rows[i] + 1] * per;
    for (let k = offsets[rows[i]] * per; k < end; k++) dst[at++] = src[k];
  }
}

/** Events of several batches with the same schema, one after the other. */
export function concatBatches(batches: EventBatch[]): EventBatch {
  if (batches.length === 1) return batches[0];
  const schema = batches[0].schema;
  const lengths = batches.map((b) => b.length);
  const length = lengths.reduce((s, n) => s + n, 0);
  const columns: Record<string, Column> = {};
  for (const f of schema)
    columns[f.name] = concatColumn(
      f,
      batches.map((b) => b.columns[f.name]),
      lengths,
      length,
    );
  const origin = derivedOrigin(batches);
  return { schema, length, columns, ...(origin && { origin }) };
}

/** One column of several batches; each batch's arrays may be longer than its events, and a list's offsets need not start at 0. */
function concatColumn(f: Field, cols: Column[], lengths: number[], length: number): Column {
  const validity = cols.some((c) => c.validity) ? new Uint8Array(length).fill(1) : undefined;
  if (validity) {
    let at = 0;
    cols.forEach((c, k) => {
      if (c.validity) validity.set(c.validity.subarray(0, lengths[k]), at);
      at += lengths[k];
    });
  }
  if (f.list) {
    const lists = cols as ListColumn[];
    const offsets = new Int32Array(length + 1);
    const values = allocate(
      f.type,
      lists.reduce((s, c, k) => s + c.offsets[lengths[k]] - c.offsets[0], 0),
    );
    let row = 0;
    let base = 0;
    lists.forEach((c, k) => {
      const [lo, hi] = [c.offsets[0], c.offsets[lengths[k]]];
      for (let i = 1; i <= lengths[k]; i++) offsets[row + i] = base + c.offsets[i] - lo;
      values.set(c.values.subarray(lo, hi) as never, base);
      row += lengths[k];
      base += hi - lo;
    });
    return { kind: 'list', offsets, values, validity };
  }
  const values = allocate(f.type, length);
  let at = 0;
  cols.forEach((c, k) => {
    values.set(c.values.subarray(0, lengths[k]) as never, at);
    at += lengths[k];
  });
  return { kind: 'flat', values, validity };
}

/** Only the named columns, in the given order. */
export function selectColumns(batch: EventBatch, names: string[]): EventBatch {
  const schema = names.map((n) => field(batch, n));
  return {
    schema,
    length: batch.length,
    columns: Object.fromEntries(names.map((n) => [n, batch.columns[n]])),
    origin: batch.origin,
  };
}

/** A batch built from plain typed arrays (tests, generators). Arrays of arrays become list columns. */
export function makeBatch(
  cols: Record<string, TypedArray | { offsets: Int32Array; values: TypedArray }>,
  types: Record<string, DType>,
): EventBatch {
  const schema: Schema = [];
  const columns: Record<string, Column> = {};
  let length = -1;
  for (const [name, c] of Object.entries(cols)) {
    const list = 'offsets' in c;
    schema.push({ name, type: types[name], list, nullable: false });
    columns[name] = list
      ? { kind: 'list', offsets: c.offsets, values: c.values }
      : { kind: 'flat', values: c as TypedArray };
    const n = list ? c.offsets.length - 1 : (c as TypedArray).length;
    if (length >= 0 && n !== length) throw new Error(`column '${name}' has ${n} events, expected ${length}`);
    length = n;
  }
  return { schema, length: Math.max(length, 0), columns };
}
