import type * as grpc from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import type { EventBatch } from '../../batch/batch.js';
import { sameSchema, type Schema } from '../../batch/schema.js';
import { callError, connect, type ConnectOptions } from './client.js';
import { encodeBatch, encodeSchema } from './codec.js';
import type { BatchChunkMsg, ScoresMsg } from './messages.js';

/**
 * Scores batches with the model loaded in a `diffskim serve --model` server: emits one
 * Float32Array per input batch, in order. Sending waits for the call's 'drain', and the input
 * is consumed one batch at a time, so a slow server slows the input instead of filling memory.
 */
export function evaluateRemote(
  address: string,
  batches: AsyncIterable<EventBatch>,
  options: ConnectOptions & { deadlineMs?: number } = {},
): Observable<Float32Array> {
  return new Observable<Float32Array>((subscriber) => {
    const { client, metadata } = connect(address, options);
    const callOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
    const call = client.evaluate(metadata(), callOptions) as grpc.ClientDuplexStream<BatchChunkMsg, ScoresMsg>;
    let stopped = false;

    call.on('data', (msg: ScoresMsg) => {
      const bytes = msg.scores;
      // Copy: the wire buffer may not be 4-byte aligned.
      const scores = new Float32Array(msg.length);
      new Uint8Array(scores.buffer).set(bytes.subarray(0, msg.length * 4));
      subscriber.next(scores);
    });
    call.on('error', (e: grpc.ServiceError) => subscriber.error(callError(address, 'Evaluate', e)));
    call.on('end', () => subscriber.complete());

    (async () => {
      let schema: Schema | undefined;
      for await (const batch of batches) {
        if (stopped) return;
        const newSchema = !schema || !sameSchema(schema, batch.schema);
        schema = batch.schema;
        const ok = call.write({ schema: newSchema ? encodeSchema(schema) : null, batch: encodeBatch(batch) });
        if (!ok)
          await new Promise<void>((resolve) => {
            call.once('drain', resolve);
            call.once('close', resolve);
          });
      }
      call.end();
    })().catch((e) => {
      subscriber.error(e);
      call.cancel();
    });

    return () => {
      stopped = true;
      call.cancel();
      client.close();
    };
  });
}
