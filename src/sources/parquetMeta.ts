import { stat } from 'node:fs/promises';
import type { DuckDBConnection, DuckDBType } from '@duckdb/node-api';
import { schemaDifference, type Field, type Schema } from '../batch/schema.js';
import { isTempFile } from '../util/tempFiles.js';
import {
  caseTwins,
  dtypeOfDuckType,
  duckdbFile,
  firstLine,
  queryRows,
  readParquet,
  withConnection,
} from './parquetDuckdb.js';
import { isStructType, ownFields, structOf, type ColumnType } from './types.js';
import { FileError, InputError } from './inputError.js';
import { structColumn, type StructLeaf } from './parquetStructs.js';

/** Statistics of one column chunk (one column in one row group). */
export interface ChunkStats {
  compressedBytes: number;
  uncompressedBytes: number;
  /** Values stored (for a list column: list entries). */
  values: number;
  /** min/max as numbers (booleans as 0/1); null when the file has none, or for a struct column's total. */
  min: number | null;
  max: number | null;
  nullCount: number | null;
}

export interface RowGroupMeta {
  index: number;
  rows: number;
  /** Index of the row group's first row in the file. */
  firstRow: number;
  /**
   * Per top-level column: a list's values and a struct's fields count under the column's name.
   * A struct's readable leaves ('Muon.pt') also have their own chunk's statistics, which are
   * counted in the struct's too.
   */
  columns: Record<string, ChunkStats>;
}

export interface ParquetFileMeta {
  path: string;
  bytes: number;
  /** With `bytes`, the file as its footer was read: one differs for a file rewritten or replaced since (fileChange). */
  mtimeMs: number;
  inode: number;
  rows: number;
  schema: Schema;
  /** Every top-level column, in file order (those of `schema` and of `unsupported`), named as in the file. */
  columns: string[];
  /**
   * DuckDB's name of each column it names otherwise: its names are case-insensitive, so of two
   * columns differing only by case ('ab', 'Ab') it calls the second 'Ab_1'. SQL reads a column by
   * this name (columnSqlOf); everything else uses the file's.
   */
  duckdbNames: Map<string, string>;
  /** Columns whose type diffskim cannot hold (strings, structs, ...): never read into batches. */
  unsupported: ColumnType[];
  /** The numeric and boolean leaves of struct columns, fields of `schema` ('Muon.pt'). */
  leaves: StructLeaf[];
  /** The other leaves of struct columns ('Muon.name', VARCHAR), for error messages. */
  unreadableLeaves: ColumnType[];
  rowGroups: RowGroupMeta[];
  /** Compression of the first column chunk ('snappy', 'zstd', ...; 'uncompressed'), or null for an empty file. */
  codec: string | null;
}

