import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBatch } from '../../src/batch/batch.js';
import { evaluateModel, type Evaluation } from '../../src/eval/evaluate.js';
import { mlpScore, scoreBatch } from '../../src/model/score.js';
import type { CutsFile } from '../../src/selection/cutsFile.js';
import { parquetSource } from '../../src/sources/parquet.js';
import { exactAuc, sql, tempDir, toyEvents, toyModel, writeParquet } from './helpers.js';

/** The dataset as plain arrays, read back with a private DuckDB in file order. */
interface Rows {
  x: Float64Array;
  y: Float32Array;
  label: Uint8Array;
  weight: Float32Array;
  score: Float32Array;
  /** sigmoid(MLP): what cuts.json's score cut applies to. */
  mlp: Float32Array;
}

const CUTS: CutsFile = {
  cuts: [
    { column: 'x', op: '>', value: 0.5 },
    { column: 'y', op: 'between', low: -1, high: 4 },
  ],
  score: { op: '>', value: 0.3 },
};

let dir: string;
let cleanup: () => Promise<void>;
let files: string[];
let rows: Rows;
let labelled: Evaluation;
const model = toyModel();

beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  files = [join(dir, 'a.parquet'), join(dir, 'b.parquet')];
  await writeParquet(files[0], toyEvents(3000, 1));
  await writeParquet(files[1], toyEvents(2500, 2));
  const list = files.map((f) => `'${f}'`).join(', ');
  const read = await sql(
    `SELECT x, y, label, weight FROM read_parquet([${list}], filename = true, file_row_number = true) ORDER BY filename, file_row_number`,
  );
  const col = (k: string) => read.map((r) => Number(r[k]));
  const [x, y] = [Float64Array.from(col('x')), Float32Array.from(col('y'))];
  rows = {
    x,
    y,
    label: Uint8Array.from(col('label')),
    weight: Float32Array.from(col('weight')),
    score: scoreBatch(model, makeBatch({ x, y }, { x: 'float64', y: 'float32' })),
    mlp: mlpScore(model, makeBatch({ x, y }, { x: 'float64', y: 'float32' })),
  };
  labelled = await evaluateModel({
    source: parquetSource(files),
    model,
    cuts: CUTS,
    label: 'label',
    weight: 'weight',
    friend: join(dir, 'friend.parquet'),
    quiet: true,
  });
});

afterAll(() => cleanup?.());

