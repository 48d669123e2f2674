import { describe, expect, it } from 'vitest';
import type { Field } from '../../src/batch/schema.js';
import { copyMemoryLimitMB } from '../../src/skim/runSkim.js';
import type { ParquetFileMeta } from '../../src/sources/parquetMeta.js';

/** A file's metadata: row groups of these sizes; list columns hold `perEvent` values per event. */
function meta(fields: Field[], rowGroups: number[], perEvent = 3): ParquetFileMeta {
  const stats = (f: Field, rows: number) => ({
    compressedBytes: 0,
    uncompressedBytes: 0,
    values: f.list ? rows * perEvent : rows,
    min: null,
    max: null,
    nullCount: 0,
  });
  let firstRow = 0;
  return {
    path: 'f.parquet',
    bytes: 0,
    mtimeMs: 0,
    inode: 0,
    duckdbNames: new Map(),
    rows: rowGroups.reduce((a, b) => a + b, 0),
    schema: fields,
    columns: fields.map((f) => f.name),
    unsupported: [],
    leaves: [],
    unreadableLeaves: [],
    rowGroups: rowGroups.map((rows, index) => {
      const g = { index, rows, firstRow, columns: Object.fromEntries(fields.map((f) => [f.name, stats(f, rows)])) };
      firstRow += rows;
      return g;
    }),
    codec: 'snappy',
  };
}

const float = (name: string, list = false): Field => ({ name, type: 'float32', list, nullable: false });

describe('the in-engine skim memory limit', () => {
  it('is the 256 MB floor for a HEP-like file', () => {
    const fields = [...Array.from({ length: 12 }, (_, i) => float(`c${i}`)), float('jet_pt', true)];
    const names = fields.map((f) => f.name);
    expect(copyMemoryLimitMB(meta(fields, [122880, 122880, 5000]), names, names, 2)).toBe(256);
  });

  it('leaves room for each thread to hold one of the largest row groups, read and kept whole', () => {
    const fields = Array.from({ length: 15 }, (_, i) => float(`c${i}`));
    const names = fields.map((f) => f.name);
    // 8 M events of 60 bytes, read and kept, on 2 threads: 2 × 8e6 × 120 bytes.
    expect(copyMemoryLimitMB(meta(fields, [8_000_000]), names, names, 2)).toBe(Math.ceil((2 * 8e6 * 120) / 2 ** 20));
    // Keeping 5 columns, cutting on another: 2 × 8e6 × (20 + 24) bytes.
    expect(copyMemoryLimitMB(meta(fields, [8_000_000]), names.slice(0, 5), names.slice(0, 6), 2)).toBe(
      Math.ceil((2 * 8e6 * 44) / 2 ** 20),
    );
  });

  it('grows with the kept columns of a wide file, lists counted by their mean length', () => {
    const fields = Array.from({ length: 1000 }, (_, i) => float(`c${i}`));
    const names = fields.map((f) => f.name);
    // 16 output row groups of 32768 rows of 1000 float32: 2000 MiB.
    expect(copyMemoryLimitMB(meta(fields, [1000]), names, names, 2)).toBe(2000);
    expect(copyMemoryLimitMB(meta(fields, [1000]), names.slice(0, 500), names, 2)).toBe(1000);
    const lists = Array.from({ length: 200 }, (_, i) => float(`l${i}`, true));
    const listNames = lists.map((f) => f.name);
    // (4 bytes × 10 values + 4 bytes of offset) per list per event.
    expect(copyMemoryLimitMB(meta(lists, [1000], 10), listNames, listNames, 2)).toBe(
      Math.ceil((16 * 32768 * 200 * 44) / 2 ** 20),
    );
  });
});
