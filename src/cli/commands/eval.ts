import { relative } from 'node:path';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { DEFAULT_EFFICIENCIES } from '../../eval/defaults.js';
import type { Evaluation } from '../../eval/evaluate.js';
import type { PipelineEvalInput } from '../../pipeline/evalSamples.js';
import { formatBytes } from '../../util/formatBytes.js';
import { sampleLines } from '../summary.js';

interface EvalCliOptions {
  model: string;
  input?: string[];
  pipeline?: string;
  label?: string;
  weight?: string;
  cuts?: string;
  out: string;
  friend?: string;
  keep?: string;
  efficiencies: number[];
  tree?: string;
}

function parseEfficiencies(text: string): number[] {
  const values = text.split(',').map((s) => Number(s.trim()));
  if (values.length === 0 || values.some((v) => !(v > 0 && v <= 1)))
    throw new InvalidArgumentError(`expected comma-separated fractions in (0, 1], got '${text}'`);
  return values;
}

function evalSummary(e: Evaluation): string[] {
  const b = formatBytes;
  const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : `${(100 * x).toFixed(1)}%`);
  const s = e.savedCuts;
  const lines = [
    `events:      ${e.events}${e.label ? ` (${e.signalEvents} signal, ${e.backgroundEvents} background)` : ''}, ${Math.round(e.eventsPerSecond)} events/s`,
  ];
  if (e.label) lines.push(`AUC:         ${e.auc === null ? 'n/a (needs both classes)' : e.auc.toFixed(4)}`);
  lines.push(
    `saved cuts:  keep ${s.eventsKept} events (${pct(s.keptFraction)})${s.signalEfficiency !== undefined ? `, signal eff. ${pct(s.signalEfficiency)}, background eff. ${pct(s.backgroundEfficiency)}` : ''}`,
    `skim bytes:  ${b(s.bytesIn)} in = ~${b(s.bytesKeptEstimate)} kept + ~${b(s.bytesSavedEstimate)} saved ` +
      `(estimate: ` +
      `~${b(s.bytesSavedByRowsEstimate)} by the cuts, ${b(s.bytesSavedByColumns)} by the columns left out, ` +
      `${b(s.bytesSavedOverhead)} the input files' own overhead)`,
  );
  for (const w of e.workingPoints)
    lines.push(
      `eps_S ${pct(w.targetSignalEfficiency).padStart(6)}:  score >= ${w.threshold.toPrecision(4)}, ` +
        `eps_B ${pct(w.backgroundEfficiency)}, keeps ${pct(w.keptFraction)} of events`,
    );
  if (e.samples) lines.push(...sampleLines(e.samples));
  lines.push(...e.warnings.map((w) => `warning:     ${w}`));
  return lines;
}

