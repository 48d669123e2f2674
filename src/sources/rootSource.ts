import type { Observable } from 'rxjs';
import { indicesOf, selectColumns, takeRows, type EventBatch } from '../batch/batch.js';
import { schemaDifference, type Schema } from '../batch/schema.js';
import { passMask } from '../selection/cutsFile.js';
import { columnsOf as exprColumns } from '../selection/expr/index.js';
import { branchesToRead, type ColumnPlan, planColumns, planSchema, readTree } from './rootRead.js';
import { fromPull } from './parquetStream.js';
import { largestBasketEntries, openRootTree, readableBranches, type RootBranch, type RootTree } from './rootTree.js';
import type { DatasetInfo, EventSource, FileInfo, ReadOptions } from './types.js';
import { InputError } from './inputError.js';
import { DEFAULT_ROOT_BATCH_ROWS } from './rootDefaults.js';

export interface RootSourceOptions {
  /** Tree name; by default the only tree in each file. */
  tree?: string;
  /** Columns read when a pass does not name its own; by default every readable branch. */
  branches?: string[];
  /** Entries per jsroot pass, rounded up to whole batches (default: see rangeBatches). */
  rangeEntries?: number;
}

/** Entries per jsroot pass at least, by default (two default batches). */
const RANGE_ENTRIES = 65536;

/**
 * ROOT files (TTrees, read with jsroot) as an event source. `paths` are files, read as named (a name
 * holding `*` or `[` is that file: expandInputs finds files for folders and globs); all files
 * must give the same schema.
 */
export function rootSource(paths: string[], opts: RootSourceOptions = {}): EventSource {
  if (paths.length === 0) throw new Error('no ROOT files given');
  const columnsOf = (tree: RootTree, wanted?: string[]) => {
    const names = unique(wanted ?? opts.branches ?? readableBranches(tree));
    if (names.length === 0) throw new Error(`${tree.path}: tree '${tree.name}': no columns named to read`);
    return names;
  };

  return {
    async describe(): Promise<DatasetInfo> {
      const files: FileInfo[] = [];
      const columnBytes: Record<string, number> = {};
      const columnValues: Record<string, number> = {};
      // Branches diffskim cannot read, when no branch list chose the columns.
      const unsupported = new Map<string, string>();
      let schema: Schema | undefined;
      for (const path of paths) {
        const tree = await openRootTree(path, opts.tree);
        try {
          const plans = planColumns(tree, columnsOf(tree));
          schema = checkSchema(schema, planSchema(plans), path);
          const lists = plans.map((p) => p.branch).filter((b) => b.list && !b.fixedLength);
          const listLengths = await totalListLengths(tree, lists);
          for (const p of plans) {
            const name = p.field.name;
            const counter = p.branch.counter;
            // A count() is stored as its counter branch; first() and abs() read the whole branch.
            const stored = p.fn === 'count' && counter ? tree.branches.get(counter)! : p.branch;
            columnBytes[name] = (columnBytes[name] ?? 0) + stored.compressedBytes;
            const listValues = () => listLengths.get(p.branch.name) ?? tree.entries * p.branch.fixedLength!;
            const values = p.field.list ? listValues() : tree.entries;
            columnValues[name] = (columnValues[name] ?? 0) + values;
          }
          if (!opts.branches) for (const [name, why] of tree.unsupported) unsupported.set(name, why);
          // A ROOT file has no row groups; its baskets are per branch.
          files.push({ path, bytes: tree.bytes, rows: tree.entries, rowGroups: 1 });
        } finally {
          tree.close();
        }
      }
      return {
        files,
        schema: schema!,
        rows: files.reduce((s, f) => s + f.rows, 0),
        bytesOnDisk: files.reduce((s, f) => s + f.bytes, 0),
        columnBytes,
        columnValues,
        unsupported: [...unsupported].map(([name, type]) => ({ name, type })),
      };
    },

    batches(options: ReadOptions = {}): Observable<EventBatch> {
      const cuts = options.where ?? [];
      const batchRows = options.batchRows ?? DEFAULT_ROOT_BATCH_ROWS;
      return fromPull(async function* () {
        if (!Number.isInteger(batchRows) || batchRows <= 0)
          throw new Error(`batchRows must be a positive integer, got ${batchRows}`);
        let schema: Schema | undefined;
        for (const path of paths) {
          const tree = await openRootTree(path, opts.tree);
          try {
            const wanted = columnsOf(tree, options.columns);
            // The columns of cut variables not in the projection are read too, then dropped after the cut.
            const branches = [...tree.branches.values()];
            const withCuts = unique([...wanted, ...cuts.flatMap((c) => exprColumns(branches, c.column))]);
            const plans = planColumns(tree, withCuts);
            schema = checkSchema(schema, planSchema(plans), path);
            for await (const b of rangeBatches(tree, plans, batchRows, opts.rangeEntries)) {
              const out = cuts.length ? selectColumns(keepPassing(b, cuts), wanted) : b;
              if (out.length > 0) yield out;
            }
          } finally {
            tree.close();
          }
        }
      }, options.demand);
    },
  };
}

