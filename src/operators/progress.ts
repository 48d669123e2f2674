import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import type { Progress } from '../util/progress.js';

/** Reports the events flowing past to a progress display; ends it when the stream ends or fails. */
export function progress(display: Progress): MonoTypeOperatorFunction<EventBatch> {
  return tap({
    next: (batch) => display.advance(batch.length),
    complete: () => display.done(),
    error: () => display.fail(),
  });
}
