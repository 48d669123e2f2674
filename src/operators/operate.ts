import { Observable, type OperatorFunction, type Subscriber } from 'rxjs';

/** What an operator does with one subscription's values (made afresh for each subscription). */
export interface OperatorHandlers<T> {
  next(value: T): void;
  /** Before the subscriber completes (a last flush). */
  complete?(): void;
  /** On unsubscription, complete or error (drop what is held). */
  finalize?(): void;
}

/**
 * An operator in the style of RxJS's `operate`: `init` makes the handlers of each subscription,
 * writing to its subscriber. An error thrown in `next` or `complete` goes to the subscriber, as
 * with RxJS's own operators (a plain subscriber would hand it to reportUnhandledError instead).
 */
export function operate<T, R>(init: (subscriber: Subscriber<R>) => OperatorHandlers<T>): OperatorFunction<T, R> {
  return (source) =>
    new Observable<R>((subscriber) => {
      const handlers = init(subscriber);
      const guarded = (f: () => void) => {
        if (subscriber.closed) return; // a synchronous source may go on after an error
        try {
          f();
        } catch (e) {
          subscriber.error(e);
        }
      };
      const subscription = source.subscribe({
        next: (value) => guarded(() => handlers.next(value)),
        error: (e) => subscriber.error(e),
        complete: () =>
          guarded(() => {
            handlers.complete?.();
            subscriber.complete();
          }),
      });
      return () => {
        handlers.finalize?.();
        subscription.unsubscribe();
      };
    });
}
