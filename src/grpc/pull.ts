import type { Subscription } from 'rxjs';
import { type EventBatch, sliceBatch } from '../batch/batch.js';
import type { EventSource, ReadOptions } from '../sources/types.js';

/**
 * A source that can also be read by pulling: the next batch is read only when asked for, so a
 * slow consumer slows the reading. The gRPC server uses it for real backpressure.
 */
export interface PullableSource extends EventSource {
  pull(options?: ReadOptions): AsyncIterable<EventBatch>;
}

export function isPullable(source: EventSource): source is PullableSource {
  return typeof (source as Partial<PullableSource>).pull === 'function';
}

/** What a pulled stream held at most: batches read from the source but not yet taken. */
export interface PullStats {
  maxQueued: number;
  /** Times a push-only source was unsubscribed because the consumer fell behind. */
  restarts: number;
}

/**
 * Batches of a source, pulled one at a time. A PullableSource is pulled directly. A push-only
 * source (a plain Observable) is read ahead by at most `highWater` batches: when the consumer
 * falls that far behind, the subscription is dropped (which stops the reading) and, once the
 * queue is empty, made again, skipping the events already delivered. That re-reads the start
 * of the data, so it keeps memory bounded at a cost in time; it needs a source that yields the
 * same events in the same order on every pass, as EventSource promises.
 */
export async function* pullBatches(source: EventSource, options: ReadOptions, highWater: number, stats: PullStats, signal?: AbortSignal): AsyncGenerator<EventBatch> {
  if (isPullable(source)) {
    stats.maxQueued = Math.max(stats.maxQueued, 1);
    for await (const batch of source.pull(options)) {
      if (signal?.aborted) return;
      yield batch;
    }
    return;
  }
  let delivered = 0; // events handed to the consumer or queued, over all subscriptions
  let done = false;
  let failure: unknown;
  let queue: EventBatch[] = [];
  let wake: (() => void) | undefined;
  let subscription: Subscription | undefined;
  const notify = () => {
    wake?.();
    wake = undefined;
  };

  let paused = false;
  const subscribe = () => {
    let skip = delivered;
    paused = false;
    subscription = source.batches(options).subscribe({
      next(batch) {
        // A synchronous source keeps emitting until subscribe() returns: drop those, they are
        // read again on the next subscription.
        if (paused) return;
        if (skip >= batch.length) {
          skip -= batch.length;
          return;
        }
        const fresh = skip > 0 ? sliceBatch(batch, skip, batch.length) : batch;
        skip = 0;
        queue.push(fresh);
        delivered += fresh.length;
        stats.maxQueued = Math.max(stats.maxQueued, queue.length);
        if (queue.length >= highWater) {
          paused = true;
          subscription?.unsubscribe();
        }
        notify();
      },
      error(e) {
        if (paused) return;
        failure = e;
        done = true;
        notify();
      },
      complete() {
        if (paused) return;
        done = true;
        notify();
      },
    });
    if (paused) subscription.unsubscribe();
  };

  // Aborting drops the subscription at once, even while waiting for a slow source.
  const onAbort = () => {
    subscription?.unsubscribe();
    done = true;
    notify();
  };
  signal?.addEventListener('abort', onAbort);
  try {
    if (signal?.aborted) return;
    subscribe();
    for (;;) {
      if (signal?.aborted) return;
      if (queue.length > 0) {
        const next = queue.shift()!;
        yield next;
        continue;
      }
      if (failure) throw failure;
      if (done) return;
      if (paused) {
        stats.restarts++;
        subscribe();
        continue;
      }
      await new Promise<void>((resolve) => (wake = resolve));
    }
  } finally {
    signal?.removeEventListener('abort', onAbort);
    subscription?.unsubscribe();
    queue = [];
  }
}
