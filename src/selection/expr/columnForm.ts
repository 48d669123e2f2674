import { type ColumnInfo, compileExpr, type Expr } from './bind.js';

/**
 * The expressions of one column that readers compute while reading and exports translate one by
 * one: the column itself, abs(col), count(col) (a list's length) and first(col) (its leading
 * element). Anything else is null: computed by the batch evaluator from the columns it reads.
 */
export interface ColumnForm {
  fn: 'value' | 'abs' | 'count' | 'first';
  column: string;
  /** The expression's canonical text, the name of the column a reader gives it. */
  text: string;
}

export function columnForm(expr: Expr): ColumnForm | null {
  const n = expr.node;
  if (n.kind === 'col') return { fn: 'value', column: n.name, text: expr.text };
  if (n.kind !== 'call' || n.args.length !== 1 || n.args[0].kind !== 'col') return null;
  if (n.fn !== 'abs' && n.fn !== 'count' && n.fn !== 'first') return null;
  return { fn: n.fn, column: n.args[0].name, text: expr.text };
}

/**
 * What to ask a reader for to compute `text`: the column itself, count(col) (which readers give
 * without reading the list's values into the batch), or the columns the expression reads.
 */
export function namesToRead(schema: ColumnInfo[], text: string): string[] {
  if (schema.some((c) => c.name === text)) return [text];
  const expr = compileExpr(text);
  return columnForm(expr)?.fn === 'count' ? [expr.text] : expr.columns;
}
