import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parquetSource } from '../../src/sources/parquet.js';
import { evaluateModel } from '../../src/eval/evaluate.js';
import { initBackend } from '../../src/training/backend.js';
import { trainSelection } from '../../src/training/trainer.js';
import { sql, tempDir } from '../parquet/helpers.js';
import { toyModel } from '../eval/helpers.js';
import { toyPipeline } from './toy.js';

let dir: string;
let cleanup: () => Promise<void>;
const training = { epochs: 1, batchSize: 512, seed: 1, shuffleBuffer: 0 };

beforeAll(async () => {
  await initBackend('auto');
  ({ dir, cleanup } = await tempDir());
});
afterAll(() => cleanup());

/** A 3000-event file in row groups of 1000 whose label column is `labelSql` (of i, the row). */
async function file(name: string, labelSql: string): Promise<string> {
  const path = join(dir, name);
  await sql(`COPY (SELECT (i % 7)::DOUBLE AS x, (i % 5)::DOUBLE AS y, ${labelSql} AS label, 1.0::DOUBLE AS weight
    FROM range(3000) t(i)) TO '${path}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  return path;
}

async function train(path: string, overrides: Record<string, unknown> = {}) {
  const source = parquetSource([path]);
  return trainSelection({ settings: toyPipeline({ training, ...overrides }), source, info: await source.describe() });
}

/** The error's row group, batch first row and event index (whole-file reads: the event is row first + event). */
function located(message: string): { rowGroup: number; first: number; event: number } {
  const m = /, row group (\d+), batch from row (\d+): label 'label' is .* at event (\d+) of that batch/.exec(message);
  expect(m, message).not.toBeNull();
  return { rowGroup: Number(m![1]), first: Number(m![2]), event: Number(m![3]) };
}

describe('labels', () => {
  for (const [what, labelSql, shown] of [
    ['null', 'CASE WHEN i = 1234 THEN NULL ELSE (i % 2)::INTEGER END', 'null or NaN'],
    ['NaN', "CASE WHEN i = 2345 THEN 'nan'::DOUBLE ELSE (i % 2)::DOUBLE END", 'null or NaN'],
    ['2', 'CASE WHEN i = 777 THEN 2 ELSE i % 2 END', '2'],
  ] as const) {
    it(`a ${what} label is refused, naming the file, row group, row and value`, async () => {
      const path = await file(`label-${what}.parquet`, labelSql);
      const e = (await train(path).catch((x: Error) => x)) as Error;
      expect(e).toBeInstanceOf(Error);
      // The bad row, as DuckDB numbers the file's rows.
      const [bad] = await sql(`SELECT file_row_number AS row FROM read_parquet('${path}', file_row_number = true)
        WHERE label IS NULL OR isnan(label::DOUBLE) OR label NOT IN (0, 1)`);
      expect(e.message.startsWith(`${path}, row group `)).toBe(true);
      expect(e.message).toContain(`label 'label' is ${shown} at event`);
      expect(e.message).toMatch(/a label must be boolean or 0\/1$/);
      const at = located(e.message);
      expect(at.first + at.event).toBe(Number(bad.row));
      // The row group is the batch's first row's, in groups of 1000.
      expect(at.rowGroup).toBe(Math.floor(at.first / 1000));
    });
  }

  it('eval refuses a label that is not 0/1 as training does (it counted it as background)', async () => {
    const path = await file('eval-label.parquet', 'CASE WHEN i = 2500 THEN 2 ELSE i % 2 END');
    const cuts = { cuts: [], score: null };
    const e = (await evaluateModel({
      source: parquetSource([path]),
      model: toyModel(),
      cuts,
      label: 'label',
      quiet: true,
    }).catch((x: Error) => x)) as Error;
    expect(e).toBeInstanceOf(Error);
    expect(e.message.startsWith(`${path}, row group `)).toBe(true);
    expect(e.message).toMatch(/a label must be boolean or 0\/1$/);
    const at = /batch from row (\d+): label 'label' is 2 at event (\d+)/.exec(e.message);
    expect(Number(at?.[1]) + Number(at?.[2])).toBe(2500);
  });

  it('booleans and 0/1 of any type are labels', async () => {
    const kinds = [
      ['bool', '(i % 2 = 1)'],
      ['float', '(i % 2)::FLOAT'],
      ['tiny', '(i % 2)::TINYINT'],
    ];
    for (const [name, labelSql] of kinds) {
      const r = await train(await file(`ok-${name}.parquet`, labelSql));
      expect(r.history).toHaveLength(1);
    }
  });

  it('a label or weight column that is also a feature or cut variable is refused', async () => {
    const path = await file('ok.parquet', 'i % 2');
    await expect(train(path, { features: ['x', 'label'] })).rejects.toThrow(
      "pipeline 'toy': the label column 'label' is also a feature ('label'); take it out of the features",
    );
    await expect(train(path, { cuts: [{ column: 'abs(weight)', op: '>' }] })).rejects.toThrow(
      "pipeline 'toy': the weight column 'weight' is also a cut variable ('abs(weight)'); take it out of the cuts",
    );
  });

  it('a label, weight or feature of a type diffskim does not read (a decimal) is named with its type', async () => {
    // SQL producers write `1.0` as a DECIMAL: the column is there, of a type diffskim does not read.
    const path = join(dir, 'decimal.parquet');
    await sql(`COPY (SELECT (i % 7)::DOUBLE AS x, (i % 5)::DOUBLE AS y, (i % 2)::INTEGER AS label,
      1.0 AS weight, (i % 3)::DECIMAL(9, 2) AS d FROM range(3000) t(i)) TO '${path}' (FORMAT parquet)`);
    const why = (key: string, column: string, type: string) =>
      `pipeline 'toy': ${key}: column '${column}' has type ${type}, ` +
      'which diffskim cannot read (numbers, booleans and lists of them only)';
    await expect(train(path)).rejects.toThrow(why('weight', 'weight', 'DECIMAL(2,1)'));
    await expect(train(path, { weight: undefined, features: ['x', 'd * 2'] })).rejects.toThrow(
      why('features[1]', 'd', 'DECIMAL(9,2)'),
    );
  });
});
