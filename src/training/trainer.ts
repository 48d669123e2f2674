import { concatMap, from, ignoreElements, lastValueFrom, type Observable, of, tap } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import { rebatch } from '../operators/rebatch.js';
import { shuffleBuffer } from '../operators/shuffleBuffer.js';
import { splitTrainValidation } from '../operators/splitTrainValidation.js';
import { integerValued } from '../selection/integerValued.js';
import { hasParameter, type ObjectTemplate, parseObjectTemplate } from '../selection/objectCut.js';
import { objectEntries } from '../model/objectCuts.js';
import {
  columnsOf,
  type ColumnInfo,
  compileExpr,
  evaluate,
  ExprError,
  exprOf,
  namesToRead,
} from '../selection/expr/index.js';
import { preselectionCut } from '../selection/cutsFile.js';
import { Demand } from '../sources/demand.js';
import { type DatasetInfo, type EventSource, unreadColumns } from '../sources/types.js';
import { fieldFor } from '../sources/parquetColumns.js';
import {
  type CutForm,
  type CutOp,
  cutEdges,
  type CutSpec,
  edgeArgument,
  type ObjectThreshold,
  type SlopeSchedule,
  slopeMultiplier,
} from '../model/cuts.js';
import {
  isSignificance,
  LossAccumulator,
  type LossConfig,
  type LossSettings,
  lossSettings,
  sizeLambda,
  sizePrice,
} from '../model/losses.js';
import {
  type ColumnGateSpec,
  type GateConfig,
  gateTemperature,
  logAlphaFor,
  openProbability,
} from '../model/columnGates.js';
import { hardenGates } from '../model/hardenGates.js';
import { createModel, hasCuts, hasMlp, type ModelKind, type SelectionModel } from '../model/model.js';
import { logCutWeights, mlpLogit, sigmoid } from '../model/score.js';
import { toCutsFile } from '../model/toCutsFile.js';
import { AucAccumulator } from './auc.js';
import { Interrupted } from '../util/stopSignal.js';
import { availableParallelism } from 'node:os';
import { clearCheckpoints, loadCheckpoint, saveCheckpoint } from './checkpoint.js';
import { type BackendChoice, FUSED, trainingBackend } from './backend.js';
import { eventBytesColumns, eventBytesModel } from './eventBytes.js';
import { KeptValues } from './keptValues.js';
import { eventLabels, eventWeights } from './eventWeights.js';
import { type BatchLayout, prepareBatch } from './prepare.js';
import { marginCurve, marginElasticity, settleOnTarget, type Settled } from './settle.js';
import { SizeConstraint } from './sizeConstraint.js';
import { collectStats, type DataStats, quantile, type QuantityStats } from './stats.js';
import { fusedStepper, tfStepper } from './steppers.js';
import type { Stepper } from './stepper.js';
import { threadedStepper } from './threadedStepper.js';
import { type DataFigures, type EpochRecord, fileStamps, otherData, otherSettings } from './trainState.js';
import type { TrainState } from './trainState.js';
import { type SampleIndex, sampleOf, WeightSigns } from './weightSigns.js';

export interface TrainResult {
  model: SelectionModel;
  history: EpochRecord[];
  /** Mean of prod_k w_k (soft) over the validation split at the end. */
  keptFractionPredicted: number;
  /** sum(prod_k w_k * bytes) / sum(bytes) over the validation split at the end. */
  keptBytesFractionPredicted: number;
  /**
   * Per column whose bytes the size term counts: the soft share of its values the cuts keep and,
   * for a candidate column, its gate's P(open), on the validation split at the end (KeptValues).
   */
  columnsPredicted: { column: string; keptShare: number; open: number }[];
  validationAuc: number;
  backend: string;
  /** Training events per second over all epochs (reading, preparing and stepping). */
  eventsPerSecond: number;
  skippedSteps: number;
  /** With a size target and cuts: the settling pass that put the hard cuts on the target. */
  settled: Settled | null;
  warnings: string[];
}

/** A cut to learn, as a pipeline file gives it (`cuts`). */
export interface CutConfig {
  column: string;
  /** '>=', '<=', '==' only for an object cut's count with a fixed `value`. */
  op: CutOp | '>=' | '<=' | '==';
  form: CutForm;
  /** Starting thresholds; default: data quantiles at which the cut keeps nearly everything. */
  init?: number;
  initLow?: number;
  initHigh?: number;
  slope?: number;
  /** An object cut's fixed threshold on its count or sum (only its element threshold is learned then). */
  value?: number;
  /** An object cut's element threshold `$c`: its starting value and slope (default 4 / the entries' spread). */
  element?: { init: number; slope?: number };
}

