import * as tf from '@tensorflow/tfjs-core';
import type { EventBatch } from '../batch/batch.js';
import { type LossSettings, stepScale, tfLoss } from '../model/losses.js';
import { hasMlp, type SelectionModel } from '../model/model.js';
import { TfSelectionModel } from '../model/tfModel.js';
import { batchTensors, type BatchLayout, disposeBatchTensors, prepareBatch } from './prepare.js';
import { FusedState } from './fusedState.js';
import type { Stepper, StepResult } from './stepper.js';
import { restoreTrainingTensors, trainingTensors } from './trainState.js';

export function tfStepper(model: SelectionModel, learningRate: number, backend: string): Stepper {
  const tm = new TfSelectionModel(model);
  const optimizer = tf.train.adam(learningRate);
  return {
    step: (settings, layout, batch, multiplier, done) =>
      done(trainStep(tm, optimizer, settings, layout, batch, multiplier)),
    flush: () => {},
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
 * squared gradient norm). NaN guard: when the loss or a gradient is not finite the update is not applied, so the
 * parameters (and Adam's moments) stay at their last good values; returns null then.
 */
export function trainStep(
  model: TfSelectionModel,
  optimizer: tf.Optimizer,
  settings: LossSettings,
  layout: BatchLayout,
  batch: EventBatch,
  multiplier: number,
): StepResult | null {
  const prepared = prepareBatch(layout, batch);
  if (prepared.sumWeight <= 0 || prepared.sumBytes <= 0) return null;
  const tensors = batchTensors(prepared, hasMlp(layout.model) ? layout.model.features.length : 0, model.edgeCount);
  const gates = model.gates;
  const noise = gates && tf.tensor2d(gates.noise(prepared.n, optimizer.iterations), [prepared.n, gates.count]);
  const draw = noise ? { noise, temperature: layout.gateTemperature ?? 1 } : undefined;
  let kept: tf.Tensor[] = [];
  try {
    const { value, grads } = tf.variableGrads(() => {
      const out = model.forward(tensors.features, tensors.cutValues, multiplier, { draw, objects: tensors.objects });
      const loss = tfLoss(settings, out, tensors.loss);
      kept = [tf.keep(loss.main), tf.keep(loss.size), tf.keep(loss.kept), tf.keep(loss.total)];
      return tf.mul(loss.total, stepScale(settings));
    }, model.trainableVariables());
    const check = tf.tidy(() => {
      const gradNorm = tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))));
      return tf.concat([
        tf.reshape(kept[3], [1]),
        tf.reshape(kept[0], [1]),
        tf.reshape(kept[1], [1]),
        tf.reshape(kept[2], [1]),
        tf.reshape(gradNorm, [1]),
      ]);
    });
    const [total, main, size, keptFraction, gradNorm] = check.dataSync();
    tf.dispose([value, check, ...kept]);
    kept = [];
    const finite = Number.isFinite(total) && Number.isFinite(gradNorm);
    if (finite) optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
    return finite ? { total, main, size, kept: keptFraction } : null;
  } finally {
    tf.dispose(kept);
    noise?.dispose();
    disposeBatchTensors(tensors);
  }
}
