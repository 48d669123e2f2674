import type { OperatorFunction } from 'rxjs';
import { concatBatches, type EventBatch, takeRows } from '../batch/batch.js';
import { seededRandom } from '../util/random.js';
import { operate } from './operate.js';

/**
 * Seeded window shuffle: collects events until `capacity` are buffered, permutes them, emits
 * half and keeps the other half to mix with what comes next. Memory is bounded by capacity
 * plus one incoming batch; capacity 0 passes batches through unchanged. Each subscription
 * (epoch) uses seed + epoch number, so epochs see different orders, reproducibly; a run resumed
 * at epoch e counts subscriptions from `firstEpoch` = e.
 */
export function shuffleBuffer(
  capacity: number,
  seed: number,
  firstEpoch = 0,
): OperatorFunction<EventBatch, EventBatch> {
  let subscriptions = firstEpoch;
  if (capacity <= 0) return (source) => source;
  return operate((subscriber) => {
    const random = seededRandom(`${seed}:${subscriptions++}`);
    let buffered: EventBatch[] = [];
    let count = 0;
    const emitShuffled = (keep: number) => {
      const all = concatBatches(buffered);
      const order = permutation(all.length, random);
      const emit = all.length - keep;
      buffered = keep > 0 ? [takeRows(all, order.subarray(emit))] : [];
      count = keep;
      subscriber.next(takeRows(all, order.subarray(0, emit)));
    };
    return {
      next(batch: EventBatch) {
        buffered.push(batch);
        count += batch.length;
        if (count >= capacity) emitShuffled(Math.floor(capacity / 2));
      },
      complete() {
        if (count > 0) emitShuffled(0);
      },
      finalize() {
        buffered = [];
      },
    };
  });
}

/** A seeded Fisher-Yates permutation of 0..n-1. */
function permutation(n: number, random: () => number): Uint32Array {
  const p = new Uint32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const t = p[i];
    p[i] = p[j];
    p[j] = t;
  }
  return p;
}
