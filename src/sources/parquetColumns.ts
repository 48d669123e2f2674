import { type Field, type Schema } from '../batch/schema.js';
import type { HardCut } from '../selection/cutsFile.js';
import { columnForm, compileExpr, type Expr, ExprError, exprOf, parseExpr, toSql } from '../selection/expr/index.js';
import { closest } from '../util/closest.js';
import { ColumnError } from './inputError.js';
import { sqlIdent } from './parquetDuckdb.js';
import type { ParquetFileMeta } from './parquetMeta.js';
import type { ColumnType } from './types.js';

/** The schema field of a column, with a clear error naming the file when it is missing or of a type not read. */
export function fieldFor(schema: Schema, column: string, file: string, unsupported: ColumnType[] = []): Field {
  const f = schema.find((x) => x.name === column);
  const other = unsupported.find((x) => x.name === column);
  if (!f && other)
    throw new ColumnError(
      `${file}: column '${column}' has type ${other.type}, which diffskim cannot read (numbers, booleans and lists of them only)`,
    );
  if (!f) {
    const near = closest(
      column,
      schema.map((x) => x.name),
    );
    throw new ColumnError(
      `${file}: no column '${column}'${near ? ` (closest: '${near}')` : ''}; columns: ${schema.map((x) => x.name).join(', ')}`,
    );
  }
  return f;
}

/** A column or expression of a file, typed against its schema; errors name the file (and the character). */
export function exprIn(schema: Schema, name: string, file: string, unsupported: ColumnType[] = []): Expr {
  if (schema.some((f) => f.name === name)) return exprOf(schema, name);
  try {
    for (const c of compileExpr(name).columns) fieldFor(schema, c, file, unsupported);
    return exprOf(schema, name);
  } catch (e) {
    throw e instanceof ExprError ? e.in(file) : e;
  }
}

/** Check that every cut reads one number per event of the file. */
export function checkCuts(schema: Schema, cuts: HardCut[], file: string, unsupported: ColumnType[] = []): void {
  checkScalars(
    schema,
    cuts.map((c) => c.column),
    file,
    unsupported,
  );
}

/** Check that each name (a cut variable, a classifier input) reads one number per event of the file. */
export function checkScalars(schema: Schema, names: string[], file: string, unsupported: ColumnType[] = []): void {
  for (const name of names) exprIn(schema, name, file, unsupported);
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

/**
 * SQL select item and batch field for a projected column (a list too, by its name or quoted) or
 * expression (computed by DuckDB, named by its canonical text: 'count(jets)').
 */
export function projectionItem(
  schema: Schema,
  name: string,
  file: string,
  unsupported: ColumnType[] = [],
  columnSql = sqlIdent,
): { sql: string; field: Field } {
  const node = schema.some((f) => f.name === name) ? null : parseProjection(name, file);
  if (!node || node.kind === 'col') {
    const f = fieldFor(schema, node?.name ?? name, file, unsupported);
    return { sql: selectAs(columnSql(f.name), f.name), field: f };
  }
  const expr = exprIn(schema, name, file, unsupported);
  const as = sqlIdent(expr.text);
  const form = columnForm(expr);
  const f = form && schema.find((x) => x.name === form.column)!;
  const c = form && columnSql(form.column);
  // abs, count and first keep their types (a float32's abs, a list's length as int32, its element type).
  if (form?.fn === 'abs' && f!.type === 'float32')
    return { sql: `abs(${c}) AS ${as}`, field: { ...f!, name: expr.text } };
  if (form?.fn === 'count')
    return {
      sql: `len(${c})::INTEGER AS ${as}`,
      field: { name: expr.text, type: 'int32', list: false, nullable: f!.nullable },
    };
  // An empty list has no leading entry: SQL gives NULL, which fails every cut like NaN.
  if (form?.fn === 'first')
    return { sql: `${c}[1] AS ${as}`, field: { name: expr.text, type: f!.type, list: false, nullable: true } };
  return {
    sql: `${toSql(expr, { columnSql })} AS ${as}`,
    field: { name: expr.text, type: 'float64', list: false, nullable: true },
  };
}

function parseProjection(name: string, file: string) {
  try {
    return parseExpr(name);
  } catch (e) {
    throw e instanceof ExprError ? e.in(file) : e;
  }
}
