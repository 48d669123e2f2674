import type { EventBatch } from '../batch/batch.js';
import { quoteColumn, valuesOf } from '../selection/expr/index.js';
import { leafKept, ownFields, type DatasetInfo } from '../sources/types.js';

/**
 * Stored bytes of each event, for the cached-data-size term. A flat column costs its bytes on
 * disk divided by the rows; a list column costs its bytes per stored entry times the event's
 * number of entries (read through the expression count(col), which a source can supply
 * without reading the values).
 */
export interface EventBytesModel {
  /** Bytes every event costs (flat columns). */
  fixed: number;
  lists: { column: string; bytesPerEntry: number }[];
  /** Bytes on disk of the counted columns: the 'bytes in' of the size term. */
  bytesIn: number;
}

/**
 * The columns a skim writes without a keep list: DuckDB's in-engine skim (Parquet files, no score
 * cut) copies every column, strings and structs included; a streaming skim only those diffskim
 * reads, but not a struct's leaves ('Muon.pt'), which only the struct holds.
 */
export function skimColumns(info: DatasetInfo, inEngine: boolean): string[] {
  const own = ownFields(info.schema, info.unsupported).map((f) => f.name);
  return [...own, ...(inEngine ? (info.unsupported ?? []).map((u) => u.name) : [])];
}

/**
 * The bytes model for `columns` (default: those a streaming skim writes). A column diffskim does
 * not read (a string, a struct) costs its mean bytes per event, like a flat column. A struct's
 * leaf cannot be named: its bytes are the struct's.
 */
export function eventBytesModel(info: DatasetInfo, columns?: string[]): EventBytesModel {
  const names = columns ?? skimColumns(info, false);
  const leaf = leafKept(info.unsupported, names);
  if (leaf) throw new Error(`size term: ${leaf}`);
  let fixed = 0;
  let bytesIn = 0;
  const lists: EventBytesModel['lists'] = [];
  for (const name of names) {
    const f = info.schema.find((x) => x.name === name);
    if (!f && !info.unsupported?.some((u) => u.name === name))
      throw new Error(`size term: column '${name}' is not in the dataset`);
    const bytes = info.columnBytes[name] ?? 0;
    bytesIn += bytes;
    if (!f?.list) fixed += info.rows > 0 ? bytes / info.rows : 0;
    else if ((info.columnValues[name] ?? 0) > 0)
      lists.push({ column: name, bytesPerEntry: bytes / info.columnValues[name] });
  }
  return { fixed, lists, bytesIn };
}

/** Projected quantities the bytes model needs from a source. */
export function eventBytesColumns(model: EventBytesModel): string[] {
  return model.lists.map((l) => countOf(l.column));
}

const countOf = (column: string) => `count(${quoteColumn(column)})`;

export function eventBytes(model: EventBytesModel, batch: EventBatch): Float64Array {
  const out = new Float64Array(batch.length).fill(model.fixed);
  for (const l of model.lists) {
    const counts = valuesOf(batch, countOf(l.column));
    for (let i = 0; i < out.length; i++) out[i] += l.bytesPerEntry * counts[i];
  }
  return out;
}
