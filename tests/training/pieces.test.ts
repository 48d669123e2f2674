import { from } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { makeBatch } from '../../src/batch/batch.js';
import { AucAccumulator } from '../../src/training/auc.js';
import { eventBytes, eventBytesColumns, eventBytesModel } from '../../src/training/eventBytes.js';
import { createModel } from '../../src/model/model.js';
import { prepareBatch } from '../../src/training/prepare.js';
import { collectStats, quantile } from '../../src/training/stats.js';
import { seededRandom } from '../../src/util/random.js';
import { exactAuc, toyBatches, toyInfo } from './toy.js';
import { exactAuc as weightedAuc, pileUpScores } from '../eval/helpers.js';

describe('event bytes', () => {
  const batches = toyBatches(50, 2, 40);
  const info = toyInfo(batches);

  it('charges flat columns per row and list columns per entry', () => {
    const model = eventBytesModel(info);
    expect(eventBytesColumns(model)).toEqual(['count(jet_pt)']);
    expect(model.bytesIn).toBe(Object.values(info.columnBytes).reduce((a, b) => a + b, 0));
    const b = batches[0];
    const bytes = eventBytes(model, b);
    const jets = b.columns.jet_pt;
    if (jets.kind !== 'list') throw new Error('jet_pt is a list');
    for (let i = 0; i < b.length; i++) {
      const entries = jets.offsets[i + 1] - jets.offsets[i];
      // event_id (8), x, y, label, weight (4 each), 4 per jet.
      expect(bytes[i]).toBeCloseTo(8 + 4 * 4 + 4 * entries, 9);
    }
    // Summed over the dataset, the per-event bytes give back the bytes on disk.
    const total = batches.reduce((s, x) => s + eventBytes(model, x).reduce((a, v) => a + v, 0), 0);
    expect(total).toBeCloseTo(model.bytesIn, 6);
  });

  it('uses a count(col) column from the source instead of the list itself', () => {
    const model = eventBytesModel(info, ['x', 'jet_pt']);
    const projected = makeBatch(
      { x: new Float32Array([1, 2]), 'count(jet_pt)': new Int32Array([0, 5]) },
      { x: 'float32', 'count(jet_pt)': 'int32' },
    );
    const bytes = eventBytes(model, projected);
    expect(bytes[1] - bytes[0]).toBeCloseTo(5 * 4, 9);
    expect(() => eventBytesModel(info, ['nope'])).toThrow(/column 'nope'/);
  });
});

describe('AucAccumulator', () => {
  it('agrees with counting pairs', () => {
    const random = seededRandom('auc');
    const n = 1500;
    const label = Float64Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
    const score = label.map((y) => 1 / (1 + Math.exp(-(y ? 0.8 : 0) - 1.5 * (random() - 0.5) * 4)));
    const acc = new AucAccumulator();
    acc.add(score.subarray(0, 700), label.subarray(0, 700));
    acc.add(score.subarray(700), label.subarray(700));
    const exact = exactAuc(score, label);
    expect(exact).toBeGreaterThan(0.6);
    expect(Math.abs(acc.value() - exact)).toBeLessThan(2e-3);
    const one = new AucAccumulator();
    one.add([0.2], [1]);
    expect(one.value()).toBeNaN();
  });

  it('is exact to 1e-4 on scores piled up far below 1e-13, at 0 and at 1 (weighted)', () => {
    const { score, isSignal, weight } = pileUpScores(40_000, 3);
    const acc = new AucAccumulator();
    acc.add(score, isSignal, weight);
    expect(Math.abs(acc.value() - weightedAuc(score, isSignal, weight))).toBeLessThan(1e-4);
  });
});

