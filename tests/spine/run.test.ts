import { mkdir, mkdtemp, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPipeline, type RunReport } from '../../src/pipeline/runPipeline.js';
import { loadModel } from '../../src/model/io.js';
import { toyPipelineYaml } from '../helpers/toyPipeline.js';

/** End to end on a small toy: generate -> train -> cuts.json -> skim -> report, checked with DuckDB SQL. */
describe('run: the spine end to end', () => {
  let dir: string;
  let report: RunReport;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-spine-'));
    await writeFile(
      join(dir, 'toy.yaml'),
      toyPipelineYaml({
        events: 6000,
        training: '{ epochs: 4, batchSize: 2048, learningRate: 0.02, seed: 3, shuffleBuffer: 8192 }',
        loss: '{ kind: bce, size: { lambda: 0.5 } }',
      }),
    );
    // What a killed earlier run left in the folder: temporary files whose writer is gone.
    await mkdir(join(dir, 'out', 'skim'), { recursive: true });
    await writeFile(join(dir, 'out', 'report.json.tmp-999999999-0a1b2c3d'), '{');
    await writeFile(join(dir, 'out', 'skim', 'toy.skim.parquet.tmp-999999999-0a1b2c3d'), 'PAR1');
    report = await runPipeline(join(dir, 'toy.yaml'), { outDir: join(dir, 'out') });
  });

  it('writes the run folder of the CLI contract', async () => {
    const out = join(dir, 'out');
    const names = await readdir(out);
    for (const f of ['cuts.json', 'model', 'skim', 'report.json', 'loss.png', 'cuts.png']) expect(names).toContain(f);
    expect(names.some((n) => n.includes('.tmp-'))).toBe(false);
    expect((await readdir(join(out, 'skim'))).some((n) => n.includes('.tmp-'))).toBe(false);
    const onDisk = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(onDisk.eventsIn).toBe(report.eventsIn);
    for (const key of [
      'inputs',
      'skimFiles',
      'eventsIn',
      'eventsKept',
      'bytesIn',
      'bytesOut',
      'bytesSaved',
      'bytesSavedByRows',
      'bytesSavedByColumns',
      'bytesSavedByEncoding',
      'columnsNotWritten',
      'keptFractionPredicted',
      'keptFractionActual',
      'signalEfficiency',
      'backgroundEfficiency',
      'auc',
      'backend',
      'timings',
    ])
      expect(onDisk).toHaveProperty(key);
    const model = await loadModel(join(out, 'model'));
    expect(model.cuts.map((c) => c.column)).toEqual(['x', 'y']);
  });

  it('keeps exactly the rows that pass cuts.json, as DuckDB SQL selects them', async () => {
    const cuts = JSON.parse(await readFile(join(dir, 'out', 'cuts.json'), 'utf8'));
    expect(cuts.score).toBeNull();
    const where = cuts.cuts
      .map((c: { column: string; op: string; value: number }) => `"${c.column}" ${c.op} ${c.value}`)
      .join(' AND ');
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const ids = async (sql: string) => (await db.runAndReadAll(sql)).getRows().map((r) => String(r[0]));
    const expected = await ids(
      `SELECT event_id FROM read_parquet('${join(dir, 'toy.parquet')}') WHERE ${where} ORDER BY event_id`,
    );
    const got = await ids(`SELECT event_id FROM read_parquet('${report.skimFiles[0]}') ORDER BY event_id`);
    expect(got).toEqual(expected);
    expect(got.length).toBe(report.eventsKept);
    // Passenger columns came along unchanged.
    const diff = await db.runAndReadAll(
      `SELECT count(*) FROM read_parquet('${report.skimFiles[0]}') s JOIN read_parquet('${join(dir, 'toy.parquet')}') t USING (event_id)
       WHERE s.x IS DISTINCT FROM t.x OR s.jet_pt IS DISTINCT FROM t.jet_pt OR s.label IS DISTINCT FROM t.label`,
    );
    expect(Number(diff.getRows()[0][0])).toBe(0);
  });

  it('reports counts that add up and bytes that are what is on disk', async () => {
    expect(report.eventsIn).toBe(12_000);
    expect(report.eventsKept + report.eventsCut).toBe(report.eventsIn);
    expect(report.bytesIn).toBe((await stat(join(dir, 'toy.parquet'))).size);
    const outSizes = await Promise.all(report.skimFiles.map((f) => stat(f).then((s) => s.size)));
    expect(report.bytesOut).toBe(outSizes.reduce((a, b) => a + b, 0));
    expect(report.bytesSaved).toBe(report.bytesIn - report.bytesOut);
    expect(report.keptFractionActual).toBeCloseTo(report.eventsKept / report.eventsIn, 12);
  });

  it('learns a selection: the size term makes the cuts cut, and signal is kept preferentially', () => {
    expect(report.eventsKept).toBeLessThan(report.eventsIn);
    expect(report.signalEfficiency!).toBeGreaterThan(report.backgroundEfficiency!);
    expect(report.auc!).toBeGreaterThan(0.9);
  });
});
