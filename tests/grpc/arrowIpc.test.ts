import { mkdirSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { RecordBatchReader, Table, tableFromIPC, type Vector } from 'apache-arrow';
import { lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { selectColumns } from '../../src/batch/batch.js';
import { ArrowIpcStream } from '../../src/grpc/arrowStream.js';
import { type RunningServer, startServer } from '../../src/grpc/server.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import type { HardCut } from '../../src/selection/cutsFile.js';
import { arrowIpcStream } from '../../src/sources/grpc/arrowClient.js';
import { connect } from '../../src/sources/grpc/client.js';
import { grpcSource } from '../../src/sources/grpc/grpcSource.js';
import type { BatchChunkMsg } from '../../src/sources/grpc/messages.js';
import { testBatch } from './helpers.js';

// A Parquet file written by DuckDB SQL with flat (int64, float64, float32, bool), nullable and
// list columns (some lists empty, some null), several row groups; DuckDB's read of it is the reference.
let base: string;
let server: RunningServer;
let address: string;
let duck: Awaited<ReturnType<typeof DuckDBInstance.create>>;
const MAX_MESSAGE_BYTES = 64 * 1024;

async function sql(q: string) {
  const con = await duck.connect();
  try {
    return (await con.runAndReadAll(q)).getRowObjectsJson()[0];
  } finally {
    con.closeSync();
  }
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'diffskim-grpc-arrow-'));
  mkdirSync(join(base, 'mc'));
  duck = await DuckDBInstance.create(':memory:');
  await sql(`COPY (SELECT i::BIGINT * 3000000000 AS id, sin(i * 0.7) * 50 + 50 AS pt, cos(i * 1.3)::FLOAT AS eta,
    (i % 3 = 0) AS tight, CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 97)::FLOAT END AS iso,
    CASE WHEN i % 17 = 5 THEN NULL ELSE [ (j * 7.5 + i % 13)::FLOAT FOR j IN range(i % 4) ] END AS jet_pt
    FROM range(20000) t(i)) TO '${join(base, 'mc', 'a.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 4096)`);
  // Small messages, so that batches are sent in pieces.
  const options = await localServerOptions(undefined);
  server = await startServer({ dataRoots: [base], ...options, maxMessageBytes: MAX_MESSAGE_BYTES });
  address = `127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close(500);
});

/** Sum of a column's non-null values, and its null count, read through Arrow's own accessors. */
function summary(table: Table) {
  const col = (name: string) => table.getChild(name)!;
  const sum = (v: Vector) => {
    let s = 0;
    for (const x of v) if (x !== null) s += Number(x);
    return s;
  };
  const jets = col('jet_pt');
  let jetCount = 0;
  let jetSum = 0;
  for (const list of jets) if (list !== null) ((jetCount += list.length), (jetSum += sum(list)));
  let idSum = 0n;
  for (const x of col('id')) idSum += x as bigint;
  return {
    n: table.numRows,
    idSum: idSum.toString(),
    pt: sum(col('pt')),
    eta: sum(col('eta')),
    tight: sum(col('tight')),
    iso: sum(col('iso')),
    isoNulls: col('iso').nullCount,
    jetNulls: jets.nullCount,
    jetCount,
    jetSum,
  };
}

async function reference(whereSql: string) {
  const r = await sql(`SELECT count(*)::INT AS n, sum(id)::VARCHAR AS idSum, sum(pt) AS pt, sum(eta::DOUBLE) AS eta,
    sum(tight::INT)::INT AS tight, sum(iso::DOUBLE) AS iso, (count(*) - count(iso))::INT AS isoNulls,
    (count(*) - count(jet_pt))::INT AS jetNulls, coalesce(sum(len(jet_pt)), 0)::INT AS jetCount,
    coalesce(sum(list_sum(jet_pt)::DOUBLE), 0) AS jetSum
    FROM read_parquet('${join(base, 'mc', 'a.parquet')}') ${whereSql}`);
  return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'string' && k !== 'idSum' ? +v : v]));
}

function expectSame(got: ReturnType<typeof summary>, want: Record<string, unknown>) {
  for (const [k, v] of Object.entries(got)) {
    if (typeof v === 'number' && !Number.isInteger(want[k])) expect(v, k).toBeCloseTo(want[k] as number, 6);
    else expect(v, k).toEqual(want[k]);
  }
}

/** The raw messages of a StreamBatches call. */
function messages(request: Record<string, unknown>): Promise<BatchChunkMsg[]> {
  const { client, metadata } = connect(address);
  return new Promise((resolve, reject) => {
    const got: BatchChunkMsg[] = [];
    const call = client.streamBatches(request, metadata());
    call.on('data', (m: BatchChunkMsg) => got.push(m));
    call.on('end', () => (client.close(), resolve(got)));
    call.on('error', (e: Error) => (client.close(), reject(e)));
  });
}

const WHERE: HardCut[] = [
  { column: 'pt', op: '>', value: 30 },
  { column: 'count(jet_pt)', op: '>', value: 0.5 },
];

describe('StreamBatches with encoding ARROW_IPC', () => {
  it("is an Arrow IPC stream that apache-arrow reads as DuckDB reads the file, each message within the server's limit", async () => {
    const chunks: Uint8Array[] = [];
    for await (const c of arrowIpcStream(address, { paths: ['mc'] })) chunks.push(c);
    // Messages within the limit, so that the file's 20,000 events took several record batches.
    const raw = await messages({ paths: ['mc'], encoding: 'ARROW_IPC' });
    expect(raw.every((m) => !m.schema && !m.batch && m.arrowIpc!.byteLength <= MAX_MESSAGE_BYTES)).toBe(true);
    // 8-aligned in the received buffer, so that Arrow's typed arrays are views of it, not copies.
    expect(raw.map((m) => m.arrowIpc!.byteOffset % 8)).toEqual(raw.map(() => 0));
    const table = tableFromIPC(chunks);
    expect(table.batches.length).toBeGreaterThan(4);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual([
      'id:Int64',
      'pt:Float64',
      'eta:Float32',
      'tight:Bool',
      'iso:Float32',
      'jet_pt:List<Float32>',
    ]);
    expectSame(summary(table), await reference(''));
  });

  it('with cuts and a projection, read as it arrives (RecordBatchReader), as DuckDB selects', async () => {
    const reader = await RecordBatchReader.from(arrowIpcStream(address, { paths: ['mc/*.parquet'], where: WHERE }));
    const batches = [];
    for await (const b of reader) batches.push(b);
    expectSame(summary(new Table(batches)), await reference('WHERE pt > 30 AND len(jet_pt) > 0'));
    const few = tableFromIPC(
      await collect(arrowIpcStream(address, { paths: ['mc'], columns: ['pt', 'count(jet_pt)'] })),
    );
    expect(few.schema.fields.map((f) => f.name)).toEqual(['pt', 'count(jet_pt)']);
    const { n } = await reference('');
    expect(few.numRows).toBe(n);
  });

  it('a stream whose cuts pass no event is the schema and the end of the stream', async () => {
    const where: HardCut[] = [{ column: 'pt', op: '>', value: 1e9 }];
    const table = tableFromIPC(
      await collect(arrowIpcStream(address, { paths: ['mc'], columns: ['id', 'jet_pt'], where })),
    );
    expect(table.numRows).toBe(0);
    expect(table.schema.fields.map((f) => `${f.name}:${f.type}`)).toEqual(['id:Int64', 'jet_pt:List<Float32>']);
  });

  it('leaves the default encoding as it was, and refuses an encoding it does not know', async () => {
    const rows = await lastValueFrom(
      grpcSource(address, { paths: ['mc'], where: WHERE })
        .batches()
        .pipe(toArray()),
    );
    const { n } = await reference('WHERE pt > 30 AND len(jet_pt) > 0');
    expect(rows.reduce((s, b) => s + b.length, 0)).toBe(n);
    const raw = await messages({ paths: ['mc'], columns: ['id'] });
    // Batches, then the stream's end with the events they hold.
    const last = raw.pop()!;
    expect(raw.every((m) => m.batch && !m.arrowIpc?.byteLength)).toBe(true);
    expect(last.end?.events).toBe(raw.reduce((s, m) => s + m.batch!.length, 0));
    await expect(messages({ paths: ['mc'], encoding: 7 })).rejects.toMatchObject({
      code: 3,
      details: expect.stringMatching(/unknown encoding 7/),
    });
  });
});

describe('ArrowIpcStream', () => {
  it('splits a record batch that does not fit a message, and starts a new IPC stream when the schema changes', () => {
    const stream = new ArrowIpcStream(4096);
    const first = testBatch(1000, 1); // about 20 kB in memory
    const second = selectColumns(testBatch(300, 2), ['x', 'jets']);
    const chunks = [...stream.batch(first, 'a'), ...stream.batch(second, 'b'), stream.end(first.schema)];
    expect(chunks.every((c) => c.byteLength <= 4096)).toBe(true);
    // Each IPC stream's batches read before the next stream starts (the readers share the bytes).
    const tables: Table[] = [];
    for (const reader of RecordBatchReader.readAll(Buffer.concat(chunks))) tables.push(new Table(reader.readAll()));
    expect(tables.map((t) => t.numRows)).toEqual([1000, 300]);
    expect(tables[0].batches.length).toBeGreaterThan(4);
    expect(tables[1].schema.fields.map((f) => f.name)).toEqual(['x', 'jets']);
    // Values as the batches hold them: the nullable y (null where the batch's validity is 0) and the lists.
    const y = tables[0].getChild('y')!;
    first.columns.y.validity!.forEach((v, i) => expect(y.get(i)).toBe(v ? first.columns.y.values[i] : null));
    const jets = second.columns.jets;
    if (jets.kind !== 'list') throw new Error('jets is a list');
    const got = tables[1].getChild('jets')!;
    for (let i = 0; i < 300; i++)
      expect(Array.from(got.get(i))).toEqual(
        Array.from((jets.values as Float32Array).subarray(jets.offsets[i], jets.offsets[i + 1])),
      );
  });
});

async function collect(it: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of it) out.push(c);
  return out;
}