export function register(program: Command): void {
  program
    .command('eval')
    .summary('score a new dataset with a saved model: ROC, AUC, working points, cut flow, plots, report.html')
    .description(
      'Stream a dataset through a saved model (its learned cuts and classifier) with bounded memory, and write eval.json, ' +
        'plots (ROC curve, score histograms, one per cut) and a self-contained report.html to --out.\n\n' +
        'With --label: efficiencies, the ROC curve, AUC and the score threshold at each chosen signal efficiency. ' +
        'With or without it: the cut flow and what a skim with the saved cuts would keep (events, estimated bytes).',
    )
    .requiredOption(
      '-m, --model <dir>',
      'run folder (holding model/ and cuts.json) or model folder (holding model.json)',
    )
    .option(
      '-i, --input <spec...>',
      'events to evaluate: Parquet files, directories, globs or @list.txt; ROOT files (*.root); or grpc://host:port/path (grpcs:// for TLS, token from $DIFFSKIM_TOKEN)',
    )
    .option(
      '-p, --pipeline <file>',
      "instead of --input: a pipeline file's samples (labels and normalised weights from them), with yields per sample",
    )
    .option('-l, --label <column>', 'truth label column (1 = signal, 0 = background)')
    .option('-w, --weight <column>', 'per-event weight column for efficiencies and AUC')
    .option(
      '-c, --cuts <file>',
      'cuts.json to evaluate (default: cuts.json in the --model folder or next to its model/, else the learned cuts)',
    )
    .option('-o, --out <dir>', 'output folder', 'eval')
    .option('--keep <columns>', 'comma-separated columns a skim would write, for the bytes estimate (default: all)')
    .option(
      '--friend <file.parquet>',
      'also write the scores to this Parquet file: columns event (row index in input order), score, passes',
    )
    .addOption(
      new Option('--efficiencies <list>', 'comma-separated signal efficiencies at which to report the score threshold')
        .argParser(parseEfficiencies)
        .default(DEFAULT_EFFICIENCIES, DEFAULT_EFFICIENCIES.join(',')),
    )
    .option('--tree <name>', 'TTree to read from ROOT inputs (default: the only tree in the file, else Events)')
    .addHelpText(
      'after',
      `
Examples:
  $ diffskim eval --model runs/toy2d --input data/generated/toy2d.parquet --label label --out runs/toy2d/eval
  $ diffskim eval -m runs/nano -i 'data/nano/*.root' --tree Events --friend runs/nano/scores.parquet
  $ DIFFSKIM_TOKEN=secret diffskim eval -m runs/toy2d -i grpc://skimhost:50051/toy2d.parquet -l label

Outputs in --out: eval.json, roc.png, scores.png, cut-<n>-<variable>.png (each also .svg), report.html.
See docs/reading-the-report.md for what every figure means.`,
    )
    .action(async (o: EvalCliOptions) => {
      await (await import('../../pipeline/runFolder.js')).refuseRunFolder(o.out, '--out');
      const { evaluateModel } = await import('../../eval/evaluate.js');
      const { locateModel, openEvalInput } = await import('../../eval/inputs.js');
      const { writeEvaluation } = await import('../../report/writeEvaluation.js');
      const { writeHtmlReport } = await import('../../report/html.js');
      const { loadModel } = await import('../../model/io.js');
      const { readCutsFile } = await import('../../selection/cutsFile.js');
      const { modelDir, cutsFile: foundCuts } = locateModel(o.model);
      const model = await loadModel(modelDir);
      const cutsFile = o.cuts ?? foundCuts;
      const cuts = cutsFile ? await readCutsFile(cutsFile) : undefined;
      if (Boolean(o.input) === Boolean(o.pipeline)) throw new Error('give --input or --pipeline (one of them)');
      const input: PipelineEvalInput = o.pipeline
        ? await (await import('../../pipeline/evalSamples.js')).openPipelineSamples(o.pipeline)
        : { ...(await openEvalInput(o.input!, { tree: o.tree })), label: o.label, weight: o.weight };
      const evaluation = await evaluateModel({
        source: input.source,
        model,
        cuts,
        label: input.label,
        weight: input.weight,
        weightName: input.weightName,
        sampleIndex: input.sampleIndex,
        efficiencies: o.efficiencies,
        friend: o.friend,
        keep: o.keep
          ?.split(',')
          .map((c) => c.trim())
          .filter(Boolean),
        inEngineSkim: input.kind === 'Parquet' && !cuts?.score,
        inputName: input.inputs.join(', '),
      });
      if (input.countSamples) evaluation.samples = await input.countSamples(evaluation.savedCuts.cuts, model);
      const provenance = { model: modelDir, cutsFile, inputs: input.inputs };
      const written = await writeEvaluation(evaluation, provenance, o.out, { logY: input.logY });
      const html = await writeHtmlReport(o.out, { evaluation: { ...provenance, ...evaluation }, plots: written.plots });
      for (const line of evalSummary(evaluation)) console.log(line);
      const shown = (p: string) => (relative(process.cwd(), p).startsWith('..') ? p : relative(process.cwd(), p));
      const scores = evaluation.friend ? `; scores in ${shown(evaluation.friend.path)}` : '';
      console.log(`wrote ${shown(written.json)}, ${shown(html)} and ${written.plots.length} plots${scores}`);
    });
}
