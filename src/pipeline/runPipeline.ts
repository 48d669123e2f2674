import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { identity, lastValueFrom } from 'rxjs';
import { toyBatches } from '../datasets/toy.js';
import { saveModel } from '../model/io.js';
import type { SelectionModel } from '../model/model.js';
import { mlpScore } from '../model/score.js';
import { toCutsFile } from '../model/toCutsFile.js';
import { plotTraining } from '../plots/trainingPlots.js';
import { evaluateModel, type Evaluation } from '../eval/evaluate.js';
import { writeHtmlReport } from '../report/html.js';
import type { RunReport } from '../report/types.js';
import { writeEvaluation } from '../report/writeEvaluation.js';
import type { CutsFile } from '../selection/cutsFile.js';
import { parquetSink } from '../sinks/parquetSink.js';
import { skimOutputPaths } from '../skim/outputPaths.js';
import { skimRootFiles } from '../skim/rootSkim.js';
import { notWrittenWarning } from '../skim/notWritten.js';
import { runSkim, type SkimResult } from '../skim/runSkim.js';
import { skimStream } from '../skim/skimStream.js';
import { type Demand, paced } from '../sources/demand.js';
import { openSource, type OpenedSource } from './openSource.js';
import { fromPull } from '../sources/parquetStream.js';
import { trainSelection, type TrainResult } from '../training/trainer.js';
import { writeJsonAtomic } from '../util/atomicWrite.js';
import { createProgress } from '../util/progress.js';
import { loadPipeline } from './load.js';
import { type Pipeline, skimsInEngine } from './schema.js';
import { trainingSettings } from './settings.js';
import { removeStaleTempFiles } from '../util/tempFiles.js';
import { Interrupted } from '../util/stopSignal.js';

export type { RunReport };

export interface RunOptions {
  outDir: string;
  /** Go on from the newest checkpoint in outDir/checkpoints (same pipeline, backend and data). */
  resume?: boolean;
  /** Stops the run cleanly (training between minibatches; a skim file being written is removed). */
  signal?: AbortSignal;
}

/**
 * Runs a pipeline file end to end: (generate the embedded dataset if asked) -> train cuts x NN
 * with the size term -> save model and cuts.json -> hard-cut skim -> report.json and plots.
 */
export async function runPipeline(pipelinePath: string, options: RunOptions): Promise<RunReport> {
  const t0 = performance.now();
  const pipeline = await loadPipeline(pipelinePath);
  const baseDir = dirname(resolve(pipelinePath));
  const outDir = resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  // Temporary files of an earlier run that was killed (their writer is gone).
  for (const dir of [outDir, join(outDir, 'skim')]) await removeStaleTempFiles(dir);
  await generateIfMissing(pipeline, baseDir);

  const opened = await openSource(pipeline.source, baseDir);
  const skimOutputs = skimOutputPaths(opened.found); // decided (and clashes refused) before any work
  const info = await opened.source.describe();
  const { epochs, validationFraction } = pipeline.training;
  // An estimate until the training split (drawn event by event) is counted.
  const training = createProgress({ stage: 'train', total: Math.round(info.rows * (1 - validationFraction)) * epochs });
  const trained = await trainSelection({
    settings: trainingSettings(pipeline, info),
    source: opened.source,
    info,
    checkpointDir: join(outDir, 'checkpoints'),
    resume: options.resume,
    signal: options.signal,
    onTrainingSplit: (n) => training.setTotal(n * epochs),
    onStep: (n) => training.advance(n),
  }).catch((e: unknown) => {
    training.fail();
    throw e;
  });
  training.done({ backend: trained.backend, auc: trained.validationAuc });
  const trainSeconds = (performance.now() - t0) / 1000;

  await saveModel(join(outDir, 'model'), trained.model);
  const cuts = toCutsFile(trained.model, pipeline.skim.scoreCut, pipeline.preselection);
  await writeJsonAtomic(join(outDir, 'cuts.json'), cuts);

  const t1 = performance.now();
  const skimmed = skimPipeline(
    pipeline,
    opened,
    skimOutputs,
    cuts,
    trained.model,
    join(outDir, 'skim'),
    options.signal,
  );
  const skim = await skimmed.catch((e: unknown) => {
    // Training is complete and checkpointed: a resumed run goes straight to the skim.
    throw e instanceof Interrupted && !e.where ? e.at('in the skim, after training (its last checkpoint is kept)') : e;
  });
  const skimSeconds = (performance.now() - t1) / 1000;
  // One more streaming pass, over the events training held out (all of them without a validation
  // split): efficiencies of the skim, ROC, cut flow and per-cut distributions.
  const evaluation = await evaluateModel({
    validation: validationFraction > 0 ? { fraction: validationFraction, seed: pipeline.training.seed } : undefined,
    source: opened.source,
    model: trained.model,
    cuts,
    label: pipeline.label,
    weight: pipeline.weight,
    keep: pipeline.skim.keep,
    inEngineSkim: skimsInEngine(pipeline),
  });
  const plots = await plotTraining(trained.history, outDir);

  const report = buildReport({ pipelinePath, pipeline, opened, trained, cuts, skim, evaluation, plots });
  report.timings = { trainSeconds, skimSeconds, totalSeconds: (performance.now() - t0) / 1000 };
  await writeJsonAtomic(join(outDir, 'report.json'), report);
  const provenance = { model: join(outDir, 'model'), cutsFile: join(outDir, 'cuts.json'), inputs: skim.inputs };
  const written = await writeEvaluation(evaluation, provenance, outDir);
  await writeHtmlReport(outDir, {
    run: report,
    evaluation: { ...provenance, ...evaluation },
    plots: [...report.plots, ...written.plots],
  });
  return report;
}

