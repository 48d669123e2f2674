import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline, type RunReport } from '../../src/pipeline/runPipeline.js';
import { sql, tempDir } from '../parquet/helpers.js';

/**
 * A pipeline on awkward-style records: a learned cut on first(Muon.pt) and the classifier input
 * MET.pt, both leaves of struct columns; its skim (in DuckDB) keeps the structs whole.
 */
describe('a pipeline on struct leaves', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let input: string;
  let report: RunReport;

  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    input = join(dir, 'events.parquet');
    // Signal (label 1) has harder muons and more MET; some events have no muon.
    await sql(`COPY (SELECT i::INTEGER AS id, (i % 2)::INTEGER AS label, 1.0::FLOAT AS weight,
        {'pt': ((CASE WHEN i % 2 = 1 THEN 60 ELSE 20 END) + hash(i) % 40)::FLOAT, 'phi': 0.5::FLOAT} AS MET,
        [{'pt': ((CASE WHEN i % 2 = 1 THEN 40 ELSE 15 END) + hash(i * 3 + k) % 30)::FLOAT, 'eta': 0.1::FLOAT} FOR k IN range(i % 3)] AS Muon
      FROM range(4000) t(i)) TO '${input}' (FORMAT parquet)`);
    await writeFile(
      join(dir, 'structs.yaml'),
      `name: structs
source: { kind: parquet, paths: [events.parquet] }
label: label
weight: weight
features: [MET.pt]
cuts: [{ column: "first(Muon.pt)", op: ">" }]
training: { epochs: 2, batchSize: 1024, learningRate: 0.02, seed: 3, shuffleBuffer: 4096 }
loss: { kind: bce, size: { lambda: 0.5 } }
`,
    );
    report = await runPipeline(join(dir, 'structs.yaml'), { outDir: join(dir, 'out') });
  }, 120_000);
  afterAll(() => cleanup());

  it('trains, and its skim keeps exactly the events DuckDB selects with every column, the structs intact', async () => {
    const cuts = JSON.parse(await readFile(join(dir, 'out', 'cuts.json'), 'utf8'));
    expect(cuts.cuts.map((c: { column: string }) => c.column)).toEqual(['first(Muon.pt)']);
    const value = cuts.cuts[0].value as number;
    expect(Number.isFinite(value)).toBe(true);
    const expected = await sql(
      `SELECT * FROM read_parquet('${input}') WHERE Muon[1].pt > '${value}'::DOUBLE ORDER BY id`,
    );
    expect(expected.length).toBeGreaterThan(0);
    expect(await sql(`SELECT * FROM read_parquet('${report.skimFiles[0]}') ORDER BY id`)).toEqual(expected);
    expect(report.eventsKept).toBe(expected.length);
    expect(report.columnsNotWritten).toEqual([]);
    expect(Number.isFinite(report.keptFractionPredicted)).toBe(true);
  });
});
