import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { identity, lastValueFrom } from 'rxjs';
import { generateSamples } from '../datasets/nanoSamples.js';
import { toyBatches } from '../datasets/toy.js';
import { saveModel } from '../model/io.js';
import { toCutsFile } from '../model/toCutsFile.js';
import { plotTraining } from '../plots/trainingPlots.js';
import { evaluateModel, type Evaluation } from '../eval/evaluate.js';
import { plotStackedCuts } from '../plots/stackedPlots.js';
import { writeHtmlReport } from '../report/html.js';
import type { RunReport } from '../report/types.js';
import { writeEvaluation } from '../report/writeEvaluation.js';
import type { CutsFile } from '../selection/cutsFile.js';
import { parquetSink } from '../sinks/parquetSink.js';
import { notWrittenWarning } from '../skim/notWritten.js';
import type { SkimResult } from '../skim/runSkim.js';
import { checkSkimColumns } from '../skim/skimColumns.js';
import { type Demand, paced } from '../sources/demand.js';
import { resolveSamples } from '../samples/resolve.js';
import { mixedSource } from '../samples/mix.js';
import { checkSamples, type ResolvedSample } from '../samples/sample.js';
import type { ParquetSourceConfig } from '../samples/config.js';
import { fromPull } from '../sources/parquetStream.js';
import { trainSelection, type TrainResult } from '../training/trainer.js';
import { writeJsonAtomic } from '../util/atomicWrite.js';
import { createProgress } from '../util/progress.js';
import { loadPipeline } from './load.js';
import { clearEarlierResults } from './runFolder.js';
import { sampleSkimOutputs, scoreCutOf, skimSample, skimSamples } from './skimSample.js';
import { type Pipeline, pipelineSources, skimsInEngine } from './schema.js';
import { labelAndWeight, trainingSettings } from './settings.js';
import { columnSelection, skimKeep, writableColumns } from './columnSelection.js';
import { measureWriter, predictSkim, sampleName } from './predictSkim.js';
import type { ColumnsReport } from '../report/types.js';
import type { DatasetInfo } from '../sources/types.js';
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
  const sampleSkims = (pipeline.samples ?? []).map((s) => join(outDir, 'skim', s.name));
  for (const dir of [outDir, join(outDir, 'skim'), ...sampleSkims]) await removeStaleTempFiles(dir);
  await generateIfMissing(pipeline, baseDir);

  const samples = await resolveSamples(pipeline, baseDir, (line) => process.stderr.write(`${line}\n`));
  if (pipeline.samples) {
    const keep = pipeline.skim.keep;
    checkSamples(samples, { features: pipeline.features, cuts: pipeline.cuts.map((c) => c.column), keep });
  }
  // Decided (and clashes refused) before any work: with samples, skim/<sample>/<path below its input folder>.
  const skimOutputs = sampleSkimOutputs(samples);
  const source = pipeline.samples ? mixedSource(samples, pipeline.training.seed) : samples[0].opened.source;
  const info = await source.describe();
  // The columns the skim keeps (with column selection: the pinned ones), patterns expanded and
  // checked as every skim checks them, before training (whose size term would otherwise name a
  // mistyped one first, in its own words).
  const planned = { keep: skimKeep(pipeline, info, null), cuts: { cuts: [], score: null } };
  for (const s of samples)
    checkSkimColumns(s.opened.kind === 'grpc' ? s.name : s.opened.files[0], s.info, planned, !skimsInEngine(pipeline));
  const { epochs = 30, validationFraction } = pipeline.training;
  // An estimate until the training split (drawn event by event) is counted, and the epochs decided.
  const training = createProgress({ stage: 'train', total: Math.round(info.rows * (1 - validationFraction)) * epochs });
  const trained = await trainSelection({
    settings: trainingSettings(pipeline, info),
    source,
    info,
    checkpointDir: join(outDir, 'checkpoints'),
    resume: options.resume,
    signal: options.signal,
    onTrainingSplit: (n, epochsTaken) => training.setTotal(n * epochsTaken),
    onStep: (n) => training.advance(n),
  }).catch((e: unknown) => {
    training.fail();
    throw e;
  });
  training.done({ backend: trained.backend, auc: trained.validationAuc });
  const trainSeconds = (performance.now() - t0) / 1000;

  // An earlier run's results stay complete until this run replaces them, from here on.
  for (const path of await clearEarlierResults(outDir, skimOutputs.flat()))
    process.stderr.write(`removed ${path}: the skim of an earlier run, of an input this run does not have\n`);
  await saveModel(join(outDir, 'model'), trained.model);
  const cuts = toCutsFile(trained.model, pipeline.skim.scoreCut, pipeline.preselection);
  await writeJsonAtomic(join(outDir, 'cuts.json'), cuts);

  const t1 = performance.now();
  const keep = skimKeep(pipeline, info, trained.model);
  // The skim of each sample and, with samples, each sample's events and weighted yields (one pass each).
  const {
    skim,
    counted,
    samples: perSample,
  } = await skimSamples(samples, skimOutputs, {
    cuts,
    score: scoreCutOf(cuts, trained.model),
    outDir: join(outDir, 'skim'),
    keep,
    codec: pipeline.skim.codec,
    baseDir,
    signal: options.signal,
    model: trained.model,
    sigmaB: pipeline.loss.sigmaB,
  }).catch((e: unknown) => {
    // Training is complete and checkpointed: a resumed run goes straight to the skim.
    throw e instanceof Interrupted && !e.where ? e.at('in the skim, after training (its last checkpoint is kept)') : e;
  });
  const skimSeconds = (performance.now() - t1) / 1000;
  // One more streaming pass, over the events training held out (all of them without a validation
  // split): efficiencies of the skim, ROC, cut flow and per-cut distributions.
  const evaluation = await evaluateModel({
    validation: validationFraction > 0 ? { fraction: validationFraction, seed: pipeline.training.seed } : undefined,
    source,
    model: trained.model,
    cuts,
    ...labelAndWeight(pipeline),
    keep,
    inEngineSkim: skimsInEngine(pipeline),
  });
  const plots = [
    ...(await plotTraining(trained.history, outDir)),
    ...(counted ? await plotStackedCuts(counted.distributions, outDir, pipeline.plots) : []),
  ];

  const report = buildReport({ pipelinePath, pipeline, trained, cuts, skim, evaluation, plots });
  const columns = await columnsReport(pipeline, info, samples, trained, keep ?? [], outDir, baseDir, options.signal);
  if (columns) report.columns = columns;
  if (perSample) report.samples = perSample;
  report.timings = { trainSeconds, skimSeconds, totalSeconds: (performance.now() - t0) / 1000 };
  const provenance = { model: join(outDir, 'model'), cutsFile: join(outDir, 'cuts.json'), inputs: skim.inputs };
  const written = await writeEvaluation(evaluation, provenance, outDir);
  await writeHtmlReport(outDir, {
    run: report,
    evaluation: { ...provenance, ...evaluation },
    plots: [...report.plots, ...written.plots],
  });
  // Last: a folder with report.json holds a complete run (clearEarlierResults removed an earlier one's).
  await writeJsonAtomic(join(outDir, 'report.json'), report);
  return report;
}

