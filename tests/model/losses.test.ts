import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeBatch } from '../../src/batch/batch.js';
import {
  LossAccumulator,
  type LossBatch,
  type LossSettings,
  lossSettings,
  significance,
  sizeLambda,
  startingMultiplier,
  tfLoss,
} from '../../src/model/losses.js';
import { PipelineSchema } from '../../src/pipeline/schema.js';
import { initBackend } from '../../src/training/backend.js';
import { eventBytesModel } from '../../src/training/eventBytes.js';
import { memoryDataset } from '../../src/training/memoryDataset.js';
import { prepareBatch } from '../../src/training/prepare.js';
import { cut, model } from './helpers.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const base: LossSettings = {
  kind: 'asimov',
  lambda: 0,
  target: null,
  multiplier: 0,
  signalYield: 30,
  backgroundYield: 200,
  sigmaB: 0,
};

/** Asimov significance without background uncertainty, written out independently. */
function zAsimov(s: number, b: number): number {
  return Math.sqrt(2 * ((s + b) * Math.log(1 + s / b) - s));
}

/**
 * Events with given soft pass probabilities p (cut weights, no classifier): the loss sees
 * s = S sum_sig(w p) / sum_sig(w) and b = B sum_bkg(w p) / sum_bkg(w).
 */
function lossOn(settings: LossSettings, p: number[], label: number[], weight: number[]) {
  const sum = (f: (i: number) => number) => p.reduce((a, _, i) => a + f(i), 0);
  const batch: LossBatch = {
    label: tf.tensor1d(label),
    weight: tf.tensor1d(weight),
    keptBytes: tf.tensor1d(p.map(() => 1)),
    sumWeight: sum((i) => weight[i]),
    sumSignalWeight: sum((i) => weight[i] * label[i]),
    sumBackgroundWeight: sum((i) => weight[i] * (1 - label[i])),
    sumBytes: p.length,
  };
  const logCut = tf.tensor1d(p.map(Math.log));
  try {
    const g = tf.valueAndGrad(
      (lc: tf.Tensor) => tfLoss(settings, { logCut: lc as tf.Tensor1D, logit: null }, batch).main,
    );
    const { value, grad } = g(logCut);
    const acc = new LossAccumulator(settings);
    acc.add(
      Float64Array.from(p, Math.log),
      null,
      label,
      weight,
      p.map(() => 1),
      p.map(() => 1),
    );
    acc.addTotals(label, weight);
    const out = { tf: value.dataSync()[0], grad: Array.from(grad.dataSync()), js: acc.result().main };
    tf.dispose([value, grad]);
    return out;
  } finally {
    tf.dispose([batch.label, batch.weight, batch.keptBytes, logCut]);
  }
}

// Two signal events and three background events; weights differ.
const label = [1, 1, 0, 0, 0];
const weight = [1, 3, 2, 1, 1];

describe('Asimov significance', () => {
  it('tends to sqrt(2((s+b) ln(1+s/b) - s)) as sigma_b -> 0, in JS and TF', () => {
    const p = [0.9, 0.5, 0.3, 0.1, 0.2];
    // s and b scaled to the yields; eps = 1e-3 B regularises b.
    const s = (base.signalYield * (0.9 * 1 + 0.5 * 3)) / 4;
    const b = (base.backgroundYield * (0.3 * 2 + 0.1 + 0.2)) / 4 + 1e-3 * base.backgroundYield;
    const expected = zAsimov(s, b);
    for (const sigmaB of [0, 1e-4]) {
      const r = lossOn({ ...base, sigmaB }, p, label, weight);
      expect(r.js).toBeCloseTo(-expected, 4);
      expect(r.tf).toBeCloseTo(-expected, 2);
    }
    expect(significance({ ...base, sigmaB: 1e-6 }, s, b - 1e-3 * base.backgroundYield)).toBeCloseTo(expected, 6);
  });

  it('with a background uncertainty it falls to s / sqrt(b + sigma_b^2) for a small signal on a large background', () => {
    const s = 50;
    const b = 1e6;
    const big = { ...base, signalYield: s, backgroundYield: b };
    for (const rel of [1e-3, 1e-2]) {
      const z = significance({ ...big, sigmaB: rel }, s, b);
      expect(z / (s / Math.sqrt(b + (rel * b) ** 2))).toBeCloseTo(1, 2);
    }
    // More uncertainty, less significance.
    expect(significance({ ...big, sigmaB: 0.2 }, 20, 100)).toBeLessThan(
      significance({ ...big, sigmaB: 0.05 }, 20, 100),
    );
  });

  it('stays finite, with finite gradients, when the selection removes all background', () => {
    const p = [0.8, 0.6, 0, 0, 0];
    for (const sigmaB of [0, 0.1, 0.5]) {
      const r = lossOn({ ...base, sigmaB }, p, label, weight);
      expect(Number.isFinite(r.tf) && Number.isFinite(r.js)).toBe(true);
      expect(r.tf).toBeLessThan(-1);
      expect(r.tf).toBeCloseTo(r.js, 2);
      for (const g of r.grad) expect(Number.isFinite(g)).toBe(true);
      // Keeping more signal still helps.
      expect(r.grad[0]).toBeLessThan(0);
    }
  });
});

