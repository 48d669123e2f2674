import { describe, expect, it } from 'vitest';
import { concatBatches, makeBatch } from '../../src/batch/batch.js';
import {
  decodeBatch,
  decodeSchema,
  encodeBatch,
  encodeSchema,
  packBits,
  splitForWire,
  unpackBits,
} from '../../src/sources/grpc/codec.js';
import { services } from '../../src/sources/grpc/protos.js';
import type { BatchChunkMsg, SchemaMsg } from '../../src/sources/grpc/messages.js';
import { deserializeBatchChunk, serializeBatchChunk } from '../../src/sources/grpc/wire.js';
import { rowsOf, testBatch } from './helpers.js';

/** Copies each buffer to a fresh, deliberately misaligned place, as a network read might. */
function misalign<T extends { values: Uint8Array; offsets: Uint8Array; validity: Uint8Array }>(c: T): T {
  const shift = (b: Uint8Array) => {
    const big = new Uint8Array(b.byteLength + 1);
    big.set(b, 1);
    return big.subarray(1);
  };
  return { ...c, values: shift(c.values), offsets: shift(c.offsets), validity: shift(c.validity) };
}

describe('codec', () => {
  it('round-trips flat, int64, bool, nullable and list columns, also from misaligned buffers', () => {
    const batch = testBatch(1000, 1);
    const msg = encodeBatch(batch);
    const schema = decodeSchema(encodeSchema(batch.schema));
    expect(schema).toEqual(batch.schema);
    const back = decodeBatch(schema, { ...msg, columns: msg.columns.map(misalign) });
    expect(back.length).toBe(1000);
    expect(rowsOf([back])).toEqual(rowsOf([batch]));
    expect(back.columns.id.values).toBeInstanceOf(BigInt64Array);
  });

  it('writes Arrow layouts: packed bits LSB first, int32 offsets from 0, little-endian values', () => {
    expect(Array.from(packBits(Uint8Array.from([1, 0, 1, 1, 0, 0, 0, 0, 1])))).toEqual([0b00001101, 0b1]);
    expect(Array.from(unpackBits(Uint8Array.from([0b00001101, 0b1]), 9))).toEqual([1, 0, 1, 1, 0, 0, 0, 0, 1]);
    const b = makeBatch(
      {
        v: Int32Array.from([1, -2]),
        l: { offsets: Int32Array.from([3, 4, 6]), values: Float32Array.from([9, 9, 9, 1.5, 2, 3]) },
      },
      { v: 'int32', l: 'float32' },
    );
    const [v, l] = encodeBatch(b).columns;
    expect(Array.from(v.values)).toEqual([1, 0, 0, 0, 0xfe, 0xff, 0xff, 0xff]);
    const dv = new DataView(l.offsets.buffer, l.offsets.byteOffset, l.offsets.byteLength);
    expect([0, 1, 2].map((i) => dv.getInt32(4 * i, true))).toEqual([0, 1, 3]);
    const fv = new DataView(l.values.buffer, l.values.byteOffset, l.values.byteLength);
    expect([0, 1, 2].map((i) => fv.getFloat32(4 * i, true))).toEqual([1.5, 2, 3]);
  });

  it('packs and unpacks bits of any length, whole bytes and a tail, any non-zero flag as set', () => {
    for (const n of [0, 1, 7, 8, 9, 63, 64, 65, 1000]) {
      const flags = Uint8Array.from({ length: n }, (_, i) => ((i * 7919) % 3 === 0 ? 0 : 1 + (i % 5)));
      const bits = packBits(flags);
      expect(bits.byteLength).toBe(Math.ceil(n / 8));
      flags.forEach((f, i) => expect((bits[i >> 3] >> (i & 7)) & 1).toBe(f ? 1 : 0));
      expect(Array.from(unpackBits(bits, n))).toEqual(Array.from(flags, (f) => (f ? 1 : 0)));
    }
  });

  it('packs a count beyond the flags given as unset bits there, as a loop over bits does', () => {
    // Eight set flags, sixteen asked for: the second byte has no flags behind it.
    expect(Array.from(packBits(new Uint8Array(8).fill(1), 16))).toEqual([0xff, 0]);
    expect(Array.from(packBits(new Uint8Array(new ArrayBuffer(24), 3, 11).fill(1), 24))).toEqual([0xff, 0b111, 0]);
  });

  it('sends no validity bitmap when a nullable column has no null', () => {
    const b = testBatch(3, 2, 0); // ids 0..2: none is a null (null when id % 7 == 3)
    expect(encodeBatch(b).columns[3].validity.byteLength).toBe(0);
    expect(encodeBatch(testBatch(5, 2, 0)).columns[3].validity.byteLength).toBe(1);
  });

  it('refuses buffers of the wrong size, naming the column', () => {
    const b = testBatch(10, 3);
    const msg = encodeBatch(b);
    msg.columns[0] = { ...msg.columns[0], values: msg.columns[0].values.subarray(8) };
    expect(() => decodeBatch(b.schema, msg)).toThrow(/column 'x'.*72 bytes, expected 80/);
  });

  it('refuses a schema naming a column twice (the second would hide the first)', () => {
    const schema = encodeSchema(testBatch(1, 1).schema);
    expect(() => decodeSchema({ fields: [...schema.fields, schema.fields[0]] })).toThrow(
      "column 'x' appears twice in the schema",
    );
  });

  it('splits big batches into pieces under the limit, keeping every event, and firstRow where the rows are contiguous', () => {
    const b = { ...testBatch(1000, 4), origin: { file: 'f', rowGroup: 2, firstRow: 500 } };
    const pieces = splitForWire(b, 4000, true);
    expect(pieces.length).toBeGreaterThan(4);
    expect(rowsOf([concatBatches(pieces)])).toEqual(rowsOf([b]));
    let row = 500;
    for (const p of pieces) {
      expect(p.origin?.firstRow).toBe(row);
      row += p.length;
    }
    // After cuts, the rows of a batch are not contiguous in the file: later pieces cannot know their first row.
    const cut = splitForWire(b, 4000, false);
    expect(cut[0].origin).toEqual(b.origin);
    for (const p of cut.slice(1)) expect(p.origin).toEqual({ file: 'f' });
  });
});

