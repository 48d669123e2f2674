import { execFileSync } from 'node:child_process';
import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { firstValueFrom, lastValueFrom, take, tap, toArray } from 'rxjs';
import { afterEach, describe, expect, it } from 'vitest';
import { concatBatches, type EventBatch, makeBatch, selectColumns } from '../../src/batch/batch.js';
import { connect, unaryCall } from '../../src/sources/grpc/client.js';
import { evaluateRemote } from '../../src/sources/grpc/evaluateClient.js';
import { services } from '../../src/sources/grpc/protos.js';
import { grpcSource } from '../../src/sources/grpc/grpcSource.js';
import { type RunningServer, type ServerOptions, startServer } from '../../src/grpc/server.js';
import { MAX_BATCH_ROWS } from '../../src/grpc/streamBatches.js';
import type { HardCut } from '../../src/selection/cutsFile.js';
import { parquetSink } from '../../src/sinks/parquetSink.js';
import { Demand } from '../../src/sources/demand.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { consumeSlowly, type Counters, dataRoot, memorySource, newCounters, rowsOf, testBatches } from './helpers.js';

let server: RunningServer | undefined;
afterEach(async () => {
  await server?.close(200);
  server = undefined;
});

const BATCHES = testBatches(6, 500);
/** A small HTTP/2 window (the default is 8 MiB), so that a few test batches fill it. */
const WINDOW = 64 * 1024;

async function serve(counters: Counters, extra: Partial<ServerOptions> = {}) {
  const { root, outside } = dataRoot(['a.parquet', 'sub/b.parquet']);
  server = await startServer({
    dataRoots: [root],
    openSource: (files) => memorySource(BATCHES, files[0], counters),
    ...extra,
  });
  return { address: `127.0.0.1:${server.port}`, root, outside };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'OK',
    (e: { code: number }) => grpc.status[e.code],
  );

