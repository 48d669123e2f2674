import type { Command } from 'commander';
import type { RunReport } from '../../pipeline/runPipeline.js';
import { formatBytes } from '../../util/formatBytes.js';
import { stopOnSignals } from '../../util/stopSignal.js';
import { sampleLines } from '../summary.js';

export function runSummary(r: RunReport, outDir: string): string {
  const pct = (x: number) => `${(100 * x).toFixed(1)}%`;
  const b = formatBytes;
  const cut = r.cuts.cuts
    .map((c) =>
      c.op === 'between'
        ? `${c.low.toPrecision(4)} < ${c.column} < ${c.high.toPrecision(4)}`
        : `${c.column} ${c.op} ${c.value.toPrecision(4)}`,
    )
    .join(' && ');
  const lines = [
    `cuts learned:   ${cut || '(none)'}${r.cuts.score ? ` && score > ${r.cuts.score.value}` : ''}`,
    ...(r.auc !== undefined
      ? [
          `AUC (validation): ${r.auc.toFixed(4)}`,
          `efficiency (validation): signal ${pct(r.signalEfficiency!)}, background ${pct(r.backgroundEfficiency!)}`,
        ]
      : []),
    `events:         ${r.eventsIn} in, ${r.eventsKept} kept (${pct(r.keptFractionActual)}; soft cuts predicted ${pct(r.keptFractionPredicted)}), ${r.eventsCut} cut`,
    `bytes:          ${b(r.bytesIn)} in, ${b(r.bytesOut)} out, ${b(r.bytesSaved)} saved ` +
      `(${pct(r.bytesIn > 0 ? r.bytesSaved / r.bytesIn : 0)}: ${b(r.bytesSavedByRows)} by the cuts, ` +
      `${r.bytesSavedByColumns > 0 ? `${b(r.bytesSavedByColumns)} by the columns left out, ` : ''}` +
      `${b(r.bytesSavedByEncoding)} by re-encoding)`,
    ...(r.columns ? columnLines(r) : []),
    `backend:        ${r.backend}, ${Math.round(r.trainingEventsPerSecond)} training events/s; train ${r.timings.trainSeconds.toFixed(1)} s, skim ${r.timings.skimSeconds.toFixed(2)} s`,
    ...(r.samples ? sampleLines(r.samples) : []),
    ...r.warnings.map((w) => `warning:        ${w}`),
    `output:         ${outDir} (report.html, report.json, cuts.json, model/, skim/, plots)`,
  ];
  return lines.join('\n');
}

/** With column selection: the candidates kept and dropped, and the skim's bytes predicted against measured. */
function columnLines(r: RunReport): string[] {
  const c = r.columns!;
  const dropped = c.dropped.filter((d) => d.candidate);
  const p = c.predicted;
  return [
    `columns:        kept ${c.kept.join(', ') || '(no candidate)'}; gates closed on ` +
      `${dropped.map((d) => `${d.column} (${formatBytes(d.bytes)})`).join(', ') || 'none'}`,
    `predicted:      ${formatBytes(p.bytesOut)} out (on disk ${formatBytes(r.bytesOut)}), ` +
      `${formatBytes(p.bytesSavedByColumns)} by the columns left out, ${formatBytes(p.bytesSavedByRows)} by the cuts`,
  ];
}

export function register(program: Command): void {
  program
    .command('run')
    .description(
      'run a pipeline file: train cuts x classifier with the size term, then write the hard-cut skim and report',
    )
    .argument('<pipeline>', 'pipeline file (YAML), see pipelines/')
    .option('-o, --out <dir>', 'output folder', 'runs/latest')
    .option('--resume', "go on from the output folder's last training checkpoint (same pipeline and data)")
    .addHelpText(
      'after',
      `
The output folder gets: report.html (open it in a browser), report.json, cuts.json, model/
(reload with loadModel), skim/*.parquet, and plots (loss, cut thresholds, kept fraction, ROC,
scores, one per cut) as PNG and SVG. Pipeline keys: docs/pipeline-reference.md.

Ctrl-C (or SIGTERM) stops the run; a checkpoint is saved after every epoch, and --resume goes
on from the last one, giving the same model as a run never stopped.

Example:
  diffskim run pipelines/toy2d.yaml --out runs/toy2d`,
    )
    .action(async (pipeline: string, opts: { out: string; resume?: boolean }) => {
      const { runPipeline } = await import('../../pipeline/runPipeline.js');
      const { withRunFolder } = await import('../../pipeline/runFolder.js');
      const stop = stopOnSignals(`to go on, run: diffskim run ${pipeline} --out ${opts.out} --resume`);
      try {
        const report = await withRunFolder(pipeline, opts.out, () =>
          runPipeline(pipeline, { outDir: opts.out, resume: opts.resume, signal: stop.signal }),
        );
        process.stdout.write(runSummary(report, opts.out) + '\n');
      } finally {
        stop.dispose();
      }
    });
}
