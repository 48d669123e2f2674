import type * as grpc from '@grpc/grpc-js';
import type { EventBatch } from '../batch/batch.js';
import { type Schema, sameSchema } from '../batch/schema.js';
import { parseQuantity } from '../selection/quantity.js';
import type { EventSource } from '../sources/types.js';
import { encodeBatch, encodeSchema, splitForWire } from './codec.js';
import { decodeCut } from './cuts.js';
import type { DataRoots } from './dataRoots.js';
import { invalidArgument, toServiceError } from './errors.js';
import type { BatchChunkMsg, StreamRequestMsg } from './protos.js';
import { pullBatches, type PullStats } from './pull.js';
import { BoundedWriter } from './streamWriter.js';

export interface StreamSettings {
  roots: DataRoots;
  openSource: (files: string[]) => EventSource;
  /** Batches read ahead of the client at most (push-only sources). */
  readAhead: number;
  /** Messages handed to grpc-js and not yet flushed, at most. */
  maxInFlight: number;
  /** Batches above this many bytes are split into several messages. */
  maxBatchBytes: number;
  defaultBatchRows: number;
}

/** What the server's streams held at most, for tests and the benchmark. */
export interface StreamStats {
  active: number;
  started: number;
  /** Most batches read from a source and not yet written, in any one stream. */
  maxQueued: number;
  /** Most messages waiting in grpc-js, in any one stream. */
  maxInFlight: number;
  /** Re-subscriptions of push-only sources because a client fell behind. */
  restarts: number;
}

/** Every requested column (and every cut's column) must exist in the dataset. */
export function checkColumns(schema: Schema, names: string[], where: string): void {
  const byName = new Map(schema.map((f) => [f.name, f]));
  for (const name of names) {
    let q;
    try {
      q = parseQuantity(name);
    } catch (e) {
      throw invalidArgument((e as Error).message);
    }
    const f = byName.get(q.column);
    if (!f) throw invalidArgument(`column '${q.column}' is not in ${where} (columns: ${schema.map((x) => x.name).join(', ')})`);
    if ((q.fn === 'count' || q.fn === 'first') && !f.list) throw invalidArgument(`${q.text}: column '${q.column}' in ${where} is not a list column`);
  }
}

/** StreamBatches: reads the dataset only as fast as the client takes it. */
export async function streamBatches(settings: StreamSettings, stats: StreamStats, call: grpc.ServerWritableStream<StreamRequestMsg, BatchChunkMsg>): Promise<void> {
  stats.active++;
  stats.started++;
  const pullStats: PullStats = { maxQueued: 0, restarts: 0 };
  const writer = new BoundedWriter(call, settings.maxInFlight);
  const abort = new AbortController();
  call.on('cancelled', () => abort.abort());
  try {
    const req = call.request;
    const files = await settings.roots.resolveInputs(req.paths);
    const where = req.where.map(decodeCut);
    const source = settings.openSource(files);
    const info = await source.describe();
    checkColumns(info.schema, [...req.columns, ...where.map((c) => c.column)], settings.roots.display(files[0]));
    const options = { columns: req.columns.length ? req.columns : undefined, where, batchRows: req.batchRows || settings.defaultBatchRows };
    let schema: Schema | undefined;
    reading: for await (const batch of pullBatches(source, options, settings.readAhead, pullStats, abort.signal)) {
      for (const piece of splitForWire(batch, settings.maxBatchBytes)) {
        const newSchema = !schema || !sameSchema(schema, piece.schema);
        schema = piece.schema;
        const msg: BatchChunkMsg = { schema: newSchema ? encodeSchema(schema) : null, batch: encodeBatch(showOrigin(piece, settings.roots)) };
        if (!(await writer.write(msg))) break reading;
      }
    }
    if (!writer.gone()) call.end();
  } catch (e) {
    if (!writer.gone()) call.emit('error', toServiceError(e));
  } finally {
    abort.abort();
    stats.active--;
    stats.maxQueued = Math.max(stats.maxQueued, pullStats.maxQueued);
    stats.maxInFlight = Math.max(stats.maxInFlight, writer.maxInFlight);
    stats.restarts += pullStats.restarts;
  }
}

/** Origins name files relative to the data root: the client never sees server paths. */
function showOrigin(batch: EventBatch, roots: DataRoots): EventBatch {
  return batch.origin ? { ...batch, origin: { ...batch.origin, file: roots.display(batch.origin.file) } } : batch;
}
