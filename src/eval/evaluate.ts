import { identity, ignoreElements, lastValueFrom, map, type Observable, pipe } from 'rxjs';
import { makeBatch, type EventBatch } from '../batch/batch.js';
import { hasCuts, hasMlp, type SelectionModel } from '../model/model.js';
import { mlpScore, modelScore } from '../model/score.js';
import { toCutsFile } from '../model/toCutsFile.js';
import { progress } from '../operators/progress.js';
import { splitTrainValidation } from '../operators/splitTrainValidation.js';
import type { CutsFile } from '../selection/cutsFile.js';
import { columnsOf, namesToRead } from '../selection/expr/index.js';
import { parquetSink, type ParquetSinkResult } from '../sinks/parquetSink.js';
import { type Demand, paced } from '../sources/demand.js';
import { inputAt } from '../sources/expandInputs.js';
import { columnBytesOf, type DatasetInfo, type EventSource, unreadColumns } from '../sources/types.js';
import { ColumnError } from '../sources/inputError.js';
import { eventBytes, eventBytesColumns, eventBytesModel, skimColumns } from '../training/eventBytes.js';
import { createProgress } from '../util/progress.js';
import { CutFlow, type CutFlowRow } from './cutFlow.js';
import { DEFAULT_EFFICIENCIES } from './defaults.js';
import { type CutDistribution, CutHistograms, cutRanges } from './cutHistograms.js';
import type { SampleCounts } from './sampleYields.js';
import { ScoreHistogram, type RocPoint, type ScoreDistribution, type WorkingPoint } from './scoreHistogram.js';
import { eventLabels, eventWeights } from '../training/eventWeights.js';
import { type SampleIndex, sampleOf, WeightSigns } from '../training/weightSigns.js';

export interface EvaluateOptions {
  source: EventSource;
  model: SelectionModel;
  /** The working point: hard cuts and an optional score cut (default: the model's learned cuts). */
  cuts?: CutsFile;
  /** Truth label column (1 = signal); without it only unlabelled figures are computed. */
  label?: string;
  /** Per-event weight column for efficiencies and AUC. */
  weight?: string;
  /** How warnings name the weight (default: the weight column). */
  weightName?: string;
  /** Events of several samples: a sample whose negative weights dominate its yield is named in the warning. */
  sampleIndex?: SampleIndex;
  /** Signal efficiencies at which to report the score threshold (default 0.5, 0.7, 0.9). */
  efficiencies?: number[];
  /** Columns a skim would write, for the bytes estimate (default: all it can carry, see inEngineSkim). */
  keep?: string[];
  /** The skim would run inside DuckDB (Parquet files, no score cut), which keeps strings and structs too. */
  inEngineSkim?: boolean;
  /** Parquet file to write the scores to, one row per event: event (index), score, passes. */
  friend?: string;
  /** Name of the input for error messages. */
  inputName?: string;
  /** Evaluate only the validation split that training held out (as splitTrainValidation draws it). */
  validation?: { fraction: number; seed: number };
  quiet?: boolean;
}

export interface SavedCutsPoint {
  cuts: CutsFile;
  eventsKept: number;
  keptFraction: number;
  signalEfficiency?: number;
  backgroundEfficiency?: number;
  /** Share of the kept columns' bytes that the kept events hold. */
  keptBytesFraction: number;
  /**
   * Bytes in = kept + saved, exactly. In: the input files on disk (measured). Kept (estimate): the
   * kept columns' bytes of the kept events. Saved = in - kept: by the columns a skim leaves out
   * (measured), by the rows the cuts drop (estimate: the kept columns' bytes of those events), and
   * the input files' own overhead (footers; ROOT keys), which a skim's writer replaces by its own.
   */
  bytesIn: number;
  bytesKeptEstimate: number;
  bytesSavedEstimate: number;
  bytesSavedByRowsEstimate: number;
  bytesSavedByColumns: number;
  bytesSavedOverhead: number;
}

/** Which events were evaluated: every event of the inputs, or the validation split of a run. */
export type EvaluatedSample = { split: 'all' } | { split: 'validation'; fraction: number; seed: number };

