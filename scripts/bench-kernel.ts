/**
 * The fused kernel's step alone and the pieces of diffskim's epoch data path, per event, on one
 * in-memory batch: where a training epoch's time goes (scripts/bench-train.ts times whole epochs).
 *
 *   npx tsx scripts/bench-kernel.ts [batch=4096] [repeats=40]
 */
import { Adam } from '../src/model/adam.js';
import { cutEdges } from '../src/model/cuts.js';
import { FusedSelectionModel } from '../src/model/fused.js';
import type { LossSettings } from '../src/model/losses.js';
import { createModel } from '../src/model/model.js';
import { eventBytesModel } from '../src/training/eventBytes.js';
import { prepareBatch, type BatchLayout } from '../src/training/prepare.js';
import { makeBatch } from '../src/batch/batch.js';
import { normalSampler, seededRandom } from '../src/util/random.js';

const [batchSize = 4096, repeats = 40] = process.argv.slice(2).map(Number);

function setup(features: number, hidden: number[]) {
  const normal = normalSampler(seededRandom('kernel'));
  const label = Int32Array.from({ length: batchSize }, () => (normal() > 0 ? 1 : 0));
  const columns: Record<string, Float32Array | Int32Array> = { label, weight: new Float32Array(batchSize).fill(1) };
  const names = Array.from({ length: features }, (_, f) => `f${f}`);
  for (const f of names) columns[f] = Float32Array.from(label, (y) => normal() + 0.5 * y);
  const schema = Object.fromEntries(Object.keys(columns).map((c) => [c, c === 'label' ? 'int32' : 'float32']));
  const batch = makeBatch(columns, schema as Parameters<typeof makeBatch>[1]);
  const cuts = names.map((column) => ({
    column,
    op: '>' as const,
    form: 'sigmoid' as const,
    slope: 4,
    mean: 0,
    std: 1,
    value: -2,
  }));
  const model = createModel({
    kind: 'cuts-x-mlp',
    features: names,
    inputMean: names.map(() => 0),
    inputStd: names.map(() => 1),
    hidden,
    cuts,
    seed: 1,
  });
  const rows = batchSize;
  const info = {
    files: [],
    schema: batch.schema,
    rows,
    bytesOnDisk: 0,
    columnBytes: Object.fromEntries(Object.keys(columns).map((c) => [c, 4 * rows])),
    columnValues: Object.fromEntries(Object.keys(columns).map((c) => [c, rows])),
  };
  const layout: BatchLayout = {
    model,
    label: 'label',
    weight: 'weight',
    classFactor: { signal: 1, background: 1 },
    bytes: eventBytesModel(info),
  };
  return { batch, layout, model };
}

const settings: LossSettings = {
  kind: 'bce',
  lambda: 0.5,
  target: null,
  multiplier: 0,
  signalYield: 1,
  backgroundYield: 1,
  sigmaB: 0,
};
const perEvent = (seconds: number) => `${((seconds / (repeats * batchSize)) * 1e9).toFixed(0)} ns/event`;
const time = (f: () => void) => {
  f();
  const t0 = process.cpuUsage();
  for (let r = 0; r < repeats; r++) f();
  const t = process.cpuUsage(t0);
  return (t.user + t.system) / 1e6;
};
for (const [name, features, hidden] of [
  ['seed', 2, [15, 30, 15]],
  ['wide', 20, [64, 64]],
] as const) {
  const { batch, layout, model } = setup(features, [...hidden]);
  const fm = new FusedSelectionModel(model);
  const adam = new Adam(fm.params.length, 0.001);
  const prepared = prepareBatch(layout, batch);
  const tPrepare = time(() => prepareBatch(layout, batch));
  const tStep = time(() => fm.lossAndGradient(settings, prepared, 1));
  const tAdam = time(() => adam.apply(fm.params, fm.gradient));
  const edges = cutEdges(model.cuts).length;
  console.log(
    `${name} batch ${batchSize} (${edges} edges): prepare ${perEvent(tPrepare)}, loss+gradient ${perEvent(tStep)}, ` +
      `adam ${perEvent(tAdam)}; step ${((repeats * batchSize) / (tStep + tAdam) / 1e3).toFixed(0)}k events/CPU-s`,
  );
}