describe('StreamBatches', () => {
  it('streams the source rows, with projection and pushed-down cuts applied on the server', async () => {
    const counters = newCounters();
    const { address } = await serve(counters);
    const all = await lastValueFrom(
      grpcSource(address, { paths: ['a.parquet'] })
        .batches()
        .pipe(toArray()),
    );
    expect(rowsOf(all)).toEqual(rowsOf(BATCHES));
    expect(all[0].origin?.file).toBe('a.parquet'); // relative to the data root, not the server path

    const where: HardCut[] = [
      { column: 'x', op: '>', value: 1 },
      { column: 'count(jets)', op: 'between', low: 0.5, high: 2.5 },
    ];
    const cut = await lastValueFrom(
      grpcSource(address, { paths: ['a.parquet'], columns: ['id', 'jets'], where })
        .batches()
        .pipe(toArray()),
    );
    // Independent selection over the original batches.
    const expected: unknown[][] = [];
    for (const b of BATCHES) {
      const x = b.columns.x.values as Float64Array;
      const jets = b.columns.jets;
      if (jets.kind !== 'list') throw new Error('jets is a list');
      for (let i = 0; i < b.length; i++) {
        const n = jets.offsets[i + 1] - jets.offsets[i];
        if (x[i] > 1 && n >= 1 && n <= 2)
          expected.push([
            (b.columns.id.values as BigInt64Array)[i].toString(),
            Array.from(jets.values.subarray(jets.offsets[i], jets.offsets[i + 1]) as Float32Array),
          ]);
      }
    }
    expect(expected.length).toBeGreaterThan(100);
    expect(rowsOf(cut)).toEqual(expected);
  });

  it('an asynchronous consumer holding the demand reads the same rows', async () => {
    const { address } = await serve(newCounters());
    const got: EventBatch[] = [];
    await consumeSlowly(grpcSource(address, { paths: ['sub/b.parquet'] }), 1, new Demand(), (b) => got.push(b));
    expect(rowsOf([concatBatches(got)])).toEqual(rowsOf(BATCHES));
  });

  it('a client that cancels mid-stream makes the server stop reading its source', async () => {
    const counters = newCounters();
    const { root } = dataRoot(['a.parquet']);
    server = await startServer({ dataRoots: [root], openSource: (f) => memorySource(BATCHES, f[0], counters, 20) });
    const first = await firstValueFrom(
      grpcSource(`127.0.0.1:${server.port}`, { paths: ['a.parquet'] })
        .batches()
        .pipe(take(1)),
    );
    expect(first.length).toBe(500);
    await waitFor(() => counters.closed === counters.subscribed && server!.stats.active === 0);
    expect(counters.completed).toBe(0); // stopped, not read to the end
    expect(counters.emitted).toBeLessThan(BATCHES.length);
  });

  it('a deadline that passes ends the call with DEADLINE_EXCEEDED and frees the source', async () => {
    const counters = newCounters();
    const { root } = dataRoot(['a.parquet']);
    server = await startServer({ dataRoots: [root], openSource: (f) => memorySource(BATCHES, f[0], counters, 100) });
    const slow = grpcSource(`127.0.0.1:${server.port}`, { paths: ['a.parquet'], deadlineMs: 250 });
    let received = 0;
    const err = await lastValueFrom(slow.batches().pipe(tap(() => received++))).then(
      () => null,
      (e) => e,
    );
    expect(received).toBeGreaterThan(0);
    expect(grpc.status[err.code]).toBe('DEADLINE_EXCEEDED');
    await waitFor(() => counters.closed === counters.subscribed && server!.stats.active === 0);
  });

  it('refuses paths outside the data roots, and names missing files and unknown columns', async () => {
    const { address, root, outside } = await serve(newCounters());
    symlinkSync(outside, join(root, 'link.parquet'));
    const stream = (paths: string[], columns: string[] = []) =>
      lastValueFrom(grpcSource(address, { paths, columns }).batches().pipe(toArray()));
    expect(await codeOf(stream(['../secret.parquet']))).toBe('PERMISSION_DENIED');
    expect(await codeOf(stream(['../../etc/passwd']))).toBe('PERMISSION_DENIED');
    expect(await codeOf(stream([outside]))).toBe('PERMISSION_DENIED');
    expect(await codeOf(stream(['link.parquet']))).toBe('PERMISSION_DENIED');
    expect(await codeOf(stream(['../*.parquet']))).toBe('PERMISSION_DENIED');
    expect(await codeOf(stream([join(root, 'a.parquet')]))).toBe('OK');
    await expect(stream(['nope.parquet'])).rejects.toThrow(/NOT_FOUND.*nope\.parquet/);
    await expect(stream(['a.parquet'], ['x', 'ptt'])).rejects.toThrow(
      /INVALID_ARGUMENT.*column 'ptt' is not in a\.parquet/,
    );
    await expect(stream(['a.parquet'], ['count(x)'])).rejects.toThrow(
      /INVALID_ARGUMENT.*count\(\) takes a list, and 'x' is one value per event at 1:7/,
    );
    // The server survived all of it.
    expect(rowsOf(await stream(['sub/*.parquet']))).toEqual(rowsOf(BATCHES));
  });
});

