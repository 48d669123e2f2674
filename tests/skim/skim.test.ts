import { readdir, readFile, stat } from 'node:fs/promises';
import { parquetReadObjects } from 'hyparquet';
import { readParquet } from 'parquet-wasm';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { flatAsFloat64 } from '../../src/batch/batch.js';
import type { CutsFile } from '../../src/selection/cutsFile.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { sql, tempDir } from '../parquet/helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
const inputs: string[] = [];

// pt: float with NaN every 13th event and NULL every 17th; eta in (-3, 3); jets of length id % 4; s: a "score" in [0, 1).
const COLUMNS = `i::BIGINT AS id,
  CASE WHEN i % 13 = 0 THEN 'nan'::FLOAT WHEN i % 17 = 0 THEN NULL ELSE (i % 97)::FLOAT END AS pt,
  ((i % 61) / 10.0 - 3)::FLOAT AS eta,
  [(i % 50 + k)::FLOAT FOR k IN range(i % 4)] AS jets,
  ((i * 7919) % 1000 / 1000.0)::FLOAT AS s,
  (i % 2)::TINYINT AS label`;

const cuts: CutsFile = {
  cuts: [
    { column: 'pt', op: '>', value: 20 },
    { column: 'abs(eta)', op: '<', value: 2.5 },
    { column: 'count(jets)', op: '>', value: 1 },
  ],
  score: null,
};
/** The same cuts, written by hand (NaN and NULL fail: NaN > 20 is true in DuckDB, so exclude it). */
const HAND_WHERE = `pt > 20 AND NOT isnan(pt) AND abs(eta) < 2.5 AND len(jets) > 1`;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  for (const [name, lo, hi] of [
    ['one', 0, 4000],
    ['two', 4000, 9000],
  ] as const) {
    const f = join(dir, `${name}.parquet`);
    await sql(
      `COPY (SELECT ${COLUMNS} FROM range(${lo}, ${hi}) t(i)) TO '${f}' (FORMAT parquet, COMPRESSION zstd, ROW_GROUP_SIZE 2048)`,
    );
    inputs.push(f);
  }
});
afterAll(() => cleanup());

async function ids(files: string[]): Promise<number[]> {
  const rows = await sql(`SELECT id FROM read_parquet([${files.map((f) => `'${f}'`).join(', ')}]) ORDER BY id`);
  return rows.map((r) => Number(r.id));
}

