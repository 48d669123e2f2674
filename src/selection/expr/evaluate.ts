import { type Column, column, type EventBatch } from '../../batch/batch.js';
import type { TypedArray } from '../../batch/schema.js';
import type { BinaryOp, Node } from './ast.js';
import { type Expr, exprOf } from './bind.js';
import { ExprError } from './errors.js';
import { EXTREMA, MATH, pairMass, pairPt, REDUCTIONS } from './functions.js';

/**
 * The columnar evaluator: one Float64Array per node (a list: offsets + values), no object per
 * event. Missing values (null, NaN, an index past the end of a list) are NaN; a comparison with a
 * missing value is false, so is any condition on it, and an event fails a cut on it.
 */

/** A list per event: event i owns values[offsets[i] .. offsets[i + 1]); `missing[i]` a null list. */
interface ListValue {
  offsets: Int32Array;
  values: Float64Array;
  missing?: Uint8Array;
  /** The columns it was computed from, for errors. */
  columns: string[];
}
type Value = Float64Array | ListValue;

const isList = (v: Value): v is ListValue => !(v instanceof Float64Array);
const truthy = (x: number) => x !== 0 && x === x;

const BINARY: Record<BinaryOp, (a: number, b: number) => number> = {
  '+': (a, b) => a + b,
  '-': (a, b) => a - b,
  '*': (a, b) => a * b,
  '/': (a, b) => a / b,
  '>': (a, b) => (a > b ? 1 : 0),
  '<': (a, b) => (a < b ? 1 : 0),
  '>=': (a, b) => (a >= b ? 1 : 0),
  '<=': (a, b) => (a <= b ? 1 : 0),
  '==': (a, b) => (a === b ? 1 : 0),
  // Missing is unequal to nothing: every comparison with it is false.
  '!=': (a, b) => (a === a && b === b && a !== b ? 1 : 0),
  '&&': (a, b) => (truthy(a) && truthy(b) ? 1 : 0),
  '||': (a, b) => (truthy(a) || truthy(b) ? 1 : 0),
};

export interface EvaluateOptions {
  /** Values of the expression's parameters (`$c`). */
  params?: Record<string, number>;
}

/**
 * Per-event values of an expression as float64: numbers (NaN where missing), or 1/0 for a
 * condition. A batch column named by the expression's text (a source computed it) is read as it is.
 */
export function evaluate(expr: Expr, batch: EventBatch, options: EvaluateOptions = {}): Float64Array {
  if (expr.node.kind !== 'col' && batch.columns[expr.text]) return flatValues(batch.columns[expr.text], batch.length);
  return new Evaluator(expr, batch, options.params ?? {}).scalar(expr.node);
}

/** Per-event values of a column or expression of a batch (`exprOf`): a cut variable, feature, label or weight. */
export function valuesOf(batch: EventBatch, text: string, options: EvaluateOptions = {}): Float64Array {
  return evaluate(exprOf(batch.schema, text), batch, options);
}

class Evaluator {
  constructor(
    private readonly expr: Expr,
    private readonly batch: EventBatch,
    private readonly params: Record<string, number>,
  ) {}

  scalar(node: Node): Float64Array {
    return this.value(node) as Float64Array;
  }

  private list(node: Node): ListValue {
    return this.value(node) as ListValue;
  }

  private value(node: Node): Value {
    const n = this.batch.length;
    switch (node.kind) {
      case 'num':
        return new Float64Array(n).fill(node.value);
      case 'param': {
        const v = this.params[node.name];
        if (v === undefined) throw new ExprError(`no value for parameter '$${node.name}'`, this.expr.source, node.pos);
        return new Float64Array(n).fill(v);
      }
      case 'col':
        return this.column(node.name);
      case 'unary':
        return node.op === '-' ? this.map([node.arg], (a) => -a) : this.map([node.arg], (a) => (truthy(a) ? 0 : 1));
      case 'binary':
        return this.map([node.left, node.right], BINARY[node.op]);
      case 'index': {
        const bool = this.expr.types.get(node)!.bool;
        return this.pick(this.list(node.list), node.index, bool ? 0 : NaN);
      }
      case 'filter':
        return this.filter(this.list(node.list), this.list(node.mask));
      case 'call':
        return this.call(node);
    }
  }

  private call(node: Extract<Node, { kind: 'call' }>): Value {
    const { fn, args } = node;
    if (fn === 'mass' || fn === 'pairPt') return this.pair(node);
    const t = this.expr.types.get(args[0])!;
    if (REDUCTIONS.has(fn) && args.length === 1 && t.list) return this.reduce(fn, this.list(args[0]), t.bool);
    if (fn in EXTREMA) {
      const f = EXTREMA[fn].js;
      return args.length === 2 ? this.map(args, (a, b) => f(a, b)) : this.map(args, (...xs) => f(...xs));
    }
    return this.map(args, MATH[fn].js);
  }

