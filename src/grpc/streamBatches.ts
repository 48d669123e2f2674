import type * as grpc from '@grpc/grpc-js';
import type { Subscription } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import { type Schema, sameSchema } from '../batch/schema.js';
import { ExprError, exprOf, type Node, nodeColumns, parseExpr, quoteColumn } from '../selection/expr/index.js';
import { projectionItem } from '../sources/parquetColumns.js';
import { type ColumnType, type EventSource, type ReadOptions, unreadColumns } from '../sources/types.js';
import { encodeBatch, encodeSchema, messageOverhead, rowsPerMessage, splitForWire } from '../sources/grpc/codec.js';
import { ArrowIpcStream } from './arrowStream.js';
import { decodeCut } from './cuts.js';
import type { DataRoots } from './dataRoots.js';
import { invalidArgument, toServiceError } from './errors.js';
import type { BatchChunkMsg, StreamRequestMsg } from '../sources/grpc/messages.js';
import { StreamWriter } from './streamWriter.js';

export interface StreamSettings {
  roots: DataRoots;
  openSource: (files: string[]) => EventSource;
  /** Messages handed to grpc-js and not yet flushed, at most (then the source waits). */
  maxInFlight: number;
  /** Messages stay at or below this many bytes: larger batches are split into several. */
  maxMessageBytes: number;
  defaultBatchRows: number;
  readAheadMB: number;
}

/** What the server's streams held at most, for tests and the benchmark. */
export interface StreamStats {
  active: number;
  started: number;
  /** Most batches read from a source and not yet flushed to HTTP/2, in any one stream. */
  maxQueued: number;
  /** Most messages waiting in grpc-js, in any one stream. */
  maxInFlight: number;
}

/**
 * Every named column or expression must read columns of the dataset; `scalar` ones (cut
 * variables, model inputs) must be one number per event, not a bare list. Columns of types
 * diffskim does not stream (`unsupported`) are named as such.
 */
export function checkColumns(
  schema: Schema,
  names: string[],
  where: string,
  opts: { scalar?: boolean; unsupported?: ColumnType[] } = {},
): void {
  for (const name of names) {
    try {
      const node: Node = schema.some((f) => f.name === name) ? { kind: 'col', name, pos: 0 } : parseExpr(name);
      for (const c of nodeColumns(node)) checkColumn(schema, c, where, opts.unsupported);
      const column = node.kind === 'col' ? node.name : null;
      const f = schema.find((x) => x.name === column);
      if (f?.list && opts.scalar) {
        const q = quoteColumn(f.name);
        throw invalidArgument(`'${name}': column '${f.name}' in ${where} is a list; use count(${q}) or first(${q})`);
      }
      if (!f) exprOf(schema, name);
    } catch (e) {
      throw e instanceof ExprError ? invalidArgument(e.message) : e;
    }
  }
}

function checkColumn(schema: Schema, column: string, where: string, unsupported: ColumnType[] = []): void {
  if (schema.some((f) => f.name === column)) return;
  const other = unsupported.find((u) => u.name === column);
  if (other)
    throw invalidArgument(
      `column '${column}' in ${where} has type ${other.type}, which diffskim does not stream (numbers, booleans and lists of them only)`,
    );
  throw invalidArgument(`column '${column}' is not in ${where} (columns: ${schema.map((x) => x.name).join(', ')})`);
}

const ENCODINGS = ['ENCODING_UNSPECIFIED', 'ARROW_IPC'];

/** Columns (or cuts) a pass may ask for, at most: this, or twice the dataset's columns. */
const MIN_MOST_COLUMNS = 1024;

/** Rows per batch a client may ask for, at most: arrays for a batch are allocated up front. */
export const MAX_BATCH_ROWS = 1 << 20;

/**
 * StreamBatches: reads the dataset only as fast as the client takes it. The source reads with
 * the writer's Demand, so it pauses while grpc-js holds `maxInFlight` unflushed messages (HTTP/2
 * flow control stops the flushing when the client stops reading); until then it reads the next
 * batch while the previous ones are being sent.
 */
