import type { BatchChunkMsg, BatchMsg, ColumnBuffersMsg, OriginMsg, SchemaMsg } from './messages.js';

/**
 * BatchChunk messages (proto/diffskim/v1/batch.proto) written and read by hand, for speed: the
 * column buffers are copied once into the message and read back as views into the received
 * buffer, instead of going through protobufjs' generic writer and reader. The bytes are plain
 * protobuf that any protobuf library reads as a BatchChunk (tests check it against protobufjs):
 *
 *  - The Batch and ColumnBuffers length prefixes are always 5-byte varints (a value written
 *    with more varint bytes than it needs is still valid protobuf), so that the layout can be
 *    written in one pass.
 *  - Each values and offsets buffer starts at a multiple of 8 bytes from the start of the gRPC
 *    frame (its 5-byte header included), so that a receiver whose frame starts 8-aligned, as
 *    grpc-js's do, reads int64/float64 columns as typed-array views without copying. Padding is
 *    an empty `validity` field written before the buffer (the real validity, written last,
 *    wins: for a field that appears twice, protobuf keeps the last) or one more length byte.
 *  - The schema is small and written by protobufjs (`encodeSchemaOnly`).
 */

/** gRPC's frame header before each message: 1 compression flag byte and a 4-byte length. */
const FRAME_HEADER = 5;
const LEN = 2; // wire type: length-delimited
const VARINT = 0;

const tag = (field: number, wireType: number) => (field << 3) | wireType;

function varintSize(v: number): number {
  let n = 1;
  while (v >= 128) {
    v = Math.floor(v / 128);
    n++;
  }
  return n;
}

class Writer {
  pos = 0;
  constructor(readonly buf: Buffer) {}

  byte(b: number): void {
    this.buf[this.pos++] = b;
  }

  /** A non-negative varint, in at least `minBytes` bytes. */
  varint(v: number, minBytes = 1): void {
    const n = Math.max(varintSize(v), minBytes);
    for (let i = 0; i < n - 1; i++) {
      this.byte((v % 128) | 128);
      v = Math.floor(v / 128);
    }
    this.byte(v);
  }

  /** A signed int32/int64 field value: negatives as 10-byte two's complement. */
  signed(v: number): void {
    if (v >= 0) return this.varint(v);
    let x = BigInt.asUintN(64, BigInt(v));
    for (let i = 0; i < 9; i++) {
      this.byte(Number(x & 127n) | 128);
      x >>= 7n;
    }
    this.byte(Number(x));
  }

  bytes(b: Uint8Array): void {
    this.buf.set(b, this.pos);
    this.pos += b.byteLength;
  }

  /** Starts a length-delimited field whose length is filled in by end(). */
  begin(field: number): number {
    this.byte(tag(field, LEN));
    this.pos += 5;
    return this.pos;
  }

  end(start: number): void {
    const at = this.pos;
    this.pos = start - 5;
    this.varint(at - start, 5);
    this.pos = at;
  }

  /** A bytes field whose data starts 8-aligned in the receiver's frame. */
  alignedBytes(field: number, data: Uint8Array, padField: number): void {
    const lenBytes = varintSize(data.byteLength);
    let pad = (8 - ((FRAME_HEADER + this.pos + 1 + lenBytes) % 8)) % 8;
    // An empty padField takes 2..6 bytes (its tag and a zero in 1..5 varint bytes: protobufjs
    // reads at most 5 for a length); 1 and 7 need one more byte in the data's own length.
    let longer = 0;
    if (pad === 1 || pad === 7) {
      if (lenBytes < 5) {
        longer = 1;
        pad--;
      } else pad = 0; // a buffer of 256 MiB or more (above any message limit): left unaligned
    }
    if (pad > 0) {
      this.byte(tag(padField, LEN));
      this.varint(0, pad - 1);
    }
    this.byte(tag(field, LEN));
    this.varint(data.byteLength, lenBytes + longer);
    this.bytes(data);
  }
}

