import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { initBackend } from '../../src/training/backend.js';
import { type TrainResult, trainSelection } from '../../src/training/trainer.js';
import type { EpochRecord } from '../../src/training/trainState.js';
import { Interrupted } from '../../src/util/stopSignal.js';
import { memorySource, toyBatches, toyInfo, toyPipeline } from './toy.js';

/**
 * Training stopped mid-way and resumed with `resume` must give the model a run never stopped
 * gives, bit for bit: parameters, Adam's moments and beta^t products, the shuffle of each epoch
 * and the schedules all carry over.
 */
const data = toyBatches(3000, 7, 1000);
// Slope annealing and a size-term ramp make the schedules depend on the epoch; the shuffle buffer, the data order.
const training = {
  epochs: 4,
  batchSize: 512,
  learningRate: 0.02,
  seed: 9,
  shuffleBuffer: 2048,
  slopeSchedule: { start: 1, end: 4 },
};
const loss = { size: { lambda: 0.3, lambdaStart: 0.03 } };
const pipeline = toyPipeline({ training, loss });
let dir: string;
let uninterrupted: TrainResult;

const train = (checkpointDir: string, extra: Partial<Parameters<typeof trainSelection>[0]> = {}) =>
  trainSelection({ settings: pipeline, source: memorySource(data), info: toyInfo(data), checkpointDir, ...extra });

/** Trains, stopping (as Ctrl-C does) once `steps` minibatch steps are done; returns the error. */
async function interruptedAfter(
  checkpointDir: string,
  steps: number,
  extra: Partial<Parameters<typeof trainSelection>[0]> = {},
): Promise<Error> {
  const controller = new AbortController();
  let done = 0;
  const onStep = () => {
    if (++done === steps) controller.abort(new Interrupted('SIGINT', 'to go on, resume'));
  };
  return (await train(checkpointDir, { ...extra, onStep, signal: controller.signal }).catch((e: Error) => e)) as Error;
}

/** An epoch's record without its wall-clock time. */
const timeless = (h: EpochRecord[]) => h.map(({ seconds: _, ...rest }) => rest);

function expectSameModel(r: TrainResult, reference: TrainResult): void {
  expect(r.model.cuts).toEqual(reference.model.cuts);
  expect(r.model.layers.length).toBe(reference.model.layers.length);
  r.model.layers.forEach((layer, l) => {
    expect(Array.from(layer.kernel)).toEqual(Array.from(reference.model.layers[l].kernel));
    expect(Array.from(layer.bias)).toEqual(Array.from(reference.model.layers[l].bias));
  });
  expect(timeless(r.history)).toEqual(timeless(reference.history));
  expect(r.validationAuc).toBe(reference.validationAuc);
  expect(r.keptFractionPredicted).toBe(reference.keptFractionPredicted);
  expect(r.skippedSteps).toBe(reference.skippedSteps);
}

