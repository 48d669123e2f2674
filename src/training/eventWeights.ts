import type { EventBatch } from '../batch/batch.js';
import { valuesOf } from '../selection/expr/index.js';

/** File and row group of a batch, for error messages. */
export function batchLocation(batch: EventBatch): string {
  const o = batch.origin;
  if (!o) return 'input batch';
  return [
    o.file,
    o.rowGroup !== undefined ? `row group ${o.rowGroup}` : null,
    o.firstRow !== undefined ? `batch from row ${o.firstRow}` : null,
  ]
    .filter(Boolean)
    .join(', ');
}

/**
 * The event weights of a batch (null without a weight column). A NaN (or null) or infinite
 * weight is an error naming where it is: it would make every loss and class total NaN.
 * Negative weights (NLO generators) are allowed.
 */
export function eventWeights(batch: EventBatch, weight: string | undefined): Float64Array | null {
  if (!weight) return null;
  const w = valuesOf(batch, weight);
  for (let i = 0; i < w.length; i++) {
    if (!Number.isFinite(w[i])) {
      const where = `${batchLocation(batch)}: event weight '${weight}' is ${w[i]}`;
      throw new Error(`${where} (null or not finite) at ${eventIn(batch, i)}`);
    }
  }
  return w;
}

/**
 * The class labels of a batch: 1 signal, 0 background. A label must be boolean or 0/1; any other
 * value, NaN or null included (which would silently train as background), is an error naming where.
 */
export function eventLabels(batch: EventBatch, label: string): Uint8Array {
  const y = valuesOf(batch, label);
  const out = new Uint8Array(y.length);
  for (let i = 0; i < y.length; i++) {
    if (y[i] !== 0 && y[i] !== 1) {
      const value = Number.isNaN(y[i]) ? 'null or NaN' : String(y[i]);
      const where = `${batchLocation(batch)}: label '${label}' is ${value} at ${eventIn(batch, i)}`;
      throw new Error(`${where}; a label must be boolean or 0/1`);
    }
    out[i] = y[i];
  }
  return out;
}

/** Event i of a batch in words, after batchLocation (which names the batch's first row where known). */
function eventIn(batch: EventBatch, i: number): string {
  return `event ${i} of ${batch.origin?.firstRow !== undefined ? 'that batch' : 'a batch from it'}`;
}
