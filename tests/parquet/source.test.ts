import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { lastValueFrom, of, take, tap } from 'rxjs';
import { makeBatch } from '../../src/batch/batch.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { expandInputs, skimInputs } from '../../src/sources/expandInputs.js';
import { inOwnFolders } from '../../src/skim/outputPaths.js';
import type { HardCut } from '../../src/selection/cutsFile.js';
import { parquetSink } from '../../src/sinks/parquetSink.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { duckdb, queryRows } from '../../src/sources/parquetDuckdb.js';
import { collect, listAt, openDescriptors, sql, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;

/** ids lo..hi-1, x = id / 4, jets of length id % 3 (values id, id + 1), NaN x every 10th event. */
async function writeIds(file: string, lo: number, hi: number, rowGroup = 1000): Promise<void> {
  await sql(`COPY (SELECT i::INTEGER AS id, CASE WHEN i % 10 = 9 THEN 'nan'::FLOAT ELSE (i / 4)::FLOAT END AS x,
    [(i + k)::FLOAT FOR k IN range(i % 3)] AS jets FROM range(${lo}, ${hi}) t(i))
    TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE ${rowGroup})`);
}

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await mkdir(join(dir, 'sub'));
  await writeIds(join(dir, 'a.parquet'), 0, 3000);
  await writeIds(join(dir, 'sub', 'b.parquet'), 3000, 5000);
  await writeIds(join(dir, 'c.parquet'), 5000, 5500);
  // Sorted id with 10 row groups of 2048 rows (DuckDB's vector size).
  await writeIds(join(dir, 'sorted.parquet'), 0, 20480, 2048);
  await sql(
    `COPY (SELECT i::DOUBLE AS id, i::FLOAT AS x FROM range(10) t(i)) TO '${join(dir, 'other.parquet')}' (FORMAT parquet)`,
  );
});
afterAll(() => cleanup());