beforeAll(async () => {
  await initBackend('auto');
  dir = await mkdtemp(join(tmpdir(), 'diffskim-resume-'));
  uninterrupted = await train(join(dir, 'uninterrupted'));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('resume from a checkpoint', () => {
  it('stopped mid-epoch and resumed, gives the same model as a run never stopped, bit for bit', async () => {
    const stepsPerEpoch = Math.ceil(uninterrupted.history[0].events / training.batchSize);
    const folder = join(dir, 'stopped');
    // Stopped half-way through epoch 3 (index 2): epochs 1 and 2 are checkpointed.
    const e = await interruptedAfter(folder, Math.floor(2.5 * stepsPerEpoch));
    expect(e).toBeInstanceOf(Interrupted);
    expect(e.message).toBe(
      'stopped by SIGINT in training epoch 3 of 4 (the checkpoint after epoch 2 is kept): to go on, resume',
    );
    const resumedEpochs: number[] = [];
    const resumed = await train(folder, { resume: true, onEpoch: (r) => resumedEpochs.push(r.epoch) });
    expect(resumedEpochs).toEqual([2, 3]);
    expectSameModel(resumed, uninterrupted);
    // Resuming a finished training trains nothing and gives the model again.
    const again = await train(folder, { resume: true, onEpoch: (r) => resumedEpochs.push(r.epoch) });
    expect(resumedEpochs).toEqual([2, 3]);
    expectSameModel(again, uninterrupted);
  }, 120_000);

  it('with a size target, the constraint multiplier carries over too', async () => {
    const settings = toyPipeline({
      training,
      model: { kind: 'cuts' },
      loss: { kind: 'signal-efficiency', size: { targetKeptFraction: 0.3, over: 'background' } },
    });
    const reference = await train(join(dir, 'target-uninterrupted'), { settings });
    const stepsPerEpoch = Math.ceil(reference.history[0].events / training.batchSize);
    const folder = join(dir, 'target-stopped');
    expect(await interruptedAfter(folder, Math.floor(2.5 * stepsPerEpoch), { settings })).toBeInstanceOf(Interrupted);
    const resumed = await train(folder, { resume: true, settings });
    expectSameModel(resumed, reference);
    // The multiplier moved (it is state, not a schedule), and the settling pass ran on the same cuts.
    expect(new Set(reference.history.map((h) => h.sizeLambda)).size).toBe(reference.history.length);
    expect(resumed.settled).toEqual(reference.settled);
    // A checkpoint whose constraint an earlier diffskim saved ({ multiplier, keptEma }) is refused.
    for (const name of await readdir(folder)) {
      if (!name.startsWith('step-')) continue;
      const path = join(folder, name, 'state.json');
      const state = JSON.parse(await readFile(path, 'utf8'));
      state.constraint = { multiplier: state.constraint.multiplier, keptEma: 0.3 };
      await writeFile(path, JSON.stringify(state));
    }
    await expect(train(folder, { resume: true, settings })).rejects.toThrow(
      `${folder}: cannot resume from its checkpoint: its size constraint was saved by an earlier version of ` +
        'diffskim; run without --resume to start over',
    );
  }, 120_000);

  it('with an object cut (its element threshold a TF.js variable of its own), the same model too', async () => {
    const cuts = [
      { column: 'y', op: '>' },
      { column: 'count(jet_pt > $c)', op: '>=', value: 2, element: { init: 25 } },
    ];
    const settings = toyPipeline({ training, loss, model: { kind: 'cuts' }, cuts });
    const reference = await train(join(dir, 'object-reference'), { settings });
    expect(reference.model.cuts[1].object!.threshold).not.toBe(25);
    const folder = join(dir, 'object-stopped');
    const stepsPerEpoch = Math.ceil(reference.history[0].events / training.batchSize);
    expect(await interruptedAfter(folder, Math.floor(1.5 * stepsPerEpoch), { settings })).toBeInstanceOf(Interrupted);
    expectSameModel(await train(folder, { resume: true, settings }), reference);
  }, 120_000);

  it('stopped before the first checkpoint, it says there is nothing to resume', async () => {
    const e = await interruptedAfter(join(dir, 'early'), 1);
    expect(e).toBeInstanceOf(Interrupted);
    expect(e.message).toBe(
      'stopped by SIGINT in training epoch 1 of 4, before its first checkpoint: ' +
        'run the same command again (no --resume)',
    );
  });

  it('refuses a checkpoint of other settings or other data, and a folder without one', async () => {
    const folder = join(dir, 'uninterrupted');
    const other = toyPipeline({ training: { ...training, learningRate: 0.05 }, loss });
    await expect(train(folder, { resume: true, settings: other })).rejects.toThrow(
      `${folder}: cannot resume from its checkpoint: it was written with other settings ` +
        '(pipeline.training.learningRate: 0.02 then, 0.05 now); run without --resume to start over',
    );
    const fewer = data.slice(1);
    await expect(train(folder, { resume: true, source: memorySource(fewer), info: toyInfo(fewer) })).rejects.toThrow(
      /cannot resume from its checkpoint: the input data changed since \(rows: 6000 then, 5000 now\)/,
    );
    await expect(train(join(dir, 'none'), { resume: true })).rejects.toThrow(
      `${join(dir, 'none')}: no checkpoint to resume from; run without --resume to start over`,
    );
  });
});
