import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { readParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CutsFile } from '../../src/selection/cutsFile.js';
import { valuesOf } from '../../src/selection/expr/index.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { skimStream } from '../../src/skim/skimStream.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { sql, tempDir } from '../parquet/helpers.js';
import { STRUCTS_SQL } from '../parquet/structsFixture.js';

/** Skims cutting on struct leaves ('first(Muon.pt)', 'MET.pt'): the structs are kept whole or left out, never split. */
let dir: string;
let cleanup: () => Promise<void>;
let input: string;
const CUTS: CutsFile = {
  cuts: [
    { column: 'first(Muon.pt)', op: '>', value: 20 },
    { column: 'MET.pt', op: '>', value: 520 },
  ],
  score: null,
};
const WHERE = 'WHERE Muon[1].pt > 20 AND MET.pt > 520';
const rows = (file: string, select = '*', where = '') =>
  sql(`SELECT ${select} FROM read_parquet('${file}') ${where} ORDER BY id`);

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  input = join(dir, 'structs.parquet');
  await sql(`COPY (${STRUCTS_SQL}) TO '${input}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
});
afterAll(() => cleanup());

describe('skims of files with struct columns', () => {
  it('in-engine: cuts on leaves select as DuckDB does, and the structs are copied whole', async () => {
    const r = await runSkim({ inputs: [input], cuts: CUTS, outDir: join(dir, 'engine') });
    const expected = await rows(input, '*', WHERE);
    expect(expected.length).toBeGreaterThan(100);
    expect(r.eventsKept).toBe(expected.length);
    expect(await rows(r.skimFiles[0])).toEqual(expected);
    expect(r.bytesSavedByColumns).toBe(0);
    // Row group 0 (MET.pt at most 511.75) is ruled out by the leaf's statistics.
    expect(r.rowGroupsSkipped).toBe(1);
    const kept = await runSkim({ inputs: [input], cuts: CUTS, outDir: join(dir, 'engine-keep'), keep: ['id', 'MET'] });
    expect(await rows(kept.skimFiles[0])).toEqual(await rows(input, 'id, MET', WHERE));
  });

  it('with a score cut on a leaf: the leaves are read, not written; the structs are reported as not written', async () => {
    // The score is MET.pt / 2000: a batch's leaf values reach the scorer.
    const score = {
      fn: (b: Parameters<typeof valuesOf>[0]) => Float32Array.from(valuesOf(b, 'MET.pt'), (v) => v / 2000),
      threshold: 0.5,
      columns: ['MET.pt'],
    };
    const scored: CutsFile = { ...CUTS, score: { op: '>', value: 0.5 } };
    const r = await runSkim({ inputs: [input], cuts: scored, score, outDir: join(dir, 'score') });
    expect(await rows(r.skimFiles[0])).toEqual(await rows(input, 'id, x', `${WHERE} AND MET.pt / 2000 > 0.5`));
    expect(r.columnsNotWritten.map((c) => c.name)).toEqual(['Muon', 'MET']);
    // A streaming skim of any source leaves them out alike.
    const s = await skimStream({
      source: parquetSource([input]),
      inputs: [input],
      name: 'stream',
      cuts: CUTS,
      outDir: join(dir, 'stream'),
    });
    expect(await rows(s.skimFiles[0])).toEqual(await rows(input, 'id, x', WHERE));
    expect(s.columnsNotWritten.map((c) => c.name)).toEqual(['Muon', 'MET']);
    // Saved by columns: the structs' bytes, once (their leaves are in them).
    const info = await parquetSource([input]).describe();
    expect(s.bytesSavedByColumns).toBe(info.columnBytes.Muon + info.columnBytes.MET);
  });

  it('keep naming a leaf is refused, naming the struct to keep', async () => {
    const message =
      "cannot keep 'Muon.pt', a field of the struct column 'Muon': a skim writes whole columns; keep 'Muon'";
    await expect(
      runSkim({ inputs: [input], cuts: CUTS, outDir: join(dir, 'leaf'), keep: ['id', 'Muon.pt'] }),
    ).rejects.toThrow(`${input}: ${message}`);
    await expect(
      skimStream({
        source: parquetSource([input]),
        inputs: [input],
        name: 'leaf',
        cuts: CUTS,
        outDir: join(dir, 'leaf'),
        keep: ['Muon.pt'],
      }),
    ).rejects.toThrow(`leaf: ${message}`);
  });

  it('a kept struct with a 32-bit integer leaf of a wide range is written so that Arrow reads it (V1), as a column of its own is', async () => {
    const file = join(dir, 'seeds.parquet');
    await sql(
      `COPY (SELECT i AS id, {'seed': ((hash(i) % 4294967296)::BIGINT - 2147483648)::INTEGER, 'small': (i % 7)::INTEGER} AS S FROM range(5000) t(i)) TO '${file}' (FORMAT parquet)`,
    );
    const r = await runSkim({
      inputs: [file],
      cuts: { cuts: [{ column: 'id', op: '>', value: 10 }], score: null },
      outDir: join(dir, 'seeds'),
    });
    const table = readParquet(new Uint8Array(await readFile(r.skimFiles[0])));
    expect(table.recordBatches().reduce((n, b) => n + b.numRows, 0)).toBe(4989);
  });
});
