import { type ChildProcess, spawn } from 'node:child_process';
import { readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { lastValueFrom, Observable, take, tap, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type EventBatch, makeBatch } from '../../src/batch/batch.js';
import { encodeBatch, encodeSchema } from '../../src/sources/grpc/codec.js';
import type { BatchChunkMsg, DatasetInfoMsg, ScoresMsg } from '../../src/sources/grpc/messages.js';
import { evaluateRemote } from '../../src/sources/grpc/evaluateClient.js';
import { InputError } from '../../src/sources/inputError.js';
import { grpcSource } from '../../src/sources/grpc/grpcSource.js';
import { services } from '../../src/sources/grpc/protos.js';
import { skimStream } from '../../src/skim/skimStream.js';
import type { EventSource } from '../../src/sources/types.js';
import { sql } from '../parquet/helpers.js';
import { BIN, tempDir } from './helpers.js';

/**
 * gRPC faults against a real `diffskim serve` child process. Retry policy: a StreamBatches call
 * that fails mid-stream is not retried (a pass is not idempotent half-way: the batches already
 * written would be repeated); the source reports the RPC, the server and the status, and the
 * pipeline fails without leaving a skim file. Re-running the command redoes the pass.
 */
const TOKEN = 'right-token';
let dir: string;
let cleanup: () => Promise<void>;
let rows: number;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await sql(
    `COPY (SELECT i::BIGINT AS id, (i % 97)::DOUBLE AS met FROM range(200000) t(i)) TO '${join(dir, 'data.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 20480)`,
  );
  rows = 200_000;
});
afterAll(() => cleanup());

/** Starts `diffskim serve` on a free port; resolves when it listens. */
async function serve(): Promise<{ child: ChildProcess; address: string }> {
  const child = spawn(process.execPath, [BIN, '-q', 'serve', '--port', '0', '--data-root', dir, '--token', TOKEN], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const port = await new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stderr! }).on('line', (line) => {
      const m = /listening on [^:]+:(\d+)/.exec(line);
      if (m) resolve(m[1]);
    });
    child.on('exit', (code) => reject(new Error(`serve exited with ${code}`)));
  });
  return { child, address: `127.0.0.1:${port}` };
}

/** A small HTTP/2 window (64 KiB) keeps the server from sending far ahead of the client. */
const source = (address: string, token = TOKEN) =>
  grpcSource(address, { paths: ['data.parquet'], token, windowBytes: 64 * 1024 });

/** The source in small batches, with a hook on each batch received (to inject a fault mid-stream). */
function withHook(inner: EventSource, onBatch: (n: number) => void): EventSource {
  return {
    describe: () => inner.describe(),
    batches: (o) => {
      let n = 0;
      return inner.batches({ ...o, batchRows: 4096 }).pipe(tap(() => onBatch(++n))) as Observable<EventBatch>;
    },
  };
}