/** What training reads of a pipeline file (pipeline/settings.ts makes it). */
export interface TrainingSettings {
  name: string;
  label?: string;
  weight?: string;
  /** A condition events must pass to be trained on (applied by the source). */
  preselection?: string;
  features: string[];
  cuts: CutConfig[];
  model: { kind: ModelKind; hidden: number[] };
  loss: LossConfig;
  training: {
    /** Default: enough epochs for MIN_STEPS optimiser steps, and at least DEFAULT_EPOCHS. */
    epochs?: number;
    batchSize: number;
    /** Default: defaultLearningRate(batchSize). */
    learningRate?: number;
    validationFraction: number;
    seed: number;
    shuffleBuffer: number;
    slopeSchedule?: SlopeSchedule;
    balanceClasses: boolean;
    /** Threads of the fused kernel's step (default: the cores, at most 8, from 2^18 events); 1: this thread. */
    threads?: number;
  };
  /** The columns the skim writes, whose bytes the size term counts (default: a streaming skim's). */
  bytesColumns?: string[];
  /** The skim's score cut, which a size target constrains together with the hard cuts. */
  scoreCut?: number | null;
  /**
   * Column selection: candidate columns, each with a learnable gate on the features that read it
   * (columnGates.ts); bytesColumns are then the pinned columns, kept whatever the gates say.
   */
  columnGates?: { candidates: string[]; gates: GateConfig };
  /**
   * The weights are expected yields (samples normalised to a luminosity): the significance losses'
   * signal and background yields default to the classes' signed totals over all events, not
   * over the training split.
   */
  normalised?: boolean;
  /** How warnings name the event weight (default: the weight column). */
  weightName?: string;
  /** Events of several samples: a sample whose negative weights dominate its yield is named in the warning. */
  sampleIndex?: SampleIndex;
}

export interface TrainArgs {
  settings: TrainingSettings;
  source: EventSource;
  info: DatasetInfo;
  /** Backend to start (DIFFSKIM_BACKEND overrides); default 'auto'. */
  backend?: BackendChoice;
  onEpoch?: (e: EpochRecord) => void;
  /** Called when each minibatch step is done, with its number of events. */
  onStep?: (events: number) => void;
  /**
   * Called once the training split is counted and the stepper started, with its events per epoch
   * and the number of epochs.
   */
  onTrainingSplit?: (events: number, epochs: number) => void;
  /** Folder for a checkpoint after every epoch (atomic; see checkpoint.ts). */
  checkpointDir?: string;
  /**
   * Go on from the newest checkpoint in checkpointDir instead of starting over; it must have been
   * written by the same pipeline and backend on the same data. The result is the same model.
   */
  resume?: boolean;
  /** Stops training between minibatches, with the signal's reason (an Interrupted saying where). */
  signal?: AbortSignal;
}

/**
 * Quantiles at which open cuts start: inside the data (a cut outside it gets no gradient). A
 * window (between) starts at these quantiles of the signal: a window around all the data would
 * close onto the background's core, where most events are, and never reach the signal.
 */
const OPEN_QUANTILE = 0.01;
/** Epochs when the pipeline gives none, unless MIN_STEPS needs more. */
const DEFAULT_EPOCHS = 30;
/**
 * Optimiser steps a training should take: a cut moves at most ~learningRate standard deviations
 * a step, and with a size target its schedule takes half the steps and the multiplier ~150 to
 * settle. With training.epochs left out the number of epochs is raised to take them; with fewer,
 * a warning.
 */
const MIN_STEPS = 500;
/**
 * Adam's learning rate when the pipeline gives none: LEARNING_RATE, and above BATCH events a
 * batch, times sqrt(batchSize / BATCH): a larger batch's gradient is less noisy (its noise falls
 * as 1 / sqrt(batch)), and the cuts must cover the same ground in fewer steps. (Measured on
 * scripts/optimum-grid.ts' tilted toy at a background target of 0.01, batch 16384, 650 steps:
 * 0.74x the best window's signal at 0.01, 1.00x at 0.02.) Smaller batches keep LEARNING_RATE:
 * they take more steps already.
 */
const LEARNING_RATE = 0.01;
const BATCH = 4096;
function defaultLearningRate(batchSize: number): number {
  return LEARNING_RATE * Math.sqrt(Math.max(1, batchSize / BATCH));
}
/** With a size target and no slopeSchedule, slopes anneal so that the soft cuts end close to the hard ones. */
const TARGET_SLOPES: SlopeSchedule = { start: 1, end: 10, kind: 'geometric' };
/**
 * With a target, the cuts settle from the average of their thresholds over this last fraction of
 * the epochs: the multiplier and the cuts chase each other around the constrained optimum (more
 * so with few events per batch at a tight target), and the average of a primal-dual iteration
 * converges where its last iterate circles.
 */
const AVERAGED = 0.25;
/** A skim's margin elasticity (d log signal / d log bytes) above this is reported (see sizeDominance). */
const DOMINANT_ELASTICITY = 1.2;
/**
 * Default slope 4/std: the soft step rises from 12 % to 88 % over one standard deviation of
 * the variable, soft enough for every event to feel the cut at the start. The slope schedule
 * sharpens it towards the hard cut.
 */
const DEFAULT_SLOPE_PER_STD = 4;

/**
 * Learns the cuts (and classifier) of a pipeline by minibatch Adam over epochs of `source`:
 * a statistics pass over the training split sets standardisation, starting thresholds and
 * slopes; then each epoch streams the training split through a shuffle buffer into
 * minibatches, and the validation split through a float64 JS evaluation.
 */
