import { copyFile, mkdir, readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skimOutputPaths } from '../../src/skim/outputPaths.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { expandInputs } from '../../src/sources/expandInputs.js';
import { parquetSource } from '../../src/sources/parquet.js';
import type { CutsFile } from '../../src/selection/cutsFile.js';
import { collect, sql, tempDir } from '../parquet/helpers.js';

// Names DuckDB could take for patterns, each beside the files the pattern would match.
const NAMES = [
  'run1',
  'run[1]',
  'b*',
  'bb',
  'bc',
  'q?',
  'qx',
  'br{a,b}',
  'bra',
  'back\\slash',
  'backXslash',
  "it's",
  'sp ace',
  '**',
  'a[!b]',
  'a-',
];
const CUT = 20;
const cuts: CutsFile = { cuts: [{ column: 'x', op: '>', value: CUT }], score: null };

let dir: string;
let cleanup: () => Promise<void>;
const files: string[] = [];

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await mkdir(join(dir, 'in'));
  await mkdir(join(dir, 'in', 'd[1]'));
  await mkdir(join(dir, 'in', 'd1'));
  const paths = [
    ...NAMES.map((n) => join(dir, 'in', `${n}.parquet`)),
    join(dir, 'in', 'd[1]', 'x.parquet'),
    join(dir, 'in', 'd1', 'x.parquet'),
  ];
  // Every file has its own number of rows: 30, 37, 44, ...
  for (const [i, p] of paths.entries()) {
    await sql(
      `COPY (SELECT range::DOUBLE AS x FROM range(${30 + 7 * i})) TO '${p.replaceAll("'", "''")}' (FORMAT parquet, COMPRESSION snappy)`,
    );
    files.push(p);
  }
});
afterAll(() => cleanup());

/** Rows in and rows passing the cut of one file, read by DuckDB from a copy under a plain name. */
async function reference(file: string): Promise<{ rows: number; kept: number }> {
  const plain = join(dir, 'plain.parquet');
  await copyFile(file, plain);
  const [r] = await sql(`SELECT count(*)::INT AS rows, count(*) FILTER (x > ${CUT})::INT AS kept FROM '${plain}'`);
  return { rows: Number(r.rows), kept: Number(r.kept) };
}

describe('file names holding glob characters', () => {
  it('a skim of each file alone reads that file and no other', async () => {
    for (const file of files) {
      const ref = await reference(file);
      const out = join(dir, 'out-one');
      const r = await runSkim({ inputs: [file], cuts, outDir: out });
      expect({ file, in: r.eventsIn, kept: r.eventsKept }).toEqual({ file, in: ref.rows, kept: ref.kept });
      // The skim file is written under its own name, with exactly those rows (read by hyparquet).
      const output = join(out, `${basename(file, '.parquet')}.skim.parquet`);
      expect(r.skimFiles).toEqual([output]);
      const bytes = await readFile(output);
      const rows = await parquetReadObjects({
        file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
      });
      expect(rows.length).toBe(ref.kept);
      // The batch reader and describe() read the same file.
      const source = parquetSource([file]);
      expect((await source.describe()).rows).toBe(ref.rows);
      expect((await collect(source.batches({ where: cuts.cuts }))).all?.length ?? 0).toBe(ref.kept);
    }
  });

  it('a folder of such files: per file and in total, events in = kept + cut, as each file holds', async () => {
    const found = await expandInputs([join(dir, 'in')]);
    expect(found.length).toBe(files.length);
    // d[1]/x and d1/x mirror their folders: d[1]/x.skim.parquet and d1/x.skim.parquet.
    const inputs = found.map((f) => f.path);
    const r = await runSkim({ inputs, outputs: skimOutputPaths(found), cuts, outDir: join(dir, 'out-all') });
    expect(r.files.length).toBe(files.length);
    for (const f of r.files) {
      const ref = await reference(f.input);
      expect({ file: f.input, in: f.eventsIn, kept: f.eventsKept }).toEqual({
        file: f.input,
        in: ref.rows,
        kept: ref.kept,
      });
    }
    expect(r.eventsCut).toBeGreaterThan(0);
    expect(r.eventsIn).toBe(r.eventsKept + r.eventsCut);
  });
});