  private column(name: string): Value {
    const col = column(this.batch, name);
    if (col.kind === 'flat') return flatValues(col, this.batch.length);
    const n = this.batch.length;
    const base = col.offsets[0];
    const offsets = base === 0 ? col.offsets.subarray(0, n + 1) : col.offsets.slice(0, n + 1).map((o) => o - base);
    const values = toFloat64(col.values.subarray(base, col.offsets[n]));
    return { offsets, values, missing: col.validity && invert(col.validity, n), columns: [name] };
  }

  /** f applied to numbers, or element by element to lists of one collection (numbers repeated per element). */
  private map(args: Node[], f: (...x: number[]) => number): Value {
    const values = args.map((a) => this.value(a));
    const lists = values.filter(isList);
    if (lists.length === 0) return mapArrays(values as Float64Array[], this.batch.length, f);
    // Lists of one collection: every argument laid out per element (a number repeated over its event's).
    const { offsets, missing, columns } = this.align(lists);
    const n = this.batch.length;
    const elements = values.map((v) => {
      if (isList(v) && v.offsets === offsets) return v.values;
      const out = new Float64Array(offsets[n]);
      if (!isList(v)) {
        for (let i = 0; i < n; i++) for (let j = offsets[i], x = v[i]; j < offsets[i + 1]; j++) out[j] = x;
        return out;
      }
      for (let i = 0; i < n; i++) {
        // (A null list may be shorter: the event's result is null.)
        const end = Math.min(offsets[i + 1], offsets[i] + v.offsets[i + 1] - v.offsets[i]);
        for (let j = offsets[i], from = v.offsets[i]; j < end; j++) out[j] = v.values[from++];
      }
      return out;
    });
    return { offsets, values: mapArrays(elements, offsets[n], f), missing, columns };
  }

  /** The common per-event lengths of lists of one collection, or an error naming the columns and the entry. */
  private align(lists: ListValue[]): { offsets: Int32Array; missing?: Uint8Array; columns: string[] } {
    const [first, ...rest] = lists;
    const n = this.batch.length;
    const missingOnes = lists.filter((l) => l.missing);
    let missing: Uint8Array | undefined;
    if (missingOnes.length) {
      missing = new Uint8Array(n);
      for (const l of missingOnes) for (let i = 0; i < n; i++) missing[i] |= l.missing![i];
    }
    // A null list has no elements to match (the result is null there).
    for (const other of rest) {
      if (other.offsets === first.offsets) continue;
      for (let i = 0; i < n; i++) {
        const [a, b] = [first.offsets[i + 1] - first.offsets[i], other.offsets[i + 1] - other.offsets[i]];
        if (a !== b && !missing?.[i]) throw this.lengthError(first, other, i, a, b);
      }
    }
    const columns = [...new Set(lists.flatMap((l) => l.columns))];
    if (first.offsets[0] === 0 && rest.every((l) => l.offsets === first.offsets))
      return { offsets: first.offsets, missing, columns };
    const offsets = new Int32Array(n + 1);
    for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + first.offsets[i + 1] - first.offsets[i];
    return { offsets, missing, columns };
  }

  private lengthError(a: ListValue, b: ListValue, i: number, la: number, lb: number): Error {
    const o = this.batch.origin;
    const where = o?.firstRow !== undefined ? `entry ${o.firstRow + i}` : `event ${i} of a batch`;
    const file = o?.file ? `${o.file}: ` : '';
    return new ExprError(
      `${file}${where}: lists of one collection differ in length (${a.columns.join(', ')}: ${la}; ` +
        `${b.columns.join(', ')}: ${lb}) in '${this.expr.text}'`,
      this.expr.source,
    );
  }

  private filter(list: ListValue, mask: ListValue): ListValue {
    const { offsets: aligned, missing, columns } = this.align([list, mask]);
    const n = this.batch.length;
    const offsets = new Int32Array(n + 1);
    const kept = new Float64Array(aligned[n]);
    let k = 0;
    for (let i = 0; i < n; i++) {
      for (let j = 0; j < aligned[i + 1] - aligned[i]; j++)
        if (truthy(mask.values[mask.offsets[i] + j])) kept[k++] = list.values[list.offsets[i] + j];
      offsets[i + 1] = k;
    }
    return { offsets, values: kept.subarray(0, k), missing, columns };
  }

