import { treeProcess, TSelector } from 'jsroot/tree';
import type { Column, EventBatch } from '../batch/batch.js';
import { allocate, type Field, type Schema, type TypedArray } from '../batch/schema.js';
import { type ColumnForm, columnForm, compileExpr, ExprError, exprOf } from '../selection/expr/index.js';
import { requireBranch, type RootBranch, type RootTree } from './rootTree.js';
import { InputError } from './inputError.js';

/**
 * How one output column is made from a branch: copied (flat or list), or a derived quantity
 * (count, first, abs) computed while reading so that the list itself is never materialised.
 */
export interface ColumnPlan {
  field: Field;
  fn: 'value' | 'count' | 'first' | 'abs';
  branch: RootBranch;
}

/** Plan the columns `names` (branch names or quantities such as 'count(Jet_pt)') of a tree. */
export function planColumns(tree: RootTree, names: string[]): ColumnPlan[] {
  return names.map((name) => {
    const q = quantityIn(tree, name);
    const branch = requireBranch(tree, q.column);
    if ((q.fn === 'count' || q.fn === 'first') && !branch.list)
      throw new Error(
        `${tree.path}: ${q.text}: branch '${branch.name}' is not a list (it has one ${branch.type} per event)`,
      );
    if (q.fn === 'abs' && branch.list)
      throw new Error(`${tree.path}: ${q.text}: branch '${branch.name}' is a list; use first() or count()`);
    const field: Field =
      q.fn === 'value'
        ? { name: q.text, type: branch.type, list: branch.list, nullable: false }
        : { name: q.text, type: q.fn === 'count' ? 'int32' : 'float64', list: false, nullable: false };
    return { field, fn: q.fn, branch };
  });
}

/**
 * A branch by its own name, whatever its characters ('6dVec'), else count(), first() or abs() of
 * one (other expressions are computed by the batch evaluator from the branches they read).
 */
function quantityIn(tree: RootTree, name: string): ColumnForm {
  if (tree.branches.has(name)) return { fn: 'value', column: name, text: name };
  const where = `${tree.path}: tree '${tree.name}'`;
  let form: ColumnForm | null;
  try {
    for (const c of compileExpr(name).columns) requireBranch(tree, c);
    form = columnForm(exprOf([...tree.branches.values()], name));
  } catch (e) {
    throw e instanceof ExprError ? e.in(where) : e;
  }
  if (!form)
    throw new Error(
      `${where}: '${name}' is an expression of several columns; the ROOT reader gives branches, ` +
        'and count(), first() or abs() of one',
    );
  return form;
}

export function planSchema(plans: ColumnPlan[]): Schema {
  return plans.map((p) => p.field);
}

/** Appends the values jsroot decoded to a column: one event's, or a run of events' (flat columns). */
interface ColumnBuilder {
  push(event: Record<string, unknown>, row: number): void;
  /** Events [from, from + count) of the per-branch arrays go to rows [row, row + count). */
  pushRun?(arrays: Record<string, ArrayLike<unknown>>, from: number, count: number, row: number): void;
  finish(rows: number): Column;
}

const TWO_63 = 2n ** 63n;

/** A (U)Long64 as jsroot gives it (a BigInt beyond 2^53, else a number), exactly. */
export function toBigInt(v: unknown, where: () => string): bigint {
  const x = typeof v === 'bigint' ? v : BigInt(Math.trunc(Number(v)));
  if (x >= TWO_63) {
    const what = `value ${x} does not fit a signed 64-bit integer (a ULong64_t at or above 2^63)`;
    throw new InputError('incompatible', `${where()}: ${what}; leave the branch out of the columns read`);
  }
  return x;
}

/** One event's values of a list branch; a Char_t array comes as bytes (see rootTree), viewed as int8. */
function eventList(event: Record<string, unknown>, branch: RootBranch): ArrayLike<number> {
  const v = event[branch.name] as ArrayLike<number>;
  return branch.type === 'int8' && v instanceof Uint8Array ? new Int8Array(v.buffer, v.byteOffset, v.length) : v;
}

/** Where an event's value is, for errors: file, tree, branch and entry. */
type Where = (row: number, branch: string) => string;