/** Footer of one Parquet file: schema, row groups and column statistics, read through DuckDB. */
export async function readParquetMeta(path: string): Promise<ParquetFileMeta> {
  const {
    size,
    mtimeMs,
    ino: inode,
  } = await stat(path).catch((e: Error) => {
    throw new Error(`${path}: cannot open Parquet file: ${e.message}`);
  });
  if (isTempFile(path))
    throw new InputError(
      'unreadable',
      `${path}: a temporary file of an unfinished or killed write, not an output; re-run the command that writes it`,
    );
  if (size === 0) throw new InputError('unreadable', `${path}: file is empty (0 bytes), not a Parquet file`);
  // Only the queries' failures are the file's: DuckDB failing to start says so itself.
  return withConnection(async (con) => {
    try {
      const f = duckdbFile(path);
      const described = await queryRows(con, `DESCRIBE SELECT * FROM ${readParquet(path)}`);
      const schemaRows = await queryRows(con, `SELECT name, repetition_type, num_children FROM parquet_schema(${f})`);
      const top = topLevelColumns(schemaRows);
      if (top.length !== described.length) {
        throw new FileError(`${path}: the file's schema has ${top.length} columns, DuckDB reads ${described.length}`);
      }
      const seen = new Set<string>();
      for (const { name, fieldTwins } of top) {
        if (seen.has(name)) {
          throw new InputError(
            'unreadable',
            `${path}: two columns named '${name}'; a reader cannot tell them apart, rename one`,
          );
        }
        seen.add(name);
        // (Top-level twins keep their names: duckdbNames. A struct is read and skimmed whole by DuckDB.)
        if (fieldTwins) {
          const [a, b] = fieldTwins;
          throw new InputError(
            'unreadable',
            `${path}: fields '${a}' and '${b}' of column '${name}' differ only by case, which DuckDB cannot keep apart ` +
              `(it reads and writes the second as '${b}_1'); rename one`,
          );
        }
      }
      const duckName = (i: number) => String(described[i].column_name);
      const duckdbNames = new Map(top.flatMap((c, i) => (c.name === duckName(i) ? [] : [[c.name, duckName(i)]])));
      // The columns' types as objects, to walk the structs' fields (a second bind of the file: only when it has structs).
      const types = described.some((r) => isStructType(String(r.column_type)))
        ? await columnTypes(con, `SELECT * FROM ${readParquet(path)}`)
        : [];
      const schema: Schema = [];
      const unsupported: ParquetFileMeta['unsupported'] = [];
      const leaves: StructLeaf[] = [];
      const unreadableLeaves: ColumnType[] = [];
      const structChunks = new Map<string, (string | null)[]>();
      for (const [i, r] of described.entries()) {
        const { name, nullable } = top[i];
        const t = dtypeOfDuckType(String(r.column_type));
        if (t) schema.push({ name, ...t, nullable } satisfies Field);
        else unsupported.push({ name, type: String(r.column_type) });
        const struct = types[i] && structColumn(name, types[i], String(r.column_name));
        if (!struct) continue;
        schema.push(...struct.leaves.map((l) => l.field));
        leaves.push(...struct.leaves);
        unreadableLeaves.push(...struct.unreadable);
        structChunks.set(name, struct.chunks);
      }
      const columns = top.map((c) => c.name);
      // Refused, so that a field's name tells it from a column (structOf).
      for (const s of unsupported.filter((u) => isStructType(u.type))) {
        const clash = columns.find((c) => c.startsWith(`${s.name}.`));
        if (clash)
          throw new FileError(
            `${path}: column '${clash}' is named like a field of the struct column '${s.name}', whose fields diffskim reads as '${s.name}.<field>'; rename the column`,
          );
      }
      // Two leaves of one name ('a.b' and 'a' { 'b' }) would be read as one, its values either's.
      const twice = leaves.find((l, i) => leaves.findIndex((m) => m.field.name === l.field.name) !== i);
      if (twice)
        throw new FileError(
          `${path}: two fields of the struct column '${twice.column}' would both be read as '${twice.field.name}' (a field name with a dot); rename one`,
        );
      const chunks = await queryRows(
        con,
        `SELECT row_group_id, row_group_num_rows, path_in_schema, total_compressed_size, total_uncompressed_size, num_values,
                coalesce(stats_min_value, stats_min) AS lo, coalesce(stats_max_value, stats_max) AS hi, stats_null_count, compression, type
         FROM parquet_metadata(${f}) ORDER BY row_group_id, column_id`,
      );
      const codec = chunks.length ? String(chunks[0].compression).toLowerCase().replace('lz4_raw', 'lz4') : null;
      return {
        path,
        bytes: size,
        mtimeMs,
        inode,
        codec,
        schema,
        columns,
        duckdbNames,
        unsupported,
        leaves,
        unreadableLeaves,
        ...rowGroupsOf(chunks, structChunks),
      };
    } catch (e) {
      const msg = (e as Error).message;
      const why = `${path}: cannot read Parquet metadata (footer; corrupt or truncated file?): ${firstLine(msg)}`;
      throw new InputError('unreadable', e instanceof FileError ? msg : why);
    }
  });
}

/**
 * An error when the file is no longer the one whose footer was read (its size, modification time
 * or inode differ: rewritten, replaced or removed), else null. Its rows may then not match the
 * schema and row groups planned from the footer, so a read of it is not trusted.
 */
export async function fileChange(meta: ParquetFileMeta): Promise<InputError | null> {
  const now = await stat(meta.path).catch(() => null);
  if (now && now.size === meta.bytes && now.mtimeMs === meta.mtimeMs && now.ino === meta.inode) return null;
  const time = (ms: number) => new Date(ms).toISOString();
  const what = !now
    ? 'removed'
    : `changed (${meta.bytes} bytes, modified ${time(meta.mtimeMs)}; now ${now.size} bytes, ${time(now.mtimeMs)}` +
      `${now.ino === meta.inode ? '' : ', another file'})`;
  const fix = 're-run once the file is complete and no longer written';
  return new InputError('changed', `${meta.path}: ${what} since its footer was read at the start; ${fix}`);
}

/** Throws fileChange's error, if any. */
export async function checkUnchanged(meta: ParquetFileMeta): Promise<void> {
  const change = await fileChange(meta);
  if (change) throw change;
}

/** The result types of a query, as node-api's type objects. */
async function columnTypes(con: DuckDBConnection, sql: string): Promise<DuckDBType[]> {
  const prepared = await con.prepare(sql);
  try {
    return Array.from({ length: prepared.columnCount }, (_, i) => prepared.columnType(i));
  } finally {
    prepared.destroySync();
  }
}

