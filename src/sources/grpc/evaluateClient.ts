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

    // Each reply must answer the next batch sent, one score per event; and every batch gets one.
    const sent: number[] = [];
    let answered = 0;
    let inputDone = false;
    const wrong = (why: string) => {
      subscriber.error(new Error(`gRPC Evaluate on ${address}: ${why}`));
      call.cancel();
    };
    call.on('data', (msg: ScoresMsg) => {
      const events = sent[answered];
      if (events === undefined) return wrong(`a reply (batch_index ${msg.batchIndex}) to no batch sent`);
      if (msg.batchIndex !== answered || msg.length !== events || msg.scores.byteLength !== 4 * events)
        return wrong(
          `the reply to batch ${answered} (${events} events) has batch_index ${msg.batchIndex}, ` +
            `length ${msg.length} and ${msg.scores.byteLength} bytes of scores`,
        );
      answered++;
      // Copy: the wire buffer may not be 4-byte aligned.
      const scores = new Float32Array(events);
      new Uint8Array(scores.buffer).set(msg.scores);
      subscriber.next(scores);
    });
    call.on('error', (e: grpc.ServiceError) => subscriber.error(callError(address, 'Evaluate', e)));
    call.on('end', () => {
      if (inputDone && answered === sent.length) subscriber.complete();
      else wrong(`the call ended with status OK after answering ${answered} of ${sent.length} batches sent`);
    });

    (async () => {
      let schema: Schema | undefined;
      for await (const batch of batches) {
        if (stopped) return;
        const newSchema = !schema || !sameSchema(schema, batch.schema);
        schema = batch.schema;
        sent.push(batch.length);
        const ok = call.write({ schema: newSchema ? encodeSchema(schema) : null, batch: encodeBatch(batch) });
        if (!ok)
          await new Promise<void>((resolve) => {
            call.once('drain', resolve);
            call.once('close', resolve);
          });
      }
      inputDone = true;
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