describe('backpressure', () => {
  /** A slow client's pass over 60 batches: rows received, and how far the source read ahead of the consumer. */
  async function slowPass(demand: Demand | undefined) {
    const counters = newCounters();
    const { root } = dataRoot(['a.parquet']);
    server = await startServer({
      dataRoots: [root],
      openSource: (f) => memorySource(MANY, f[0], counters),
      maxInFlight: 2,
    });
    const got: EventBatch[] = [];
    let maxLead = 0;
    const source = grpcSource(`127.0.0.1:${server.port}`, { paths: ['a.parquet'], windowBytes: WINDOW });
    await consumeSlowly(source, 5, demand, (b) => {
      got.push(b);
      maxLead = Math.max(maxLead, counters.emitted - got.length);
    });
    return { got, maxLead };
  }
  const MANY = testBatches(60, 1000);

  it('a slow asynchronous client holding the demand keeps the reading bounded on both ends, and gets every row', async () => {
    const { got, maxLead } = await slowPass(new Demand());
    expect(JSON.stringify(rowsOf(got)) === JSON.stringify(rowsOf(MANY))).toBe(true); // (toEqual is slow on 60k rows)
    // The server: two messages waiting in grpc-js, plus the batch being read when it filled.
    expect(server!.stats.maxInFlight).toBeLessThanOrEqual(2);
    expect(server!.stats.maxQueued).toBeLessThanOrEqual(3);
    // Ahead of the consumer: those 3, the batch being written, the client's grpc-js read buffer
    // (16 messages) and what the HTTP/2 window (WINDOW = 64 KiB, about two 30 kB batches) lets through.
    expect(maxLead).toBeLessThanOrEqual(24);
  });

  it('without the demand, the same client lets the source run far ahead (the test above can fail)', async () => {
    const { got, maxLead } = await slowPass(undefined);
    expect(got.length).toBe(MANY.length);
    expect(maxLead).toBeGreaterThan(40);
  });

  it('the Parquet sink reading from the gRPC source shares its demand: all rows written', async () => {
    const counters = newCounters();
    const { root } = dataRoot(['a.parquet']);
    server = await startServer({
      dataRoots: [root],
      openSource: (f) => memorySource(MANY, f[0], counters),
      maxInFlight: 2,
    });
    const demand = new Demand();
    const out = join(dataRoot([]).root, 'out.parquet');
    const source = grpcSource(`127.0.0.1:${server.port}`, {
      paths: ['a.parquet'],
      windowBytes: WINDOW,
      columns: ['x', 'id'],
    });
    const result = await lastValueFrom(source.batches({ demand }).pipe(parquetSink(out, { demand })));
    expect(result.rows).toBe(60 * 1000);
    const back = await lastValueFrom(
      parquetSource([out])
        .batches({ columns: ['x', 'id'] })
        .pipe(toArray()),
    );
    expect(rowsOf([concatBatches(back)])).toEqual(rowsOf(MANY.map((b) => selectColumns(b, ['x', 'id']))));
    expect(demand.held).toBe(false);
  });
});

describe('Evaluate', () => {
  it('without a model, is FAILED_PRECONDITION', async () => {
    const { address } = await serve(newCounters());
    async function* one() {
      yield BATCHES[0];
    }
    await expect(lastValueFrom(evaluateRemote(address, one()))).rejects.toThrow(/FAILED_PRECONDITION.*--model/);
  });

  it('answers every batch in order, reading the request stream only as fast as it scores', async () => {
    const { address } = await serve(newCounters(), {
      scorer: {
        columns: ['x'],
        score: (b) => {
          const t = Date.now() + 2; // a slow model
          while (Date.now() < t);
          return Float32Array.from(b.columns.x.values as Float64Array, (x) => x * 2);
        },
      },
    });
    const many = testBatches(150, 1000);
    let sent = 0;
    let maxAhead = 0;
    let answered = 0;
    async function* input() {
      for (const b of many) {
        sent++;
        maxAhead = Math.max(maxAhead, sent - answered);
        yield b;
      }
    }
    const scores = await lastValueFrom(
      evaluateRemote(address, input()).pipe(
        tap(() => answered++),
        toArray(),
      ),
    );
    expect(scores.length).toBe(150);
    scores.forEach((s, k) =>
      expect(Array.from(s)).toEqual(Array.from(many[k].columns.x.values as Float64Array, (x) => Math.fround(x * 2))),
    );
    // Between sending and the answer arriving: client write buffer (16 messages) + HTTP/2 window
    // + server read buffer (16) + one scoring + replies on their way back (each ~4 kB, so the
    // window holds many). Bounded (measured 48), and far below the 150 sent.
    expect(maxAhead).toBeLessThan(70);
  });
});

