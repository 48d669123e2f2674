import { type BinaryOp, COMPARISONS, childrenOf, type Node } from './ast.js';
import type { Expr } from './bind.js';
import { ExprError } from './errors.js';
import { EXTREMA, MATH, pairMassSql, pairPtSql, REDUCTIONS } from './functions.js';

/**
 * The DuckDB twin of the batch evaluator. Numbers are DOUBLE (missing: NULL or NaN); conditions
 * are BOOLEAN and never NULL, so that NOT and OR behave as in the batch (a comparison with a
 * missing value is FALSE, where DuckDB would say NULL, or TRUE for NaN > 1). Lists of one
 * collection are walked by index in a lambda (`list_transform(range(1, len(l) + 1), lambda e: …)`),
 * their lengths checked to be equal.
 */

/** The SQL of a list column's element inside a walk over a list (its value, or its element at an index). */
type Element = (column: string) => string;

export interface SqlOptions {
  /** A column's SQL, where it is not its quoted name (a struct's leaf, a DuckDB name). */
  columnSql?: (name: string) => string;
  params?: Record<string, number>;
}

/** The expression as DuckDB SQL: a DOUBLE (a condition: 1 or 0), NULL or NaN where missing. */
export function toSql(expr: Expr, options: SqlOptions = {}): string {
  return new SqlWriter(expr, options).num(expr.node);
}

/** `a op b` as the batch compares: FALSE when either side is missing. */
export function compareSql(a: string, op: BinaryOp, b: string): string {
  return new SqlWriter(null, {}).compare(a, op, b);
}

/**
 * A double literal that round-trips exactly: JavaScript's shortest form, parsed by DuckDB as a
 * double. (A bare number literal is parsed as a DECIMAL first, then converted: for about 5 % of
 * values that is one unit in the last place off, and an event sitting on the cut passed it.)
 */
export function sqlNumber(v: number): string {
  if (Number.isNaN(v)) return "'nan'::DOUBLE";
  if (!Number.isFinite(v)) return v > 0 ? "'inf'::DOUBLE" : "'-inf'::DOUBLE";
  return `'${v}'::DOUBLE`;
}

const sqlIdentifier = (name: string) => `"${name.replaceAll('"', '""')}"`;
const sqlString = (s: string) => `'${s.replaceAll("'", "''")}'`;
/** SQL that needs no binding to be used twice: a literal or a column (cast). */
const SIMPLE = /^(CAST\()?("([^"]|"")*"|'[^']*'::DOUBLE|__\w+)( AS DOUBLE\))?$/;

class SqlWriter {
  private vars = 0;
  private readonly columnSql: (name: string) => string;

  constructor(
    private readonly expr: Expr | null,
    private readonly options: SqlOptions,
  ) {
    this.columnSql = options.columnSql ?? sqlIdentifier;
  }

  /** `body` of a value used more than once, the value computed once (a one-element list_transform). */
  let_ = (value: string, body: (v: string) => string): string => {
    if (SIMPLE.test(value)) return body(value);
    const v = this.fresh('v');
    return `list_transform([${value}], lambda ${v}: ${body(v)})[1]`;
  };

  private fresh(prefix: string): string {
    return `__${prefix}${++this.vars}`;
  }

  private type(node: Node) {
    return this.expr!.types.get(node)!;
  }

  /** A number (DOUBLE); `e`: the element index when inside a walk over a list. */
  num(node: Node, e?: Element): string {
    if (this.type(node).bool) return `CAST(${this.cond(node, e)} AS DOUBLE)`;
    switch (node.kind) {
      case 'num':
        return sqlNumber(node.value);
      case 'param': {
        const v = this.options.params?.[node.name];
        if (v === undefined) throw new ExprError(`no value for parameter '$${node.name}'`, this.expr!.source, node.pos);
        return sqlNumber(v);
      }
      case 'col':
        return this.type(node).list ? e!(node.name) : this.column(node.name);
      case 'unary':
        return `(-${this.num(node.arg, e)})`;
      case 'binary':
        return `(${this.num(node.left, e)} ${node.op} ${this.num(node.right, e)})`;
      case 'index':
        return this.pick(node.list, node.index);
      case 'filter':
        throw new Error('a selection is a list'); // bind() lets no list reach a number
      case 'call':
        return this.call(node, e);
    }
  }

