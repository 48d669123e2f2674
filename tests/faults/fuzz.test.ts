import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { applyCorruption, corruptions, FAILURES, fuzzParquet } from '../../scripts/fuzz-parquet.js';
import { from, lastValueFrom } from 'rxjs';
import { parquetSink } from '../../src/sinks/parquetSink.js';
import { idBatches } from '../helpers/batches.js';
import { sql } from '../parquet/helpers.js';
import { tempDir } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let valid: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  valid = join(dir, 'valid.parquet');
  // Flat, list, boolean and nullable columns over three row groups, snappy-compressed.
  await sql(`COPY (SELECT i::BIGINT AS id, CASE WHEN i % 9 = 0 THEN NULL ELSE (i % 97)::FLOAT END AS met,
      [(i % 50 + k)::FLOAT FOR k IN range(i % 4)] AS jets, (i % 2 = 0) AS flag
    FROM range(5000) t(i)) TO '${valid}' (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 2048)`);
});
afterAll(() => cleanup());

describe('fuzzing the reader and the skim with corrupted Parquet files', () => {
  it('corruptions are reproducible and do what they say', () => {
    const a = corruptions(1000, 30, 'x');
    expect(corruptions(1000, 30, 'x')).toEqual(a);
    expect(new Set(a.map((c) => c.kind))).toEqual(new Set(['flip', 'truncate', 'zero']));
    const bytes = Uint8Array.from({ length: 1000 }, (_, i) => i & 0xff);
    for (const c of a) {
      const out = applyCorruption(bytes, c);
      if (c.kind === 'truncate') expect(out.length).toBe(c.length);
      else {
        expect(out.length).toBe(1000);
        let changed = 0;
        for (let i = 0; i < 1000; i++) changed += out[i] !== bytes[i] ? 1 : 0;
        expect(changed).toBeGreaterThan(0);
      }
    }
  });

  it('200 corrupted files: each ends in an error naming the file or a plausible read; no crash, hang or leftover', async () => {
    // A generous per-file timeout: the machine is shared, and a real hang never ends.
    const r = await fuzzParquet({ valid, cut: 'met', count: 200, seed: 2024, timeoutMs: 30_000 });
    const bad = r.cases.filter((c) => FAILURES.includes(c.verdict));
    expect(bad.map((c) => `${c.verdict}: ${JSON.stringify(c.corruption)}: ${c.detail}`)).toEqual([]);
    expect(r.cases).toHaveLength(200);
    // Most corruptions are detected (a flipped bit in a float value is not: no page checksums).
    expect(r.counts.error).toBeGreaterThan(150);
    console.log(`fuzz: 200 cases in ${r.seconds.toFixed(1)} s: ${JSON.stringify(r.counts)}`);
  }, 120_000);

  it("100 corrupted files written by diffskim's own sink (zstd, byte-stream-split floats): the same", async () => {
    const ours = join(dir, 'ours.parquet');
    await lastValueFrom(from(idBatches(5000, 1000)).pipe(parquetSink(ours, { rowGroupRows: 2000, codec: 'zstd' })));
    const r = await fuzzParquet({ valid: ours, cut: 'x', count: 100, seed: 7, timeoutMs: 30_000 });
    // Known upstream problem, caught and reported by the harness: case 27 (bit flips in the
    // zstd pages of the list column) makes DuckDB 1.5.6 crash with SIGSEGV in about one run in
    // eight, and hang once in a while (also with threads=1; usually it reports "Mismatch in
    // parquet read for column 2"). Reproduce: npx tsx scripts/fuzz-parquet.ts FILE 100 --cut x --seed 7
    const known = (c: (typeof r.cases)[number]) =>
      (c.verdict === 'crash' || c.verdict === 'hang') && c.file.endsWith('/case27.parquet');
    expect(
      r.cases.filter((c) => FAILURES.includes(c.verdict) && !known(c)).map((c) => `${c.verdict}: ${c.detail}`),
    ).toEqual([]);
    expect(r.counts.error).toBeGreaterThan(50);
    console.log(`fuzz (diffskim sink): 100 cases in ${r.seconds.toFixed(1)} s: ${JSON.stringify(r.counts)}`);
  }, 120_000);

  it('the harness reports a worker that crashes or hangs, and goes on with the other files', async () => {
    process.env.FUZZ_SELFTEST = 'crash:case1.parquet,hang:case2.parquet';
    try {
      // The worker dies on case1; a new one hangs on case2 and is killed after the timeout.
      const r = await fuzzParquet({ valid, cut: 'met', count: 3, seed: 1, timeoutMs: 1500 });
      expect(r.cases.map((c) => c.verdict)).toEqual([expect.any(String), 'crash', 'hang']);
      expect(FAILURES).not.toContain(r.cases[0].verdict);
    } finally {
      delete process.env.FUZZ_SELFTEST;
    }
  }, 60_000);
});
