import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs-core';
import { from } from 'rxjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { lossSettings } from '../../src/model/losses.js';
import { scoreBatch } from '../../src/model/score.js';
import { TfSelectionModel } from '../../src/model/tfModel.js';
import { initBackend } from '../../src/training/backend.js';
import { loadCheckpoint } from '../../src/training/checkpoint.js';
import { trainStep } from '../../src/training/steppers.js';
import { type TrainResult, trainSelection } from '../../src/training/trainer.js';
import { memorySource, smallToyModel, toyBatches, toyInfo, toyLayout, toyPipeline } from './toy.js';

const batches = toyBatches(10_000, 1);
const source = memorySource(batches);
const info = toyInfo(batches);
const training = { epochs: 6, batchSize: 1024, learningRate: 0.01, seed: 3 };

function train(overrides: Record<string, unknown>, onStep?: (n: number) => void, data = batches): Promise<TrainResult> {
  return trainSelection({
    settings: toyPipeline({ training, ...overrides }),
    source: memorySource(data),
    info: toyInfo(data),
    onStep,
  });
}

beforeAll(async () => {
  await initBackend('auto');
});

describe('trainSelection progress', () => {
  it('tells the size of the training split, and steps through exactly that many events per epoch', async () => {
    const data = toyBatches(3000, 2);
    let split = 0;
    let stepped = 0;
    const epochs = 2;
    await trainSelection({
      settings: toyPipeline({ training: { ...training, epochs } }),
      source: memorySource(data),
      info: toyInfo(data),
      onTrainingSplit: (n) => (split = n),
      onStep: (n) => (stepped += n),
    });
    expect(split).toBeGreaterThan(0.7 * 6000);
    expect(split).toBeLessThan(6000);
    expect(stepped).toBe(split * epochs);
  });

  it('without training.epochs, takes enough epochs for the step budget (500 steps)', async () => {
    const data = toyBatches(1500, 2, 1000);
    let [split, epochs] = [0, 0];
    const r = await trainSelection({
      settings: toyPipeline({ model: { kind: 'cuts' }, training: { batchSize: 256, seed: 3 } }),
      source: memorySource(data),
      info: toyInfo(data),
      onTrainingSplit: (n, e) => ([split, epochs] = [n, e]),
    });
    const stepsPerEpoch = Math.ceil(split / 256);
    expect(epochs).toBe(Math.ceil(500 / stepsPerEpoch));
    expect(r.history).toHaveLength(epochs);
    expect(r.warnings.filter((w) => /optimiser steps/.test(w))).toEqual([]);
  });
});

