/**
 * Converts every tree of every ROOT file in a folder with `diffskim convert`, reads the Parquet back
 * with hyparquet (DuckDB reads 'ab' and 'Ab' as one column) and prints, per file and tree, one of:
 *
 *   exact        every column equals an independent reference: for scikit-hep-testdata's
 *                uproot-sample-*.root files the values of the macro that wrote them (samplePattern),
 *                else jsroot's own per-event TSelector read, with every fixed-length list of its length
 *                and every counted list as long as its counter says;
 *   clear error  diffskim refused the tree with an error naming the file;
 *   WRONG        a value, a list length or the event count differs, or an error that does not name the
 *                file (a stack trace's message).
 *
 *   npx tsx scripts/root-corpus.ts <dir>      (e.g. scikit-hep-testdata's src/skhep_testdata/data)
 *
 * Exits 1 when any tree is WRONG.
 */
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { convertRootToParquet } from '../src/pipeline/convertRoot.js';
import { listTrees, openRootTree, type RootTree } from '../src/sources/rootTree.js';
import { hyparquetColumns, referenceRead, type EventValues } from '../tests/root/reference.js';
import { samplePattern } from '../tests/root/samplePattern.js';

const dir = process.argv[2];
if (!dir) throw new Error('usage: npx tsx scripts/root-corpus.ts <dir>');
const files = readdirSync(dir)
  .filter((f) => f.endsWith('.root'))
  .sort();
const work = mkdtempSync(join(tmpdir(), 'root-corpus-'));
const counts = { exact: 0, 'clear error': 0, WRONG: 0 };
const PER_TREE_MS = 120_000;

for (const name of files) {
  const path = join(dir, name);
  let trees: (string | undefined)[];
  try {
    trees = await listTrees(path);
  } catch {
    trees = [];
  }
  // No tree: what convert says of the file (histograms only, an RNTuple, ...).
  for (const tree of trees.length ? trees : [undefined]) {
    const check = checkTree(path, tree).catch((e): Verdict => ['WRONG', `the check failed: ${(e as Error).stack}`]);
    const [verdict, detail] = await withTimeout(check);
    counts[verdict]++;
    console.log(`${verdict.padEnd(11)} ${name} ${tree ?? '(no tree)'}: ${detail}`);
  }
}
rmSync(work, { recursive: true, force: true });
console.log(
  `\n${files.length} files: ${Object.entries(counts)
    .map(([k, v]) => `${v} ${k}`)
    .join(', ')}`,
);
process.exit(counts.WRONG ? 1 : 0);

type Verdict = [keyof typeof counts, string];

async function withTimeout(check: Promise<Verdict>): Promise<Verdict> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<Verdict>((resolve) => {
    timer = setTimeout(() => resolve(['WRONG', `no answer in ${PER_TREE_MS / 1000} s`]), PER_TREE_MS);
  });
  try {
    return await Promise.race([check, late]);
  } finally {
    clearTimeout(timer);
  }
}

async function checkTree(path: string, treeName: string | undefined): Promise<Verdict> {
  const out = join(work, `${basename(path)}-${treeName ?? ''}.parquet`.replace(/[^\w.-]/g, '_'));
  let result: Awaited<ReturnType<typeof convertRootToParquet>>;
  try {
    result = await convertRootToParquet([path], out, { tree: treeName, codec: 'snappy' }); // hyparquet reads no zstd
  } catch (e) {
    const message = (e as Error).message;
    // A clear error names the file; a TypeError or RangeError is a bug's, whatever it says.
    const clear = message.includes(path) && !(e instanceof TypeError || e instanceof RangeError);
    if (!clear) return ['WRONG', `unclear error: ${(e as Error).stack}`];
    return ['clear error', message.replace(`${path}: `, '').split('\n')[0]];
  }
  const tree = await openRootTree(path, treeName);
  try {
    if (result.rows !== tree.entries) return ['WRONG', `${result.rows} events written of ${tree.entries}`];
    const columns = [...tree.branches.keys()];
    const got = await hyparquetColumns(out, columns);
    const sample = /^uproot-sample-/.test(basename(path)) ? samplePattern() : undefined;
    // jsroot's TSelector refuses branches without entries.
    const none = () => Object.fromEntries(columns.map((c) => [c, []]));
    const ref = sample ?? (tree.entries ? await referenceRead(path, tree.name, columns) : none());
    const skipped = result.skipped.length ? `; skipped ${result.skipped.map((s) => s.name).join(', ')}` : '';
    let byLength = 0;
    for (const c of columns) {
      const lengths = wrongLengths(tree, c, got);
      if (lengths) return ['WRONG', `${c}: ${lengths}`];
      const expected = ref[c];
      if (!expected) return ['WRONG', `${c}: not in the reference`];
      // jsroot's TSelector gives a fixed-length Char_t array as text: only its lengths are checked.
      const branch = tree.branches.get(c)!;
      if (!sample && branch.type === 'int8' && branch.fixedLength) {
        byLength++;
        continue;
      }
      const at = firstDifference(got[c], expected);
      const [a, b] = [got[c][at], expected[at]].map((v) => JSON.stringify(v));
      if (at >= 0) return ['WRONG', `${c}, entry ${at}: ${a}, expected ${b}`];
    }
    if (sample) {
      const missing = Object.keys(sample).filter((c) => !columns.includes(c));
      if (missing.length) return ['WRONG', `branches not read: ${missing.join(', ')}`];
    }
    const lengthOnly = byLength ? ` (${byLength} by length only)` : '';
    const against = sample ? "the writing macro's values" : `jsroot's TSelector${lengthOnly}`;
    return ['exact', `${tree.entries} events, ${columns.length} columns, against ${against}${skipped}`];
  } finally {
    tree.close();
  }
}

/** Why the list lengths of column `c` are wrong (fixed length, or its counter's values), or ''. */
function wrongLengths(tree: RootTree, c: string, got: Record<string, EventValues>): string {
  const b = tree.branches.get(c)!;
  if (!b.list) return '';
  const counter = b.counter ? (got[b.counter] ?? null) : null;
  for (let i = 0; i < got[c].length; i++) {
    const n = (got[c][i] as number[]).length;
    const want = b.fixedLength ?? (counter ? (counter[i] as number) : n);
    const by = b.fixedLength ? 'fixed length' : `counter ${b.counter}`;
    if (n !== want) return `entry ${i} has ${n} values, its ${by} says ${want}`;
  }
  return '';
}

function firstDifference(a: EventValues, b: EventValues): number {
  if (a.length !== b.length) return Math.min(a.length, b.length);
  const same = (x: number, y: number) => Object.is(x, y) || x === y;
  for (let i = 0; i < a.length; i++) {
    const x = a[i];
    const y = b[i];
    if (Array.isArray(x) !== Array.isArray(y)) return i;
    const lists = Array.isArray(x) && Array.isArray(y);
    if (lists ? x.length !== y.length || x.some((v, k) => !same(v, y[k])) : !same(x as number, y as number)) return i;
  }
  return -1;
}
