import { identity, lastValueFrom, Observable, type OperatorFunction, Subject } from 'rxjs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Demand, paced } from '../../src/sources/demand.js';
import { fromPull } from '../../src/sources/parquetStream.js';
import { parquetSink } from '../../src/sinks/parquetSink.js';
import type { EventBatch } from '../../src/batch/batch.js';
import { idBatches } from '../helpers/batches.js';

const tick = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pulling source of 50 values that records how far it ever ran ahead of the consumer. */
function countingSource(demand?: Demand) {
  const counts = { produced: 0, consumed: 0, maxAhead: 0 };
  const source = fromPull(async function* () {
    for (let i = 0; i < 50; i++) {
      counts.produced++;
      counts.maxAhead = Math.max(counts.maxAhead, counts.produced - counts.consumed);
      yield i;
    }
  }, demand);
  return { source, counts };
}

describe('Demand: backpressure from an asynchronous consumer', () => {
  it('a pulling source reads no further ahead than the consumer lets it', async () => {
    const demand = new Demand();
    const { source, counts } = countingSource(demand);
    await new Promise<void>((done) =>
      source.subscribe({
        next: () => {
          // A slow asynchronous consumer: hold the demand while "writing".
          demand.hold();
          void tick(2).then(() => {
            counts.consumed++;
            demand.release();
          });
        },
        complete: () => done(),
      }),
    );
    await tick(10);
    expect(counts.consumed).toBe(50);
    expect(counts.maxAhead).toBeLessThanOrEqual(2);
  });

  it('without the demand the same source runs far ahead (the test can fail)', async () => {
    const { source, counts } = countingSource();
    await new Promise<void>((done) =>
      source.subscribe({ next: () => void tick(2).then(() => counts.consumed++), complete: () => done() }),
    );
    expect(counts.maxAhead).toBeGreaterThan(10);
  });

  it('the Parquet sink holds the demand while batches wait to be written', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diffskim-demand-'));
    const demand = new Demand();
    const input = new Subject<EventBatch>();
    const done = lastValueFrom(input.pipe(parquetSink(join(dir, 'out.parquet'), { demand })));
    const [a, b] = idBatches(2000, 1000);
    input.next(a);
    expect(demand.held).toBe(true);
    await demand.ready();
    expect(demand.held).toBe(false);
    input.next(b);
    input.complete();
    const result = await done;
    expect(result.rows).toBe(2000);
    expect(demand.held).toBe(false);
  });
});

describe('paced: a source and a sink connected through one demand', () => {
  it('the source reads no further ahead than a slow sink lets it', async () => {
    let counts = { produced: 0, consumed: 0, maxAhead: 0 };
    // A sink that holds the demand while it "writes" each value (2 ms), like the Parquet sink.
    const slowSink =
      (demand: Demand): OperatorFunction<number, number> =>
      (values) =>
        new Observable<number>((subscriber) => {
          let writing = Promise.resolve();
          return values.subscribe({
            next: () => {
              demand.hold();
              writing = writing
                .then(() => tick(2))
                .then(() => {
                  counts.consumed++;
                  demand.release();
                });
            },
            complete: () => void writing.then(() => (subscriber.next(counts.consumed), subscriber.complete())),
          });
        });
    const read = (demand: Demand) => {
      const made = countingSource(demand);
      counts = made.counts;
      return made.source;
    };
    expect(await lastValueFrom(paced(read, identity, slowSink))).toBe(50);
    expect(counts.maxAhead).toBeLessThanOrEqual(2);
  });
});
