/**
 * Training throughput on the backend that runs (DIFFSKIM_BACKEND to choose): events per second
 * of a whole epoch (shuffle, rebatch, prepare, step) and of the minibatch step alone, for
 * batch sizes 4k, 16k and 64k, on the seed toy with a [15, 30, 15] MLP and two cuts.
 *
 *   npx tsx scripts/bench-train.ts [eventsPerClass=131072] [stepRepeats=10]
 */
import * as tf from '@tensorflow/tfjs-core';
import { lossSettings } from '../src/model/losses.js';
import { createModel } from '../src/model/model.js';
import { TfSelectionModel } from '../src/model/tfModel.js';
import { initBackend } from '../src/training/backend.js';
import { eventBytesModel } from '../src/training/eventBytes.js';
import { trainSelection, trainStep } from '../src/training/trainer.js';
import { toyBatches } from '../src/datasets/toy.js';
import { memoryDataset, toyData, toyPipeline } from './science-common.js';

const [eventsPerClass = 131_072, stepRepeats = 10] = process.argv.slice(2).map(Number);
const backend = await initBackend();
const { source, info } = memoryDataset(toyData('toy2d', eventsPerClass, 1));
console.log(`backend ${backend}, ${info.rows} events`);

for (const batchSize of [4096, 16384, 65536]) {
  const pipeline = toyPipeline({ training: { epochs: 1, batchSize, validationFraction: 0.05 } });
  const r = await trainSelection({ settings: pipeline, source, info });

  // The step alone, on one minibatch made once.
  const [big] = toyBatches({ kind: 'toy2d', eventsPerClass: batchSize / 2, seed: 3, batchSize });
  const model = createModel({ kind: 'cuts-x-mlp', features: ['x', 'y'], inputMean: [0, 0], inputStd: [2, 2], hidden: [15, 30, 15], seed: 1,
    cuts: [{ column: 'x', op: '>', form: 'sigmoid', slope: 2, value: -5, mean: 0, std: 2 }, { column: 'y', op: '>', form: 'sigmoid', slope: 2, value: -5, mean: 0, std: 2 }] });
  const layout = { model, label: 'label', weight: 'weight', classFactor: { signal: 1, background: 1 }, bytes: eventBytesModel(info) };
  const settings = lossSettings(pipeline, layout.bytes.bytesIn, { signal: 1, background: 1 });
  const tm = new TfSelectionModel(model);
  const optimizer = tf.train.adam(0.01);
  trainStep(tm, optimizer, settings, layout, big, 1);
  const t0 = performance.now();
  for (let i = 0; i < stepRepeats; i++) trainStep(tm, optimizer, settings, layout, big, 1);
  const stepMs = (performance.now() - t0) / stepRepeats;
  tm.dispose();
  optimizer.dispose();
  console.log(
    `batch ${String(batchSize).padStart(5)}: epoch ${r.eventsPerSecond.toFixed(0).padStart(7)} events/s;` +
      ` step alone ${stepMs.toFixed(1)} ms = ${((batchSize / stepMs) * 1000).toFixed(0)} events/s`,
  );
}