export async function trainSelection(args: TrainArgs): Promise<TrainResult> {
  const { settings: p, source, info } = args;
  const label = p.label;
  if (!label) throw new Error(`pipeline '${p.name}': training needs a label column ('label:')`);
  const kind = p.model.kind;
  const features = hasMlp({ kind }) ? p.features : [];
  const gated = p.columnGates !== undefined && features.length > 0;
  const cutConfigs = hasCuts({ kind }) ? p.cuts : [];
  const tfOnly = gated
    ? 'the fused kernel has no column gates (columns.select)'
    : cutConfigs.some((c) => hasParameter(c.column))
      ? 'object cuts (a learned threshold inside a list selection) train on TF.js only'
      : undefined;
  const chosen = await trainingBackend(args.backend ?? 'auto', tfOnly);
  const backend = chosen.name;
  if (kind === 'cuts' && cutConfigs.length === 0)
    throw new Error(`pipeline '${p.name}': model kind 'cuts' needs at least one cut`);

  checkExpressions(p, info, features, cutConfigs);
  checkTargetsApart(p.name, info.schema, label, p.weight, features, cutConfigs);
  const settings = { pipeline: p, backend };
  const resumed = args.resume ? await resumeState(args.checkpointDir, settings) : null;
  const bytesModel = eventBytesModel(info, p.bytesColumns);
  const candidates = gated ? p.columnGates!.candidates : [];
  const candidateBytes = candidates.map((c) => eventBytesModel(info, [c]));
  const bytesModels = [bytesModel, ...candidateBytes];
  const bytesColumns = [...(p.bytesColumns ?? []), ...candidates];
  // An object cut's statistics are its own (below): they depend on its starting element threshold.
  const objectCuts = cutConfigs.filter((c) => hasParameter(c.column));
  const quantities = [
    ...new Set([...features, ...cutConfigs.filter((c) => !hasParameter(c.column)).map((c) => c.column)]),
  ];
  const targets = [label, ...(p.weight ? [p.weight] : []), ...(p.sampleIndex ? [p.sampleIndex.column] : [])];
  const cutTexts = cutConfigs.map((c) => c.column);
  const columns = projection(info.schema, [
    ...quantities,
    ...cutTexts,
    ...targets,
    ...bytesModels.flatMap(eventBytesColumns),
  ]);
  const t = p.training;
  // Labels and event weights are checked on the source's own batches, whose origin still locates each event.
  // The first pass (collectStats) sees every event before the split: it also sums the weights' signs.
  const signs = new WeightSigns(p.sampleIndex?.names);
  let firstPass = true;
  const read = (take: 'train' | 'validation', demand?: Demand) =>
    source.batches({ columns, ...(p.preselection && { where: [preselectionCut(p.preselection)] }), demand }).pipe(
      tap((b) => {
        args.signal?.throwIfAborted();
        const y = eventLabels(b, label);
        const w = eventWeights(b, p.weight);
        if (firstPass) signs.add(y, w, p.sampleIndex && sampleOf(b, p.sampleIndex));
      }),
      splitTrainValidation(t.validationFraction, t.seed, take),
    );

  // Without a validation split (fraction 0) the training split stands in.
  const validationSplit = t.validationFraction > 0 ? 'validation' : 'train';
  const firstEpoch = resumed ? resumed.epoch + 1 : 0;
  let epoch = firstEpoch;
  let lastSaved = resumed ? resumed.epoch : -1;
  // Stopped by a signal: say in which epoch, and whether there is a checkpoint to resume from.
  const stopped = (e: unknown): never => {
    if (!(args.signal?.aborted && e instanceof Interrupted)) throw e;
    const where = `in training epoch ${epoch + 1} of ${epochs}`;
    if (lastSaved < 0) throw e.at(`${where}, before its first checkpoint`, 'run the same command again (no --resume)');
    throw e.at(`${where} (the checkpoint after epoch ${lastSaved + 1} is kept)`);
  };
  // An object cut's statistics: its hard count or sum at the starting element threshold, and the entries' own.
  const derived = new Map<string, (b: EventBatch) => Float64Array>();
  for (const c of objectCuts) {
    const template = parseObjectTemplate(c.column);
    const hard = compileExpr(c.column, info.schema);
    const params = { [template.param]: c.element!.init };
    derived.set(c.column, (b) => evaluate(hard, b, { params }));
    derived.set(entriesOf(c.column), (b) => objectEntries(b, template));
  }
  const stats = await collectStats(read('train'), quantities, {
    label,
    weight: p.weight,
    seed: t.seed,
    derived,
  }).catch(stopped);
  firstPass = false;
  const signsWarning = p.weight ? signs.warning(p.weightName ?? p.weight) : null;
  if (stats.events === 0) throw new Error(`pipeline '${p.name}': the training split is empty`);
  const data: DataFigures = {
    rows: info.rows,
    bytesOnDisk: info.bytesOnDisk,
    trainingEvents: stats.events,
    signalWeight: stats.signalWeight,
    backgroundWeight: stats.backgroundWeight,
    files: await fileStamps(info.files),
  };
  const changed = resumed && otherData(resumed, data);
  if (changed) refuseResume(args.checkpointDir!, changed);
  const stepsPerEpoch = Math.ceil(stats.events / t.batchSize);
  const epochs = t.epochs ?? Math.max(DEFAULT_EPOCHS, Math.ceil(MIN_STEPS / stepsPerEpoch));
  const statsOf = (q: string): QuantityStats => {
    const s = stats.quantities.get(q)!;
    if (s.count === 0) throw new Error(`column '${q}': no finite values in the training data`);
    return s;
  };
  const spread = (s: QuantityStats) => (s.std > 0 ? s.std : 1);
  const initial = createModel({
    kind,
    features,
    inputMean: features.map((f) => statsOf(f).mean),
    inputStd: features.map((f) => spread(statsOf(f))),
    hidden: p.model.hidden,
    cuts: cutConfigs.map((c) => ({
      ...initialCut(c, statsOf(c.column), spread(statsOf(c.column)), stats.signalQuantities.get(c.column)!),
      ...(integerValued(info.schema, c.column) && { integer: true }),
      ...(c.element && { object: elementThreshold(c.element, statsOf(entriesOf(c.column))) }),
    })),
    seed: t.seed,
    backend,
    gates: gated ? initialGates(features, candidates, p.columnGates!.gates, t.seed, epochs) : undefined,
  });

  const bytesIn = bytesModels.reduce((sum, m) => sum + m.bytesIn, 0);
  const totals = p.normalised
    ? { signal: signs.total(true), background: signs.total(false) }
    : { signal: stats.signalWeight, background: stats.backgroundWeight };
  const loss = lossSettings(p, bytesIn, totals);
  const slopes = t.slopeSchedule ?? (loss.target !== null ? TARGET_SLOPES : undefined);
  const layout: BatchLayout = {
    model: initial,
    label,
    weight: p.weight,
    classFactor: classFactor(p, stats, loss),
    bytes: bytesModel,
    ...(gated && { candidateBytes }),
    sizeOver: p.loss.size.over,
  };
  const stepper = await newStepper(initial, t, backend, stats.events);
  args.onTrainingSplit?.(stats.events, epochs);
  const totalSteps = epochs * stepsPerEpoch;
  const constraint = resumed?.constraint
    ? SizeConstraint.resume(loss, totalSteps, resumed.constraint)
    : SizeConstraint.start(loss, totalSteps);
  const history: EpochRecord[] = [...(resumed?.history ?? [])];
  let trainedEvents = resumed?.trainedEvents ?? 0;
  let trainSeconds = resumed?.trainSeconds ?? 0;
  let skippedTotal = resumed?.skippedSteps ?? 0;
  let steps = resumed?.steps ?? 0;
  const checkpointWarnings: string[] = [...(resumed?.warnings ?? [])];
  const shuffle = shuffleBuffer(t.shuffleBuffer, t.seed, firstEpoch);
  let model = initial;
  if (resumed) {
    stepper.restore(resumed.iterations, resumed.tensors);
    model = stepper.snapshot(history[history.length - 1].slopeMultiplier);
  } else if (args.checkpointDir) await clearCheckpoints(args.checkpointDir);
  try {
    for (; epoch < epochs; epoch++) {
      const started = performance.now();
      const multiplier = slopeMultiplier(slopes, epoch, epochs);
      const epochSettings = { ...loss, lambda: sizeLambda(p.loss.size, epoch, epochs) };
      constraint?.apply(epochSettings);
      if (gated) layout.gateTemperature = gateTemperature(p.columnGates!.gates, epoch, epochs);
      const sums = { events: 0, total: 0, main: 0, size: 0, skipped: 0 };
      // A step that completes later (WebGPU) holds the read until it does.
      const demand = new Demand();
      await forEachBatch(read('train', demand).pipe(shuffle, rebatch(t.batchSize)), (batch) => {
        const stepping = stepper.step(epochSettings, layout, batch, multiplier, (r) => {
          if (r) {
            // The next step's multiplier and target (Stepper.step reads the settings after this).
            constraint?.observe(r.kept);
            constraint?.apply(epochSettings);
            sums.events += batch.length;
            sums.total += r.total * batch.length;
            sums.main += r.main * batch.length;
            sums.size += r.size * batch.length;
          } else sums.skipped++;
          args.onStep?.(batch.length);
        });
        steps++;
        if (!stepping) return;
        demand.hold();
        return stepping.finally(() => demand.release());
      });
      await stepper.flush();
      trainSeconds += (performance.now() - started) / 1000;
      trainedEvents += sums.events;
      skippedTotal += sums.skipped;
      model = withGateTemperature(stepper.snapshot(multiplier), layout.gateTemperature);
      const v = await validate(
        model,
        layout,
        epochSettings,
        read(validationSplit),
        gated ? new KeptValues(bytesColumns, info) : undefined,
      );
      const record: EpochRecord = {
        epoch,
        trainLoss: sums.total / sums.events,
        trainMain: sums.main / sums.events,
        trainSize: sums.size / sums.events,
        validationLoss: v.total,
        validationMain: v.main,
        validationSize: v.size,
        validationAuc: v.auc,
        keptFraction: v.keptFraction,
        keptBytesFraction: v.keptBytesFraction,
        cuts: model.cuts,
        slopeMultiplier: multiplier,
        sizeLambda: sizePrice(epochSettings),
        events: sums.events,
        skippedSteps: sums.skipped,
        seconds: (performance.now() - started) / 1000,
        ...(gated && { columns: columnsKept(model, bytesColumns, v.keptShares) }),
      };
      history.push(record);
      if (args.checkpointDir) {
        const state: TrainState = {
          settings,
          data,
          epoch,
          steps,
          trainedEvents,
          trainSeconds,
          skippedSteps: skippedTotal,
          warnings: checkpointWarnings,
          history,
          constraint: constraint?.snapshot() ?? null,
          iterations: stepper.iterations(),
          tensors: stepper.tensors(),
        };
        const step = { epoch, step: steps, loss: record.trainLoss };
        const notSaved = await saveCheckpoint(args.checkpointDir, model, step, state);
        if (notSaved) checkpointWarnings.push(notSaved);
        else lastSaved = epoch;
      }
      args.onEpoch?.(record);
    }
  } catch (e) {
    stopped(e);
  } finally {
    stepper.dispose();
  }
  let last = history[history.length - 1];
  const columnsPredicted = (last.columns ?? []).map(({ column, keptShare, open }) => ({ column, keptShare, open }));
  const warnings: string[] = [];
  let settled: Settled | null = null;
  // Not done: with column gates the settling pass would have to count the open candidate columns'
  // bytes too; an object cut's learned threshold is inside its count or sum, not an edge to shift.
  const settles = !gated && !model.cuts.some((c) => c.object || c.fixed);
  const sized = loss.target !== null || p.loss.size.lambda > 0;
  let elasticity: number | null = null;
  if (sized && model.cuts.length > 0 && settles) {
    const scoreCut = p.scoreCut ?? null;
    const averaged = { ...model, cuts: averageCuts(history.slice(-Math.ceil(AVERAGED * history.length))) };
    const base = loss.target !== null ? averaged : model;
    const curve = await marginCurve(base, layout, scoreCut, stats, read('train')).catch(stopped);
    if (loss.target === null) elasticity = marginElasticity(curve);
    else {
      settled = settleOnTarget(curve, loss.target);
      elasticity = settled.elasticity;
      model = settled.model;
      const v = await validate(model, layout, { ...loss, multiplier: last.sizeLambda }, read(validationSplit));
      last = { ...last, keptFraction: v.keptFraction, keptBytesFraction: v.keptBytesFraction, validationAuc: v.auc };
      warnings.push(...settleWarnings(settled, loss.target));
    }
  }
  warnings.push(...vanishedCutWarnings(model, stats));
  model = hardenGates(model);
  if (totalSteps < MIN_STEPS)
    warnings.push(
      `training takes ${totalSteps} optimiser steps (${epochs} epoch(s) of ${stepsPerEpoch} at batchSize ` +
        `${t.batchSize}), fewer than the ${MIN_STEPS} the cuts need to find their optimum; ` +
        'leave training.epochs out to take enough, or lower batchSize',
    );
  const dominance = sizeDominance(elasticity, loss.target !== null);
  if (dominance) warnings.push(dominance);
  if (chosen.note) warnings.push(chosen.note);
  if (signsWarning) warnings.push(signsWarning);
  if (kind === 'mlp' && p.cuts.length > 0)
    warnings.push(`model kind 'mlp' learns no cuts: the ${p.cuts.length} cut(s) listed were left out`);
  warnings.push(...checkpointWarnings);
  if (skippedTotal > 0)
    warnings.push(
      `${skippedTotal} minibatch step(s) had a non-finite loss or gradient (or no weight) and were skipped`,
    );
  return {
    model,
    history,
    keptFractionPredicted: last.keptFraction,
    keptBytesFractionPredicted: last.keptBytesFraction,
    columnsPredicted,
    validationAuc: last.validationAuc,
    backend,
    eventsPerSecond: trainedEvents / trainSeconds,
    skippedSteps: skippedTotal,
    settled,
    warnings,
  };
}