describe('gRPC faults (real diffskim serve process)', () => {
  let server: { child: ChildProcess; address: string };
  beforeAll(async () => {
    server = await serve();
  }, 30_000);
  afterAll(() => {
    server.child.kill('SIGKILL');
  });

  it('a client that aborts mid-stream leaves the server serving; a full pass after it gets every row', async () => {
    const first = await lastValueFrom(source(server.address).batches({ batchRows: 5000 }).pipe(take(2), toArray()));
    expect(first).toHaveLength(2);
    const all = await lastValueFrom(source(server.address).batches({ batchRows: 50_000 }).pipe(toArray()));
    expect(all.reduce((s, b) => s + b.length, 0)).toBe(rows);
  });

  it('a wrong token gets UNAUTHENTICATED, naming the RPC and the server', async () => {
    await expect(lastValueFrom(source(server.address, 'wrong').batches())).rejects.toThrow(
      new RegExp(`^gRPC StreamBatches on ${server.address} failed \\(UNAUTHENTICATED\\)`),
    );
  });

  it('malformed and oversized requests are refused, and the server survives them', async () => {
    const client = new grpc.Client(server.address, grpc.credentials.createInsecure());
    const meta = new grpc.Metadata();
    meta.set('authorization', `Bearer ${TOKEN}`);
    const raw = (bytes: Buffer) =>
      new Promise<grpc.status>((resolve) => {
        const call = client.makeServerStreamRequest(
          '/diffskim.v1.DiffSkim/StreamBatches',
          (b: Buffer) => b,
          (b: Buffer) => b,
          bytes,
          meta,
        );
        call.on('data', () => undefined);
        call.on('error', (e: grpc.ServiceError) => resolve(e.code));
        call.on('end', () => resolve(grpc.status.OK));
      });
    // Not a protobuf message (field 15, wire type 7 does not exist).
    expect(grpc.status[await raw(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x01]))]).toMatch(/INTERNAL|INVALID_ARGUMENT/);
    // 65 MiB: above the 64 MiB limit.
    expect(grpc.status[await raw(Buffer.alloc(65 * 1024 * 1024, 0x0a))]).toBe('RESOURCE_EXHAUSTED');
    client.close();
    const all = await lastValueFrom(source(server.address).batches({ batchRows: 100_000 }).pipe(toArray()));
    expect(all.reduce((s, b) => s + b.length, 0)).toBe(rows);
  }, 30_000);

  it('a TLS certificate or key that is not PEM is named, and serve exits 1', async () => {
    const bad = join(dir, 'bad.pem');
    await writeFile(bad, 'not a certificate');
    const child = spawn(
      process.execPath,
      [BIN, 'serve', '--port', '0', '--data-root', dir, '--tls-cert', bad, '--tls-key', bad],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(err).toMatch(/--tls-cert .*bad\.pem .*not a PEM certificate chain and its private key/);
  });

  it.each([
    ['--token ""', ['--token', ''], {}, /^diffskim: error: --token is empty: give the token, or leave it out/m],
    ['DIFFSKIM_TOKEN=""', [], { DIFFSKIM_TOKEN: '' }, /^diffskim: error: DIFFSKIM_TOKEN is empty: give the token/m],
  ])('an empty token (%s) is refused, not taken for no token', async (_, args, env, why) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', '--data-root', dir, ...args], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, ...env },
    });
    let err = '';
    child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise((r) => child.on('exit', r));
    expect(code).toBe(1);
    expect(err).toMatch(why);
    expect(err).not.toMatch(/listening/);
  });

  it('the server dies (kill -9) mid-stream: the skim fails naming the RPC, and writes no skim file', async () => {
    const victim = await serve();
    const out = join(dir, 'skim-out');
    const src = withHook(source(victim.address), (n) => {
      if (n === 2) victim.child.kill('SIGKILL');
    });
    const e = await skimStream({
      source: src,
      inputs: [],
      name: 'remote',
      cuts: { cuts: [], score: null },
      outDir: out,
    }).catch((x: Error) => x);
    expect(e).toBeInstanceOf(Error);
    expect((e as Error).message).toMatch(
      new RegExp(
        `^${out}/remote.skim.parquet: not written, the stream of batches failed: gRPC StreamBatches on ${victim.address} failed \\((UNAVAILABLE|INTERNAL|CANCELLED)\\)`,
      ),
    );
    expect(await readdir(out)).toEqual([]);
  }, 30_000);
});

