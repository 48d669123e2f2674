import { checkCuts, checkScalars, fieldFor } from '../sources/parquetColumns.js';
import { ColumnError } from '../sources/inputError.js';
import { type ColumnType, columnList, type DatasetInfo, leafKept, unreadColumns } from '../sources/types.js';
import type { SkimSpec } from './spec.js';

/**
 * The one check of the columns a skim names, for every caller and input (Parquet footers, a ROOT
 * file's or a stream's schema), before anything is written: `keep` names columns the skim can
 * write, each cut and classifier input one number per event. A ColumnError names the file and the
 * column, and the closest column name for a typo (sources/parquetColumns.ts fieldFor).
 * `streaming`: the skim writes batches (a score cut, a ROOT or gRPC source), not DuckDB's COPY.
 */
export function checkSkimColumns(
  file: string,
  columns: Pick<DatasetInfo, 'schema' | 'unsupported' | 'unreadableFields'>,
  spec: Pick<SkimSpec, 'keep' | 'cuts' | 'score'>,
  streaming: boolean,
): void {
  const { schema } = columns;
  const unsupported = columns.unsupported ?? [];
  const why = spec.keep ? keepRefused(unsupported, spec.keep, streaming) : null;
  if (why) throw new ColumnError(`${file}: ${why}`);
  // DuckDB's skim copies the columns diffskim does not read (strings, structs) as they are.
  const unread = unreadColumns(columns);
  for (const name of spec.keep ?? [])
    if (streaming || !unsupported.some((u) => u.name === name)) fieldFor(schema, name, file, unread);
  checkCuts(schema, spec.cuts.cuts, file, unread);
  checkScalars(schema, spec.score?.columns ?? [], file, unread);
}

/**
 * Why a skim cannot keep `keep`, or null. No skim keeps a struct's field alone ('Muon.pt'): it
 * writes whole columns. A `streaming` skim (a score cut, or a ROOT or gRPC source) writes what
 * diffskim reads into batches: numbers, booleans and lists of them. Other columns (strings,
 * structs) are left out and listed in SkimResult.columnsNotWritten; naming one is refused.
 */
function keepRefused(unsupported: ColumnType[], keep: string[], streaming: boolean): string | null {
  const leaf = leafKept(unsupported, keep);
  if (leaf || !streaming) return leaf;
  const named = unsupported.filter((u) => keep.includes(u.name));
  if (!named.length) return null;
  return `cannot keep column(s) ${columnList(named)}: a streaming skim (score cut, ROOT or gRPC source) holds numbers, booleans and lists of them only; leave them out (a Parquet skim without a score cut, run by DuckDB, keeps every column)`;
}

/** What a streaming skim leaves out: the columns it cannot carry, unless `keep` chose the columns. */
export function columnsNotWritten(unsupported: ColumnType[] | undefined, keep: string[] | undefined): ColumnType[] {
  return keep ? [] : (unsupported ?? []);
}
