import { execFile } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { beforeAll, describe, expect, it } from 'vitest';
import { runPipeline, type RunReport } from '../../src/pipeline/runPipeline.js';

const run = promisify(execFile);

/** A skim with a classifier score cut: `diffskim skim --model` gives the rows `diffskim run` wrote. */
describe('skim with a score cut', () => {
  let dir: string;
  let report: RunReport;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-score-'));
    await writeFile(
      join(dir, 'toy.yaml'),
      `name: toy
source: { kind: parquet, paths: [toy.parquet], generate: toy2d, generateEvents: 4000 }
label: label
features: [x, y]
cuts: [{ column: x, op: ">" }]
training: { epochs: 3, batchSize: 2048, seed: 5 }
loss: { size: { lambda: 0.3 } }
skim: { scoreCut: 0.5 }
`,
    );
    report = await runPipeline(join(dir, 'toy.yaml'), { outDir: join(dir, 'run') });
  });

  it('applies sigmoid(MLP) > value after the hard cuts, as the run did', async () => {
    expect(report.cuts.score).toEqual({ op: '>', value: 0.5 });
    expect(report.eventsKept).toBeGreaterThan(0);
    expect(report.eventsKept).toBeLessThan(report.eventsIn);
    const bin = join(process.cwd(), 'bin', 'diffskim.mjs');
    await run(process.execPath, [
      bin,
      '-q',
      'skim',
      '--cuts',
      join(dir, 'run', 'cuts.json'),
      '--model',
      join(dir, 'run'),
      '--input',
      join(dir, 'toy.parquet'),
      '--output',
      join(dir, 'cli'),
    ]);
    const db = await (await DuckDBInstance.create(':memory:')).connect();
    const count = async (sql: string) => Number((await db.runAndReadAll(sql)).getRows()[0][0]);
    const a = `read_parquet('${report.skimFiles[0]}')`;
    const b = `read_parquet('${join(dir, 'cli', 'toy.skim.parquet')}')`;
    expect(await count(`SELECT count(*) FROM ${b}`)).toBe(report.eventsKept);
    expect(await count(`SELECT count(*) FROM (SELECT * FROM ${a} EXCEPT ALL SELECT * FROM ${b})`)).toBe(0);
    expect(await count(`SELECT count(*) FROM (SELECT * FROM ${b} EXCEPT ALL SELECT * FROM ${a})`)).toBe(0);
  });

  it('refuses a score cut without the model, saying what to give', async () => {
    const bin = join(process.cwd(), 'bin', 'diffskim.mjs');
    const err = await run(process.execPath, [
      bin,
      '-q',
      'skim',
      '--cuts',
      join(dir, 'run', 'cuts.json'),
      '--input',
      join(dir, 'toy.parquet'),
      '--output',
      join(dir, 'cli2'),
    ]).catch((e) => e);
    expect(err.code).toBe(1);
    expect(err.stderr).toMatch(/--model/);
  });
});
