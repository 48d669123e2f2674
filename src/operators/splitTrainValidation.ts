import type { OperatorFunction } from 'rxjs';
import { type EventBatch, takeRows } from '../batch/batch.js';
import { hashIndex } from '../util/random.js';
import { operate } from './operate.js';

/**
 * Deterministic train/validation split: event number k of the stream (counted from 0 on each
 * subscription) goes to validation when hash(k, seed) falls below `fraction`. The same events
 * land on the same side in every epoch and every run with the same seed and input order.
 */
export function splitTrainValidation(
  fraction: number,
  seed: number,
  take: 'train' | 'validation',
): OperatorFunction<EventBatch, EventBatch> {
  if (!(fraction >= 0 && fraction < 1))
    throw new Error(`splitTrainValidation: fraction must be in [0, 1), got ${fraction}`);
  const cut = Math.floor(fraction * 0x100000000);
  return operate((subscriber) => {
    let seen = 0;
    return {
      next(batch: EventBatch) {
        const rows = new Uint32Array(batch.length);
        let n = 0;
        for (let i = 0; i < batch.length; i++) {
          const inValidation = hashIndex(seen + i, seed) < cut;
          if (inValidation === (take === 'validation')) rows[n++] = i;
        }
        seen += batch.length;
        subscriber.next(n === batch.length ? batch : takeRows(batch, rows.subarray(0, n)));
      },
    };
  });
}
