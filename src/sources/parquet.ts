import type { DuckDBDataChunk, DuckDBResult } from '@duckdb/node-api';
import { type Observable, throwError } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import { type Schema } from '../batch/schema.js';
import { cutsToSql, type HardCut } from '../selection/cutsFile.js';
import { columnsOf } from '../selection/expr/index.js';
import { type ColumnType, type DatasetInfo, type EventSource, type ReadOptions } from './types.js';
import { BatchBuilder, checkResultTypes, NullListElementError, readChunk } from './parquetChunks.js';
import { filteredChunkFetched } from './duckdbChunkGc.js';
import { checkCuts, columnSqlOf, projectionItem } from './parquetColumns.js';
import { duckdb, readParquet } from './parquetDuckdb.js';
import { readError } from './parquetDiagnose.js';
import { checkUnchanged, fileChange, fileSchemaDifference, readParquetMeta } from './parquetMeta.js';
import type { ParquetFileMeta } from './parquetMeta.js';
import { planPushDown, type PushDownStats } from './parquetPushdown.js';
import { fromPull } from './parquetStream.js';
import { FileError, InputError } from './inputError.js';
import { mapLimited } from '../util/mapLimited.js';

const DEFAULT_BATCH_ROWS = 65536;

/** Footers a source reads at once (DuckDB reads them on its threads; a dataset may have thousands of files). */
const FOOTERS_AT_ONCE = 8;

export interface ParquetDatasetInfo extends DatasetInfo {
  unsupported: ColumnType[];
}

export interface ParquetSource extends EventSource {
  describe(): Promise<ParquetDatasetInfo>;
  /** Footer metadata of every file, schemas checked to agree. */
  files(): Promise<ParquetFileMeta[]>;
  /** What a pass with these options skips according to the min/max statistics. */
  pushDown(options?: ReadOptions): Promise<PushDownStats>;
}

/**
 * Parquet files read through DuckDB, one file at a time, as EventBatches. Cuts in `where`
 * become an SQL WHERE, so DuckDB skips row groups whose statistics rule them out and drops
 * failing events (NaN and null fail, as in passMask).
 */
export function parquetSource(paths: string[]): ParquetSource {
  if (paths.length === 0) throw new Error('parquetSource: no input files');
  let metas: Promise<ParquetFileMeta[]> | undefined;
  const files = (): Promise<ParquetFileMeta[]> => {
    metas ??= loadMetas(paths);
    metas.catch(() => (metas = undefined));
    return metas;
  };

  return {
    files,
    async describe() {
      const all = await files();
      const info: ParquetDatasetInfo = {
        files: all.map((m) => ({ path: m.path, bytes: m.bytes, rows: m.rows, rowGroups: m.rowGroups.length })),
        schema: all[0].schema,
        rows: all.reduce((s, m) => s + m.rows, 0),
        bytesOnDisk: all.reduce((s, m) => s + m.bytes, 0),
        columnBytes: {},
        columnValues: {},
        unsupported: all[0].unsupported,
        unreadableFields: all[0].unreadableLeaves,
      };
      const lists = new Set(info.schema.filter((f) => f.list).map((f) => f.name));
      for (const m of all)
        for (const g of m.rowGroups)
          for (const [name, c] of Object.entries(g.columns)) {
            info.columnBytes[name] = (info.columnBytes[name] ?? 0) + c.compressedBytes;
            // A list's leaf also counts one value slot for each empty or null list, which its
            // null count counts too (with null elements): the rest are the list entries.
            // (A struct's leaves may count more nulls than values: never below 0.)
            const values = lists.has(name) ? Math.max(0, c.values - (c.nullCount ?? 0)) : c.values;
            info.columnValues[name] = (info.columnValues[name] ?? 0) + values;
          }
      return info;
    },
    async pushDown(options = {}) {
      const all = await files();
      const where = options.where ?? [];
      return planPushDown(all, where, columnsRead(all[0].schema, options));
    },
    batches(options = {}): Observable<EventBatch> {
      const rows = options.batchRows;
      if (rows !== undefined && !(Number.isInteger(rows) && rows > 0))
        return throwError(() => new Error(`parquetSource: batchRows must be a positive integer, got ${rows}`));
      const start = options.startRow ?? 0;
      if (!(Number.isInteger(start) && start >= 0))
        return throwError(() => new Error(`parquetSource: startRow must be an integer >= 0, got ${start}`));
      return fromPull(async function* () {
        let skip = start;
        for (const meta of await files()) {
          if (skip >= meta.rows && meta.rows > 0) {
            skip -= meta.rows;
            continue;
          }
          yield* fileBatches(meta, options, skip);
          skip = 0;
        }
      }, options.demand);
    },
    startsAnywhere: true,
  };
}

