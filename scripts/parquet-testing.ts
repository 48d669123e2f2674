/**
 * The Parquet format's own test files (apache/parquet-testing, data/ and bad_data/) through a
 * skim, each checked against an independent reader (hyparquet, else parquet-wasm):
 *   npx tsx scripts/parquet-testing.ts <dir>
 * Per file (every *.parquet and *.parquet.encrypted under <dir>): a cut on its first numeric
 * column at its median (a plain copy where it has none), run by runSkim. (One file,
 * large_string_map.brotli.parquet, holds two strings of 1 GiB: DuckDB takes ~2.5 minutes on it.) The file comes out
 *   exact        the skim has the rows the reference reader keeps with that cut (the kept
 *                values equal too) and the file's column names, or
 *   clear error  the skim refuses it with an error naming the file (no stack trace), or
 *   WRONG        anything else: other rows or names, an error that does not name the file.
 * It prints a table and the totals, and exits 1 when a file is WRONG.
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { tableFromIPC } from 'apache-arrow';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { readParquet } from 'parquet-wasm';
import type { Field } from '../src/batch/schema.js';
import type { CutsFile } from '../src/selection/cutsFile.js';
import { parseExpr } from '../src/selection/expr/index.js';
import { runSkim } from '../src/skim/runSkim.js';
import { parquetSource } from '../src/sources/parquet.js';

export type Outcome = 'exact' | 'clear error' | 'WRONG';

export interface FileCheck {
  file: string;
  outcome: Outcome;
  rowsIn: number | null;
  rowsKept: number | null;
  /** Rows the reference reader keeps with the same cut. */
  referenceKept: number | null;
  /** The reader that gave the reference, or null when none could read the file. */
  reference: string | null;
  /** The cut (or 'copy'), the error, or what differs. */
  note: string;
}

/** A file as an independent reader sees it: top-level column names, rows, and one column's values. */
interface Read {
  names: string[];
  rows: number;
  values: (number | null)[] | null;
}

type Reader = { name: string; read: (bytes: Uint8Array, column: string | null) => Promise<Read> };

const asNumber = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

const READERS: Reader[] = [
  {
    name: 'hyparquet',
    async read(bytes, column) {
      const file = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
      const metadata = parquetMetadata(file);
      const names = parquetSchema(metadata).children.map((c) => c.element.name);
      if (column === null) return { names, rows: Number(metadata.num_rows), values: null };
      const rows = await parquetReadObjects({ file, metadata, columns: [column] });
      return { names, rows: rows.length, values: rows.map((r) => asNumber(r[column])) };
    },
  },
  {
    name: 'parquet-wasm',
    async read(bytes, column) {
      const table = tableFromIPC(readParquet(bytes).intoIPCStream());
      const names = table.schema.fields.map((f) => f.name);
      const vector = column === null ? null : table.getChild(column);
      const values = vector ? Array.from({ length: table.numRows }, (_, i) => asNumber(vector.get(i))) : null;
      return { names, rows: table.numRows, values };
    },
  },
];

/** The first reader's view of the file that can read it, with its name. */
async function readWithAny(bytes: Uint8Array, column: string | null): Promise<(Read & { reader: string }) | null> {
  for (const r of READERS) {
    try {
      return { ...(await r.read(bytes, column)), reader: r.name };
    } catch {
      // the next reader
    }
  }
  return null;
}

/** The value of the middle rank among the finite ones, or null when there is none. */
function median(values: (number | null)[]): number | null {
  const finite = values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  return finite.length ? finite[finite.length >> 1] : null;
}

/** A column name that cuts.json can name (its grammar has no quoting: 'c_customer_sk:' cannot be cut on). */
function nameable(name: string): boolean {
  try {
    const node = parseExpr(name);
    return node.kind === 'col' && node.name === name;
  } catch {
    return false;
  }
}

/**
 * The cut a file gets: its first flat numeric column that a cut can name, as diffskim sees the
 * file (a copy when it has none).
 */
async function cutColumn(file: string): Promise<string | null> {
  try {
    const [meta] = await parquetSource([file]).files();
    const numeric = (f: Field) => !f.list && f.type !== 'bool' && meta.columns.includes(f.name) && nameable(f.name);
    return meta.schema.find(numeric)?.name ?? null;
  } catch {
    return null; // the skim will say why
  }
}

const sortedValues = (xs: (number | null)[]) => xs.map((x) => x ?? NaN).sort((a, b) => a - b);