/** Writes the embedded toy dataset when the pipeline asks for it and the file is not there. */
async function generateIfMissing(pipeline: Pipeline, baseDir: string): Promise<void> {
  const source = pipeline.source;
  if (source.kind !== 'parquet' || !source.generate) return;
  const path = resolve(baseDir, source.paths[0]);
  if (existsSync(path)) return;
  await mkdir(dirname(path), { recursive: true });
  const toy = { kind: source.generate, eventsPerClass: source.generateEvents ?? 40_000 };
  const read = (demand: Demand) =>
    fromPull(async function* () {
      yield* toyBatches(toy);
    }, demand);
  await lastValueFrom(paced(read, identity, (demand) => parquetSink(path, { rowGroupRows: 16_384, demand })));
  process.stderr.write(`generated ${source.generate} dataset: ${relative(process.cwd(), path) || path}\n`);
}

/** Hard-cut skim of the pipeline's inputs, one file each: in-engine for Parquet files, streaming otherwise. */
async function skimPipeline(
  pipeline: Pipeline,
  opened: OpenedSource,
  outputs: string[],
  cuts: CutsFile,
  model: SelectionModel,
  outDir: string,
  signal?: AbortSignal,
): Promise<SkimResult> {
  const score = cuts.score
    ? {
        fn: (b: Parameters<typeof mlpScore>[1]) => mlpScore(model, b),
        threshold: cuts.score.value,
        columns: model.features,
      }
    : undefined;
  const rectangular: CutsFile = { cuts: cuts.cuts, score: null };
  const options = { cuts: rectangular, outDir, keep: pipeline.skim.keep, codec: pipeline.skim.codec, score };
  if (opened.kind === 'parquet') return runSkim({ inputs: opened.files, outputs, ...options, signal });
  if (pipeline.source.kind === 'root') {
    const root = { tree: pipeline.source.tree, branches: pipeline.source.branches };
    return skimRootFiles({ inputs: opened.files, outputs, root, ...options, signal });
  }
  return skimStream({ source: opened.source, inputs: opened.files, name: pipeline.name, ...options });
}

function buildReport(r: {
  pipelinePath: string;
  pipeline: Pipeline;
  opened: OpenedSource;
  trained: TrainResult;
  cuts: CutsFile;
  skim: SkimResult;
  evaluation: Evaluation;
  plots: string[];
}): RunReport {
  const { skim, trained } = r;
  const saved = r.evaluation.savedCuts;
  return {
    pipeline: resolve(r.pipelinePath),
    inputs: skim.inputs,
    skimFiles: skim.skimFiles,
    eventsIn: skim.eventsIn,
    eventsKept: skim.eventsKept,
    eventsCut: skim.eventsCut,
    bytesIn: skim.bytesIn,
    bytesOut: skim.bytesOut,
    bytesSaved: skim.bytesSaved,
    bytesSavedByRows: skim.bytesSavedByRows,
    bytesSavedByColumns: skim.bytesSavedByColumns,
    bytesSavedByEncoding: skim.bytesSavedByEncoding,
    columnsNotWritten: skim.columnsNotWritten,
    keptFractionPredicted: trained.keptFractionPredicted,
    keptBytesFractionPredicted: trained.keptBytesFractionPredicted,
    keptFractionActual: skim.eventsIn > 0 ? skim.eventsKept / skim.eventsIn : 0,
    ...(r.pipeline.label && {
      signalEfficiency: saved.signalEfficiency,
      backgroundEfficiency: saved.backgroundEfficiency,
      auc: trained.validationAuc,
    }),
    cuts: r.cuts,
    backend: trained.backend,
    trainingEventsPerSecond: trained.eventsPerSecond,
    warnings: [
      ...trained.warnings,
      ...(skim.columnsNotWritten.length ? [notWrittenWarning(skim.columnsNotWritten)] : []),
    ],
    plots: r.plots,
    timings: { trainSeconds: 0, skimSeconds: skim.seconds, totalSeconds: 0 },
  };
}
