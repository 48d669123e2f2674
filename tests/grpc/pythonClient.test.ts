import { execFile, execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { PROTO_DIR } from '../../src/sources/grpc/protos.js';
import { type RunningServer, startServer } from '../../src/grpc/server.js';
import { toolMissing } from '../helpers/tools.js';
import { sql } from '../parquet/helpers.js';

// An independent client: Python's grpcio with its default settings, whose receive limit is 4 MiB
// (as grpc-go's and grpc-java's), with stubs generated from proto/ by grpc_tools.protoc.
const PYTHON = '/usr/bin/python3';
const importable = spawnSync(PYTHON, ['-c', 'import grpc, grpc_tools, numpy']).status === 0;
const noPython = toolMissing(
  `${PYTHON} with grpcio, grpc_tools and numpy`,
  importable ? null : 'cannot import them (Debian: python3-grpcio python3-grpc-tools python3-numpy)',
);
const COLUMNS = 10;
const ROWS = 200_000;

let base: string;
let server: RunningServer;

beforeAll(async () => {
  if (noPython) return;
  base = mkdtempSync(join(tmpdir(), 'diffskim-python-'));
  mkdirSync(join(base, 'data'));
  const protos = ['batch', 'diffskim'].map((p) => join(PROTO_DIR, `diffskim/v1/${p}.proto`));
  execFileSync(PYTHON, [
    '-m',
    'grpc_tools.protoc',
    `-I${PROTO_DIR}`,
    `--python_out=${base}`,
    `--grpc_python_out=${base}`,
    ...protos,
  ]);
  // 88 bytes per event: the server's default batch (65,536 events) is 5.8 MB in memory.
  const cols = Array.from({ length: COLUMNS }, (_, k) => `((i * ${k + 3}) % 1000)::DOUBLE AS c${k}`).join(', ');
  await sql(
    `COPY (SELECT i::BIGINT AS id, ${cols} FROM range(${ROWS}) t(i)) TO '${join(base, 'data', 'wide.parquet')}' (FORMAT parquet)`,
  );
  server = await startServer({ dataRoots: [join(base, 'data')], ...(await localServerOptions()) });
});

afterAll(async () => {
  await server?.close(500);
  if (base) rmSync(base, { recursive: true, force: true });
});

/** (Asynchronous: the server answers from this process.) */
async function pythonStream(batchRows = 0): Promise<Record<string, unknown>> {
  const script = join(import.meta.dirname, 'python', 'stream_summary.py');
  const args = [script, base, `127.0.0.1:${server.port}`, 'wide.parquet', String(batchRows)];
  const { stdout } = await promisify(execFile)(PYTHON, args, { encoding: 'utf8' });
  return JSON.parse(stdout);
}

describe.skipIf(noPython)('a Python grpcio client with its default 4 MiB receive limit', () => {
  it('streams a dataset with the server defaults, every message under 4 MiB, the same sums as DuckDB', async () => {
    const sums = Array.from({ length: COLUMNS }, (_, k) => `sum(c${k})::BIGINT AS c${k}`).join(', ');
    const [expected] = await sql(
      `SELECT count(*)::BIGINT AS n, ${sums}, sum(id)::BIGINT AS id FROM '${join(base, 'data', 'wide.parquet')}'`,
    );
    for (const batchRows of [0, 1 << 20]) {
      const got = await pythonStream(batchRows);
      expect(got.code).toBeUndefined();
      expect(got.events).toBe(Number(expected.n));
      expect(got.max_message_bytes as number).toBeLessThanOrEqual(4 * 1024 * 1024);
      expect(got.max_message_bytes as number).toBeGreaterThan(1024 * 1024); // pieces are not needlessly small
      const { n: _, ...columnSums } = expected;
      expect(got.sums).toEqual(Object.fromEntries(Object.entries(columnSums).map(([k, v]) => [k, Number(v)])));
    }
    const over = await pythonStream((1 << 20) + 1);
    expect(over).toEqual({
      code: 'INVALID_ARGUMENT',
      details: expect.stringMatching(/batch_rows 1048577 is above the maximum, 1048576/),
    });
  });
});
