import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { rebatch } from '../../src/operators/rebatch.js';
import { eventsConsistent, idBatches, ids } from '../helpers/batches.js';

describe('rebatch', () => {
  it('re-cuts uneven batches into fixed sizes without losing or reordering events', async () => {
    const input = [...idBatches(7, 7), ...idBatches(100, 13).map((b) => b), ...idBatches(3, 1)];
    const total = input.reduce((s, b) => s + b.length, 0);
    const out = await lastValueFrom(from(input).pipe(rebatch(16), toArray()));
    expect(out.slice(0, -1).every((b) => b.length === 16)).toBe(true);
    expect(out.at(-1)!.length).toBe(total % 16 || 16);
    expect(ids(out)).toEqual(ids(input));
    expect(out.every(eventsConsistent)).toBe(true);
  });

  it('emits a full batch as soon as it is complete (does not wait for the end)', () => {
    const seen: number[] = [];
    const input = idBatches(40, 10);
    const sub = from(input)
      .pipe(rebatch(20))
      .subscribe((b) => seen.push(b.length));
    expect(seen).toEqual([20, 20]);
    sub.unsubscribe();
  });

  it('rejects a non-positive size', () => {
    expect(() => rebatch(0)).toThrow(/positive/);
  });
});
