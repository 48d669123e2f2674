import type { OperatorFunction } from 'rxjs';
import { concatBatches, type EventBatch, sliceBatch } from '../batch/batch.js';
import { operate } from './operate.js';

/**
 * Re-cuts a stream of batches into batches of exactly `size` events (the last may be smaller).
 * Holds at most `size` events plus one incoming batch.
 */
export function rebatch(size: number): OperatorFunction<EventBatch, EventBatch> {
  if (!(size > 0)) throw new Error(`rebatch: size must be positive, got ${size}`);
  return operate((subscriber) => {
    let pending: EventBatch[] = [];
    let pendingRows = 0;
    const flush = () => {
      const full = concatBatches(pending);
      pending = [];
      pendingRows = 0;
      subscriber.next(full);
    };
    return {
      next(batch: EventBatch) {
        for (let at = 0; at < batch.length;) {
          const take = Math.min(size - pendingRows, batch.length - at);
          pending.push(at === 0 && take === batch.length ? batch : sliceBatch(batch, at, at + take));
          pendingRows += take;
          at += take;
          if (pendingRows === size) flush();
        }
      },
      complete() {
        if (pendingRows > 0) flush();
      },
      finalize() {
        pending = [];
      },
    };
  });
}
