import { type EventBatch, sliceBatch } from '../batch/batch.js';
import { type Schema, sameSchema } from '../batch/schema.js';
import { IPC_END, IpcMessages } from '../sinks/arrowBatch.js';

/** Bytes of a BatchChunk besides its arrow_ipc bytes, at most (tag, length, alignment padding). */
const CHUNK_FRAMING = 16;

/**
 * StreamBatches' ARROW_IPC encoding: the arrow_ipc bytes of each message, which concatenated
 * make one Arrow IPC stream (another after it when the schema changes), every message within
 * `maxMessageBytes` (a batch whose record batch would not fit is sent in pieces).
 */
export class ArrowIpcStream {
  private ipc?: { fields: Schema; messages: IpcMessages };

  constructor(private readonly maxMessageBytes: number) {}

  /** The messages for one batch: a schema first when it is the first or a new one. */
  batch(batch: EventBatch, file: string): Uint8Array[] {
    const out: Uint8Array[] = [];
    if (!this.ipc || !sameSchema(this.ipc.fields, batch.schema)) {
      const messages = new IpcMessages(batch.schema);
      out.push(this.ipc ? Buffer.concat([IPC_END, messages.schema]) : messages.schema);
      this.ipc = { fields: batch.schema, messages };
    }
    out.push(...this.pieces(this.ipc.messages, batch, file));
    return out;
  }

  /** The last message: the end-of-stream marker, after the schema when no batch was sent. */
  end(fields: Schema): Uint8Array {
    return this.ipc ? IPC_END : Buffer.concat([new IpcMessages(fields).schema, IPC_END]);
  }

  private pieces(messages: IpcMessages, batch: EventBatch, file: string): Uint8Array[] {
    const bytes = messages.message(batch, file);
    if (bytes.byteLength + CHUNK_FRAMING <= this.maxMessageBytes || batch.length <= 1) return [bytes];
    const half = batch.length >> 1;
    return [
      ...this.pieces(messages, sliceBatch(batch, 0, half), file),
      ...this.pieces(messages, sliceBatch(batch, half, batch.length), file),
    ];
  }
}