describe('collectStats', () => {
  it('names the file and row group of a batch it cannot read', async () => {
    const b = { ...toyBatches(10, 1)[0], origin: { file: 'data/a.parquet', rowGroup: 3 } };
    await expect(collectStats(from([b]), ['pt'], { seed: 1 })).rejects.toThrow(
      /data\/a\.parquet, row group 3: unknown column 'pt' at 1:1/,
    );
  });

  it('gives mean, std, quantiles and class weights in one bounded pass', async () => {
    const batches = toyBatches(3000, 4);
    const stats = await collectStats(from(batches), ['x', 'count(jet_pt)'], {
      label: 'label',
      weight: 'weight',
      seed: 1,
      sampleSize: 2000,
    });
    const xs = batches.flatMap((b) => Array.from(b.columns.x.values as Float32Array));
    const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
    const std = Math.sqrt(xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1));
    const x = stats.quantities.get('x')!;
    expect(x.mean).toBeCloseTo(mean, 9);
    expect(x.std).toBeCloseTo(std, 9);
    expect(x.sample.length).toBe(2000);
    const sorted = xs.slice().sort((a, b) => a - b);
    for (const p of [0.01, 0.5, 0.99])
      expect(Math.abs(quantile(x, p) - sorted[Math.floor(p * sorted.length)])).toBeLessThan(0.25);
    expect(stats.quantities.get('count(jet_pt)')!.max).toBe(12);
    expect(stats.events).toBe(6000);
    const signal = batches.reduce((s, b) => s + (b.columns.label.values as Int32Array).reduce((a, v) => a + v, 0), 0);
    expect(stats.signalWeight).toBe(signal);
    expect(stats.backgroundWeight).toBe(6000 - signal);
  });
});

describe('non-finite inputs', () => {
  const x = Float64Array.of(1, 2, Infinity, 3, -Infinity, NaN);
  const label = Float32Array.of(1, 0, 1, 0, 0, 1);

  it('statistics leave ±Inf out, as NaN, and count them', async () => {
    const stats = await collectStats(from([makeBatch({ x }, { x: 'float64' })]), ['x'], { seed: 1 });
    const q = stats.quantities.get('x')!;
    expect([q.mean, q.min, q.max, q.count, q.nonFinite]).toEqual([2, 1, 3, 3, 3]);
  });

  it('an infinite cut variable on the failing side counts as cut; on the passing side it is kept, and stays finite', () => {
    const model = createModel({
      kind: 'cuts',
      features: [],
      inputMean: [],
      inputStd: [],
      hidden: [],
      cuts: [{ column: 'x', op: '>', form: 'sigmoid', slope: 1, value: 0, mean: 2, std: 1 }],
      seed: 1,
    });
    const layout = {
      model,
      label: 'label',
      classFactor: { signal: 1, background: 1 },
      bytes: { fixed: 8, lists: [], bytesIn: 48 },
    };
    const p = prepareBatch(layout, makeBatch({ x, label }, { x: 'float64', label: 'float32' }));
    expect(Array.from(p.weight)).toEqual([1, 1, 1, 1, 0, 0]);
    expect(Array.from(p.keptBytes)).toEqual([8, 8, 8, 8, 0, 0]);
    expect(p.cutValues.every(Number.isFinite)).toBe(true);
    expect(p.cutValues[2]).toBeGreaterThan(1000); // +Inf passes x > c at any threshold
  });

  it('a NaN or infinite event weight is an error naming the file and row group', async () => {
    const weight = Float32Array.of(1, 1, NaN, 1, 1, 1);
    const batch = {
      ...makeBatch(
        { x: Float64Array.of(1, 2, 3, 4, 5, 6), label, weight },
        { x: 'float64', label: 'float32', weight: 'float32' },
      ),
      origin: { file: 'mc/ttbar.parquet', rowGroup: 2, firstRow: 4096 },
    };
    await expect(collectStats(from([batch]), ['x'], { label: 'label', weight: 'weight', seed: 1 })).rejects.toThrow(
      /mc\/ttbar\.parquet, row group 2, batch from row 4096: event weight 'weight' is NaN .* at event 2/,
    );
  });
});
