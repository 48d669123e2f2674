/**
 * The seed's failure mode, reproduced: normalising the product of the cut weights and the
 * network output as a whole. The seed multiplied the cut weights w_k into the network output
 * and put the softmax on the result; for two classes that is P = sigmoid(prod_k w_k * z), with z
 * the network's raw output. Every event then gains from w -> 1 (a weight below 1 only pulls its
 * logit towards 0, i.e. towards P = 1/2), so the thresholds drift towards -infinity. diffskim
 * multiplies the weights into sigmoid(z) instead, P = prod_k w_k * sigmoid(z): the cut weights
 * stay cut weights. This file trains both from the same start on the same batches (the variant
 * lives only here, not in the product) and prints the thresholds epoch by epoch.
 *
 *   npx tsx scripts/science-softmax.ts [eventsPerClass=20000] [epochs=20]
 */
import { pathToFileURL } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { from } from 'rxjs';
import type { EventBatch } from '../src/batch/batch.js';
import { toyBatches } from '../src/datasets/toy.js';
import { type LossSettings, tfLoss } from '../src/model/losses.js';
import { createModel, type SelectionModel } from '../src/model/model.js';
import { hardCutPass, mlpLogit, scoreBatch, sigmoid, softCutWeights } from '../src/model/score.js';
import { logSigmoid } from '../src/model/tfGradients.js';
import { TfSelectionModel } from '../src/model/tfModel.js';
import { AucAccumulator } from '../src/training/auc.js';
import { initBackend } from '../src/training/backend.js';
import { eventBytesModel } from '../src/training/eventBytes.js';
import { memoryDataset } from '../src/training/memoryDataset.js';
import { batchTensors, type BatchLayout, disposeBatchTensors, prepareBatch } from '../src/training/prepare.js';
import { collectStats, quantile } from '../src/training/stats.js';

export type Formulation = 'diffskim' | 'normalised-product';

export interface DriftRun {
  /** Thresholds of the cuts x > c and y > c after each epoch. */
  thresholds: number[][];
  /** Smallest x and y in the data. */
  dataMin: number[];
  /** Fraction of events the learned cuts remove as hard cuts. */
  hardRemoved: number;
  /** AUC of the model output on the training data. */
  auc: number;
  model: SelectionModel;
}

export interface DriftOptions {
  epochs: number;
  learningRate: number;
  seed: number;
}

/** Trains cuts x > c, y > c and a small MLP on `batches` (minibatches as given) with BCE. */
export async function trainFormulation(
  formulation: Formulation,
  batches: EventBatch[],
  o: DriftOptions,
): Promise<DriftRun> {
  await initBackend('auto');
  const { info } = memoryDataset(batches);
  const stats = await collectStats(from(batches), ['x', 'y'], { label: 'label', seed: o.seed });
  const cuts = ['x', 'y'].map((column) => {
    const s = stats.quantities.get(column)!;
    return {
      column,
      op: '>' as const,
      form: 'sigmoid' as const,
      slope: 4 / s.std,
      value: quantile(s, 0.01),
      mean: s.mean,
      std: s.std,
    };
  });
  const start = createModel({
    kind: 'cuts-x-mlp',
    features: ['x', 'y'],
    inputMean: cuts.map((c) => c.mean),
    inputStd: cuts.map((c) => c.std),
    hidden: [15, 30, 15],
    cuts,
    seed: o.seed,
  });
  const layout: BatchLayout = {
    model: start,
    label: 'label',
    weight: 'weight',
    classFactor: { signal: 1, background: 1 },
    bytes: eventBytesModel(info),
  };
  const settings: LossSettings = {
    kind: 'bce',
    lambda: 0,
    target: null,
    multiplier: 0,
    signalYield: 1,
    backgroundYield: 1,
    sigmaB: 0,
  };
  const tm = new TfSelectionModel(start);
  const optimizer = tf.train.adam(o.learningRate);
  const thresholds: number[][] = [];
  let model = start;
  try {
    for (let epoch = 0; epoch < o.epochs; epoch++) {
      for (const batch of batches) {
        const t = batchTensors(prepareBatch(layout, batch), 2, tm.edgeCount);
        try {
          optimizer.minimize(
            () => {
              const out = tm.forward(t.features, t.cutValues, 1);
              if (formulation === 'diffskim') return tfLoss(settings, out, t.loss).total;
              // P = sigmoid(prod w * z): the seed's softmax over the combined output.
              const a = tf.mul(tf.exp(out.logCut!), out.logit!);
              const perEvent = tf.add(
                tf.mul(t.loss.label, logSigmoid(a)),
                tf.mul(tf.sub(1, t.loss.label), logSigmoid(tf.neg(a))),
              );
              return tf.div(tf.neg(tf.sum(tf.mul(t.loss.weight, perEvent))), t.loss.sumWeight) as tf.Scalar;
            },
            false,
            tm.trainableVariables(),
          );
        } finally {
          disposeBatchTensors(t);
        }
      }
      model = tm.snapshot(1, tf.getBackend());
      thresholds.push(model.cuts.map((c) => c.value!));
    }
  } finally {
    tm.dispose();
    optimizer.dispose();
  }
  const auc = new AucAccumulator();
  let removed = 0;
  for (const b of batches) {
    const label = b.columns.label.values as Int32Array;
    if (formulation === 'diffskim') auc.add(scoreBatch(model, b), label);
    else {
      // Score of the variant: sigmoid(prod w * z).
      const w = softCutWeights(model, b);
      const z = mlpLogit(model, b);
      auc.add(
        w.map((wi, i) => sigmoid(wi * z[i])),
        label,
      );
    }
    removed += hardCutPass(model, b).reduce((s, p) => s + (1 - p), 0);
  }
  const dataMin = ['x', 'y'].map((c) => stats.quantities.get(c)!.min);
  return { thresholds, dataMin, hardRemoved: removed / info.rows, auc: auc.value(), model };
}

/** The seed toy in minibatches of `batchSize`. */
export function seedToy(eventsPerClass: number, seed: number, batchSize: number): EventBatch[] {
  return [...toyBatches({ kind: 'toy2d', eventsPerClass, seed, batchSize })];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const [eventsPerClass = 20_000, epochs = 20] = process.argv.slice(2).map(Number);
  const batches = seedToy(eventsPerClass, 1, 1024);
  for (const f of ['diffskim', 'normalised-product'] as const) {
    const r = await trainFormulation(f, batches, { epochs, learningRate: 0.02, seed: 1 });
    console.log(
      `\n${f}: P = ${f === 'diffskim' ? 'prod w * sigmoid(z)' : 'sigmoid(prod w * z)'}   (data minimum x ${r.dataMin[0].toFixed(2)}, y ${r.dataMin[1].toFixed(2)})`,
    );
    r.thresholds.forEach((t, e) =>
      console.log(`  epoch ${String(e).padStart(2)}: x > ${t[0].toFixed(3)}, y > ${t[1].toFixed(3)}`),
    );
    console.log(`  hard cuts remove ${(100 * r.hardRemoved).toFixed(2)} % of events; AUC ${r.auc.toFixed(4)}`);
  }
}
