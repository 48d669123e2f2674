import { execFile, execFileSync } from 'node:child_process';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HardCut } from '../../src/selection/cutsFile.js';
import { exportCuts } from '../../src/selection/export.js';
import { compileExpr } from '../../src/selection/expr/index.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { toolMissing } from '../helpers/tools.js';
import { sql, tempDir } from '../parquet/helpers.js';

/**
 * Each export target selects exactly the events the skim keeps, on 10 cut sets over columns with
 * NaN, +-Inf and nulls, empty and null lists, and names that need quoting: the SQL in DuckDB, the
 * numpy expression and ServiceX's uproot cut in Debian's python3 with numpy.
 */
const run = promisify(execFile);
const PYTHON = '/usr/bin/python3';

const cutSets: HardCut[][] = [
  [{ column: 'x', op: '>', value: 0.5 }],
  [{ column: 'x', op: '>', value: -1.7976931348623157e308 }], // +Inf passes, -Inf, NaN and null fail
  [{ column: 'abs(x)', op: 'between', low: 0.2, high: 2 }],
  [
    { column: '"a b"', op: 'between', low: -3, high: 3 },
    { column: 'n', op: '<', value: 7 },
  ],
  [{ column: 'count(jets)', op: '>', value: 1.5 }],
  [{ column: 'count(jets)', op: '<', value: 2.5 }], // empty lists pass, null lists fail
  [{ column: 'first(jets)', op: '>', value: 0.3 }], // empty and null lists fail, and NaN entries
  [
    { column: 'first(`my jets`)', op: 'between', low: 0.5, high: 5 },
    { column: 'abs(`a b`)', op: '<', value: 4 },
  ],
  [
    { column: 'n', op: '>', value: 3 },
    { column: 'count("my jets")', op: '<', value: 3 },
    { column: 'x', op: '<', value: 2 },
  ],
  [],
];
/** Columns with null lists, which a ROOT file (ServiceX's input) cannot hold. */
const nullLists = ['jets'];

let dir: string;
let cleanup: () => Promise<void>;
let input: string;
const skimIds: number[][] = [];

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  input = join(dir, 'events.parquet');
  await sql(`COPY (SELECT i AS id,
      CASE i % 23 WHEN 0 THEN 'nan'::DOUBLE WHEN 1 THEN 'inf'::DOUBLE WHEN 2 THEN '-inf'::DOUBLE WHEN 3 THEN NULL
        ELSE ((hash(i) % 1000)::DOUBLE / 250 - 2) END AS x,
      (i % 17)::DOUBLE - 8 AS "a b", (i % 11)::INTEGER AS n,
      CASE WHEN i % 19 = 0 THEN NULL
        ELSE [CASE WHEN (i + j) % 13 = 0 THEN 'nan'::FLOAT ELSE ((hash(i * 7 + j) % 100) / 50.0)::FLOAT END
              FOR j IN range(i % 4)] END AS jets,
      [((hash(i + j) % 700) / 100.0)::DOUBLE FOR j IN range(i % 5)] AS "my jets"
    FROM range(3000) t(i)) TO '${input}' (FORMAT parquet, ROW_GROUP_SIZE 1000)`);
  for (const [i, cuts] of cutSets.entries()) {
    const r = await runSkim({
      inputs: [input],
      cuts: { cuts, score: null },
      outDir: join(dir, `skim${i}`),
    });
    expect(r.eventsIn).toBe(r.eventsKept + r.eventsCut);
    skimIds.push(await ids(r.skimFiles.length ? `SELECT id FROM '${r.skimFiles[0]}'` : 'SELECT 1 AS id WHERE false'));
  }
}, 120_000);
afterAll(() => cleanup());

async function ids(query: string): Promise<number[]> {
  return (await sql(`SELECT id FROM (${query}) ORDER BY id`)).map((r) => Number(r.id));
}

