import { readdir, readFile } from 'node:fs/promises';
import { parquetReadObjects } from 'hyparquet';
import { join } from 'node:path';
import { concat, from, lastValueFrom, throwError, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch } from '../../src/batch/batch.js';
import { hardCut, newCounts } from '../../src/operators/hardCut.js';
import { parquetSink } from '../../src/sinks/parquetSink.js';
import { SinkError } from '../../src/sinks/sinkError.js';
import { sql, tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

/** n events: x = i / 2 (null when i % 5 == 0), n = i * 1e12, flag = i odd, jets of length i % 3. */
function batchOf(lo: number, n: number) {
  const offsets = new Int32Array(n + 1);
  const jets: number[] = [];
  for (let k = 0; k < n; k++) {
    const i = lo + k;
    for (let j = 0; j < i % 3; j++) jets.push(i + j);
    offsets[k + 1] = jets.length;
  }
  const b = makeBatch(
    {
      id: Int32Array.from({ length: n }, (_, k) => lo + k),
      x: Float32Array.from({ length: n }, (_, k) => (lo + k) / 2),
      n: BigInt64Array.from({ length: n }, (_, k) => BigInt(lo + k) * 1_000_000_000_000n),
      flag: Uint8Array.from({ length: n }, (_, k) => (lo + k) % 2),
      small: Int8Array.from({ length: n }, (_, k) => ((lo + k) % 100) - 50),
      jets: { offsets, values: Float32Array.from(jets) },
    },
    { id: 'int32', x: 'float32', n: 'int64', flag: 'bool', small: 'int8', jets: 'float32' },
  );
  b.schema[1] = { ...b.schema[1], nullable: true };
  b.columns.x.validity = Uint8Array.from({ length: n }, (_, k) => ((lo + k) % 5 === 0 ? 0 : 1));
  return b;
}

describe('parquetSink', () => {
  for (const codec of ['snappy', 'zstd', 'gzip', 'uncompressed'] as const) {
    it(`writes values DuckDB reads back (${codec}), one row group per rowGroupRows`, async () => {
      const file = join(dir, `out-${codec}.parquet`);
      const result = await lastValueFrom(
        from([batchOf(0, 700), batchOf(700, 300), batchOf(1000, 250)]).pipe(
          parquetSink(file, { codec, rowGroupRows: 500 }),
        ),
      );
      expect(result.rows).toBe(1250);
      const meta = await sql(`SELECT DISTINCT row_group_id, compression FROM parquet_metadata('${file}')`);
      expect(meta.length).toBe(3);
      expect(meta.every((m) => String(m.compression).toLowerCase() === codec)).toBe(true);
      const rows = await sql(`SELECT id, x, n::VARCHAR AS n, flag, small, jets FROM '${file}' ORDER BY id`);
      expect(rows.length).toBe(1250);
      for (const r of rows) {
        const i = Number(r.id);
        expect(r.x).toBe(i % 5 === 0 ? null : i / 2);
        expect(r.n).toBe(String(BigInt(i) * 1_000_000_000_000n));
        expect(r.flag).toBe(i % 2 === 1);
        expect(r.small).toBe((i % 100) - 50);
        expect(r.jets).toEqual(Array.from({ length: i % 3 }, (_, j) => i + j));
      }
      expect((await readdir(dir)).filter((f) => f.includes('.tmp-'))).toEqual([]);
    });
  }

  it('writes no dictionary pages: floats byte-stream-split, integers delta-encoded, and hyparquet reads them back', async () => {
    const file = join(dir, 'encodings.parquet');
    await lastValueFrom(from([batchOf(0, 4000)]).pipe(parquetSink(file)));
    const rows = await sql(
      `SELECT path_in_schema AS p, encodings AS e FROM parquet_metadata('${file}') ORDER BY column_id`,
    );
    const encodings = Object.fromEntries(rows.map((r) => [String(r.p), String(r.e)]));
    expect(Object.values(encodings).some((e) => e.includes('DICTIONARY'))).toBe(false);
    expect(encodings.x).toContain('BYTE_STREAM_SPLIT');
    for (const c of ['id', 'n', 'small']) expect(encodings[c]).toContain('DELTA_BINARY_PACKED');
    const bytes = await readFile(file);
    const read = await parquetReadObjects({
      file: bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength),
      rowStart: 3990,
      rowEnd: 3993,
    });
    expect(read.map((r) => [r.id, r.x, r.n, r.small, r.jets])).toEqual(
      [3990, 3991, 3992].map((i) => [
        i,
        i % 5 === 0 ? null : i / 2,
        BigInt(i) * 1_000_000_000_000n,
        (i % 100) - 50,
        Array.from({ length: i % 3 }, (_, j) => i + j),
      ]),
    );
  });

  it('creates the folder it writes into', async () => {
    const file = join(dir, 'not', 'there', 'yet.parquet');
    expect((await lastValueFrom(from([batchOf(0, 10)]).pipe(parquetSink(file)))).rows).toBe(10);
  });

  it('leaves no file and no temp file behind when the stream fails', async () => {
    const file = join(dir, 'failed.parquet');
    const failing = concat(
      from([batchOf(0, 100)]),
      throwError(() => new Error('upstream broke')),
    );
    await expect(lastValueFrom(failing.pipe(parquetSink(file)))).rejects.toThrow(/failed\.parquet.*upstream broke/);
    expect((await readdir(dir)).filter((f) => f.startsWith('failed'))).toEqual([]);
  });

  it('reports its own failures by class (SinkError), named once, not wrapped as a write failure', async () => {
    const file = join(dir, 'differs.parquet');
    const other = makeBatch({ id: Int32Array.of(1) }, { id: 'int32' });
    const err = await lastValueFrom(from([batchOf(0, 10), other]).pipe(parquetSink(file))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SinkError);
    expect((err as Error).message).toMatch(new RegExp(`^${file}: batch schema differs from the file's: `));
    expect((err as Error).message).not.toContain('cannot write Parquet');
    expect((await readdir(dir)).filter((f) => f.startsWith('differs'))).toEqual([]);
  });
});

