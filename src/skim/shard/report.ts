import { join } from 'node:path';
import { type SkimResult, skimTotals } from '../runSkim.js';
import type { ManifestEntry } from './manifest.js';

/**
 * The skim summary (runSkim's SkimResult, the format of report.json) of a set of completed
 * manifest entries. `seconds` is the sum of the per-file skim times (task-seconds).
 */
export function resultFromEntries(
  entries: ManifestEntry[],
  outDir: string,
  path: SkimResult['path'] = 'duckdb-copy',
): SkimResult {
  const sum = (f: (e: ManifestEntry) => number) => entries.reduce((s, e) => s + f(e), 0);
  const files = entries.map((e) => ({
    input: e.input,
    output: join(outDir, e.output),
    eventsIn: e.eventsIn,
    eventsKept: e.eventsKept,
    bytesIn: e.inputBytes,
    bytesOut: e.outputBytes,
  }));
  return skimTotals(files, {
    bytesSavedByColumns: sum((e) => e.bytesSavedByColumns),
    rowGroupsTotal: sum((e) => e.rowGroupsTotal),
    rowGroupsSkipped: sum((e) => e.rowGroupsSkipped),
    bytesNeverRead: sum((e) => e.bytesNeverRead),
    seconds: sum((e) => e.seconds),
    path,
  });
}
