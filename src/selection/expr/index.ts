/** The expression language: `compileExpr` (parse and type), `evaluate` (batches), `toSql` (DuckDB). */
export { type Node, printNode, quoteColumn } from './ast.js';
export { type ColumnInfo, compileExpr, type Expr, exprOf, type Type } from './bind.js';
export { ExprError } from './errors.js';
export { evaluate, type EvaluateOptions, passes } from './evaluate.js';
export { FUNCTION_NAMES } from './functions.js';
export { parseExpr } from './parse.js';
export { compareSql, conditionSql, type SqlOptions, sqlIdentifier, sqlNumber, toSql } from './sql.js';
