import type { EventBatch } from '../batch/batch.js';
import { passMask } from '../selection/cutsFile.js';
import { valuesOf } from '../selection/expr/index.js';
import { featureScales } from './columnGates.js';
import { cutEdges, edgeArgument, logStep, sigmoid } from './cuts.js';
import { hasCuts, hasMlp, type SelectionModel } from './model.js';
import { toCutsFile } from './toCutsFile.js';
import { objectReduction } from './objectCuts.js';
import { parseObjectTemplate } from '../selection/objectCut.js';

export { sigmoid };

/**
 * Forward passes in plain JS (float64) from a model's weights: for skims with a score cut and
 * for evaluation, where reading big tensors back from TF.js would cost more than the maths.
 */

/** log prod_k w_k per event (soft cuts); -Infinity where a cut variable is NaN; 0 without cuts. */
export function logCutWeights(
  model: SelectionModel,
  batch: EventBatch,
  multiplier = model.slopeMultiplier,
): Float64Array {
  const out = new Float64Array(batch.length);
  if (!hasCuts(model)) return out;
  const values = model.cuts.map((c) =>
    c.object
      ? objectReduction(batch, parseObjectTemplate(c.column), c.object.threshold, c.object.slope * multiplier)
      : valuesOf(batch, c.column),
  );
  for (const edge of cutEdges(model.cuts)) {
    const x = values[edge.cut];
    for (let i = 0; i < out.length; i++) {
      out[i] += Number.isNaN(x[i]) ? -Infinity : logStep(edge.form, edgeArgument(edge, x[i], multiplier));
    }
  }
  return out;
}

/** prod_k w_k per event (soft cuts). */
export function softCutWeights(
  model: SelectionModel,
  batch: EventBatch,
  multiplier = model.slopeMultiplier,
): Float64Array {
  return logCutWeights(model, batch, multiplier).map(Math.exp);
}

/**
 * MLP output before the sigmoid (inputs standardised; NaN and ±Inf inputs taken at their mean;
 * with column gates, each input times its gates' hard choice, as hardenGates will fold them in).
 */
export function mlpLogit(model: SelectionModel, batch: EventBatch): Float64Array {
  const n = batch.length;
  if (!hasMlp(model)) throw new Error(`model kind '${model.kind}' has no classifier`);
  const scales = featureScales(model.features, model.gates);
  const inputs = model.features.map((f, j) => {
    const z = new Float64Array(n);
    if (scales[j] === 0) return z;
    const x = valuesOf(batch, f);
    const [mean, std] = [model.inputMean[j], model.inputStd[j] / scales[j]];
    for (let i = 0; i < n; i++) z[i] = Number.isFinite(x[i]) ? (x[i] - mean) / std : 0;
    return z;
  });
  const out = new Float64Array(n);
  const widest = Math.max(...model.layers.map((l) => l.outputs), inputs.length);
  let h = new Float64Array(widest);
  let next = new Float64Array(widest);
  const last = model.layers.length - 1;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < inputs.length; j++) h[j] = inputs[j][i];
    model.layers.forEach((layer, l) => {
      const { inputs: nin, outputs: nout, kernel, bias } = layer;
      for (let o = 0; o < nout; o++) next[o] = bias[o];
      for (let k = 0; k < nin; k++) {
        const hk = h[k];
        if (hk === 0) continue;
        const row = k * nout;
        for (let o = 0; o < nout; o++) next[o] += hk * kernel[row + o];
      }
      if (l < last) for (let o = 0; o < nout; o++) if (next[o] < 0) next[o] = 0;
      [h, next] = [next, h];
    });
    out[i] = h[0];
  }
  return out;
}

/** sigmoid(MLP): the classifier score the skim's score cut applies to. */
export function mlpScore(model: SelectionModel, batch: EventBatch): Float32Array {
  return Float32Array.from(mlpLogit(model, batch), sigmoid);
}

/** The model output P = prod_k w_k (soft) * sigmoid(MLP), as in training, in float64 (for ranking). */
export function modelScore(model: SelectionModel, batch: EventBatch): Float64Array {
  const logCut = logCutWeights(model, batch);
  const logit = hasMlp(model) ? mlpLogit(model, batch) : null;
  return logCut.map((l, i) => Math.exp(l) * (logit ? sigmoid(logit[i]) : 1));
}

/** The model output P as float32, as the gRPC Evaluate call sends it. */
export function scoreBatch(model: SelectionModel, batch: EventBatch): Float32Array {
  return Float32Array.from(modelScore(model, batch));
}

/** 1 where the event passes the learned cuts applied as hard cuts. */
export function hardCutPass(model: SelectionModel, batch: EventBatch): Uint8Array {
  return passMask(batch, toCutsFile(model, null).cuts);
}