  /** Element k of each event's list; `absent` where it has no element k (or is null). */
  private pick(list: ListValue, k: number, absent: number): Float64Array {
    const out = new Float64Array(this.batch.length);
    for (let i = 0; i < out.length; i++) {
      const o = list.offsets[i];
      out[i] = !list.missing?.[i] && list.offsets[i + 1] - o > k ? list.values[o + k] : absent;
    }
    return out;
  }

  private reduce(fn: string, list: ListValue, bool: boolean): Float64Array {
    const n = this.batch.length;
    const out = new Float64Array(n);
    const { offsets, values, missing } = list;
    let j: number;
    for (let i = 0; i < n; i++) {
      const [lo, hi] = [offsets[i], offsets[i + 1]];
      if (missing?.[i]) {
        out[i] = fn === 'any' || fn === 'all' ? 0 : NaN;
        continue;
      }
      let r: number;
      switch (fn) {
        case 'count':
          if (!bool) r = hi - lo;
          else for (r = 0, j = lo; j < hi; j++) r += truthy(values[j]) ? 1 : 0;
          break;
        case 'sum':
          for (r = 0, j = lo; j < hi; j++) r += values[j];
          break;
        case 'min':
        case 'max':
          // Empty: missing; a missing element makes it missing (Math.min/max give NaN).
          r = hi > lo ? values[lo] : NaN;
          for (j = lo + 1; j < hi; j++) r = fn === 'min' ? Math.min(r, values[j]) : Math.max(r, values[j]);
          break;
        case 'any':
          for (r = 0, j = lo; j < hi && !r; j++) r = truthy(values[j]) ? 1 : 0;
          break;
        case 'all':
          for (r = 1, j = lo; j < hi && r; j++) r = truthy(values[j]) ? 1 : 0;
          break;
        default: // first
          r = hi > lo ? values[lo] : bool ? 0 : NaN;
      }
      out[i] = r;
    }
    return out;
  }

  /** mass(pt, eta, phi, m, i, j) and pairPt(pt, phi, i, j) of objects i and j of each event. */
  private pair(node: Extract<Node, { kind: 'call' }>): Float64Array {
    const k = node.fn === 'mass' ? 4 : 2;
    const values = node.args.slice(0, k).map((a) => this.value(a));
    const [a, b] = node.args.slice(k).map((x) => (x as { value: number }).value);
    const lists = values.filter(isList);
    const { offsets, missing } = this.align(lists);
    const n = this.batch.length;
    const out = new Float64Array(n);
    const at = (v: Value, i: number, e: number) => (isList(v) ? v.values[v.offsets[i] + e] : v[i]);
    const [p, q] = [new Array<number>(k), new Array<number>(k)];
    for (let i = 0; i < n; i++) {
      if (missing?.[i] || offsets[i + 1] - offsets[i] <= Math.max(a, b)) {
        out[i] = NaN;
        continue;
      }
      for (let m = 0; m < k; m++) {
        p[m] = at(values[m], i, a);
        q[m] = at(values[m], i, b);
      }
      out[i] = k === 4 ? pairMass(p[0], p[1], p[2], p[3], q[0], q[1], q[2], q[3]) : pairPt(p[0], p[1], q[0], q[1]);
    }
    return out;
  }
}
let j = 0;

/** f of the arrays' k-th entries, for k < n. */
function mapArrays(xs: Float64Array[], n: number, f: (...x: number[]) => number): Float64Array {
  const out = new Float64Array(n);
  const [a, b] = xs;
  if (xs.length === 1) for (let k = 0; k < n; k++) out[k] = f(a[k]);
  else if (xs.length === 2) for (let k = 0; k < n; k++) out[k] = f(a[k], b[k]);
  else {
    const args = new Array<number>(xs.length);
    for (let k = 0; k < n; k++) {
      for (let m = 0; m < xs.length; m++) args[m] = xs[m][k];
      out[k] = f(...args);
    }
  }
  return out;
}

/** A flat column's values as float64, NaN where null. */
function flatValues(col: Column, n: number): Float64Array {
  const out = toFloat64(col.values.subarray(0, n), col.validity !== undefined);
  if (col.validity) for (let i = 0; i < n; i++) if (!col.validity[i]) out[i] = NaN;
  return out;
}

/** Float64 values of a typed array (a copy unless `copy` is false and it is float64 already). */
function toFloat64(v: TypedArray, copy = false): Float64Array {
  if (v instanceof Float64Array) return copy ? v.slice() : v;
  const out = new Float64Array(v.length);
  if (v instanceof BigInt64Array) for (let i = 0; i < v.length; i++) out[i] = Number(v[i]);
  else out.set(v as ArrayLike<number>);
  return out;
}

function invert(validity: Uint8Array, n: number): Uint8Array {
  const out = new Uint8Array(n);
  for (let i = 0; i < n; i++) out[i] = validity[i] ? 0 : 1;
  return out;
}
