import { copyFile, mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkFile, corpusFiles } from '../../scripts/parquet-testing.js';

const CORPUS = join(import.meta.dirname, '../fixtures/parquet-testing');
// Files DuckDB cannot read: each must be refused with an error naming it; every other one skims exactly.
// (hadoop_lz4_compressed.parquet, whose pages DuckDB cannot decode, skims: no value of its row group
// can pass the cut, and DuckDB prunes it by its statistics.)
const REFUSED = [
  'bad_data/ARROW-RS-GH-6229-DICTHEADER.parquet',
  'bad_data/PARQUET-1481.parquet',
  'data/encrypt_columns_plaintext_footer.parquet.encrypted',
  'data/map_no_value.parquet',
];

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'diffskim-pqt-'));
});
afterAll(() => rm(work, { recursive: true, force: true }));

describe('apache/parquet-testing files (a subset)', () => {
  it('each skims with the rows and column names an independent reader gives, or is refused naming it', async () => {
    const files = await corpusFiles(CORPUS);
    expect(files.length).toBeGreaterThanOrEqual(12);
    const outcomes: Record<string, string> = {};
    const expected: Record<string, string> = {};
    for (const [i, file] of files.entries()) {
      const c = await checkFile(file, join(work, String(i)));
      const name = relative(CORPUS, file);
      outcomes[name] = `${c.outcome}: ${c.note}`;
      expected[name] = `${REFUSED.includes(name) ? 'clear error' : 'exact'}: ${c.note}`;
    }
    expect(outcomes).toEqual(expected);
  });

  it("a file whose name is a pattern matching another's is checked as itself (and skimmed so)", async () => {
    // 'a[l]ltypes.parquet', to DuckDB, is a pattern that matches 'alltypes.parquet'.
    const dir = join(work, 'pattern');
    await mkdir(dir);
    await copyFile(join(CORPUS, 'data/alltypes_plain.parquet'), join(dir, 'a[l]ltypes.parquet'));
    await copyFile(join(CORPUS, 'data/nullable.impala.parquet'), join(dir, 'alltypes.parquet'));
    const c = await checkFile(join(dir, 'a[l]ltypes.parquet'), join(work, 'pattern-out'));
    expect(`${c.outcome}: ${c.note}`).toBe('exact: id > 4');
  });
});