describe('parquetSource', () => {
  it('streams files in the given order with origins, in batches of batchRows', async () => {
    const files = [join(dir, 'c.parquet'), join(dir, 'a.parquet'), join(dir, 'sub', 'b.parquet')];
    const { batches, all } = await collect(parquetSource(files).batches({ batchRows: 1000 }));
    expect(batches.map((b) => b.length)).toEqual([500, 1000, 1000, 1000, 1000, 1000]);
    expect(batches.map((b) => [b.origin?.file, b.origin?.firstRow])).toEqual([
      [files[0], 0],
      [files[1], 0],
      [files[1], 1000],
      [files[1], 2000],
      [files[2], 0],
      [files[2], 1000],
    ]);
    const ids = Array.from(all!.columns.id.values as Int32Array);
    expect(ids).toEqual([...range(5000, 5500), ...range(0, 3000), ...range(3000, 5000)]);
    for (const i of [0, 1, 2, 777, 4999]) {
      const id = ids[i];
      expect(listAt(all!, 'jets', i)).toEqual(id % 3 === 0 ? [] : id % 3 === 1 ? [id] : [id, id + 1]);
    }
  });

  it('reads chunks whose lists are all empty or null and a column that is all null', async () => {
    const file = join(dir, 'empty-lists.parquet');
    await sql(`COPY (SELECT i::INTEGER AS id, CASE WHEN i % 2 = 0 THEN NULL ELSE []::FLOAT[] END AS jets, NULL::DOUBLE AS gone
      FROM range(3000) t(i)) TO '${file}' (FORMAT parquet)`);
    const { batches, all } = await collect(parquetSource([file]).batches({ batchRows: 1000 }));
    expect(batches.map((b) => b.length)).toEqual([1000, 1000, 1000]);
    const jets = all!.columns.jets;
    expect(jets.kind === 'list' && jets.offsets[3000]).toBe(0);
    expect(Array.from(jets.validity!.subarray(0, 4))).toEqual([0, 1, 0, 1]);
    expect(all!.columns.gone.validity!.every((v) => v === 0)).toBe(true);
    expect(Array.from(all!.columns.gone.values as Float64Array).every(Number.isNaN)).toBe(true);
  });

  it('reads every column type diffskim holds, flat and as lists with null lists and null elements, as DuckDB does', async () => {
    const file = join(dir, 'types.parquet');
    const types: Record<string, string> = {
      bool: 'BOOLEAN',
      int8: 'TINYINT',
      int16: 'SMALLINT',
      int32: 'INTEGER',
      int64: 'BIGINT',
      uint8: 'UTINYINT',
      uint16: 'USMALLINT',
      uint32: 'UINTEGER',
      float32: 'FLOAT',
      float64: 'DOUBLE',
    };
    const value = (t: string, v: string) => (t === 'BOOLEAN' ? `(${v} % 3 = 0)` : `((${v} * 37) % 120 + 0.5)::${t}`);
    const columns = Object.entries(types).flatMap(([name, t]) => [
      `${value(t, 'i')} AS f_${name}`,
      `CASE WHEN i % 5 = 0 THEN NULL ELSE [CASE WHEN (i + k) % 4 = 0 THEN NULL ELSE ${value(t, 'i + k')} END FOR k IN range(i % 3)] END AS l_${name}`,
    ]);
    await sql(`COPY (SELECT ${columns.join(', ')} FROM range(5000) t(i)) TO '${file}' (FORMAT parquet)`);
    const expected = await sql(`SELECT * FROM read_parquet('${file}')`);
    const { all } = await collect(parquetSource([file]).batches({ batchRows: 1500 }));
    expect(all!.schema.map((f) => (f.list ? `${f.name}:list<${f.type}>` : `${f.name}:${f.type}`))).toEqual(
      Object.keys(types).flatMap((t) => [`f_${t}:${t}`, `l_${t}:list<${t}>`]),
    );
    // A null list element has no slot of its own in a batch: it reads as NaN (floats) or 0.
    const asNumber = (v: unknown, name: string) =>
      v === null ? (name.startsWith('float') ? NaN : 0) : typeof v === 'boolean' ? Number(v) : Number(v);
    for (let i = 0; i < 5000; i++) {
      for (const name of Object.keys(types)) {
        const flat = all!.columns[`f_${name}`];
        expect(Number(flat.values[i]), `f_${name} row ${i}`).toBe(asNumber(expected[i][`f_${name}`], name));
        const list = all!.columns[`l_${name}`];
        const want = expected[i][`l_${name}`] as unknown[] | null;
        if (list.kind !== 'list') throw new Error('not a list');
        expect(list.validity?.[i] === 0, `l_${name} row ${i} null`).toBe(want === null);
        const got = Array.from(
          list.values.subarray(list.offsets[i], list.offsets[i + 1]) as ArrayLike<number | bigint>,
          Number,
        );
        expect(got, `l_${name} row ${i}`).toEqual((want ?? []).map((v) => asNumber(v, name)));
      }
    }
  });

  it('projects columns and derived quantities', async () => {
    const { all } = await collect(
      parquetSource([join(dir, 'a.parquet')]).batches({ columns: ['count(jets)', 'first(jets)', 'abs(x)', 'id'] }),
    );
    expect(all!.schema.map((f) => `${f.name}:${f.type}`)).toEqual([
      'count(jets):int32',
      'first(jets):float32',
      'abs(x):float32',
      'id:int32',
    ]);
    for (let i = 0; i < 3000; i++) {
      expect(all!.columns['count(jets)'].values[i]).toBe(i % 3);
      const first = all!.columns['first(jets)'];
      if (i % 3 === 0) expect(first.validity![i]).toBe(0);
      else expect(first.values[i]).toBe(i);
    }
  });

  it('drops events failing pushed-down cuts (NaN fails) and skips row groups on a sorted column', async () => {
    const src = parquetSource([join(dir, 'sorted.parquet')]);
    const where = [
      { column: 'id', op: '>' as const, value: 15000 },
      { column: 'x', op: '<' as const, value: 5000 },
    ];
    const stats = await src.pushDown({ where, columns: ['id'] });
    // id > 15000 rules out row groups 0..6 (max id 14335); x < 5000 (x = id/4) rules out none.
    expect(stats.rowGroupsTotal).toBe(10);
    expect(stats.rowGroupsSkipped).toBe(7);
    const meta = (
      await sql(
        `SELECT sum(total_compressed_size)::BIGINT AS b FROM parquet_metadata('${join(dir, 'sorted.parquet')}') WHERE row_group_id < 7 OR path_in_schema NOT IN ('id', 'x')`,
      )
    )[0];
    // Never read: the jets column, and id and x (read for the cuts) in the skipped row groups.
    expect(stats.bytesNeverRead).toBe(Number(meta.b));
    const { batches, all } = await collect(src.batches({ where, columns: ['id'] }));
    const expected = range(15001, 20000).filter((i) => i % 10 !== 9);
    expect(Array.from(all!.columns.id.values as Int32Array)).toEqual(expected);
    expect(batches[0].origin).toEqual({ file: join(dir, 'sorted.parquet'), rowGroup: 7, firstRow: 15001 });
  });

  it('describes schema, rows, bytes and per-column sizes from the footer', async () => {
    const info = await parquetSource([join(dir, 'a.parquet'), join(dir, 'c.parquet')]).describe();
    expect(info.rows).toBe(3500);
    expect(info.schema.map((f) => [f.name, f.type, f.list])).toEqual([
      ['id', 'int32', false],
      ['x', 'float32', false],
      ['jets', 'float32', true],
    ]);
    const files = `['${join(dir, 'a.parquet')}', '${join(dir, 'c.parquet')}']`;
    const sizes = await sql(
      `SELECT sum(total_compressed_size)::BIGINT AS b FROM parquet_metadata(${files}) WHERE path_in_schema LIKE 'jets%'`,
    );
    expect(info.columnBytes.jets).toBe(Number(sizes[0].b));
    // List entries, not Parquet's value slots (which count one for each empty list too).
    const entries = await sql(
      `SELECT sum(len(jets))::BIGINT AS n, count(*) FILTER (WHERE len(jets) = 0)::BIGINT AS empty FROM read_parquet(${files})`,
    );
    expect(Number(entries[0].empty)).toBeGreaterThan(1000);
    expect(info.columnValues.jets).toBe(Number(entries[0].n));
    expect(info.bytesOnDisk).toBe(
      (await readFile(join(dir, 'a.parquet'))).length + (await readFile(join(dir, 'c.parquet'))).length,
    );
  });

  it('names both files and the column when schemas disagree', async () => {
    await expect(parquetSource([join(dir, 'a.parquet'), join(dir, 'other.parquet')]).describe()).rejects.toThrow(
      /a\.parquet and .*other\.parquet.*column 'id' is id: int32\? in one and id: float64\? in the other/,
    );
  });

  it('gives clear errors for missing columns, empty and truncated files', async () => {
    await expect(collect(parquetSource([join(dir, 'a.parquet')]).batches({ columns: ['idd'] }))).rejects.toThrow(
      /a\.parquet: no column 'idd' \(closest: 'id'\)/,
    );
    await expect(
      collect(parquetSource([join(dir, 'a.parquet')]).batches({ where: [{ column: 'jets', op: '>', value: 1 }] })),
    ).rejects.toThrow(/'jets' is a list column, not one value per event at 1:1; use count\(jets\)/);
    const empty = join(dir, 'empty.parquet');
    await writeFile(empty, '');
    await expect(parquetSource([empty]).describe()).rejects.toThrow(/empty\.parquet: file is empty/);
    const cut = join(dir, 'truncated.parquet');
    const bytes = await readFile(join(dir, 'a.parquet'));
    await writeFile(cut, bytes.subarray(0, bytes.length >> 1));
    await expect(parquetSource([cut]).describe()).rejects.toThrow(/truncated\.parquet: cannot read Parquet metadata/);
  });

  it('with reuseArrays = k, batch i + k refills the arrays of batch i, and each batch is right when it is emitted', async () => {
    const ids: number[] = [];
    const jets: number[][] = [];
    const arrays: ArrayBufferLike[][] = [];
    await lastValueFrom(
      parquetSource([join(dir, 'a.parquet')])
        .batches({ batchRows: 500, reuseArrays: 2 })
        .pipe(
          tap((b) => {
            ids.push(...(b.columns.id.values as Int32Array));
            for (let i = 0; i < b.length; i++) jets.push(listAt(b, 'jets', i));
            const list = b.columns.jets;
            arrays.push([
              b.columns.id.values.buffer,
              list.values.buffer,
              list.kind === 'list' ? list.offsets.buffer : list.values.buffer,
            ]);
          }),
        ),
    );
    expect(ids).toEqual(range(0, 3000));
    expect(
      jets.every(
        (j, id) => JSON.stringify(j) === JSON.stringify(id % 3 === 0 ? [] : id % 3 === 1 ? [id] : [id, id + 1]),
      ),
    ).toBe(true);
    expect(arrays).toHaveLength(6);
    // (A list's values array is replaced by a bigger one when a batch needs more room.)
    for (let i = 0; i < 4; i++)
      for (let c = 0; c < 3; c++) {
        if (c !== 1) expect(arrays[i + 2][c]).toBe(arrays[i][c]);
        expect(arrays[i + 1][c]).not.toBe(arrays[i][c]);
      }
  });

  it('a read on one thread (oneThread) is the plain read, with cuts and from a row on', async () => {
    const files = [join(dir, 'a.parquet'), join(dir, 'sub', 'b.parquet')];
    const where: HardCut[] = [{ column: 'x', op: '>', value: 100 }];
    for (const options of [{}, { where }, { startRow: 2500 }]) {
      const read = (oneThread: boolean) =>
        collect(parquetSource(files).batches({ ...options, batchRows: 700, oneThread, readAheadMB: 0.1 }));
      const [plain, one] = [await read(false), await read(true)];
      expect(one.batches.map((b) => [b.length, b.origin])).toEqual(plain.batches.map((b) => [b.length, b.origin]));
      for (const c of ['id', 'x', 'jets']) expect(one.all!.columns[c]).toEqual(plain.all!.columns[c]);
    }
    const threads = async (oneThread: boolean) => {
      const con = await (await duckdb(oneThread)).connect();
      const rows = await queryRows(con, "SELECT current_setting('threads')::INTEGER AS n");
      con.closeSync();
      return Number(rows[0].n);
    };
    expect(await threads(true)).toBe(1);
  });

  it('stops reading when the subscriber unsubscribes, and closes the file', async () => {
    const file = join(dir, 'sorted.parquet');
    for (let pass = 0; pass < 3; pass++) {
      const { batches } = await collect(parquetSource([file]).batches({ batchRows: 100 }).pipe(take(2)));
      expect(batches.map((b) => b.origin?.firstRow)).toEqual([0, 100]);
    }
    // The query's cleanup runs once the stopped read settles.
    await new Promise((r) => setTimeout(r, 100));
    expect(openDescriptors(file)).toBeLessThanOrEqual(0);
  });
});

