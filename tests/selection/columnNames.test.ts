import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { lastValueFrom, reduce } from 'rxjs';
import type { EventBatch } from '../../src/batch/batch.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkColumns } from '../../src/grpc/streamBatches.js';
import { toCutsFile } from '../../src/model/toCutsFile.js';
import { type CutsFile, passMask, readCutsFile } from '../../src/selection/cutsFile.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { initBackend } from '../../src/training/backend.js';
import { trainSelection } from '../../src/training/trainer.js';
import { sql, tempDir } from '../parquet/helpers.js';
import { toyPipeline } from '../training/toy.js';

/**
 * Column names that are valid but not identifiers (a space, a colon, a double quote, a
 * backquote), as other projects' files have them: usable in cuts when quoted, exactly in a
 * projection, and quoted right in every SQL diffskim writes. Checked against DuckDB's own SQL.
 */
let dir: string;
let cleanup: () => Promise<void>;
let input: string;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  input = join(dir, 'odd names.parquet');
  await sql(`COPY (SELECT i AS id, (i % 17)::DOUBLE - 8 AS "a b", i % 100 AS "c_customer_sk:",
      (i % 13)::DOUBLE AS "we""ird", (i % 11)::DOUBLE AS "back\`tick", [j::FLOAT FOR j IN range(i % 4)] AS "my jets",
      (hash(i) % 2)::INTEGER AS label, 1.0::DOUBLE AS weight
    FROM range(5000) t(i)) TO '${input}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
});
afterAll(() => cleanup());

const cuts: CutsFile = {
  cuts: [
    { column: 'abs("a b")', op: '>', value: 2.5 },
    { column: '`c_customer_sk:`', op: '<', value: 70 },
    { column: '"we""ird"', op: 'between', low: 1, high: 11 },
    { column: '`back``tick`', op: '>', value: 0 },
    { column: 'count("my jets")', op: '>', value: 0.5 },
  ],
  score: null,
};
// The same selection in DuckDB's own SQL, quoted by hand.
const where = `abs("a b") > 2.5 AND "c_customer_sk:" < 70 AND "we""ird" > 1 AND "we""ird" < 11 AND "back\`tick" > 0
  AND len("my jets") > 0.5`;

describe('column names that are not identifiers', () => {
  it('quoted in cuts, they skim in DuckDB (in-engine) exactly the rows DuckDB selects', async () => {
    const [expected] = await sql(`SELECT count(*) AS n, sum(id) AS ids FROM '${input}' WHERE ${where}`);
    expect(Number(expected.n)).toBeGreaterThan(100);
    const r = await runSkim({ inputs: [input], cuts, outDir: join(dir, 'skim') });
    expect(r.eventsKept).toBe(Number(expected.n));
    expect(r.eventsIn).toBe(r.eventsKept + r.eventsCut);
    const [skimmed] = await sql(`SELECT count(*) AS n, sum(id) AS ids FROM '${r.skimFiles[0]}'`);
    expect(skimmed).toEqual(expected);
  });

  it('and the same rows in JS (passMask) on batches read with the cuts pushed down to DuckDB', async () => {
    const [expected] = await sql(`SELECT count(*) AS n FROM '${input}' WHERE ${where}`);
    const source = parquetSource([input]);
    const count = (pushDown: boolean) =>
      lastValueFrom(
        source
          .batches({ columns: ['id', 'a b', 'count("my jets")'], ...(pushDown && { where: cuts.cuts }) })
          .pipe(reduce((n, b) => n + (pushDown ? b.length : 0), 0)),
      );
    expect(await count(true)).toBe(Number(expected.n));
    const columns = ['a b', 'c_customer_sk:', 'we"ird', 'back`tick', 'my jets'];
    const all = parquetSource([input]).batches({ columns });
    const passing = (b: EventBatch) => passMask(b, cuts.cuts).reduce((s, p) => s + p, 0);
    const passed = await lastValueFrom(all.pipe(reduce((n, b) => n + passing(b), 0)));
    expect(passed).toBe(Number(expected.n));
  });

  it('train on them as features and cut variables; the learned cuts.json skims what DuckDB selects', async () => {
    await initBackend('auto');
    const pipeline = toyPipeline({
      features: ['"a b"', '`c_customer_sk:`'],
      cuts: [
        { column: 'abs("a b")', op: '>' },
        { column: 'count(`my jets`)', op: '>' },
      ],
      training: { epochs: 1, batchSize: 1000, seed: 2 },
    });
    const source = parquetSource([input]);
    const trained = await trainSelection({ settings: pipeline, source, info: await source.describe() });
    const learned = toCutsFile(trained.model, null);
    expect(learned.cuts.map((c) => c.column)).toEqual(['abs("a b")', 'count(`my jets`)']);
    // A count is integer-valued: its cut is written as count >= n.
    expect(learned.cuts.map((c) => c.op)).toEqual(['>', '>=']);
    const [a, n] = learned.cuts.map((c) => (c.op === 'between' ? NaN : c.value));
    const [expected] = await sql(`SELECT count(*) AS n FROM '${input}'
      WHERE abs("a b") > '${a}'::DOUBLE AND len("my jets") >= '${n}'::DOUBLE`);
    const r = await runSkim({ inputs: [input], cuts: learned, outDir: join(dir, 'learned') });
    expect(r.eventsKept).toBe(Number(expected.n));
  });

  it('a gRPC projection takes any exact column name; a cut variable still needs quotes', () => {
    const schema = [
      { name: 'c_customer_sk:', type: 'int64' as const, list: false, nullable: false },
      { name: 'my jets', type: 'float32' as const, list: true, nullable: false },
    ];
    expect(() => checkColumns(schema, ['c_customer_sk:', 'my jets', 'count("my jets")'], 'the dataset')).not.toThrow();
    expect(() => checkColumns(schema, ['c_customer_sk'], 'the dataset')).toThrow(
      /column 'c_customer_sk' is not in the dataset/,
    );
  });

  it('a bad cut variable in a cuts file is named with the file and the cut index', async () => {
    const path = join(dir, 'bad cuts.json');
    const bad = {
      cuts: [
        { column: 'x', op: '>', value: 1 },
        { column: 'a b', op: '<', value: 2 },
      ],
    };
    await writeFile(path, JSON.stringify(bad));
    await expect(readCutsFile(path)).rejects.toThrow(
      `${path}: cuts[1].column: unexpected 'b' at 1:3; quote a name that is not an identifier: "a b"`,
    );
  });
});
