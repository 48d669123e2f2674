import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch } from '../../src/batch/batch.js';
import type { Field } from '../../src/batch/schema.js';
import { integerValued } from '../../src/selection/integerValued.js';
import {
  CUTS_FILE_VERSION,
  CutsFileError,
  cutsFileJsonSchema,
  cutsToSql,
  type HardCut,
  integerCut,
  passMask,
  readCutsFile,
} from '../../src/selection/cutsFile.js';
import { sql, tempDir } from '../parquet/helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
beforeAll(async () => ({ dir, cleanup } = await tempDir()));
afterAll(() => cleanup());

async function written(name: string, json: unknown): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, typeof json === 'string' ? json : JSON.stringify(json));
  return path;
}

describe('cuts.json schema', () => {
  it('schemas/cuts.schema.json is what the zod schema generates (npx tsx scripts/gen-cuts-schema.ts)', async () => {
    const file = JSON.parse(await readFile(new URL('../../schemas/cuts.schema.json', import.meta.url), 'utf8'));
    expect(file).toEqual(cutsFileJsonSchema());
    expect(file.properties.version.maximum).toBe(CUTS_FILE_VERSION);
  });

  it('reads version 1 files (no version field) and version 2 files with integer ops', async () => {
    const v1 = { cuts: [{ column: 'x', op: '>', value: 0.5 }], score: null };
    expect(await readCutsFile(await written('v1.json', v1))).toEqual(v1);
    const v2 = {
      version: 2,
      cuts: [
        { column: 'count(jets)', op: '>=', value: 2 },
        { column: 'n', op: '<=', value: 3 },
        { column: 'flag', op: '==', value: 1 },
        { column: 'y', op: 'between', low: -1, high: 1 },
      ],
    };
    expect(await readCutsFile(await written('v2.json', v2))).toEqual({ ...v2, score: null });
  });

  it('refuses bad files naming the file, the cut index and the field', async () => {
    const bad = async (json: unknown) => {
      const path = await written('bad.json', json);
      const e = await readCutsFile(path).catch((x: unknown) => x);
      expect(e).toBeInstanceOf(CutsFileError);
      expect((e as Error).message.startsWith(`${path}: `)).toBe(true);
      return (e as Error).message.slice(path.length + 2);
    };
    const cuts = (...extra: unknown[]) => ({ cuts: [{ column: 'x', op: '>', value: 1 }, ...extra] });
    expect(await bad(cuts({ column: 'x', op: '=>', value: 1 }))).toBe(
      "cuts[1].op: Invalid discriminator value. Expected '>' | '<' | '>=' | '<=' | '==' | 'between'",
    );
    expect(await bad(cuts({ column: 'x', op: '>=', value: 'two' }))).toMatch(/^cuts\[1\]\.value: /);
    expect(await bad(cuts({ column: 'x', op: 'between', low: 1 }))).toMatch(/^cuts\[1\]\.high: /);
    expect(await bad(cuts({ column: 'x', op: '>', value: 1, extra: 1 }))).toMatch(/^cuts\[1\]: .*extra/);
    expect(await bad(cuts({ column: 'abs(x', op: '>', value: 1 }))).toMatch(/^cuts\[1\]\.column: /);
    expect(await bad({ ...cuts(), version: 3 })).toBe(
      `cuts file version 3 is newer than this diffskim reads (up to ${CUTS_FILE_VERSION}); update diffskim`,
    );
    expect(await bad({ ...cuts(), version: 0 })).toMatch(/^version: /);
    expect(await bad('{"cuts": [')).toMatch(/^cannot read cuts file: /);
  });
});

