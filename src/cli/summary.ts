import { notWrittenWarning } from '../skim/notWritten.js';
import { totalOf } from '../eval/sampleTotals.js';
import type { SampleCounts } from '../eval/sampleYields.js';
import type { SamplesReport } from '../report/samples.js';
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

/** One line per sample (events, weighted yields before and after, efficiency, bytes of a skim), the total, then S, B and the significances. */
export function sampleLines(r: SamplesReport | SampleCounts): string[] {
  const g = (x: number) => x.toPrecision(5);
  const width = Math.max(...r.samples.map((s) => s.name.length), 5);
  const line = (name: string, s: ReturnType<typeof totalOf> | SamplesReport['total']) =>
    `${name.padEnd(width)}  ${s.eventsIn} in, ${s.eventsKept} kept; yield ${g(s.yieldIn)} -> ${g(s.yieldKept)} ` +
    `(${(100 * s.efficiency).toFixed(1)}%)` +
    ('bytesIn' in s ? `; ${formatBytes(s.bytesIn)} -> ${formatBytes(s.bytesOut)}` : '');
  const z = r.significance;
  return [
    ...r.samples.map((s) => line(s.name, s)),
    line('total', 'total' in r ? r.total : totalOf(r.samples)),
    `after the cuts: S ${g(z.signal)}, B ${g(z.background)}, S/sqrt(B) ${z.sOverSqrtB.toFixed(3)}, ` +
      `Z_A ${z.asimov.toFixed(3)}${z.sigmaB > 0 ? ` (sigma_B ${z.sigmaB})` : ''}`,
  ];
}
