/** The expression language: `compileExpr` (parse and type), `evaluate` (batches), `toSql` (DuckDB). */
export { type Node, nodeColumns, quoteColumn } from './ast.js';
export { type ColumnInfo, columnsOf, compileExpr, type Expr, exprOf, type Type } from './bind.js';
export { type ColumnForm, columnForm, namesToRead } from './columnForm.js';
export { ExprError } from './errors.js';
export { evaluate, type EvaluateOptions, valuesOf } from './evaluate.js';
export { parseExpr } from './parse.js';
export { compareSql, type SqlOptions, sqlNumber, toSql } from './sql.js';
