import type { EventBatch } from '../batch/batch.js';
import { BatchBuilder } from '../sources/parquetChunks.js';
import { duckdb } from '../sources/parquetDuckdb.js';
import type { ParquetFileMeta } from '../sources/parquetMeta.js';
import { DEFAULT_BATCH_ROWS, parquetSource, selectSql } from '../sources/parquet.js';
import type { ReadOptions } from '../sources/types.js';
import type { PullableSource } from './pull.js';

/**
 * The Parquet source with a pull() for the server: the same SQL, batches and origins as
 * parquetSource().batches(), but the next DuckDB chunk is fetched only when the server asks
 * for the next batch. (parquetSource keeps its async generator private, so the loop is
 * repeated here; if it ever exposes a pull, this file reduces to a re-export.)
 */
export function pullableParquetSource(paths: string[]): PullableSource {
  const source = parquetSource(paths);
  return {
    describe: () => source.describe(),
    batches: (options) => source.batches(options),
    async *pull(options: ReadOptions = {}) {
      for (const meta of await source.files()) yield* pullFile(meta, options);
    },
  };
}

async function* pullFile(meta: ParquetFileMeta, options: ReadOptions): AsyncGenerator<EventBatch> {
  const columns = options.columns ?? meta.schema.map((f) => f.name);
  const { sql, schema } = selectSql(meta, columns, options.where ?? [], ', file_row_number');
  const builder = new BatchBuilder(schema, options.batchRows ?? DEFAULT_BATCH_ROWS);
  const origin = (firstRow: number) => ({ file: meta.path, rowGroup: rowGroupOf(meta, firstRow), firstRow });
  const con = await (await duckdb()).connect();
  let lastRow = -1;
  try {
    const result = await con.stream(sql);
    let firstRow = 0;
    for (let chunk = await result.fetchChunk(); chunk && chunk.rowCount > 0; chunk = await result.fetchChunk()) {
      const rowNumbers = (chunk.getColumnVector(schema.length) as unknown as { items: BigInt64Array }).items;
      for (let start = 0; start < chunk.rowCount; ) {
        if (builder.length === 0) firstRow = Number(rowNumbers[start]);
        const end = Math.min(chunk.rowCount, start + builder.capacity - builder.length);
        builder.append(chunk, start, end);
        lastRow = Number(rowNumbers[end - 1]);
        start = end;
        if (builder.length === builder.capacity) yield { ...builder.take(), origin: origin(firstRow) };
      }
    }
    if (builder.length > 0) yield { ...builder.take(), origin: origin(firstRow) };
  } catch (e) {
    const msg = (e as Error).message;
    if (msg.startsWith(meta.path)) throw e;
    throw new Error(`${meta.path}: error reading row group ${rowGroupOf(meta, lastRow + 1)} (after row ${lastRow}): ${msg}`);
  } finally {
    con.closeSync();
  }
}

function rowGroupOf(meta: ParquetFileMeta, row: number): number {
  let g = 0;
  while (g + 1 < meta.rowGroups.length && meta.rowGroups[g + 1].firstRow <= row) g++;
  return g;
}