/**
 * The stepper of a backend: TF.js, or the fused kernel, on worker threads when `training.threads`
 * is above 1 and batches are large enough for a thread's slice to pay for its round trips. By
 * default the available cores (at most MAX_THREADS), when the training split is large enough for
 * the workers' start (about a second) to pay and the MLP's work an event for the slices to pay:
 * on 2 cores two threads cost the seed model (945 multiply-adds an event) 20-45 % more
 * CPU-seconds than one for the same wall time, and made the wide one (5440) 1.2x faster
 * (scripts/bench-train.ts).
 */
async function newStepper(
  model: SelectionModel,
  t: TrainingSettings['training'],
  backend: string,
  events: number,
): Promise<Stepper> {
  const learningRate = t.learningRate ?? defaultLearningRate(t.batchSize);
  if (backend !== FUSED) return tfStepper(model, learningRate, backend);
  const pays = events >= THREADED_EVENTS && mlpWork(model) >= THREADED_WORK;
  const cores = pays ? Math.min(availableParallelism(), MAX_THREADS) : 1;
  const threads = Math.min(t.threads ?? cores, Math.floor(t.batchSize / MIN_SLICE));
  if (threads > 1) return threadedStepper(model, learningRate, backend, threads, t.batchSize);
  return fusedStepper(model, learningRate, backend);
}

