import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { lastValueFrom, toArray } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { runSummary } from '../../src/cli/commands/run.js';
import { localServerOptions } from '../../src/grpc/localBackends.js';
import { startServer } from '../../src/grpc/server.js';
import { loadModel } from '../../src/model/io.js';
import { mlpScore } from '../../src/model/score.js';
import { runPipeline, type RunReport } from '../../src/pipeline/runPipeline.js';
import { cutsToSql } from '../../src/selection/cutsFile.js';
import { runSkim, type SkimResult } from '../../src/skim/runSkim.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { NANO } from '../root/reference.js';

/**
 * Column selection end to end on toy6d (issue #23): informative x and y, pure-noise n1..n4, the
 * passengers event_id and jet_pt pinned. The gated run is checked against a run on the
 * informative features alone (its AUC), against the rows-only skim of the same cuts (its bytes;
 * same events, so the same signal efficiency), and against DuckDB's own reading of the skim.
 */
const PINNED = ['event_id', 'jet_pt'];
const CANDIDATES = ['x', 'y', 'n1', 'n2', 'n3', 'n4'];

const TOY = '{ kind: parquet, paths: [toy6d.parquet], generate: toy6d, generateEvents: 8000 }';

function yaml(features: string[], select: boolean, source = TOY): string {
  return [
    'name: columns',
    `source: ${source}`,
    'label: label',
    'weight: weight',
    `features: [${features.join(', ')}]`,
    'cuts: [{ column: x, op: ">" }, { column: y, op: ">" }]',
    'training: { epochs: 8, batchSize: 1024, learningRate: 0.01, seed: 7, slopeSchedule: { start: 1, end: 8 } }',
    'loss: { kind: bce, size: { lambda: 0.3 } }',
    ...(select ? ['columns: { select: true }'] : []),
    `skim: { keep: [${(select ? PINNED : [...PINNED, ...CANDIDATES]).join(', ')}] }`,
  ].join('\n');
}

