import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import {
  Float64,
  Struct,
  Field,
  Table as ArrowTable,
  tableFromArrays,
  tableToIPC,
  vectorFromArray,
} from 'apache-arrow';
import { parquetWriteBuffer } from 'hyparquet-writer';
import { parquetMetadata, parquetReadObjects, parquetSchema } from 'hyparquet';
import { Table, writeParquet } from 'parquet-wasm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ScoreCut } from '../../src/operators/hardCut.js';
import type { CutsFile } from '../../src/selection/cutsFile.js';
import { grpcSource } from '../../src/sources/grpc/grpcSource.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { startServer } from '../../src/grpc/server.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { InputError } from '../../src/sources/inputError.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { collect, sql, tempDir } from './helpers.js';

// Columns whose names differ only by case, and one named as DuckDB renames the second ('Ab_1').
const N = 1000;
const COLUMNS = {
  ab: Float64Array.from({ length: N }, (_, i) => i),
  Ab: Float64Array.from({ length: N }, (_, i) => (i * 37) % N),
  Ab_1: Int32Array.from({ length: N }, (_, i) => (i * 3) % 7),
};
const cuts: CutsFile = { cuts: [{ column: 'Ab', op: '>', value: 500 }], score: null };
const everything: ScoreCut = { fn: (b) => new Float32Array(b.length).fill(1), threshold: 0.5, columns: [] };

let dir: string;
let cleanup: () => Promise<void>;
let file: string;
let withString: string;

async function writeArrow(path: string, columns: Record<string, unknown> | ArrowTable): Promise<void> {
  const table =
    columns instanceof ArrowTable ? columns : tableFromArrays(columns as Parameters<typeof tableFromArrays>[0]);
  await writeFile(path, writeParquet(Table.fromIPCStream(tableToIPC(table, 'stream'))));
}

/** What describe() and a skim say of a file: both must refuse it, naming it and what is wrong. */
async function expectRefused(path: string, message: RegExp): Promise<void> {
  for (const run of [
    () => parquetSource([path]).describe(),
    () => runSkim({ inputs: [path], cuts: { cuts: [], score: null }, outDir: join(dir, 'refused') }),
  ]) {
    const e = await run().catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(message);
  }
}

/** A Parquet file as hyparquet reads it: its column names and rows. */
async function hyparquet(path: string): Promise<{ names: string[]; rows: Record<string, unknown>[] }> {
  const bytes = await readFile(path);
  const buffer = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  const names = parquetSchema(parquetMetadata(buffer)).children.map((c) => c.element.name);
  return { names, rows: await parquetReadObjects({ file: buffer }) };
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  file = join(dir, 'case.parquet');
  await writeArrow(file, COLUMNS);
  withString = join(dir, 'case-string.parquet');
  await writeArrow(withString, { ...COLUMNS, s: Array.from({ length: N }, (_, i) => `s${i}`) });
});
afterAll(() => cleanup());

