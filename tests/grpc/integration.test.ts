import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { firstValueFrom, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { concatBatches, type EventBatch } from '../../src/batch/batch.js';
import { connect, unaryCall } from '../../src/sources/grpc/client.js';
import { decodeBatch, decodeSchema } from '../../src/sources/grpc/codec.js';
import { encodeCut } from '../../src/sources/grpc/codec.js';
import { evaluateRemote } from '../../src/sources/grpc/evaluateClient.js';
import { grpcSource } from '../../src/sources/grpc/grpcSource.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { PROTO_DIR } from '../../src/sources/grpc/protos.js';
import type { BatchChunkMsg, SkimReportMsg } from '../../src/sources/grpc/messages.js';
import { type RunningServer, startServer } from '../../src/grpc/server.js';
import { saveModel } from '../../src/model/io.js';
import { createModel } from '../../src/model/model.js';
import { mlpScore, scoreBatch } from '../../src/model/score.js';
import type { HardCut } from '../../src/selection/cutsFile.js';
import { CODECS } from '../../src/sinks/parquetSink.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { rootSource } from '../../src/sources/rootSource.js';
import { Demand } from '../../src/sources/demand.js';
import { openDescriptors } from '../parquet/helpers.js';
import { ROOT_DIR } from '../root/reference.js';
import { rowsOf } from './helpers.js';

// Two small Parquet files written by DuckDB SQL (independent of diffskim's writer), several row
// groups each, with a list column, an int64, a bool and a nullable float.
let base: string;
let root: string;
let server: RunningServer;
let address: string;
let duck: Awaited<ReturnType<typeof DuckDBInstance.create>>;

async function sql(q: string) {
  const con = await duck.connect();
  try {
    return (await con.runAndReadAll(q)).getRowObjectsJson();
  } finally {
    con.closeSync();
  }
}

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'diffskim-grpc-int-'));
  root = join(base, 'data');
  mkdirSync(join(root, 'mc'), { recursive: true });
  duck = await DuckDBInstance.create(':memory:');
  for (const [name, offset] of [
    ['a', 0],
    ['b', 5000],
  ] as const) {
    await sql(`COPY (SELECT (i + ${offset})::BIGINT * 3000000000 AS id, sin(i * 0.7) * 50 + 50 AS pt, cos(i * 1.3)::FLOAT * 2.5 AS eta,
      (i % 3 = 0) AS tight, CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 97)::FLOAT END AS iso,
      [ (j * 7.5 + i % 13)::FLOAT FOR j IN range(i % 4) ] AS jet_pt
      FROM range(5000) t(i)) TO '${join(root, 'mc', `${name}.parquet`)}' (FORMAT parquet, ROW_GROUP_SIZE 1024)`);
  }
  const modelDir = join(base, 'model');
  const model = createModel({
    kind: 'cuts-x-mlp',
    features: ['pt', 'eta'],
    inputMean: [50, 0],
    inputStd: [30, 2],
    hidden: [4],
    cuts: [{ column: 'pt', op: '>', form: 'sigmoid', slope: 0.5, value: 20, mean: 50, std: 30 }],
    seed: 3,
  });
  await saveModel(modelDir, model);
  server = await startServer({ dataRoots: [root], ...(await localServerOptions(modelDir)), defaultBatchRows: 1500 });
  address = `127.0.0.1:${server.port}`;
});

afterAll(async () => {
  await server?.close(500);
});

// An integer cut too (GREATER_EQUAL on the wire).
const WHERE: HardCut[] = [
  { column: 'pt', op: '>', value: 30 },
  { column: 'count(jet_pt)', op: '>=', value: 1 },
];

