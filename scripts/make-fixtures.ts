/**
 * Parquet fixtures from several producers, all holding the same logical table (see fixtureRow),
 * to check that the reader understands every writer, codec and row-group layout:
 *   npx tsx scripts/make-fixtures.ts OUT_DIR [ROWS=1000]
 * Producers: DuckDB, parquet-wasm (arrow-rs), hyparquet-writer, diffskim's own sink; DuckDB and
 * arrow-rs also with data page v2 and dictionary-encoded pages (the layout pyarrow writes).
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import * as arrow from 'apache-arrow';
import { DuckDBInstance } from '@duckdb/node-api';
import { parquetWriteBuffer } from 'hyparquet-writer';
import * as pw from 'parquet-wasm';
import { from, lastValueFrom } from 'rxjs';
import type { EventBatch } from '../src/batch/batch.js';
import { parquetSink, type Codec } from '../src/sinks/parquetSink.js';

/** Values of row i, defined by exact formulas so that every producer can write them. */
export function fixtureRow(i: number) {
  const len = i % 5 === 0 ? 0 : i % 4;
  return {
    id: i,
    f32: i * 0.25,
    f64: i / 8,
    i32: i * 3 - 100,
    i64: BigInt(i) * 10_000_000_000n,
    flag: i % 3 === 0,
    i8: (i % 200) - 100,
    maybe: i % 4 === 0 ? null : i * 0.5,
    jets: i % 7 === 3 ? null : Array.from({ length: len }, (_, k) => i + k * 0.5),
  };
}

export interface Fixture {
  file: string;
  producer: string;
  codec: string;
  rows: number;
  /** Rows per row group. */
  rowGroupRows: number;
}

const DUCK_COLUMNS = `i::INTEGER AS id, (i * 0.25)::FLOAT AS f32, (i / 8)::DOUBLE AS f64, (i * 3 - 100)::INTEGER AS i32,
  (i * 10000000000)::BIGINT AS i64, (i % 3 = 0) AS flag, ((i % 200) - 100)::TINYINT AS i8,
  CASE WHEN i % 4 = 0 THEN NULL ELSE (i * 0.5)::FLOAT END AS maybe,
  CASE WHEN i % 7 = 3 THEN NULL ELSE [(i + k * 0.5)::FLOAT FOR k IN range(CASE WHEN i % 5 = 0 THEN 0 ELSE i % 4 END)] END AS jets`;

async function duckdbFixture(
  dir: string,
  rows: number,
  codec: string,
  rowGroupRows: number,
  pageV2 = false,
): Promise<Fixture> {
  const producer = pageV2 ? 'duckdb-v2' : 'duckdb';
  const file = join(dir, `${producer}-${codec}-rg${rowGroupRows}-n${rows}.parquet`);
  const con = await (await DuckDBInstance.create(':memory:', { threads: '1' })).connect();
  const version = pageV2 ? ', PARQUET_VERSION V2' : '';
  await con.run(
    `COPY (SELECT ${DUCK_COLUMNS} FROM range(${rows}) t(i)) TO '${file}' (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${rowGroupRows}${version})`,
  );
  con.closeSync();
  return { file, producer, codec, rows, rowGroupRows };
}

function arrowTable(rows: number): arrow.Table {
  const r = Array.from({ length: rows }, (_, i) => fixtureRow(i));
  const list = new arrow.List(new arrow.Field('item', new arrow.Float32(), true));
  return new arrow.Table({
    id: arrow.vectorFromArray(
      r.map((x) => x.id),
      new arrow.Int32(),
    ),
    f32: arrow.vectorFromArray(
      r.map((x) => x.f32),
      new arrow.Float32(),
    ),
    f64: arrow.vectorFromArray(
      r.map((x) => x.f64),
      new arrow.Float64(),
    ),
    i32: arrow.vectorFromArray(
      r.map((x) => x.i32),
      new arrow.Int32(),
    ),
    i64: arrow.vectorFromArray(
      r.map((x) => x.i64),
      new arrow.Int64(),
    ),
    flag: arrow.vectorFromArray(
      r.map((x) => x.flag),
      new arrow.Bool(),
    ),
    i8: arrow.vectorFromArray(
      r.map((x) => x.i8),
      new arrow.Int8(),
    ),
    maybe: arrow.vectorFromArray(
      r.map((x) => x.maybe),
      new arrow.Float32(),
    ),
    jets: arrow.vectorFromArray(
      r.map((x) => x.jets),
      list,
    ),
  });
}

