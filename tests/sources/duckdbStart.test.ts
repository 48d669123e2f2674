import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { sql, tempDir } from '../parquet/helpers.js';

// DuckDB's first start fails once (as with a bad setting), then works.
const failures = vi.hoisted(() => ({ left: 1 }));
vi.mock('@duckdb/node-api', async (importOriginal) => {
  const real = await importOriginal<typeof import('@duckdb/node-api')>();
  const create: typeof real.DuckDBInstance.create = (...args) =>
    failures.left-- > 0 ? Promise.reject(new Error('Failed to set config')) : real.DuckDBInstance.create(...args);
  return { ...real, DuckDBInstance: { create } };
});

const { readParquetMeta } = await import('../../src/sources/parquetMeta.js');

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

describe('DuckDB failing to start', () => {
  it('is reported as such, not as a corrupt file, and the next read starts it again', async () => {
    const file = join(dir, 'ok.parquet');
    // (the helper's own DuckDB goes through the mock too: let it start.)
    failures.left = 0;
    await sql(`COPY (SELECT 1::INTEGER AS x) TO '${file}' (FORMAT parquet)`);
    failures.left = 1;
    const first = readParquetMeta(file);
    await expect(first).rejects.toThrow('DuckDB could not start: Failed to set config');
    await expect(first).rejects.not.toThrow(/corrupt|ok\.parquet/);
    expect((await readParquetMeta(file)).rows).toBe(1);
  });
});
