import { type Observable, type OperatorFunction, pipe } from 'rxjs';

/**
 * Flow control between an asynchronous consumer and a pulling source. RxJS has no
 * backpressure of its own: a source built on fromPull waits for a synchronous subscriber, but a
 * consumer that finishes its work later (a file writer, a gRPC stream) must say so. It holds
 * the demand while its queue is full and releases it when the queue drains; the source awaits
 * ready() before reading the next batch.
 */
export class Demand {
  private holds = 0;
  private waiters: (() => void)[] = [];

  hold(): void {
    this.holds++;
  }

  release(): void {
    if (this.holds === 0) return;
    if (--this.holds === 0) for (const wake of this.waiters.splice(0)) wake();
  }

  get held(): boolean {
    return this.holds > 0;
  }

  /** Resolves when nobody holds the demand (at once when nobody does). */
  ready(): Promise<void> {
    return this.holds === 0 ? Promise.resolve() : new Promise((resolve) => this.waiters.push(resolve));
  }
}

/**
 * A pulling source connected to an asynchronous sink through one Demand: `read` and `sink` get
 * the same one, so the source reads its next batch only while the sink is not holding it.
 * `through` is what runs in between (cuts, scoring, progress).
 */
export function paced<T, U, R>(
  read: (demand: Demand) => Observable<T>,
  through: OperatorFunction<T, U>,
  sink: (demand: Demand) => OperatorFunction<U, R>,
): Observable<R> {
  const demand = new Demand();
  return read(demand).pipe(pipe(through), sink(demand));
}