/**
 * Batches of a tree, read range by range: jsroot's treeProcess cannot pause, so each call reads
 * a range of entries, and the next range is read only when those batches are taken. A basket
 * that straddles two ranges is read and unpacked twice, so by default a range spans at least
 * RANGE_ENTRIES entries and ten of the largest baskets read (at most ~10% read twice).
 */
async function* rangeBatches(
  tree: RootTree,
  plans: ColumnPlan[],
  batchRows: number,
  rangeEntries?: number,
): AsyncGenerator<EventBatch> {
  const baskets = branchesToRead(plans).map((name) => largestBasketEntries(tree.branches.get(name)!.jsroot));
  const entries = rangeEntries ?? Math.max(RANGE_ENTRIES, 10 * Math.max(...baskets));
  // A whole number of batches per range keeps every batch but a tree's last one full.
  const range = batchRows * Math.max(1, Math.ceil(entries / batchRows));
  for (let first = 0; first < tree.entries; first += range) {
    const batches: EventBatch[] = [];
    await readTree(tree, plans, { batchRows, firstEntry: first, entries: range, onBatch: (b) => batches.push(b) });
    yield* batches;
  }
}

function keepPassing(batch: EventBatch, cuts: NonNullable<ReadOptions['where']>): EventBatch {
  const mask = passMask(batch, cuts);
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  if (n === batch.length) return batch;
  const rows = indicesOf(mask, n);
  const kept = takeRows(batch, rows);
  // The origin's first row is the entry of the first event kept, as a Parquet pass gives it.
  const o = batch.origin;
  if (o && n > 0) kept.origin = { ...o, ...(o.firstRow !== undefined && { firstRow: o.firstRow + rows[0] }) };
  return kept;
}

function unique(names: string[]): string[] {
  return [...new Set(names)];
}

function checkSchema(first: Schema | undefined, schema: Schema, path: string): Schema {
  if (!first) return schema;
  const diff = schemaDifference(first, schema);
  if (diff) throw new InputError('incompatible', `${path}: schema differs from the first file: ${diff}`);
  return first;
}

/** Values stored in each list branch of variable length: the sum of its counter or its vectors' lengths. */
async function totalListLengths(tree: RootTree, lists: RootBranch[]): Promise<Map<string, number>> {
  const names = unique(lists.map((b) => b.name));
  const totals = new Map(names.map((n) => [n, 0]));
  if (names.length === 0) return totals;
  // count() of each list, under the list's name: its counter's values, or a vector's own lengths.
  const plans: ColumnPlan[] = names.map((n) => ({
    field: { name: n, type: 'int32', list: false, nullable: false },
    fn: 'count',
    branch: tree.branches.get(n)!,
  }));
  await readTree(tree, plans, {
    batchRows: DEFAULT_ROOT_BATCH_ROWS,
    onBatch(batch) {
      for (const n of names) {
        const v = batch.columns[n].values as ArrayLike<number>;
        let s = 0;
        for (let i = 0; i < v.length; i++) s += v[i];
        totals.set(n, totals.get(n)! + s);
      }
    },
  });
  return totals;
}