describe('service limits', () => {
  it('a batch above the maximum is INVALID_ARGUMENT before it is scored', async () => {
    let scored = 0;
    const scorer = { columns: ['x'], score: (b: EventBatch) => ((scored += b.length), new Float32Array(b.length)) };
    const { address } = await serve(newCounters(), { scorer });
    async function* huge() {
      yield makeBatch({ x: new Float64Array(MAX_BATCH_ROWS + 1) }, { x: 'float64' });
    }
    await expect(lastValueFrom(evaluateRemote(address, huge()))).rejects.toThrow(
      /INVALID_ARGUMENT.*batch 0 has 1048577 events, above the maximum, 1048576/,
    );
    expect(scored).toBe(0);
  });

  it('a large batch is scored in pieces: health checks are answered meanwhile, and a passed deadline stops the scoring', async () => {
    let scored = 0;
    let lastPieceAt = 0;
    const scorer = {
      columns: ['x'],
      score: (b: EventBatch) => {
        const t = Date.now() + (30 * b.length) / 65536; // 30 ms per 65,536 events: a slow model
        while (Date.now() < t);
        scored += b.length;
        lastPieceAt = Date.now();
        return Float32Array.from(b.columns.x.values as Float64Array, (x) => x * 2);
      },
    };
    const { address } = await serve(newCounters(), { scorer });
    const x = Float64Array.from({ length: MAX_BATCH_ROWS }, (_, i) => i % 1000);
    async function* one() {
      yield makeBatch({ x }, { x: 'float64' });
    }
    // A health check sent while the batch is being scored is answered before its last piece.
    const scores = lastValueFrom(evaluateRemote(address, one()));
    await waitFor(() => scored > 0);
    const healthAt = await healthCheck(address, '').then(() => Date.now());
    const got = await scores;
    expect(got.length).toBe(x.length);
    expect(got.filter((v, i) => v !== x[i] * 2).length).toBe(0); // every piece in its place
    expect(healthAt).toBeLessThan(lastPieceAt);
    // A deadline passing mid-batch ends the call, and the scoring stops.
    scored = 0;
    await expect(lastValueFrom(evaluateRemote(address, one(), { deadlineMs: 150 }))).rejects.toThrow(
      /DEADLINE_EXCEEDED/,
    );
    await sleep(600); // longer than the rest of the batch would take
    expect(scored).toBeGreaterThan(0);
    expect(scored).toBeLessThan(MAX_BATCH_ROWS);
  });

  it('streams beyond maxStreams are RESOURCE_EXHAUSTED; one ending frees its place; other calls are still served', async () => {
    // Clients that open a stream and do not read it (the source is slow: the streams stay open).
    const { root } = dataRoot(['slow.parquet']);
    const scorer = { columns: ['x'], score: (b: EventBatch) => new Float32Array(b.length) };
    server = await startServer({
      dataRoots: [root],
      openSource: (f) => memorySource(BATCHES, f[0], newCounters(), 1000),
      maxStreams: 2,
      scorer,
    });
    const at = `127.0.0.1:${server.port}`;
    const idle = [0, 1].map(() => {
      const { client, metadata } = connect(at);
      const call = client.streamBatches({ paths: ['slow.parquet'] }, metadata());
      call.on('error', () => undefined);
      return { client, call };
    });
    await waitFor(() => server!.stats.active === 2);
    expect(await codeOf(lastValueFrom(grpcSource(at, { paths: ['slow.parquet'] }).batches()))).toBe(
      'RESOURCE_EXHAUSTED',
    );
    async function* one() {
      yield BATCHES[0];
    }
    await expect(lastValueFrom(evaluateRemote(at, one()))).rejects.toThrow(/RESOURCE_EXHAUSTED.*maximum of 2 streams/);
    expect(await healthCheck(at, '')).toBe('SERVING');
    expect(await codeOf(unaryCall(at, {}, 'describe', { paths: ['slow.parquet'] }))).toBe('OK');
    idle[0].call.cancel();
    idle[0].client.close();
    await waitFor(() => server!.stats.active === 1);
    expect((await lastValueFrom(evaluateRemote(at, one()))).length).toBe(BATCHES[0].length);
    idle[1].call.cancel();
    idle[1].client.close();
  });
});

