import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeBatch } from '../../src/batch/batch.js';
import { logStep } from '../../src/model/cuts.js';
import { createModel, hasCuts, hasMlp, type SelectionModel } from '../../src/model/model.js';
import { LossAccumulator, type LossSettings, tfLoss } from '../../src/model/losses.js';
import { mlpLogit, logCutWeights } from '../../src/model/score.js';
import { TfSelectionModel } from '../../src/model/tfModel.js';
import { initBackend } from '../../src/training/backend.js';
import { batchTensors, prepareBatch } from '../../src/training/prepare.js';

beforeAll(async () => {
  await initBackend('cpu');
});

/** log((1 + erf(a)) / 2) = log(Phi(a sqrt 2)) by Simpson's rule on the Gaussian tail, in float64. */
function logErfStepReference(a: number): number {
  // (1 + erf(a)) / 2 = (1/sqrt(pi)) * integral from -a to infinity of exp(-t^2) dt, for a < 0.
  const z = -a;
  const n = 20000;
  const h = 12 / n;
  let s = 0;
  for (let i = 0; i <= n; i++) {
    const t = z + i * h;
    s += (i === 0 || i === n ? 1 : i % 2 ? 4 : 2) * Math.exp(-(t * t) + z * z);
  }
  return Math.log((s * h) / 3 / Math.sqrt(Math.PI)) - z * z;
}

/** One erf cut x > 0 of slope 1 on a standardised x. */
function erfCutModel() {
  return createModel({
    kind: 'cuts',
    features: [],
    inputMean: [],
    inputStd: [],
    hidden: [],
    cuts: [{ column: 'x', op: '>', form: 'erf', slope: 1, value: 0, mean: 0, std: 1 }],
    seed: 1,
  });
}

describe('erf cut far below its threshold', () => {
  const m = erfCutModel();

  it('keeps the exact log weight and a gradient, in JS and TF alike', () => {
    const tm = new TfSelectionModel(m);
    try {
      for (const a of [-2, -3.5, -4, -6, -10, -20]) {
        const exact = logErfStepReference(a);
        expect(logStep('erf', a)).toBeCloseTo(exact, 2);
        const x = tf.tensor2d([[a]]);
        const { value, grads } = tf.variableGrads(
          () => tf.sum(tm.forward(null, x, 1).logCut!) as tf.Scalar,
          tm.trainableVariables(),
        );
        expect(value.dataSync()[0]).toBeCloseTo(exact, 1);
        // d/dc log w(x - c), against a finite difference of the exact reference.
        const fd = -(logErfStepReference(a + 1e-4) - logErfStepReference(a - 1e-4)) / 2e-4;
        expect(grads[tm.thresholds!.name].dataSync()[0] / fd).toBeCloseTo(1, 2);
        tf.dispose([x, value, ...Object.values(grads)]);
      }
    } finally {
      tm.dispose();
    }
  });
});

const BCE: LossSettings = {
  kind: 'bce',
  lambda: 0,
  target: null,
  multiplier: 0,
  signalYield: 1,
  backgroundYield: 1,
  sigmaB: 0,
};

/**
 * The BCE of one background event at `x` under model `m`: in TF, with the gradients of the cut
 * threshold and the output bias (NaN where the model has none), and in float64 JS.
 */
function backgroundBce(m: SelectionModel, x: number) {
  const batch = makeBatch({ x: Float64Array.of(x), label: Float32Array.of(0) }, { x: 'float64', label: 'float32' });
  const layout = {
    model: m,
    label: 'label',
    classFactor: { signal: 1, background: 1 },
    bytes: { fixed: 1, lists: [], bytesIn: 1 },
  };
  const tm = new TfSelectionModel(m);
  try {
    const p = prepareBatch(layout, batch);
    const t = batchTensors(p, hasMlp(m) ? m.features.length : 0, tm.edgeCount);
    const { value, grads } = tf.variableGrads(
      () => tfLoss(BCE, tm.forward(t.features, t.cutValues, 1), t.loss).total,
      tm.trainableVariables(),
    );
    const acc = new LossAccumulator(BCE);
    acc.add(
      hasCuts(m) ? logCutWeights(m, batch) : null,
      hasMlp(m) ? mlpLogit(m, batch) : null,
      p.label,
      p.weight,
      p.keptBytes,
      p.bytes,
    );
    const grad = (v: tf.Variable | null | undefined) => (v ? grads[v.name].dataSync()[0] : NaN);
    return {
      tf: value.dataSync()[0],
      js: acc.result().main,
      thresholdGrad: grad(tm.thresholds),
      biasGrad: grad(tm.biases.at(-1)),
    };
  } finally {
    tm.dispose();
  }
}

describe('BCE of a background event the classifier keeps with confidence', () => {
  /** An event with MLP logit 20, well inside a cut x > -5. */
  function confidentlyWrong(kind: 'mlp' | 'cuts-x-mlp') {
    const m = createModel({
      kind,
      features: ['x'],
      inputMean: [0],
      inputStd: [1],
      hidden: [],
      cuts: [{ column: 'x', op: '>', form: 'sigmoid', slope: 10, value: -5, mean: 0, std: 1 }],
      seed: 1,
    });
    m.layers[0].kernel[0] = 0;
    m.layers[0].bias[0] = 20;
    return backgroundBce(m, 3);
  }

  it('costs -log(1 - P) and pulls the logit down, as without cuts', () => {
    // -log(1 - sigmoid(20)) = softplus(20) = 20.000000002
    for (const r of [confidentlyWrong('mlp'), confidentlyWrong('cuts-x-mlp')]) {
      expect(r.tf).toBeCloseTo(20, 3);
      expect(r.js).toBeCloseTo(20, 6);
      expect(r.biasGrad).toBeCloseTo(1, 3);
    }
  });
});

describe('erf cut far inside its threshold: BCE of a background event', () => {
  it('costs -log(1 - w) in TF as in JS, with a gradient (1 - w rounded to 0 in float32 near a = 3.9)', () => {
    const m = erfCutModel();
    for (const x of [2, 4, 5, 6]) {
      const r = backgroundBce(m, x);
      // -log(1 - w) = -log(erfc(x) / 2), from the reference integral.
      const exact = -logErfStepReference(-x);
      expect(r.js).toBeCloseTo(exact, 2);
      expect(r.tf).toBeCloseTo(exact, 1);
      expect(Math.abs(r.thresholdGrad)).toBeGreaterThan(1);
    }
  });
});
