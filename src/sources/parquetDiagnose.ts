import { columnSqlOf } from './parquetColumns.js';
import { firstLine, queryRows, readParquet, withConnection } from './parquetDuckdb.js';
import { fileChange, type ParquetFileMeta } from './parquetMeta.js';
import { InputError } from './inputError.js';

/**
 * Error messages for unreadable Parquet data. DuckDB reports a corrupt page as, e.g.,
 * "TProtocolException: Invalid data" without saying where; once a read has failed, we re-read
 * the file one row group and one column at a time to name the first chunk that does not decode.
 */

export interface CorruptChunk {
  rowGroup: number;
  column: string;
  message: string;
}

/**
 * The first (row group, column) whose data DuckDB cannot decode, or null when every chunk
 * reads. A filter on file_row_number makes DuckDB read only the row group asked for.
 */
async function locateCorruption(
  meta: ParquetFileMeta,
  columns = meta.schema.map((f) => f.name),
): Promise<CorruptChunk | null> {
  const columnSql = columnSqlOf(meta);
  const read = async (group: ParquetFileMeta['rowGroups'][number], cols: string[]): Promise<string | null> => {
    // hash() forces every value to be decoded (count() may be answered from metadata).
    const items = cols.map((c, i) => `max(hash(${columnSql(c)})) AS c${i}`).join(', ');
    const sql = `SELECT ${items} FROM ${readParquet(meta.path, ', file_row_number = true')}
      WHERE file_row_number >= ${group.firstRow} AND file_row_number < ${group.firstRow + group.rows}`;
    try {
      await withConnection((con) => queryRows(con, sql));
      return null;
    } catch (e) {
      return firstLine((e as Error).message);
    }
  };
  if (columns.length === 0) return null;
  for (const group of meta.rowGroups) {
    if ((await read(group, columns)) === null) continue;
    for (const column of columns) {
      const message = await read(group, [column]);
      if (message !== null) return { rowGroup: group.index, column, message };
    }
  }
  return null;
}

/**
 * An Error for a failed read (or skim) of `columns` of a file: it names the file and, when it has
 * changed since its footer was read, says so; when a chunk does not decode on its own, it names
 * the row group and column; otherwise (e.g. a write error) it gives the cause.
 */
export async function readError(
  meta: ParquetFileMeta,
  cause: unknown,
  what: string,
  columns?: string[],
): Promise<Error> {
  const change = await fileChange(meta);
  if (change) return change;
  const bad = await locateCorruption(meta, columns).catch(() => null);
  if (bad)
    return new InputError(
      'unreadable',
      `${meta.path}: ${what}: row group ${bad.rowGroup}, column '${bad.column}': corrupt or unreadable data: ${bad.message}`,
    );
  return new Error(`${meta.path}: ${what}: ${firstLine((cause as Error)?.message ?? String(cause))}`);
}
