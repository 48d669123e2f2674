import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as grpc from '@grpc/grpc-js';
import { flatAsFloat64, makeBatch } from '../../src/batch/batch.js';
import { encodeBatch, encodeSchema } from '../../src/sources/grpc/codec.js';
import type { BatchChunkMsg } from '../../src/sources/grpc/messages.js';
import { services } from '../../src/sources/grpc/protos.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { type RunningServer, startServer } from '../../src/grpc/server.js';
import { toolMissing } from '../helpers/tools.js';
import { sql } from '../parquet/helpers.js';

/**
 * clients/python's diffskim_client, run by Debian's python3, against a real server (with a token,
 * and over TLS): its stream of a file equals DuckDB's read of it (counts, sums and nulls per
 * column, with and without cuts), and its describe, skim and evaluate agree with DuckDB and numpy.
 */
const PYTHON = '/usr/bin/python3';
const importable = spawnSync(PYTHON, ['-c', 'import grpc, grpc_tools, numpy']).status === 0;
const noPython = toolMissing(
  `${PYTHON} with grpcio, grpc_tools and numpy`,
  importable ? null : 'cannot import them (Debian: python3-grpcio python3-grpc-tools python3-numpy)',
);
const noOpenssl = toolMissing('openssl', spawnSync('openssl', ['version']).status === 0 ? null : 'not on PATH');
const ROWS = 300_000;
const TOKEN = 'python-client-token';

let base: string;
let file: string;
let server: RunningServer;
let tlsServer: RunningServer | undefined;
let cert: string;

beforeAll(async () => {
  if (noPython) return;
  base = mkdtempSync(join(tmpdir(), 'diffskim-pyclient-'));
  mkdirSync(join(base, 'data'));
  file = join(base, 'data', 'events.parquet');
  // Integer-valued numbers, so that every sum is exact in float64 whatever the order.
  await sql(`COPY (SELECT i::BIGINT AS id, CASE WHEN i % 13 = 0 THEN NULL ELSE (i % 1000)::DOUBLE END AS x,
      (i % 7)::FLOAT AS f, i % 3 = 0 AS flag, (i % 100)::INTEGER AS n,
      CASE WHEN i % 17 = 0 THEN NULL ELSE [(j * 3 + i % 5)::FLOAT FOR j IN range(i % 4)] END AS jets
    FROM range(${ROWS}) t(i)) TO '${file}' (FORMAT parquet, ROW_GROUP_SIZE 50000)`);
  // A stand-in model for Evaluate: scores x * 0.5, which the Python side checks with numpy.
  const scorer = {
    columns: ['x'],
    score: (b: Parameters<typeof flatAsFloat64>[0]) => Float32Array.from(flatAsFloat64(b, 'x'), (v) => v * 0.5),
  };
  const options = { dataRoots: [join(base, 'data')], ...(await localServerOptions()), scorer, token: TOKEN };
  server = await startServer(options);
  if (!noOpenssl) {
    const key = join(base, 'key.pem');
    cert = join(base, 'cert.pem');
    const subject = ['-subj', '/CN=localhost', '-addext', 'subjectAltName=DNS:localhost'];
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1', ...subject],
      { stdio: 'ignore' },
    );
    tlsServer = await startServer({ ...options, tls: { cert: readFileSync(cert), key: readFileSync(key) } });
  }
}, 60_000);

afterAll(async () => {
  await server?.close(500);
  await tlsServer?.close(500);
  if (base) rmSync(base, { recursive: true, force: true });
});

async function python(calls: object[], opts: { port?: number; token?: string; tlsCert?: string } = {}): Promise<any[]> {
  const spec = join(base, `spec-${Math.random()}.json`);
  const address = `127.0.0.1:${opts.port ?? server.port}`;
  writeFileSync(spec, JSON.stringify({ address, token: opts.token ?? TOKEN, tls_cert: opts.tlsCert ?? null, calls }));
  const script = join(import.meta.dirname, 'python', 'client_check.py');
  const { stdout } = await promisify(execFile)(PYTHON, [script, spec], { encoding: 'utf8', maxBuffer: 1 << 26 });
  return JSON.parse(stdout);
}

/** DuckDB's read of the file, summarized as client_check.py summarizes a stream. */
async function duckdbSummary(where = 'TRUE', columns = ['id', 'x', 'f', 'flag', 'n', 'jets']) {
  const flat = columns.filter((c) => c !== 'jets');
  const items = flat.map((c) => `sum(${c}::DOUBLE) AS "${c}_sum", count(${c}) AS "${c}_valid"`);
  if (columns.includes('jets'))
    items.push(`sum(list_sum(jets)::DOUBLE) AS jets_sum, count(jets) AS jets_valid, sum(len(jets)) AS jets_count`);
  const [r] = await sql(`SELECT count(*) AS events, ${items.join(', ')} FROM '${file}' WHERE ${where}`);
  const out: Record<string, object> = {};
  for (const c of columns) {
    out[c] = {
      sum: Number(r[`${c}_sum`] ?? 0),
      valid: Number(r[`${c}_valid`]),
      ...(c === 'jets' ? { count_sum: Number(r.jets_count) } : {}),
    };
  }
  return { events: Number(r.events), columns: out };
}

