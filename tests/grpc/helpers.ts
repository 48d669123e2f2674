import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { type EventBatch, makeBatch, selectColumns, takeRows } from '../../src/batch/batch.js';
import { passMask } from '../../src/selection/cutsFile.js';
import type { Demand } from '../../src/sources/demand.js';
import { fromPull } from '../../src/sources/parquetStream.js';
import type { DatasetInfo, EventSource, ReadOptions } from '../../src/sources/types.js';
import { seededRandom } from '../../src/util/random.js';

/**
 * Test events: flat float64 x, int64 id, bool flag, nullable float32 y (every 7th null) and a
 * list<float32> jets with 0..3 entries. Values are seeded and independent of the code under test.
 */
export function testBatch(n: number, seed: number, firstId = 0): EventBatch {
  const rnd = seededRandom(seed);
  const x = new Float64Array(n);
  const id = new BigInt64Array(n);
  const flag = new Uint8Array(n);
  const y = new Float32Array(n);
  const valid = new Uint8Array(n);
  const offsets = new Int32Array(n + 1);
  const jets: number[] = [];
  for (let i = 0; i < n; i++) {
    x[i] = rnd() * 10 - 5;
    id[i] = BigInt(firstId + i) * 10_000_000_000n; // beyond 2^32
    flag[i] = rnd() < 0.5 ? 1 : 0;
    y[i] = rnd();
    valid[i] = (firstId + i) % 7 === 3 ? 0 : 1;
    const k = Math.floor(rnd() * 4);
    for (let j = 0; j < k; j++) jets.push(Math.round(rnd() * 1000) / 8);
    offsets[i + 1] = jets.length;
  }
  const b = makeBatch(
    { x, id, flag, y, jets: { offsets, values: Float32Array.from(jets) } },
    { x: 'float64', id: 'int64', flag: 'bool', y: 'float32', jets: 'float32' },
  );
  b.schema = b.schema.map((f) => (f.name === 'y' ? { ...f, nullable: true } : f));
  b.columns.y.validity = valid;
  return b;
}

/** `count` batches of `rows` events each, with ids running on. */
export function testBatches(count: number, rows: number): EventBatch[] {
  return Array.from({ length: count }, (_, k) => ({
    ...testBatch(rows, 100 + k, k * rows),
    origin: { file: '', firstRow: k * rows },
  }));
}

/** Applies projection and cuts the way a real source must. */
function applyRead(batch: EventBatch, read: ReadOptions = {}): EventBatch {
  let b = batch;
  if (read.where?.length) {
    const mask = passMask(b, read.where);
    const rows: number[] = [];
    mask.forEach((m, i) => m && rows.push(i));
    b = takeRows(b, Uint32Array.from(rows));
  }
  return read.columns ? selectColumns(b, read.columns) : b;
}

export interface Counters {
  subscribed: number;
  /** Passes ended, by unsubscribing or at the end. */
  closed: number;
  completed: number;
  emitted: number;
}

/**
 * An in-memory source over fixed batches that reads like the project's sources: one batch per
 * macrotask (or every `delayMs`), pulled (fromPull), so it honours ReadOptions.demand. Counts
 * passes and batches read.
 */
export function memorySource(batches: EventBatch[], file: string, counters: Counters, delayMs = 0): EventSource {
  const later = () => new Promise((resolve) => (delayMs ? setTimeout(resolve, delayMs) : setImmediate(resolve)));
  return {
    async describe(): Promise<DatasetInfo> {
      const rows = batches.reduce((s, b) => s + b.length, 0);
      return {
        files: [{ path: file, bytes: 1, rows, rowGroups: batches.length }],
        schema: batches[0].schema,
        rows,
        bytesOnDisk: 1,
        columnBytes: {},
        columnValues: {},
      };
    },
    batches(read: ReadOptions = {}) {
      return fromPull(async function* () {
        counters.subscribed++;
        try {
          for (const b of batches) {
            await later();
            counters.emitted++;
            yield { ...applyRead(b, read), origin: { file, firstRow: b.origin?.firstRow } };
          }
          counters.completed++;
        } finally {
          counters.closed++;
        }
      }, read.demand);
    },
  };
}

export function newCounters(): Counters {
  return { subscribed: 0, closed: 0, completed: 0, emitted: 0 };
}

/**
 * Consumes a source like a slow asynchronous writer: batches queue up and are written one at a
 * time, `ms` each; with `demand`, the consumer holds it while its queue is not empty.
 */
export function consumeSlowly(
  source: EventSource,
  ms: number,
  demand: Demand | undefined,
  onWritten: (b: EventBatch) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const queue: EventBatch[] = [];
    let complete = false;
    let writing = false;
    const writeNext = () => {
      const b = queue.shift();
      if (!b) {
        writing = false;
        demand?.release();
        if (complete) resolve();
        return;
      }
      setTimeout(() => {
        onWritten(b);
        writeNext();
      }, ms);
    };
    source.batches({ demand }).subscribe({
      next(b) {
        queue.push(b);
        if (writing) return;
        writing = true;
        demand?.hold();
        writeNext();
      },
      error: reject,
      complete() {
        complete = true;
        if (!writing) resolve();
      },
    });
  });
}

/** A temporary data root holding small placeholder files, and a file outside it. */
export function dataRoot(files: string[]): { root: string; outside: string } {
  const base = mkdtempSync(join(tmpdir(), 'diffskim-grpc-'));
  const root = join(base, 'data');
  mkdirSync(root, { recursive: true });
  for (const f of files) {
    mkdirSync(dirname(join(root, f)), { recursive: true });
    writeFileSync(join(root, f), 'x');
  }
  const outside = join(base, 'secret.parquet');
  writeFileSync(outside, 'secret');
  return { root, outside };
}

/** All events of several batches as rows of plain values, for comparisons in tests. */
export function rowsOf(batches: EventBatch[]): unknown[][] {
  const rows: unknown[][] = [];
  for (const b of batches) {
    for (let i = 0; i < b.length; i++) {
      rows.push(
        b.schema.map((f) => {
          const c = b.columns[f.name];
          if (c.validity && !c.validity[i]) return null;
          if (c.kind === 'list')
            return Array.from(c.values.subarray(c.offsets[i], c.offsets[i + 1]) as ArrayLike<number>);
          const v = c.values[i];
          return typeof v === 'bigint' ? v.toString() : v;
        }),
      );
    }
  }
  return rows;
}