describe('gRPC faults from a misbehaving server', () => {
  /** A server whose StreamBatches sends these raw bytes as its one message. */
  async function rawServer(bytes: Buffer): Promise<{ address: string; close: () => void }> {
    const server = new grpc.Server({ 'grpc.max_send_message_length': -1 });
    const def = services().DiffSkim.service;
    const stream = { ...def.StreamBatches, responseSerialize: (b: Buffer) => b };
    server.addService({ StreamBatches: stream } as grpc.ServiceDefinition, {
      StreamBatches: (call: grpc.ServerWritableStream<unknown, Buffer>) => {
        call.write(bytes);
        call.end();
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
  }

  /**
   * A server whose Describe counts `rows` events of 'a.parquet' and whose StreamBatches sends
   * these batches (x = row number), then a last message saying `sent` events were sent (by
   * default the batches' events; null: none), and ends with status OK.
   */
  async function lyingServer(
    rows: number,
    batches: EventBatch[],
    sent: number | null = batches.reduce((n, b) => n + b.length, 0),
  ): Promise<{ address: string; close: () => void }> {
    const server = new grpc.Server();
    const schema = encodeSchema(batches[0].schema);
    server.addService(services().DiffSkim.service, {
      describe: (_: unknown, done: grpc.sendUnaryData<DatasetInfoMsg>) =>
        done(null, {
          files: [{ path: 'a.parquet', bytes: 8 * rows, rows, rowGroups: 1 }],
          ...{ schema, rows, bytesOnDisk: 8 * rows, columnBytes: { x: 8 * rows }, columnValues: {}, unsupported: [] },
        }),
      streamBatches: (call: grpc.ServerWritableStream<unknown, BatchChunkMsg>) => {
        batches.forEach((b, k) => call.write({ schema: k === 0 ? schema : null, batch: encodeBatch(b) }));
        if (sent !== null) call.write({ schema: null, batch: null, end: { events: sent } });
        call.end();
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
  }
  /** `n` events of 'a.parquet' from row `first` on. */
  const rowsOf = (first: number, n: number): EventBatch => ({
    ...makeBatch({ x: Float64Array.from({ length: n }, (_, i) => first + i) }, { x: 'float64' }),
    origin: { file: 'a.parquet', rowGroup: 0, firstRow: first },
  });

  it.each([
    [
      'ends early with status OK',
      100,
      [rowsOf(0, 10)],
      /brought 10 events of 'a.parquet', where .*Describe counts 100/,
    ],
    ['repeats a batch', 20, [rowsOf(0, 10), rowsOf(0, 10)], /'a.parquet' starts at row 0, but 10 rows .*repeats/],
    ['skips a stretch', 30, [rowsOf(0, 10), rowsOf(20, 10)], /'a.parquet' starts at row 20, but 10 rows .*skips/],
  ])('a stream that %s fails the pass and the skim, naming the stream and the file', async (_, rows, batches, why) => {
    const s = await lyingServer(rows, batches as EventBatch[]);
    const src = grpcSource(s.address, { paths: ['a.parquet'] });
    try {
      const e = await lastValueFrom(src.batches().pipe(toArray())).catch((x: Error) => x);
      expect(e).toBeInstanceOf(InputError);
      expect((e as Error).message).toMatch(new RegExp(`^gRPC StreamBatches on ${s.address}: `));
      expect((e as Error).message).toMatch(why);
      const out = join(dir, `lying-${rows}`);
      const cuts = { cuts: [], score: null };
      const skim = skimStream({ source: src, inputs: [], name: 'a', cuts, outDir: out });
      await expect(skim).rejects.toThrow(why);
      expect(await readdir(out)).toEqual([]);
    } finally {
      s.close();
    }
  });

  /** A server whose Evaluate answers each batch received with `reply(index, events)`, or ends the call on null. */
  async function lyingScorer(reply: (index: number, events: number) => ScoresMsg | null) {
    const server = new grpc.Server();
    server.addService(services().DiffSkim.service, {
      evaluate: async (call: grpc.ServerDuplexStream<BatchChunkMsg, ScoresMsg>) => {
        let index = 0;
        const received = call.iterator({ destroyOnReturn: false }) as AsyncIterable<BatchChunkMsg>;
        try {
          for await (const msg of received) {
            const answer = reply(index, msg.batch!.length);
            if (!answer) break;
            call.write(answer);
            index++;
          }
        } catch {
          return; // the client cancelled the call
        }
        call.end();
      },
    });
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    return { address: `127.0.0.1:${port}`, close: () => server.forceShutdown() };
  }
  const scores = (batchIndex: number, length: number, bytes = 4 * length) => ({
    batchIndex,
    length,
    scores: new Uint8Array(bytes),
  });

  it.each([
    [
      'too few score bytes',
      (i: number, n: number) => scores(i, n, 4 * n - 4),
      /reply to batch 0 \(10 events\).*36 bytes/,
    ],
    ['another batch index', (i: number, n: number) => scores(i + 1, n), /reply to batch 0 .*batch_index 1/],
    ['fewer replies than batches', (i: number, n: number) => (i < 2 ? scores(i, n) : null), /after answering 2 of 3/],
  ])('Evaluate answered with %s fails naming the call and the batch', async (_, reply, why) => {
    const s = await lyingScorer(reply);
    async function* input() {
      for (let k = 0; k < 3; k++) yield rowsOf(10 * k, 10);
    }
    try {
      const e = await lastValueFrom(evaluateRemote(s.address, input()).pipe(toArray())).catch((x: Error) => x);
      expect(e).toBeInstanceOf(Error);
      expect((e as Error).message).toMatch(new RegExp(`^gRPC Evaluate on ${s.address}: `));
      expect((e as Error).message).toMatch(why);
    } finally {
      s.close();
    }
  });

  it('a right answer passes: one score array per batch, in order', async () => {
    const s = await lyingScorer((i, n) => ({
      batchIndex: i,
      length: n,
      scores: new Uint8Array(new Float32Array(n).fill(i).buffer),
    }));
    async function* input() {
      for (let k = 0; k < 3; k++) yield rowsOf(10 * k, 10);
    }
    try {
      const got = await lastValueFrom(evaluateRemote(s.address, input()).pipe(toArray()));
      expect(got.map((a) => [...a])).toEqual([0, 1, 2].map((k) => Array(10).fill(k)));
    } finally {
      s.close();
    }
  });

  it('with cuts on the server, the batches pass as sent when they add up to the count its last message gives', async () => {
    const s = await lyingServer(100, [rowsOf(0, 10)]);
    try {
      const where = [{ column: 'x', op: '>' as const, value: -1 }];
      const got = await lastValueFrom(
        grpcSource(s.address, { paths: ['a.parquet'], where })
          .batches()
          .pipe(toArray()),
      );
      expect(got.map((b) => b.length)).toEqual([10]);
    } finally {
      s.close();
    }
  });

  it.each([
    ['ends without its last message', null, /the stream ended without its last message: cut short/],
    [
      'brings fewer events than its last message says',
      30,
      /the stream brought 10 events, where its last message says 30/,
    ],
  ])('with cuts on the server, a stream that %s fails the pass, naming the stream', async (_, sent, why) => {
    const s = await lyingServer(100, [rowsOf(0, 10)], sent);
    try {
      const where = [{ column: 'x', op: '>' as const, value: -1 }];
      const pass = lastValueFrom(grpcSource(s.address, { paths: ['a.parquet'], where }).batches());
      await expect(pass).rejects.toThrow(new RegExp(`^gRPC StreamBatches on ${s.address}: ${why.source}`));
    } finally {
      s.close();
    }
  });

  it('a malformed message fails the source with an error naming the RPC', async () => {
    const s = await rawServer(Buffer.from([0x7f, 0xff, 0xff, 0xff, 0x01]));
    try {
      await expect(lastValueFrom(grpcSource(s.address, { paths: ['x'] }).batches())).rejects.toThrow(
        new RegExp(`gRPC StreamBatches on ${s.address} failed \\(INTERNAL\\)`),
      );
    } finally {
      s.close();
    }
  });

  it('an oversized message (above the 64 MiB limit) fails with RESOURCE_EXHAUSTED', async () => {
    const s = await rawServer(Buffer.alloc(65 * 1024 * 1024, 0x0a));
    try {
      await expect(lastValueFrom(grpcSource(s.address, { paths: ['x'] }).batches())).rejects.toThrow(
        new RegExp(`gRPC StreamBatches on ${s.address} failed \\(RESOURCE_EXHAUSTED\\)`),
      );
    } finally {
      s.close();
    }
  }, 30_000);
});
