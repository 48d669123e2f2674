import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { makeBatch } from '../../src/batch/batch.js';
import {
  type ColumnGateSpec,
  featureScales,
  logAlphaFor,
  openProbability,
  testGate,
} from '../../src/model/columnGates.js';
import { hardenGates } from '../../src/model/hardenGates.js';
import { type LossSettings, tfLoss } from '../../src/model/losses.js';
import { mlpLogit } from '../../src/model/score.js';
import { TfColumnGates } from '../../src/model/tfColumnGates.js';
import { TfSelectionModel } from '../../src/model/tfModel.js';
import { columnSelection, resolveColumns } from '../../src/pipeline/columnSelection.js';
import { PipelineSchema } from '../../src/pipeline/schema.js';
import { initBackend } from '../../src/training/backend.js';
import { eventBytes, eventBytesModel } from '../../src/training/eventBytes.js';
import { memoryDataset } from '../../src/training/memoryDataset.js';
import { batchTensors, prepareBatch } from '../../src/training/prepare.js';
import { cut, model, uniformBatch } from './helpers.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const gates = (logAlpha: number[], featureGates = [[0], [1]]): ColumnGateSpec => ({
  columns: ['a', 'b'],
  logAlpha,
  featureGates,
  temperature: 2 / 3,
  seed: 5,
});

describe('hard-concrete gates', () => {
  it('sample z = 0 with probability 1 - P(open), and the test-time gate is the noise-free sample', () => {
    const spec = gates([logAlphaFor(0.3, 2 / 3), logAlphaFor(0.8, 2 / 3)]);
    const g = new TfColumnGates(spec);
    const n = 20_000;
    const z = tf.tidy(() => g.sample(tf.tensor2d(g.noise(n, 0), [n, 2]), spec.temperature).dataSync());
    for (const [j, p] of [0.3, 0.8].entries()) {
      let open = 0;
      for (let i = 0; i < n; i++) if (z[i * 2 + j] > 0) open++;
      // Monte Carlo against the closed form, within 4 standard errors.
      expect(Math.abs(open / n - p)).toBeLessThan(4 * Math.sqrt((p * (1 - p)) / n));
      expect(openProbability(spec.logAlpha[j], spec.temperature)).toBeCloseTo(p, 12);
    }
    const zero = tf.tidy(() => g.sample(tf.zeros([1, 2]), spec.temperature).dataSync());
    expect(zero[0]).toBeCloseTo(testGate(spec.logAlpha[0]), 6);
    expect(testGate(-20)).toBe(0);
    expect(testGate(20)).toBe(1);
    g.dispose();
  });

  it("charges each candidate's bytes at P(open) under the soft cuts: value and gradient against float64", () => {
    const batch = uniformBatch(300, 4);
    const { info } = memoryDataset([batch]);
    const m = { ...model('cuts-x-mlp', [cut('a', '>', 'sigmoid', 1.5, { value: 0.5 })]), gates: gates([0.4, -0.7]) };
    // Pinned: the list 'hits'; candidates a and b (one gate each).
    const layout = {
      model: m,
      label: 'label',
      weight: 'weight',
      classFactor: { signal: 1, background: 1 },
      bytes: eventBytesModel(info, ['hits']),
      candidateBytes: ['a', 'b'].map((c) => eventBytesModel(info, [c])),
      gateTemperature: 2 / 3,
    };
    const p = prepareBatch(layout, batch);
    const hits = eventBytes(layout.bytes, batch);
    const perColumn = ['a', 'b'].map((c) => eventBytes(eventBytesModel(info, [c]), batch));
    for (let i = 0; i < batch.length; i++)
      expect(p.bytes[i]).toBeCloseTo(hits[i] + perColumn[0][i] + perColumn[1][i], 9);
    const settings: LossSettings = {
      kind: 'bce',
      lambda: 0.7,
      target: null,
      multiplier: 0,
      signalYield: 1,
      backgroundYield: 1,
      sigmaB: 0,
    };
    const tm = new TfSelectionModel(m);
    const t = batchTensors(p, 2, tm.edgeCount);
    const noise = tf.tensor2d(tm.gates!.noise(p.n, 0), [p.n, 2]);
    const size = () =>
      tfLoss(settings, tm.forward(t.features, t.cutValues, 1, { draw: { noise, temperature: 2 / 3 } }), t.loss).size;
    const { value, grads } = tf.variableGrads(size, [tm.gates!.variable]);
    // Direct float64: lambda * sum_i c_i (hits_i + sum_j P_j bytes_ij) / sum_i bytes_i.
    const a = batch.columns.a.values as Float64Array;
    const c = Array.from(a, (x) => 1 / (1 + Math.exp(-1.5 * (x - 0.5))));
    const direct = (logAlpha: number[]) => {
      const open = logAlpha.map((l) => openProbability(l, 2 / 3));
      let kept = 0;
      let all = 0;
      for (let i = 0; i < batch.length; i++) {
        kept += c[i] * (hits[i] + open[0] * perColumn[0][i] + open[1] * perColumn[1][i]);
        all += p.bytes[i];
      }
      return (0.7 * kept) / all;
    };
    expect(value.dataSync()[0]).toBeCloseTo(direct([0.4, -0.7]), 5);
    const g = grads[tm.gates!.variable.name].dataSync();
    // Central differences in log alpha; the variable is log alpha / GATE_RATE.
    const h = 1e-5;
    const fd = [0, 1].map((j) => {
      const up = [0.4, -0.7];
      const down = [0.4, -0.7];
      up[j] += h;
      down[j] -= h;
      return (direct(up) - direct(down)) / (2 * h);
    });
    for (const j of [0, 1]) expect(g[j] / 10).toBeCloseTo(fd[j], 5);
    tf.dispose([value, noise, ...Object.values(grads)]);
    tm.dispose();
  });
});

