import { from } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import { hardCut } from '../operators/hardCut.js';
import type { HardCut } from '../selection/cutsFile.js';
import type { DatasetInfo, EventSource } from '../sources/types.js';

/**
 * A small dataset held in memory as batches (studies, benchmarks and tests), with the info a
 * Parquet source would report: bytes on disk are taken as the bytes of the values in memory.
 */
export function memoryDataset(batches: EventBatch[]): { source: EventSource; info: DatasetInfo } {
  if (batches.length === 0) throw new Error('memory dataset: no batches');
  const rows = batches.reduce((s, b) => s + b.length, 0);
  const columnBytes: Record<string, number> = {};
  const columnValues: Record<string, number> = {};
  for (const b of batches) {
    for (const [name, c] of Object.entries(b.columns)) {
      columnBytes[name] = (columnBytes[name] ?? 0) + c.values.byteLength;
      columnValues[name] = (columnValues[name] ?? 0) + c.values.length;
    }
  }
  const bytes = Object.values(columnBytes).reduce((a, b) => a + b, 0);
  const info: DatasetInfo = {
    files: [{ path: 'memory', bytes, rows, rowGroups: batches.length }],
    schema: batches[0].schema,
    rows,
    bytesOnDisk: bytes,
    columnBytes,
    columnValues,
  };
  // Pushed-down cuts are applied, as a source must; the projection is not (every column is there).
  const read = (where: HardCut[] = []) => (where.length ? from(batches).pipe(hardCut(where)) : from(batches));
  return { source: { describe: async () => info, batches: (options = {}) => read(options.where) }, info };
}
