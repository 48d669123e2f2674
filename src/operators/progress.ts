import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import type { Progress } from '../util/progress.js';

/** Reports the events flowing past to a progress display; completes it when the stream ends. */
export function progress(display: Progress): MonoTypeOperatorFunction<EventBatch> {
  return tap({
    next: (batch) => display.advance(batch.length),
    complete: () => display.done(),
  });
}
