import { lastValueFrom, of, type OperatorFunction } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { EventBatch } from '../../src/batch/batch.js';
import { hardCut } from '../../src/operators/hardCut.js';
import { rebatch } from '../../src/operators/rebatch.js';
import { shuffleBuffer } from '../../src/operators/shuffleBuffer.js';
import { splitTrainValidation } from '../../src/operators/splitTrainValidation.js';

// A batch that throws when an operator reads it: the error must reach the subscriber (the
// caller's await), not RxJS's reportUnhandledError.
const broken = { schema: [], columns: [] } as unknown as EventBatch;
Object.defineProperty(broken, 'length', {
  get() {
    throw new Error('broken batch');
  },
});

const operators: [string, () => OperatorFunction<EventBatch, EventBatch>][] = [
  ['hardCut', () => hardCut([])],
  ['rebatch', () => rebatch(10)],
  ['shuffleBuffer', () => shuffleBuffer(10, 1)],
  ['splitTrainValidation', () => splitTrainValidation(0.5, 1, 'train')],
];

describe('an error thrown inside an operator reaches its subscriber', () => {
  it.each(operators)('%s', async (_, make) => {
    await expect(lastValueFrom(of(broken, broken).pipe(make()))).rejects.toThrow('broken batch');
  });
});