  /** A condition (BOOLEAN, never NULL). */
  cond(node: Node, e?: Element): string {
    if (!this.type(node).bool)
      return this.let_(this.num(node, e), (v) => `coalesce(${v} <> 0 AND NOT isnan(${v}), FALSE)`);
    switch (node.kind) {
      case 'unary':
        return `(NOT ${this.cond(node.arg, e)})`;
      case 'binary':
        if (COMPARISONS.has(node.op)) return this.compare(this.num(node.left, e), node.op, this.num(node.right, e));
        return `(${this.cond(node.left, e)} ${node.op === '&&' ? 'AND' : 'OR'} ${this.cond(node.right, e)})`;
      case 'index':
        return `coalesce(${this.pick(node.list, node.index)}, FALSE)`;
      case 'call':
        return this.reduce(node.fn, node.args[0]);
      default:
        throw new Error(`${node.kind} is not a condition`);
    }
  }

  compare(a: string, op: BinaryOp, b: string): string {
    const sqlOp = op === '==' ? '=' : op === '!=' ? '<>' : op;
    return this.let_(a, (x) =>
      this.let_(b, (y) => {
        const notNan = [x, y].filter((v) => !v.startsWith("'")).map((v) => ` AND NOT isnan(${v})`);
        return `coalesce(${x} ${sqlOp} ${y}${notNan.join('')}, FALSE)`;
      }),
    );
  }

  private column(name: string): string {
    return `CAST(${this.columnSql(name)} AS DOUBLE)`;
  }

  private call(node: Extract<Node, { kind: 'call' }>, e?: Element): string {
    const { fn, args } = node;
    if (fn === 'mass' || fn === 'pairPt') return this.pair(node);
    if (REDUCTIONS.has(fn) && args.length === 1 && this.type(args[0]).list) return this.reduce(fn, args[0]);
    const xs = args.map((a) => this.num(a, e));
    if (fn in EXTREMA) return this.extremum(EXTREMA[fn].sql, xs, []);
    return MATH[fn].sql(xs, this.let_);
  }

  /** least/greatest, missing when any argument is (they skip NULLs, and order NaN above all). */
  private extremum(sqlFn: string, xs: string[], bound: string[]): string {
    if (bound.length < xs.length) return this.let_(xs[bound.length], (v) => this.extremum(sqlFn, xs, [...bound, v]));
    const missing = bound.map((v) => `coalesce(isnan(${v}), TRUE)`).join(' OR ');
    return `CASE WHEN ${missing} THEN 'nan'::DOUBLE ELSE ${sqlFn}(${bound.join(', ')}) END`;
  }

  /** Element k (0-based) of a list, NULL past its end. */
  private pick(list: Node, k: number): string {
    if (list.kind === 'col') return `CAST((${this.columnSql(list.name)})[${k + 1}] AS DOUBLE)`;
    return `(${this.list(list, this.type(list).bool)})[${k + 1}]`;
  }

  private reduce(fn: string, arg: Node): string {
    const bool = this.type(arg).bool;
    switch (fn) {
      case 'count':
        if (arg.kind === 'col') return `CAST(len(${this.columnSql(arg.name)}) AS DOUBLE)`;
        return bool
          ? `CAST(len(list_filter(${this.list(arg, true)}, lambda __b: __b)) AS DOUBLE)`
          : `CAST(len(${this.list(arg, false)}) AS DOUBLE)`;
      case 'sum':
        return this.let_(
          this.list(arg, false),
          (x) => `CASE WHEN len(${x}) = 0 THEN 0::DOUBLE ELSE list_sum(${x}) END`,
        );
      case 'min':
        // list_min skips NaN; the batch's minimum is missing with a missing element, as is list_max.
        return this.let_(
          this.list(arg, false),
          (x) => `CASE WHEN isnan(list_max(${x})) THEN 'nan'::DOUBLE ELSE list_min(${x}) END`,
        );
      case 'max':
        return `list_max(${this.list(arg, false)})`;
      case 'any':
        return `coalesce(list_bool_or(${this.list(arg, true)}), FALSE)`;
      case 'all':
        return this.let_(this.list(arg, true), (x) => `coalesce(len(${x}) = 0 OR list_bool_and(${x}), FALSE)`);
      default: // first
        return bool ? `coalesce(${this.pick(arg, 0)}, FALSE)` : this.pick(arg, 0);
    }
  }