describe('runSkim', () => {
  it('keeps exactly the rows DuckDB selects with the same cuts (in-engine path)', async () => {
    const out = join(dir, 'fast');
    const r = await runSkim({ inputs, cuts, outDir: out });
    expect(r.path).toBe('duckdb-copy');
    expect(r.skimFiles).toEqual([join(out, 'one.skim.parquet'), join(out, 'two.skim.parquet')]);
    const expected = await sql(
      `SELECT id FROM read_parquet(['${inputs[0]}', '${inputs[1]}']) WHERE ${HAND_WHERE} ORDER BY id`,
    );
    expect(await ids(r.skimFiles)).toEqual(expected.map((e) => Number(e.id)));
    expect(r.eventsIn).toBe(9000);
    expect(r.eventsKept).toBe(expected.length);
    expect(r.eventsIn).toBe(r.eventsKept + r.eventsCut);
    // Skimmed values equal the input's, column by column.
    const diff = await sql(
      `SELECT count(*) AS n FROM (SELECT * FROM read_parquet(['${r.skimFiles.join("','")}']) EXCEPT SELECT * FROM read_parquet(['${inputs.join("','")}']))`,
    );
    expect(Number(diff[0].n)).toBe(0);
    const sizesIn = (await stat(inputs[0])).size + (await stat(inputs[1])).size;
    const sizesOut = (await stat(r.skimFiles[0])).size + (await stat(r.skimFiles[1])).size;
    expect([r.bytesIn, r.bytesOut, r.bytesSaved]).toEqual([sizesIn, sizesOut, sizesIn - sizesOut]);
    expect(r.bytesSavedByRows + r.bytesSavedByColumns + r.bytesSavedByEncoding).toBe(r.bytesSaved);
    expect(r.bytesSavedByColumns).toBe(0);
    // By rows: the input's bytes times the share of each file's events cut.
    const keptOf = (lo: number, hi: number) => expected.filter((e) => Number(e.id) >= lo && Number(e.id) < hi).length;
    const cutShare = [1 - keptOf(0, 4000) / 4000, 1 - keptOf(4000, 9000) / 5000];
    expect(r.bytesSavedByRows).toBe(
      Math.round((await stat(inputs[0])).size * cutShare[0] + (await stat(inputs[1])).size * cutShare[1]),
    );
    expect((await readdir(out)).sort()).toEqual(['one.skim.parquet', 'two.skim.parquet']);
    // Written with Parquet's newer encodings, chosen per column (delta for the event ids, a
    // dictionary for eta's 61 values), which readers other than DuckDB read too.
    const enc = await sql(
      `SELECT DISTINCT path_in_schema AS p, encodings AS e FROM parquet_metadata('${r.skimFiles[0]}') WHERE path_in_schema IN ('id', 'eta')`,
    );
    expect(Object.fromEntries(enc.map((x) => [x.p, x.e]))).toEqual({
      id: 'DELTA_BINARY_PACKED',
      eta: 'RLE_DICTIONARY',
    });
    const snappy = await runSkim({ inputs: [inputs[0]], cuts, outDir: join(dir, 'fast-snappy'), codec: 'snappy' }); // hyparquet reads no zstd
    const bytes = await readFile(snappy.skimFiles[0]);
    const firstRows = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      rowEnd: 5,
      columns: ['id', 'eta'],
    });
    expect(firstRows.map((x) => Number(x.id))).toEqual(expected.slice(0, 5).map((e) => Number(e.id)));
  });

  it('writes skims Arrow reads, also of 32-bit integers spanning more than 2^31 (hashes, seeds, bit masks)', async () => {
    const file = join(dir, 'seeds.parquet');
    await sql(
      `COPY (SELECT i AS id, ((hash(i) % 4294967296)::BIGINT - 2147483648)::INTEGER AS seed, (i % 7)::INTEGER AS small FROM range(5000) t(i)) TO '${file}' (FORMAT parquet)`,
    );
    for (const keep of [
      ['id', 'seed', 'small'],
      ['id', 'small'],
    ]) {
      const r = await runSkim({
        inputs: [file],
        cuts: { cuts: [{ column: 'id', op: '>', value: 10 }], score: null },
        outDir: join(dir, `seeds-${keep.length}`),
        keep,
      });
      const table = readParquet(new Uint8Array(await readFile(r.skimFiles[0])));
      expect(table.recordBatches().reduce((n, b) => n + b.numRows, 0)).toBe(4989);
    }
  });

  it('a skim that keeps every event and column saves nothing by rows or columns: any change in size is re-encoding', async () => {
    const r = await runSkim({ inputs: [inputs[0]], cuts: { cuts: [], score: null }, outDir: join(dir, 'all') });
    expect(r.eventsKept).toBe(r.eventsIn);
    expect([r.bytesSavedByRows, r.bytesSavedByColumns]).toEqual([0, 0]);
    expect(r.bytesSavedByEncoding).toBe(r.bytesIn - r.bytesOut);
  });

  it('prunes columns with keep, keeps the input codec, and accounts the bytes by columns', async () => {
    const r = await runSkim({ inputs: [inputs[0]], cuts, outDir: join(dir, 'keep'), keep: ['id', 'pt', 'id'] }); // a column named twice is written once
    const cols = await sql(
      `SELECT DISTINCT path_in_schema, compression FROM parquet_metadata('${r.skimFiles[0]}') ORDER BY 1`,
    );
    expect(cols).toEqual([
      { path_in_schema: 'id', compression: 'ZSTD' },
      { path_in_schema: 'pt', compression: 'ZSTD' },
    ]);
    const dropped = await sql(
      `SELECT sum(total_compressed_size)::BIGINT AS b FROM parquet_metadata('${inputs[0]}') WHERE path_in_schema NOT IN ('id', 'pt')`,
    );
    expect(r.bytesSavedByColumns).toBe(Number(dropped[0].b));
  });

  it('applies a score cut on the streaming path, matching the same cut in SQL', async () => {
    const out = join(dir, 'scored');
    const score = {
      fn: (b: Parameters<typeof flatAsFloat64>[0]) => Float32Array.from(flatAsFloat64(b, 's')),
      threshold: 0.4,
      columns: ['s'],
    };
    const r = await runSkim({ inputs, cuts, outDir: out, keep: ['id', 'pt', 'jets'], codec: 'snappy', score });
    expect(r.path).toBe('streaming');
    const expected = await sql(
      `SELECT id FROM read_parquet(['${inputs[0]}', '${inputs[1]}']) WHERE ${HAND_WHERE} AND s > 0.4 ORDER BY id`,
    );
    expect(await ids(r.skimFiles)).toEqual(expected.map((e) => Number(e.id)));
    expect(r.eventsKept).toBe(expected.length);
    expect(r.eventsIn).toBe(r.eventsKept + r.eventsCut);
    const same = await sql(
      `SELECT count(*) AS n FROM (SELECT id, pt, jets FROM read_parquet(['${r.skimFiles.join("','")}']) EXCEPT SELECT id, pt, jets FROM read_parquet(['${inputs.join("','")}']))`,
    );
    expect(Number(same[0].n)).toBe(0);
    expect((await readdir(out)).filter((f) => f.includes('.tmp-'))).toEqual([]);
  });

  it('counts row groups skipped by the statistics', async () => {
    // id is sorted: id > 7000 rules out every row group of one.parquet and the first of two.parquet.
    const r = await runSkim({
      inputs,
      cuts: { cuts: [{ column: 'id', op: '>', value: 7000 }], score: null },
      outDir: join(dir, 'skip'),
    });
    const groups =
      await sql(`SELECT count(DISTINCT (file_name, row_group_id)) AS total, count(DISTINCT (file_name, row_group_id)) FILTER (WHERE stats_max::BIGINT <= 7000) AS skipped
      FROM parquet_metadata(['${inputs.join("','")}']) WHERE path_in_schema = 'id'`);
    expect([r.rowGroupsTotal, r.rowGroupsSkipped]).toEqual([Number(groups[0].total), Number(groups[0].skipped)]);
    expect(r.rowGroupsSkipped).toBeGreaterThan(0);
    expect(r.eventsKept).toBe(1999);
  });

  it('an event sitting exactly on a cut value fails the strict cut, for any double', async () => {
    // Values drawn at random, each one also a cut value: x > v keeps exactly the events above v.
    const values = Array.from({ length: 400 }, (_, i) => (Math.sin(i * 12.9898) * 43758.5453) % 1);
    const file = join(dir, 'edges.parquet');
    await sql(
      `COPY (SELECT * FROM (VALUES ${values.map((v, i) => `(${i}, '${v}'::DOUBLE)`).join(', ')}) t(id, x)) TO '${file}' (FORMAT parquet)`,
    );
    const out = join(dir, 'edges-out');
    for (const v of values.slice(0, 40)) {
      const r = await runSkim({
        inputs: [file],
        cuts: { cuts: [{ column: 'x', op: '>', value: v }], score: null },
        outDir: out,
      });
      expect(r.eventsKept).toBe(values.filter((x) => x > v).length);
    }
  });

  it('two skims writing the same output at once each report the file they wrote, one after the other', async () => {
    const out = join(dir, 'same-out');
    const loose: CutsFile = { cuts: [{ column: 'eta', op: '>', value: -2 }], score: null };
    const tight: CutsFile = { cuts: [{ column: 'eta', op: '>', value: 2 }], score: null };
    const finished: Awaited<ReturnType<typeof runSkim>>[] = [];
    const skim = (c: CutsFile) =>
      runSkim({ inputs: [inputs[1]], cuts: c, outDir: out }).then((r) => (finished.push(r), r));
    const [a, b] = await Promise.all([skim(loose), skim(tight)]);
    expect(a.eventsKept).toBeGreaterThan(b.eventsKept);
    // One waited for the other: the file on disk is the skim of the last to finish, and matches its report.
    expect((await ids(finished[1].skimFiles)).length).toBe(finished[1].eventsKept);
    expect(await readdir(out)).toEqual(['two.skim.parquet']);
  });

  it('a null element inside a list: the streaming skim refuses it, naming where; the in-engine skim keeps it', async () => {
    const file = join(dir, 'nulls.parquet');
    await sql(
      `COPY (SELECT i AS id, CASE WHEN i = 3000 THEN [1, NULL, 3] ELSE [i, i + 1] END::INTEGER[] AS hits FROM range(5000) t(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`,
    );
    const out = join(dir, 'nulls-stream');
    const score = { fn: (b: { length: number }) => new Float32Array(b.length).fill(1), threshold: 0 };
    await expect(runSkim({ inputs: [file], cuts: { cuts: [], score: null }, outDir: out, score })).rejects.toThrow(
      new RegExp(
        `${file}: row group 1, row 3000: column 'hits' holds a null element inside a list; a streaming skim \\(score cut\\) would write it as 0`,
      ),
    );
    expect(await readdir(out)).toEqual([]);
    const kept = await runSkim({ inputs: [file], cuts: { cuts: [], score: null }, outDir: join(dir, 'nulls-engine') });
    expect(await sql(`SELECT hits::VARCHAR AS h FROM '${kept.skimFiles[0]}' WHERE id = 3000`)).toEqual([
      { h: '[1, NULL, 3]' },
    ]);
  });

  it('names the closest column when a cut column is unknown', async () => {
    await expect(
      runSkim({
        inputs,
        cuts: { cuts: [{ column: 'ptt', op: '>', value: 1 }], score: null },
        outDir: join(dir, 'bad'),
      }),
    ).rejects.toThrow(/no column 'ptt' \(closest: 'pt'\)/);
  });
});
