import { stat } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import type { TfSelectionModel } from '../model/tfModel.js';
import type { CutSpec } from '../model/cuts.js';
import type { ConstraintState } from './sizeConstraint.js';

export interface EpochRecord {
  epoch: number;
  /** Means over the epoch's minibatches (weighted by events). */
  trainLoss: number;
  /** Classification (or significance) term. */
  trainMain: number;
  trainSize: number;
  /** On the validation split, computed in float64 from the weights at the end of the epoch. */
  validationLoss: number;
  validationMain: number;
  validationSize: number;
  validationAuc: number;
  /** Mean soft cut weight, and the bytes-weighted version, on the validation split. */
  keptFraction: number;
  keptBytesFraction: number;
  cuts: CutSpec[];
  slopeMultiplier: number;
  /** Size-term slope at the end of the epoch: lambda (see loss.size.lambdaStart), or with a target the multiplier. */
  sizeLambda: number;
  events: number;
  skippedSteps: number;
  seconds: number;
  /**
   * With column gates, each pinned and candidate column: the soft share of its values the cuts
   * keep and its gate's P(open) (1 when pinned), on the validation split.
   */
  columns?: { column: string; keptShare: number; open: number; candidate: boolean }[];
}

/**
 * Everything a training run's result depends on after an epoch, so that a run resumed from it
 * gives the same model as one never stopped: the parameters and Adam's state bit for bit (as
 * float32 tensors), the counters and history, and what the run was started with (the pipeline,
 * backend and data) to refuse a resume of something else. The random generators need no state
 * of their own: the shuffle of epoch e is seeded with (seed, e), and the slope and size-term
 * schedules are functions of the epoch; the size constraint's multiplier, which follows the
 * steps, is saved.
 */
export interface TrainState {
  /** The settings of the run: a resumed run must have the same. */
  settings: { pipeline: unknown; backend: string };
  /** Figures of the training data: a resumed run must read the same. */
  data: DataFigures;
  /** Last epoch completed (0-based). */
  epoch: number;
  steps: number;
  trainedEvents: number;
  trainSeconds: number;
  skippedSteps: number;
  warnings: string[];
  history: EpochRecord[];
  /** The size constraint's multiplier and smoothed kept fraction (null without a target). */
  constraint: ConstraintState | null;
  /** Adam's iteration count. */
  iterations: number;
  /** Parameters and optimiser tensors by name (see trainingTensors). */
  tensors: Map<string, Float32Array>;
}

export interface DataFigures {
  rows: number;
  bytesOnDisk: number;
  trainingEvents: number;
  signalWeight: number;
  backgroundWeight: number;
  /** The local input files as they were (absent in checkpoints of earlier versions). */
  files?: FileStamp[];
}

/**
 * A local input file as the run found it: one rewritten since with the same size, rows and
 * weight sums but other values (an uncompressed file, or `cp -p` of another) is a new inode or a
 * new modification time.
 */
export interface FileStamp {
  path: string;
  bytes: number;
  mtimeMs: number;
  inode: number;
}

/**
 * Stamps of the inputs that are local files: local sources name them by absolute path; a gRPC
 * server's are relative to its data root (a file of that name here is another file), an in-memory
 * source's are no files.
 */
export async function fileStamps(files: { path: string }[]): Promise<FileStamp[]> {
  const stamps = await Promise.all(
    files.map(({ path }) =>
      (isAbsolute(path) ? stat(path) : Promise.reject()).then(
        (s) => (s.isFile() ? { path, bytes: s.size, mtimeMs: s.mtimeMs, inode: s.ino } : null),
        () => null,
      ),
    ),
  );
  return stamps.filter((s) => s !== null);
}

/**
 * Adam's fields in tfjs-core 4.x. Its getWeights()/setWeights() would carry the moments, but
 * setWeights() recomputes beta^t with pow() instead of the running product that
 * applyGradients() keeps, one float32 ulp apart: a resumed run would step differently.
 */
interface AdamFields {
  accBeta1: tf.Variable;
  accBeta2: tf.Variable;
  accumulatedFirstMoment: { originalName: string; variable: tf.Variable }[];
  accumulatedSecondMoment: { originalName: string; variable: tf.Variable }[];
  iterations_: number;
}

function adamFields(optimizer: tf.AdamOptimizer): AdamFields {
  const fields = optimizer as unknown as AdamFields;
  if (!(fields.accBeta1 instanceof tf.Variable) || !Array.isArray(fields.accumulatedFirstMoment)) {
    throw new Error('this tfjs-core keeps Adam state where diffskim does not know it: checkpoints cannot hold it');
  }
  return fields;
}