/** Default thread count's cap; the fewest events per thread's slice of a batch, and in a training split. */
const MAX_THREADS = 8;
const MIN_SLICE = 1024;
const THREADED_EVENTS = 262_144;
/** The fewest multiply-adds an event in the MLP for default threads. */
const THREADED_WORK = 2048;

/** Multiply-adds an event in the MLP's dense layers. */
function mlpWork(model: SelectionModel): number {
  return model.layers.reduce((sum, l) => sum + l.inputs * l.outputs, 0);
}

/** The training state of the newest checkpoint in dir, refused when its settings are not these. */
async function resumeState(dir: string | undefined, settings: TrainState['settings']): Promise<TrainState> {
  if (!dir) throw new Error('resuming a training needs its checkpoint folder');
  const saved = await loadCheckpoint(dir);
  if (!saved?.state) throw new Error(`${dir}: no checkpoint to resume from; run without --resume to start over`);
  const other = otherSettings(saved.state, settings);
  if (other) refuseResume(dir, other);
  const { constraint } = saved.state;
  if (constraint && !SizeConstraint.isState(constraint))
    refuseResume(dir, 'its size constraint was saved by an earlier version of diffskim');
  return saved.state;
}

function refuseResume(dir: string, why: string): never {
  throw new Error(`${dir}: cannot resume from its checkpoint: ${why}; run without --resume to start over`);
}

