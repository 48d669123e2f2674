import type * as grpc from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import type { Schema } from '../batch/schema.js';
import type { HardCut } from '../selection/cutsFile.js';
import type { DatasetInfo, ReadOptions } from '../sources/types.js';
import { callError, connect, type ConnectOptions, unaryCall } from './client.js';
import { decodeBatch, decodeSchema } from './codec.js';
import { encodeCut } from './cuts.js';
import type { BatchChunkMsg, DatasetInfoMsg, StreamRequestMsg } from './protos.js';
import type { PullableSource } from './pull.js';

export interface GrpcSourceOptions extends ConnectOptions {
  /** Files, directories or globs, relative to the server's data root. */
  paths: string[];
  /** Default projection (ReadOptions.columns overrides it). */
  columns?: string[];
  /** Hard cuts applied on the server (ReadOptions.where adds to them). */
  where?: HardCut[];
  /** Deadline for each call, in ms from its start (a whole pass must finish within it). */
  deadlineMs?: number;
}

/**
 * A dataset served by `diffskim serve`, as an EventSource. Each pass is one StreamBatches call;
 * unsubscribing cancels it, which stops the reading on the server.
 *
 * batches() pauses the call after every message and resumes it once the event loop has had a
 * turn, so a pipeline that is slow in its synchronous work stops the reading (HTTP/2 flow
 * control carries that back to the server). pull() gives strict pull-based reading: the next
 * message is read only when the consumer asks.
 */
export function grpcSource(address: string, options: GrpcSourceOptions): PullableSource {
  const request = (read: ReadOptions = {}): StreamRequestMsg => ({
    paths: options.paths,
    columns: read.columns ?? options.columns ?? [],
    where: [...(options.where ?? []), ...(read.where ?? [])].map(encodeCut),
    batchRows: read.batchRows ?? 0,
  });

  const open = (read?: ReadOptions) => {
    const { client, metadata } = connect(address, options);
    const callOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
    const call = client.streamBatches(request(read), metadata(), callOptions) as grpc.ClientReadableStream<BatchChunkMsg>;
    let schema: Schema | undefined;
    const decode = (msg: BatchChunkMsg): EventBatch | undefined => {
      if (msg.schema) schema = decodeSchema(msg.schema);
      if (!msg.batch) return undefined;
      if (!schema) throw new Error(`gRPC StreamBatches on ${address}: a batch arrived before the schema`);
      return decodeBatch(schema, msg.batch);
    };
    return { client, call, decode };
  };

  return {
    async describe(): Promise<DatasetInfo> {
      const msg = await unaryCall<DatasetInfoMsg>(address, options, 'describe', { paths: options.paths }, options.deadlineMs);
      return {
        files: msg.files,
        schema: decodeSchema(msg.schema),
        rows: msg.rows,
        bytesOnDisk: msg.bytesOnDisk,
        columnBytes: msg.columnBytes,
        columnValues: msg.columnValues,
      };
    },

    batches(read?: ReadOptions): Observable<EventBatch> {
      return new Observable<EventBatch>((subscriber) => {
        const { client, call, decode } = open(read);
        let resumeTimer: NodeJS.Immediate | undefined;
        call.on('data', (msg: BatchChunkMsg) => {
          let batch: EventBatch | undefined;
          try {
            batch = decode(msg);
          } catch (e) {
            subscriber.error(e);
            call.cancel();
            return;
          }
          if (!batch) return;
          call.pause();
          subscriber.next(batch);
          resumeTimer = setImmediate(() => call.resume());
        });
        call.on('error', (e: grpc.ServiceError) => subscriber.error(callError(address, 'StreamBatches', e)));
        call.on('end', () => subscriber.complete());
        return () => {
          clearImmediate(resumeTimer);
          call.cancel();
          client.close();
        };
      });
    },

    async *pull(read?: ReadOptions): AsyncGenerator<EventBatch> {
      const { client, call, decode } = open(read);
      try {
        for await (const msg of call as AsyncIterable<BatchChunkMsg>) {
          const batch = decode(msg);
          if (batch) yield batch;
        }
      } catch (e) {
        const err = e as grpc.ServiceError;
        throw typeof err.code === 'number' && 'details' in err ? callError(address, 'StreamBatches', err) : e;
      } finally {
        call.cancel();
        client.close();
      }
    },
  };
}
