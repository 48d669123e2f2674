import { from, lastValueFrom, Observable, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { EventBatch } from '../../src/batch/batch.js';
import { shuffleBuffer } from '../../src/operators/shuffleBuffer.js';
import { eventsConsistent, idBatches, ids } from '../helpers/batches.js';

describe('shuffleBuffer', () => {
  it('emits a permutation of the input with whole events moved together', async () => {
    const input = idBatches(1000, 64);
    const out = await lastValueFrom(from(input).pipe(shuffleBuffer(300, 7), toArray()));
    const got = ids(out);
    expect(got).not.toEqual(ids(input));
    expect([...got].sort((a, b) => a - b)).toEqual(ids(input));
    expect(out.every(eventsConsistent)).toBe(true);
  });

  it('is reproducible for a seed and differs between epochs and seeds', async () => {
    const run = (op: ReturnType<typeof shuffleBuffer>) =>
      lastValueFrom(from(idBatches(500, 50)).pipe(op, toArray())).then(ids);
    const a = shuffleBuffer(200, 1);
    const b = shuffleBuffer(200, 1);
    const a1 = await run(a);
    expect(await run(b)).toEqual(a1);
    expect(await run(a)).not.toEqual(a1); // second epoch of the same operator
    expect(await run(shuffleBuffer(200, 2))).not.toEqual(a1);
  });

  it('holds at most capacity plus one batch of events (bounded memory)', async () => {
    let produced = 0;
    let maxInFlight = 0;
    let consumed = 0;
    const source = new Observable<EventBatch>((s) => {
      for (const b of idBatches(10_000, 100)) {
        produced += b.length;
        s.next(b);
        maxInFlight = Math.max(maxInFlight, produced - consumed);
      }
      s.complete();
    });
    await lastValueFrom(
      source.pipe(shuffleBuffer(1000, 3)).pipe(
        (o) =>
          new Observable<number>((s) =>
            o.subscribe({
              next: (b) => (consumed += b.length),
              complete: () => {
                s.next(consumed);
                s.complete();
              },
            }),
          ),
      ),
    );
    expect(consumed).toBe(10_000);
    expect(maxInFlight).toBeLessThanOrEqual(1100);
  });

  it('passes batches through unchanged with capacity 0', async () => {
    const input = idBatches(50, 10);
    const out = await lastValueFrom(from(input).pipe(shuffleBuffer(0, 1), toArray()));
    expect(out).toEqual(input);
  });
});