describe('evaluateModel on a labelled dataset', () => {
  it('counts every event and class', () => {
    expect(labelled.events).toBe(5500);
    const signal = rows.label.reduce((s, v) => s + v, 0);
    expect(labelled.signalEvents).toBe(signal);
    expect(labelled.backgroundEvents).toBe(5500 - signal);
  });

  it('gives the AUC of an exact (sorted) computation', () => {
    const exact = exactAuc(rows.score, rows.label, rows.weight);
    expect(exact).toBeGreaterThan(0.8);
    expect(Math.abs(labelled.auc! - exact)).toBeLessThan(1e-3);
  });

  it('has a monotone ROC curve ending at (1, 1)', () => {
    const roc = labelled.roc;
    expect(roc.length).toBeGreaterThan(20);
    for (let i = 1; i < roc.length; i++) {
      expect(roc[i].signalEfficiency).toBeGreaterThanOrEqual(roc[i - 1].signalEfficiency);
      expect(roc[i].backgroundEfficiency).toBeGreaterThanOrEqual(roc[i - 1].backgroundEfficiency);
      expect(roc[i].threshold).toBeLessThanOrEqual(roc[i - 1].threshold);
    }
    expect(roc[roc.length - 1].signalEfficiency).toBeCloseTo(1, 12);
    expect(roc[roc.length - 1].backgroundEfficiency).toBeCloseTo(1, 12);
  });

  it('finds score thresholds that keep the asked signal efficiency', () => {
    expect(labelled.workingPoints.map((w) => w.targetSignalEfficiency)).toEqual([0.5, 0.7, 0.9]);
    const weighted = (cls: number, t: number) => {
      let [kept, all] = [0, 0];
      for (let i = 0; i < rows.score.length; i++) {
        if (rows.label[i] !== cls) continue;
        all += rows.weight[i];
        if (rows.score[i] >= t) kept += rows.weight[i];
      }
      return kept / all;
    };
    for (const w of labelled.workingPoints) {
      const effS = weighted(1, w.threshold);
      expect(effS).toBeCloseTo(w.signalEfficiency, 6);
      expect(effS).toBeGreaterThanOrEqual(w.targetSignalEfficiency);
      expect(effS).toBeLessThan(w.targetSignalEfficiency + 0.005);
      expect(weighted(0, w.threshold)).toBeCloseTo(w.backgroundEfficiency, 6);
      expect(w.keptFraction).toBeCloseTo(rows.score.filter((s) => s >= w.threshold).length / 5500, 9);
    }
  });

  it('counts the cut flow like plain comparisons do', () => {
    const steps = [
      (i: number) => rows.x[i] > 0.5,
      (i: number) => rows.y[i] > -1 && rows.y[i] < 4,
      (i: number) => rows.mlp[i] > 0.3,
    ];
    const expected = [0, 1, 2, 3].map((k) => {
      let [events, signal, background] = [0, 0, 0];
      for (let i = 0; i < 5500; i++) {
        if (!steps.slice(0, k).every((pass) => pass(i))) continue;
        events++;
        if (rows.label[i]) signal += rows.weight[i];
        else background += rows.weight[i];
      }
      return { events, signal, background };
    });
    expect(labelled.cutFlow.map((r) => r.step)).toEqual(['all events', 'x > 0.5', '-1 < y < 4', 'score > 0.3']);
    labelled.cutFlow.forEach((r, k) => {
      expect(r.events).toBe(expected[k].events);
      expect(r.signal).toBeCloseTo(expected[k].signal, 6);
      expect(r.background).toBeCloseTo(expected[k].background, 6);
      expect(r.fraction.signal).toBeCloseTo(expected[k].signal / expected[0].signal, 9);
    });
    expect(expected[3].events).toBeGreaterThan(100);
    expect(expected[3].events).toBeLessThan(expected[2].events);
    const s = labelled.savedCuts;
    expect(s.eventsKept).toBe(expected[3].events);
    expect(s.signalEfficiency).toBeCloseTo(expected[3].signal / expected[0].signal, 9);
    expect(s.backgroundEfficiency).toBeCloseTo(expected[3].background / expected[0].background, 9);
  });

  it('writes a friend file whose rows are scoreBatch of the same rows, with event index and pass flag', async () => {
    expect(labelled.friend?.rows).toBe(5500);
    const friend = await sql(
      `SELECT event, score, passes FROM read_parquet('${join(dir, 'friend.parquet')}') ORDER BY event`,
    );
    expect(friend.map((r) => Number(r.event))).toEqual(Array.from({ length: 5500 }, (_, i) => i));
    const scores = Float32Array.from(friend.map((r) => Number(r.score)));
    expect(scores).toEqual(rows.score);
    const passes = friend.map((r) => r.passes === true);
    const expected = Array.from(
      { length: 5500 },
      (_, i) => rows.x[i] > 0.5 && rows.y[i] > -1 && rows.y[i] < 4 && rows.mlp[i] > 0.3,
    );
    expect(passes).toEqual(expected);
  });

  it('histograms each cut variable over every event, per class', () => {
    const [dx, dy] = labelled.distributions.cuts;
    expect(dx.column).toBe('x');
    expect(dy.cut).toEqual(CUTS.cuts[1]);
    for (const d of [dx, dy]) {
      const inRange = d.all.reduce((a, b) => a + b, 0);
      expect(inRange + d.underflow + d.overflow + d.missing).toBe(5500);
      expect(d.edges[0]).toBeLessThan(-1);
    }
    // Signal sits near x = 1.5: its histogram peaks there, the background's near 0.
    const peak = (h: number[]) => (dx.edges[h.indexOf(Math.max(...h))] + dx.edges[h.indexOf(Math.max(...h)) + 1]) / 2;
    expect(Math.abs(peak(dx.signal!) - 1.5)).toBeLessThan(0.6);
    expect(Math.abs(peak(dx.background!))).toBeLessThan(1.5);
    const score = labelled.distributions.score;
    expect(score.all.reduce((a, b) => a + b, 0)).toBe(5500);
  });
});