describe('weights and the signal-efficiency loss', () => {
  it('an event of weight 2 counts as two events of weight 1', () => {
    const p = [0.7, 0.4, 0.2, 0.5, 0.9];
    const dup = { p: [0.7, 0.4, 0.4, 0.4, 0.2, 0.2, 0.5, 0.9], label: [1, 1, 1, 1, 0, 0, 0, 0] };
    for (const kind of ['bce', 'mse', 'asimov', 'signal-efficiency'] as const) {
      const weighted = lossOn({ ...base, kind }, p, label, weight);
      const duplicated = lossOn(
        { ...base, kind },
        dup.p,
        dup.label,
        dup.p.map(() => 1),
      );
      expect(weighted.js).toBeCloseTo(duplicated.js, 10);
      expect(weighted.tf).toBeCloseTo(duplicated.tf, 5);
    }
  });

  it('signal-efficiency is minus the weighted soft signal efficiency', () => {
    const r = lossOn({ ...base, kind: 'signal-efficiency' }, [0.9, 0.5, 0.3, 0.1, 0.2], label, weight);
    expect(r.js).toBeCloseTo(-(0.9 + 3 * 0.5) / 4, 12);
    expect(r.tf).toBeCloseTo(r.js, 6);
    for (const g of r.grad.slice(2)) expect(Math.abs(g)).toBe(0);
    expect(r.grad[1]).toBeLessThan(r.grad[0]);
  });
});

describe('size term', () => {
  const n = 400;
  // a and b both uniform in [0, 1); the list 'tracks' is long when a is high, and costs 8 bytes an entry.
  const a = Float64Array.from({ length: n }, (_, i) => (i + 0.5) / n);
  const b = Float64Array.from({ length: n }, (_, i) => (i * 0.618034) % 1);
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + Math.floor(10 * a[i]);
  const batch = makeBatch(
    {
      a,
      b,
      label: new Float32Array(n).map((_, i) => i % 2),
      weight: new Float32Array(n).fill(1),
      tracks: { offsets, values: new Float64Array(offsets[n]) },
    },
    { a: 'float64', b: 'float64', label: 'float32', weight: 'float32', tracks: 'float64' },
  );
  const { info } = memoryDataset([batch]);

  it('charges bytes, not events: of two cuts removing the same events, the one dropping long lists costs less', () => {
    const bytes = eventBytesModel(info);
    const settings: LossSettings = { ...base, kind: 'bce', lambda: 1 };
    const keptBytes = (column: 'a' | 'b') => {
      // A steep soft cut at 0.5 removes half of the events in either case.
      const m = model('cuts', [{ ...cut(column, '<', 'sigmoid', 1e4, { value: 0.5 }), mean: 0.5, std: 0.29 }]);
      const layout = { model: m, label: 'label', classFactor: { signal: 1, background: 1 }, bytes };
      const p = prepareBatch(layout, batch);
      const acc = new LossAccumulator(settings);
      acc.add(
        Float64Array.from(p.cutValues, (x) => (x < 0.5 ? 0 : -Infinity)),
        null,
        p.label,
        p.weight,
        p.keptBytes,
        p.bytes,
      );
      return acc.result();
    };
    const [onA, onB] = [keptBytes('a'), keptBytes('b')];
    expect(onA.keptFraction).toBeCloseTo(0.5, 2);
    expect(onB.keptFraction).toBeCloseTo(0.5, 2);
    expect(onA.size).toBeLessThan(0.75 * onB.size);
    expect(onB.size).toBeCloseTo(0.5, 1);
  });

  it('over background counts only background bytes', () => {
    const layout = {
      model: model('cuts', [cut('a', '>', 'sigmoid', 1, { value: 0 })]),
      label: 'label',
      classFactor: { signal: 1, background: 1 },
      bytes: eventBytesModel(info),
    };
    const all = prepareBatch(layout, batch);
    const bkg = prepareBatch({ ...layout, sizeOver: 'background' }, batch);
    for (let i = 0; i < n; i++) expect(bkg.bytes[i]).toBe(i % 2 ? 0 : all.bytes[i]);
    expect(bkg.sumBytes).toBeLessThan(all.sumBytes);
  });

  it('targetBytes is a kept fraction of the bytes in; lambda ramps from lambdaStart', () => {
    const pipeline = (size: Record<string, unknown>) =>
      PipelineSchema.parse({ name: 't', source: { kind: 'parquet', paths: ['x'] }, features: ['a'], loss: { size } });
    const totals = { signal: 1, background: 1 };
    expect(lossSettings(pipeline({ lambda: 2, targetBytes: 3000 }), 12_000, totals).target).toBeCloseTo(0.25, 12);
    expect(lossSettings(pipeline({ lambda: 2, targetKeptFraction: 0.1 }), 12_000, totals).target).toBe(0.1);
    expect(() => lossSettings(pipeline({ lambda: 2, targetBytes: 3000, over: 'background' }), 12_000, totals)).toThrow(
      /targetKeptFraction instead/,
    );
    const size = pipeline({ lambda: 100, lambdaStart: 1 }).loss.size;
    expect([0, 2, 4].map((e) => sizeLambda(size, e, 5))).toEqual([1, 10, 100].map((v) => expect.closeTo(v, 9)));
    expect(sizeLambda(pipeline({ lambda: 3 }).loss.size, 0, 5)).toBe(3);
  });

  it('with a target, lambda (or lambdaStart) is where the multiplier starts, 1 by default', () => {
    const start = (size: Record<string, unknown>) =>
      startingMultiplier(
        PipelineSchema.parse({ name: 't', source: { kind: 'parquet', paths: ['x'] }, features: ['a'], loss: { size } })
          .loss.size,
      );
    expect(start({ targetKeptFraction: 0.1 })).toBe(1);
    expect(start({ lambda: 30, targetKeptFraction: 0.1 })).toBe(30);
    expect(start({ lambda: 30, lambdaStart: 0.5, targetKeptFraction: 0.1 })).toBe(0.5);
  });
});
