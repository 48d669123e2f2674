/** The expression language: `compileExpr` (parse and type), `evaluate` (batches), `toSql` (DuckDB). */
export { type Node, nodeColumns, printNode, quoteColumn } from './ast.js';
export { type ColumnInfo, columnsOf, compileExpr, type Expr, exprOf, type Type } from './bind.js';
export { type ColumnForm, columnForm, namesToRead } from './columnForm.js';
export { ExprError } from './errors.js';
export { evaluate, type EvaluateOptions, passes, valuesOf } from './evaluate.js';
export { FUNCTION_NAMES } from './functions.js';
export { parseExpr } from './parse.js';
export { compareSql, conditionSql, type SqlOptions, sqlIdentifier, sqlNumber, toSql } from './sql.js';
