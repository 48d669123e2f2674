import type * as grpc from '@grpc/grpc-js';
import { type EventBatch, sliceBatch } from '../batch/batch.js';
import type { Schema } from '../batch/schema.js';
import { decodeBatch, decodeSchema } from '../sources/grpc/codec.js';
import { failedPrecondition, invalidArgument, toServiceError } from './errors.js';
import type { BatchChunkMsg, ScoresMsg } from '../sources/grpc/messages.js';
import { checkColumns, MAX_BATCH_ROWS } from './streamBatches.js';
import { StreamWriter } from './streamWriter.js';

/** A loaded model as the server uses it: per-event scores of a batch, and the columns it reads. */
export interface Scorer {
  columns: string[];
  score(batch: EventBatch): Float32Array;
}

/**
 * Events scored at a time: between pieces, the server answers other calls (health checks) and
 * sees a cancelled call.
 */
const SCORE_PIECE_ROWS = 16384;

/** A batch's scores, a piece at a time; null when `stopped` says the call is gone. */
async function scoreInPieces(scorer: Scorer, batch: EventBatch, stopped: () => boolean): Promise<Float32Array | null> {
  if (batch.length <= SCORE_PIECE_ROWS) return scorer.score(batch);
  const scores = new Float32Array(batch.length);
  for (let at = 0; at < batch.length; at += SCORE_PIECE_ROWS) {
    if (at > 0) await new Promise(setImmediate);
    if (stopped()) return null;
    scores.set(scorer.score(sliceBatch(batch, at, Math.min(at + SCORE_PIECE_ROWS, batch.length))), at);
  }
  return scores;
}

/**
 * Evaluate: scores each incoming batch, answering in order. The request stream is read one
 * message at a time (async iteration pauses the call), and a reply waits for room to be
 * written, so neither a fast sender nor a slow reader makes the server buffer much.
 */
export async function evaluate(
  scorer: Scorer | undefined,
  maxInFlight: number,
  call: grpc.ServerDuplexStream<BatchChunkMsg, ScoresMsg>,
): Promise<void> {
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
      if (msg.batch.length > MAX_BATCH_ROWS) {
        const [events, max] = [msg.batch.length, MAX_BATCH_ROWS];
        throw invalidArgument(`batch ${index} has ${events} events, above the maximum, ${max}; send smaller batches`);
      }
      let batch: EventBatch;
      try {
        batch = decodeBatch(schema, msg.batch);
      } catch (e) {
        throw invalidArgument(`batch ${index}: ${(e as Error).message}`);
      }
      const scores = await scoreInPieces(scorer, batch, () => writer.gone());
      if (!scores) return;
      const reply: ScoresMsg = {
        batchIndex: index++,
        length: scores.length,
        scores: new Uint8Array(scores.buffer, scores.byteOffset, scores.byteLength),
      };
      if (!(await writer.writeAndWait(reply))) return;
    }
    if (!writer.gone()) call.end();
  } catch (e) {
    if (!writer.gone()) call.emit('error', toServiceError(e));
  }
}