describe('export --to sql', () => {
  it('selects in DuckDB exactly the rows the skim keeps', async () => {
    for (const [i, cuts] of cutSets.entries()) {
      const where = exportCuts({ cuts, score: null }, 'sql');
      expect(await ids(`SELECT id FROM '${input}' WHERE ${where}`), `cut set ${i}: ${where}`).toEqual(skimIds[i]);
    }
    // The cut sets do tell events apart: every one but the empty set cuts some, and keeps some.
    for (const kept of skimIds.slice(0, -1)) expect(kept.length).toBeGreaterThan(50);
    for (const kept of skimIds.slice(0, -1)) expect(kept.length).toBeLessThan(3000);
  });
});

const pythonMissing = (() => {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy'], { stdio: 'ignore' });
    return null;
  } catch (e) {
    return `${PYTHON} with numpy: ${(e as Error).message}`;
  }
})();

describe.skipIf(toolMissing('python3 with numpy', pythonMissing))('export --to numpy and servicex, in Python', () => {
  it('select with numpy exactly the events the skim keeps', async () => {
    // The columns as DuckDB reads them, handed to Python as JSON (Python's json reads NaN and Infinity).
    const con = await (await DuckDBInstance.create(':memory:')).connect();
    const reader = await con.runAndReadAll(`SELECT * FROM '${input}'`);
    const columns: Record<string, { list: boolean; values: unknown[] }> = {};
    for (const [name, values] of Object.entries(reader.getColumnsObjectJS())) {
      columns[name] = { list: name === 'jets' || name === 'my jets', values };
    }
    con.closeSync();
    // ServiceX reads ROOT files, which have no null lists: its cut is checked on the other cut sets.
    const readsNullLists = (cuts: HardCut[]) =>
      cuts.some((c) => compileExpr(c.column).columns.some((x) => nullLists.includes(x)));
    const uproot = cutSets.map((cuts) => (readsNullLists(cuts) ? undefined : servicexCut(cuts)));
    const json = pythonJson({
      columns,
      numpy: cutSets.map((cuts) => exportCuts({ cuts, score: null }, 'numpy')),
      uproot: uproot.map((u) => u ?? null),
    });
    await writeFile(join(dir, 'input.json'), json);
    const { stdout } = await run(
      PYTHON,
      [join(import.meta.dirname, 'python/eval_export.py'), join(dir, 'input.json')],
      { maxBuffer: 1 << 26 },
    );
    const out = JSON.parse(stdout) as {
      numpy: number[][];
      uproot: number[][];
    };
    for (const [i, kept] of skimIds.entries()) {
      expect(out.numpy[i], `numpy, cut set ${i}`).toEqual(kept);
      if (uproot[i] !== undefined) expect(out.uproot[i], `uproot, cut set ${i}`).toEqual(kept);
    }
    expect(uproot.filter((u) => u !== undefined).length).toBeGreaterThanOrEqual(6);
  }, 60_000);
});

/** The `cut` of the ServiceX request file's uproot-raw query (null when it has none). */
function servicexCut(cuts: HardCut[]): string | null {
  const request = exportCuts({ cuts, score: null }, 'servicex', {
    servicex: { dataset: 'a:b', tree: 'Events' },
  });
  const query = /!UprootRaw \|\n\s*(.*)\n/.exec(request)![1];
  return (JSON.parse(query) as { cut?: string }[])[0].cut ?? null;
}

/** JSON with NaN and +-Infinity as Python's json module reads them, and bigints as numbers. */
function pythonJson(value: unknown): string {
  if (typeof value === 'number')
    return Number.isNaN(value) ? 'NaN' : Number.isFinite(value) ? String(value) : value > 0 ? 'Infinity' : '-Infinity';
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return `[${value.map(pythonJson).join(',')}]`;
  if (value !== null && typeof value === 'object')
    return `{${Object.entries(value)
      .map(([k, v]) => `${JSON.stringify(k)}:${pythonJson(v)}`)
      .join(',')}}`;
  return JSON.stringify(value);
}
