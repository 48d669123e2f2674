import { mkdtemp, rm, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { SkimPrediction } from '../report/types.js';
import { parquetSource } from '../sources/parquet.js';
import type { DatasetInfo } from '../sources/types.js';
import { skimColumns } from '../training/eventBytes.js';
import type { TrainResult } from '../training/trainer.js';

/**
 * How the skim's writer stores each column: bytes per value (per event for a flat column, per
 * list entry for a list), and the bytes of a file beyond its columns (footer, page headers
 * aside). Measured once by writing a sample with the real writer.
 */
export interface WriterModel {
  bytesPerValue: Record<string, number>;
  fileOverhead: number;
}

/**
 * Writes `columns` of the first input with the skim's own writer (`writeSample(dir)` runs the
 * skim of that file without cuts into dir and returns the written file) and reads its footer.
 */
export async function measureWriter(
  parent: string,
  writeSample: (dir: string) => Promise<string>,
): Promise<WriterModel> {
  const dir = await mkdtemp(join(parent, '.writer-sample-'));
  try {
    const file = await writeSample(dir);
    const info = await parquetSource([file]).describe();
    const bytesPerValue: Record<string, number> = {};
    let columnBytes = 0;
    for (const [column, bytes] of Object.entries(info.columnBytes)) {
      columnBytes += bytes;
      bytesPerValue[column] = bytes / Math.max(1, valuesOf(info, column));
    }
    return { bytesPerValue, fileOverhead: (await stat(file)).size - columnBytes };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * Predicts the skim of a run with column selection from its columns' soft kept shares and gates
 * (TrainResult.columnsPredicted: the pinned and candidate columns), over `files` input files.
 */
export function predictSkim(
  info: DatasetInfo,
  predicted: TrainResult['columnsPredicted'],
  writer: WriterModel,
  files: number,
  inEngine: boolean,
): SkimPrediction {
  const counted = new Map(predicted.map((c) => [c.column, c]));
  let bytesOut = writer.fileOverhead * files;
  let bytesSavedByColumns = 0;
  let bytesSavedByRows = 0;
  for (const column of skimColumns(info, inEngine)) {
    const bytes = info.columnBytes[column] ?? 0;
    const c = counted.get(column);
    if (!c) {
      bytesSavedByColumns += bytes;
      continue;
    }
    bytesSavedByColumns += (1 - c.open) * bytes;
    bytesSavedByRows += c.open * (1 - c.keptShare) * bytes;
    const perValue = writer.bytesPerValue[column] ?? bytes / Math.max(1, valuesOf(info, column));
    bytesOut += c.open * c.keptShare * perValue * valuesOf(info, column);
  }
  return { bytesOut, bytesSavedByColumns, bytesSavedByRows };
}

function valuesOf(info: DatasetInfo, column: string): number {
  return info.schema.find((f) => f.name === column)?.list ? (info.columnValues[column] ?? 0) : info.rows;
}

/** The sample's output name under its folder. */
export function sampleName(input: string): string {
  return basename(input).replace(/\.(parquet|root)$/, '') + '.sample.parquet';
}