describe('gRPC over real Parquet files', () => {
  it('streams the same rows as reading the files locally, with projection and cuts', async () => {
    const files = [join(root, 'mc', 'a.parquet'), join(root, 'mc', 'b.parquet')];
    const local = await lastValueFrom(
      parquetSource(files)
        .batches({ columns: ['id', 'pt', 'tight', 'iso', 'jet_pt'], where: WHERE, batchRows: 1500 })
        .pipe(toArray()),
    );
    const remote = await lastValueFrom(
      grpcSource(address, { paths: ['mc'], columns: ['id', 'pt', 'tight', 'iso', 'jet_pt'], where: WHERE })
        .batches()
        .pipe(toArray()),
    );
    expect(rowsOf(remote)).toEqual(rowsOf(local));
    // Same batches, with origins relative to the data root.
    const where = (bs: EventBatch[]) =>
      bs.map((b) => [b.length, b.origin?.file.replace(`${root}/`, ''), b.origin?.rowGroup, b.origin?.firstRow]);
    expect(where(remote)).toEqual(where(local));
    // Independent count from DuckDB SQL.
    const [{ n }] = await sql(
      `SELECT count(*)::INT AS n FROM read_parquet('${root}/mc/*.parquet') WHERE pt > 30 AND len(jet_pt) > 0`,
    );
    expect(remote.reduce((s, b) => s + b.length, 0)).toBe(n);
    expect(remote[0].origin?.file).toBe('mc/a.parquet');

    const info = await grpcSource(address, { paths: ['mc/*.parquet'] }).describe();
    expect(info.rows).toBe(10000);
    expect(info.files.map((f) => f.path)).toEqual(['mc/a.parquet', 'mc/b.parquet']);
    expect(info.schema.find((f) => f.name === 'jet_pt')).toMatchObject({ type: 'float32', list: true });
  });

  it("'trap/d[*]/x' (an in-root folder 'd*' beside a link 'trap/dz' out of the root) streams and skims the in-root file only", async () => {
    mkdirSync(join(base, 'outside'));
    mkdirSync(join(root, 'trap', 'd*'), { recursive: true });
    await sql(`COPY (SELECT 2 AS x) TO '${join(base, 'outside', 'secret.parquet')}' (FORMAT parquet)`);
    await sql(`COPY (SELECT 1 AS x) TO '${join(root, 'trap', 'd*', 'secret.parquet')}' (FORMAT parquet)`);
    symlinkSync(join(base, 'outside'), join(root, 'trap', 'dz'));
    for (const path of ['trap/d[*]/secret.parquet', 'trap/d?/secret.parquet']) {
      expect((await grpcSource(address, { paths: [path] }).describe()).files.map((f) => f.path)).toEqual([
        'trap/d*/secret.parquet',
      ]);
      expect(
        rowsOf(
          await lastValueFrom(
            grpcSource(address, { paths: [path] })
              .batches()
              .pipe(toArray()),
          ),
        ),
      ).toEqual([[1]]);
    }
    const skim = { inputs: ['trap/d[*]/secret.parquet'], cuts: [], outputDir: 'trap/skim' };
    const report = await unaryCall<SkimReportMsg>(address, {}, 'runSkim', skim);
    // Mirrored below the glob's root, 'trap': the folder 'd*' (read back as a file, not a pattern).
    expect(report.skimFiles).toEqual(['trap/skim/d*/secret.skim.parquet']);
    expect(await sql(`SELECT x FROM read_parquet('${root}/trap/skim/d[*]/secret.skim.parquet')`)).toEqual([{ x: 1 }]);
    // A ROOT file so named is read as named too: the in-root one, never what the link 'trap/rz' leads to.
    mkdirSync(join(root, 'trap', 'r*'));
    mkdirSync(join(base, 'outside', 'r'));
    writeFileSync(join(root, 'trap', 'r*', 'hzz.root'), readFileSync(join(ROOT_DIR, 'uproot-HZZ.root')));
    writeFileSync(join(base, 'outside', 'r', 'hzz.root'), readFileSync(join(ROOT_DIR, 'uproot-Zmumu.root')));
    symlinkSync(join(base, 'outside', 'r'), join(root, 'trap', 'rz'));
    const hzz = await rootSource([join(ROOT_DIR, 'uproot-HZZ.root')]).describe();
    for (const path of ['trap/r[*]/hzz.root', 'trap/r?/*.root']) {
      const info = await grpcSource(address, { paths: [path] }).describe();
      expect(info.files.map((f) => f.path)).toEqual(['trap/r*/hzz.root']);
      expect(info.rows).toBe(hzz.rows);
      const streamed = await lastValueFrom(
        grpcSource(address, { paths: [path], columns: ['NJet'] })
          .batches()
          .pipe(toArray()),
      );
      expect(streamed.reduce((n, b) => n + b.length, 0)).toBe(hzz.rows);
    }
  });

  it('a slow client gets the file rows while messages wait in grpc-js (the server refills its batch arrays)', async () => {
    const files = [join(root, 'mc', 'a.parquet'), join(root, 'mc', 'b.parquet')];
    const local = await lastValueFrom(parquetSource(files).batches({ batchRows: 200 }).pipe(toArray()));
    // A 16 KiB HTTP/2 window holds back each 200-event message until the client reads, so the
    // server keeps its 8 messages in grpc-js unflushed (some not yet serialised) while its source
    // refills arrays: a reuse ring shorter than maxInFlight + 1 corrupts rows here (checked).
    const slow = await startServer({ dataRoots: [root], ...(await localServerOptions()), maxInFlight: 8 });
    const demand = new Demand();
    const got: EventBatch[] = [];
    await new Promise<void>((resolve, reject) =>
      grpcSource(`127.0.0.1:${slow.port}`, { paths: ['mc'], windowBytes: 16 * 1024 })
        .batches({ batchRows: 200, demand })
        .subscribe({
          next(b) {
            got.push(b);
            demand.hold();
            setTimeout(() => demand.release(), 2);
          },
          error: reject,
          complete: resolve,
        }),
    );
    await slow.close(200);
    expect(got.length).toBe(50);
    expect(slow.stats.maxInFlight).toBeGreaterThan(2);
    expect(JSON.stringify(rowsOf(got)) === JSON.stringify(rowsOf(local))).toBe(true); // (toEqual's diff of 10k rows is slow)
  });

  it('a client that cancels mid-stream leaves no file open on the server', async () => {
    // A file larger than what DuckDB decodes ahead (about 1 MB without the server's read-ahead).
    const big = join(root, 'big.parquet');
    await sql(
      `COPY (SELECT i::BIGINT AS id, sin(i)::DOUBLE AS pt, cos(i)::DOUBLE AS eta FROM range(300000) t(i)) TO '${big}' (FORMAT parquet, ROW_GROUP_SIZE 10240)`,
    );
    const small = await startServer({ dataRoots: [root], ...(await localServerOptions()), readAheadMB: 0 });
    try {
      for (let k = 0; k < 3; k++) {
        const first = await firstValueFrom(
          grpcSource(`127.0.0.1:${small.port}`, { paths: ['big.parquet'] }).batches({ batchRows: 200 }),
        );
        expect(first.length).toBe(200);
      }
      const deadline = Date.now() + 5000;
      while ((small.stats.active > 0 || openDescriptors(big) > 0) && Date.now() < deadline)
        await new Promise((r) => setTimeout(r, 50));
      expect(small.stats.active).toBe(0);
      expect(openDescriptors(big)).toBeLessThanOrEqual(0);
    } finally {
      await small.close(500);
    }
  });

  it('a cut on a column the files lack is INVALID_ARGUMENT naming it; the server keeps serving', async () => {
    await expect(
      lastValueFrom(
        grpcSource(address, { paths: ['mc/a.parquet'], where: [{ column: 'ptx', op: '>', value: 1 }] }).batches(),
      ),
    ).rejects.toThrow(/INVALID_ARGUMENT.*'ptx'.*mc\/a\.parquet/);
    const ok = await lastValueFrom(
      grpcSource(address, { paths: ['mc/a.parquet'], columns: ['pt'] })
        .batches()
        .pipe(toArray()),
    );
    expect(ok.reduce((s, b) => s + b.length, 0)).toBe(5000);
  });

  it("answers a client's mistakes with its status code, never INTERNAL or a server path", async () => {
    const codeAndMessage = (p: Promise<unknown>) =>
      p.then(
        () => 'OK',
        (e: Error) => e.message,
      );
    // Cuts and model inputs are one number per event: a bare list column is the client's mistake.
    expect(
      await codeAndMessage(
        lastValueFrom(
          grpcSource(address, { paths: ['mc/a.parquet'], where: [{ column: 'jet_pt', op: '>', value: 1 }] }).batches(),
        ),
      ),
    ).toMatch(/INVALID_ARGUMENT.*'jet_pt'.*is a list; use count\(jet_pt\)/);
    const skim = (request: object) =>
      codeAndMessage(
        unaryCall(address, {}, 'runSkim', {
          inputs: ['mc/a.parquet'],
          cuts: [],
          outputDir: 'skims/refused',
          ...request,
        }),
      );
    expect(await skim({ cuts: [encodeCut({ column: 'jet_pt', op: '>', value: 1 })] })).toMatch(
      /INVALID_ARGUMENT.*is a list/,
    );
    expect(await skim({ scoreCut: true, scoreThreshold: NaN })).toMatch(
      /INVALID_ARGUMENT.*score_threshold must be a finite number/,
    );
    expect(await skim({ codec: 'lzma' })).toMatch(/INVALID_ARGUMENT.*unknown codec 'lzma'/);
    expect(await skim({ outputDir: 'mc/a.parquet' })).toMatch(/INVALID_ARGUMENT.*is a file, not a directory/);
    // A struct's field is read like a column, but a skim writes whole columns: keep the struct.
    await sql(
      `COPY (SELECT i::BIGINT AS id, {'pt': i::FLOAT} AS MET, [{'pt': 1.5::FLOAT, 'name': 'mu'}] AS Muon FROM range(10) t(i)) TO '${join(root, 'structs.parquet')}' (FORMAT parquet)`,
    );
    expect(await skim({ inputs: ['structs.parquet'], keep: ['id', 'MET.pt'] })).toMatch(
      /INVALID_ARGUMENT.*cannot keep 'MET\.pt', a field of the struct column 'MET'/,
    );
    // A field diffskim cannot read is named with its type, as a string column is.
    const stream = (request: object) =>
      codeAndMessage(lastValueFrom(grpcSource(address, { paths: ['structs.parquet'], ...request }).batches()));
    expect(await stream({ where: [{ column: 'count(Muon.name)', op: '>', value: 0 }] })).toMatch(
      /INVALID_ARGUMENT.*'Muon\.name'.*has type VARCHAR\[\], which diffskim does not stream/,
    );
    expect(await stream({ columns: ['Muon.name'] })).toMatch(/INVALID_ARGUMENT.*'Muon\.name'.*has type VARCHAR\[\]/);
    expect(
      await skim({ inputs: ['structs.parquet'], cuts: [encodeCut({ column: 'first(Muon.name)', op: '>', value: 0 })] }),
    ).toMatch(/INVALID_ARGUMENT.*'Muon\.name'.*has type VARCHAR\[\]/);
    expect(existsSync(join(root, 'skims', 'refused'))).toBe(false); // refused before anything was created
    // A file that is not Parquet: DATA_LOSS, named relative to the data root.
    writeFileSync(join(root, 'junk.parquet'), 'not parquet at all, but long enough to have a footer');
    const junk = await codeAndMessage(lastValueFrom(grpcSource(address, { paths: ['junk.parquet'] }).batches()));
    expect(junk).toMatch(/DATA_LOSS.*junk\.parquet: cannot read Parquet metadata/);
    expect(junk).not.toContain(root);
    // So is a truncated ROOT file (an incomplete copy), named as truncated.
    const hzz = readFileSync(join(ROOT_DIR, 'uproot-HZZ.root'));
    writeFileSync(join(root, 'cut.root'), hzz.subarray(0, hzz.length >> 1));
    const cut = await codeAndMessage(lastValueFrom(grpcSource(address, { paths: ['cut.root'] }).batches()));
    expect(cut).toMatch(/DATA_LOSS.*cut\.root: truncated ROOT file/);
    expect(cut).not.toContain(root);
    // A hostile expression nested past the stack, and a name so long that a status quoting it in
    // full would exceed the HTTP/2 trailer a client accepts (the connection was dropped, the status lost).
    const mc = (request: object) =>
      codeAndMessage(lastValueFrom(grpcSource(address, { paths: ['mc/a.parquet'], ...request }).batches()));
    const deep = `${'('.repeat(100_000)}x${')'.repeat(100_000)}`;
    expect(await mc({ columns: [deep] })).toMatch(/INVALID_ARGUMENT.*nested more than 500 levels deep/);
    const deepCut = await mc({ where: [{ column: `${deep} > 1`, op: '>', value: 0.5 }] });
    expect(deepCut).toMatch(/INVALID_ARGUMENT.*cut 0 \('\(\(\(.*characters left out.*nested more than 500 levels/);
    const long = await mc({ columns: ['a'.repeat(150_000)] });
    expect(long).toMatch(/INVALID_ARGUMENT\): column 'a+ … \(\d+ characters left out\) … a+' is not in mc\/a\.parquet/);
    expect(long.length).toBeLessThan(2200);
    // A column named twice would be a schema with two fields of one name (and twice the bytes sent).
    expect(await mc({ columns: ['pt', 'eta', 'pt'] })).toMatch(
      /INVALID_ARGUMENT.*column 'pt' is named twice in columns/,
    );
    // Distinct expressions past 1024 (twice this dataset's columns is less): the pass would cost
    // the server each of them for every event.
    const many = Array.from({ length: 1025 }, (_, k) => `pt + ${k}`);
    expect(await mc({ columns: many })).toMatch(
      /INVALID_ARGUMENT.*1025 columns asked for, above the most a pass takes here, 1024/,
    );
    expect(await mc({ columns: many.slice(0, 1024) })).toBe('OK');
  });

  it('a batch size beyond what the server allocates is INVALID_ARGUMENT naming the maximum, and a stream with no events still sends its schema', async () => {
    const source = grpcSource(address, { paths: ['mc/a.parquet'], columns: ['id'] });
    const rows = (batchRows: number) => lastValueFrom(source.batches({ batchRows }).pipe(toArray()));
    expect((await rows(1 << 20)).map((b) => b.length)).toEqual([5000]);
    await expect(rows(4294967295)).rejects.toThrow(
      /INVALID_ARGUMENT.*batch_rows 4294967295 is above the maximum, 1048576/,
    );
    const { client, metadata } = connect(address);
    const messages = await new Promise<BatchChunkMsg[]>((resolve, reject) => {
      const got: BatchChunkMsg[] = [];
      const call = client.streamBatches(
        {
          paths: ['mc/a.parquet'],
          columns: ['id', 'abs(eta)'],
          where: [encodeCut({ column: 'pt', op: '>', value: 1e9 })],
        },
        metadata(),
      );
      call.on('data', (m: BatchChunkMsg) => got.push(m));
      call.on('end', () => resolve(got));
      call.on('error', reject);
    });
    client.close();
    // The schema, then the stream's end: no events sent.
    expect(messages).toHaveLength(2);
    expect(messages[1]).toMatchObject({ schema: null, batch: null, end: { events: 0 } });
    expect(messages[0].batch ?? null).toBeNull();
    expect(decodeSchema(messages[0].schema!)).toEqual([
      { name: 'id', type: 'int64', list: false, nullable: true },
      { name: 'abs(eta)', type: 'float32', list: false, nullable: true },
    ]);
  });

  it('streams expressions (projection computed on the server) and a PASSES condition, as DuckDB selects them', async () => {
    const condition = 'tight || count(jet_pt > 10) >= 2';
    const { client, metadata } = connect(address);
    const messages = await new Promise<BatchChunkMsg[]>((resolve, reject) => {
      const got: BatchChunkMsg[] = [];
      const call = client.streamBatches(
        {
          paths: ['mc/a.parquet'],
          columns: ['id', 'sum(jet_pt[jet_pt > 10])'],
          where: [
            { column: condition, op: 'PASSES' },
            encodeCut({ column: 'abs(eta) + iso / 100', op: '<', value: 1.5 }),
          ],
        },
        metadata(),
      );
      call.on('data', (m: BatchChunkMsg) => got.push(m));
      call.on('end', () => resolve(got));
      call.on('error', reject);
    });
    client.close();
    const schema = decodeSchema(messages[0].schema!);
    const got = concatBatches(messages.filter((m) => m.batch).map((m) => decodeBatch(schema, m.batch!)));
    const sums = got.columns['sum(jet_pt[jet_pt > 10])'].values as Float64Array;
    const ids = got.columns.id.values as BigInt64Array;
    const expected =
      await sql(`SELECT id::VARCHAR AS ids, coalesce(list_sum(list_filter(jet_pt, lambda p: p > 10)), 0) AS s
      FROM '${join(root, 'mc', 'a.parquet')}'
      WHERE (tight OR len(list_filter(jet_pt, lambda p: p > 10)) >= 2) AND abs(eta) + iso / 100 < 1.5 ORDER BY id`);
    expect(expected.length).toBeGreaterThan(100);
    expect([...ids].map(String)).toEqual(expected.map((r) => r.ids));
    expect([...sums]).toEqual(expected.map((r) => Number(r.s)));
    // PASSES takes a condition only.
    const number = grpcSource(address, { paths: ['mc/a.parquet'], columns: ['id'] });
    const { client: c2, metadata: m2 } = connect(address);
    const refused = await new Promise<Error>((resolve) => {
      const call = c2.streamBatches({ paths: ['mc/a.parquet'], where: [{ column: 'pt', op: 'PASSES' }] }, m2());
      call.on('data', () => undefined);
      call.on('error', resolve);
      call.on('end', () => resolve(new Error('no error')));
    });
    c2.close();
    expect(refused.message).toMatch(/INVALID_ARGUMENT.*cut 0 \('pt'\): PASSES takes a condition/);
    expect(rowsOf(await lastValueFrom(number.batches().pipe(toArray())))).toHaveLength(5000);
  });

  it('RunSkim stops when its deadline passes and leaves no skim file behind', async () => {
    await sql(
      `COPY (SELECT i::BIGINT AS id, sin(i)::DOUBLE AS pt, cos(i)::DOUBLE AS eta FROM range(3000000) t(i)) TO '${join(root, 'slow.parquet')}' (FORMAT parquet)`,
    );
    const out = join(root, 'skims', 'late');
    const late = unaryCall(
      address,
      {},
      'runSkim',
      {
        inputs: ['slow.parquet'],
        cuts: [encodeCut({ column: 'pt', op: '>', value: 0 })],
        outputDir: 'skims/late',
        codec: 'gzip',
      },
      30,
    );
    await expect(late).rejects.toThrow(/DEADLINE_EXCEEDED/);
    // Long enough for the skim to have finished had it gone on.
    await new Promise((r) => setTimeout(r, 3000));
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
  });

  it('a server closed during a RunSkim stops the skim after its grace period and leaves no partial file; a later skim clears what a killed one left', async () => {
    const input = join(root, 'slow-close.parquet');
    await sql(
      `COPY (SELECT i::BIGINT AS id, sin(i)::DOUBLE AS pt FROM range(3000000) t(i)) TO '${input}' (FORMAT parquet)`,
    );
    const closing = await startServer({ dataRoots: [root], ...(await localServerOptions()) });
    const skim = unaryCall(`127.0.0.1:${closing.port}`, {}, 'runSkim', {
      inputs: ['slow-close.parquet'],
      cuts: [encodeCut({ column: 'pt', op: '>', value: 0 })],
      outputDir: 'skims/closing',
      codec: 'gzip',
    });
    skim.catch(() => undefined);
    await new Promise((r) => setTimeout(r, 150));
    await closing.close(50);
    await expect(skim).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 3000)); // long enough for the skim to have finished had it gone on
    const out = join(root, 'skims', 'closing');
    expect(existsSync(out) ? readdirSync(out) : []).toEqual([]);
    // A temporary file of a dead writer (a killed server's skim) is removed by the next skim there.
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'mc.skim.parquet.tmp-999999999-0a0b0c0d'), 'PAR1');
    await unaryCall(address, {}, 'runSkim', { inputs: ['mc/a.parquet'], cuts: [], outputDir: 'skims/closing' });
    expect(readdirSync(out).sort()).toEqual(['a.skim.parquet', 'manifest.json']); // the manifest: the folder's settings
  });

  it('RunSkim takes each codec the proto lists, and only those, and writes it (as DuckDB reads the skim)', async () => {
    const proto = readFileSync(join(PROTO_DIR, 'diffskim/v1/diffskim.proto'), 'utf8');
    const listed = /\/\/ Parquet codec: ([a-z0-9, ]+); empty = /.exec(proto)![1].split(', ');
    expect([...listed].sort()).toEqual([...CODECS].sort());
    for (const codec of listed) {
      await unaryCall(address, {}, 'runSkim', {
        inputs: ['mc/a.parquet'],
        cuts: [],
        outputDir: `skims/codec-${codec}`,
        codec,
      });
      const used = await sql(
        `SELECT DISTINCT compression FROM parquet_metadata('${root}/skims/codec-${codec}/a.skim.parquet')`,
      );
      const names = used.map((r) => String(r.compression).toLowerCase().replace('lz4_raw', 'lz4'));
      expect([codec, names]).toEqual([codec, [codec]]);
    }
  });

  it('RunSkim into a folder inside its input folder: a re-run does not read the skim files as inputs', async () => {
    mkdirSync(join(root, 'own'));
    await sql(`COPY (SELECT * FROM '${root}/mc/a.parquet') TO '${root}/own/a.parquet' (FORMAT parquet)`);
    const where = `pt > 30 AND len(jet_pt) >= 1`;
    const [{ n, kept }] = await sql(
      `SELECT count(*)::INT AS n, count(*) FILTER (WHERE ${where})::INT AS kept FROM '${root}/own/a.parquet'`,
    );
    const request = { inputs: ['own'], cuts: WHERE.map(encodeCut), outputDir: 'own/skims' };
    for (let run = 1; run <= 2; run++) {
      const report = await unaryCall<SkimReportMsg>(address, {}, 'runSkim', request);
      expect([run, report.eventsIn, report.eventsKept, report.skimFiles]).toEqual([
        run,
        n,
        kept,
        ['own/skims/a.skim.parquet'],
      ]);
    }
    expect(readdirSync(join(root, 'own', 'skims')).filter((f) => f.endsWith('.parquet'))).toEqual(['a.skim.parquet']);
  });

  it('RunSkim writes the same skim as a local runSkim and reports the same counts', async () => {
    const cuts = { cuts: WHERE, score: null };
    const report = await unaryCall<SkimReportMsg>(address, {}, 'runSkim', {
      inputs: ['mc'],
      cuts: WHERE.map(encodeCut),
      outputDir: 'skims/remote',
      keep: ['id', 'pt', 'jet_pt'],
    });
    const local = await runSkim({
      inputs: [join(root, 'mc', 'a.parquet'), join(root, 'mc', 'b.parquet')],
      cuts,
      outDir: join(base, 'local'),
      keep: ['id', 'pt', 'jet_pt'],
    });
    expect(report.skimFiles).toEqual(['skims/remote/a.skim.parquet', 'skims/remote/b.skim.parquet']);
    // The full report names files as the rest of the answer does: relative to the data root.
    const full = JSON.parse(report.reportJson);
    expect(full.files.map((f: { input: string; output: string }) => [f.input, f.output])).toEqual([
      ['mc/a.parquet', 'skims/remote/a.skim.parquet'],
      ['mc/b.parquet', 'skims/remote/b.skim.parquet'],
    ]);
    expect(report.reportJson).not.toContain(root);
    expect([report.eventsIn, report.eventsKept, report.eventsCut]).toEqual([
      local.eventsIn,
      local.eventsKept,
      local.eventsCut,
    ]);
    for (const f of ['a', 'b']) {
      const [{ d }] = await sql(
        `SELECT count(*)::INT AS d FROM (SELECT * FROM '${root}/skims/remote/${f}.skim.parquet' EXCEPT ALL SELECT * FROM '${base}/local/${f}.skim.parquet')`,
      );
      expect(d).toBe(0);
    }
    const [{ n }] = await sql(`SELECT count(*)::INT AS n FROM '${root}/skims/remote/*.skim.parquet'`);
    expect(n).toBe(local.eventsKept);
    await expect(
      unaryCall(address, {}, 'runSkim', { inputs: ['mc'], cuts: [], outputDir: '../outside' }),
    ).rejects.toThrow(/PERMISSION_DENIED/);
  });

  it('RunSkim with a score cut uses the loaded model', async () => {
    const { loadModel } = await import('../../src/model/io.js');
    const model = await loadModel(join(base, 'model'));
    const all = await lastValueFrom(
      parquetSource([join(root, 'mc', 'a.parquet')])
        .batches({ columns: ['pt', 'eta'] })
        .pipe(toArray()),
    );
    const classifier = mlpScore(model, concatBatches(all));
    const threshold = Float32Array.from(classifier).sort()[Math.floor(classifier.length * 0.6)]; // keeps ~40 %
    const expected = classifier.filter((s) => s > threshold).length;
    const report = await unaryCall<SkimReportMsg>(address, {}, 'runSkim', {
      inputs: ['mc/a.parquet'],
      cuts: [],
      outputDir: 'skims/scored',
      scoreCut: true,
      scoreThreshold: threshold,
    });
    expect(expected).toBeGreaterThan(1000);
    expect(report.eventsKept).toBe(expected);
    expect(report.eventsIn).toBe(report.eventsKept + report.eventsCut);
  });

  it('Evaluate streams back, in order, the scores the model gives locally', async () => {
    const batches = await lastValueFrom(
      parquetSource([join(root, 'mc', 'a.parquet')])
        .batches({ columns: ['pt', 'eta'], batchRows: 700 })
        .pipe(toArray()),
    );
    async function* input(): AsyncGenerator<EventBatch> {
      yield* batches;
    }
    const scores = await lastValueFrom(evaluateRemote(address, input()).pipe(toArray()));
    expect(scores.map((s) => s.length)).toEqual(batches.map((b) => b.length));
    const { loadModel } = await import('../../src/model/io.js');
    const model = await loadModel(join(base, 'model'));
    const expected = scoreBatch(model, concatBatches(batches));
    const got = new Float32Array(expected.length);
    let at = 0;
    for (const s of scores) {
      got.set(s, at);
      at += s.length;
    }
    expect(Array.from(got)).toEqual(Array.from(expected));
    async function* lacking(): AsyncGenerator<EventBatch> {
      yield (
        await lastValueFrom(
          parquetSource([join(root, 'mc', 'a.parquet')])
            .batches({ columns: ['pt'] })
            .pipe(toArray()),
        )
      )[0];
    }
    await expect(lastValueFrom(evaluateRemote(address, lacking()))).rejects.toThrow(/INVALID_ARGUMENT.*'eta'/);
  });
});
