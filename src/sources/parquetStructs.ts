import { DuckDBListType, DuckDBMapType, DuckDBStructType, type DuckDBType } from '@duckdb/node-api';
import type { Field } from '../batch/schema.js';
import { dtypeOfDuckType, sqlIdent, sqlString } from './parquetDuckdb.js';
import type { ColumnType } from './types.js';

/**
 * Struct columns, as awkward writes records (`MET: struct<pt, phi>`, `Muon: list<struct<pt, eta>>`),
 * are read leaf by leaf: each numeric or boolean leaf is a schema field named `<column>.<field>`
 * (nested: `a.b.c`), flat for a per-event struct, a list column when a list lies on its way
 * (`Muon.pt`: one value per muon). The struct column itself stays unsupported: a skim keeps it whole.
 */
export interface StructLeaf {
  field: Field;
  /** The top-level struct column it belongs to. */
  column: string;
  /** DuckDB expression for the leaf's values, of exactly the field's type (FLOAT[] for `Muon.pt`). */
  sql: string;
}

export interface StructColumn {
  leaves: StructLeaf[];
  /** Leaves diffskim cannot hold (strings, maps, lists of lists), by dotted name. */
  unreadable: ColumnType[];
  /** Per Parquet leaf of the column (column chunk), in file order: the readable leaf's name, or null. */
  chunks: (string | null)[];
}

type Step = { field: string } | 'list';

/**
 * The leaves of a top-level column, or null when it is neither a struct nor a list of structs.
 * `duckdbName`: DuckDB's name of the column, when it differs from the file's (ParquetFileMeta.duckdbNames).
 */
export function structColumn(column: string, type: DuckDBType, duckdbName = column): StructColumn | null {
  const top = type instanceof DuckDBListType ? type.valueType : type;
  if (!(top instanceof DuckDBStructType)) return null;
  const out: StructColumn = { leaves: [], unreadable: [], chunks: [] };
  const nameOf = (steps: Step[]) => [column, ...steps.flatMap((s) => (s === 'list' ? [] : [s.field]))].join('.');
  // `inside`: the name of an unreadable map being walked, whose key and value chunks count under it.
  const walk = (t: DuckDBType, steps: Step[], inside?: string): void => {
    if (t instanceof DuckDBStructType) {
      // A field without a name (a union, as DuckDB writes it) cannot be extracted by name: the
      // struct is unreadable, its chunks count under it, as a map's do.
      if (!inside && t.entryNames.includes('')) {
        inside = nameOf(steps);
        out.unreadable.push({ name: inside, type: String(t) });
      }
      return t.entryNames.forEach((n, i) => walk(t.entryTypes[i], [...steps, { field: n }], inside));
    }
    if (t instanceof DuckDBListType) return walk(t.valueType, [...steps, 'list'], inside);
    const name = inside ?? nameOf(steps);
    if (t instanceof DuckDBMapType) {
      if (!inside) out.unreadable.push({ name, type: String(t) });
      walk(t.keyType, steps, name);
      walk(t.valueType, steps, name);
      return;
    }
    const lists = steps.filter((s) => s === 'list').length;
    const dtype = inside ? null : dtypeOfDuckType(String(t));
    const readable = dtype && lists <= 1;
    out.chunks.push(readable ? name : null);
    const field = readable && { name, type: dtype.type, list: lists === 1, nullable: true };
    if (field) out.leaves.push({ column, field, sql: leafSql(sqlIdent(duckdbName), steps) });
    else if (!inside) out.unreadable.push({ name, type: String(t) + '[]'.repeat(lists) });
  };
  walk(type, []);
  return out;
}

/** `struct_extract` down the fields; inside a list, applied to each entry (a leaf has one list at most). */
function leafSql(expr: string, steps: Step[]): string {
  const [s, ...rest] = steps;
  if (!s) return expr;
  if (s === 'list') return rest.length ? `list_transform(${expr}, lambda x: ${leafSql('x', rest)})` : expr;
  return leafSql(`struct_extract(${expr}, ${sqlString(s.field)})`, rest);
}
