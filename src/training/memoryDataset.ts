import { from } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
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
  const info: DatasetInfo = { files: [{ path: 'memory', bytes, rows, rowGroups: batches.length }], schema: batches[0].schema, rows, bytesOnDisk: bytes, columnBytes, columnValues };
  return { source: { describe: async () => info, batches: () => from(batches) }, info };
}
