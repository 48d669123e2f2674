import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBatch } from '../../src/batch/batch.js';
import { type HardCut, passMask } from '../../src/selection/cutsFile.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { readParquetMeta } from '../../src/sources/parquetMeta.js';
import { eventBytesModel, skimColumns } from '../../src/training/eventBytes.js';
import { collect, listAt, sql, tempDir } from './helpers.js';
import { STRUCTS_SQL } from './structsFixture.js';

/** Struct columns (see structsFixture): their numeric leaves read as 'Muon.pt', 'MET.pt', 'MET.flags.good'. */
let dir: string;
let cleanup: () => Promise<void>;
let input: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  input = join(dir, 'structs.parquet');
  await sql(`COPY (${STRUCTS_SQL}) TO '${input}' (FORMAT parquet, ROW_GROUP_SIZE 2048)`);
});
afterAll(() => cleanup());

const ids = (b: EventBatch | null) => (b ? Array.from(b.columns.id.values as Int32Array) : []);

describe('struct leaves of Parquet files', () => {
  it('are fields of the schema; the structs stay unsupported, unreadable leaves named by their dotted name', async () => {
    const meta = await readParquetMeta(input);
    expect(meta.schema.map((f) => [f.name, f.type, f.list])).toEqual([
      ['id', 'int32', false],
      ['x', 'float64', false],
      ['Muon.pt', 'float32', true],
      ['Muon.charge', 'int8', true],
      ['MET.pt', 'float32', false],
      ['MET.phi', 'float32', false],
      ['MET.flags.good', 'bool', false],
    ]);
    expect(meta.unsupported.map((u) => u.name)).toEqual(['Muon', 'MET']);
    expect(meta.columns).toEqual(['id', 'x', 'Muon', 'MET']);
    expect(meta.unreadableLeaves).toEqual([{ name: 'Muon.name', type: 'VARCHAR[]' }]);
  });

  it('read the values DuckDB gives, row by row (nulls: an empty list or NaN, and invalid)', async () => {
    const { all, batches } = await collect(
      parquetSource([input]).batches({
        columns: ['id', 'Muon.pt', 'Muon.charge', 'MET.pt', 'MET.flags.good'],
        batchRows: 3000,
      }),
    );
    expect(batches.length).toBe(3);
    const rows = await sql(`SELECT id, Muon, MET FROM read_parquet('${input}') ORDER BY id`);
    const b = all!;
    expect(ids(b)).toEqual(rows.map((r) => r.id));
    const valid = (name: string, i: number) => b.columns[name].validity?.[i] ?? 1;
    let seen = { nullList: 0, nullRecord: 0, nullPt: 0, empty: 0, nullMet: 0 };
    rows.forEach((r, i) => {
      const muons = r.Muon as ({ pt: number | null; charge: number } | null)[] | null;
      const met = r.MET as { pt: number | null; flags: { good: boolean } } | null;
      expect(listAt(b, 'Muon.pt', i)).toEqual((muons ?? []).map((m) => m?.pt ?? NaN));
      expect(listAt(b, 'Muon.charge', i)).toEqual((muons ?? []).map((m) => m?.charge ?? 0));
      expect(valid('Muon.pt', i)).toBe(muons === null ? 0 : 1);
      const pt = (b.columns['MET.pt'].values as Float32Array)[i];
      if (met?.pt == null) expect([pt, valid('MET.pt', i)]).toEqual([NaN, 0]);
      else expect([pt, valid('MET.pt', i)]).toEqual([met.pt, 1]);
      expect((b.columns['MET.flags.good'].values as Uint8Array)[i]).toBe(met?.flags.good ? 1 : 0);
      seen = {
        nullList: seen.nullList + (muons === null ? 1 : 0),
        nullRecord: seen.nullRecord + (muons?.some((m) => m === null) ? 1 : 0),
        nullPt: seen.nullPt + (muons?.some((m) => m !== null && m.pt === null) ? 1 : 0),
        empty: seen.empty + (muons?.length === 0 ? 1 : 0),
        nullMet: seen.nullMet + (met === null ? 1 : 0),
      };
    });
    // The fixture has every case.
    for (const n of Object.values(seen)) expect(n).toBeGreaterThan(0);
  });

  it('select the same events in the SQL WHERE as passMask on the batches, and as hand-written DuckDB SQL', async () => {
    const source = parquetSource([input]);
    const { all } = await collect(
      source.batches({ columns: ['id', 'Muon.pt', 'Muon.charge', 'MET.pt', 'MET.phi', 'MET.flags.good'] }),
    );
    const cases: [HardCut[], string][] = [
      [[{ column: 'first(Muon.pt)', op: '>', value: 30 }], 'Muon[1].pt > 30'],
      [[{ column: 'count(Muon.pt)', op: '>', value: 1.5 }], 'len(Muon) >= 2'],
      [[{ column: 'MET.pt', op: '>', value: 50 }], 'MET.pt > 50'],
      [
        [
          { column: 'abs(MET.phi)', op: '<', value: 1 },
          { column: 'MET.flags.good', op: '>', value: 0.5 },
        ],
        'abs(MET.phi) < 1 AND MET.flags.good',
      ],
      [
        [
          { column: 'first(Muon.pt)', op: '>', value: 20 },
          { column: 'count(Muon.charge)', op: '>', value: 1.5 },
          { column: 'MET.pt', op: 'between', low: 20, high: 200 },
        ],
        'Muon[1].pt > 20 AND len(Muon) >= 2 AND MET.pt > 20 AND MET.pt < 200',
      ],
    ];
    for (const [cuts, where] of cases) {
      const mask = passMask(all!, cuts);
      const byMask = ids(all).filter((_, i) => mask[i]);
      const bySql = ids((await collect(source.batches({ columns: ['id'], where: cuts }))).all);
      const byHand = (await sql(`SELECT id FROM read_parquet('${input}') WHERE ${where} ORDER BY id`)).map((r) => r.id);
      expect(bySql, where).toEqual(byMask);
      expect(bySql, where).toEqual(byHand);
      expect(bySql.length, where).toBeGreaterThan(0);
      expect(bySql.length, where).toBeLessThan(8192);
    }
  });

  it('have their own chunks’ bytes and values; the struct keeps its total, counted once by the size term', async () => {
    const info = await parquetSource([input]).describe();
    const bytes = async (like: string) =>
      Number(
        (
          await sql(
            `SELECT sum(total_compressed_size)::BIGINT AS b FROM parquet_metadata('${input}') WHERE path_in_schema LIKE '${like}'`,
          )
        )[0].b,
      );
    expect(info.columnBytes.Muon).toBe(await bytes('Muon,%'));
    expect(info.columnBytes.MET).toBe(await bytes('MET,%'));
    expect(info.columnBytes['Muon.pt']).toBe(await bytes('Muon, list, element, pt'));
    expect(info.columnBytes['MET.flags.good']).toBe(await bytes('MET, flags, good'));
    expect(info.columnBytes['MET.pt'] + info.columnBytes['MET.phi'] + info.columnBytes['MET.flags.good']).toBe(
      info.columnBytes.MET,
    );
    expect(info.columnBytes['Muon.pt'] + info.columnBytes['Muon.charge']).toBeLessThan(info.columnBytes.Muon);
    expect(info.columnValues['MET.pt']).toBe(8192);
    // Entries of Muon.pt: its chunks' values less their nulls (which count null and empty lists,
    // null records and null pt, and may count more), at most the entries with a pt.
    const [{ v, n }] =
      await sql(`SELECT (SELECT sum(num_values - stats_null_count)::INTEGER FROM parquet_metadata('${input}') WHERE path_in_schema = 'Muon, list, element, pt') AS v,
      (SELECT count(m.pt)::INTEGER FROM (SELECT unnest(Muon) AS m FROM read_parquet('${input}'))) AS n`);
    expect(info.columnValues['Muon.pt']).toBe(v);
    expect(v).toBeGreaterThan(0);
    expect(v).toBeLessThanOrEqual(n as number);
    const total = await bytes('%');
    expect(eventBytesModel(info, skimColumns(info, true)).bytesIn).toBe(total);
    expect(skimColumns(info, false)).toEqual(['id', 'x']);
    expect(eventBytesModel(info).bytesIn).toBe(info.columnBytes.id + info.columnBytes.x);
    expect(() => eventBytesModel(info, ['id', 'MET.pt'])).toThrow(
      "size term: cannot keep 'MET.pt', a field of the struct column 'MET': a skim writes whole columns; keep 'MET'",
    );
  });

  it('push cuts on flat leaves down to the row groups by their own statistics', async () => {
    const meta = await readParquetMeta(input);
    expect(meta.rowGroups.map((g) => g.rows)).toEqual([2048, 2048, 2048, 2048]);
    const [{ hi }] = await sql(`SELECT max(MET.pt)::DOUBLE AS hi FROM read_parquet('${input}') WHERE id < 2048`);
    expect(meta.rowGroups[0].columns['MET.pt'].max).toBe(hi);
    expect(meta.rowGroups[0].columns.MET.max).toBeNull();
    const source = parquetSource([input]);
    // MET.pt = id / 4: row groups 0 and 1 hold at most 1023.75.
    const push = await source.pushDown({ columns: ['id'], where: [{ column: 'MET.pt', op: '>', value: 1030 }] });
    expect(push.rowGroupsSkipped).toBe(2);
    expect(push.bytesTotal).toBe(
      await sql(`SELECT sum(total_compressed_size)::BIGINT AS b FROM parquet_metadata('${input}')`).then((r) =>
        Number(r[0].b),
      ),
    );
    // Of the two row groups read, only id and MET.pt.
    const read = meta.rowGroups
      .slice(2)
      .reduce((s, g) => s + g.columns.id.compressedBytes + g.columns['MET.pt'].compressedBytes, 0);
    expect(push.bytesNeverRead).toBe(push.bytesTotal - read);
    expect(
      (await collect(source.batches({ columns: ['id'], where: [{ column: 'MET.pt', op: '>', value: 1030 }] }))).all!
        .length,
    ).toBe((await sql(`SELECT count(*)::INTEGER AS n FROM read_parquet('${input}') WHERE MET.pt > 1030`))[0].n);
    // A list leaf's statistics are over its entries: first() and count() are not judged.
    expect(
      (await source.pushDown({ where: [{ column: 'first(Muon.pt)', op: '>', value: 1000 }] })).rowGroupsSkipped,
    ).toBe(0);
  });

  it('name a missing leaf with the closest one, and an unreadable leaf by its type', async () => {
    const source = parquetSource([input]);
    await expect(collect(source.batches({ columns: ['Muon.ptt'] }))).rejects.toThrow(
      `${input}: no column 'Muon.ptt' (closest: 'Muon.pt')`,
    );
    await expect(collect(source.batches({ columns: ['Muon.name'] }))).rejects.toThrow(
      `${input}: column 'Muon.name' has type VARCHAR[], which diffskim cannot read`,
    );
    await expect(
      collect(source.batches({ columns: ['id'], where: [{ column: 'Muon.pt', op: '>', value: 1 }] })),
    ).rejects.toThrow("'Muon.pt' is a list column, not one value per event at 1:1; use count(Muon.pt)");
  });

  it('a column whose name has a dot reads as itself; one named like a leaf of a struct is refused', async () => {
    const dotted = join(dir, 'dotted.parquet');
    await sql(
      `COPY (SELECT id, MET.pt::DOUBLE AS "Jet.pt" FROM read_parquet('${input}')) TO '${dotted}' (FORMAT parquet)`,
    );
    const { all } = await collect(
      parquetSource([dotted]).batches({ columns: ['id'], where: [{ column: 'Jet.pt', op: '>', value: 50 }] }),
    );
    expect(ids(all)).toEqual(
      (await sql(`SELECT id FROM read_parquet('${dotted}') WHERE "Jet.pt" > 50 ORDER BY id`)).map((r) => r.id),
    );
    const clash = join(dir, 'clash.parquet');
    await sql(
      `COPY (SELECT id, MET, MET.pt::DOUBLE AS "MET.pt" FROM read_parquet('${input}')) TO '${clash}' (FORMAT parquet)`,
    );
    await expect(readParquetMeta(clash)).rejects.toThrow(
      `${clash}: column 'MET.pt' is named like a field of the struct column 'MET'`,
    );
    // Nor can two fields of a struct both be 'S.a.b'.
    const twice = join(dir, 'twice.parquet');
    await sql(
      `COPY (SELECT id, {'a.b': id::DOUBLE, 'a': {'b': (id * 100)::DOUBLE}} AS S FROM read_parquet('${input}')) TO '${twice}' (FORMAT parquet)`,
    );
    await expect(readParquetMeta(twice)).rejects.toThrow(
      `${twice}: two fields of the struct column 'S' would both be read as 'S.a.b' (a field name with a dot); rename one`,
    );
  });

  it('of several files are read where every file has them, of one type', async () => {
    const other = join(dir, 'other.parquet');
    await sql(
      `COPY (SELECT id, x, {'pt': MET.pt} AS MET FROM read_parquet('${input}')) TO '${other}' (FORMAT parquet)`,
    );
    const source = parquetSource([input, other]);
    expect((await source.describe()).schema.map((f) => f.name)).toEqual(['id', 'x', 'MET.pt']);
    const { all } = await collect(
      source.batches({ columns: ['MET.pt'], where: [{ column: 'MET.pt', op: '>', value: 100 }] }),
    );
    expect(all!.length).toBe(
      2 * Number((await sql(`SELECT count(*)::INTEGER AS n FROM read_parquet('${input}') WHERE MET.pt > 100`))[0].n),
    );
    const wrong = join(dir, 'wrong.parquet');
    await sql(
      `COPY (SELECT id, x, {'pt': MET.pt::DOUBLE} AS MET FROM read_parquet('${input}')) TO '${wrong}' (FORMAT parquet)`,
    );
    await expect(parquetSource([input, wrong]).describe()).rejects.toThrow(
      "wrong.parquet: column 'MET.pt' is MET.pt: float32? in one and MET.pt: float64? in the other",
    );
  });

  it('a union inside a struct (a struct with an unnamed field) is unreadable; the leaves around it read, with their own statistics', async () => {
    const file = join(dir, 'union.parquet');
    await sql(
      `COPY (SELECT id, {'a': id::DOUBLE, 'u': union_value(num := id), 'e': (id * 5)::BIGINT} AS S FROM read_parquet('${input}')) TO '${file}' (FORMAT parquet)`,
    );
    const meta = await readParquetMeta(file);
    expect(meta.schema.map((f) => f.name)).toEqual(['id', 'S.a', 'S.e']);
    expect(meta.unreadableLeaves.map((u) => u.name)).toEqual(['S.u']);
    expect([meta.rowGroups[0].columns['S.e'].min, meta.rowGroups[0].columns['S.e'].max]).toEqual([0, 5 * 8191]);
    const { all } = await collect(parquetSource([file]).batches());
    expect(Array.from(all!.columns['S.e'].values as BigInt64Array).slice(0, 3)).toEqual([0n, 5n, 10n]);
  });
});