describe('wire: hand-written BatchChunk bytes', () => {
  const plain = services().protobufBatchChunk;
  const encodeSchemaOnly = (m: { schema: SchemaMsg }) => plain.serialize(m);
  const ours = (m: BatchChunkMsg) => serializeBatchChunk(m, encodeSchemaOnly);
  const read = (b: Buffer) => deserializeBatchChunk(b, plain.deserialize);

  // Schema-only, batch-only, both, empty batch, Arrow IPC bytes, no origin, negative and large origin numbers, a non-ASCII file name.
  const batch = testBatch(300, 7);
  const messages: [string, BatchChunkMsg][] = [
    [
      'schema and batch',
      {
        schema: encodeSchema(batch.schema),
        batch: encodeBatch({ ...batch, origin: { file: 'mc/a.parquet', rowGroup: 3, firstRow: 2 ** 40 } }),
      },
    ],
    [
      'batch without origin numbers',
      { schema: null, batch: encodeBatch({ ...batch, origin: { file: 'Ünïcode/b.parquet' } }) },
    ],
    ['no origin', { schema: null, batch: encodeBatch(batch) }],
    ['schema only', { schema: encodeSchema(batch.schema), batch: null }],
    ['empty batch', { schema: null, batch: encodeBatch(testBatch(0, 1)) }],
    ['arrow_ipc', { schema: null, batch: null, arrowIpc: Uint8Array.from({ length: 300 }, (_, i) => i % 251) }],
    ['stream end', { schema: null, batch: null, end: { events: 2 ** 40 + 3 } }],
    ['stream end of no events', { schema: null, batch: null, end: { events: 0 } }],
  ];

  for (const [name, msg] of messages) {
    it(`${name}: protobufjs reads our bytes, and we read protobufjs' bytes, as protobufjs reads its own`, () => {
      const expected = plain.deserialize(plain.serialize(msg));
      expect(plain.deserialize(ours(msg))).toEqual(expected);
      expect(read(plain.serialize(msg))).toEqual(expected);
      expect(read(ours(msg))).toEqual(expected);
    });
  }

  it('puts every values and offsets buffer 8-aligned in a received gRPC frame, so columns decode without copies', () => {
    // File names of every length mod 8 shift what precedes the buffers through every padding case.
    for (let k = 0; k < 16; k++) {
      const b = { ...testBatch(50 + k, k), origin: { file: 'x'.repeat(k), rowGroup: k - 1, firstRow: k } };
      const msg: BatchChunkMsg = { schema: k % 2 ? encodeSchema(b.schema) : null, batch: encodeBatch(b) };
      const bytes = ours(msg);
      expect(plain.deserialize(bytes)).toEqual(plain.deserialize(plain.serialize(msg)));
      // grpc-js hands a deserializer the message from a fresh buffer after the 5-byte frame header.
      const frame = Buffer.concat([Buffer.from([0, 0, 0, 0, bytes.byteLength]), bytes]);
      const back = read(frame.subarray(5));
      for (const c of back.batch!.columns) {
        for (const buf of [c.values, c.offsets]) if (buf.byteLength) expect(buf.byteOffset % 8).toBe(0);
      }
      const decoded = decodeBatch(b.schema, back.batch!);
      expect(decoded.columns.x.values.buffer).toBe(frame.buffer); // float64: a view
      expect(decoded.columns.id.values.buffer).toBe(frame.buffer); // int64: a view
      expect(rowsOf([decoded])).toEqual(rowsOf([b]));
      expect(decoded.origin).toEqual(k === 0 ? undefined : { file: 'x'.repeat(k), rowGroup: k - 1, firstRow: k });
    }
  });

  it('refuses malformed bytes with a clear error', () => {
    expect(() => read(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x01]))).toThrow(
      /malformed BatchChunk: unsupported wire type 7/,
    );
    const good = ours(messages[0][1]);
    expect(() => read(good.subarray(0, good.byteLength - 3))).toThrow(/malformed BatchChunk/);
  });
});