describe('security and health', () => {
  it('with a token, calls without the right bearer token get UNAUTHENTICATED', async () => {
    const { address } = await serve(newCounters(), { token: 's3cret' });
    const stream = (token?: string) =>
      lastValueFrom(
        grpcSource(address, { paths: ['a.parquet'], token })
          .batches()
          .pipe(toArray()),
      );
    expect(await codeOf(stream())).toBe('UNAUTHENTICATED');
    expect(await codeOf(stream('wrong'))).toBe('UNAUTHENTICATED');
    expect(await codeOf(unaryCall(address, {}, 'describe', { paths: ['a.parquet'] }))).toBe('UNAUTHENTICATED');
    expect(await codeOf(healthCheck(address, ''))).toBe('UNAUTHENTICATED');
    expect(await codeOf(stream('s3cret'))).toBe('OK');
    expect(await healthCheck(address, '', 's3cret')).toBe('SERVING');
  });

  it('health: SERVING for the server and the service, NOT_FOUND for others, Watch sees shutdown', async () => {
    const { address } = await serve(newCounters());
    expect(await healthCheck(address, '')).toBe('SERVING');
    expect(await healthCheck(address, 'diffskim.v1.DiffSkim')).toBe('SERVING');
    expect(await codeOf(healthCheck(address, 'nope'))).toBe('NOT_FOUND');
    const seen: string[] = [];
    const client = new Health(address, grpc.credentials.createInsecure());
    const watch = client.watch({ service: '' });
    const ended = new Promise((resolve) => {
      watch.on('data', (m: { status: string }) => seen.push(m.status));
      watch.on('end', resolve);
      watch.on('error', resolve);
    });
    await waitFor(() => seen.length === 1);
    await server!.close(200);
    server = undefined;
    await ended;
    client.close();
    expect(seen).toEqual(['SERVING', 'NOT_SERVING']);
  });

  it('serves over TLS with a certificate, and a plain client cannot talk to it', async () => {
    const dir = dataRoot([]).root;
    const key = join(dir, 'key.pem');
    const cert = join(dir, 'cert.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-keyout',
        key,
        '-out',
        cert,
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost',
      ],
      { stdio: 'ignore' },
    );
    const { address } = await serve(newCounters(), { tls: { cert: readFileSync(cert), key: readFileSync(key) } });
    const tls = { ca: readFileSync(cert), serverName: 'localhost' };
    const got = await lastValueFrom(
      grpcSource(address, { paths: ['a.parquet'], tls, columns: ['x'] })
        .batches()
        .pipe(toArray()),
    );
    expect(got.reduce((s, b) => s + b.length, 0)).toBe(3000);
    expect(await codeOf(lastValueFrom(grpcSource(address, { paths: ['a.parquet'], deadlineMs: 2000 }).batches()))).toBe(
      'UNAVAILABLE',
    );
  });
});

const { Health } = services();

function healthCheck(address: string, service: string, token?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const client = new Health(address, grpc.credentials.createInsecure());
    const md = new grpc.Metadata();
    if (token) md.set('authorization', `Bearer ${token}`);
    (client as unknown as Record<string, Function>).check(
      { service },
      md,
      (e: grpc.ServiceError | null, res: { status: string }) => {
        client.close();
        if (e) reject(e);
        else resolve(res.status);
      },
    );
  });
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor(cond: () => boolean, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not reached in time');
    await sleep(10);
  }
}