/**
 * The batches of one file whose footer was read before (ParquetSource.files()), as that footer
 * planned them: refused when the file has changed since (checked when opened and after the read).
 */
export function plannedFileBatches(meta: ParquetFileMeta, options: ReadOptions = {}): Observable<EventBatch> {
  return fromPull(() => fileBatches(meta, options), options.demand);
}

/**
 * Every file's footer, their schemas checked to agree. Each file is then given the dataset's
 * schema: the first file's column order (files may order the same columns differently, and
 * batches and sinks are positional), nullable where any file may hold nulls.
 */
async function loadMetas(paths: string[]): Promise<ParquetFileMeta[]> {
  const first = await readParquetMeta(paths[0]);
  // Footers are read several at a time (a dataset may have thousands of files); the error
  // reported is still the first file's in order that is unreadable or does not match.
  const rest = await mapLimited(paths.slice(1), FOOTERS_AT_ONCE, async (p) => {
    const m = await readParquetMeta(p);
    const diff = fileSchemaDifference(first, m);
    if (diff) throw new InputError('incompatible', `schemas differ between ${first.path} and ${m.path}: ${diff}`);
    return m;
  });
  const out = [first, ...rest];
  // Per column name: in how many files it is (a struct's leaves may be missing from some), and
  // whether any may hold nulls. Counted in one pass: datasets reach thousands of files and columns.
  const files = new Map<string, number>();
  const nullable = new Set<string>();
  for (const m of out)
    for (const f of m.schema) {
      files.set(f.name, (files.get(f.name) ?? 0) + 1);
      if (f.nullable) nullable.add(f.name);
    }
  const schema = first.schema
    .filter((f) => files.get(f.name) === out.length)
    .map((f) => ({ ...f, nullable: nullable.has(f.name) }));
  return out.map((m) => ({ ...m, schema }));
}

/** Base columns a pass reads: the projection's and the cuts'. */
function columnsRead(schema: Schema, options: ReadOptions): string[] {
  const names = options.columns ?? schema.map((f) => f.name);
  return [...new Set([...names, ...(options.where ?? []).map((c) => c.column)].flatMap((n) => columnsOf(schema, n)))];
}

function selectSql(
  meta: ParquetFileMeta,
  columns: string[],
  where: HardCut[],
  extra = '',
): { sql: string; schema: Schema } {
  // (DuckDB's names are case-insensitive: 'File_Row_Number' is the same name to it.)
  const rowNumber = meta.columns.find((c) => c.toLowerCase() === 'file_row_number');
  if (rowNumber)
    throw new InputError(
      'incompatible',
      `${meta.path}: has a column named '${rowNumber}', the name of DuckDB's row-number column, which the batch reader needs; rename the column to read the file (a skim without a score cut, run by DuckDB, copies it as it is)`,
    );
  const other = [...meta.unsupported, ...meta.unreadableLeaves];
  checkCuts(meta.schema, where, meta.path, other);
  const columnSql = columnSqlOf(meta);
  const items = columns.map((c) => projectionItem(meta.schema, c, meta.path, other, columnSql));
  // A batch holds its columns in an object keyed by name: this one would set the object's prototype.
  if (items.some((i) => i.field.name === '__proto__'))
    throw new InputError(
      'incompatible',
      `${meta.path}: column '__proto__' cannot be read into batches (a name JavaScript objects do not hold as a key); rename it, or leave it out (a skim without a score cut, run by DuckDB, copies it as it is)`,
    );
  const select = items.map((i) => i.sql).join(', ') + extra;
  const file = readParquet(meta.path, ', file_row_number = true');
  return {
    sql: `SELECT ${select} FROM ${file} WHERE ${cutsToSql(where, columnSql, meta.schema)}`,
    schema: items.map((i) => i.field),
  };
}