/** `structChunks`: per struct column, the readable leaf each of its column chunks holds (or null), in file order. */
function rowGroupsOf(
  chunks: Record<string, unknown>[],
  structChunks: Map<string, (string | null)[]>,
): { rows: number; rowGroups: RowGroupMeta[] } {
  const rowGroups: RowGroupMeta[] = [];
  const topOf = (c: Record<string, unknown>) => String(c.path_in_schema).split(', ')[0];
  // Every row group has a chunk per Parquet leaf; should a struct's not match its type's leaves
  // (a type DuckDB stores otherwise), its leaves get no statistics rather than another's.
  for (const [name, leaves] of structChunks)
    if (chunks.filter((c) => Number(c.row_group_id) === 0 && topOf(c) === name).length !== leaves.length)
      structChunks.delete(name);
  let rows = 0;
  let seen = new Map<string, number>();
  for (const c of chunks) {
    const index = Number(c.row_group_id);
    let g = rowGroups[index];
    if (!g) {
      g = rowGroups[index] = { index, rows: Number(c.row_group_num_rows), firstRow: rows, columns: {} };
      rows += g.rows;
      seen = new Map();
    }
    // 'jets, list, element' belongs to column 'jets'; so do all leaves of a struct 'Jet'.
    const name = topOf(c);
    const leaf: ChunkStats = {
      compressedBytes: Number(c.total_compressed_size),
      uncompressedBytes: Number(c.total_uncompressed_size),
      values: Number(c.num_values),
      min: statNumber(c.lo, c.type),
      max: statNumber(c.hi, c.type),
      nullCount: c.stats_null_count == null ? null : Number(c.stats_null_count),
    };
    const sum = g.columns[name];
    g.columns[name] = sum
      ? {
          compressedBytes: sum.compressedBytes + leaf.compressedBytes,
          uncompressedBytes: sum.uncompressedBytes + leaf.uncompressedBytes,
          values: sum.values + leaf.values,
          min: null,
          max: null,
          nullCount: null,
        }
      : leaf;
    const k = seen.get(name) ?? 0;
    seen.set(name, k + 1);
    const leafName = structChunks.get(name)?.[k];
    if (leafName) g.columns[leafName] = leaf;
  }
  return { rows, rowGroups };
}

/**
 * A min/max statistic as a number. A FLOAT statistic is printed in the shortest form that reads
 * back as the same float32 ('0.7' for 0.699999988): it is rounded back to that float32, else
 * the bound would sit on the wrong side of the stored values and rule out a row group wrongly.
 */
function statNumber(v: unknown, physicalType: unknown): number | null {
  if (v == null) return null;
  if (v === 'true' || v === 'false') return v === 'true' ? 1 : 0;
  const x = Number(v);
  if (Number.isNaN(x)) return null;
  return physicalType === 'FLOAT' ? Math.fround(x) : x;
}

interface TopLevelColumn {
  name: string;
  /** May hold nulls (OPTIONAL). */
  nullable: boolean;
  /** Two fields inside it whose names differ only by case (DuckDB reads the second as '<name>_1'), or null. */
  fieldTwins: [string, string] | null;
}

/** The top-level columns as the file names them, walking the flattened schema tree. */
function topLevelColumns(rows: Record<string, unknown>[]): TopLevelColumn[] {
  const out: TopLevelColumn[] = [];
  let i = 1;
  // One node and everything below it: the first field twins found there.
  const walk = (): [string, string] | null => {
    const n = Number(rows[i++].num_children ?? 0);
    const names: string[] = [];
    let twins: [string, string] | null = null;
    for (let k = 0; k < n; k++) {
      names.push(String(rows[i].name));
      const below = walk();
      twins ??= below;
    }
    return twins ?? caseTwins(names);
  };
  while (i < rows.length) {
    const [name, nullable] = [String(rows[i].name), rows[i].repetition_type === 'OPTIONAL'];
    out.push({ name, nullable, fieldTwins: walk() });
  }
  return out;
}

/**
 * How two files' schemas differ, or null. Struct columns need not agree between files (a skim
 * copies them whole): their leaves are read where every file has them, of one type.
 */
export function fileSchemaDifference(a: ParquetFileMeta, b: ParquetFileMeta): string | null {
  const own = (m: ParquetFileMeta) => ownFields(m.schema, m.unsupported);
  const shared = (m: ParquetFileMeta, other: ParquetFileMeta) =>
    m.schema.filter((f) => structOf(m.unsupported, f.name) && other.schema.some((g) => g.name === f.name));
  // A column one file has and the other lacks, or holds as a type diffskim does not read (a string).
  const lacking = (f: Field, m: ParquetFileMeta, other: ParquetFileMeta) => {
    const type = other.unsupported.find((u) => u.name === f.name)?.type;
    const mine = f.list ? `list<${f.type}>` : f.type;
    return type
      ? `column '${f.name}' is ${mine} in ${m.path} and ${type} in ${other.path}`
      : `column '${f.name}' is in ${m.path}, not in ${other.path}`;
  };
  const [ownA, ownB] = [own(a), own(b)];
  for (const f of ownA) {
    const g = ownB.find((x) => x.name === f.name);
    if (!g) return lacking(f, a, b);
    const diff = schemaDifference([f], [g]);
    if (diff) return diff;
  }
  const extra = ownB.find((f) => !ownA.some((x) => x.name === f.name));
  if (extra) return lacking(extra, b, a);
  return schemaDifference(shared(a, b), shared(b, a));
}
