import * as tf from '@tensorflow/tfjs-core';
import type { EventBatch } from '../batch/batch.js';
import { type LossSettings, stepScale, tfLoss } from '../model/losses.js';
import { hasMlp, type SelectionModel } from '../model/model.js';
import { TfSelectionModel } from '../model/tfModel.js';
import { batchTensors, type BatchLayout, disposeBatchTensors, prepareBatch } from './prepare.js';
import { FusedState } from './fusedState.js';
import type { Stepper, StepResult } from './stepper.js';
import { restoreTrainingTensors, trainingTensors } from './trainState.js';
import { throwWebGpuError } from './webgpu.js';

export function tfStepper(model: SelectionModel, learningRate: number, backend: string): Stepper {
  const tm = new TfSelectionModel(model);
  const optimizer = tf.train.adam(learningRate);
  const gpu = backend === 'webgpu';
  return {
    step: (settings, layout, batch, multiplier, done) =>
      gpu
        ? trainStepAsync(tm, optimizer, settings, layout, batch, multiplier).then(done)
        : done(trainStep(tm, optimizer, settings, layout, batch, multiplier)),
    // Every variable read once (TF.js keeps the values): snapshot() and tensors() read them synchronously.
    flush: () =>
      gpu ? Promise.all(Object.values(tf.engine().registeredVariables).map((v) => v.data())).then(() => {}) : undefined,
    snapshot: (multiplier) => tm.snapshot(multiplier, backend),
    iterations: () => optimizer.iterations,
    tensors: () => trainingTensors(tm, optimizer),
    restore: (iterations, tensors) => restoreTrainingTensors(tm, optimizer, iterations, tensors),
    dispose: () => {
      tm.dispose();
      optimizer.dispose();
    },
  };
}

/** The fused kernel's stepper on this thread (threadedStepper.ts: on worker threads). */
export function fusedStepper(model: SelectionModel, learningRate: number, backend: string): Stepper {
  const state = new FusedState(model, learningRate, backend);
  const { fm } = state;
  return {
    step: (settings, layout, batch, multiplier, done) => {
      const prepared = prepareBatch(layout, batch);
      if (prepared.sumWeight <= 0 || prepared.sumBytes <= 0) return done(null);
      done(state.apply(settings, fm.lossAndGradient(settings, prepared, multiplier), fm.gradient));
    },
    flush: () => {},
    ...state.methods(),
  };
}

/**
 * One TF.js Adam step. Only five scalars are read back (loss terms, the kept fraction and the
 * squared gradient norm). NaN guard: when the loss or a gradient is not finite the update is not
 * applied, so the parameters (and Adam's moments) stay at their last good values; returns null then.
 */
export function trainStep(
  model: TfSelectionModel,
  optimizer: tf.Optimizer,
  settings: LossSettings,
  layout: BatchLayout,
  batch: EventBatch,
  multiplier: number,
): StepResult | null {
  const step = startStep(model, optimizer, settings, layout, batch, multiplier);
  if (!step) return null;
  try {
    return step.finish(step.check.dataSync());
  } finally {
    step.dispose();
  }
}

/** trainStep reading the five scalars back asynchronously: WebGPU in Node has no synchronous read. */
export async function trainStepAsync(
  model: TfSelectionModel,
  optimizer: tf.Optimizer,
  settings: LossSettings,
  layout: BatchLayout,
  batch: EventBatch,
  multiplier: number,
): Promise<StepResult | null> {
  const step = startStep(model, optimizer, settings, layout, batch, multiplier);
  if (!step) return null;
  try {
    const values = await step.check.data();
    throwWebGpuError();
    return step.finish(values);
  } finally {
    step.dispose();
  }
}

/**
 * A step up to its five scalars (total, main, size, kept, squared gradient norm), `check`;
 * `finish` applies the update when they are finite.
 */
interface StartedStep {
  check: tf.Tensor;
  finish(values: Iterable<number>): StepResult | null;
  dispose(): void;
}

function startStep(
  model: TfSelectionModel,
  optimizer: tf.Optimizer,
  settings: LossSettings,
  layout: BatchLayout,
  batch: EventBatch,
  multiplier: number,
): StartedStep | null {
  const prepared = prepareBatch(layout, batch);
  if (prepared.sumWeight <= 0 || prepared.sumBytes <= 0) return null;
  const tensors = batchTensors(prepared, hasMlp(layout.model) ? layout.model.features.length : 0, model.edgeCount);
  const gates = model.gates;
  const noise = gates && tf.tensor2d(gates.noise(prepared.n, optimizer.iterations), [prepared.n, gates.count]);
  const draw = noise ? { noise, temperature: layout.gateTemperature ?? 1 } : undefined;
  const held: tf.Tensor[] = [];
  const dispose = () => {
    tf.dispose(held);
    noise?.dispose();
    disposeBatchTensors(tensors);
  };
  try {
    let terms: tf.Tensor[] = [];
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(tensors.features, tensors.cutValues, multiplier, { draw, objects: tensors.objects });
      const loss = tfLoss(settings, out, tensors.loss);
      terms = [tf.keep(loss.main), tf.keep(loss.size), tf.keep(loss.kept), tf.keep(loss.total)];
      held.push(...terms);
      return tf.mul(loss.total, stepScale(settings));
    }, model.trainableVariables());
    held.push(value, ...Object.values(grads));
    const check = tf.tidy(() => {
      const gradNorm = tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))));
      return tf.concat([terms[3], terms[0], terms[1], terms[2], gradNorm].map((t) => tf.reshape(t, [1])));
    });
    held.push(check);
    const finish = ([total, main, size, kept, gradNorm]: Iterable<number>) => {
      const finite = Number.isFinite(total) && Number.isFinite(gradNorm);
      if (finite) optimizer.applyGradients(grads);
      return finite ? { total, main, size, kept } : null;
    };
    return { check, finish, dispose };
  } catch (e) {
    dispose();
    throw e;
  }
}
