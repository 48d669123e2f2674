import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { type RunningServer, startServer } from '../../src/grpc/server.js';
import { sql } from '../parquet/helpers.js';

// The README's example client, run as a user would, against a server on a small file.
let base: string;
let server: RunningServer;

beforeAll(async () => {
  base = mkdtempSync(join(tmpdir(), 'diffskim-example-'));
  mkdirSync(join(base, 'mc'));
  await sql(`COPY (SELECT (i % 97)::FLOAT AS met, (i % 13)::FLOAT AS lep1_pt, [(j + i % 5)::FLOAT FOR j IN range(i % 4)] AS jet_pt
    FROM range(3000) t(i)) TO '${join(base, 'mc', 'a.parquet')}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  server = await startServer({ dataRoots: [base], ...(await localServerOptions()) });
});

afterAll(async () => {
  await server?.close(500);
  rmSync(base, { recursive: true, force: true });
});

describe('examples/grpc-client.ts', () => {
  it('checks health, describes, streams with cuts on the server and runs a skim', async () => {
    const args = [
      '--import',
      'tsx',
      'examples/grpc-client.ts',
      '--address',
      `127.0.0.1:${server.port}`,
      '--path',
      'mc/a.parquet',
    ];
    const cuts = ['--columns', 'met,jet_pt', '--where', 'met>40', '--where', 'count(jet_pt)>1', '--skim-out', 'skims'];
    const { stdout } = await promisify(execFile)(process.execPath, [...args, ...cuts]);
    const [{ n }] = await sql(
      `SELECT count(*)::INT AS n FROM '${join(base, 'mc', 'a.parquet')}' WHERE met > 40 AND len(jet_pt) > 1`,
    );
    expect(n).toBeGreaterThan(100);
    expect(stdout).toContain('health: SERVING');
    expect(stdout).toContain('dataset: 1 file(s), 3000 events');
    expect(stdout).toContain(`streamed ${n} events`);
    expect(stdout).toMatch(/met\s+\d+ values, mean/);
    expect(stdout).toContain(`skim: 3000 events in, ${n} kept, ${3000 - (n as number)} cut; skims/a.skim.parquet`);
    expect(existsSync(join(base, 'skims', 'a.skim.parquet'))).toBe(true);
  });

  it('takes a between cut, and answers a cut the server does not take, or a refused call, with one line and status 1', async () => {
    const run = (...extra: string[]) =>
      promisify(execFile)(process.execPath, [
        ...[
          '--import',
          'tsx',
          'examples/grpc-client.ts',
          '--address',
          `127.0.0.1:${server.port}`,
          '--path',
          'mc/a.parquet',
        ],
        ...extra,
      ]).then(
        ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const between = await run('--columns', 'met', '--where', '20<met<40');
    const [{ n }] = await sql(
      `SELECT count(*)::INT AS n FROM '${join(base, 'mc', 'a.parquet')}' WHERE met > 20 AND met < 40`,
    );
    expect(between.stdout).toContain(`streamed ${n} events`);
    for (const [where, message] of [
      ['met>=20', /^grpc-client: --where 'met>=20': the server's cuts are strict, '>=' is not one of them/],
      ['met>twenty', /^grpc-client: --where 'met>twenty': 'twenty' is not a number/],
      [
        'nope>1',
        /^grpc-client: gRPC StreamBatches on \S+ failed \(INVALID_ARGUMENT\): column 'nope' is not in mc\/a\.parquet/,
      ],
    ] as const) {
      const { code, stderr } = await run('--where', where);
      expect(code).toBe(1);
      expect(stderr).toMatch(message);
      expect(stderr.trim().split('\n')).toHaveLength(1); // no stack trace
    }
  });
});
