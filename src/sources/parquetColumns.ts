import { describeField, type Field, type Schema } from '../batch/schema.js';
import type { HardCut } from '../selection/cutsFile.js';
import { listQuantities, parseQuantity, quantityOf, quantitySql, type Quantity } from '../selection/quantity.js';
import { closest } from '../util/closest.js';
import { ColumnError } from './inputError.js';
import { sqlIdent } from './parquetDuckdb.js';
import type { ParquetFileMeta } from './parquetMeta.js';
import type { ColumnType } from './types.js';

/** The schema field a quantity reads, with a clear error naming the file when it is missing or of the wrong kind. */
export function fieldFor(schema: Schema, q: Quantity, file: string, unsupported: ColumnType[] = []): Field {
  const f = schema.find((x) => x.name === q.column);
  const other = unsupported.find((x) => x.name === q.column);
  if (!f && other)
    throw new ColumnError(
      `${file}: column '${q.column}' has type ${other.type}, which diffskim cannot read (numbers, booleans and lists of them only)`,
    );
  if (!f) {
    const near = closest(
      q.column,
      schema.map((x) => x.name),
    );
    throw new ColumnError(
      `${file}: no column '${q.column}'${near ? ` (closest: '${near}')` : ''}; columns: ${schema.map((x) => x.name).join(', ')}`,
    );
  }
  if ((q.fn === 'count' || q.fn === 'first') && !f.list)
    throw new ColumnError(`${file}: ${q.text}: column '${q.column}' is ${describeField(f)}, not a list`);
  if (q.fn === 'abs' && f.list) {
    throw new ColumnError(`${file}: ${q.text}: column '${q.column}' is a list; use ${listQuantities(q.column)}`);
  }
  return f;
}

/** Check that every cut reads an existing flat quantity of the file. */
export function checkCuts(schema: Schema, cuts: HardCut[], file: string, unsupported: ColumnType[] = []): void {
  checkScalars(
    schema,
    cuts.map((c) => c.column),
    'cut on',
    file,
    unsupported,
  );
}

/** Check that each quantity (cut on, or scored on: `use`) is an existing flat quantity of the file. */
export function checkScalars(
  schema: Schema,
  quantities: string[],
  use: 'cut on' | 'score on',
  file: string,
  unsupported: ColumnType[] = [],
): void {
  for (const name of quantities) {
    const q = parseQuantity(name);
    const f = fieldFor(schema, q, file, unsupported);
    if (q.fn === 'value' && f.list)
      throw new ColumnError(`${file}: ${use} '${q.column}': it is a list column; ${use} ${listQuantities(q.column)}`);
  }
}

/** A file's column SQL: a struct's leaf by its expression, any other column by its quoted name (DuckDB's). */
export function columnSqlOf(meta: Pick<ParquetFileMeta, 'leaves' | 'duckdbNames'>): (column: string) => string {
  const sql = new Map(meta.leaves.map((l) => [l.field.name, l.sql]));
  return (column) => sql.get(column) ?? sqlIdent(meta.duckdbNames.get(column) ?? column);
}

/** A select item giving a column (read by `sql`) its own name. */
export function selectAs(sql: string, name: string): string {
  return sql === sqlIdent(name) ? sql : `${sql} AS ${sqlIdent(name)}`;
}

/** SQL select item and batch field for a projected column or derived quantity. */
export function projectionItem(
  schema: Schema,
  name: string,
  file: string,
  unsupported: ColumnType[] = [],
  columnSql = sqlIdent,
): { sql: string; field: Field } {
  const q = quantityOf(schema, name);
  const f = fieldFor(schema, q, file, unsupported);
  const c = columnSql(f.name);
  switch (q.fn) {
    case 'value':
      return { sql: selectAs(c, f.name), field: f };
    case 'abs':
      // Floats keep their type; integers come back as float64, as from the other sources.
      if (f.type === 'float32') return { sql: `abs(${c}) AS ${sqlIdent(q.text)}`, field: { ...f, name: q.text } };
      return { sql: `${quantitySql(q, c)} AS ${sqlIdent(q.text)}`, field: { ...f, name: q.text, type: 'float64' } };
    case 'count':
      return {
        sql: `${quantitySql(q, c)}::INTEGER AS ${sqlIdent(q.text)}`,
        field: { name: q.text, type: 'int32', list: false, nullable: f.nullable },
      };
    case 'first':
      // An empty list has no leading entry: SQL gives NULL, which fails every cut like NaN.
      return {
        sql: `${quantitySql(q, c)} AS ${sqlIdent(q.text)}`,
        field: { name: q.text, type: f.type, list: false, nullable: true },
      };
  }
}
