import * as arrow from 'apache-arrow';
import type { Column, EventBatch } from '../batch/batch.js';
import type { DType, Field } from '../batch/schema.js';
import { SinkError } from './sinkError.js';

const ARROW_TYPE: Record<DType, () => arrow.DataType> = {
  bool: () => new arrow.Bool(),
  int8: () => new arrow.Int8(),
  int16: () => new arrow.Int16(),
  int32: () => new arrow.Int32(),
  int64: () => new arrow.Int64(),
  uint8: () => new arrow.Uint8(),
  uint16: () => new arrow.Uint16(),
  uint32: () => new arrow.Uint32(),
  float32: () => new arrow.Float32(),
  float64: () => new arrow.Float64(),
};

function arrowField(f: Field): arrow.Field {
  const value = ARROW_TYPE[f.type]();
  const type = f.list ? new arrow.List(new arrow.Field('item', value, true)) : value;
  return new arrow.Field(f.name, type, f.nullable);
}

export function arrowSchema(fields: Field[]): arrow.Schema {
  return new arrow.Schema(fields.map(arrowField));
}

/** One byte per value (0/1) to Arrow's bit-packed form (least significant bit first). */
function packBits(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array((bytes.length + 7) >> 3);
  for (let i = 0; i < bytes.length; i++) if (bytes[i]) out[i >> 3] |= 1 << (i & 7);
  return out;
}

function valueData(type: DType, values: Column['values']): arrow.Data {
  const t = ARROW_TYPE[type]();
  return type === 'bool'
    ? arrow.makeData({ type: t as arrow.Bool, length: values.length, data: packBits(values as Uint8Array) })
    : arrow.makeData({ type: t as arrow.Int32, length: values.length, data: values as Int32Array });
}

function columnData(f: Field, col: Column, length: number, file: string): arrow.Data {
  let nullBitmap: Uint8Array | undefined;
  let nullCount = 0;
  if (col.validity) {
    for (let i = 0; i < length; i++) nullCount += col.validity[i] ? 0 : 1;
    if (nullCount > 0 && !f.nullable)
      throw new SinkError(`${file}: column '${f.name}' has nulls but its schema says it is not nullable`);
    if (nullCount > 0) nullBitmap = packBits(col.validity);
  }
  if (col.kind === 'flat') {
    const d = valueData(f.type, col.values);
    return arrow.makeData({ type: d.type, length, nullCount, nullBitmap, data: d.values } as never);
  }
  const type = arrowField(f).type as arrow.List;
  return arrow.makeData({
    type,
    length,
    nullCount,
    nullBitmap,
    valueOffsets: col.offsets,
    child: valueData(f.type, col.values),
  });
}

/** An EventBatch as an Arrow record batch (zero-copy). `file` names the batch in errors. */
function recordBatch(batch: EventBatch, schema: arrow.Schema, file: string): arrow.RecordBatch {
  const children = batch.schema.map((f) => columnData(f, batch.columns[f.name], batch.length, file));
  const data = arrow.makeData({ type: new arrow.Struct(schema.fields), length: batch.length, children });
  return new arrow.RecordBatch(schema, data);
}

/** An EventBatch as an Arrow IPC stream (zero-copy into Arrow, one copy into the IPC buffer). */
export function batchToIpc(batch: EventBatch, schema: arrow.Schema, file: string): Uint8Array {
  return arrow.tableToIPC(new arrow.Table([recordBatch(batch, schema, file)]), 'stream');
}

/** The Arrow IPC streaming format's end-of-stream marker: continuation, then a 0 length. */
export const IPC_END = Uint8Array.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0]);

/**
 * One Arrow IPC stream written as separate messages: `schema` (its schema message), then
 * `message(batch)` for each batch, then IPC_END. Concatenated, they are what tableToIPC writes.
 */
export class IpcMessages {
  readonly arrowSchema: arrow.Schema;
  readonly schema: Uint8Array;

  constructor(fields: Field[]) {
    this.arrowSchema = arrowSchema(fields);
    const writer = new arrow.RecordBatchStreamWriter();
    writer.reset(undefined, this.arrowSchema);
    this.schema = writer.toUint8Array(true);
  }

  /** A batch's record batch message (its body copied once, as a view into the IPC stream). */
  message(batch: EventBatch, file: string): Uint8Array {
    const ipc = batchToIpc(batch, this.arrowSchema, file);
    return ipc.subarray(this.schema.byteLength, ipc.byteLength - IPC_END.byteLength);
  }
}