/** One file through a skim (outputs under `work`), checked against an independent reader. */
export async function checkFile(file: string, work: string): Promise<FileCheck> {
  const bytes = new Uint8Array(await readFile(file));
  const column = await cutColumn(file);
  let ref = await readWithAny(bytes, column);
  if (ref && column !== null && !ref.values) ref = null; // the reader does not have the column diffskim reads
  const cutValue = ref?.values ? median(ref.values) : null;
  const cut = column !== null && cutValue !== null ? { column, op: '>' as const, value: cutValue } : null;
  const cuts: CutsFile = { cuts: cut ? [cut] : [], score: null };
  // A null or NaN fails the cut.
  const passes = (v: number | null) => cut === null || (v !== null && v > cut.value);
  const keptByReference = ref && (cut ? ref.values!.filter(passes) : null);
  const referenceKept = ref ? (keptByReference?.length ?? ref.rows) : null;
  const base = { file, rowsIn: null, rowsKept: null, referenceKept, reference: ref?.reader ?? null };
  const cutText = cut ? `${column} > ${cutValue}` : 'copy';
  let skim;
  try {
    skim = await runSkim({ inputs: [file], cuts, outDir: work, signal: AbortSignal.timeout(600_000) });
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    const clear = message.includes(file) && !/\n\s+at /.test(message);
    return { ...base, outcome: clear ? 'clear error' : 'WRONG', note: message.split('\n')[0] };
  }
  const got = { ...base, rowsIn: skim.eventsIn, rowsKept: skim.eventsKept };
  if (!ref) return { ...got, outcome: 'WRONG', note: `${cutText}: skimmed, but no reader reads the file to check it` };
  const out = await readWithAny(new Uint8Array(await readFile(skim.skimFiles[0])), cut ? column : null);
  const wrong: string[] = [];
  if (skim.eventsIn !== ref.rows) wrong.push(`${skim.eventsIn} rows in, ${ref.reader} reads ${ref.rows}`);
  if (skim.eventsKept !== referenceKept) wrong.push(`${skim.eventsKept} kept, ${ref.reader} keeps ${referenceKept}`);
  if (!out) wrong.push('no reader reads the skim file');
  else {
    if (out.rows !== skim.eventsKept) wrong.push(`the skim file holds ${out.rows} rows, reported ${skim.eventsKept}`);
    if (out.names.join(',') !== ref.names.join(',')) wrong.push(`columns [${out.names}], the file's [${ref.names}]`);
    if (keptByReference && out.values) {
      const expected = sortedValues(keptByReference);
      const differ = sortedValues(out.values).some((v, i) => !Object.is(v, expected[i]));
      if (differ) wrong.push(`the kept '${column}' values differ`);
    }
  }
  return { ...got, outcome: wrong.length ? 'WRONG' : 'exact', note: wrong.length ? wrong.join('; ') : cutText };
}

/** Every Parquet file under `dir` ('*.parquet', '*.parquet.encrypted'), sorted. */
export async function corpusFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const parquet = entries.filter((e) => e.isFile() && /\.parquet(\.encrypted)?$/.test(e.name));
  return parquet.map((e) => join(e.parentPath, e.name)).sort();
}

async function main(dir: string): Promise<void> {
  const root = resolve(dir);
  const files = await corpusFiles(root);
  const work = await mkdtemp(join(tmpdir(), 'parquet-testing-'));
  const totals: Record<Outcome, number> = { exact: 0, 'clear error': 0, WRONG: 0 };
  const row = (file: string, outcome: string, counts: (number | string | null)[], note: string) =>
    `${file.padEnd(58)} ${outcome.padEnd(11)} ${counts.map((n) => String(n ?? '-').padStart(8)).join(' ')}  ${note}`;
  console.log(row('file', 'outcome', ['rows in', 'kept', 'ref kept'], 'reference reader: cut, or error'));
  try {
    for (const [i, file] of files.entries()) {
      const c = await checkFile(file, join(work, String(i)));
      totals[c.outcome]++;
      const note = `${c.reference ?? 'no reader'}: ${c.note}`.replaceAll(root + '/', '');
      console.log(row(relative(root, file), c.outcome, [c.rowsIn, c.rowsKept, c.referenceKept], note.slice(0, 160)));
    }
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const { exact, WRONG } = totals;
  console.log(`\n${files.length} files: ${exact} exact, ${totals['clear error']} clear error, ${WRONG} WRONG`);
  if (totals.WRONG) process.exitCode = 1;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  if (!process.argv[2]) {
    console.error('usage: npx tsx scripts/parquet-testing.ts <dir of apache/parquet-testing files>');
    process.exit(2);
  }
  await main(process.argv[2]);
}
