import { readFile } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { parquetReadObjects } from 'hyparquet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatAsFloat64 } from '../../src/batch/batch.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { skimOutputPaths } from '../../src/skim/outputPaths.js';
import { expandInputs } from '../../src/sources/expandInputs.js';
import { parquetSource } from '../../src/sources/parquet.js';
import type { CutsFile } from '../../src/selection/cutsFile.js';
import { collect, sql, tempDir } from '../parquet/helpers.js';

// Folders named key=value (Spark's and Hive's layout) are, to DuckDB by default, partitions: it adds
// a column `key` holding the folder's value, and one the file holds itself gets the folder's value.
// A file holds what it holds, wherever it lies: here `year` is 1999 + id % 3 (INT32), under year=2018/.
const CUT = 40;
const cuts: CutsFile = { cuts: [{ column: 'x', op: '>', value: CUT }], score: null };
type Row = { id: number; x: number; year?: number };

let dir: string;
let cleanup: () => Promise<void>;
const own = () => join(dir, 'in', 'year=2018', 'own.parquet');
const plain = () => join(dir, 'in', 'year=2018', 'plain.parquet');

/** A file's rows as hyparquet (no DuckDB) reads them, in file order. */
async function rowsOf(file: string): Promise<Row[]> {
  const bytes = await readFile(file);
  const rows = await parquetReadObjects({
    file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length),
  });
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, Number(v)])) as Row);
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await mkdir(join(dir, 'in', 'year=2018'), { recursive: true });
  const columns = 'i::INTEGER AS id, (i * 37 % 100)::DOUBLE AS x';
  const year = '(1999 + i % 3)::INTEGER AS year';
  await sql(`COPY (SELECT ${columns}, ${year} FROM range(100) t(i)) TO '${own()}' (FORMAT parquet)`);
  await sql(`COPY (SELECT ${columns} FROM range(100) t(i)) TO '${plain()}' (FORMAT parquet)`);
});
afterAll(() => cleanup());

describe('files under key=value folders', () => {
  it('a skim writes the columns and values each file holds, not the folder names', async () => {
    const found = await expandInputs([join(dir, 'in')]);
    for (const [i, f] of found.entries()) {
      const r = await runSkim({
        inputs: [f.path],
        outputs: skimOutputPaths([f]),
        cuts,
        outDir: join(dir, `out-${i}`),
      });
      const input = await rowsOf(f.path);
      expect(r.eventsIn).toBe(input.length);
      expect(await rowsOf(r.skimFiles[0])).toEqual(input.filter((row) => row.x > CUT));
      expect(r.eventsIn).toBe(r.eventsKept + r.eventsCut);
    }
  });

  it('the batch reader and the streaming skim read the file as it is', async () => {
    const input = await rowsOf(own());
    const source = parquetSource([own()]);
    expect((await source.describe()).schema.map((f) => `${f.name}: ${f.type}`)).toEqual([
      'id: int32',
      'x: float64',
      'year: int32',
    ]);
    const { all } = await collect(source.batches({ where: cuts.cuts }));
    const kept = input.filter((row) => row.x > CUT);
    expect(Array.from(flatAsFloat64(all!, 'year'))).toEqual(kept.map((row) => row.year));
    const score = {
      fn: (b: Parameters<typeof flatAsFloat64>[0]) => Float32Array.from(flatAsFloat64(b, 'x')),
      threshold: 0,
      columns: ['x'],
    };
    const r = await runSkim({ inputs: [own()], cuts, outDir: join(dir, 'scored'), score });
    expect(r.path).toBe('streaming');
    expect(await rowsOf(r.skimFiles[0])).toEqual(kept);
  });

  it('the reference: DuckDB by default reads the folder name into the column', async () => {
    const years = await sql(`SELECT DISTINCT year::INT AS year FROM read_parquet('${own()}')`);
    expect(years).toEqual([{ year: 2018 }]);
  });
});