/** Every expression of the pipeline typed against the input's columns; errors name the key and the character. */
function checkExpressions(p: TrainingSettings, info: DatasetInfo, features: string[], cuts: CutConfig[]): void {
  const { schema } = info;
  const unread = unreadColumns(info);
  const keys: [string, string | undefined][] = [
    ['label', p.label],
    ['weight', p.weight],
    ['preselection', p.preselection],
    ...features.map((f, i): [string, string] => [`features[${i}]`, f]),
    ...cuts.map((c, i): [string, string] => [`cuts[${i}].column`, c.column]),
  ];
  for (const [key, text] of keys) {
    if (text === undefined) continue;
    let expr;
    try {
      // A column of a type diffskim does not read (a decimal, a string) is named with its type, not as unknown.
      for (const c of compileExpr(text).columns)
        if (unread.some((u) => u.name === c)) fieldFor(schema, c, `pipeline '${p.name}': ${key}`, unread);
      expr = exprOf(schema, text);
    } catch (e) {
      throw e instanceof ExprError ? e.in(`pipeline '${p.name}': ${key}`) : e;
    }
    if (key === 'preselection' && !expr.bool)
      throw new Error(`pipeline '${p.name}': preselection '${text}' is a number, not a condition; compare it (> 0)`);
  }
}

/**
 * The label and the event weight are what training aims at: a feature or cut variable reading
 * the same column would learn the answer from the question.
 */
function checkTargetsApart(
  name: string,
  schema: ColumnInfo[],
  label: string,
  weight: string | undefined,
  features: string[],
  cuts: CutConfig[],
): void {
  const inputs = [
    ...features.map((text) => ({ text, role: 'feature', list: 'features' })),
    ...cuts.map((c) => ({ text: c.column, role: 'cut variable', list: 'cuts' })),
  ];
  for (const [role, target] of [
    ['label', label],
    ['weight', weight],
  ] as const) {
    if (!target) continue;
    const read = columnsOf(schema, target);
    const same = inputs.find((i) => columnsOf(schema, i.text).some((c) => read.includes(c)));
    if (same) {
      const column = read.find((c) => columnsOf(schema, same.text).includes(c));
      const what = `the ${role} column '${column}' is also a ${same.role} ('${same.text}')`;
      throw new Error(`pipeline '${name}': ${what}; take it out of the ${same.list}`);
    }
  }
}

/** Columns to ask a source for (namesToRead). */
function projection(schema: ColumnInfo[], texts: string[]): string[] {
  return [...new Set(texts.flatMap((t) => namesToRead(schema, t)))];
}

function initialCut(c: CutConfig, s: QuantityStats, std: number, signal: QuantityStats): CutSpec {
  const base = {
    column: c.column,
    form: c.form,
    slope: c.slope ?? DEFAULT_SLOPE_PER_STD / std,
    mean: s.mean,
    std,
  };
  if (c.value !== undefined) return { ...base, ...fixedCut(c.op, c.value, parseObjectTemplate(c.column)), fixed: true };
  if (c.op !== '>' && c.op !== '<' && c.op !== 'between')
    throw new Error(`cut '${c.column}': op '${c.op}' needs a fixed value (an object cut's count)`);
  if (c.op === '>') return { ...base, op: c.op, value: c.init ?? quantile(s, OPEN_QUANTILE) };
  if (c.op === '<') return { ...base, op: c.op, value: c.init ?? quantile(s, 1 - OPEN_QUANTILE) };
  const around = signal.count > 0 ? signal : s;
  const [low, high] = [c.initLow ?? quantile(around, OPEN_QUANTILE), c.initHigh ?? quantile(around, 1 - OPEN_QUANTILE)];
  return { ...base, op: c.op, low, high };
}

/**
 * An object cut's fixed cut on its reduction as a soft step's op and threshold. A count's step sits
 * half-way between two integers, so that its hard limit is the integer cut: count >= 2 is a step at
 * 1.5, count == 2 one up at 1.5 and one down at 2.5; a sum's is where it is given.
 */