describe('parquetSource across producers', () => {
  it('files with the same columns in another order, or with nulls in only some files, read as one dataset', async () => {
    const ab = join(dir, 'order-ab.parquet');
    const ba = join(dir, 'order-ba.parquet');
    // ab.parquet: REQUIRED columns, as diffskim's own sink writes them; ba.parquet: columns swapped, b with a null.
    await lastValueFrom(
      of(
        makeBatch({ a: Float64Array.of(1.5, 1.5, 1.5), b: Int32Array.of(2, 2, 2) }, { a: 'float64', b: 'int32' }),
      ).pipe(parquetSink(ab)),
    );
    await sql(
      `COPY (SELECT CASE WHEN i = 1 THEN NULL ELSE 20 END::INTEGER AS b, 10.5::DOUBLE AS a FROM range(3) t(i)) TO '${ba}' (FORMAT parquet)`,
    );
    expect(await sql(`SELECT name, repetition_type AS r FROM parquet_schema('${ab}') WHERE name = 'b'`)).toEqual([
      { name: 'b', r: 'REQUIRED' },
    ]);
    const source = parquetSource([ab, ba]);
    const info = await source.describe();
    expect(info.schema.map((f) => [f.name, f.nullable])).toEqual([
      ['a', true],
      ['b', true],
    ]);
    const { batches, all } = await collect(source.batches());
    for (const b of batches) expect(b.schema).toEqual(info.schema);
    expect(Array.from(all!.columns.a.values as Float64Array)).toEqual([1.5, 1.5, 1.5, 10.5, 10.5, 10.5]);
    expect(Array.from(all!.columns.b.values as Int32Array)).toEqual([2, 2, 2, 20, 0, 20]);
    expect(Array.from(all!.columns.b.validity!)).toEqual([1, 1, 1, 1, 0, 1]);
  });

  it('cuts on booleans, abs() of the most negative integer, and float32 statistics read as the values they bound', async () => {
    const file = join(dir, 'edges.parquet');
    await sql(
      `COPY (SELECT (i % 2 = 0) AS flag, (-128 + i % 3)::TINYINT AS k, 0.7::FLOAT AS x FROM range(10) t(i)) TO '${file}' (FORMAT parquet)`,
    );
    const source = parquetSource([file]);
    const count = async (where: HardCut[]) =>
      (await collect(source.batches({ where }))).batches.reduce((n, b) => n + b.length, 0);
    expect(await count([{ column: 'flag', op: '>', value: 0.5 }])).toBe(5);
    expect(await count([{ column: 'abs(k)', op: '>', value: 127.5 }])).toBe(4); // k = -128 at i = 0, 3, 6, 9
    const { all } = await collect(source.batches({ columns: ['abs(k)'] }));
    expect(Array.from(all!.columns['abs(k)'].values as Float64Array).slice(0, 3)).toEqual([128, 127, 126]);
    // The stored float32 0.7 is 0.699999988 < 0.7: the row group holds passing events and must not be skipped.
    const where: HardCut[] = [{ column: 'x', op: '<', value: 0.7 }];
    expect(await count(where)).toBe(10);
    expect((await source.pushDown({ where })).rowGroupsSkipped).toBe(0);
  });

  it("refuses by name a file with a column named 'file_row_number' (DuckDB's row-number column), for reads with and without cuts", async () => {
    const file = join(dir, 'frn.parquet');
    await sql(
      `COPY (SELECT i::BIGINT AS id, (i * 10)::BIGINT AS file_row_number FROM range(50) t(i)) TO '${file}' (FORMAT parquet)`,
    );
    for (const where of [[], [{ column: 'id', op: '>', value: 3 }] as HardCut[]])
      await expect(collect(parquetSource([file]).batches({ where }))).rejects.toThrow(
        `${file}: has a column named 'file_row_number', the name of DuckDB's row-number column`,
      );
  });

  it('opening many files (footers read several at a time) names the first bad file in order, unreadable or of another schema', async () => {
    const good = join(dir, 'c.parquet');
    const junk = join(dir, 'junk-footer.parquet');
    await writeFile(junk, 'not parquet, but long enough to look for a footer');
    const other = join(dir, 'other-schema.parquet');
    await sql(`COPY (SELECT 1::INTEGER AS something_else) TO '${other}' (FORMAT parquet)`);
    const goods = Array.from({ length: 20 }, () => good);
    await expect(parquetSource([...goods, junk, ...goods, other]).files()).rejects.toThrow(
      `${junk}: cannot read Parquet metadata`,
    );
    await expect(parquetSource([...goods, other, ...goods, junk]).files()).rejects.toThrow(
      `schemas differ between ${good} and ${other}`,
    );
    expect((await parquetSource([...goods, good]).files()).map((m) => m.path)).toEqual([...goods, good]);
  });

  it('refuses a batch size that is not a positive integer', async () => {
    for (const batchRows of [0, 2.5, -1])
      await expect(collect(parquetSource([join(dir, 'c.parquet')]).batches({ batchRows }))).rejects.toThrow(
        /batchRows must be a positive integer/,
      );
  });
});