describe('evaluateModel where scores pile up (sharp soft cuts, 2 % missing values)', () => {
  it('gives the AUC and working points of a direct count on its own scores', async () => {
    const file = join(dir, 'missing.parquet');
    const missing = `CASE WHEN hash(x) % 50 = 0 THEN 'NaN'::DOUBLE ELSE x END AS x`;
    await sql(`COPY (SELECT * REPLACE (${missing}) FROM '${files[0]}') TO '${file}' (FORMAT parquet)`);
    const sharp = { ...model, slopeMultiplier: 30 };
    const friend = join(dir, 'missing-scores.parquet');
    const source = parquetSource([file]);
    const e = await evaluateModel({ source, model: sharp, label: 'label', weight: 'weight', friend, quiet: true });
    const read = await sql(
      `SELECT f.score, d.label, d.weight FROM read_parquet('${file}', file_row_number = true) d
       JOIN '${friend}' f ON f.event = d.file_row_number ORDER BY f.event`,
    );
    const score = Float64Array.from(read, (r) => Number(r.score));
    const label = Uint8Array.from(read, (r) => Number(r.label));
    const weight = Float64Array.from(read, (r) => Number(r.weight));
    expect(score.filter((p) => p === 0).length).toBeGreaterThan(30);
    expect(score.filter((p) => p < 1e-13).length).toBeGreaterThan(600);
    expect(Math.abs(e.auc! - exactAuc(score, label, weight))).toBeLessThan(1e-4);
    const efficiency = (cls: number, threshold: number) => {
      let [kept, all] = [0, 0];
      for (let i = 0; i < score.length; i++) {
        if (label[i] !== cls) continue;
        all += weight[i];
        if (score[i] >= threshold) kept += weight[i];
      }
      return kept / all;
    };
    for (const w of e.workingPoints) {
      expect(w.signalEfficiency).toBeCloseTo(efficiency(1, w.threshold), 9);
      expect(w.backgroundEfficiency).toBeCloseTo(efficiency(0, w.threshold), 9);
      expect(w.signalEfficiency).toBeGreaterThanOrEqual(w.targetSignalEfficiency);
      expect(w.signalEfficiency).toBeLessThan(w.targetSignalEfficiency + 0.002);
    }
  });
});

