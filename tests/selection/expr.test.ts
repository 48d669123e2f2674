import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EventBatch } from '../../src/batch/batch.js';
import { type HardCut, passMask } from '../../src/selection/cutsFile.js';
import { compileExpr, evaluate, ExprError, toSql } from '../../src/selection/expr/index.js';
import { exportCuts } from '../../src/selection/export.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { generateSamples } from '../../src/datasets/nanoSamples.js';
import { collect, sql, tempDir } from '../parquet/helpers.js';

/**
 * The batch evaluator against DuckDB running the SQL twin, event by event, on a NanoAOD-like file
 * (scripts/gen-samples.ts) with missing values added: null MET_pt, NaN MET_phi, null Jet lists
 * (as a whole), a boolean list Muon_tightId and a Muon_mass list.
 */
const EXPRESSIONS = [
  // numbers, columns, arithmetic, precedence, unary minus
  'MET_pt',
  'MET_pt * 2 - PV_npvs / 3',
  '-MET_pt + 1.5e1',
  '(MET_pt + MET_phi) * (MET_pt - MET_phi)',
  'MET_pt / (PV_npvs - PV_npvs)',
  // comparisons and logic, with missing values
  'MET_pt > 40',
  'MET_pt >= 40 && MET_phi < 0',
  '!(MET_pt > 40) || MET_phi == MET_phi',
  'MET_phi != 0',
  'HLT_IsoMu24 || HLT_Ele32_WPTight_Gsf',
  '!HLT_IsoMu24',
  // functions
  'abs(MET_phi)',
  'sqrt(MET_pt) + sqrt(MET_phi)',
  'log(MET_pt) + log(MET_phi) + log(PV_npvs - 20)',
  'exp(MET_phi) * cosh(MET_phi)',
  'sin(MET_phi) + cos(MET_phi) + atan2(MET_phi, MET_pt)',
  'min(MET_pt, 50, PV_npvs)',
  'max(MET_pt, MET_phi)',
  // indexing (0-based; missing past the end) and old cut variables
  'Jet_pt[1]',
  'abs(Jet_eta[0])',
  'count(Jet_pt)',
  'first(Jet_pt)',
  'abs(first(Muon_eta))',
  // reductions
  'sum(Jet_pt)',
  'min(Jet_eta)',
  'max(Jet_btagDeepFlavB)',
  'any(Muon_tightId)',
  'all(Jet_pt > 30)',
  'count(Muon_pt > 25 && Muon_tightId)',
  // element-wise masks
  'sum(Jet_pt[Jet_pt > 30 && abs(Jet_eta) < 2])',
  'count(Jet_btagDeepFlavB > 0.3)',
  'Jet_pt[Jet_btagDeepFlavB > 0.3][0]',
  'max(Jet_pt * cosh(Jet_eta))',
  'sum(Jet_pt[Jet_pt > MET_pt / 2])',
  'min(Jet_pt[abs(Jet_eta) > 1.5])',
  // physics helpers
  'deltaPhi(MET_phi, Jet_phi[0])',
  'deltaR(Jet_eta[0], Jet_phi[0], Jet_eta[1], Jet_phi[1])',
  'min(deltaR(Jet_eta, Jet_phi, Muon_eta[0], Muon_phi[0]))',
  'mass(Muon_pt, Muon_eta, Muon_phi, Muon_mass, 0, 1)',
  'mass(Jet_pt, Jet_eta, Jet_phi, Jet_mass, 0, 1) > 100 && pairPt(Jet_pt, Jet_phi, 0, 1) < 200',
  'mass(Muon_pt, Muon_eta, Muon_phi, 0.1057, 0, 1)',
  // nesting
  'count(Jet_pt > 30 && abs(Jet_eta) < 2.4) >= 4 && (sum(Jet_pt) > 300 || max(Jet_btagDeepFlavB) > 0.7)',
  'sqrt(max(sum(Jet_pt[Jet_pt > 25]), 1)) / min(Jet_eta[Jet_pt > 25])',
];

let dir: string;
let cleanup: () => Promise<void>;
let file: string;
let batch: EventBatch;

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  await generateSamples(join(dir, 'gen'), { files: 1, eventsPerFile: 1500, seed: 11 });
  file = join(dir, 'nano.parquet');
  await sql(`COPY (SELECT * REPLACE (
      CASE WHEN event % 7 = 0 THEN NULL ELSE MET_pt END AS MET_pt,
      CASE WHEN event % 11 = 0 THEN 'nan'::FLOAT ELSE MET_phi END AS MET_phi,
      CASE WHEN event % 13 = 0 THEN NULL ELSE Jet_pt END AS Jet_pt),
    list_transform(Muon_pfRelIso04_all, lambda x: x < 0.15) AS Muon_tightId,
    list_transform(Muon_pt, lambda x: 0.1057::FLOAT) AS Muon_mass
    FROM read_parquet('${join(dir, 'gen', 'ttbar', '*.parquet')}')) TO '${file}' (FORMAT parquet)`);
  ({ all: batch } = (await collect(parquetSource([file]).batches({ batchRows: 4096 }))) as { all: EventBatch });
});
afterAll(() => cleanup?.());