  /**
   * A list node as an SQL list of DOUBLE, or of BOOLEAN when `bool`. Over one column, a lambda
   * takes its values; over several, their index (1-based), their lengths checked to be equal.
   */
  private list(node: Node, bool: boolean): string {
    const elem = (n: Node, e: Element) => (bool ? this.cond(n, e) : this.num(n, e));
    if (node.kind === 'col' && !bool) return `CAST(${this.columnSql(node.name)} AS DOUBLE[])`;
    const lists = this.collection(node);
    if (lists.length === 1) {
      const v = this.fresh('x');
      const value: Element = () => v;
      const values = `CAST(${this.columnSql(lists[0])} AS DOUBLE[])`;
      if (node.kind !== 'filter') return `list_transform(${values}, lambda ${v}: ${elem(node, value)})`;
      const kept = `list_filter(${values}, lambda ${v}: ${this.cond(node.mask, value)})`;
      return node.list.kind === 'col' && !bool
        ? kept
        : `list_transform(${kept}, lambda ${v}: ${elem(node.list, value)})`;
    }
    const i = this.fresh('e');
    const index: Element = (c) => `CAST((${this.columnSql(c)})[${i}] AS DOUBLE)`;
    const range = `range(1, len(${this.columnSql(lists[0])}) + 1)`;
    const walk =
      node.kind === 'filter'
        ? `list_transform(list_filter(${range}, lambda ${i}: ${this.cond(node.mask, index)}), lambda ${i}: ${elem(node.list, index)})`
        : `list_transform(${range}, lambda ${i}: ${elem(node, index)})`;
    return this.checkLengths(lists, walk);
  }

  /** The list columns a walk over `node` reads by index (not those inside a reduction or pick). */
  private collection(node: Node, out = new Set<string>()): string[] {
    if (node.kind === 'col') out.add(node.name);
    for (const child of childrenOf(node)) if (this.type(child).list) this.collection(child, out);
    return [...out];
  }

  /** `sql`, NULL when a list is null, an error when lists of one collection differ in length. */
  private checkLengths(columns: string[], sql: string): string {
    if (columns.length < 2) return sql;
    const cols = columns.map((c) => this.columnSql(c));
    const nulls = cols.map((c) => `${c} IS NULL`).join(' OR ');
    const lens = cols.map((c) => `coalesce(len(${c}), 0)`);
    const differ = lens
      .slice(1)
      .map((l) => `${lens[0]} <> ${l}`)
      .join(' OR ');
    const message = `lists of one collection differ in length (${columns.join(', ')}) in '${this.expr!.text}'`;
    return `CASE WHEN ${nulls} THEN NULL WHEN ${differ} THEN error(${sqlString(message)}) ELSE ${sql} END`;
  }

  /** mass() and pairPt() of objects i and j: each list's elements i and j. */
  private pair(node: Extract<Node, { kind: 'call' }>): string {
    const k = node.fn === 'mass' ? 4 : 2;
    const objects = node.args.slice(0, k);
    const [i, j] = node.args.slice(k).map((a) => (a as { value: number }).value);
    const at = (index: number) => objects.map((a) => (this.type(a).list ? this.pick(a, index) : this.num(a)));
    const sql = k === 4 ? pairMassSql(at(i), at(j), this.let_) : pairPtSql(at(i), at(j));
    const lists = objects.filter((a) => this.type(a).list);
    return lists.every((a) => a.kind === 'col')
      ? this.checkLengths(
          lists.map((a) => (a as { name: string }).name),
          sql,
        )
      : sql;
  }
}