/** The parameters of the model and the optimiser's state, by name, copied out. */
export function trainingTensors(model: TfSelectionModel, optimizer: tf.AdamOptimizer): Map<string, Float32Array> {
  const adam = adamFields(optimizer);
  const out = new Map<string, Float32Array>();
  const copy = (v: tf.Variable) => Float32Array.from(v.dataSync());
  const variables = model.trainableVariables();
  variables.forEach((v, i) => out.set(`param/${i}`, copy(v)));
  out.set('adam/beta1^t', copy(adam.accBeta1));
  out.set('adam/beta2^t', copy(adam.accBeta2));
  // Each moment is saved under the position of its parameter (Adam names it '<variable>/m').
  for (const [kind, moments] of [
    ['m', adam.accumulatedFirstMoment],
    ['v', adam.accumulatedSecondMoment],
  ] as const) {
    for (const m of moments) {
      const param = variables.findIndex((v) => m.originalName === `${v.name}/${kind}`);
      out.set(`adam/${kind}/${param}`, copy(m.variable));
    }
  }
  return out;
}

/** Sets the model's parameters and the (fresh) optimiser's state from trainingTensors' output. */
export function restoreTrainingTensors(
  model: TfSelectionModel,
  optimizer: tf.AdamOptimizer,
  iterations: number,
  saved: Map<string, Float32Array>,
): void {
  const adam = adamFields(optimizer);
  const get = (name: string, like: tf.Variable): tf.Tensor => {
    const values = saved.get(name);
    if (values?.length !== like.size) throw new Error(`tensor '${name}' is missing or not of size ${like.size}`);
    return tf.tensor(values, like.shape, 'float32');
  };
  const variables = model.trainableVariables();
  tf.tidy(() => {
    variables.forEach((v, i) => v.assign(get(`param/${i}`, v)));
    adam.accBeta1.assign(get('adam/beta1^t', adam.accBeta1));
    adam.accBeta2.assign(get('adam/beta2^t', adam.accBeta2));
  });
  adam.iterations_ = iterations;
  // Moments exist once a step has been taken. applyGradients() matches them to the variables
  // by position in the gradient map, whose keys (variable ids, integer strings) JS orders by number.
  if (!saved.has('adam/m/0')) return;
  const byName = Object.fromEntries(variables.map((v, i) => [v.name, i]));
  const gradientOrder = Object.keys(byName).map((name) => byName[name]);
  const moment = (kind: 'm' | 'v') =>
    gradientOrder.map((i) => ({
      originalName: `${variables[i].name}/${kind}`,
      variable: tf.tidy(() => get(`adam/${kind}/${i}`, variables[i]).variable(false)),
    }));
  adam.accumulatedFirstMoment = moment('m');
  adam.accumulatedSecondMoment = moment('v');
}

/** How a checkpoint's settings differ from these, in words, or null when they are the same. */
export function otherSettings(state: TrainState, settings: TrainState['settings']): string | null {
  const difference = firstDifference(state.settings, JSON.parse(JSON.stringify(settings)), '');
  return difference && `it was written with other settings (${difference})`;
}

/** How a checkpoint's training data differ from these, in words, or null when they are the same. */
export function otherData(state: TrainState, data: DataFigures): string | null {
  const figures = ['rows', 'bytesOnDisk', 'trainingEvents', 'signalWeight', 'backgroundWeight'] as const;
  const key = figures.find((k) => state.data[k] !== data[k]);
  if (key) return `the input data changed since (${key}: ${state.data[key]} then, ${data[key]} now)`;
  const then = new Map((state.data.files ?? []).map((f) => [f.path, f]));
  const time = (ms: number) => new Date(ms).toISOString();
  for (const now of data.files ?? []) {
    const was = then.get(now.path);
    if (!was || (was.bytes === now.bytes && was.mtimeMs === now.mtimeMs && was.inode === now.inode)) continue;
    const how = was.inode !== now.inode ? 'replaced by another file' : 'rewritten';
    return (
      `the input file '${now.path}' was ${how} since (${was.bytes} bytes modified ${time(was.mtimeMs)} then, ` +
      `${now.bytes} bytes modified ${time(now.mtimeMs)} now)`
    );
  }
  return null;
}

function firstDifference(then: unknown, now: unknown, path: string): string | null {
  if (JSON.stringify(then) === JSON.stringify(now)) return null;
  if (then && now && typeof then === 'object' && typeof now === 'object' && !Array.isArray(then)) {
    const a = then as Record<string, unknown>;
    const b = now as Record<string, unknown>;
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)])) {
      const d = firstDifference(a[key], b[key], path ? `${path}.${key}` : key);
      if (d) return d;
    }
  }
  return `${path}: ${JSON.stringify(then)} then, ${JSON.stringify(now)} now`;
}
