import { mkdir, open, rename, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import { Observable, type OperatorFunction } from 'rxjs';
import * as pw from 'parquet-wasm';
import type { EventBatch } from '../batch/batch.js';
import { allocate, type DType, schemaDifference, type Schema } from '../batch/schema.js';
import { arrowSchema, batchToIpc } from './arrowBatch.js';
import type { Demand } from '../sources/demand.js';
import { InputError } from '../sources/inputError.js';
import { SinkError } from './sinkError.js';
import { tempPathOf } from '../util/tempFiles.js';

export const CODECS = ['snappy', 'zstd', 'gzip', 'lz4', 'brotli', 'uncompressed'] as const;
export type Codec = (typeof CODECS)[number];

const COMPRESSION: Record<Codec, pw.Compression> = {
  snappy: pw.Compression.SNAPPY,
  zstd: pw.Compression.ZSTD,
  gzip: pw.Compression.GZIP,
  lz4: pw.Compression.LZ4_RAW,
  brotli: pw.Compression.BROTLI,
  uncompressed: pw.Compression.UNCOMPRESSED,
};

export function parseCodec(name: string): Codec {
  const c = name.toLowerCase();
  if (!(CODECS as readonly string[]).includes(c))
    throw new Error(`unknown codec '${name}' (use one of ${CODECS.join(', ')})`);
  return c as Codec;
}

export interface ParquetSinkOptions {
  codec?: Codec;
  /** Events per row group (default 65536). */
  rowGroupRows?: number;
  /** Schema to write when the stream has no batch at all (an empty skim still gets a valid file). */
  schema?: Schema;
  /**
   * Shared with the source (ReadOptions.demand): held while batches wait to be written, so a
   * source that reads faster than the writer writes pauses instead of filling memory.
   */
  demand?: Demand;
}

export interface ParquetSinkResult {
  path: string;
  rows: number;
  /** Size of the finished file on disk. */
  bytes: number;
}

/**
 * Writes the stream of batches to one Parquet file and emits a single result when done. The
 * file appears only on success: it is written to `<path>.tmp-<pid>` and renamed; on error or
 * unsubscribe the temporary file is deleted. Memory is bounded by one row group: the Arrow/Parquet
 * writer (arrow-rs in WebAssembly) flushes every `rowGroupRows` events.
 */
export function parquetSink(
  path: string,
  options: ParquetSinkOptions = {},
): OperatorFunction<EventBatch, ParquetSinkResult> {
  return (batches) =>
    new Observable<ParquetSinkResult>((subscriber) => {
      const queue = new BatchQueue(options.demand);
      const sub = batches.subscribe({
        next: (b) => queue.push(b),
        error: (e) => queue.fail(e),
        complete: () => queue.end(),
      });
      let cancelled = false;
      writeFile(path, queue, options, () => cancelled).then(
        (r) => {
          subscriber.next(r);
          subscriber.complete();
        },
        (e) => subscriber.error(e),
      );
      return () => {
        cancelled = true;
        sub.unsubscribe();
        queue.end();
      };
    });
}

/** Hand-over point between the push-based Observable and the pulling Parquet writer. */
class BatchQueue {
  private items: EventBatch[] = [];
  private done = false;
  /** The upstream error, if the stream of batches failed. */
  error: unknown;
  private wake?: () => void;
  private holding = false;

  constructor(private readonly demand?: Demand) {}

  push(b: EventBatch): void {
    this.items.push(b);
    if (this.demand && !this.holding) {
      this.holding = true;
      this.demand.hold();
    }
    this.wake?.();
  }
  fail(e: unknown): void {
    this.error = e ?? new Error('stream failed');
    this.end();
  }
  end(): void {
    this.done = true;
    if (this.holding) {
      this.holding = false;
      this.demand!.release();
    }
    this.wake?.();
  }
  /** The next batch, or null at the end of the stream. */
  async next(): Promise<EventBatch | null> {
    while (this.items.length === 0 && !this.done) await new Promise<void>((r) => (this.wake = r));
    this.wake = undefined;
    if (this.error) throw this.error;
    const next = this.items.shift() ?? null;
    if (this.holding && this.items.length === 0) {
      this.holding = false;
      this.demand!.release();
    }
    return next;
  }
}

async function writeFile(
  path: string,
  queue: BatchQueue,
  options: ParquetSinkOptions,
  cancelled: () => boolean,
): Promise<ParquetSinkResult> {
  const tmp = tempPathOf(path);
  await mkdir(dirname(path), { recursive: true });
  const handle = await open(tmp, 'w');
  let rows = 0;
  try {
    let schema: Schema | undefined = options.schema;
    let first = await queue.next();
    schema ??= first?.schema;
    if (!schema)
      throw new SinkError(`${path}: cannot write a Parquet file: the stream is empty and no schema was given`);
    const fileSchema = schema;
    const arrowFields = arrowSchema(fileSchema);
    const toRecords = (b: EventBatch) => pw.Table.fromIPCStream(batchToIpc(b, arrowFields, path)).recordBatches();
    // The stream starts with a zero-row batch so that even an empty skim gets the schema.
    let head: EventBatch | null = { schema: fileSchema, length: 0, columns: emptyColumns(fileSchema) };
    // parquet-wasm ends its output normally when its input stream fails, so the failure is kept
    // here and rethrown: an upstream error must never leave a truncated file that looks complete.
    let failure: unknown;
    const records = new ReadableStream<pw.RecordBatch>({
      async pull(controller) {
        try {
          const b = head ?? first ?? (await queue.next());
          if (head) head = null;
          else first = null;
          if (!b || cancelled()) return controller.close();
          const diff = schemaDifference(fileSchema, b.schema);
          if (diff) throw new SinkError(`${path}: batch schema differs from the file's: ${diff}`);
          rows += b.length;
          for (const rb of toRecords(b)) controller.enqueue(rb);
        } catch (e) {
          failure ??= e;
          controller.error(e);
        }
      },
    });
    const bytes = await pw.transformParquetStream(records, writerProperties(fileSchema, options));
    for await (const chunk of bytes as unknown as AsyncIterable<Uint8Array>) await handle.write(chunk);
    if (failure) throw failure;
    if (cancelled()) throw new SinkError(`${path}: writing cancelled`);
    await handle.close();
    await rename(tmp, path);
    return { path, rows, bytes: (await stat(path)).size };
  } catch (e) {
    await handle.close().catch(() => undefined);
    await rm(tmp, { force: true });
    if (e instanceof SinkError) throw e;
    const msg = (e as Error).message ?? String(e);
    if (e !== queue.error) throw new Error(`${path}: cannot write Parquet: ${msg}`);
    const failed = `${path}: not written, the stream of batches failed: ${msg}`;
    // An input's fault stays one (its kind decides, e.g., a gRPC status).
    throw e instanceof InputError ? new InputError(e.kind, failed) : new Error(failed);
  }
}

function emptyColumns(schema: Schema): EventBatch['columns'] {
  const cols: EventBatch['columns'] = {};
  for (const f of schema) {
    const values = allocate(f.type, 0);
    cols[f.name] = f.list ? { kind: 'list', offsets: new Int32Array(1), values } : { kind: 'flat', values };
  }
  return cols;
}

function writerProperties(schema: Schema, options: ParquetSinkOptions): pw.WriterProperties {
  let b = new pw.WriterPropertiesBuilder()
    .setCompression(COMPRESSION[options.codec ?? 'snappy'])
    .setMaxRowGroupSize(options.rowGroupRows ?? 65536)
    .setCreatedBy('diffskim');
  // No dictionaries (see encodingOf); a list's values stay PLAIN, since parquet-wasm can only
  // name top-level columns.
  b = b.setDictionaryEnabled(false);
  for (const f of schema) {
    const encoding = f.list ? undefined : encodingOf(f.type);
    if (encoding !== undefined) b = b.setColumnEncoding(f.name, encoding);
  }
  return b.build();
}

/**
 * Encodings instead of a dictionary, which the writer would otherwise try first and, for columns
 * of many distinct values (momenta, event numbers), abandon after writing a dictionary page that
 * only adds bytes. Floats: byte-stream-split (measured faster and smaller). Integers: delta
 * encoding, small for counters and event numbers, about a dictionary's size for flags and counts.
 * Booleans keep the default (bit-packed).
 */
function encodingOf(type: DType): pw.Encoding | undefined {
  if (type === 'float32' || type === 'float64') return pw.Encoding.BYTE_STREAM_SPLIT;
  if (type === 'bool') return undefined;
  return pw.Encoding.DELTA_BINARY_PACKED;
}
