import { describe, expect, it } from 'vitest';
import type { Field } from '../../src/batch/schema.js';
import { copyMemoryLimitMB } from '../../src/skim/runSkim.js';
import type { ParquetFileMeta } from '../../src/sources/parquetMeta.js';

/** A file's metadata with `rows` events in one row group; list columns hold `perEvent` values each. */
function meta(fields: Field[], rows: number, perEvent = 3): ParquetFileMeta {
  const stats = (f: Field) => ({ compressedBytes: 0, values: f.list ? rows * perEvent : rows, min: null, max: null, nullCount: 0 });
  return {
    path: 'f.parquet',
    bytes: 0,
    rows,
    schema: fields,
    unsupported: [],
    rowGroups: [{ index: 0, rows, firstRow: 0, columns: Object.fromEntries(fields.map((f) => [f.name, stats(f)])) }],
    codec: 'snappy',
  };
}

const float = (name: string, list = false): Field => ({ name, type: 'float32', list, nullable: false });

describe('the in-engine skim memory limit', () => {
  it('is the 256 MB floor for a HEP-like file', () => {
    const fields = [...Array.from({ length: 12 }, (_, i) => float(`c${i}`)), float('jet_pt', true)];
    expect(copyMemoryLimitMB(meta(fields, 1000), fields.map((f) => f.name))).toBe(256);
  });

  it('grows with the kept columns of a wide file, lists counted by their mean length', () => {
    const fields = Array.from({ length: 1000 }, (_, i) => float(`c${i}`));
    const names = fields.map((f) => f.name);
    // 16 row groups of 32768 rows of 1000 float32: 2000 MiB.
    expect(copyMemoryLimitMB(meta(fields, 1000), names)).toBe(2000);
    expect(copyMemoryLimitMB(meta(fields, 1000), names.slice(0, 500))).toBe(1000);
    const lists = Array.from({ length: 200 }, (_, i) => float(`l${i}`, true));
    // (4 bytes × 10 values + 4 bytes of offset) per list per event.
    expect(copyMemoryLimitMB(meta(lists, 1000, 10), lists.map((f) => f.name))).toBe(Math.ceil((16 * 32768 * 200 * 44) / 2 ** 20));
  });
});