/** arrow-rs writes dictionary-encoded pages by default; pageV2 selects data page v2 as well. */
async function parquetWasmFixture(
  dir: string,
  rows: number,
  codec: keyof typeof pw.Compression,
  rowGroupRows: number,
  pageV2 = false,
): Promise<Fixture> {
  const producer = pageV2 ? 'parquet-wasm-v2' : 'parquet-wasm';
  const file = join(dir, `${producer}-${codec.toLowerCase()}-rg${rowGroupRows}-n${rows}.parquet`);
  const props = new pw.WriterPropertiesBuilder()
    .setCompression(pw.Compression[codec])
    .setMaxRowGroupSize(rowGroupRows)
    .setDictionaryEnabled(true)
    .setWriterVersion(pageV2 ? pw.WriterVersion.V2 : pw.WriterVersion.V1)
    .build();
  const table = pw.Table.fromIPCStream(arrow.tableToIPC(arrowTable(rows), 'stream'));
  await writeFile(file, pw.writeParquet(table, props));
  return { file, producer, codec: codec.toLowerCase(), rows, rowGroupRows };
}

async function hyparquetFixture(
  dir: string,
  rows: number,
  codec: 'SNAPPY' | 'UNCOMPRESSED',
  rowGroupRows: number,
): Promise<Fixture> {
  const file = join(dir, `hyparquet-${codec.toLowerCase()}-rg${rowGroupRows}-n${rows}.parquet`);
  const r = Array.from({ length: rows }, (_, i) => fixtureRow(i));
  const buf = parquetWriteBuffer({
    codec,
    rowGroupSize: rowGroupRows,
    columnData: [
      { name: 'id', data: Int32Array.from(r, (x) => x.id) },
      { name: 'f32', data: Float32Array.from(r, (x) => x.f32) },
      { name: 'f64', data: Float64Array.from(r, (x) => x.f64) },
      { name: 'i32', data: Int32Array.from(r, (x) => x.i32) },
      { name: 'i64', data: BigInt64Array.from(r, (x) => x.i64) },
      { name: 'flag', data: r.map((x) => x.flag) },
      { name: 'i8', data: Int32Array.from(r, (x) => x.i8) },
      { name: 'maybe', data: r.map((x) => x.maybe) },
      { name: 'jets', data: r.map((x) => x.jets) },
    ],
    schema: [
      { name: 'root', num_children: 9 },
      { name: 'id', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'f32', type: 'FLOAT', repetition_type: 'REQUIRED' },
      { name: 'f64', type: 'DOUBLE', repetition_type: 'REQUIRED' },
      { name: 'i32', type: 'INT32', repetition_type: 'REQUIRED' },
      { name: 'i64', type: 'INT64', repetition_type: 'REQUIRED' },
      { name: 'flag', type: 'BOOLEAN', repetition_type: 'REQUIRED' },
      { name: 'i8', type: 'INT32', converted_type: 'INT_8', repetition_type: 'REQUIRED' },
      { name: 'maybe', type: 'FLOAT', repetition_type: 'OPTIONAL' },
      { name: 'jets', repetition_type: 'OPTIONAL', num_children: 1, converted_type: 'LIST' },
      { name: 'list', repetition_type: 'REPEATED', num_children: 1 },
      { name: 'element', type: 'FLOAT', repetition_type: 'OPTIONAL' },
    ],
  });
  await writeFile(file, new Uint8Array(buf));
  return { file, producer: 'hyparquet-writer', codec: codec.toLowerCase(), rows, rowGroupRows };
}

