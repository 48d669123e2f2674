import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SKIM_ROW_GROUP_ROWS } from '../../src/skim/skimPipe.js';
import { skimStream } from '../../src/skim/skimStream.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { sql, tempDir } from '../parquet/helpers.js';

// The one streaming skim: a skim of any source (here a Parquet file read as batches, as a ROOT or
// gRPC source is) writes the row groups of runSkim's streaming path and refuses a null list element.
describe('skimStream (any source) runs the streaming skim of runSkim', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => ({ dir, cleanup } = await tempDir()));
  afterAll(() => cleanup());

  it('writes row groups of SKIM_ROW_GROUP_ROWS events', async () => {
    const file = join(dir, 'many.parquet');
    const rows = 2 * SKIM_ROW_GROUP_ROWS + 1000;
    await sql(`COPY (SELECT i AS id, (i * 0.5)::DOUBLE AS x FROM range(${rows}) t(i)) TO '${file}' (FORMAT parquet)`);
    const cuts = { cuts: [{ column: 'x', op: '>' as const, value: 100 }], score: null };
    const r = await skimStream({ source: parquetSource([file]), inputs: [file], name: 'many', cuts, outDir: dir });
    const [{ n }] = await sql(`SELECT count(*)::INTEGER AS n FROM '${file}' WHERE x > 100`);
    const groups = await sql(
      `SELECT row_group_num_rows::INTEGER AS rows FROM parquet_metadata('${r.skimFiles[0]}') ` +
        'GROUP BY row_group_id, row_group_num_rows ORDER BY row_group_id',
    );
    expect(r.eventsKept).toBe(n);
    const full = SKIM_ROW_GROUP_ROWS;
    expect(groups.map((g) => g.rows)).toEqual([full, full, Number(n) - 2 * full]);
  });

  it('refuses a null element inside a list, naming the file, row group and row, and leaves no file', async () => {
    const file = join(dir, 'nulls.parquet');
    const lists = 'CASE WHEN i = 3000 THEN [1, NULL, 3] ELSE [i, i + 1] END::INTEGER[]';
    const select = `SELECT i AS id, ${lists} AS hits FROM range(5000) t(i)`;
    await sql(`COPY (${select}) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
    const out = join(dir, 'nulls');
    const cuts = { cuts: [], score: null };
    const run = skimStream({ source: parquetSource([file]), inputs: [file], name: 'nulls', cuts, outDir: out });
    await expect(run).rejects.toThrow(
      `${file}: row group 1, row 3000: column 'hits' holds a null element inside a list`,
    );
    expect(await readdir(out)).toEqual([]);
  });
});