/** Upper bound of a message's size: the buffers plus a generous allowance per field. */
function sizeBound(batch: BatchMsg, schemaBytes: number): number {
  let n = schemaBytes + 64 + 3 * (batch.origin?.file.length ?? 0);
  for (const c of batch.columns) n += c.values.byteLength + c.offsets.byteLength + c.validity.byteLength + 64;
  return n;
}

/**
 * A BatchChunk's bytes. `encodeSchemaOnly` writes a BatchChunk that holds just a schema (with
 * protobufjs). `scratch` may supply the buffer to write into (reused by the caller once the
 * bytes are copied); without it, a new buffer is allocated.
 */
export function serializeBatchChunk(
  msg: BatchChunkMsg,
  encodeSchemaOnly: (m: { schema: SchemaMsg }) => Buffer,
  scratch?: (bytes: number) => Buffer,
): Buffer {
  const alloc = (bytes: number) => (scratch ? scratch(bytes) : Buffer.allocUnsafe(bytes));
  const schema = msg.schema ? encodeSchemaOnly({ schema: msg.schema }) : Buffer.alloc(0);
  if (msg.arrowIpc?.byteLength) {
    // Aligned as column buffers are, so that an Arrow reader gets the record batch's body buffers
    // (8-aligned within the IPC message) as typed-array views without copying.
    const w = new Writer(alloc(schema.byteLength + 16 + msg.arrowIpc.byteLength));
    w.bytes(schema);
    w.alignedBytes(3, msg.arrowIpc, 3);
    return w.buf.subarray(0, w.pos);
  }
  if (msg.end) {
    // StreamEnd: field 1, the events, a varint.
    const inner = varintSize(msg.end.events) + 1;
    const w = new Writer(alloc(schema.byteLength + 2 + varintSize(inner) + inner));
    w.bytes(schema);
    w.byte(tag(4, LEN));
    w.varint(inner);
    w.byte(tag(1, VARINT));
    w.varint(msg.end.events);
    return w.buf.subarray(0, w.pos);
  }
  if (!msg.batch) return schema;
  const w = new Writer(alloc(sizeBound(msg.batch, schema.byteLength)));
  w.bytes(schema);
  const batch = w.begin(2);
  if (msg.batch.length) {
    w.byte(tag(1, VARINT));
    w.varint(msg.batch.length);
  }
  for (const c of msg.batch.columns) {
    const col = w.begin(2);
    if (c.values.byteLength) w.alignedBytes(1, c.values, 3);
    if (c.offsets.byteLength) w.alignedBytes(2, c.offsets, 3);
    if (c.validity.byteLength) {
      w.byte(tag(3, LEN));
      w.varint(c.validity.byteLength);
      w.bytes(c.validity);
    }
    w.end(col);
  }
  const o = msg.batch.origin;
  if (o) {
    const origin = w.begin(3);
    if (o.file) {
      const file = Buffer.from(o.file, 'utf8');
      w.byte(tag(1, LEN));
      w.varint(file.byteLength);
      w.bytes(file);
    }
    if (o.rowGroup) {
      w.byte(tag(2, VARINT));
      w.signed(o.rowGroup);
    }
    if (o.firstRow) {
      w.byte(tag(3, VARINT));
      w.signed(o.firstRow);
    }
    w.end(origin);
  }
  w.end(batch);
  return w.buf.subarray(0, w.pos);
}

class Reader {
  constructor(
    readonly buf: Buffer,
    public pos: number,
    readonly end: number,
  ) {}

  get done(): boolean {
    return this.pos >= this.end;
  }

  private fail(what: string): never {
    throw new Error(`malformed BatchChunk: ${what} at byte ${this.pos}`);
  }

  /** A varint as a Number; 10-byte negatives (int32/int64 fields) come back negative. */
  varint(): number {
    let value = 0n;
    for (let i = 0n; i < 70n; i += 7n) {
      if (this.pos >= this.end) this.fail('truncated varint');
      const b = this.buf[this.pos++];
      // The common small values without BigInt arithmetic.
      if (i === 0n && b < 128) return b;
      value |= BigInt(b & 127) << i;
      if (b < 128) return Number(BigInt.asIntN(64, value));
    }
    this.fail('varint longer than 10 bytes');
  }