/** The table as one diffskim EventBatch per `step` rows (built from typed arrays, no row objects kept). */
export function fixtureBatches(rows: number, step: number): EventBatch[] {
  const out: EventBatch[] = [];
  for (let lo = 0; lo < rows; lo += step) {
    const r = Array.from({ length: Math.min(step, rows - lo) }, (_, k) => fixtureRow(lo + k));
    const offsets = new Int32Array(r.length + 1);
    r.forEach((x, k) => (offsets[k + 1] = offsets[k] + (x.jets?.length ?? 0)));
    out.push({
      schema: [
        { name: 'id', type: 'int32', list: false, nullable: false },
        { name: 'f32', type: 'float32', list: false, nullable: false },
        { name: 'f64', type: 'float64', list: false, nullable: false },
        { name: 'i32', type: 'int32', list: false, nullable: false },
        { name: 'i64', type: 'int64', list: false, nullable: false },
        { name: 'flag', type: 'bool', list: false, nullable: false },
        { name: 'i8', type: 'int8', list: false, nullable: false },
        { name: 'maybe', type: 'float32', list: false, nullable: true },
        { name: 'jets', type: 'float32', list: true, nullable: true },
      ],
      length: r.length,
      columns: {
        id: { kind: 'flat', values: Int32Array.from(r, (x) => x.id) },
        f32: { kind: 'flat', values: Float32Array.from(r, (x) => x.f32) },
        f64: { kind: 'flat', values: Float64Array.from(r, (x) => x.f64) },
        i32: { kind: 'flat', values: Int32Array.from(r, (x) => x.i32) },
        i64: { kind: 'flat', values: BigInt64Array.from(r, (x) => x.i64) },
        flag: { kind: 'flat', values: Uint8Array.from(r, (x) => (x.flag ? 1 : 0)) },
        i8: { kind: 'flat', values: Int8Array.from(r, (x) => x.i8) },
        maybe: {
          kind: 'flat',
          values: Float32Array.from(r, (x) => x.maybe ?? NaN),
          validity: Uint8Array.from(r, (x) => (x.maybe === null ? 0 : 1)),
        },
        jets: {
          kind: 'list',
          offsets,
          values: Float32Array.from(r.flatMap((x) => x.jets ?? [])),
          validity: Uint8Array.from(r, (x) => (x.jets === null ? 0 : 1)),
        },
      },
    });
  }
  return out;
}

async function sinkFixture(dir: string, rows: number, codec: Codec, rowGroupRows: number): Promise<Fixture> {
  const file = join(dir, `diffskim-${codec}-rg${rowGroupRows}-n${rows}.parquet`);
  const batches = fixtureBatches(rows, 128);
  await lastValueFrom(
    from(batches).pipe(parquetSink(file, { codec, rowGroupRows, schema: fixtureBatches(1, 1)[0].schema })),
  );
  return { file, producer: 'diffskim', codec, rows, rowGroupRows };
}

export async function makeFixtures(dir: string, rows = 1000): Promise<Fixture[]> {
  await mkdir(dir, { recursive: true });
  const many = Math.max(1, Math.ceil(rows / 7));
  const out: Fixture[] = [];
  for (const codec of ['snappy', 'zstd', 'gzip', 'uncompressed'])
    for (const rg of [rows, many]) out.push(await duckdbFixture(dir, rows, codec, rg));
  out.push(await duckdbFixture(dir, 0, 'snappy', rows));
  for (const codec of ['SNAPPY', 'ZSTD', 'GZIP', 'UNCOMPRESSED'] as const)
    for (const rg of [rows, many]) out.push(await parquetWasmFixture(dir, rows, codec, rg));
  for (const codec of ['SNAPPY', 'ZSTD'] as const) out.push(await parquetWasmFixture(dir, rows, codec, many, true));
  for (const codec of ['snappy', 'zstd'] as const) out.push(await duckdbFixture(dir, rows, codec, many, true));
  for (const codec of ['SNAPPY', 'UNCOMPRESSED'] as const)
    for (const rg of [rows, many]) out.push(await hyparquetFixture(dir, rows, codec, rg));
  for (const codec of ['snappy', 'zstd', 'gzip', 'uncompressed'] as const)
    out.push(await sinkFixture(dir, rows, codec, many));
  out.push(await sinkFixture(dir, 0, 'snappy', many));
  return out;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const [dir, rows = '1000'] = process.argv.slice(2);
  if (!dir) throw new Error('usage: make-fixtures.ts OUT_DIR [ROWS]');
  for (const f of await makeFixtures(dir, Number(rows)))
    console.log(`${f.file}  (${f.producer}, ${f.codec}, ${f.rows} rows, row groups of ${f.rowGroupRows})`);
}