describe('trainSelection on the seed toy', () => {
  let cutsXMlp: TrainResult;
  let mlpOnly: TrainResult;
  let withSize: TrainResult;

  beforeAll(async () => {
    cutsXMlp = await train({});
    mlpOnly = await train({ model: { kind: 'mlp' } });
    withSize = await train({ loss: { size: { lambda: 1 } } });
  });

  it('cuts x sigmoid(MLP) separates as well as the MLP alone, with finite cuts', () => {
    expect(mlpOnly.validationAuc).toBeGreaterThan(0.9);
    expect(Math.abs(cutsXMlp.validationAuc - mlpOnly.validationAuc)).toBeLessThan(0.01);
    expect(cutsXMlp.model.cuts).toHaveLength(2);
    for (const c of cutsXMlp.model.cuts) expect(Number.isFinite(c.value)).toBe(true);
    expect(cutsXMlp.history).toHaveLength(training.epochs);
    expect(cutsXMlp.history[5].trainLoss).toBeLessThan(cutsXMlp.history[0].trainLoss);
    expect(cutsXMlp.backend).toBe('fused-js');
    expect(cutsXMlp.eventsPerSecond).toBeGreaterThan(0);
  });

  it('a size term tightens the cuts', () => {
    expect(withSize.keptFractionPredicted).toBeLessThan(cutsXMlp.keptFractionPredicted - 0.05);
    expect(withSize.keptBytesFractionPredicted).toBeLessThan(cutsXMlp.keptBytesFractionPredicted - 0.05);
    withSize.model.cuts.forEach((c, i) => expect(c.value!).toBeGreaterThan(cutsXMlp.model.cuts[i].value!));
    const last = withSize.history[training.epochs - 1];
    expect(last.trainSize).toBeGreaterThan(0);
    expect(last.validationSize).toBeCloseTo(last.keptBytesFraction, 6);
    expect(cutsXMlp.history[0].trainSize).toBe(0);
  });

  it('with a target, the size term is the augmented Lagrangian term; the multiplier falls below it', async () => {
    const target = 0.99;
    const loose = await train({
      loss: { size: { lambda: 1, targetKeptFraction: target } },
      training: { ...training, epochs: 2 },
    });
    // The integral of the pull mu min(2, max(0, 1 + 10 (k / target - 1))) from the target to kept (trapezoids).
    const integral = (mu: number, kept: number, n = 10_000) => {
      const pull = (k: number) => mu * Math.min(2, Math.max(0, 1 + 10 * (k / target - 1)));
      const h = (kept - target) / n;
      let sum = (pull(target) + pull(kept)) / 2;
      for (let i = 1; i < n; i++) sum += pull(target + i * h);
      return sum * h;
    };
    for (const h of loose.history) {
      expect(h.keptBytesFraction).toBeLessThan(target);
      expect(h.validationSize).toBeCloseTo(integral(h.sizeLambda, h.keptBytesFraction), 6);
    }
    expect(loose.history[1].sizeLambda).toBeLessThan(loose.history[0].sizeLambda);
    expect(loose.history[0].sizeLambda).toBeLessThan(1);
  });
});

