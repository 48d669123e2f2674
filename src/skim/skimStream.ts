import { mkdir } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { newCounts } from '../operators/hardCut.js';
import { progress } from '../operators/progress.js';
import { cutColumns } from '../selection/cutsFile.js';
import { claim } from './claims.js';
import { type SkimResult, skimTotals } from './runSkim.js';
import { checkSkimColumns, columnsNotWritten } from './skimColumns.js';
import type { SkimSpec } from './spec.js';
import { skimPipe } from './skimPipe.js';
import { parseCodec } from '../sinks/parquetSink.js';
import { removeStaleTempFiles } from '../util/tempFiles.js';
import { columnBytesOf, type EventSource } from '../sources/types.js';
import { skimColumns } from '../training/eventBytes.js';
import { createProgress } from '../util/progress.js';

/** A skim (src/skim/spec.ts) of one event source into one file. */
export interface StreamSkimOptions extends Omit<SkimSpec, 'outputs' | 'footers'> {
  source: EventSource;
  /** Local input files behind the source (for the report; empty for a remote source). */
  inputs: string[];
  name: string;
  /** The skim file, relative to outDir (src/skim/outputPaths.ts; default: `<name>.skim.parquet`). */
  output?: string;
}

/**
 * Hard-cut skim of any event source (ROOT files, a gRPC stream) into one Parquet file, claimed
 * against other writers: source -> hardCut -> column selection -> parquetSink, streaming with
 * bounded memory.
 * bytesIn is what the source reports on disk.
 */
export async function skimStream(o: StreamSkimOptions): Promise<SkimResult> {
  const t0 = performance.now();
  const info = await o.source.describe();
  checkSkimColumns(o.name, info, o, true);
  const keep = o.keep ?? skimColumns(info, false);
  const columns = [...new Set([...keep, ...cutColumns(o.cuts), ...(o.score?.columns ?? [])])];
  const output = join(o.outDir, o.output ?? `${o.name}.skim.parquet`);
  await mkdir(dirname(output), { recursive: true });
  const counts = newCounts();
  const release = await claim(output, 'another skim writing this file');
  await removeStaleTempFiles(dirname(output), basename(output)); // left by a killed earlier writer
  const written = await skimPipe({
    read: (options) => o.source.batches(options),
    columns,
    cuts: o.cuts.cuts,
    score: o.score,
    counts,
    keep,
    schema: keep.map((k) => info.schema.find((f) => f.name === k)!),
    output,
    codec: parseCodec(o.codec ?? 'snappy'),
    signal: o.signal,
    watch: progress(createProgress({ stage: 'skim', total: info.rows })),
  }).finally(release);
  const kept = new Set(keep);
  const bytesSavedByColumns = columnBytesOf(info, (c) => !kept.has(c));
  const file = {
    input: o.inputs.join(','),
    output,
    eventsIn: counts.eventsIn,
    eventsKept: counts.kept,
    bytesIn: info.bytesOnDisk,
    bytesOut: written.bytes,
  };
  const totals = skimTotals([file], {
    bytesSavedByColumns,
    rowGroupsTotal: 0,
    rowGroupsSkipped: 0,
    bytesNeverRead: 0,
    seconds: (performance.now() - t0) / 1000,
    path: 'streaming',
    columnsNotWritten: columnsNotWritten(info.unsupported, o.keep),
  });
  return { ...totals, inputs: o.inputs };
}