function flatBuilder(plan: ColumnPlan, rows: number, where: Where): ColumnBuilder {
  const { branch, fn } = plan;
  const values = allocate(plan.field.type, rows);
  const key = branch.name;
  if (fn === 'count' && branch.fixedLength) {
    values.fill(branch.fixedLength as never);
    return { push() {}, pushRun() {}, finish: (n) => ({ kind: 'flat', values: values.subarray(0, n) }) };
  }
  // first(), and count() of a vector (its own length), read the list itself.
  const ofList = fn === 'first' || (fn === 'count' && !branch.counter);
  const src = fn === 'count' ? (branch.counter ?? key) : key;
  let set: (v: unknown, row: number) => void;
  if (fn === 'count' && ofList) {
    const out = values as Int32Array;
    set = (v, row) => (out[row] = (v as ArrayLike<number>).length);
  } else if (fn === 'first') {
    const out = values as Float64Array;
    set = (v, row) => {
      const arr = v as ArrayLike<number>;
      out[row] = arr.length > 0 ? Number(arr[0]) : NaN;
    };
  } else if (fn === 'abs') {
    const out = values as Float64Array;
    set = (v, row) => (out[row] = Math.abs(Number(v)));
  } else if (values instanceof BigInt64Array) {
    set = (v, row) => (values[row] = toBigInt(v, () => where(row, branch.name)));
  } else {
    const out = values as unknown as number[];
    set = (v, row) => (out[row] = Number(v));
  }
  const push = (event: Record<string, unknown>, row: number) =>
    set(ofList ? eventList(event, branch) : event[src], row);
  const finish = (n: number): Column => ({ kind: 'flat', values: values.subarray(0, n) });
  // jsroot never decodes a list branch in runs.
  if (ofList) return { push, finish };
  const pushRun = (arrays: Record<string, ArrayLike<unknown>>, from: number, count: number, row: number) => {
    const arr = arrays[src];
    for (let i = 0; i < count; i++) set(arr[from + i], row + i);
  };
  return { push, pushRun, finish };
}

function listBuilder(plan: ColumnPlan, rows: number, where: Where): ColumnBuilder {
  const type = plan.field.type;
  const offsets = new Int32Array(rows + 1);
  let values: TypedArray = allocate(type, Math.max(16, rows)); // grows by doubling
  const big = values instanceof BigInt64Array;
  return {
    push(event, row) {
      const arr = eventList(event, plan.branch);
      const at = offsets[row];
      const end = at + arr.length;
      if (end > values.length) {
        const grown = allocate(type, Math.max(end, values.length * 2));
        grown.set(values as never);
        values = grown;
      }
      const here = () => where(row, plan.branch.name);
      if (big) for (let i = 0; i < arr.length; i++) (values as BigInt64Array)[at + i] = toBigInt(arr[i], here);
      else if (ArrayBuffer.isView(arr)) values.set(arr as never, at);
      else for (let i = 0; i < arr.length; i++) (values as unknown as number[])[at + i] = Number(arr[i]);
      offsets[row + 1] = end;
    },
    finish: (n) => ({ kind: 'list', offsets: offsets.slice(0, n + 1), values: values.slice(0, offsets[n]) }),
  };
}

/** Branches jsroot must read for the plans: counters before the lists they count. */
export function branchesToRead(plans: ColumnPlan[]): string[] {
  const counters = new Set<string>();
  const others = new Set<string>();
  for (const p of plans) {
    if (p.fn === 'count') {
      if (p.branch.counter) counters.add(p.branch.counter);
      else if (!p.branch.fixedLength) others.add(p.branch.name); // a vector, counted by its own length
    } else if (p.branch.counter) {
      counters.add(p.branch.counter);
      others.add(p.branch.name);
    } else others.add(p.branch.name);
  }
  return [...counters, ...[...others].filter((n) => !counters.has(n))];
}

export interface ReadTreeOptions {
  batchRows: number;
  /** Entries to read: [firstEntry, firstEntry + entries); by default the whole tree. */
  firstEntry?: number;
  entries?: number;
  /** Called with each full batch (and the last, shorter one). */
  onBatch(batch: EventBatch): void;
}