describe('evaluateModel on an unlabelled dataset', () => {
  it('reports what a skim with the learned cuts keeps, events and bytes', async () => {
    const e = await evaluateModel({ source: parquetSource(files), model, quiet: true });
    expect(e.auc).toBeNull();
    expect(e.roc).toEqual([]);
    expect(e.workingPoints).toEqual([]);
    expect(e.signalEvents).toBeUndefined();
    // Default cuts: the model's learned cuts, no score cut.
    expect(e.cutFlow.map((r) => r.step)).toEqual(['all events', 'x > 0.5', '-1 < y < 4']);
    let kept = 0;
    for (let i = 0; i < 5500; i++) if (rows.x[i] > 0.5 && rows.y[i] > -1 && rows.y[i] < 4) kept++;
    expect(e.savedCuts.eventsKept).toBe(kept);
    expect(e.savedCuts.keptFraction).toBeCloseTo(kept / 5500, 12);
    // Signal-like events carry more hits, so the kept share of bytes exceeds the kept share of events.
    expect(e.savedCuts.keptBytesFraction).toBeGreaterThan(e.savedCuts.keptFraction);
    expect(e.savedCuts.keptBytesFraction).toBeLessThan(1);
    expect(e.savedCuts.bytesIn).toBe(statSync(files[0]).size + statSync(files[1]).size);
    // Kept plus saved is the input on disk; all columns kept: none saved by columns, the rest is the files' overhead.
    const list = files.map((f) => `'${f}'`).join(', ');
    const [{ columns }] = await sql(`SELECT sum(total_compressed_size) AS columns FROM parquet_metadata([${list}])`);
    expect(e.savedCuts.bytesKeptEstimate + e.savedCuts.bytesSavedEstimate).toBe(e.savedCuts.bytesIn);
    expect(e.savedCuts.bytesSavedByColumns).toBe(0);
    expect(e.savedCuts.bytesSavedOverhead).toBe(e.savedCuts.bytesIn - Number(columns));
    expect(e.savedCuts.bytesKeptEstimate + e.savedCuts.bytesSavedByRowsEstimate).toBeCloseTo(Number(columns), 6);
  });

  it('estimates the bytes of the kept columns only with keep', async () => {
    const e = await evaluateModel({ source: parquetSource(files), model, keep: ['x', 'y'], quiet: true });
    // Flat columns cost the same for every event: kept bytes share = kept events share.
    expect(e.savedCuts.keptBytesFraction).toBeCloseTo(e.savedCuts.keptFraction, 12);
    const list = files.map((f) => `'${f}'`).join(', ');
    const [{ bytes }] = await sql(
      `SELECT sum(total_compressed_size) AS bytes FROM parquet_metadata([${list}]) WHERE path_in_schema IN ('x', 'y')`,
    );
    expect(e.savedCuts.bytesKeptEstimate).toBeCloseTo(Number(bytes) * e.savedCuts.keptFraction, 6);
    const [{ all }] = await sql(`SELECT sum(total_compressed_size) AS all FROM parquet_metadata([${list}])`);
    expect(e.savedCuts.bytesSavedByColumns).toBe(Number(all) - Number(bytes));
    expect(e.savedCuts.bytesSavedEstimate).toBe(e.savedCuts.bytesIn - e.savedCuts.bytesKeptEstimate);
    await expect(
      evaluateModel({ source: parquetSource(files), model, keep: ['x', 'nope'], quiet: true }),
    ).rejects.toThrow(/column 'nope' \(in --keep\) is not in the input/);
  });

  it('with one class only, the other class has no efficiency (not 0) and there is no AUC', async () => {
    const file = join(dir, 'background-only.parquet');
    await sql(`COPY (SELECT * FROM '${files[0]}' WHERE label = 0) TO '${file}' (FORMAT parquet)`);
    const e = await evaluateModel({ source: parquetSource([file]), model, label: 'label', quiet: true });
    expect(e.savedCuts.signalEfficiency).toBeNaN();
    expect(e.savedCuts.backgroundEfficiency).toBeGreaterThan(0);
    expect(e.auc).toBeNull();
    expect(JSON.parse(JSON.stringify(e.cutFlow.at(-1)!.fraction)).signal).toBeNull();
  });

  it('a null event weight is an error naming the file and row group, not a silent n/a AUC', async () => {
    const file = join(dir, 'nullweight.parquet');
    await sql(
      `COPY (SELECT * REPLACE (CASE WHEN x > 2.5 AND x < 2.51 THEN NULL ELSE weight END AS weight) FROM '${files[0]}') TO '${file}' (FORMAT parquet)`,
    );
    await expect(
      evaluateModel({ source: parquetSource([file]), model, label: 'label', weight: 'weight', quiet: true }),
    ).rejects.toThrow(new RegExp(`${file}, row group 0, batch from row \\d+: event weight 'weight' is NaN`));
  });

  it('names a missing column and where it was asked for', async () => {
    await expect(
      evaluateModel({ source: parquetSource(files), model, label: 'truth', quiet: true, inputName: 'toy files' }),
    ).rejects.toThrow(/toy files: column 'truth' \(--label\) is not in the input; it has: x, y, label, weight, hits/);
  });

  it('names a column of a type diffskim does not read (a decimal) with its type, not as missing', async () => {
    const file = join(dir, 'decimal.parquet');
    await sql(`COPY (SELECT * REPLACE (y::DECIMAL(9, 3) AS y) FROM '${files[0]}') TO '${file}' (FORMAT parquet)`);
    await expect(evaluateModel({ source: parquetSource([file]), model, label: 'label', quiet: true })).rejects.toThrow(
      `${file}: column 'y' (a classifier input of the model) has type DECIMAL(9,3), which diffskim cannot read`,
    );
  });

  it('refuses a scores (friend) file that is one of its inputs, which it would replace', async () => {
    const before = readFileSync(files[1]);
    await expect(
      evaluateModel({ source: parquetSource(files), model, friend: join(dir, '.', 'b.parquet'), quiet: true }),
    ).rejects.toThrow(`scores file ${join(dir, 'b.parquet')} is the input ${files[1]}: writing it would replace it`);
    expect(readFileSync(files[1]).equals(before)).toBe(true);
  });
});