describe('skimInputs', () => {
  const paths = async (files: string[], out: string) => (await skimInputs(inOwnFolders(files), out)).map((f) => f.path);

  it("leaves out only the skim's own outputs, even with the output folder above the inputs", async () => {
    expect(await paths(['/d/raw/a.parquet', '/d/raw/b.parquet'], '/d')).toEqual([
      '/d/raw/a.parquet',
      '/d/raw/b.parquet',
    ]);
    expect(
      await paths(
        ['/d/a.parquet', '/d/a.skim.parquet', '/d/skim/a.skim.parquet', '/d/skim/2018/a.skim.parquet'],
        '/d/skim',
      ),
    ).toEqual(['/d/a.parquet', '/d/a.skim.parquet']);
    expect(await paths(['/d/a.parquet', '/d/a.skim.parquet'], '/d')).toEqual(['/d/a.parquet']);
    await expect(paths(['/d/a.skim.parquet'], '/d')).rejects.toThrow(
      'every input is a skim file in the output folder /d',
    );
  });

  it('knows its outputs when the output folder is given through a symbolic link into the input folder', async () => {
    const { dir: d, cleanup: done } = await tempDir();
    await mkdir(join(d, 'in', 'out'), { recursive: true });
    await symlink(join(d, 'in', 'out'), join(d, 'link'));
    for (const f of ['a.parquet', join('out', 'a.skim.parquet')]) await writeFile(join(d, 'in', f), '');
    const found = (await expandInputs([join(d, 'in')])).map((f) => f.path);
    expect(found).toEqual([join(d, 'in', 'a.parquet'), join(d, 'in', 'out', 'a.skim.parquet')]);
    expect(await paths(found, join(d, 'link'))).toEqual([join(d, 'in', 'a.parquet')]);
    expect(await paths(found, join(d, 'link', 'new'))).toEqual(found); // a folder below, not made yet
    await done();
  });
});