/** Equal within 1e-6 relative (float32 inputs), or both missing (NaN / NULL). */
function same(a: number, b: number | null): boolean {
  if (b === null || Number.isNaN(b)) return Number.isNaN(a);
  if (a === b) return true;
  return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
}

describe('expressions: the batch evaluator equals DuckDB running the SQL twin', () => {
  it.each(EXPRESSIONS)('%s', async (text) => {
    const expr = compileExpr(text, batch.schema);
    const values = evaluate(expr, batch);
    const rows = await sql(
      `SELECT (${toSql(expr)})::DOUBLE AS v FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`,
    );
    expect(rows.length).toBe(values.length);
    const got = rows.map((r) => (r.v === null ? null : Number(r.v as number | string)));
    const bad = got.findIndex((v, i) => !same(values[i], v));
    expect(bad < 0 ? null : { event: bad, batch: values[bad], sql: got[bad] }).toBeNull();
    // Not a constant: the expression tells events apart (so the comparison says something).
    expect(new Set(got.map(String)).size).toBeGreaterThan(1);
  });
});

describe('expression errors', () => {
  it('point at the character and suggest the closest name', () => {
    expect(() => compileExpr('abss(x)')).toThrow("unknown function 'abss' at 1:1, did you mean 'abs'?");
    expect(() => compileExpr('MET_pt > 1 && Jet_ptt[0] > 3', batch.schema)).toThrow(
      /unknown column 'Jet_ptt' at 1:15; closest: Jet_pt/,
    );
    expect(() => compileExpr('MET_pt >')).toThrow(ExprError);
    expect(() => compileExpr('Jet_pt', batch.schema)).toThrow(
      /'Jet_pt' is a list column, not one value per event at 1:1; use count\(Jet_pt\)/,
    );
    expect(() => compileExpr('count(MET_pt)', batch.schema)).toThrow(/count\(\) takes a list.*at 1:7/);
  });
});

describe('deeply nested expressions', () => {
  // Forms whose tree grows by one level per repetition: a chain, brackets, unary operators, calls.
  const nested: [string, (n: number) => string][] = [
    ['a chain of +', (n) => Array(n).fill('MET_pt').join(' + ')],
    ['brackets', (n) => `${'('.repeat(n)}MET_pt${')'.repeat(n)}`],
    ['unary minus', (n) => `${'-'.repeat(n)}MET_pt`],
    ['calls', (n) => `${'abs('.repeat(n)}MET_pt${')'.repeat(n)}`],
  ];
  it.each(nested)(
    '%s: 490 levels evaluate as DuckDB runs them; 10,000 are refused naming the limit',
    async (_, text) => {
      const expr = compileExpr(text(490), batch.schema);
      const values = evaluate(expr, batch);
      const rows = await sql(
        `SELECT (${toSql(expr)})::DOUBLE AS v FROM read_parquet('${file}', file_row_number = true) ORDER BY file_row_number`,
      );
      const got = rows.map((r) => (r.v === null ? null : Number(r.v as number | string)));
      expect(got.findIndex((v, i) => !same(values[i], v))).toBe(-1);
      // Deeper would overflow the stack of every step after parsing (and DuckDB's parser): refused.
      expect(() => compileExpr(text(10_000), batch.schema)).toThrow(ExprError);
      expect(() => compileExpr(text(10_000), batch.schema)).toThrow(/nested more than 500 levels deep at 1:\d+/);
    },
  );
});

describe('lists of one collection', () => {
  it('must have equal lengths: the batch names the columns and the entry, DuckDB the columns', async () => {
    const expr = compileExpr('count(Jet_pt > 30 && Muon_pt > 20)', batch.schema);
    // The first entry whose lists differ (Jet_pt null there is no mismatch: the result is null).
    const [{ row }] = await sql(
      `SELECT min(file_row_number) AS row FROM read_parquet('${file}', file_row_number = true)
       WHERE Jet_pt IS NOT NULL AND len(Jet_pt) <> len(Muon_pt)`,
    );
    expect(() => evaluate(expr, batch)).toThrow(
      new RegExp(`entry ${Number(row)}: lists of one collection differ in length \\(Jet_pt: \\d+; Muon_pt: \\d+\\)`),
    );
    await expect(sql(`SELECT ${toSql(expr)} FROM read_parquet('${file}')`)).rejects.toThrow(
      /lists of one collection differ in length \(Jet_pt, Muon_pt\)/,
    );
  });
});

