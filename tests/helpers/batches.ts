import { makeBatch, type EventBatch } from '../../src/batch/batch.js';

/** Batches of sequential ids 0..n-1 with a list column whose event i holds i % 3 values (i, i+0.5, ...). */
export function idBatches(n: number, batchSize: number): EventBatch[] {
  const out: EventBatch[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const m = Math.min(batchSize, n - start);
    const id = new Int32Array(m);
    const x = new Float64Array(m);
    const offsets = new Int32Array(m + 1);
    for (let i = 0; i < m; i++) {
      id[i] = start + i;
      x[i] = (start + i) * 0.25;
      offsets[i + 1] = offsets[i] + ((start + i) % 3);
    }
    const values = new Float32Array(offsets[m]);
    for (let i = 0; i < m; i++)
      for (let k = offsets[i]; k < offsets[i + 1]; k++) values[k] = start + i + 0.5 * (k - offsets[i]);
    out.push(makeBatch({ id, x, jets: { offsets, values } }, { id: 'int32', x: 'float64', jets: 'float32' }));
  }
  return out;
}

/** Checks that every event's columns are consistent with its id (so rows were moved whole). */
export function eventsConsistent(batch: EventBatch): boolean {
  const id = batch.columns.id.values as Int32Array;
  const x = batch.columns.x.values as Float64Array;
  const jets = batch.columns.jets;
  if (jets.kind !== 'list') return false;
  for (let i = 0; i < batch.length; i++) {
    if (x[i] !== id[i] * 0.25) return false;
    const len = jets.offsets[i + 1] - jets.offsets[i];
    if (len !== id[i] % 3) return false;
    for (let k = 0; k < len; k++) if (jets.values[jets.offsets[i] + k] !== Math.fround(id[i] + 0.5 * k)) return false;
  }
  return true;
}

export function ids(batches: EventBatch[]): number[] {
  return batches.flatMap((b) => Array.from(b.columns.id.values as Int32Array));
}
