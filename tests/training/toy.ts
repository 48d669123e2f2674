import { type EventBatch, takeRows } from '../../src/batch/batch.js';
import { toyBatches as generate } from '../../src/datasets/toy.js';
import { createModel, type SelectionModel } from '../../src/model/model.js';
import { toyPipeline } from '../../scripts/science-common.js';
import type { DatasetInfo, EventSource } from '../../src/sources/types.js';
import { eventBytesModel } from '../../src/training/eventBytes.js';
import { memoryDataset } from '../../src/training/memoryDataset.js';
import type { BatchLayout } from '../../src/training/prepare.js';
import { seededRandom } from '../../src/util/random.js';

/**
 * The seed paper's toy from src/datasets/toy.ts (columns event_id, x, y, label, weight and the
 * list column jet_pt; 'toy6d' adds n1..n4), held in memory as an array of batches. With
 * signalFraction below 0.5, signal events are dropped at random until about that fraction is left.
 */
export function toyBatches(
  eventsPerClass: number,
  seed: number,
  batchRows = 2000,
  signalFraction = 0.5,
  kind: 'toy2d' | 'toy6d' = 'toy2d',
): EventBatch[] {
  const batches = [...generate({ kind, eventsPerClass, seed, batchSize: batchRows })];
  if (signalFraction >= 0.5) return batches;
  const random = seededRandom(`signal-fraction:${seed}`);
  const keep = signalFraction / (1 - signalFraction);
  return batches.map((b) => {
    const label = b.columns.label.values as Int32Array;
    const rows = Uint32Array.from({ length: b.length }, (_, i) => i).filter((i) => !label[i] || random() < keep);
    return takeRows(b, rows);
  });
}

export function toyInfo(batches: EventBatch[]): DatasetInfo {
  return memoryDataset(batches).info;
}

export function memorySource(batches: EventBatch[]): EventSource {
  return memoryDataset(batches).source;
}

/** The toy's batch layout for a stepper: label and weight columns, equal class factors, every column's bytes. */
export function toyLayout(model: SelectionModel, info: DatasetInfo): BatchLayout {
  return {
    model,
    label: 'label',
    weight: 'weight',
    classFactor: { signal: 1, background: 1 },
    bytes: eventBytesModel(info),
  };
}

export { toyPipeline };

/** Exact weighted-free AUC by counting pairs (small inputs only). */
export function exactAuc(score: ArrayLike<number>, label: ArrayLike<number>): number {
  let pairs = 0;
  let wins = 0;
  for (let i = 0; i < score.length; i++) {
    if (label[i] !== 1) continue;
    for (let j = 0; j < score.length; j++) {
      if (label[j] !== 0) continue;
      pairs++;
      wins += score[i] > score[j] ? 1 : score[i] === score[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}

/** A small cuts x MLP model on the toy (one cut on x, hidden layer of 4), for tests of single steps. */
export function smallToyModel(): SelectionModel {
  return createModel({
    kind: 'cuts-x-mlp',
    features: ['x', 'y'],
    inputMean: [0, 0],
    inputStd: [2, 2],
    hidden: [4],
    seed: 1,
    cuts: [{ column: 'x', op: '>', form: 'sigmoid', slope: 1, value: -3, mean: 0, std: 2 }],
  });
}