describe('parameters', () => {
  it('$c takes its value when evaluated, in the batch and in SQL', async () => {
    const expr = compileExpr('count(Jet_pt > $c)', batch.schema);
    expect(expr.params).toEqual(['c']);
    const values = evaluate(expr, batch, { params: { c: 45 } });
    const rows = await sql(
      `SELECT ${toSql(expr, { params: { c: 45 } })} AS v FROM read_parquet('${file}', file_row_number = true)
       ORDER BY file_row_number`,
    );
    rows.forEach((r, i) => expect(same(values[i], r.v as number | null)).toBe(true));
    expect(() => evaluate(expr, batch)).toThrow("no value for parameter '$c' at 1:16");
  });
});

describe('canonical text', () => {
  it("keeps the old cut variables' text and prints what parses back to the same tree", () => {
    const old = [
      ['x'],
      ['abs(eta)'],
      ['count(jets)'],
      ['first(jets)'],
      ['abs( "a b" )', 'abs("a b")'],
      ['count(`c:`)', 'count("c:")'],
    ];
    for (const [text, canonical = text] of old) expect(compileExpr(text).text).toBe(canonical);
    for (const text of EXPRESSIONS) {
      const once = compileExpr(text).text;
      expect(compileExpr(once).text).toBe(once);
    }
    expect(compileExpr('a - (b - c) * -d').text).toBe('a - (b - c) * -d');
    expect(compileExpr('(a - b) - c').text).toBe('a - b - c');
  });
});

describe('skims with expression cuts', () => {
  const cuts: HardCut[] = [
    { column: 'count(Jet_pt > 30 && abs(Jet_eta) < 2)', op: '>', value: 2.5 },
    { column: 'HLT_IsoMu24 || HLT_Ele32_WPTight_Gsf || MET_pt > 60', op: '>', value: 0.5 },
    { column: 'sum(Jet_pt[Jet_pt > 30])', op: 'between', low: 150, high: 800 },
    { column: 'deltaR(Jet_eta[0], Jet_phi[0], Jet_eta[1], Jet_phi[1])', op: '>', value: 1 },
  ];
  // The same selection in DuckDB's SQL, written by hand (lists 1-based; phi differences wrapped once).
  const dphi = 'Jet_phi[1] - Jet_phi[2]';
  const wrapped = `CASE WHEN ${dphi} >= pi() THEN ${dphi} - 2 * pi() WHEN ${dphi} < -pi() THEN ${dphi} + 2 * pi() ELSE ${dphi} END`;
  const where = `len(list_filter(range(1, len(Jet_pt) + 1), lambda i: Jet_pt[i] > 30 AND abs(Jet_eta[i]) < 2)) > 2
    AND (HLT_IsoMu24 OR HLT_Ele32_WPTight_Gsf OR coalesce(MET_pt > 60, FALSE))
    AND coalesce(list_sum(list_filter(Jet_pt, lambda p: p > 30)), 0) > 150
    AND coalesce(list_sum(list_filter(Jet_pt, lambda p: p > 30)), 0) < 800
    AND sqrt((Jet_eta[1] - Jet_eta[2]) ** 2 + (${wrapped}) ** 2) > 1`;

  it('export to SQL; the other targets refuse an expression they do not translate, naming it', () => {
    const file = { cuts, score: null };
    expect(exportCuts(file, 'sql')).toContain('list_filter');
    expect(() => exportCuts(file, 'numpy')).toThrow(
      "cut variable 'count(Jet_pt > 30 && abs(Jet_eta) < 2)': --to numpy translates a column",
    );
    expect(() => exportCuts({ cuts: [cuts[3]], score: null }, 'rdf')).toThrow(/--to rdf translates a column/);
  });

  it("keep the events of DuckDB's WHERE, in DuckDB (the SQL twin) and in the batch evaluator", async () => {
    const expected = (await sql(`SELECT event FROM '${file}' WHERE ${where} ORDER BY event`)).map((r) =>
      String(r.event),
    );
    expect(expected.length).toBeGreaterThan(20);
    expect(expected.length).toBeLessThan(batch.length / 2);
    const r = await runSkim({ inputs: [file], cuts: { cuts, score: null }, outDir: join(dir, 'skim') });
    expect(r.eventsKept + r.eventsCut).toBe(r.eventsIn);
    const skimmed = await sql(`SELECT event FROM '${r.skimFiles[0]}' ORDER BY event`);
    expect(skimmed.map((x) => String(x.event))).toEqual(expected);
    const mask = passMask(batch, cuts);
    const events = batch.columns.event.values as BigInt64Array;
    const passed = [...events.filter((_, i) => mask[i] === 1)].sort((a, b) => (a < b ? -1 : 1)).map(String);
    expect(passed).toEqual(expected);
  });
});
