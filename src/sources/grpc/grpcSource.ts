import type * as grpc from '@grpc/grpc-js';
import { Observable } from 'rxjs';
import type { EventBatch } from '../../batch/batch.js';
import type { Schema } from '../../batch/schema.js';
import type { HardCut } from '../../selection/cutsFile.js';
import type { DatasetInfo, EventSource, ReadOptions } from '../types.js';
import { useStreamingHeapGrowth } from '../../util/heapGrowth.js';
import { callError, connect, type ConnectOptions, unaryCall } from './client.js';
import { decodeBatch, decodeSchema, encodeCut } from './codec.js';
import { EventTally } from './eventTally.js';
import { InputError } from '../inputError.js';
import type { BatchChunkMsg, DatasetInfoMsg, StreamRequestMsg } from './messages.js';

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
 * The call is paused while a batch is handed on, and resumed once the event loop has had a turn
 * (so a pipeline that is slow in its synchronous work stops the reading) and nobody holds
 * ReadOptions.demand (so does a slow asynchronous consumer, such as the Parquet sink). HTTP/2
 * flow control carries the pause back to the server, whose source then stops reading.
 */
export function grpcSource(address: string, options: GrpcSourceOptions): EventSource {
  const request = (read: ReadOptions): StreamRequestMsg => ({
    paths: options.paths,
    columns: read.columns ?? options.columns ?? [],
    where: [...(options.where ?? []), ...(read.where ?? [])].map(encodeCut),
    batchRows: read.batchRows ?? 0,
  });

  const describe = async (): Promise<DatasetInfo> => {
    const msg = await unaryCall<DatasetInfoMsg>(
      address,
      options,
      'describe',
      { paths: options.paths },
      options.deadlineMs,
    );
    return {
      files: msg.files,
      schema: decodeSchema(msg.schema),
      rows: msg.rows,
      bytesOnDisk: msg.bytesOnDisk,
      columnBytes: msg.columnBytes,
      columnValues: msg.columnValues,
      unsupported: msg.unsupported,
    };
  };

  return {
    describe,

    batches(read: ReadOptions = {}): Observable<EventBatch> {
      return new Observable<EventBatch>((subscriber) => {
        useStreamingHeapGrowth();
        const { client, metadata } = connect(address, options);
        const callOptions = options.deadlineMs ? { deadline: Date.now() + options.deadlineMs } : {};
        const req = request(read);
        const call = client.streamBatches(req, metadata(), callOptions) as grpc.ClientReadableStream<BatchChunkMsg>;
        // A pass without cuts must bring every event the server's Describe counts, each once.
        const stream = `gRPC StreamBatches on ${address}`;
        const tally = req.where.length === 0 ? new EventTally(stream) : undefined;
        const expected = tally && describe();
        expected?.catch(() => {}); // its error, if the stream ends well, is reported at the end
        let schema: Schema | undefined;
        // Events received, and the count the server's last message says it sent.
        let received = 0;
        let sent: number | undefined;
        let closed = false;
        let resumeTimer: NodeJS.Immediate | undefined;
        const resume = () => {
          if (closed) return;
          if (read.demand?.held) void read.demand.ready().then(resume);
          else call.resume();
        };
        call.on('data', (msg: BatchChunkMsg) => {
          let batch: EventBatch | undefined;
          try {
            if (sent !== undefined) throw new Error("a message arrived after the stream's end");
            if (msg.end) sent = msg.end.events;
            if (msg.schema) schema = decodeSchema(msg.schema);
            if (!msg.batch) return;
            if (!schema) throw new Error('a batch arrived before the schema');
            batch = decodeBatch(schema, msg.batch);
            received += batch.length;
            tally?.add(batch);
          } catch (e) {
            // A message the server should not have sent: the input is unreadable, named by its stream.
            subscriber.error(
              e instanceof InputError ? e : new InputError('unreadable', `${stream}: ${(e as Error).message}`),
            );
            call.cancel();
            return;
          }
          call.pause();
          subscriber.next(batch);
          resumeTimer = setImmediate(resume);
        });
        call.on('error', (e: grpc.ServiceError) => subscriber.error(callError(address, 'StreamBatches', e)));
        call.on('end', () => {
          (expected ?? Promise.resolve(undefined))
            .then((info) => {
              if (info) tally!.check(info);
              if (sent === undefined)
                throw new InputError('unreadable', `${stream}: the stream ended without its last message: cut short`);
              if (received !== sent)
                throw new InputError(
                  'unreadable',
                  `${stream}: the stream brought ${received} events, where its last message says ${sent} were sent`,
                );
              subscriber.complete();
            })
            .catch((e) => subscriber.error(e));
        });
        return () => {
          closed = true;
          clearImmediate(resumeTimer);
          call.cancel();
          client.close();
        };
      });
    },
  };
}
