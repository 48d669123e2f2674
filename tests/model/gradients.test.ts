import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { cutEdges } from '../../src/model/cuts.js';
import { LossAccumulator, type LossSettings, tfLoss } from '../../src/model/losses.js';
import type { SelectionModel } from '../../src/model/model.js';
import { logCutWeights, mlpLogit } from '../../src/model/score.js';
import { TfSelectionModel } from '../../src/model/tfModel.js';
import { initBackend } from '../../src/training/backend.js';
import { eventBytesModel } from '../../src/training/eventBytes.js';
import { batchTensors, type BatchLayout, disposeBatchTensors, prepareBatch } from '../../src/training/prepare.js';
import { BASE_LOSS, cut, model, uniformBatch, uniformInfo } from './helpers.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const MULTIPLIER = 1.3;
const batch = uniformBatch(300, 5);

function theModel(): SelectionModel {
  return model('cuts-x-mlp', [
    cut('a', '>', 'sigmoid', 0.9, { value: -1.5 }),
    cut('b', 'between', 'erf', 0.6, { low: -2.5, high: 3 }),
  ]);
}

/** The loss in float64 JS, for finite differences. */
function jsLoss(m: SelectionModel, layout: BatchLayout, settings: LossSettings) {
  const p = prepareBatch(layout, batch);
  const acc = new LossAccumulator(settings);
  acc.add(logCutWeights(m, batch, MULTIPLIER), mlpLogit(m, batch), p.label, p.weight, p.keptBytes, p.bytes);
  acc.addTotals(p.label, p.fullWeight);
  return acc.result();
}

const SETTINGS: [string, LossSettings][] = [
  ['bce + size term', { ...BASE_LOSS, lambda: 0.7 }],
  ['bce + size constraint with a target', { ...BASE_LOSS, multiplier: 3, target: 0.2 }],
  ['mse + size term', { ...BASE_LOSS, kind: 'mse', lambda: 0.4 }],
  ['s/sqrt(b) with sigmaB', { ...BASE_LOSS, kind: 's-over-sqrt-b', sigmaB: 0.1, lambda: 0.2 }],
  ['asimov', { ...BASE_LOSS, kind: 'asimov', lambda: 0.2 }],
  ['asimov with sigmaB', { ...BASE_LOSS, kind: 'asimov', sigmaB: 0.2 }],
];

describe('loss gradients', () => {
  for (const [name, settings] of SETTINGS) {
    it(`${name}: TF gradients match central finite differences`, () => {
      const m = theModel();
      const layout: BatchLayout = {
        model: m,
        label: 'label',
        weight: 'weight',
        classFactor: { signal: 1.3, background: 0.8 },
        bytes: eventBytesModel(uniformInfo(batch, 40)),
      };
      const tm = new TfSelectionModel(m);
      const t = batchTensors(prepareBatch(layout, batch), 2, tm.edgeCount);
      const before = tf.memory().numTensors;
      try {
        const { value, grads } = tf.variableGrads(
          () => tfLoss(settings, tm.forward(t.features, t.cutValues, MULTIPLIER), t.loss).total,
          tm.trainableVariables(),
        );
        const js = jsLoss(m, layout, settings);
        expect(value.dataSync()[0]).toBeCloseTo(js.total, 4);
        if (settings.lambda > 0) expect(js.size).toBeGreaterThan(1e-3);

        const check = (analytic: number, numeric: number) => {
          expect(Math.abs(analytic - numeric)).toBeLessThan(2e-4 + 5e-3 * Math.abs(numeric));
        };
        // Thresholds: TF learns u = (c - mean) / std, so dL/du = std dL/dc.
        const gu = grads[tm.thresholds!.name].dataSync();
        const edges = cutEdges(m.cuts);
        let largest = 0;
        edges.forEach((e, k) => {
          const h = 1e-4;
          const shifted = (d: number) => {
            const cuts = m.cuts.map((c) => ({ ...c }));
            const c = cuts[e.cut];
            if (c.op === 'between') c[e.sign > 0 ? 'low' : 'high']! += d * e.std;
            else c.value! += d * e.std;
            return jsLoss({ ...m, cuts }, layout, settings).total;
          };
          const numeric = (shifted(h) - shifted(-h)) / (2 * h);
          check(gu[k], numeric);
          largest = Math.max(largest, Math.abs(numeric));
        });
        expect(largest).toBeGreaterThan(1e-3);
        // Some weights of the first and last layers, and a bias.
        const picks: [number, 'kernel' | 'bias', number][] = [
          [0, 'kernel', 0],
          [0, 'kernel', 7],
          [1, 'kernel', 3],
          [2, 'kernel', 4],
          [2, 'bias', 0],
          [0, 'bias', 2],
        ];
        for (const [l, which, i] of picks) {
          const v = (which === 'kernel' ? tm.kernels : tm.biases)[l];
          const analytic = grads[v.name].dataSync()[i];
          const at = (d: number) => {
            const layers = m.layers.map((x) => ({ ...x, kernel: x.kernel.slice(), bias: x.bias.slice() }));
            layers[l][which][i] += d;
            return { loss: jsLoss({ ...m, layers }, layout, settings).total, value: layers[l][which][i] };
          };
          const [up, down] = [at(1e-3), at(-1e-3)];
          check(analytic, (up.loss - down.loss) / (up.value - down.value));
        }
        tf.dispose([value, ...Object.values(grads)]);
        expect(tf.memory().numTensors).toBe(before);
      } finally {
        disposeBatchTensors(t);
        tm.dispose();
      }
    });
  }
});