describe('trainer mechanics', () => {
  const small = { ...training, epochs: 2, batchSize: 256 };
  const few = toyBatches(1500, 5, 1000);

  it('is deterministic for a seed', async () => {
    const [a, b] = [await train({ training: small }, undefined, few), await train({ training: small }, undefined, few)];
    expect(a.model.cuts).toEqual(b.model.cuts);
    expect(Array.from(a.model.layers[1].kernel)).toEqual(Array.from(b.model.layers[1].kernel));
    const c = await train({ training: { ...small, seed: 4 } }, undefined, few);
    expect(c.model.cuts).not.toEqual(a.model.cuts);
  });

  it('leaks no tensors across steps or runs', async () => {
    const before = tf.memory().numTensors;
    const counts: number[] = [];
    await train({ training: small }, () => counts.push(tf.memory().numTensors), few);
    expect(counts.length).toBeGreaterThan(10);
    // Adam creates its moment variables on the first step; from then on the count is flat.
    expect(new Set(counts.slice(1)).size).toBe(1);
    expect(tf.memory().numTensors).toBe(before);
  });

  it('skips a step whose loss is not finite and keeps the last good parameters', async () => {
    const p = toyPipeline({ training: small });
    const model = smallToyModel();
    // An event far out in x (below) overflows float32 in the first layer with these weights.
    model.layers[0].kernel.fill(10);
    const layout = toyLayout(model, info);
    const settings = lossSettings(p, layout.bytes.bytesIn, { signal: 1, background: 1 });
    const tm = new TfSelectionModel(model);
    const optimizer = tf.train.adam(0.05);
    try {
      const poisoned = toyBatches(200, 9, 400)[0];
      (poisoned.columns.x.values as Float32Array)[17] = 3e38;
      const start = tm.snapshot(1, 'test');
      expect(trainStep(tm, optimizer, settings, layout, poisoned, 1)).toBeNull();
      expect(tm.snapshot(1, 'test')).toEqual(start);
      const good = toyBatches(200, 10, 400)[0];
      const r = trainStep(tm, optimizer, settings, layout, good, 1);
      expect(Number.isFinite(r!.total)).toBe(true);
      expect(tm.snapshot(1, 'test').cuts[0].value).not.toBe(start.cuts[0].value);
    } finally {
      tm.dispose();
      optimizer.dispose();
    }

    // A non-finite event weight is bad input, not a step to skip: the run stops and says where.
    const bad = toyBatches(300, 11, 600);
    (bad[0].columns.weight.values as Float32Array)[5] = Infinity;
    bad[0].origin = { file: 'toy.parquet', rowGroup: 0, firstRow: 0 };
    const run = trainSelection({
      settings: toyPipeline({ training: { ...small, shuffleBuffer: 0, batchSize: 600, validationFraction: 0.5 } }),
      source: { ...memorySource(bad), batches: () => from(bad) },
      info: toyInfo(bad),
    });
    await expect(run).rejects.toThrow(/toy\.parquet, row group 0, batch from row 0: event weight 'weight' is Infinity/);
  });

  it('warns when a cut sits outside the data (no gradient)', async () => {
    const r = await train(
      {
        training: { ...small, epochs: 1 },
        cuts: [
          { column: 'x', op: '>', init: 80 },
          { column: 'y', op: '>' },
        ],
      },
      undefined,
      few,
    );
    const [outside, steps] = r.warnings;
    expect(r.warnings).toHaveLength(2);
    expect(outside).toMatch(/"column":"x".*no data near its threshold.*keeps none/);
    // One epoch of ceil(events / 256) steps: fewer than the step budget.
    expect(steps).toMatch(
      /^training takes \d+ optimiser steps \(1 epoch\(s\) of \d+ at batchSize 256\), fewer than the 500/,
    );
    expect(r.model.cuts[0].value).toBeGreaterThan(70);
  });

  it('balances classes when asked', async () => {
    // One signal event in ten: unbalanced training learns the 10 % prior; balanced training, equal priors, scores all events higher.
    const rare = toyBatches(4000, 12, 2000, 0.1);
    const meanScore = async (balanceClasses: boolean) => {
      const pipeline = toyPipeline({ model: { kind: 'mlp' }, training: { ...small, epochs: 3, balanceClasses } });
      const r = await trainSelection({ settings: pipeline, source: memorySource(rare), info: toyInfo(rare) });
      const scores = rare.flatMap((b) => Array.from(scoreBatch(r.model, b)));
      return scores.reduce((a, b) => a + b, 0) / scores.length;
    };
    expect(await meanScore(false)).toBeCloseTo(0.1, 1);
    expect(await meanScore(true)).toBeGreaterThan(0.16);
  });

  it('writes an atomic checkpoint after every epoch', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'diffskim-ckpt-'));
    try {
      // An earlier run's checkpoints in the same folder (a later step number than this run reaches).
      await trainSelection({
        settings: toyPipeline({ training: { ...small, epochs: small.epochs + 2 } }),
        source: memorySource(few),
        info: toyInfo(few),
        checkpointDir: dir,
      });
      const earlier = (await readdir(dir)).filter((n) => n.startsWith('step-'));
      const r = await trainSelection({
        settings: toyPipeline({ training: small }),
        source: memorySource(few),
        info: toyInfo(few),
        checkpointDir: dir,
      });
      for (const name of earlier) expect(await readdir(dir)).not.toContain(name);
      const saved = await loadCheckpoint(dir);
      expect(saved!.info.epoch).toBe(small.epochs - 1);
      expect(saved!.info.loss).toBeCloseTo(r.history[small.epochs - 1].trainLoss, 9);
      expect(saved!.model.cuts).toEqual(r.model.cuts);
      expect(Array.from(scoreBatch(saved!.model, few[0]))).toEqual(Array.from(scoreBatch(r.model, few[0])));
      // The newest folder and one older one are kept.
      expect((await readdir(dir)).filter((n) => n.startsWith('step-'))).toHaveLength(2);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('trains a cuts-only model and rejects a pipeline without a label', async () => {
    const r = await train(
      { model: { kind: 'cuts' }, loss: { size: { lambda: 0.5 } }, training: small },
      undefined,
      few,
    );
    expect(r.model.layers).toHaveLength(0);
    expect(r.validationAuc).toBeGreaterThan(0.6);
    await expect(trainSelection({ settings: { ...toyPipeline(), label: undefined }, source, info })).rejects.toThrow(
      /needs a label column/,
    );
  });
});
