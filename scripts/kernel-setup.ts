/**
 * The fixed batch, model and layout the kernel scripts (bench-kernel.ts, gpu-check.ts) time: `n`
 * events, `features` Gaussian columns (signal shifted by 0.5), a '>' sigmoid cut on each at
 * `cutValue`, x an MLP of `hidden` units.
 */
import { makeBatch } from '../src/batch/batch.js';
import type { LossSettings } from '../src/model/losses.js';
import { createModel } from '../src/model/model.js';
import { eventBytesModel } from '../src/training/eventBytes.js';
import type { BatchLayout } from '../src/training/prepare.js';
import { normalSampler, seededRandom } from '../src/util/random.js';

/** BCE with a plain size penalty (no target). */
export const BCE_SETTINGS: LossSettings = {
  kind: 'bce',
  lambda: 0.5,
  target: null,
  multiplier: 0,
  signalYield: 1,
  backgroundYield: 1,
  sigmaB: 0,
};

export function kernelSetup(n: number, features: number, hidden: number[], seed: string, cutValue: number) {
  const normal = normalSampler(seededRandom(seed));
  const label = Int32Array.from({ length: n }, () => (normal() > 0 ? 1 : 0));
  const columns: Record<string, Float32Array | Int32Array> = { label, weight: new Float32Array(n).fill(1) };
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
    value: cutValue,
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
  const info = {
    files: [],
    schema: batch.schema,
    rows: n,
    bytesOnDisk: 0,
    columnBytes: Object.fromEntries(Object.keys(columns).map((c) => [c, 4 * n])),
    columnValues: Object.fromEntries(Object.keys(columns).map((c) => [c, n])),
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