function rowGroupOf(meta: ParquetFileMeta, row: number): number {
  let lo = 0;
  let hi = meta.rowGroups.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (meta.rowGroups[mid].firstRow <= row) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** A file's batches from row `fromRow` on (DuckDB skips the row groups before it by their row numbers). */
async function* fileBatches(meta: ParquetFileMeta, options: ReadOptions, fromRow = 0): AsyncGenerator<EventBatch> {
  // Arrays are sized for a batch up front: no bigger than the file needs.
  const batchRows = Math.min(options.batchRows ?? DEFAULT_BATCH_ROWS, Math.max(1, meta.rows));
  const columns = options.columns ?? meta.schema.map((f) => f.name);
  if (columns.length === 0) throw new Error(`${meta.path}: no columns to read`);
  const filtered = (options.where ?? []).length > 0;
  // With cuts, file_row_number (selected last) locates each batch in the file. Without, the rows
  // come in file order and are counted, which spares DuckDB building the column for every chunk.
  const selected = selectSql(meta, columns, options.where ?? [], filtered ? ', file_row_number' : '');
  const { schema } = selected;
  const sql = fromRow > 0 ? `${selected.sql} AND file_row_number >= ${fromRow}` : selected.sql;
  const resultSchema: Schema = filtered
    ? [...schema, { name: 'file_row_number', type: 'int64', list: false, nullable: false }]
    : schema;
  const nulls = options.nullListElements;
  const strict = nulls === 'error' || (Array.isArray(nulls) && nulls);
  const builder = new BatchBuilder(schema, batchRows, options.reuseArrays, strict);
  const con = await (await duckdb(options.oneThread)).connect();
  if (options.readAheadMB) await con.run(`SET streaming_buffer_size = '${options.readAheadMB}MB'`);
  let lastRow = fromRow - 1;
  let exhausted = false;
  let pending: Promise<DuckDBDataChunk | null> | undefined;
  const fetchNext = (result: DuckDBResult) => {
    pending = result.fetchChunk();
    pending.catch(() => undefined); // observed when awaited; keeps a failure during a yield from going unhandled
  };
  try {
    await checkUnchanged(meta);
    const result = await con.stream(sql);
    checkResultTypes(result, resultSchema, meta.path);
    let firstRow = 0;
    // The next chunk is fetched (DuckDB decodes on its own threads) while this one is copied;
    // each fetched chunk owns its memory, so this one stays valid.
    fetchNext(result);
    for (;;) {
      const chunk = await pending!;
      pending = undefined;
      if (!chunk || chunk.rowCount === 0) {
        exhausted = true;
        break;
      }
      fetchNext(result);
      if (filtered) filteredChunkFetched();
      const vectors = readChunk(chunk, resultSchema);
      const rowNumbers = filtered ? (vectors[schema.length].values as BigInt64Array) : undefined;
      const chunkFirst = lastRow + 1;
      const rowOf = (i: number) => (rowNumbers ? Number(rowNumbers[i]) : chunkFirst + i);
      for (let start = 0; start < chunk.rowCount;) {
        if (builder.length === 0) firstRow = rowOf(start);
        const end = Math.min(chunk.rowCount, start + batchRows - builder.length);
        try {
          builder.append(vectors, start, end);
        } catch (e) {
          if (!(e instanceof NullListElementError)) throw e;
          const row = rowOf(e.chunkRow);
          const fill = schema.find((f) => f.name === e.column)?.type.startsWith('float') ? 'NaN' : '0';
          throw new FileError(
            `${meta.path}: row group ${rowGroupOf(meta, row)}, row ${row}: ${e.message}; a streaming skim (score cut) would write it as ${fill}, a skim without a score cut (run by DuckDB) keeps it`,
          );
        }
        lastRow = rowOf(end - 1);
        start = end;
        if (builder.length === batchRows)
          yield { ...builder.take(), origin: { file: meta.path, rowGroup: rowGroupOf(meta, firstRow), firstRow } };
      }
    }
    // DuckDB's streaming fetch ends alike at the end of the data and on a read error (the C API's
    // error is not exposed to JS). Unless every row came, a query over the rows after the last one
    // delivered, reading every selected column (the row's hash), tells the two apart.
    if (filtered || lastRow !== meta.rows - 1) {
      const rest = await con.runAndReadAll(
        `SELECT count(*)::BIGINT AS n, max(hash(t)) AS h FROM (${sql} AND file_row_number > ${lastRow}) t`,
      );
      const left = Number(rest.getRows()[0][0]);
      if (left > 0)
        throw new FileError(`${meta.path}: the read stopped after row ${lastRow} with ${left} event(s) not delivered`);
    }
    await checkUnchanged(meta); // a file rewritten during the read: its rows are not trusted
    if (builder.length > 0)
      yield { ...builder.take(), origin: { file: meta.path, rowGroup: rowGroupOf(meta, firstRow), firstRow } };
  } catch (e) {
    if (e instanceof FileError) throw (await fileChange(meta)) ?? e;
    const after = lastRow < 0 ? 'reading' : `reading after row ${lastRow}`;
    throw await readError(meta, e, after, columnsRead(meta.schema, { ...options, columns }));
  } finally {
    await pending?.catch(() => undefined); // never close the connection under a running fetch
    // A pass stopped early (unsubscribed, cancelled gRPC call) leaves its streaming result open,
    // and closing the connection does not free it (its files and buffers stay until V8 collects
    // the result object): a next query on the connection ends it now.
    if (!exhausted) await con.run('SELECT 1').catch(() => undefined);
    con.closeSync();
  }
}
