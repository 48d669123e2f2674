import { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { resolve } from 'node:path';
import type { DType } from '../batch/schema.js';

/**
 * One in-process DuckDB for the whole program: it reads Parquet (with row-group skipping on
 * WHERE) and runs the in-engine skim. Every query gets its own connection, closed afterwards.
 * Reads that hold still most of the time, many at once (a mix of samples: ReadOptions.oneThread),
 * go to a second one of a single thread: the number of threads is an instance's setting, and a
 * paused streaming read holds its row group's decoded pages on every thread that scans it.
 */
const instances: { [oneThread: string]: Promise<DuckDBInstance> | undefined } = {};

export function duckdb(oneThread = false): Promise<DuckDBInstance> {
  const key = String(oneThread);
  // The external file cache keeps the Parquet bytes DuckDB has read in its own memory, so RSS
  // grows with the input (measured: 20 M-event skim peaks 14 % above a 2 M one, 8–11 % without);
  // for local files the OS page cache already does this.
  const options = { enable_external_file_cache: 'false', ...(oneThread && { threads: '1' }) };
  instances[key] ??= DuckDBInstance.create(':memory:', options).catch((e: Error) => {
    instances[key] = undefined; // the next call tries again
    throw new Error(`DuckDB could not start: ${e.message}`);
  });
  return instances[key];
}

export async function withConnection<T>(fn: (c: DuckDBConnection) => Promise<T>): Promise<T> {
  const con = await (await duckdb()).connect();
  try {
    return await fn(con);
  } finally {
    con.closeSync();
  }
}

/** Rows of a query as plain JSON objects (for small metadata queries only). */
export async function queryRows(con: DuckDBConnection, sql: string): Promise<Record<string, unknown>[]> {
  return (await con.runAndReadAll(sql)).getRowObjectsJson() as Record<string, unknown>[];
}

export function sqlString(s: string): string {
  return `'${s.replaceAll("'", "''")}'`;
}

/**
 * A file to read, as a DuckDB string literal that names exactly that file. DuckDB expands `*`,
 * `?` and `[...]` in every path it reads (in a list of files too), so each becomes a class of one
 * character (`[*]`); `{`, `}` and `\` are plain characters to it. The path is made absolute, so that
 * no prefix (`s3://`, `~`) is taken for a protocol or the home folder.
 */
export function duckdbFile(path: string): string {
  return sqlString(resolve(path).replace(/[[*?]/g, '[$&]'));
}

/**
 * `read_parquet` of one file as the file holds it (`options`: more of its arguments, ', file_row_number = true').
 * Otherwise DuckDB takes folders named `key=value` in the path (Spark's and Hive's layout) for partitions:
 * it adds a column `key` holding the folder's value, or gives one the file holds that value instead of its own.
 */
export function readParquet(path: string, options = ''): string {
  return `read_parquet(${duckdbFile(path)}, hive_partitioning = false${options})`;
}

/** A file for COPY ... TO to write: DuckDB writes the name as it is (no patterns), absolute as above. */
export function duckdbTarget(path: string): string {
  return sqlString(resolve(path));
}

export function sqlIdent(s: string): string {
  return `"${s.replaceAll('"', '""')}"`;
}

const DTYPE_OF: Record<string, DType> = {
  BOOLEAN: 'bool',
  TINYINT: 'int8',
  SMALLINT: 'int16',
  INTEGER: 'int32',
  BIGINT: 'int64',
  UTINYINT: 'uint8',
  USMALLINT: 'uint16',
  UINTEGER: 'uint32',
  FLOAT: 'float32',
  DOUBLE: 'float64',
};

/** DuckDB type name ('FLOAT', 'FLOAT[]') to a column type, or null when diffskim cannot hold it. */
export function dtypeOfDuckType(name: string): { type: DType; list: boolean } | null {
  const m = /^([A-Z]+)(\[\])?$/.exec(name);
  const type = m ? DTYPE_OF[m[1]] : undefined;
  return type ? { type, list: m![2] !== undefined } : null;
}

const DUCK_TYPE_OF = Object.fromEntries(Object.entries(DTYPE_OF).map(([k, v]) => [v, k])) as Record<DType, string>;

export function duckTypeOf(type: DType): string {
  return DUCK_TYPE_OF[type];
}

/**
 * Two names DuckDB cannot tell apart (they differ only by case), or null. Its Parquet writer
 * writes the second of them as '<name>_1'.
 */
export function caseTwins(names: string[]): [string, string] | null {
  const seen = new Map<string, string>();
  for (const n of names) {
    const twin = seen.get(n.toLowerCase());
    if (twin !== undefined) return [twin, n];
    seen.set(n.toLowerCase(), n);
  }
  return null;
}

/** First line of a DuckDB message (drops the "LINE 1: ..." SQL excerpt that follows). */
export function firstLine(message: string): string {
  return message.split('\n')[0].trim();
}
