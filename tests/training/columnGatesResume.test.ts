import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trainingSettings } from '../../src/pipeline/settings.js';
import { initBackend } from '../../src/training/backend.js';
import { type TrainResult, trainSelection } from '../../src/training/trainer.js';
import { Interrupted } from '../../src/util/stopSignal.js';
import { memorySource, toyBatches, toyInfo, toyPipeline } from './toy.js';

/**
 * Column gates carry over a checkpoint like every other parameter: their noise is drawn from the
 * seed and the step number, so a run stopped mid-way and resumed gives the model, gates and
 * history of a run never stopped, bit for bit.
 */
const data = toyBatches(1500, 3, 500, 0.5, 'toy6d');
const pipeline = toyPipeline({
  features: ['x', 'y', 'n1', 'n2'],
  training: { epochs: 3, batchSize: 512, learningRate: 0.02, seed: 4, shuffleBuffer: 1024 },
  loss: { size: { lambda: 0.3 } },
  columns: { select: true },
  skim: { keep: ['event_id', 'jet_pt'] },
});
const settings = trainingSettings(pipeline, toyInfo(data));
let dir: string;
let uninterrupted: TrainResult;

const train = (checkpointDir: string, extra: Partial<Parameters<typeof trainSelection>[0]> = {}) =>
  trainSelection({ settings, source: memorySource(data), info: toyInfo(data), checkpointDir, ...extra });

beforeAll(async () => {
  await initBackend('auto');
  dir = await mkdtemp(join(tmpdir(), 'diffskim-gates-resume-'));
  uninterrupted = await train(join(dir, 'uninterrupted'));
}, 120_000);
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('column gates and checkpoints', () => {
  it('resumed after a stop mid-epoch, give the same gates, model and history', async () => {
    expect(settings.columnGates?.candidates).toEqual(['x', 'y', 'n1', 'n2']);
    const folder = join(dir, 'stopped');
    const controller = new AbortController();
    let steps = 0;
    const onStep = () => {
      if (++steps === 7) controller.abort(new Interrupted('SIGINT', 'to go on, resume'));
    };
    const stopped = await train(folder, { onStep, signal: controller.signal }).catch((e: Error) => e);
    expect(stopped).toBeInstanceOf(Interrupted);
    const resumed = await train(folder, { resume: true });
    expect(resumed.model.features).toEqual(uninterrupted.model.features);
    expect(resumed.model.columnChoice).toEqual(uninterrupted.model.columnChoice);
    resumed.model.layers.forEach((layer, l) =>
      expect(Array.from(layer.kernel)).toEqual(Array.from(uninterrupted.model.layers[l].kernel)),
    );
    const timeless = (r: TrainResult) => r.history.map(({ seconds: _, ...rest }) => rest);
    expect(timeless(resumed)).toEqual(timeless(uninterrupted));
    expect(
      resumed.history
        .at(-1)!
        .columns!.filter((c) => c.candidate)
        .map((c) => c.column),
    ).toEqual(['x', 'y', 'n1', 'n2']);
  });
});
