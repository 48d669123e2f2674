import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { tap } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runPipeline, type RunReport } from '../../src/pipeline/runPipeline.js';
import { loadPipeline } from '../../src/pipeline/load.js';
import { trainingSettings } from '../../src/pipeline/settings.js';
import type { CutsFile } from '../../src/selection/cutsFile.js';
import { parquetSource } from '../../src/sources/parquet.js';
import type { EventSource, ReadOptions } from '../../src/sources/types.js';
import { trainSelection } from '../../src/training/trainer.js';
import { toyPipelineYaml } from '../helpers/toyPipeline.js';
import { sql } from '../parquet/helpers.js';

/**
 * `preselection:` is applied before training (the source reads only the events that pass it) and
 * in the skim, as cuts.json's first cut, the cut flow's first step.
 */
const PRESELECTION = 'abs(y) < 3 && count(jet_pt) >= 1';
const SQL_PRESELECTION = 'abs(y) < 3 AND len(jet_pt) >= 1';
let dir: string;
let report: RunReport;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffskim-preselection-'));
  const yaml = toyPipelineYaml({
    events: 2000,
    training: '{ epochs: 2, batchSize: 1024, seed: 3 }',
    more: `preselection: "${PRESELECTION}"`,
  });
  await writeFile(join(dir, 'toy.yaml'), yaml);
  report = await runPipeline(join(dir, 'toy.yaml'), { outDir: join(dir, 'out') });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('preselection', () => {
  it('is the first cut of cuts.json, and the skim keeps the events of DuckDB WHERE with it', async () => {
    const cuts = JSON.parse(await readFile(join(dir, 'out', 'cuts.json'), 'utf8')) as CutsFile;
    expect(cuts.cuts[0]).toEqual({ column: PRESELECTION, op: '>', value: 0.5 });
    const [x, y] = cuts.cuts.slice(1).map((c) => (c.op === '>' ? c.value : NaN));
    const input = join(dir, 'toy.parquet');
    const [{ all, pre }] = await sql(
      `SELECT count(*) AS all, count(*) FILTER (${SQL_PRESELECTION}) AS pre FROM '${input}'`,
    );
    expect(Number(pre)).toBeLessThan(Number(all));
    const [{ n }] = await sql(
      `SELECT count(*) AS n FROM '${input}' WHERE ${SQL_PRESELECTION} AND x > '${x}'::DOUBLE AND y > '${y}'::DOUBLE`,
    );
    expect(report.eventsKept).toBe(Number(n));
    expect(report.eventsIn).toBe(Number(all));
    expect(report.eventsKept + report.eventsCut).toBe(report.eventsIn);
  });

  it("is the cut flow's first step", async () => {
    const evaluation = JSON.parse(await readFile(join(dir, 'out', 'eval.json'), 'utf8'));
    const steps = evaluation.cutFlow.map((r: { step: string }) => r.step);
    expect(steps[0]).toBe('all events');
    expect(steps[1]).toBe(PRESELECTION);
  });

  it('training reads only the events that pass it', async () => {
    const pipeline = await loadPipeline(join(dir, 'toy.yaml'));
    const plain = parquetSource([join(dir, 'toy.parquet')]);
    const info = await plain.describe();
    // Events of the first pass (the statistics pass, before the split).
    let passes = 0;
    let events = 0;
    const source: EventSource = {
      ...plain,
      batches: (o?: ReadOptions) => {
        const pass = passes++;
        return plain.batches(o).pipe(tap((b) => (events += pass === 0 ? b.length : 0)));
      },
    };
    await trainSelection({ settings: trainingSettings(pipeline, info), source, info });
    const [{ pre }] = await sql(`SELECT count(*) AS pre FROM '${join(dir, 'toy.parquet')}' WHERE ${SQL_PRESELECTION}`);
    expect(events).toBe(Number(pre));
  });

  it('must be a condition, and errors point at the character', async () => {
    const pipeline = await loadPipeline(join(dir, 'toy.yaml'));
    const source = parquetSource([join(dir, 'toy.parquet')]);
    const info = await source.describe();
    const train = (preselection: string, cuts = pipeline.cuts) =>
      trainSelection({ settings: { ...trainingSettings(pipeline, info), preselection, cuts }, source, info });
    await expect(train('abs(y)')).rejects.toThrow("preselection 'abs(y)' is a number, not a condition");
    await expect(train('abss(y) < 1')).rejects.toThrow(
      "pipeline 'toy': preselection: unknown function 'abss' at 1:1, did you mean 'abs'?",
    );
    await expect(train('y < 1', [pipeline.cuts[0], { ...pipeline.cuts[1], column: 'y + yy' }])).rejects.toThrow(
      "pipeline 'toy': cuts[1].column: unknown column 'yy' at 1:5; closest: y",
    );
  });
});
