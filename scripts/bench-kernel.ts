/**
 * The fused kernel's step alone and the pieces of diffskim's epoch data path, per event, on one
 * in-memory batch: where a training epoch's time goes (scripts/bench-train.ts times whole epochs).
 *
 *   npx tsx scripts/bench-kernel.ts [batch=4096] [repeats=40]
 */
import { Adam } from '../src/model/adam.js';
import { cutEdges } from '../src/model/cuts.js';
import { FusedSelectionModel } from '../src/model/fused.js';
import { prepareBatch } from '../src/training/prepare.js';
import { BCE_SETTINGS, kernelSetup } from './kernel-setup.js';

const [batchSize = 4096, repeats = 40] = process.argv.slice(2).map(Number);

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
  const { batch, layout, model } = kernelSetup(batchSize, features, [...hidden], 'kernel', -2);
  const fm = new FusedSelectionModel(model);
  const adam = new Adam(fm.params.length, 0.001);
  const prepared = prepareBatch(layout, batch);
  const tPrepare = time(() => prepareBatch(layout, batch));
  const tStep = time(() => fm.lossAndGradient(BCE_SETTINGS, prepared, 1));
  const tAdam = time(() => adam.apply(fm.params, fm.gradient));
  const edges = cutEdges(model.cuts).length;
  console.log(
    `${name} batch ${batchSize} (${edges} edges): prepare ${perEvent(tPrepare)}, loss+gradient ${perEvent(tStep)}, ` +
      `adam ${perEvent(tAdam)}; step ${((repeats * batchSize) / (tStep + tAdam) / 1e3).toFixed(0)}k events/CPU-s`,
  );
}