function fixedCut(op: CutConfig['op'], v: number, t: ObjectTemplate): Pick<CutSpec, 'op' | 'value' | 'low' | 'high'> {
  if (t.reduce === 'sum') {
    if (op !== '>' && op !== '<') throw new Error(`a sum is cut with '>' or '<', not '${op}'`);
    return { op, value: v };
  }
  switch (op) {
    case '>':
      return { op: '>', value: Math.floor(v) + 0.5 };
    case '>=':
      return { op: '>', value: Math.ceil(v) - 0.5 };
    case '<':
      return { op: '<', value: Math.ceil(v) - 0.5 };
    case '<=':
      return { op: '<', value: Math.floor(v) + 0.5 };
    case '==':
      return { op: 'between', low: v - 0.5, high: v + 0.5 };
    default:
      throw new Error(`a fixed count cut takes one value, not op '${op}'`);
  }
}

/** An object cut's element threshold at its start, standardised by the entries' spread. */
function elementThreshold(e: NonNullable<CutConfig['element']>, entries: QuantityStats): ObjectThreshold {
  const std = entries.std > 0 ? entries.std : 1;
  return { threshold: e.init, slope: e.slope ?? DEFAULT_SLOPE_PER_STD / std, mean: entries.mean, std };
}

/** The statistics' name for the entries an object cut tests. */
function entriesOf(column: string): string {
  return `entries of ${column}`;
}

/** Each cut's thresholds averaged over the epochs' records. */
function averageCuts(records: EpochRecord[]): CutSpec[] {
  const mean = (k: number, key: 'value' | 'low' | 'high') =>
    records.reduce((sum, r) => sum + r.cuts[k][key]!, 0) / records.length;
  return records[records.length - 1].cuts.map((c, k) =>
    c.op === 'between' ? { ...c, low: mean(k, 'low'), high: mean(k, 'high') } : { ...c, value: mean(k, 'value') },
  );
}

/** What the settling pass says to the user: when training ended far from the target, the move was a large one. */
function settleWarnings(s: Settled, target: number): string[] {
  // Far from the target: above it, or below it with signal that the settling pass had to let in.
  const far = Math.abs(s.keptBefore - target) > Math.max(0.01, 0.2 * target);
  if (!far || (s.keptBefore < target && s.signalAfter - s.signalBefore < 0.01)) return [];
  const pct = (x: number) => `${(100 * x).toPrecision(3)} %`;
  const moves = s.moved.map((m) => `'${m.edge}' ${m.from.toPrecision(5)} -> ${m.to.toPrecision(5)}`).join(', ');
  return [
    `training ended with the hard cuts keeping ${pct(s.keptBefore)} against the size target ${pct(target)}; ` +
      `the settling pass moved ${moves} to meet it (signal kept ${pct(s.signalBefore)} -> ${pct(s.signalAfter)}): ` +
      'with more steps (more epochs or a smaller batchSize) training would meet it itself',
  ];
}

/**
 * The size term dominates when it has pulled the hard cuts past where they separate the classes:
 * at the skim's margin, a per cent fewer bytes costs more than DOMINANT_ELASTICITY per cent of the
 * signal (settle.ts' marginElasticity). Past 1, a looser skim randomly prescaled to the same
 * bytes would keep more signal; a classification term that is small because it is solved (a
 * skim that keeps all the signal) has an elasticity near 0.
 */
function sizeDominance(elasticity: number | null, targeted: boolean): string | null {
  if (elasticity === null || !(elasticity > DOMINANT_ELASTICITY)) return null;
  const fix = targeted
    ? 'the target is too tight for what these cuts can separate: loosen it, or give the cuts more variables'
    : 'lower loss.size.lambda, or give a targetKeptFraction';
  const margin =
    elasticity === Infinity
      ? 'the skim keeps no signal, or its last bytes cut take the last of it'
      : `at the skim's margin, 1 % fewer bytes costs ${elasticity.toFixed(2)} % of the signal kept ` +
        '(a looser skim, prescaled to the same bytes, would keep more signal)';
  return `the size term dominates the classification term: ${margin}: ${fix}`;
}

/** Class weights that give signal and background equal total weight (when asked, for bce/mse). */
function classFactor(p: TrainingSettings, stats: DataStats, settings: LossSettings): BatchLayout['classFactor'] {
  const { signalWeight: s, backgroundWeight: b } = stats;
  if (!p.training.balanceClasses || isSignificance(settings.kind) || s <= 0 || b <= 0)
    return { signal: 1, background: 1 };
  return { signal: (s + b) / (2 * s), background: (s + b) / (2 * b) };
}

interface Validation {
  total: number;
  main: number;
  size: number;
  auc: number;
  keptFraction: number;
  keptBytesFraction: number;
  /** The soft share of each counted column's values kept (see KeptValues); {} without one. */
  keptShares: Record<string, number>;
}

/**
 * Loss terms, AUC and kept fractions on a stream of batches, from the model's weights in JS.
 * With column gates, an event's kept bytes count each candidate at its gate's P(open), and the
 * classifier sees the gates' hard choice (score.ts).
 */