describe.skipIf(noPython)('the Python client (clients/python)', () => {
  it('ships the descriptor set of proto/ as it is now', () => {
    const r = spawnSync(
      PYTHON,
      [join(import.meta.dirname, '../../clients/python/generate_descriptors.py'), '--check'],
      {
        encoding: 'utf8',
      },
    );
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it('streams the file as DuckDB reads it: counts, sums and nulls per column, with and without cuts', async () => {
    const cuts = [
      { column: 'x', op: '>', value: 500 },
      { column: 'count(jets)', op: 'between', low: 0.5, high: 3 },
    ];
    const [all, cut, projected, passes] = await python([
      { op: 'stream', paths: ['events.parquet'] },
      { op: 'stream', paths: ['events.parquet'], where: cuts, batch_rows: 7000 },
      { op: 'stream', paths: ['events.parquet'], columns: ['f', 'jets'], where: [cuts[0]] },
      // A condition (op 'passes', StreamRequest's PASSES), an expression of two columns.
      { op: 'stream', paths: ['events.parquet'], where: [{ column: 'x > 500 && count(jets) < 3', op: 'passes' }] },
    ]);
    // Null fails every cut; SQL's comparisons with NULL are not true either.
    const where = 'x > 500 AND len(jets) > 0.5 AND len(jets) < 3';
    expect({ events: all.events, columns: all.columns }).toEqual(await duckdbSummary());
    expect(all.batches).toBeGreaterThan(1);
    expect({ events: cut.events, columns: cut.columns }).toEqual(await duckdbSummary(where));
    expect(cut.batches).toBeGreaterThan(5);
    expect({ events: projected.events, columns: projected.columns }).toEqual(
      await duckdbSummary('x > 500', ['f', 'jets']),
    );
    expect({ events: passes.events, columns: passes.columns }).toEqual(
      await duckdbSummary('x > 500 AND len(jets) < 3'),
    );
  }, 120_000);

  it('describes the file, skims it on the server and evaluates batches', async () => {
    const cuts = {
      cuts: [
        { column: 'x', op: '<', value: 250 },
        { column: 'first(jets)', op: '>', value: 1.5 },
      ],
      score: null,
    };
    const [info, skim, scores] = await python([
      { op: 'describe', paths: ['events.parquet'] },
      { op: 'skim', inputs: ['events.parquet'], cuts, output_dir: 'skim' },
      { op: 'evaluate', sizes: [1000, 70000, 3] },
    ]);
    const schema = await sql(`SELECT column_name FROM (DESCRIBE SELECT * FROM '${file}')`);
    expect(info.rows).toBe(ROWS);
    expect(info.schema.map((f: { name: string }) => f.name)).toEqual(schema.map((r) => r.column_name));
    expect(info.schema.find((f: { name: string }) => f.name === 'jets')).toMatchObject({ list: true, type: 'float32' });
    const [kept] = await sql(`SELECT count(*) AS n FROM '${file}' WHERE x < 250 AND jets[1] > 1.5`);
    expect(skim.events_kept).toBe(Number(kept.n));
    expect(skim.events_in).toBe(ROWS);
    expect(skim.events_in).toBe(skim.events_kept + skim.events_cut);
    const [written] = await sql(`SELECT count(*) AS n FROM '${join(base, 'data', 'skim', 'events.skim.parquet')}'`);
    expect(Number(written.n)).toBe(Number(kept.n));
    expect(skim.report.eventsKept).toBe(skim.events_kept);
    expect(scores).toEqual({ lengths: [1000, 70000, 3], max_error: 0 });
  }, 120_000);

  it("names a malformed cut before calling, and passes on the server's refusal of an unknown column", async () => {
    const [malformed, unknown] = await python([
      { op: 'stream', paths: ['events.parquet'], where: [{ column: 'x', op: 'between', value: 1 }] },
      { op: 'stream', paths: ['events.parquet'], where: [{ column: 'nope', op: '>', value: 1 }] },
    ]);
    expect(malformed).toEqual({ error: "cut 0 ('x'): op 'between' needs low and high" });
    expect(unknown).toMatchObject({ code: 'INVALID_ARGUMENT', details: expect.stringMatching(/nope/) });
  });

  it('raises IncompleteStream for a stream that ends, with status OK, short of what the server sent', async () => {
    // A server that sends 10 events and says so, says 30, or ends without saying.
    const fake = async (sent: number | null) => {
      const fakeServer = new grpc.Server();
      const batch = makeBatch({ x: Float64Array.from({ length: 10 }, (_, i) => i) }, { x: 'float64' });
      fakeServer.addService(services().DiffSkim.service, {
        streamBatches: (call: grpc.ServerWritableStream<unknown, BatchChunkMsg>) => {
          call.write({ schema: encodeSchema(batch.schema), batch: encodeBatch(batch) });
          if (sent !== null) call.write({ schema: null, batch: null, end: { events: sent } });
          call.end();
        },
      });
      const port = await new Promise<number>((resolve, reject) =>
        fakeServer.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) =>
          e ? reject(e) : resolve(p),
        ),
      );
      try {
        return (await python([{ op: 'stream', paths: ['a.parquet'] }], { port }))[0];
      } finally {
        fakeServer.forceShutdown();
      }
    };
    expect((await fake(10)).incomplete).toBeUndefined();
    expect(await fake(30)).toEqual({
      incomplete: 'StreamBatches: the stream brought 10 events, where its last message says 30 were sent',
    });
    expect(await fake(null)).toEqual({
      incomplete: 'StreamBatches: the stream ended without its last message: cut short',
    });
  });

  it('sends the token, and a wrong one is UNAUTHENTICATED', async () => {
    const [refused] = await python([{ op: 'describe', paths: ['events.parquet'] }], { token: 'wrong' });
    expect(refused.code).toBe('UNAUTHENTICATED');
  });

  it.skipIf(noOpenssl)('talks TLS, trusting the certificate it is given', async () => {
    const [info] = await python([{ op: 'describe', paths: ['events.parquet'] }], {
      port: tlsServer!.port,
      tlsCert: cert,
    });
    expect(info.rows).toBe(ROWS);
  });
});
