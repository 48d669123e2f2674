import { join } from 'node:path';
import type { SkimResult } from '../skim/runSkim.js';
import type { ManifestEntry } from './manifest.js';

/**
 * The skim summary (runSkim's SkimResult, the format of report.json) of a set of completed
 * manifest entries. `seconds` is the sum of the per-file skim times (task-seconds).
 */
export function resultFromEntries(entries: ManifestEntry[], outDir: string): SkimResult {
  const sum = (f: (e: ManifestEntry) => number) => entries.reduce((s, e) => s + f(e), 0);
  const files = entries.map((e) => ({
    input: e.input,
    output: join(outDir, e.output),
    eventsIn: e.eventsIn,
    eventsKept: e.eventsKept,
    bytesIn: e.inputBytes,
    bytesOut: e.outputBytes,
  }));
  const eventsIn = sum((e) => e.eventsIn);
  const eventsKept = sum((e) => e.eventsKept);
  const bytesIn = sum((e) => e.inputBytes);
  const bytesOut = sum((e) => e.outputBytes);
  const bytesSavedByColumns = sum((e) => e.bytesSavedByColumns);
  return {
    inputs: files.map((f) => f.input),
    skimFiles: files.map((f) => f.output),
    files,
    eventsIn,
    eventsKept,
    eventsCut: eventsIn - eventsKept,
    bytesIn,
    bytesOut,
    bytesSaved: bytesIn - bytesOut,
    bytesSavedByColumns,
    bytesSavedByRows: bytesIn - bytesOut - bytesSavedByColumns,
    rowGroupsTotal: sum((e) => e.rowGroupsTotal),
    rowGroupsSkipped: sum((e) => e.rowGroupsSkipped),
    bytesNeverRead: sum((e) => e.bytesNeverRead),
    seconds: sum((e) => e.seconds),
    path: 'duckdb-copy',
  };
}