export async function validate(
  model: SelectionModel,
  layout: BatchLayout,
  settings: LossSettings,
  batches: Observable<EventBatch>,
  kept?: KeptValues,
): Promise<Validation> {
  const loss = new LossAccumulator(settings);
  const auc = new AucAccumulator();
  const open = model.gates?.logAlpha.map((a) => openProbability(a, model.gates!.temperature)) ?? [];
  await forEachBatch(batches, (batch) => {
    const p = prepareBatch(layout, batch);
    const logCut = hasCuts(model) ? logCutWeights(model, batch) : null;
    const logit = hasMlp(model) ? mlpLogit(model, batch) : null;
    kept?.add(logCut && logCut.map(Math.exp), batch);
    const keptBytes = p.keptBytes.slice();
    if (p.candidateBytes)
      for (let i = 0; i < p.n; i++)
        for (let j = 0; j < open.length; j++) keptBytes[i] += open[j] * p.candidateBytes[i * open.length + j];
    loss.add(logCut, logit, p.label, p.weight, keptBytes, p.bytes);
    loss.addTotals(p.label, p.fullWeight);
    const score = new Float64Array(p.n);
    for (let i = 0; i < p.n; i++) score[i] = (logCut ? Math.exp(logCut[i]) : 1) * (logit ? sigmoid(logit[i]) : 1);
    auc.add(score, p.label, p.fullWeight);
  });
  const r = loss.result();
  return { ...r, auc: auc.value(), keptShares: kept?.shares() ?? {} };
}

/** Gates that start open with P(open) = config.init, one per candidate column. */
function initialGates(
  features: string[],
  candidates: string[],
  config: GateConfig,
  seed: number,
  epochs: number,
): ColumnGateSpec {
  const temperature = gateTemperature(config, 0, epochs);
  return {
    columns: candidates,
    logAlpha: candidates.map(() => logAlphaFor(config.init, temperature)),
    // A feature reading several candidate columns is open only when all their gates are.
    featureGates: features.map((f) =>
      compileExpr(f)
        .columns.map((c) => candidates.indexOf(c))
        .filter((j) => j >= 0),
    ),
    temperature,
    seed,
  };
}

/** Each counted column's soft kept share and P(open) (1 for a pinned column), as EpochRecord.columns. */
function columnsKept(
  model: SelectionModel,
  columns: string[],
  keptShares: Record<string, number>,
): NonNullable<EpochRecord['columns']> {
  return columns.map((column) => {
    const j = model.gates?.columns.indexOf(column) ?? -1;
    const open = j >= 0 ? openProbability(model.gates!.logAlpha[j], model.gates!.temperature) : 1;
    return { column, keptShare: keptShares[column], open, candidate: j >= 0 };
  });
}

function withGateTemperature(model: SelectionModel, temperature: number | undefined): SelectionModel {
  return model.gates && temperature !== undefined ? { ...model, gates: { ...model.gates, temperature } } : model;
}

/**
 * Cuts whose soft step lies where there are (almost) no data (fewer than 0.1 % of the sampled
 * values where 1e-3 < w < 1 - 1e-3): the size term and MSE then give them no gradient, and
 * BCE only the weak pull of the events the cut wrongly removes.
 */
function vanishedCutWarnings(model: SelectionModel, stats: DataStats): string[] {
  const warnings: string[] = [];
  const hard = toCutsFile(model, null).cuts;
  for (const edge of cutEdges(model.cuts)) {
    // An object cut's sample is of its count at the starting element threshold, not the learned one.
    if (model.cuts[edge.cut].object) continue;
    // Beyond |a| = flat the weight is within 1e-3 of 0 or 1.
    const flat = edge.form === 'sigmoid' ? 7 : 2.5;
    const sample = stats.quantities.get(model.cuts[edge.cut].column)!.sample;
    let inside = 0;
    let above = 0;
    for (const x of sample) {
      const a = edgeArgument(edge, x, model.slopeMultiplier);
      if (Math.abs(a) < flat) inside++;
      else if (a > 0) above++;
    }
    if (inside < 1e-3 * sample.length) {
      const keeps = above > sample.length / 2 ? 'keeps all' : 'keeps none';
      warnings.push(
        `cut ${JSON.stringify(hard[edge.cut])}: no data near its threshold ${edge.threshold.toPrecision(6)}, so the cut ${keeps} of the events and its gradient has (nearly) vanished; set 'init' inside the data range or a gentler slope`,
      );
    }
  }
  return warnings;
}

/**
 * Runs `fn` on each batch in order until the stream ends. A synchronous `fn` works inside the
 * producer's emission, which holds the producer back: no batches pile up in memory. After an
 * `fn` that returns a promise the next batch waits until it settles (the caller holds the
 * producer's Demand meanwhile, so that only the batches already on their way wait).
 */
function forEachBatch(batches: Observable<EventBatch>, fn: (b: EventBatch) => void | Promise<void>): Promise<void> {
  const run = (b: EventBatch) => {
    const pending = fn(b);
    return pending ? from(pending) : of(undefined);
  };
  return lastValueFrom(batches.pipe(concatMap(run), ignoreElements()), { defaultValue: undefined });
}
