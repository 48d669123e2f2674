import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom, toArray } from 'rxjs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toyBatches } from '../../src/datasets/toy.js';
import { hardCutPass } from '../../src/model/score.js';
import { toCutsFile } from '../../src/model/toCutsFile.js';
import { cutsToSql, passMask } from '../../src/selection/cutsFile.js';
import { sql } from '../parquet/helpers.js';
import { valuesOf } from '../../src/selection/expr/index.js';
import { parquetSink } from '../../src/sinks/parquetSink.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { type TrainResult, trainSelection } from '../../src/training/trainer.js';
import { toyPipeline } from './toy.js';

/**
 * Cuts on derived quantities (abs(x), count(list), first(list)) trained end to end from a
 * Parquet file with a list column: signal events have more jets (jet_pt) and |x| near 1.5.
 */
describe('training cuts on derived quantities from Parquet', () => {
  let dir: string;
  let file: string;
  let trained: TrainResult;
  const cuts = [
    { column: 'abs(x)', op: '<' },
    { column: 'y', op: '>' },
    { column: 'count(jet_pt)', op: '>' },
    { column: 'first(jet_pt)', op: '>' },
  ];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'diffskim-derived-'));
    file = join(dir, 'toy.parquet');
    await lastValueFrom(
      from(toyBatches({ kind: 'toy2d', eventsPerClass: 3000, seed: 5, batchSize: 2000 })).pipe(
        parquetSink(file, { rowGroupRows: 1500 }),
      ),
    );
    const source = parquetSource([file]);
    const pipeline = toyPipeline({
      cuts,
      model: { kind: 'cuts' },
      loss: { kind: 'bce', size: { lambda: 0.3 } },
      training: { epochs: 5, batchSize: 500, learningRate: 0.05, seed: 2 },
    });
    trained = await trainSelection({ settings: pipeline, source, info: await source.describe() });
  });

  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('learns finite thresholds that move in the useful direction and separate the classes', () => {
    const [absX, y, count, first] = trained.model.cuts;
    for (const c of trained.model.cuts) expect(Number.isFinite(c.value)).toBe(true);
    // The cuts start open (at the 1 % and 99 % quantiles: |x| < ~7.5, y > ~-6, count > 0) and
    // tighten: |x| from above, y and the jet count from below.
    expect(absX.value!).toBeLessThan(6);
    expect(y.value!).toBeGreaterThan(-3);
    expect(count.value!).toBeGreaterThan(0.5);
    expect(first.column).toBe('first(jet_pt)');
    expect(trained.validationAuc).toBeGreaterThan(0.7);
  });

  it('the learned hard cuts select the same events from the file as cuts.json, and empty lists fail first()', async () => {
    const batches = await lastValueFrom(parquetSource([file]).batches().pipe(toArray()));
    const file_ = toCutsFile(trained.model, null);
    const kept = [0, 0];
    const total = [0, 0];
    let emptyKept = 0;
    for (const b of batches) {
      const pass = hardCutPass(trained.model, b);
      expect(Array.from(pass)).toEqual(Array.from(passMask(b, file_.cuts)));
      const jets = valuesOf(b, 'count(jet_pt)');
      const label = valuesOf(b, 'label');
      pass.forEach((p, i) => {
        kept[label[i]] += p;
        total[label[i]]++;
        if (jets[i] === 0) emptyKept += p;
      });
    }
    const [background, signal] = [kept[0] / total[0], kept[1] / total[1]];
    expect(signal).toBeGreaterThan(0.3);
    expect(signal).toBeGreaterThan(2 * background);
    expect(emptyKept).toBe(0);
  });

  it('the count cut is written as an integer cut selecting what the hard limit of the soft cut selects (DuckDB)', async () => {
    const count = trained.model.cuts[2];
    expect(count.integer).toBe(true);
    expect(trained.model.cuts.filter((c) => c.integer)).toEqual([count]);
    const written = toCutsFile(trained.model, null).cuts[2];
    expect(written).toEqual({ column: 'count(jet_pt)', op: '>=', value: Math.floor(count.value!) + 1 });
    // The hard limit of the soft cut: count(jet_pt) > the learned threshold, in DuckDB's own SQL.
    const soft = `len(jet_pt) > ${count.value!}`;
    const [expected] = await sql(`SELECT count(*) AS n, sum(event_id) AS ids FROM '${file}' WHERE ${soft}`);
    const [actual] = await sql(
      `SELECT count(*) AS n, sum(event_id) AS ids FROM '${file}' WHERE ${cutsToSql([written])}`,
    );
    expect(actual).toEqual(expected);
    expect(Number(actual.n)).toBeGreaterThan(0);
  });
});
