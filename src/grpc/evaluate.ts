import type * as grpc from '@grpc/grpc-js';
import type { EventBatch } from '../batch/batch.js';
import type { Schema } from '../batch/schema.js';
import { decodeBatch, decodeSchema } from './codec.js';
import { failedPrecondition, invalidArgument, toServiceError } from './errors.js';
import type { BatchChunkMsg, ScoresMsg } from './protos.js';
import { checkColumns } from './streamBatches.js';
import { StreamWriter } from './streamWriter.js';

/** A loaded model as the server uses it: per-event scores of a batch, and the columns it reads. */
export interface Scorer {
  columns: string[];
  score(batch: EventBatch): Float32Array;
}

/**
 * Evaluate: scores each incoming batch, answering in order. The request stream is read one
 * message at a time (async iteration pauses the call), and a reply waits for room to be
 * written, so neither a fast sender nor a slow reader makes the server buffer much.
 */
export async function evaluate(scorer: Scorer | undefined, maxInFlight: number, call: grpc.ServerDuplexStream<BatchChunkMsg, ScoresMsg>): Promise<void> {
  const writer = new StreamWriter(call, maxInFlight);
  try {
    if (!scorer) throw failedPrecondition('the server has no model loaded (start it with --model DIR)');
    let schema: Schema | undefined;
    let index = 0;
    // Plain `for await` would destroy the whole duplex (our replies too) when the input ends.
    for await (const msg of call.iterator({ destroyOnReturn: false }) as AsyncIterable<BatchChunkMsg>) {
      if (msg.schema) {
        try {
          schema = decodeSchema(msg.schema);
        } catch (e) {
          throw invalidArgument(`batch ${index}: ${(e as Error).message}`);
        }
        checkColumns(schema, scorer.columns, 'the streamed batches', { scalar: true });
      }
      if (!msg.batch) continue;
      if (!schema) throw invalidArgument('the first message must carry the schema');
      let batch: EventBatch;
      try {
        batch = decodeBatch(schema, msg.batch);
      } catch (e) {
        throw invalidArgument(`batch ${index}: ${(e as Error).message}`);
      }
      const scores = scorer.score(batch);
      const reply: ScoresMsg = { batchIndex: index++, length: scores.length, scores: new Uint8Array(scores.buffer, scores.byteOffset, scores.byteLength) };
      if (!(await writer.writeAndWait(reply))) return;
    }
    if (!writer.gone()) call.end();
  } catch (e) {
    if (!writer.gone()) call.emit('error', toServiceError(e));
  }
}