export interface Evaluation {
  label: string | null;
  weight: string | null;
  sample: EvaluatedSample;
  events: number;
  /** Unweighted class counts and weighted sums (labelled datasets only). */
  signalEvents?: number;
  backgroundEvents?: number;
  signalWeight?: number;
  backgroundWeight?: number;
  auc: number | null;
  roc: RocPoint[];
  workingPoints: (WorkingPoint & { targetSignalEfficiency: number })[];
  savedCuts: SavedCutsPoint;
  cutFlow: CutFlowRow[];
  distributions: { score: ScoreDistribution; cuts: CutDistribution[] };
  friend?: ParquetSinkResult;
  seconds: number;
  eventsPerSecond: number;
  /** One line each, for the user (negative weights dominating a class). */
  warnings: string[];
  /** A pipeline of samples: each sample's weighted yields before and after the cuts (countSamples). */
  samples?: SampleCounts;
}

/**
 * Streams a dataset once through a saved model, with memory bounded by one batch plus fixed
 * histograms: score histograms give the ROC curve, AUC and score thresholds at chosen signal
 * efficiencies; the cuts file gives a cut flow and what a skim with it would keep; and the
 * scores can be written to a friend Parquet file as they go.
 */
export async function evaluateModel(o: EvaluateOptions): Promise<Evaluation> {
  const t0 = performance.now();
  const { model } = o;
  const cuts = o.cuts ?? toCutsFile(model, null);
  const efficiencies = o.efficiencies ?? DEFAULT_EFFICIENCIES;
  for (const e of efficiencies) if (!(e > 0 && e <= 1)) throw new Error(`signal efficiency ${e} is not in (0, 1]`);
  const info = await o.source.describe();
  const name = o.inputName ?? info.files.map((f) => f.path).join(', ');
  const files = info.files.map((f) => f.path);
  const input = o.friend && (await inputAt(o.friend, files));
  if (input)
    throw new Error(`scores file ${o.friend} is the input ${input}: writing it would replace it; name another`);
  const columns = readColumns(info, o, cuts, name);
  const bytesModel = eventBytesModel(info, o.keep ?? skimColumns(info, o.inEngineSkim ?? false));
  columns.push(...eventBytesColumns(bytesModel).filter((c) => !columns.includes(c)));

  const labelled = Boolean(o.label);
  const scores = new ScoreHistogram();
  const flow = new CutFlow(cuts, labelled);
  const cutHists = new CutHistograms(cutRanges(cuts.cuts, model), labelled);
  let eventIndex = 0;
  const counts = { signal: 0, background: 0 };
  const signs = new WeightSigns(o.sampleIndex?.names);

  const v = o.validation;
  const score = pipe(
    v ? splitTrainValidation(v.fraction, v.seed, 'validation') : identity<Observable<EventBatch>>,
    progress(
      createProgress({
        stage: 'eval',
        total: Math.round(info.rows * (v?.fraction ?? 1)),
        estimated: Boolean(v),
        quiet: o.quiet,
      }),
    ),
    map((batch) => {
      const score = modelScore(model, batch);
      const isSignal = o.label ? eventLabels(batch, o.label) : null;
      const weight = eventWeights(batch, o.weight);
      const bytes = eventBytes(bytesModel, batch);
      scores.add(score, isSignal, weight, bytes);
      if (isSignal) signs.add(isSignal, weight, o.sampleIndex && sampleOf(batch, o.sampleIndex));
      if (isSignal) {
        for (let i = 0; i < isSignal.length; i++) counts[isSignal[i] ? 'signal' : 'background']++;
      }
      // cuts.json's score cut is on sigmoid(MLP), applied after the hard cuts (as the skim does).
      const passes = flow.add(batch, cuts.score ? mlpScore(model, batch) : null, isSignal, weight, bytes);
      cutHists.add(batch, isSignal, weight);
      const event = new BigInt64Array(batch.length);
      for (let i = 0; i < event.length; i++) event[i] = BigInt(eventIndex + i);
      eventIndex += batch.length;
      return makeBatch({ event, score, passes }, FRIEND_TYPES);
    }),
  );
  const read = (demand: Demand) => o.source.batches({ columns, demand });
  const sink = (demand: Demand) =>
    o.friend ? parquetSink(o.friend, { schema: FRIEND_SCHEMA, demand }) : ignoreElements();
  const friend = await lastValueFrom(paced(read, score, sink), { defaultValue: undefined });

  const totals = scores.totals();
  const flowRows = flow.rows();
  const last = flowRows[flowRows.length - 1];
  const keptColumns = bytesModel.bytesIn;
  const bytesSavedByColumns = Math.max(0, columnBytesOf(info) - keptColumns);
  const bytesKeptEstimate = keptColumns * last.fraction.bytes;
  const seconds = (performance.now() - t0) / 1000;
  return {
    label: o.label ?? null,
    weight: o.weight ?? null,
    sample: v ? { split: 'validation', fraction: v.fraction, seed: v.seed } : { split: 'all' },
    events: totals.events,
    ...(labelled && {
      signalEvents: counts.signal,
      backgroundEvents: counts.background,
      signalWeight: totals.signal,
      backgroundWeight: totals.background,
    }),
    auc: labelled && Number.isFinite(scores.auc()) ? scores.auc() : null,
    roc: scores.roc(),
    workingPoints: efficiencies.flatMap((e) => {
      const wp = scores.workingPoint(e);
      return wp ? [{ targetSignalEfficiency: e, ...wp }] : [];
    }),
    savedCuts: {
      cuts,
      eventsKept: last.events,
      keptFraction: last.fraction.events,
      ...(labelled && { signalEfficiency: last.fraction.signal, backgroundEfficiency: last.fraction.background }),
      keptBytesFraction: last.fraction.bytes,
      bytesIn: info.bytesOnDisk,
      bytesKeptEstimate,
      bytesSavedEstimate: info.bytesOnDisk - bytesKeptEstimate,
      bytesSavedByRowsEstimate: keptColumns - bytesKeptEstimate,
      bytesSavedByColumns,
      bytesSavedOverhead: info.bytesOnDisk - keptColumns - bytesSavedByColumns,
    },
    cutFlow: flowRows,
    distributions: { score: scores.distribution(), cuts: cutHists.distributions() },
    ...(friend && { friend }),
    seconds,
    eventsPerSecond: totals.events / Math.max(seconds, 1e-9),
    warnings: o.weight ? [signs.warning(o.weightName ?? o.weight)].filter((w) => w !== null) : [],
  };
}

