import { notWrittenWarning } from '../skim/notWritten.js';
import type { SkimResult } from '../skim/runSkim.js';
import { formatBytes } from '../util/formatBytes.js';

export function summaryLines(r: SkimResult): string[] {
  const pct = (x: number, of: number) => (of > 0 ? `${((100 * x) / of).toFixed(1)}%` : '-');
  const b = formatBytes;
  return [
    `skimmed ${r.inputs.length} file(s) in ${r.seconds.toFixed(2)} s (${r.path})`,
    `events: ${r.eventsIn} in, ${r.eventsKept} kept (${pct(r.eventsKept, r.eventsIn)}), ${r.eventsCut} cut`,
    `bytes: ${b(r.bytesIn)} in, ${b(r.bytesOut)} out, saved ${b(r.bytesSaved)} (${pct(r.bytesSaved, r.bytesIn)}): ` +
      `${b(r.bytesSavedByRows)} by rows, ${b(r.bytesSavedByColumns)} by columns, ` +
      `${b(r.bytesSavedByEncoding)} by re-encoding`,
    `push-down: ${r.rowGroupsSkipped}/${r.rowGroupsTotal} row groups skipped, ${b(r.bytesNeverRead)} never read`,
    ...(r.columnsNotWritten.length ? [`warning: ${notWrittenWarning(r.columnsNotWritten)}`] : []),
  ];
}
