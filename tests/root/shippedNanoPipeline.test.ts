import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { afterAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runPipeline } from '../../src/pipeline/runPipeline.js';
import { referenceRead } from './reference.js';

const FILE = 'data/root/nanoAOD_2015_CMS_Open_Data_ttbar.root';
let dir: string | undefined;
afterAll(() => (dir ? rm(dir, { recursive: true, force: true }) : undefined));

/** The shipped NanoAOD pipeline runs as it is from a copy of the repository's pipelines/ and data/root/. */
describe('pipelines/nanoaod-skim.yaml', () => {
  it('runs from a clone and its skim keeps exactly the events jsroot reads as passing the cuts', async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-nano-pipeline-'));
    await cp('data/root', join(dir, 'data/root'), { recursive: true });
    // Only the epochs change (to keep the test short); the paths are the shipped ones.
    const pipeline = parse(await readFile('pipelines/nanoaod-skim.yaml', 'utf8'));
    pipeline.training.epochs = 3;
    await mkdir(join(dir, 'pipelines'));
    await writeFile(join(dir, 'pipelines/nanoaod-skim.yaml'), stringify(pipeline));
    const report = await runPipeline(join(dir, 'pipelines/nanoaod-skim.yaml'), { outDir: join(dir, 'out') });

    const ref = await referenceRead(join(dir, FILE), 'Events', ['event', 'MET_pt', 'Jet_pt']);
    const [met, jet] = report.cuts.cuts as { column: string; value: number }[];
    expect([met.column, jet.column]).toEqual(['MET_pt', 'first(Jet_pt)']);
    const passing = ref.event.filter((_, i) => {
      const jets = ref.Jet_pt[i] as number[];
      return (ref.MET_pt[i] as number) > met.value && jets.length > 0 && jets[0] > jet.value;
    });
    expect(report.eventsIn).toBe(ref.event.length);
    expect(report.eventsKept).toBe(passing.length);
    expect(report.eventsKept + report.eventsCut).toBe(report.eventsIn);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const rows = await db.runAndReadAll(`SELECT event FROM read_parquet('${report.skimFiles[0]}') ORDER BY event`);
    expect(rows.getRows().map((r) => Number(r[0]))).toEqual(passing.map(Number).sort((a, b) => a - b));
  });
});