describe('integer cuts', () => {
  it('an integer-valued cut variable is known from the column types and the expression, not the data', () => {
    const schema: Field[] = [
      { name: 'n', type: 'int32', list: false, nullable: false },
      { name: 'flag', type: 'bool', list: false, nullable: false },
      { name: 'met', type: 'float32', list: false, nullable: false },
      { name: 'Jet_pt', type: 'float32', list: true, nullable: false },
      { name: 'Jet_id', type: 'int32', list: true, nullable: false },
      { name: 'a b', type: 'int64', list: false, nullable: false },
    ];
    const integer = ['n', 'flag', 'a b', 'count(Jet_pt)', 'count(Jet_pt > $c)', 'count(Jet_pt > 30) + n', 'abs(n - 3)'];
    integer.push('first(Jet_id)', 'sum(Jet_id[Jet_pt > 30])', 'met > 30', '!flag', 'max(n, 2)', 'Jet_id[1]');
    for (const text of integer) expect(integerValued(schema, text), text).toBe(true);
    const real = ['met', 'first(Jet_pt)', 'sum(Jet_pt[Jet_pt > $c])', 'n / 2', 'n + 0.5', 'abs(met)', 'max(n, met)'];
    for (const text of real) expect(integerValued(schema, text), text).toBe(false);
  });

  // Integer values around the thresholds, and a null and NaN, which fail every cut.
  const n = Float64Array.from([-1, 0, 1, 2, 3, 4, 5, NaN, 2, 1]);
  const batch = makeBatch({ n }, { n: 'float64' });
  const table = `(SELECT * FROM (VALUES ${Array.from(n, (v) => (Number.isNaN(v) ? "('nan'::DOUBLE)" : `(${v}::DOUBLE)`)).join(', ')}) t(n))`;
  const cases: HardCut[] = [
    { column: 'n', op: '>', value: 1.37 },
    { column: 'n', op: '>', value: 2 },
    { column: 'n', op: '<', value: 2.5 },
    { column: 'n', op: '<', value: 2 },
    { column: 'n', op: 'between', low: 0.4, high: 1.6 },
    { column: 'n', op: 'between', low: 0.4, high: 3.2 },
    { column: 'n', op: 'between', low: 1, high: 3 },
    { column: 'n', op: 'between', low: 1.2, high: 1.8 },
    { column: 'n', op: '>', value: -Infinity },
    { column: 'n', op: '>=', value: 2 },
    { column: 'n', op: '<=', value: 2 },
    { column: 'n', op: '==', value: 2 },
  ];

  it('>, <, between on an integer variable become >=, <=, == or integer edges, selecting the same events', () => {
    expect(integerCut(cases[0])).toEqual({ column: 'n', op: '>=', value: 2 });
    expect(integerCut(cases[1])).toEqual({ column: 'n', op: '>=', value: 3 });
    expect(integerCut(cases[2])).toEqual({ column: 'n', op: '<=', value: 2 });
    expect(integerCut(cases[3])).toEqual({ column: 'n', op: '<=', value: 1 });
    expect(integerCut(cases[4])).toEqual({ column: 'n', op: '==', value: 1 });
    expect(integerCut(cases[5])).toEqual({ column: 'n', op: 'between', low: 0, high: 4 });
    for (const cut of cases)
      expect(Array.from(passMask(batch, [integerCut(cut)])), JSON.stringify(cut)).toEqual(
        Array.from(passMask(batch, [cut])),
      );
  });

  it('the batch mask and the SQL twin agree with DuckDB for every op, NaN failing', async () => {
    for (const cut of cases.map(integerCut)) {
      const rows = await sql(`SELECT (${cutsToSql([cut])}) AS pass FROM ${table}`);
      expect(
        rows.map((r) => (r.pass ? 1 : 0)),
        JSON.stringify(cut),
      ).toEqual(Array.from(passMask(batch, [cut])));
      // Independent of cutsToSql: DuckDB's own comparison, NaN excluded by hand.
      if (cut.op === 'between') continue;
      const op = cut.op === '==' ? '=' : cut.op;
      const value = Number.isFinite(cut.value) ? cut.value : `'${cut.value}'::DOUBLE`;
      const direct = await sql(`SELECT (n ${op} ${value} AND NOT isnan(n)) AS pass FROM ${table}`);
      expect(direct).toEqual(rows);
    }
  });
});