describe('column selection on toy6d', () => {
  let dir: string;
  let gated: RunReport;
  let informative: RunReport;
  let rowsOnly: SkimResult;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-columns-'));
    await writeFile(join(dir, 'gated.yaml'), yaml(CANDIDATES, true));
    await writeFile(join(dir, 'informative.yaml'), yaml(['x', 'y'], false));
    gated = await runPipeline(join(dir, 'gated.yaml'), { outDir: join(dir, 'gated') });
    informative = await runPipeline(join(dir, 'informative.yaml'), { outDir: join(dir, 'informative') });
    rowsOnly = await runSkim({
      inputs: [join(dir, 'toy6d.parquet')],
      cuts: gated.cuts,
      outDir: join(dir, 'rows-only'),
      keep: [...PINNED, ...CANDIDATES],
    });
  }, 180_000);

  it('closes the noise gates, keeps the informative ones, and matches the informative-only AUC', () => {
    expect(gated.columns!.kept).toEqual(['x', 'y']);
    const dropped = gated.columns!.dropped.filter((d) => d.candidate).map((d) => d.column);
    expect(dropped.sort()).toEqual(['n1', 'n2', 'n3', 'n4']);
    expect(Math.abs(gated.auc! - informative.auc!)).toBeLessThan(0.005);
    expect(gated.warnings.some((w) => w.includes('fused kernel has no column gates'))).toBe(true);
    expect(runSummary(gated, 'out')).toMatch(/columns: +kept x, y; gates closed on n1 \(.*\), n2 /);
  });

  it('writes pinned + kept columns, the events DuckDB keeps with the cuts, in fewer bytes than rows-only', async () => {
    const db = await DuckDBInstance.create();
    const con = await db.connect();
    const skim = join(dir, 'gated', 'skim', 'toy6d.skim.parquet');
    const columns = (await con.runAndReadAll(`DESCRIBE SELECT * FROM '${skim}'`)).getRows().map((r) => r[0]);
    expect(columns.sort()).toEqual([...PINNED, 'x', 'y'].sort());
    const where = cutsToSql(gated.cuts.cuts);
    const expected = Number(
      (await con.runAndReadAll(`SELECT count(*) FROM '${join(dir, 'toy6d.parquet')}' WHERE ${where}`)).getRows()[0][0],
    );
    expect(gated.eventsKept).toBe(expected);
    expect(gated.eventsIn).toBe(gated.eventsKept + gated.eventsCut);
    // The same events: the same signal efficiency, and the skim is smaller by the noise columns.
    expect(rowsOnly.eventsKept).toBe(gated.eventsKept);
    expect(gated.bytesOut).toBeLessThan(rowsOnly.bytesOut);
    const noiseBytes = gated.columns!.dropped.filter((d) => d.candidate).reduce((s, d) => s + d.bytes, 0);
    expect(gated.bytesSavedByColumns).toBeGreaterThanOrEqual(noiseBytes);
    con.closeSync();
  });

  it('predicts the skim bytes on disk within 5 %', () => {
    const predicted = gated.columns!.predicted.bytesOut;
    expect(Math.abs(predicted / gated.bytesOut - 1)).toBeLessThan(0.05);
  });

  it('saves a model that reads only the kept columns and records the choice', async () => {
    const model = await loadModel(join(dir, 'gated', 'model'));
    expect(model.features).toEqual(['x', 'y']);
    expect(model.gates).toBeUndefined();
    expect(model.columnChoice).toEqual({ candidates: CANDIDATES, kept: ['x', 'y'], dropped: ['n1', 'n2', 'n3', 'n4'] });
    // The skim, which has no noise columns, can be scored with it.
    const skim = join(dir, 'gated', 'skim', 'toy6d.skim.parquet');
    const batches = await lastValueFrom(
      parquetSource([skim])
        .batches({ columns: ['x', 'y'] })
        .pipe(toArray()),
    );
    const scores = batches.flatMap((b) => Array.from(mlpScore(model, b)));
    expect(scores.length).toBe(gated.eventsKept);
    expect(scores.every((s) => s >= 0 && s <= 1)).toBe(true);
    const report = JSON.parse(await readFile(join(dir, 'gated', 'report.json'), 'utf8'));
    expect(report.plots.some((p: string) => p.endsWith('gates.png'))).toBe(true);
    const html = await readFile(join(dir, 'gated', 'report.html'), 'utf8');
    expect(html).toContain('<h3>Columns</h3>');
    expect(html).toMatch(/<td>n1<\/td><td>[^<]+<\/td><td>gate closed<\/td>/);
  });

  it('learns the same columns and model from the file served over gRPC', async () => {
    const server = await startServer({ dataRoots: [dir], ...(await localServerOptions()) });
    try {
      const source = `{ kind: grpc, address: "127.0.0.1:${server.port}", paths: [toy6d.parquet] }`;
      await writeFile(join(dir, 'grpc.yaml'), yaml(CANDIDATES, true, source));
      const remote = await runPipeline(join(dir, 'grpc.yaml'), { outDir: join(dir, 'grpc') });
      expect(remote.columns!.kept).toEqual(gated.columns!.kept);
      expect(remote.eventsKept).toBe(gated.eventsKept);
      for (const file of ['model/model.json', 'model/weights.bin']) {
        const [a, b] = await Promise.all([readFile(join(dir, 'gated', file)), readFile(join(dir, 'grpc', file))]);
        expect(b.equals(a), file).toBe(true);
      }
      const con = await (await DuckDBInstance.create()).connect();
      const written = (await con.runAndReadAll(`DESCRIBE SELECT * FROM '${remote.skimFiles[0]}'`)).getRows();
      expect(written.map((r) => String(r[0])).sort()).toEqual([...PINNED, 'x', 'y'].sort());
    } finally {
      await server.close(500);
    }
  }, 120_000);
});

describe('column selection on a ROOT source', () => {
  it('skims the pinned branches (a pattern) and the kept candidates, and the model reads only those', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diffskim-columns-root-'));
    const pipeline = parse(await readFile('pipelines/nanoaod-skim.yaml', 'utf8'));
    pipeline.source.paths = [NANO];
    pipeline.training.epochs = 3;
    pipeline.skim.keep = ['run', 'event', 'Muon_*'];
    pipeline.columns = { select: true };
    await writeFile(join(dir, 'nano.yaml'), stringify(pipeline));
    const report = await runPipeline(join(dir, 'nano.yaml'), { outDir: join(dir, 'out') });
    expect(report.eventsKept + report.eventsCut).toBe(200);
    const c = report.columns!;
    expect(c.pinned.slice(0, 2)).toEqual(['run', 'event']);
    expect(c.pinned.length).toBeGreaterThan(3);
    expect(c.pinned.slice(2).every((m) => m.startsWith('Muon_'))).toBe(true);
    // count(Muon_pt) reads a pinned branch: no gate; the other features' columns are the candidates.
    expect(c.candidates.sort()).toEqual(['Jet_pt', 'MET_pt', 'PV_npvs']);
    const con = await (await DuckDBInstance.create()).connect();
    const written = (await con.runAndReadAll(`DESCRIBE SELECT * FROM '${report.skimFiles[0]}'`)).getRows();
    expect(written.map((r) => String(r[0])).sort()).toEqual([...c.pinned, ...c.kept].sort());
    const model = await loadModel(join(dir, 'out', 'model'));
    for (const f of model.features)
      expect([...c.pinned, ...c.kept].some((col) => f === col || f.includes(`(${col})`))).toBe(true);
    expect(c.predicted.bytesOut).toBeGreaterThan(0);
  }, 120_000);
});
