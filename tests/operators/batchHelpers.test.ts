import { describe, expect, it } from 'vitest';
import { lastValueFrom, toArray } from 'rxjs';
import { type Column, concatBatches, type EventBatch, makeBatch, sliceBatch, takeRows } from '../../src/batch/batch.js';
import { allocate, DTYPES, viewOf } from '../../src/batch/schema.js';
import { memoryDataset } from '../../src/training/memoryDataset.js';

/** Events as plain rows: id, the list's values and whether x is valid. */
function rows(b: EventBatch): [number, number[], number][] {
  const id = b.columns.id.values;
  const jets = b.columns.jets;
  if (jets.kind !== 'list') throw new Error('jets is a list');
  return Array.from({ length: b.length }, (_, i) => [
    Number(id[i]),
    Array.from(jets.values.subarray(jets.offsets[i], jets.offsets[i + 1]) as Float32Array),
    b.columns.x.validity?.[i] ?? 1,
  ]);
}

const schema: EventBatch['schema'] = [
  { name: 'id', type: 'int32', list: false, nullable: false },
  { name: 'x', type: 'float32', list: false, nullable: true },
  { name: 'jets', type: 'float32', list: true, nullable: false },
];

describe('batch helpers', () => {
  it('concatenate batches whose list offsets do not start at 0 and whose arrays are longer than their events', () => {
    // A view into larger arrays, as a source reusing its arrays or an Arrow slice hands out.
    const a: EventBatch = {
      schema,
      length: 2,
      columns: {
        id: { kind: 'flat', values: Int32Array.of(1, 2, 99) },
        x: { kind: 'flat', values: Float32Array.of(0.5, 0, 9), validity: Uint8Array.of(1, 0, 1) },
        jets: { kind: 'list', offsets: Int32Array.of(2, 4, 5), values: Float32Array.of(98, 99, 10, 11, 12) },
      },
      origin: { file: 'f.parquet', rowGroup: 0, firstRow: 0 },
    };
    const b: EventBatch = {
      schema,
      length: 1,
      columns: {
        id: { kind: 'flat', values: Int32Array.of(3) },
        x: { kind: 'flat', values: Float32Array.of(1) },
        jets: { kind: 'list', offsets: Int32Array.of(0, 1), values: Float32Array.of(20) },
      },
      origin: { file: 'f.parquet', rowGroup: 0, firstRow: 700 },
    };
    const c = concatBatches([a, b]);
    expect(rows(c)).toEqual([
      [1, [10, 11], 1],
      [2, [12], 0],
      [3, [20], 1],
    ]);
    expect(c.columns.id.values.length).toBe(3);
    expect(c.origin).toEqual({ file: 'f.parquet' }); // not one contiguous run of rows
    expect(concatBatches([a, { ...b, origin: { file: 'g.parquet' } }]).origin).toBeUndefined();
  });

  it('parts of a batch keep its file, and its first row only when they start where it starts', () => {
    const n = 6;
    const offsets = Int32Array.from({ length: n + 1 }, (_, i) => i);
    const batch: EventBatch = {
      schema,
      length: n,
      columns: {
        id: { kind: 'flat', values: Int32Array.from({ length: n }, (_, i) => i) },
        x: { kind: 'flat', values: new Float32Array(n) },
        jets: { kind: 'list', offsets, values: new Float32Array(n) },
      },
      origin: { file: 'f.parquet', rowGroup: 3, firstRow: 500 },
    };
    expect(sliceBatch(batch, 0, 3).origin).toEqual(batch.origin);
    expect(sliceBatch(batch, 3, 6).origin).toEqual({ file: 'f.parquet' });
    expect(takeRows(batch, Uint32Array.of(4, 1)).origin).toEqual({ file: 'f.parquet' });
    expect(rows(takeRows(batch, Uint32Array.of(4, 1))).map((r) => r[0])).toEqual([4, 1]);
  });

  it('takes rows of every value type, flat and list, bit for bit (NaN payloads, int64, nulls), from views at an offset', () => {
    const n = 7;
    const lengths = [0, 3, 1, 0, 2, 4, 1];
    const offsets = Int32Array.from({ length: n + 1 }, (_, i) => lengths.slice(0, i).reduce((a, b) => a + b, 0));
    // Random bytes for every array: floats get NaNs with payloads, integers their full range.
    let state = 7;
    const randomBytes = (count: number) =>
      Uint8Array.from({ length: count }, () => ((state = (state * 1103515245 + 12345) >>> 0) >>> 16) & 255);
    const fields: EventBatch['schema'] = DTYPES.flatMap((type) => [
      { name: `${type}`, type, list: false, nullable: true },
      { name: `${type}[]`, type, list: true, nullable: false },
    ]);
    const columns: EventBatch['columns'] = {};
    for (const f of fields) {
      const size = allocate(f.type, 0).BYTES_PER_ELEMENT;
      const count = f.list ? offsets[n] : n;
      // A view 3 values into a larger array, as a reused array hands out.
      const values = viewOf(f.type, randomBytes((count + 3) * size).buffer, 3 * size, count);
      columns[f.name] = f.list
        ? { kind: 'list', offsets, values }
        : { kind: 'flat', values, validity: randomBytes(n).map((b) => b & 1) };
    }
    const batch: EventBatch = { schema: fields, length: n, columns };
    const order = Uint32Array.of(5, 0, 6, 1, 1, 3, 4);
    const taken = takeRows(batch, order);
    // The reference: each event's bytes, looked up one by one.
    const bytesOf = (c: Column, i: number) => {
      const v = c.values;
      const size = v.BYTES_PER_ELEMENT;
      const [lo, hi] = c.kind === 'list' ? [c.offsets[i], c.offsets[i + 1]] : [i, i + 1];
      return [...new Uint8Array(v.buffer, v.byteOffset + lo * size, (hi - lo) * size)];
    };
    for (const f of fields) {
      const [from, to] = [batch.columns[f.name], taken.columns[f.name]];
      order.forEach((r, i) => {
        expect(bytesOf(to, i)).toEqual(bytesOf(from, r));
        expect(to.validity?.[i]).toBe(from.validity?.[r]);
      });
    }
  });
});

describe('memoryDataset', () => {
  it('applies the cuts a reader pushes down, as every source must', async () => {
    const batch = makeBatch(
      { id: Int32Array.from({ length: 10 }, (_, i) => i), x: Float64Array.from({ length: 10 }, (_, i) => i / 2) },
      { id: 'int32', x: 'float64' },
    );
    const { source } = memoryDataset([batch]);
    const kept = await lastValueFrom(source.batches({ where: [{ column: 'x', op: '>', value: 2 }] }).pipe(toArray()));
    expect(kept.flatMap((b) => Array.from(b.columns.id.values as Int32Array))).toEqual([5, 6, 7, 8, 9]);
  });
});