describe('hardened gates', () => {
  it('drop the closed columns: the score is the gated model hard choice, and the dropped column cannot leak in', () => {
    const m = { ...model('mlp', []), gates: gates([3, -4]) };
    const hard = hardenGates(m);
    expect(hard.features).toEqual(['a']);
    expect(hard.columnChoice).toEqual({ candidates: ['a', 'b'], kept: ['a'], dropped: ['b'] });
    expect(hard.layers[0].inputs).toBe(1);
    const batch = uniformBatch(50, 9);
    const gated = mlpLogit(m, batch);
    const plain = mlpLogit(hard, batch);
    for (let i = 0; i < batch.length; i++) expect(plain[i]).toBeCloseTo(gated[i], 5);
    // The direct computation with a's input times its test-time gate, b's input 0.
    const a = batch.columns.a.values as Float64Array;
    const [first, ...rest] = m.layers;
    const direct = (x: number) => {
      let h = Array.from({ length: first.outputs }, (_, o) => {
        const za = ((x - m.inputMean[0]) / m.inputStd[0]) * testGate(3);
        return Math.max(0, first.bias[o] + za * first.kernel[o]);
      });
      rest.forEach((layer, l) => {
        h = Array.from({ length: layer.outputs }, (_, o) => {
          const v = h.reduce((s, hk, k) => s + hk * layer.kernel[k * layer.outputs + o], layer.bias[o]);
          return l < rest.length - 1 ? Math.max(0, v) : v;
        });
      });
      return h[0];
    };
    for (let i = 0; i < 5; i++) expect(plain[i]).toBeCloseTo(direct(a[i]), 5);
    const b = Float64Array.from(batch.columns.b.values as Float64Array, (x) => x * 100 + 7);
    const changed = makeBatch(
      { a, b, label: batch.columns.label.values, weight: batch.columns.weight.values },
      { a: 'float64', b: 'float64', label: 'float32', weight: 'float32' },
    );
    expect(Array.from(mlpLogit(m, changed))).toEqual(Array.from(gated));
  });
});

describe('column patterns', () => {
  it('expand * and ? in order, keep plain names, and name a pattern that matches nothing', () => {
    const available = ['Muon_pt', 'Muon_eta', 'Electron_pt', 'nMuon', 'MET_pt'];
    expect(resolveColumns(['MET_pt', 'Muon_*', 'nMuo?'], available, 'keep')).toEqual([
      'MET_pt',
      'Muon_pt',
      'Muon_eta',
      'nMuon',
    ]);
    expect(() => resolveColumns(['Tau_*'], available, "pipeline 'p': skim.keep")).toThrow(
      "pipeline 'p': skim.keep: pattern 'Tau_*' matches no column of the input",
    );
  });
});

describe('column selection settings', () => {
  const { info } = memoryDataset([uniformBatch(20, 1)]);
  const pipeline = (o: object) =>
    PipelineSchema.parse({
      name: 'p',
      source: { kind: 'parquet', paths: ['memory'] },
      label: 'label',
      features: ['a', 'count(hits)'],
      columns: { select: true },
      ...o,
    });

  it('pins skim.keep, takes the features columns as candidates, and refuses a feature reading neither', () => {
    expect(columnSelection(pipeline({ skim: { keep: ['hits', 'weight'] } }), info)).toEqual({
      pinned: ['hits', 'weight'],
      candidates: ['a'],
    });
    expect(() =>
      columnSelection(pipeline({ skim: { keep: ['hits'] }, columns: { select: true, candidates: ['b'] } }), info),
    ).toThrow("feature 'a' reads column 'a', which is neither pinned (skim.keep) nor a candidate");
    expect(() =>
      columnSelection(pipeline({ features: ['a'], columns: { select: true, candidates: ['a', 'b'] } }), info),
    ).toThrow("candidate column 'b' is read by no feature");
    expect(columnSelection(pipeline({ columns: { select: false } }), info)).toBeNull();
    // A feature reading two columns (an expression): both are candidates, and it is gated by both.
    expect(columnSelection(pipeline({ features: ['a * b'] }), info)).toEqual({ pinned: [], candidates: ['a', 'b'] });
    expect(featureScales(['a * b'], gates([3, -4], [[0, 1]]))).toEqual([0]);
    expect(featureScales(['a * b'], gates([3, 3], [[0, 1]]))[0]).toBeGreaterThan(0);
    // Two features reading one column: one candidate, one gate, its bytes charged once.
    expect(columnSelection(pipeline({ features: ['first(hits)', 'count(hits)', 'a'] }), info)).toEqual({
      pinned: [],
      candidates: ['hits', 'a'],
    });
    const cutsOnly = PipelineSchema.safeParse({
      name: 'p',
      source: { kind: 'parquet', paths: ['memory'] },
      cuts: [{ column: 'a', op: '>' }],
      model: { kind: 'cuts' },
      columns: { select: true },
    });
    expect(cutsOnly.success).toBe(false);
  });
});