  /** The next field's number and wire type. */
  key(): { field: number; wireType: number } {
    const k = this.varint();
    return { field: Math.floor(k / 8), wireType: k % 8 };
  }

  /** A length-delimited field's extent, checked against the enclosing message. */
  delimited(): { start: number; end: number } {
    const n = this.varint();
    const start = this.pos;
    if (start + n > this.end) this.fail(`field of ${n} bytes past the end of the message`);
    this.pos += n;
    return { start, end: start + n };
  }

  bytes(): Buffer {
    const { start, end } = this.delimited();
    return this.buf.subarray(start, end);
  }

  skip(wireType: number): void {
    if (wireType === VARINT) this.varint();
    else if (wireType === LEN) this.delimited();
    else if (wireType === 1 || wireType === 5) this.pos += wireType === 1 ? 8 : 4;
    else this.fail(`unsupported wire type ${wireType}`);
    if (this.pos > this.end) this.fail('truncated field');
  }
}

const EMPTY = Buffer.alloc(0);

/**
 * A BatchChunk from its bytes (written by serializeBatchChunk or any protobuf library); column
 * buffers are views into `buf`. `decodeSchemaOnly` reads a BatchChunk that holds just a schema.
 */
export function deserializeBatchChunk(buf: Buffer, decodeSchemaOnly: (bytes: Buffer) => BatchChunkMsg): BatchChunkMsg {
  const r = new Reader(buf, 0, buf.byteLength);
  let schema: SchemaMsg | null = null;
  let batch: BatchMsg | null = null;
  let arrowIpc: Buffer = EMPTY;
  let end: { events: number } | null = null;
  while (!r.done) {
    const fieldStart = r.pos;
    const { field, wireType } = r.key();
    if (field === 1 && wireType === LEN) {
      r.delimited();
      schema = decodeSchemaOnly(buf.subarray(fieldStart, r.pos)).schema ?? null;
    } else if (field === 2 && wireType === LEN) {
      const { start, end } = r.delimited();
      batch = readBatch(new Reader(buf, start, end));
    } else if (field === 3 && wireType === LEN) arrowIpc = r.bytes();
    else if (field === 4 && wireType === LEN) {
      const { start, end: stop } = r.delimited();
      end = readStreamEnd(new Reader(buf, start, stop));
    } else r.skip(wireType);
  }
  return { schema, batch, arrowIpc, end };
}

function readBatch(r: Reader): BatchMsg {
  const batch: BatchMsg = { length: 0, columns: [], origin: null };
  while (!r.done) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === VARINT) batch.length = r.varint();
    else if (field === 2 && wireType === LEN) {
      const { start, end } = r.delimited();
      batch.columns.push(readColumn(new Reader(r.buf, start, end)));
    } else if (field === 3 && wireType === LEN) {
      const { start, end } = r.delimited();
      batch.origin = readOrigin(new Reader(r.buf, start, end));
    } else r.skip(wireType);
  }
  return batch;
}

function readColumn(r: Reader): ColumnBuffersMsg {
  const col: ColumnBuffersMsg = { values: EMPTY, offsets: EMPTY, validity: EMPTY };
  while (!r.done) {
    const { field, wireType } = r.key();
    if (wireType === LEN && field === 1) col.values = r.bytes();
    else if (wireType === LEN && field === 2) col.offsets = r.bytes();
    else if (wireType === LEN && field === 3) col.validity = r.bytes();
    else r.skip(wireType);
  }
  return col;
}

function readOrigin(r: Reader): OriginMsg {
  const origin: OriginMsg = { file: '', rowGroup: 0, firstRow: 0 };
  while (!r.done) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === LEN) origin.file = r.bytes().toString('utf8');
    else if (field === 2 && wireType === VARINT) origin.rowGroup = r.varint();
    else if (field === 3 && wireType === VARINT) origin.firstRow = r.varint();
    else r.skip(wireType);
  }
  return origin;
}

function readStreamEnd(r: Reader): { events: number } {
  const end = { events: 0 };
  while (!r.done) {
    const { field, wireType } = r.key();
    if (field === 1 && wireType === VARINT) end.events = r.varint();
    else r.skip(wireType);
  }
  return end;
}