/** Writes the embedded datasets the pipeline asks for (`source.generate`, `generate:`) that are not there yet. */
async function generateIfMissing(pipeline: Pipeline, baseDir: string): Promise<void> {
  for (const source of pipelineSources(pipeline)) if (source.kind === 'parquet') await generateToy(source, baseDir);
  const g = pipeline.generate;
  if (!g) return;
  const folder = resolve(baseDir, g.folder);
  // samples.yaml is written last: a folder with it holds the whole dataset.
  if (existsSync(join(folder, 'samples.yaml'))) return;
  const t = performance.now();
  await generateSamples(folder, { files: g.files, eventsPerFile: g.eventsPerFile, seed: g.seed });
  const seconds = ((performance.now() - t) / 1000).toFixed(1);
  process.stderr.write(`generated ${g.dataset} dataset: ${relative(process.cwd(), folder) || folder} (${seconds} s)\n`);
}

async function generateToy(source: ParquetSourceConfig, baseDir: string): Promise<void> {
  if (!source.generate) return;
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

/**
 * With column selection: the columns kept and dropped, and the skim's bytes as training predicts
 * them, the writer's encoding measured on a sample (the first sample's first input written whole,
 * without cuts, with the pinned and candidate columns, by the skim's own path: with a score cut,
 * one that every score passes, so that it streams through the same writer). A gRPC source has no
 * file to sample: its bytes per value are those of the server's files.
 */
async function columnsReport(
  pipeline: Pipeline,
  info: DatasetInfo,
  samples: ResolvedSample[],
  trained: TrainResult,
  keep: string[],
  outDir: string,
  baseDir: string,
  signal?: AbortSignal,
): Promise<ColumnsReport | null> {
  const selection = columnSelection(pipeline, info);
  if (!selection) return null;
  const { pinned, candidates } = selection;
  const first = samples[0];
  const writer =
    first.opened.kind === 'grpc'
      ? { bytesPerValue: {}, fileOverhead: 0 }
      : await measureWriter(outDir, async (dir) => {
          const input = first.opened.files[0];
          const name = sampleName(input);
          const noCuts: CutsFile = { cuts: [], score: pipeline.skim.scoreCut === null ? null : { op: '>', value: -1 } };
          const one = { ...first, opened: { ...first.opened, files: [input] } };
          const score = scoreCutOf(noCuts, trained.model);
          const options = { cuts: noCuts, score, outDir: dir, keep: [...pinned, ...candidates], baseDir, signal };
          await skimSample(one, [name], { ...options, codec: pipeline.skim.codec });
          return join(dir, name);
        });
  const inEngine = skimsInEngine(pipeline);
  const files = samples.reduce((n, s) => n + s.opened.files.length, 0);
  return {
    pinned,
    candidates,
    kept: trained.model.columnChoice?.kept ?? [],
    dropped: writableColumns(pipeline, info)
      .filter((c) => !keep.includes(c))
      .map((column) => ({ column, bytes: info.columnBytes[column] ?? 0, candidate: candidates.includes(column) })),
    predicted: predictSkim(info, trained.columnsPredicted, writer, files, inEngine),
  };
}

function buildReport(r: {
  pipelinePath: string;
  pipeline: Pipeline;
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
    ...(labelAndWeight(r.pipeline).label && {
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