export async function streamBatches(
  settings: StreamSettings,
  stats: StreamStats,
  call: grpc.ServerWritableStream<StreamRequestMsg, BatchChunkMsg>,
): Promise<void> {
  stats.active++;
  stats.started++;
  const writer = new StreamWriter(call, settings.maxInFlight);
  let subscription: Subscription | undefined;
  let queued = 0;
  let maxQueued = 0;
  try {
    const req = call.request;
    const files = await settings.roots.resolveInputs(req.paths);
    const where = req.where.map(decodeCut);
    const source = settings.openSource(files);
    const info = await source.describe();
    const shown = settings.roots.display(files[0]);
    const unsupported = unreadColumns(info);
    const named = new Set<string>();
    const twice = req.columns.find((c) => named.has(c) || !named.add(c));
    if (twice !== undefined) throw invalidArgument(`column '${twice}' is named twice in columns`);
    // Each column or expression is read or computed, and sent, for every event: a request may not
    // multiply what a pass costs the server past a few times the whole dataset.
    const most = Math.max(MIN_MOST_COLUMNS, 2 * info.schema.length);
    for (const [list, n] of [
      ['columns', req.columns.length],
      ['cuts', req.where.length],
    ] as const)
      if (n > most)
        throw invalidArgument(
          `${n} ${list} asked for, above the most a pass takes here, ${most} ` +
            `(twice the dataset's columns, or ${MIN_MOST_COLUMNS})`,
        );
    checkColumns(info.schema, req.columns, shown, { unsupported });
    checkColumns(
      info.schema,
      where.map((c) => c.column),
      shown,
      { scalar: true, unsupported },
    );
    const columns = req.columns.length ? req.columns : undefined;
    const fields = projectedSchema(info.schema, columns ?? info.schema.map((f) => f.name));
    if (req.batchRows > MAX_BATCH_ROWS) {
      const max = MAX_BATCH_ROWS;
      throw invalidArgument(`batch_rows ${req.batchRows} is above the maximum, ${max} (0: the server's default)`);
    }
    // By default, batches that fit in one message each (fewer messages than splitting larger ones).
    const longest = files.reduce((a, b) => (b.length > a.length ? b : a));
    const room = settings.maxMessageBytes - messageOverhead(fields, longest);
    const meanLength = (name: string) => (info.columnValues[name] ?? 0) / Math.max(info.rows, 1);
    const options: ReadOptions = {
      columns,
      where,
      batchRows: req.batchRows || rowsPerMessage(fields, meanLength, room, settings.defaultBatchRows),
      demand: writer.demand,
      // A batch is serialised (copied into grpc-js's frame) by the time its message is flushed;
      // the demand lets the source start a batch only while fewer than maxInFlight messages
      // are unflushed, so a batch maxInFlight + 1 later may refill its arrays (one to spare).
      reuseArrays: settings.maxInFlight + 1,
      readAheadMB: settings.readAheadMB,
    };
    if (req.encoding && !ENCODINGS.includes(req.encoding))
      throw invalidArgument(`unknown encoding ${req.encoding} (${ENCODINGS.join(' or ')})`);
    const arrowIpc = req.encoding === 'ARROW_IPC' ? new ArrowIpcStream(settings.maxMessageBytes) : undefined;
    let schema: Schema | undefined;
    let events = 0;
    await new Promise<void>((resolve, reject) => {
      // A cancelled call ends the pass; the finally block unsubscribes, which stops the source.
      call.on('cancelled', () => resolve());
      subscription = source.batches(options).subscribe({
        next(batch) {
          maxQueued = Math.max(maxQueued, ++queued);
          events += batch.length;
          const room = settings.maxMessageBytes - messageOverhead(batch.schema, batch.origin?.file);
          const pieces = splitForWire(batch, room, where.length === 0);
          const file = settings.roots.display(batch.origin?.file ?? files[0]);
          const messages: BatchChunkMsg[] = arrowIpc
            ? pieces.flatMap((piece) => arrowIpc.batch(piece, file)).map((bytes) => ({ arrowIpc: bytes }))
            : pieces.map((piece) => {
                const newSchema = !schema || !sameSchema(schema, piece.schema);
                schema = piece.schema;
                return {
                  schema: newSchema ? encodeSchema(schema) : null,
                  batch: encodeBatch(showOrigin(piece, settings.roots)),
                };
              });
          messages.forEach((msg, k) => {
            if (!writer.write(msg, k === messages.length - 1 ? () => queued-- : undefined)) resolve();
          });
        },
        error: reject,
        complete: resolve,
      });
    });
    // A stream with no events still tells the client its columns.
    if (arrowIpc && !writer.gone()) writer.write({ arrowIpc: arrowIpc.end(fields) } satisfies BatchChunkMsg);
    else if (!schema && !writer.gone())
      writer.write({ schema: encodeSchema(fields), batch: null } satisfies BatchChunkMsg);
    // The events sent, last: the client's check that none were lost on the way.
    if (!arrowIpc && !writer.gone()) writer.write({ end: { events } } satisfies BatchChunkMsg);
    if (!writer.gone()) call.end();
  } catch (e) {
    if (!writer.gone()) call.emit('error', toServiceError(e, settings.roots));
  } finally {
    subscription?.unsubscribe();
    stats.active--;
    stats.maxQueued = Math.max(stats.maxQueued, maxQueued);
    stats.maxInFlight = Math.max(stats.maxInFlight, writer.maxPending);
  }
}

/** The fields a pass with this projection delivers (columns and derived quantities). */
function projectedSchema(schema: Schema, names: string[]): Schema {
  return names.map((name) => projectionItem(schema, name, 'the dataset').field);
}

/** Origins name files relative to the data root: the client never sees server paths. */
function showOrigin(batch: EventBatch, roots: DataRoots): EventBatch {
  return batch.origin ? { ...batch, origin: { ...batch.origin, file: roots.display(batch.origin.file) } } : batch;
}