describe('expandInputs', () => {
  it('expands files, directories, globs and list files in a stable order', async () => {
    const a = join(dir, 'a.parquet');
    const b = join(dir, 'sub', 'b.parquet');
    const c = join(dir, 'c.parquet');
    // each file with the root it was found under: a folder, a glob's static prefix, a file's own folder
    const sub = join(dir, 'sub');
    expect(await expandInputs([sub, a])).toEqual([
      { path: b, root: sub, searched: true },
      { path: a, root: dir, searched: false },
    ]);
    expect(await expandInputs(['[ac].parquet'], dir)).toEqual(
      [a, c].map((path) => ({ path, root: dir, searched: true })),
    );
    expect((await expandInputs([dir])).slice(0, 2).map((f) => f.path)).toEqual([a, c]);
    await copyFile(a, join(dir, 'sub', 'a2.parquet'));
    await writeFile(join(dir, 'list.txt'), 'c.parquet\n# comment\nsub/*.parquet\n');
    expect((await expandInputs(['@list.txt'], dir)).map((f) => [f.path, f.root])).toEqual([
      [c, dir],
      [join(dir, 'sub', 'a2.parquet'), sub],
      [b, sub],
    ]);
    await expect(expandInputs(['nothing-*.parquet'], dir)).rejects.toThrow(
      /input 'nothing-\*\.parquet' matches no Parquet file/,
    );
  });

  it("a folder a glob matches stands for its files: in/* takes in/b/'s, *.parquet a Spark events.parquet/", async () => {
    const folder = join(dir, 'globbed');
    const names = [
      'a.parquet',
      'b/c.parquet',
      'b/d/e.parquet',
      'events.parquet/part-0.parquet',
      'events.parquet/_SUCCESS',
    ];
    for (const n of names) {
      await mkdir(join(folder, n, '..'), { recursive: true });
      await writeFile(join(folder, n), '');
    }
    const found = async (spec: string) => (await expandInputs([spec], folder)).map((f) => [f.path, f.root]);
    const all = ['a.parquet', 'b/c.parquet', 'b/d/e.parquet', 'events.parquet/part-0.parquet'];
    expect(await found('*')).toEqual(all.map((n) => [join(folder, n), folder]));
    expect(await found('**')).toEqual(all.map((n) => [join(folder, n), folder]));
    expect(await found('*.parquet')).toEqual(
      ['a.parquet', 'events.parquet/part-0.parquet'].map((n) => [join(folder, n), folder]),
    );
    expect(await found('b/*')).toEqual(
      ['b/c.parquet', 'b/d/e.parquet'].map((n) => [join(folder, n), join(folder, 'b')]),
    );
  });

  it("a directory's files are found whatever the case of their extension (B.PARQUET, c.Parquet)", async () => {
    const folder = join(dir, 'cases');
    await mkdir(folder);
    const names = ['B.PARQUET', 'a.parquet', 'c.Parquet', 'd.ROOT'];
    for (const n of names) await writeFile(join(folder, n), '');
    expect((await expandInputs([folder])).map((f) => basename(f.path))).toEqual([
      'B.PARQUET',
      'a.parquet',
      'c.Parquet',
    ]);
    expect((await expandInputs([folder], dir, 'root')).map((f) => basename(f.path))).toEqual(['d.ROOT']);
  });
});

function range(lo: number, hi: number): number[] {
  return Array.from({ length: hi - lo }, (_, k) => lo + k);
}
