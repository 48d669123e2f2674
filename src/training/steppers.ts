import * as tf from '@tensorflow/tfjs-core';
import type { EventBatch } from '../batch/batch.js';
import { Adam } from '../model/adam.js';
import { FusedSelectionModel } from '../model/fused.js';
import { type LossSettings, tfLoss } from '../model/losses.js';
import { hasMlp, type SelectionModel } from '../model/model.js';
import { TfSelectionModel } from '../model/tfModel.js';
import { batchTensors, type BatchLayout, disposeBatchTensors, prepareBatch } from './prepare.js';
import { restoreTrainingTensors, trainingTensors } from './trainState.js';

export interface StepResult {
  total: number;
  main: number;
  size: number;
}

/**
 * The model being trained and its optimiser, behind one interface for the trainer: the fused
 * typed-array kernel (src/model/fused.ts, the default on CPU) or TF.js (any backend). Both keep
 * their state as the same named float32 tensors (see trainState.ts), so checkpoints look alike;
 * a run resumes only on the backend that wrote it.
 */
export interface Stepper {
  /** One Adam step on a batch; null when skipped (no weight, or a non-finite loss or gradient). */
  step(settings: LossSettings, layout: BatchLayout, batch: EventBatch, multiplier: number): StepResult | null;
  snapshot(multiplier: number): SelectionModel;
  iterations(): number;
  /** Parameters and Adam's state by name: param/i, adam/beta1^t, adam/beta2^t, adam/m/i, adam/v/i. */
  tensors(): Map<string, Float32Array>;
  restore(iterations: number, tensors: Map<string, Float32Array>): void;
  dispose(): void;
}

export function tfStepper(model: SelectionModel, learningRate: number, backend: string): Stepper {
  const tm = new TfSelectionModel(model);
  const optimizer = tf.train.adam(learningRate);
  return {
    step: (settings, layout, batch, multiplier) => trainStep(tm, optimizer, settings, layout, batch, multiplier),
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

export function fusedStepper(model: SelectionModel, learningRate: number, backend: string): Stepper {
  const fm = new FusedSelectionModel(model);
  let adam = new Adam(fm.params.length, learningRate);
  const views = (flat: Float32Array) =>
    fm.tensors().map((t) => flat.subarray(t.byteOffset / 4, t.byteOffset / 4 + t.length));
  return {
    step: (settings, layout, batch, multiplier) => {
      const prepared = prepareBatch(layout, batch);
      if (prepared.sumWeight <= 0 || prepared.sumBytes <= 0) return null;
      const r = fm.lossAndGradient(settings, prepared, multiplier);
      let norm2 = 0;
      for (const g of fm.gradient) norm2 += g * g;
      // Finite in float32, as the TF.js step checks it.
      if (!Number.isFinite(r.total) || !Number.isFinite(Math.fround(norm2))) return null;
      adam.apply(fm.params, fm.gradient);
      return r;
    },
    snapshot: (multiplier) => fm.snapshot(multiplier, backend),
    iterations: () => adam.iterations,
    tensors: () => {
      const out = new Map<string, Float32Array>();
      fm.tensors().forEach((t, i) => out.set(`param/${i}`, t.slice()));
      out.set('adam/beta1^t', Float32Array.of(adam.beta1Power));
      out.set('adam/beta2^t', Float32Array.of(adam.beta2Power));
      for (const [kind, flat] of [
        ['m', adam.m],
        ['v', adam.v],
      ] as const)
        views(flat).forEach((t, i) => out.set(`adam/${kind}/${i}`, t.slice()));
      return out;
    },
    restore: (iterations, saved) => {
      const get = (name: string, size: number): Float32Array => {
        const values = saved.get(name);
        if (values?.length !== size) throw new Error(`tensor '${name}' is missing or not of size ${size}`);
        return values;
      };
      fm.tensors().forEach((t, i) => t.set(get(`param/${i}`, t.length)));
      adam = new Adam(fm.params.length, learningRate);
      adam.beta1Power = get('adam/beta1^t', 1)[0];
      adam.beta2Power = get('adam/beta2^t', 1)[0];
      adam.iterations = iterations;
      for (const [kind, flat] of [
        ['m', adam.m],
        ['v', adam.v],
      ] as const)
        views(flat).forEach((t, i) => t.set(get(`adam/${kind}/${i}`, t.length)));
    },
    dispose: () => {},
  };
}

/**
 * One TF.js Adam step. Only four scalars are read back (loss terms and the squared gradient
 * norm). NaN guard: when the loss or a gradient is not finite the update is not applied, so the
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
  let kept: tf.Tensor[] = [];
  try {
    const { value, grads } = tf.variableGrads(() => {
      const loss = tfLoss(
        settings,
        model.forward(tensors.features, tensors.cutValues, multiplier, tensors.objects),
        tensors.loss,
      );
      kept = [tf.keep(loss.main), tf.keep(loss.size)];
      return loss.total;
    }, model.trainableVariables());
    const check = tf.tidy(() => {
      const gradNorm = tf.addN(Object.values(grads).map((g) => tf.sum(tf.square(g))));
      return tf.concat([
        tf.reshape(value, [1]),
        tf.reshape(kept[0], [1]),
        tf.reshape(kept[1], [1]),
        tf.reshape(gradNorm, [1]),
      ]);
    });
    const [total, main, size, gradNorm] = check.dataSync();
    tf.dispose([value, check, ...kept]);
    kept = [];
    const finite = Number.isFinite(total) && Number.isFinite(gradNorm);
    if (finite) optimizer.applyGradients(grads);
    tf.dispose(Object.values(grads));
    return finite ? { total, main, size } : null;
  } finally {
    tf.dispose(kept);
    disposeBatchTensors(tensors);
  }
}