/**
 * Stream the planned columns of a range of entries as batches, in one jsroot treeProcess pass.
 * jsroot reads baskets in bunches (about 1 MB) and hands us one decoded event at a time, so
 * memory holds one bunch of baskets plus the batch being filled. (A pass cannot be paused: a
 * reader that must wait between batches reads the tree range by range.)
 */
export async function readTree(tree: RootTree, plans: ColumnPlan[], opts: ReadTreeOptions): Promise<void> {
  if (plans.length === 0) throw new Error(`${tree.path}: no columns to read`);
  const schema = planSchema(plans);
  const rows = opts.batchRows;
  const start = opts.firstEntry ?? 0;
  const end = Math.min(tree.entries, start + (opts.entries ?? tree.entries));
  let firstRow = start;
  let row = 0;
  let seen = 0;
  let failure: Error | undefined;
  const where: Where = (r, branch) => `${tree.path}: tree '${tree.name}', branch '${branch}', entry ${firstRow + r}`;
  const newBuilders = () => {
    // No bigger than the events left in the range: a small file with many branches stays small.
    const capacity = Math.max(1, Math.min(rows, end - firstRow));
    return plans.map((p) => (p.field.list ? listBuilder(p, capacity, where) : flatBuilder(p, capacity, where)));
  };
  let builders = newBuilders();

  const emit = () => {
    const columns: Record<string, Column> = {};
    plans.forEach((p, i) => (columns[p.field.name] = builders[i].finish(row)));
    const batch: EventBatch = { schema, length: row, columns, origin: { file: tree.path, firstRow } };
    firstRow += row;
    row = 0;
    builders = newBuilders();
    opts.onBatch(batch);
  };

  const selector = new TSelector();
  const readNames = branchesToRead(plans);
  // By the branch itself: jsroot's lookup by name misses 'a.b.b' where a branch 'a.b' exists (ATLAS xAOD).
  for (const name of readNames) selector.addBranch(tree.branches.get(name)!.jsroot, name);
  // Returning 'break' makes jsroot stop before reading the next bunch of baskets.
  selector.ShowProgress = () => (failure ? 'break' : undefined);
  // jsroot cannot propagate an exception thrown here, so remember it and stop instead.
  const checkEntry = (entry: number) => {
    if (entry !== firstRow + row)
      throw new Error(`${tree.path}: jsroot delivered entry ${entry}, expected ${firstRow + row}`);
  };
  selector.Process = function (this: { tgtobj: Record<string, unknown> }, entry: number) {
    if (failure) return;
    try {
      checkEntry(entry);
      for (const b of builders) b.push(this.tgtobj, row);
      row++;
      seen++;
      if (row === rows) emit();
    } catch (e) {
      failure = e as Error;
    }
  };
  // When every branch read is a scalar, jsroot can decode whole basket runs into arrays at once
  // (it still calls Process where baskets of different branches do not line up).
  if (builders.every((b) => b.pushRun)) {
    selector.ProcessArrays = function (this: { tgtarr: Record<string, ArrayLike<unknown>> }, entry: number) {
      if (failure) return;
      try {
        checkEntry(entry);
        const n = this.tgtarr[readNames[0]].length;
        for (let done = 0; done < n;) {
          const k = Math.min(n - done, rows - row);
          for (const b of builders) b.pushRun!(this.tgtarr, done, k, row);
          row += k;
          seen += k;
          done += k;
          if (row === rows) emit();
        }
      } catch (e) {
        failure = e as Error;
      }
    };
  }

  if (end <= start) return;
  try {
    await treeProcess(tree.jsroot, selector, { firstentry: start, numentries: end - start });
  } catch (e) {
    throw new InputError('unreadable', `${tree.path}: cannot read tree '${tree.name}': ${(e as Error).message}`);
  }
  if (failure) throw failure;
  if (row > 0) emit();
  // jsroot ends a pass quietly when a basket cannot be read or unpacked.
  if (seen !== end - start)
    throw new InputError(
      'unreadable',
      `${tree.path}: tree '${tree.name}': read stopped after entry ${start + seen} of ${tree.entries} (a basket of branches ${readNames.join(', ')} could not be read)`,
    );
}
