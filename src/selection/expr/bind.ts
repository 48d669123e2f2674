import { closestNames } from '../../util/closest.js';
import { COMPARISONS, LOGICAL, type Node, nodeColumns, printNode } from './ast.js';
import { ExprError } from './errors.js';
import { EXTREMA, MATH, PAIRS, REDUCTIONS } from './functions.js';
import { parseExpr } from './parse.js';

/** What a node gives per event: a value or a list (`filtered`: a selection `x[mask]`), numbers or pass/fail. */
export interface Type {
  list: boolean;
  bool: boolean;
  filtered: boolean;
}

/** What binding needs of a column: its name and whether it is a list. */
export interface ColumnInfo {
  name: string;
  list: boolean;
}

/** A parsed and typed expression, ready for `evaluate` and `toSql`. */
export interface Expr {
  /** Canonical text (a column alone: its exact name). */
  text: string;
  /** The text as written, which error positions refer to. */
  source: string;
  node: Node;
  types: Map<Node, Type>;
  /** Columns it reads, in order of first use. */
  columns: string[];
  /** Parameters (`$c`) it needs. */
  params: string[];
  /** Pass/fail (a comparison, `&&`, `any(...)`, ...) rather than a number. */
  bool: boolean;
}

/**
 * Parses and types an expression. With `schema`, every column must be one of it (an unknown one
 * is named with the closest); without, a column is a list where the expression uses it as one
 * (inside count(), sum(), ..., indexed or masked), as `export` must guess with no input to read.
 */
export function compileExpr(text: string, schema?: ColumnInfo[]): Expr {
  return bindNode(parseExpr(text), text, schema);
}

/**
 * A name to read: a column of `schema` by its exact name (any characters), or by the expression's
 * canonical text (a reader computed it: 'count(jets)'), else the expression of its columns.
 */
export function exprOf(schema: ColumnInfo[], name: string): Expr {
  const column = (text: string) => bindNode({ kind: 'col', name: text, pos: 0 }, text, schema);
  if (schema.some((c) => c.name === name)) return column(name);
  const node = parseExpr(name);
  const text = printNode(node);
  return schema.some((c) => c.name === text) ? column(text) : bindNode(node, name, schema);
}

/** The columns a name reads: itself when a column of `schema`, else those of the expression. */
export function columnsOf(schema: ColumnInfo[], name: string): string[] {
  return schema.some((c) => c.name === name) ? [name] : compileExpr(name).columns;
}

function bindNode(node: Node, source: string, schema?: ColumnInfo[]): Expr {
  const types = new Map<Node, Type>();
  const fail = (reason: string, at: Node, hint = ''): never => {
    throw new ExprError(reason, source, at.pos, hint);
  };
  const params = new Set<string>();

  const bind = (n: Node, element: boolean): Type => {
    const t = typeOf(n, element);
    types.set(n, t);
    return t;
  };
  const elementWise = (n: Node, args: Node[], element: boolean, bool: boolean): Type => {
    const ts = args.map((a) => bind(a, element));
    const filtered = args.find((_, k) => ts[k].filtered);
    if (filtered)
      fail(
        `'${printNode(filtered)}' is a selection of a list: it can be reduced or indexed, not computed on`,
        filtered,
        '; write the condition in the mask, or reduce it (count, sum, min, max, any, all, first)',
      );
    const list = ts.some((t) => t.list);
    return { list, bool, filtered: false };
  };
  const requireList = (fn: string, arg: Node, t: Type) => {
    if (!t.list) fail(`${fn}() takes a list, and '${printNode(arg)}' is one value per event`, arg);
  };

  const typeOf = (n: Node, element: boolean): Type => {
    switch (n.kind) {
      case 'num':
        return { list: false, bool: false, filtered: false };
      case 'param':
        params.add(n.name);
        return { list: false, bool: false, filtered: false };
      case 'col': {
        if (!schema) return { list: element, bool: false, filtered: false };
        const c = schema.find((x) => x.name === n.name);
        if (!c) {
          const near = closestNames(
            n.name,
            schema.map((x) => x.name),
          );
          return fail(`unknown column '${n.name}'`, n, near.length ? `; closest: ${near.join(', ')}` : '');
        }
        return { list: c.list, bool: false, filtered: false };
      }
      case 'unary':
        return elementWise(n, [n.arg], element, n.op === '!');
      case 'binary':
        return elementWise(n, [n.left, n.right], element, COMPARISONS.has(n.op) || LOGICAL.has(n.op));
      case 'index':
      case 'filter': {
        const t = bind(n.list, true);
        if (!t.list) fail(`'${printNode(n.list)}' is not a list, so it cannot be indexed`, n);
        if (n.kind === 'index') return { list: false, bool: t.bool, filtered: false };
        if (t.filtered) fail(`'${printNode(n.list)}' is already a selection; write one mask with &&`, n);
        const m = bind(n.mask, true);
        if (!m.list || m.filtered) fail(`a mask must be a condition on the elements of the list`, n.mask);
        return { list: true, bool: t.bool, filtered: true };
      }
      case 'call':
        return callType(n, element);
    }
  };

  const callType = (n: Extract<Node, { kind: 'call' }>, element: boolean): Type => {
    const { fn, args } = n;
    const arity = (k: number) => {
      if (args.length !== k) fail(`${fn}() takes ${k} argument${k === 1 ? '' : 's'}, not ${args.length}`, n);
    };
    if (REDUCTIONS.has(fn) && !(fn in EXTREMA && args.length > 1)) {
      arity(1);
      const t = bind(args[0], true);
      requireList(fn, args[0], t);
      return { list: false, bool: fn === 'any' || fn === 'all' || (fn === 'first' && t.bool), filtered: false };
    }
    if (fn in EXTREMA) return elementWise(n, args, element, false);
    if (fn in MATH) {
      arity(MATH[fn].arity);
      return elementWise(n, args, element, false);
    }
    const pair = PAIRS[fn];
    arity(pair.lists + pair.scalars);
    args.slice(0, pair.lists).forEach((a) => {
      const t = bind(a, true);
      if (t.bool) fail(`${fn}() takes numbers`, a);
    });
    for (const a of args.slice(pair.lists)) {
      types.set(a, { list: false, bool: false, filtered: false });
      if (a.kind !== 'num' || !Number.isInteger(a.value) || a.value < 0)
        fail(`${fn}()'s last ${pair.scalars} arguments are the objects' indices: whole numbers from 0`, a);
    }
    if (!types.get(args[0])!.list) fail(`${fn}() takes the lists of one collection first`, args[0]);
    return { list: false, bool: false, filtered: false };
  };

  const top = bind(node, false);
  if (top.list && node.kind === 'col') {
    const q = printNode(node);
    fail(
      `'${q}' is a list column, not one value per event`,
      node,
      `; use count(${q}), first(${q}), ${q}[0], sum(${q}), ...`,
    );
  }
  if (top.list)
    fail(
      `'${printNode(node)}' is a list, not one value per event`,
      node,
      '; reduce it (count, sum, min, max, any, all, first) or index it ([0])',
    );
  return {
    text: node.kind === 'col' ? node.name : printNode(node),
    source,
    node,
    types,
    columns: [...nodeColumns(node)],
    params: [...params],
    bool: top.bool,
  };
}
