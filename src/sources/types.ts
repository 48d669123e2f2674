import type { Observable } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import type { Schema } from '../batch/schema.js';
import type { HardCut } from '../selection/cutsFile.js';
import type { Demand } from './demand.js';

export interface FileInfo {
  path: string;
  /** Size on disk. */
  bytes: number;
  rows: number;
  rowGroups: number;
}

/** A column by name and its type in the file, as the file's format spells it. */
export interface ColumnType {
  name: string;
  type: string;
}

/** Columns for a message: 'tag' (VARCHAR), 'Jet' (STRUCT(...)). */
export function columnList(columns: ColumnType[]): string {
  return columns.map((c) => `'${c.name}' (${c.type})`).join(', ');
}

/**
 * The struct column a schema field is read out of ('Muon' for the Parquet leaf 'Muon.pt'), or
 * undefined for a column of its own. The struct stays in `unsupported` and holds the leaf's bytes
 * too; a file with a column named like a leaf is refused (readParquetMeta), so the name decides.
 */
export function structOf(unsupported: ColumnType[] | undefined, name: string): ColumnType | undefined {
  return unsupported?.find((u) => isStructType(u.type) && name.startsWith(`${u.name}.`));
}

/** Why `keep` cannot name a struct's leaf, or null: a skim writes whole columns, the struct. */
export function leafKept(unsupported: ColumnType[] | undefined, keep: string[]): string | null {
  for (const k of keep) {
    const s = structOf(unsupported, k);
    if (s)
      return `cannot keep '${k}', a field of the struct column '${s.name}': a skim writes whole columns; keep '${s.name}' (which a skim without a score cut, run by DuckDB, writes as it is)`;
  }
  return null;
}

/** The fields of a schema that are columns of their own, not a struct's fields (which only the struct holds). */
export function ownFields(schema: Schema, unsupported: ColumnType[] | undefined): Schema {
  return schema.filter((f) => !structOf(unsupported, f.name));
}

/** Compressed bytes of the columns `counted` accepts (all by default); a struct's fields are in the struct's bytes, counted once. */
export function columnBytesOf(info: DatasetInfo, counted: (column: string) => boolean = () => true): number {
  return Object.entries(info.columnBytes).reduce(
    (s, [c, b]) => s + (counted(c) && !structOf(info.unsupported, c) ? b : 0),
    0,
  );
}

/** Columns and struct fields a source knows of but does not read, with their types (for errors naming them). */
export function unreadColumns(info: Pick<DatasetInfo, 'unsupported' | 'unreadableFields'>): ColumnType[] {
  return [...(info.unsupported ?? []), ...(info.unreadableFields ?? [])];
}

/** A struct or list of structs, as DuckDB spells its type. */
export function isStructType(type: string): boolean {
  return type.startsWith('STRUCT(');
}

export interface DatasetInfo {
  files: FileInfo[];
  schema: Schema;
  rows: number;
  /** Sum of file sizes on disk. */
  bytesOnDisk: number;
  /** Compressed bytes on disk per column, summed over files and row groups. */
  columnBytes: Record<string, number>;
  /** Values stored per column (for list columns: list entries, not counting null ones), to turn bytes into bytes per entry. */
  columnValues: Record<string, number>;
  /** Columns of a type diffskim does not read into batches (strings, structs, ...), when the source knows them. A struct's numeric leaves are read as fields ('Muon.pt', see structOf). */
  unsupported?: ColumnType[];
  /** Fields of struct columns that are not read either (strings, maps, ...: 'Muon.name'), to name their type in errors. */
  unreadableFields?: ColumnType[];
}

export interface ReadOptions {
  /**
   * Columns to read (projection). A name may also be a derived quantity such as 'count(jets)',
   * which the source computes without reading the list's values where it can.
   */
  columns?: string[];
  /** Events per emitted batch (a source may emit smaller ones at file ends). */
  batchRows?: number;
  /** Hard cuts to push down: a source may skip row groups that cannot pass, and must drop failing events. */
  where?: HardCut[];
  /**
   * Flow control from an asynchronous consumer: the source reads the next batch only when the
   * demand is not held. (A synchronous consumer needs none: the next read waits for it anyway.)
   */
  demand?: Demand;
  /**
   * The consumer is done with a batch by the time it has received this many more (it copies
   * each one out within that window, as the gRPC server does into its messages), so a source
   * may refill that batch's arrays for a later batch instead of allocating new ones. Sources
   * that cannot ignore it.
   */
  reuseArrays?: number;
  /**
   * How far a source may decode ahead of the consumer, in MB (DuckDB's streaming buffer; absent
   * or 0: its default, about 1 MB, a few chunks of a wide file). More keeps DuckDB's threads busy
   * while the consumer copies or waits, for up to that much memory per read. Measured with 64 MB:
   * a plain read runs 1.27-1.28x as fast on 16 cores and 1.15-1.44x on 2 (scripts/bench-grpc.ts),
   * but the peak RSS of a 20 M-event streaming skim rose from ~300 to ~500 MB
   * (scripts/bench-skim.ts), so local reads keep the default.
   */
  readAheadMB?: number;
  /**
   * Decode on one thread (Parquet; other sources ignore it), for a consumer that keeps many reads
   * open and takes from one at a time (samples/mix.ts): DuckDB's threads each hold a paused
   * read's row group (its decoded pages, ~0.4 MB a column in scripts/bench-samples-memory.ts),
   * so a read holds one row group instead of one per thread.
   */
  oneThread?: boolean;
  /**
   * Batches hold no validity per list element: a null element inside a list is read as NaN (0
   * for integers), which training and cuts can live with. A writer cannot: 'error' makes such an
   * element an error naming the file, row group and column (Parquet; other sources hold none);
   * a list of columns: an error in those only (what a skim writes or scores, not what it cuts on).
   */
  nullListElements?: 'fill' | 'error' | string[];
  /**
   * Start the pass at this event of the dataset (events counted over its files in order, before
   * any cut): the events before it are skipped, row groups wholly before it unread. Only sources
   * with `startsAnywhere` honour it (none other is asked).
   */
  startRow?: number;
}

/**
 * A dataset that can be streamed any number of times (one pass per epoch). Each subscription
 * to batches() starts a new pass; unsubscribing stops reading and frees the files.
 */
export interface EventSource {
  describe(): Promise<DatasetInfo>;
  batches(options?: ReadOptions): Observable<EventBatch>;
  /** batches() honours ReadOptions.startRow (a pass can be stopped and resumed where it stopped). */
  startsAnywhere?: boolean;
}
