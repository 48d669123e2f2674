import * as tf from '@tensorflow/tfjs-core';
import { type EventBatch, makeBatch } from '../../src/batch/batch.js';
import type { DatasetInfo } from '../../src/sources/types.js';
import type { CutSpec } from '../../src/model/cuts.js';
import type { LossSettings } from '../../src/model/losses.js';
import { createModel, type ModelKind, type SelectionModel } from '../../src/model/model.js';
import { TfSelectionModel } from '../../src/model/tfModel.js';
import { seededRandom } from '../../src/util/random.js';

/** A batch with columns a, b (uniform in [-5, 5]), label (0/1), weight, and list column 'hits'. */
export function uniformBatch(n: number, seed: number): EventBatch {
  const random = seededRandom(`uniform:${seed}`);
  const a = Float64Array.from({ length: n }, () => 10 * random() - 5);
  const b = Float64Array.from({ length: n }, () => 10 * random() - 5);
  const label = Float32Array.from({ length: n }, (_, i) => (a[i] + b[i] + random() > 0.5 ? 1 : 0));
  const weight = Float32Array.from({ length: n }, () => 0.5 + random());
  const offsets = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) offsets[i + 1] = offsets[i] + Math.floor(random() * 3);
  const hits = new Float32Array(offsets[n]);
  return makeBatch(
    { a, b, label, weight, hits: { offsets, values: hits } },
    { a: 'float64', b: 'float64', label: 'float32', weight: 'float32', hits: 'float32' },
  );
}

/** The dataset facts of a uniformBatch as its only file: `hitBytes` on disk for each value of 'hits'. */
export function uniformInfo(b: EventBatch, hitBytes = 4): DatasetInfo {
  const n = b.length;
  const hitValues = b.columns.hits.values.length;
  return {
    files: [],
    schema: b.schema,
    rows: n,
    bytesOnDisk: 0,
    columnBytes: { a: 8 * n, b: 8 * n, label: 4 * n, weight: 4 * n, hits: hitBytes * hitValues },
    columnValues: { a: n, b: n, label: n, weight: n, hits: hitValues },
  };
}

/** BCE with no size term, and yields for the significance losses. */
export const BASE_LOSS: LossSettings = {
  kind: 'bce',
  lambda: 0,
  target: null,
  multiplier: 0,
  signalYield: 50,
  backgroundYield: 400,
  sigmaB: 0,
};

export function cut(
  column: string,
  op: CutSpec['op'],
  form: CutSpec['form'],
  slope: number,
  t: { value?: number; low?: number; high?: number },
): CutSpec {
  return { column, op, form, slope, mean: 0.3, std: 2.9, ...t };
}

export function model(kind: ModelKind, cuts: CutSpec[], seed = 1, hidden = [6, 5]): SelectionModel {
  return createModel({ kind, features: ['a', 'b'], inputMean: [0.1, -0.2], inputStd: [2.8, 3.1], hidden, cuts, seed });
}

/** The TF forward pass: returns prod w_k and sigmoid(MLP) per event (1 where absent). */
export function tfForward(
  m: SelectionModel,
  cutValues: number[][],
  features: number[][],
): { cut: Float32Array; mlp: Float32Array } {
  const tm = new TfSelectionModel(m);
  try {
    return tf.tidy(() => {
      const n = features.length;
      const out = tm.forward(
        tf.tensor2d(features, [n, 2]),
        tm.edgeCount > 0 ? tf.tensor2d(cutValues, [n, tm.edgeCount]) : null,
        m.slopeMultiplier,
      );
      return {
        cut: out.logCut ? (tf.exp(out.logCut).dataSync() as Float32Array) : new Float32Array(n).fill(1),
        mlp: out.logit ? (tf.sigmoid(out.logit).dataSync() as Float32Array) : new Float32Array(n).fill(1),
      };
    });
  } finally {
    tm.dispose();
  }
}