describe('columns whose names differ only by case', () => {
  it('describe() and the batch reader give each column under its own name, with its own values', async () => {
    const ref = await hyparquet(file);
    expect(ref.names).toEqual(['ab', 'Ab', 'Ab_1']);
    const source = parquetSource([file]);
    expect((await source.describe()).schema.map((f) => f.name)).toEqual(ref.names);
    const { all } = await collect(source.batches({ where: cuts.cuts }));
    const expected = ref.rows.filter((r) => Number(r.Ab) > 500);
    for (const name of ref.names)
      expect(Array.from(all!.columns[name].values as ArrayLike<number>), name).toEqual(
        expected.map((r) => Number(r[name])),
      );
  });

  it('the gRPC Describe and StreamBatches give each column under its own name, with its own values', async () => {
    const server = await startServer({ dataRoots: [dir], ...(await localServerOptions()) });
    try {
      const source = grpcSource(`127.0.0.1:${server.port}`, { paths: ['case.parquet'] });
      const ref = await hyparquet(file);
      expect((await source.describe()).schema.map((f) => f.name)).toEqual(ref.names);
      const { all } = await collect(source.batches({ where: cuts.cuts }));
      const expected = ref.rows.filter((r) => Number(r.Ab) > 500);
      for (const name of ref.names) {
        expect(Array.from(all!.columns[name].values as ArrayLike<number>), name).toEqual(
          expected.map((r) => Number(r[name])),
        );
      }
    } finally {
      await server.close(200);
    }
  });

  for (const [path, score] of [
    ['in-engine', undefined],
    ['streaming', everything],
  ] as const) {
    it(`a ${path} skim keeps both columns under their names, with their values`, async () => {
      const r = await runSkim({ inputs: [file], cuts, outDir: join(dir, path), score, codec: 'snappy' });
      expect(r.path).toBe('streaming'); // DuckDB's writer cannot write the two
      const ref = await hyparquet(file);
      const out = await hyparquet(r.skimFiles[0]);
      expect(out.names).toEqual(ref.names);
      const expected = ref.rows.filter((row) => Number(row.Ab) > 500);
      expect(r.eventsKept).toBe(expected.length);
      expect(out.rows).toEqual(expected);
    });
  }

  it('a skim keeping one of the two reads that one', async () => {
    const r = await runSkim({ inputs: [file], cuts, outDir: join(dir, 'keep'), keep: ['Ab'], codec: 'snappy' });
    expect(r.path).toBe('duckdb-copy'); // 'Ab' is 'Ab_1' to DuckDB: read so, written as 'Ab'
    const out = await hyparquet(r.skimFiles[0]);
    expect(out.names).toEqual(['Ab']);
    const ref = await hyparquet(file);
    expect(out.rows).toEqual(ref.rows.filter((row) => Number(row.Ab) > 500).map((row) => ({ Ab: row.Ab })));
  });

  it('a skim that only DuckDB can write (a string column kept too) is refused, naming the two columns', async () => {
    const e = await runSkim({ inputs: [withString], cuts, outDir: join(dir, 'string') }).catch((err: unknown) => err);
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(
      new RegExp(`^${withString}: columns 'ab' and 'Ab' differ only by case.*column 's' \\(VARCHAR\\)`),
    );
    // Without the string column, it is exact.
    const r = await runSkim({
      inputs: [withString],
      cuts,
      outDir: join(dir, 'string'),
      keep: ['ab', 'Ab'],
      codec: 'snappy',
    });
    const ref = await hyparquet(withString);
    const out = await hyparquet(r.skimFiles[0]);
    expect(out.rows).toEqual(ref.rows.filter((row) => Number(row.Ab) > 500).map((row) => ({ ab: row.ab, Ab: row.Ab })));
  });

  it('fields of a struct differing only by case (DuckDB reads the second as PT_1): the file is refused, naming both', async () => {
    const path = join(dir, 'struct-case.parquet');
    const type = new Struct([new Field('pt', new Float64()), new Field('PT', new Float64())]);
    await writeArrow(
      path,
      new ArrowTable({
        mu: vectorFromArray(
          [
            { pt: 1, PT: 2 },
            { pt: 3, PT: 4 },
          ],
          type,
        ),
      }),
    );
    await expectRefused(path, new RegExp(`^${path}: fields 'pt' and 'PT' of column 'mu' differ only by case`));
  });

  it('two columns of one name: the file is refused, naming the column', async () => {
    const path = join(dir, 'twice.parquet');
    const column = (data: number[]) => ({ name: 'a', data, type: 'DOUBLE' as const });
    await writeFile(path, new Uint8Array(parquetWriteBuffer({ columnData: [column([1, 2]), column([3, 4])] })));
    await expectRefused(path, new RegExp(`^${path}: two columns named 'a'`));
  });

  it("a column 'File_Row_Number' (DuckDB's row-number column to it): the batch reader refuses it, naming it", async () => {
    const path = join(dir, 'row-number.parquet');
    await writeArrow(path, { x: Float64Array.from([1, 2, 3]), File_Row_Number: Float64Array.from([7, 8, 9]) });
    const e = await collect(parquetSource([path]).batches({ where: [{ column: 'x', op: '>', value: 1 }] })).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(
      new RegExp(`^${path}: has a column named 'File_Row_Number', the name of DuckDB's row-number column`),
    );
  });

  it("a column '__proto__' (a name no JavaScript object holds as its own key): the batch reader refuses it", async () => {
    // Read into a batch, it became the columns' prototype: training on it had NaN losses and skipped every step.
    const path = join(dir, 'proto.parquet');
    await sql(
      `COPY (SELECT i::DOUBLE AS x, (i * 2)::DOUBLE AS "__proto__" FROM range(3) t(i)) TO '${path}' (FORMAT parquet)`,
    );
    const e = await collect(parquetSource([path]).batches({ columns: ['x', '__proto__'] })).catch(
      (err: unknown) => err,
    );
    expect(e).toBeInstanceOf(InputError);
    expect((e as Error).message).toMatch(new RegExp(`^${path}: column '__proto__' cannot be read into batches`));
    // A read without it, and the skim run by DuckDB, which copies it as it is.
    expect((await collect(parquetSource([path]).batches({ columns: ['x'] }))).all!.length).toBe(3);
    const r = await runSkim({
      inputs: [path],
      cuts: { cuts: [{ column: 'x', op: '>', value: 0 }], score: null },
      outDir: join(dir, 'proto'),
    });
    expect(await sql(`SELECT x, "__proto__" AS p FROM '${r.skimFiles[0]}' ORDER BY x`)).toEqual([
      { x: 1, p: 2 },
      { x: 2, p: 4 },
    ]);
  });
});