const FRIEND_TYPES = { event: 'int64', score: 'float64', passes: 'bool' } as const;
const FRIEND_SCHEMA = makeBatch(
  { event: new BigInt64Array(0), score: new Float64Array(0), passes: new Uint8Array(0) },
  FRIEND_TYPES,
).schema;

/**
 * Columns a pass must read: model inputs, cut variables, label and weight (each checked to be in
 * the input, as are the kept columns): the columns their expressions read, a count(list) as
 * itself, without the list's values.
 */
function readColumns(info: DatasetInfo, o: EvaluateOptions, cuts: CutsFile, name: string): string[] {
  const have = new Set(info.schema.map((f) => f.name));
  const wanted: string[] = [];
  const need = (text: string, why: string, read = true) => {
    const missing = columnsOf(info.schema, text).find((c) => !have.has(c));
    const other = unreadColumns(info).find((u) => u.name === missing);
    if (other)
      throw new ColumnError(
        `${name}: column '${missing}' (${why}) has type ${other.type}, ` +
          'which diffskim cannot read (numbers, booleans and lists of them only)',
      );
    if (missing !== undefined) {
      const shown = [...have].slice(0, 20).join(', ') + (have.size > 20 ? `, ... (${have.size} in all)` : '');
      throw new Error(`${name}: column '${missing}' (${why}) is not in the input; it has: ${shown}`);
    }
    if (read) wanted.push(...namesToRead(info.schema, text));
  };
  if (hasMlp(o.model)) for (const f of o.model.features) need(f, 'a classifier input of the model');
  if (hasCuts(o.model)) for (const c of o.model.cuts) need(c.column, 'a soft cut of the model');
  for (const c of cuts.cuts) need(c.column, 'a cut of the cuts file');
  if (o.label) need(o.label, '--label');
  if (o.weight) need(o.weight, '--weight');
  if (o.sampleIndex) need(o.sampleIndex.column, "the samples' index");
  // A kept string or struct column is not read, only counted in the bytes estimate.
  for (const k of o.keep ?? []) if (!info.unsupported?.some((u) => u.name === k)) need(k, 'in --keep', false);
  return [...new Set(wanted)];
}
