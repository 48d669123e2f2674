/**
 * Where a seed-model training epoch's time goes (issue 22): the trainer's data path timed stage
 * by stage on the in-memory toy (read as a Parquet source reads it: science-common.ts'
 * projectedSource), each pipeline one stage longer than the last, so that each
 * stage's CPU time is the difference to the one before: the source's read projected to the
 * training columns with the train/validation split; + the shuffle buffer; + rebatch; + prepare;
 * + the fused step on one thread. Then the step's parts on prepared batches: the cut factors
 * (batchSums), the per-event gradient (eventGradient: the MLP's forward and backward in SIMD, the
 * cuts' backward and the loss), and Adam; then a whole step's fixed cost (a batch of 16 events).
 * CPU-microseconds per event (per step for the last), best of `repeat` passes.
 *
 *   npx tsx scripts/bench-train-phases.ts [events=524288] [batch=4096] [repeat=3]
 */
import type { Observable } from 'rxjs';
import { type EventBatch, sliceBatch } from '../src/batch/batch.js';
import { rebatch } from '../src/operators/rebatch.js';
import { shuffleBuffer } from '../src/operators/shuffleBuffer.js';
import { splitTrainValidation } from '../src/operators/splitTrainValidation.js';
import { namesToRead } from '../src/selection/expr/index.js';
import { Adam } from '../src/model/adam.js';
import { FusedSelectionModel } from '../src/model/fused.js';
import { lossSettings } from '../src/model/losses.js';
import { eventBytesColumns, eventBytesModel } from '../src/training/eventBytes.js';
import { type BatchLayout, prepareBatch } from '../src/training/prepare.js';
import { trainSelection } from '../src/training/trainer.js';
import { fusedStepper } from '../src/training/steppers.js';
import { memoryDataset, projectedSource, toyData, toyPipeline } from './science-common.js';

const [events = 524_288, batchSize = 4096, repeat = 3] = process.argv.slice(2).map(Number);
const memory = memoryDataset(toyData('toy2d', events / 2, 1));
const pipeline = toyPipeline({ training: { epochs: 1, batchSize, validationFraction: 0.05, seed: 1, threads: 1 } });
const { model } = await trainSelection({ settings: pipeline, ...memory });
const t = pipeline;
const bytes = eventBytesModel(memory.info);
const layout: BatchLayout = {
  model,
  label: 'label',
  weight: 'weight',
  classFactor: { signal: 1, background: 1 },
  bytes,
};
const texts = ['x', 'y', 'label', 'weight', ...eventBytesColumns(bytes)];
const columns = [...new Set(texts.flatMap((c) => namesToRead(memory.info.schema, c)))];
const loss = lossSettings(t, bytes.bytesIn, { signal: 1, background: 1 });

const cpu = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};
/** Best CPU-seconds of `repeat` runs of fn. */
async function best(fn: () => Promise<unknown> | unknown): Promise<number> {
  let min = Infinity;
  for (let r = 0; r < repeat; r++) {
    const c = cpu();
    await fn();
    min = Math.min(min, cpu() - c);
  }
  return min;
}
const source = projectedSource(memory.source);
const read = () => source.batches({ columns }).pipe(splitTrainValidation(t.training.validationFraction, 1, 'train'));
const shuffle = shuffleBuffer(t.training.shuffleBuffer, 1);
const drain = (o: Observable<EventBatch>, each: (b: EventBatch) => void = () => {}) =>
  new Promise<number>((done, fail) => {
    let n = 0;
    o.subscribe({ next: (b) => ((n += b.length), each(b)), complete: () => done(n), error: fail });
  });
const n = await drain(read());
const stepper = fusedStepper(model, 0.01, 'fused-js');
const stages: [string, () => Promise<number>][] = [
  ['read + split', () => drain(read())],
  ['+ shuffle', () => drain(read().pipe(shuffle))],
  ['+ rebatch', () => drain(read().pipe(shuffle, rebatch(batchSize)))],
  ['+ prepare', () => drain(read().pipe(shuffle, rebatch(batchSize)), (b) => prepareBatch(layout, b))],
  [
    '+ step (whole epoch)',
    () => drain(read().pipe(shuffle, rebatch(batchSize)), (b) => stepper.step(loss, layout, b, 1, () => {})),
  ],
];
const us = (s: number) => ((s / n) * 1e6).toFixed(3);
console.log(`${n} training events, batch ${batchSize}: CPU-microseconds per event (best of ${repeat})`);
let before = 0;
for (const [name, run] of stages) {
  const s = await best(run);
  console.log(`${name.padEnd(24)} ${us(s)}  (stage ${us(s - before)})`);
  before = s;
}
// The step's parts on the epoch's prepared batches.
const prepared = (
  await new Promise<EventBatch[]>((done) => {
    const all: EventBatch[] = [];
    read()
      .pipe(shuffle, rebatch(batchSize))
      .subscribe({ next: (b) => all.push(b), complete: () => done(all) });
  })
).map((b) => prepareBatch(layout, b));
const fm = new FusedSelectionModel(model);
const adam = new Adam(fm.params.length, 0.01);
const sums = () => prepared.map((p) => fm.batchSums(loss, p, 0, p.n, 1));
const slopes = { dKept: 0, dSig: 0, dBkg: 0 };
const parts: [string, () => unknown][] = [
  ['cut factors (batchSums)', sums],
  ['gradient (eventGradient)', () => prepared.forEach((p) => fm.eventGradient(loss, p, 0, p.n, 1, slopes))],
  ['Adam', () => prepared.forEach(() => adam.apply(fm.params, fm.gradient))],
];
for (const [name, run] of parts) console.log(`${name.padEnd(24)} ${us(await best(run))}`);
// A step's fixed cost: whole steps (prepare, cuts, MLP, loss, Adam) on a batch of 16 events.
const tiny = sliceBatch(await new Promise<EventBatch>((done) => read().subscribe({ next: done })), 0, 16);
const STEPS = 5000;
const fixed = await best(() => {
  for (let s = 0; s < STEPS; s++) stepper.step(loss, layout, tiny, 1, () => {});
});
console.log(`${'a step of 16 events'.padEnd(24)} ${((fixed / STEPS) * 1e6).toFixed(1)} us`);
