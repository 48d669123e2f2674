import type { Field } from '../batch/schema.js';
import type { Node } from './expr/ast.js';
import { parseExpr } from './expr/parse.js';

/**
 * Whether a cut variable takes integer values only (missing aside), judged from what it is, never
 * from the data: a count, a condition (1 or 0), an integer literal, a column of an integer or
 * boolean type, and what + - * abs min max, indexing, selections and count sum min max first of
 * those give; an object cut's count(Jet_pt > $c) too, whatever $c. A column named exactly by
 * the text is judged by its type.
 */
export function integerValued(schema: Field[], text: string): boolean {
  const exact = schema.find((f) => f.name === text);
  if (exact) return integerType(exact);
  return integral(parseExpr(text), schema);
}

function integerType(f: Field): boolean {
  return f.type !== 'float32' && f.type !== 'float64';
}

const INTEGRAL_OPS = new Set(['+', '-', '*']);
const INTEGRAL_CALLS = new Set(['abs', 'min', 'max', 'sum', 'first']);

function integral(n: Node, schema: Field[]): boolean {
  const all = (nodes: Node[]) => nodes.every((x) => integral(x, schema));
  switch (n.kind) {
    case 'num':
      return Number.isInteger(n.value);
    case 'param':
      return false;
    case 'col': {
      const f = schema.find((x) => x.name === n.name);
      return f !== undefined && integerType(f);
    }
    case 'unary':
      return n.op === '!' || integral(n.arg, schema);
    case 'binary':
      if (INTEGRAL_OPS.has(n.op)) return all([n.left, n.right]);
      // Comparisons, && and || give 1 or 0.
      return n.op !== '/';
    case 'index':
      return integral(n.list, schema);
    case 'filter':
      return integral(n.list, schema);
    case 'call':
      if (n.fn === 'count' || n.fn === 'any' || n.fn === 'all') return true;
      return INTEGRAL_CALLS.has(n.fn) && all(n.args);
  }
}
