import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import { splitTrainValidation } from '../../src/operators/splitTrainValidation.js';
import { eventsConsistent, idBatches, ids } from '../helpers/batches.js';

describe('splitTrainValidation', () => {
  const input = idBatches(20_000, 999);
  const side = (take: 'train' | 'validation', seed = 5) =>
    lastValueFrom(from(input).pipe(splitTrainValidation(0.25, seed, take), toArray()));

  it('splits into disjoint sides that together are the input, near the asked fraction', async () => {
    const train = await side('train');
    const val = await side('validation');
    const t = ids(train);
    const v = ids(val);
    expect(new Set([...t, ...v]).size).toBe(20_000);
    expect(t.length + v.length).toBe(20_000);
    expect(v.length / 20_000).toBeGreaterThan(0.23);
    expect(v.length / 20_000).toBeLessThan(0.27);
    expect([...train, ...val].every(eventsConsistent)).toBe(true);
  });

  it('puts the same events on the same side on every subscription (epoch) and differs by seed', async () => {
    const op = splitTrainValidation(0.25, 5, 'validation');
    const first = ids(await lastValueFrom(from(input).pipe(op, toArray())));
    const second = ids(await lastValueFrom(from(input).pipe(op, toArray())));
    expect(second).toEqual(first);
    expect(ids(await side('validation', 6))).not.toEqual(first);
  });
});