describe('hardCut', () => {
  it('keeps passing events, counts NaN and nulls as cut', async () => {
    const b = batchOf(0, 100);
    (b.columns.x.values as Float32Array)[7] = NaN;
    const counts = newCounts();
    const out = await lastValueFrom(
      from([b]).pipe(hardCut([{ column: 'x', op: 'between', low: 10, high: 40 }], undefined, counts), toArray()),
    );
    // x = i/2 in (10, 40): i in 21..79, minus nulls (i % 5 == 0); i = 7 is outside anyway.
    const expected = Array.from({ length: 59 }, (_, k) => 21 + k).filter((i) => i % 5 !== 0);
    expect(Array.from(out[0].columns.id.values as Int32Array)).toEqual(expected);
    expect(counts).toEqual({ eventsIn: 100, kept: expected.length, cut: 100 - expected.length });
    // An empty batch, or one whose events all fail, is not passed on.
    const none = await lastValueFrom(
      from([batchOf(0, 0), batchOf(0, 10)]).pipe(hardCut([{ column: 'id', op: '>', value: 1000 }]), toArray()),
    );
    expect(none).toEqual([]);
  });

  it('applies a score cut after the hard cuts; NaN scores fail', async () => {
    const b = batchOf(0, 50);
    const counts = newCounts();
    const score = { fn: () => Float32Array.from({ length: 50 }, (_, i) => (i === 31 ? NaN : i / 50)), threshold: 0.5 };
    const out = await lastValueFrom(
      from([b]).pipe(hardCut([{ column: 'count(jets)', op: '>', value: 0 }], score, counts), toArray()),
    );
    const expected = Array.from({ length: 24 }, (_, k) => 26 + k).filter((i) => i % 3 !== 0 && i !== 31);
    expect(Array.from(out[0].columns.id.values as Int32Array)).toEqual(expected);
    expect(counts.kept + counts.cut).toBe(50);
  });
});
