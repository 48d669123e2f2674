import { Observable } from 'rxjs';
import type { Demand } from './demand.js';

/**
 * An Observable that pulls from an async generator one value at a time: the next value is
 * requested only after the subscriber's next() has returned (so a synchronous consumer sets
 * the pace). Unsubscribing calls the generator's return(), which runs its finally blocks
 * (closing files and queries) once any pending step has settled. With a Demand, the next value
 * is also not requested while an asynchronous consumer holds it.
 */
export function fromPull<T>(start: () => AsyncGenerator<T>, demand?: Demand): Observable<T> {
  return new Observable<T>((subscriber) => {
    const it = start();
    let stopped = false;
    void (async () => {
      try {
        for (;;) {
          if (demand?.held) await demand.ready();
          if (stopped) return;
          const step = await it.next();
          if (stopped) return;
          if (step.done) break;
          subscriber.next(step.value);
          if (stopped) return;
        }
        subscriber.complete();
      } catch (e) {
        if (!stopped) subscriber.error(e);
      }
    })();
    return () => {
      stopped = true;
      it.return(undefined).catch(() => undefined);
    };
  });
}
