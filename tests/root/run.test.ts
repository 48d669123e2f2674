import { readFileSync, statSync } from 'node:fs';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { NANO } from './reference.js';

/** The NanoAOD pipeline end to end from ROOT: train, skim to Parquet, report with the ROOT bytes. */
describe('run on a ROOT source', () => {
  it('trains, writes the skim as Parquet and reports the ROOT file as bytesIn', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diffskim-root-run-'));
    const pipeline = parse(readFileSync('pipelines/nanoaod-skim.yaml', 'utf8'));
    pipeline.source.paths = [NANO];
    pipeline.training.epochs = 3;
    await writeFile(join(dir, 'nano.yaml'), stringify(pipeline));
    const report = await runPipeline(join(dir, 'nano.yaml'), { outDir: join(dir, 'out') });
    expect(report.eventsIn).toBe(200);
    expect(report.eventsKept + report.eventsCut).toBe(200);
    expect(report.bytesIn).toBe(statSync(NANO).size);
    expect(report.bytesOut).toBe(statSync(report.skimFiles[0]).size);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = await db.runAndReadAll(
      `SELECT count(*), count(DISTINCT event) FROM read_parquet('${report.skimFiles[0]}')`,
    );
    expect(rows.getRows()[0].map(Number)).toEqual([report.eventsKept, report.eventsKept]);
    const columns = (await db.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${report.skimFiles[0]}')`))
      .getRows()
      .map((r) => String(r[0]));
    expect(columns).toEqual(pipeline.skim.keep);
    // Every kept event passes the learned cuts (written by hand in SQL here).
    const [met, jet] = report.cuts.cuts as { value: number }[];
    const failing = await db.runAndReadAll(
      `SELECT count(*) FROM read_parquet('${report.skimFiles[0]}') WHERE NOT (MET_pt > ${met.value} AND Jet_pt[1] > ${jet.value})`,
    );
    expect(Number(failing.getRows()[0][0])).toBe(0);
  });
});
