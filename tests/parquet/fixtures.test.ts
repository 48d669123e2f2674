import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fixtureRow, makeFixtures, type Fixture } from '../../scripts/make-fixtures.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { collect, listAt, tempDir } from './helpers.js';

const ROWS = 600;
let fixtures: Fixture[] = [];
let cleanup: () => Promise<void>;

beforeAll(async () => {
  const t = await tempDir();
  cleanup = t.cleanup;
  fixtures = await makeFixtures(t.dir, ROWS);
});
afterAll(() => cleanup());

describe('reading Parquet from every producer', () => {
  it('covers the producer x codec matrix', () => {
    expect(new Set(fixtures.map((f) => f.producer))).toEqual(
      new Set(['duckdb', 'duckdb-v2', 'parquet-wasm', 'parquet-wasm-v2', 'hyparquet-writer', 'diffskim']),
    );
    expect(new Set(fixtures.map((f) => f.codec))).toEqual(new Set(['snappy', 'zstd', 'gzip', 'uncompressed']));
  });

  it('reads the same values from each file', async () => {
    for (const f of fixtures) {
      const src = parquetSource([f.file]);
      const info = await src.describe();
      const types = Object.fromEntries(
        info.schema.map((x) => [x.name, `${x.list ? 'list<' : ''}${x.type}${x.list ? '>' : ''}`]),
      );
      expect(types, f.file).toEqual({
        id: 'int32',
        f32: 'float32',
        f64: 'float64',
        i32: 'int32',
        i64: 'int64',
        flag: 'bool',
        i8: 'int8',
        maybe: 'float32',
        jets: 'list<float32>',
      });
      expect(info.rows, f.file).toBe(f.rows);
      if (!f.producer.startsWith('duckdb') && f.rows > 0)
        expect(info.files[0].rowGroups, f.file).toBe(Math.ceil(f.rows / f.rowGroupRows));
      const { all } = await collect(src.batches({ batchRows: 250 }));
      if (f.rows === 0) {
        expect(all, f.file).toBeNull();
        continue;
      }
      const b = all!;
      expect(b.length).toBe(f.rows);
      for (let i = 0; i < f.rows; i++) {
        const r = fixtureRow(i);
        const got = {
          id: b.columns.id.values[i],
          f32: b.columns.f32.values[i],
          f64: b.columns.f64.values[i],
          i32: b.columns.i32.values[i],
          i64: b.columns.i64.values[i],
          flag: b.columns.flag.values[i] === 1,
          i8: b.columns.i8.values[i],
          maybe: b.columns.maybe.validity && !b.columns.maybe.validity[i] ? null : b.columns.maybe.values[i],
          jets: b.columns.jets.validity && !b.columns.jets.validity[i] ? null : listAt(b, 'jets', i),
        };
        expect(got, `${f.file} row ${i}`).toEqual(r);
      }
    }
  });
});
