import { column, type EventBatch } from '../batch/batch.js';
import { printNode } from '../selection/expr/ast.js';
import { compileExpr, evaluate } from '../selection/expr/index.js';
import { type ObjectTemplate, objectText, parseObjectTemplate } from '../selection/objectCut.js';
import type { CutSpec } from './cuts.js';

/**
 * Object cuts: a cut on count(Jet_pt > c) or sum(Jet_pt[Jet_pt > c]) whose element threshold c is
 * learned with the cut (src/selection/objectCut.ts has the text form). Softly, each entry j of
 * the tested list x is selected with weight sigmoid(k (x_j - c)) (k < 0 for '<'), so that
 *
 *   soft count = sum_j r_j sigmoid(k (x_j - c))        soft sum = sum_j r_j v_j sigmoid(k (x_j - c))
 *
 * r_j = 1, or 0/1 as the mask's fixed conditions say (count(Jet_pt > $c && abs(Jet_eta) < 2.4)),
 * and the cut's own soft step applies to that: both steps become the hard ones as the slopes grow.
 */

/** The cut variable as cuts.json and SQL read it: an object cut's text with its threshold in place. */
export function cutVariable(c: CutSpec): string {
  return c.object ? objectText(parseObjectTemplate(c.column), c.object.threshold) : c.column;
}

/** An object cut's lists in a batch, as float64, with their common offsets. */
interface ObjectLists {
  offsets: Int32Array;
  test: Float64Array;
  /** Summed entries (sum), or null for count. */
  values: Float64Array | null;
  /** 0 where the list is null (the event fails the cut). */
  validity?: Uint8Array;
  /** Per entry, 1 where the mask's fixed conditions hold (null: no such conditions). */
  keep: Float64Array | null;
}

function objectLists(batch: EventBatch, t: ObjectTemplate): ObjectLists {
  const list = (name: string) => {
    const c = column(batch, name);
    if (c.kind !== 'list') throw new Error(`column '${name}' of an object cut is not a list column`);
    return c;
  };
  const test = list(t.test);
  const values = t.reduce === 'sum' ? list(t.values) : null;
  if (values && values !== test)
    for (let i = 0; i < batch.length; i++) {
      if (values.offsets[i + 1] - values.offsets[i] !== test.offsets[i + 1] - test.offsets[i])
        throw new Error(
          `lists '${t.values}' and '${t.test}' of an object cut differ in length at event ${i} of the batch: ` +
            'they must be lists of one collection',
        );
    }
  const floats = (c: { values: ArrayLike<number | bigint> }, start: number, end: number) =>
    Float64Array.from({ length: end - start }, (_, j) => Number(c.values[start + j]));
  const base = (c: typeof test) => floats(c, c.offsets[0], c.offsets[batch.length]);
  let validity = test.validity;
  if (values?.validity) validity = validity ? validity.map((v, i) => v & values.validity![i]) : values.validity;
  // Offsets relative to the lists' first entry (a sliced batch's may not start at 0).
  const offsets = test.offsets.map((o) => o - test.offsets[0]);
  return {
    offsets,
    test: base(test),
    values: values && base(values),
    validity,
    keep: fixedConditions(batch, t, offsets),
  };
}

/**
 * Per entry, whether the mask's fixed conditions hold: the expression language computes the
 * condition's list, entry j of every event at a time ((abs(Jet_eta) < 2.4)[j], 0 past the end).
 */
function fixedConditions(batch: EventBatch, t: ObjectTemplate, offsets: Int32Array): Float64Array | null {
  if (!t.also) return null;
  const keep = new Float64Array(offsets[batch.length]);
  let longest = 0;
  for (let i = 0; i < batch.length; i++) longest = Math.max(longest, offsets[i + 1] - offsets[i]);
  const condition = printNode(t.also);
  for (let j = 0; j < longest; j++) {
    const holds = evaluate(compileExpr(`(${condition})[${j}]`), batch);
    for (let i = 0; i < batch.length; i++) if (offsets[i] + j < offsets[i + 1]) keep[offsets[i] + j] = holds[i];
  }
  return keep;
}

/**
 * The soft count or sum per event at steepness k = slope x multiplier (in 1/unit of the list):
 * sum_j v_j sigmoid(sign k (x_j - c)). NaN entries are never selected; a null list gives NaN. (The
 * hard count or sum is the expression language's, with c in place: see objectText.)
 */
export function objectReduction(batch: EventBatch, t: ObjectTemplate, c: number, k: number): Float64Array {
  const l = objectLists(batch, t);
  const out = new Float64Array(batch.length);
  for (let i = 0; i < batch.length; i++) {
    if (l.validity && !l.validity[i]) {
      out[i] = NaN;
      continue;
    }
    let s = 0;
    for (let j = l.offsets[i]; j < l.offsets[i + 1]; j++) {
      const d = t.sign * (l.test[j] - c);
      // NaN compares false: never selected, hard or soft.
      if (d !== d) continue;
      s += sigmoid(k * d) * (l.values ? l.values[j] : 1) * (l.keep ? l.keep[j] : 1);
    }
    out[i] = s;
  }
  return out;
}

/** sigmoid(a) without overflow. */
function sigmoid(a: number): number {
  if (a >= 0) return 1 / (1 + Math.exp(-a));
  const e = Math.exp(a);
  return e / (1 + e);
}

/** The tested list's entries of a batch (for their statistics). */
export function objectEntries(batch: EventBatch, t: ObjectTemplate): Float64Array {
  return objectLists(batch, t).test;
}

/**
 * An object cut's lists padded to the batch's longest, for the TF.js model: [n, width] row-major,
 * `test` the tested entries and `weight` what each adds to the reduction (1 for count, the summed
 * entry for sum; 0 for padding and for NaN entries, which are never selected). `valid` is 0 for
 * a null list, and for a NaN or infinite summed entry (the event is left out of training: its hard
 * sum is NaN or infinite wherever that entry is selected).
 */
export interface PaddedObject {
  width: number;
  test: Float32Array;
  weight: Float32Array;
  valid: Uint8Array;
}

export function paddedObject(batch: EventBatch, t: ObjectTemplate, fill: number): PaddedObject {
  const l = objectLists(batch, t);
  const n = batch.length;
  let width = 1;
  for (let i = 0; i < n; i++) width = Math.max(width, l.offsets[i + 1] - l.offsets[i]);
  const test = new Float32Array(n * width).fill(fill);
  const weight = new Float32Array(n * width);
  const valid = new Uint8Array(n).fill(1);
  for (let i = 0; i < n; i++) {
    if (l.validity && !l.validity[i]) valid[i] = 0;
    for (let j = l.offsets[i], at = i * width; j < l.offsets[i + 1]; j++, at++) {
      const x = l.test[j];
      if (Number.isNaN(x)) continue;
      test[at] = x;
      const v = l.values ? l.values[j] : 1;
      if (!Number.isFinite(v)) valid[i] = 0;
      else weight[at] = v * (l.keep ? l.keep[j] : 1);
    }
  }
  return { width, test, weight, valid };
}
