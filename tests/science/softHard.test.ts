import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { EventBatch } from '../../src/batch/batch.js';
import { hardCutPass } from '../../src/model/score.js';
import { splitTrainValidation } from '../../src/operators/splitTrainValidation.js';
import { memoryDataset } from '../../src/training/memoryDataset.js';
import { trainSelection } from '../../src/training/trainer.js';
import { trainingSettings } from '../../src/pipeline/settings.js';
import { toyData, toyPipeline } from '../../scripts/science-common.js';

/**
 * The kept fraction the soft cuts predict at the end of training against the fraction the hard
 * skim really keeps, on the same (validation) events. Slope annealing makes the two agree.
 */
describe('soft versus hard kept fraction', () => {
  const batches = toyData('toy2d', 8000, 4);
  const seed = 7;

  async function gap(slopeSchedule: { start: number; end: number; kind: 'geometric' | 'constant' }) {
    const pipeline = toyPipeline({
      model: { kind: 'cuts' },
      loss: {
        kind: 'signal-efficiency',
        size: { lambdaStart: 0.3, lambda: 300, targetKeptFraction: 0.2, over: 'background' },
      },
      training: { epochs: 16, batchSize: 2048, learningRate: 0.05, seed, slopeSchedule },
      skim: { keep: ['event_id', 'x', 'y', 'label', 'weight'] },
    });
    const { source, info } = memoryDataset(batches);
    const r = await trainSelection({ settings: trainingSettings(pipeline, info), source, info });
    const validation: EventBatch[] = await lastValueFrom(
      from(batches).pipe(splitTrainValidation(0.2, seed, 'validation'), toArray()),
    );
    let [kept, events] = [0, 0];
    for (const b of validation) {
      kept += hardCutPass(r.model, b).reduce((s, p) => s + p, 0);
      events += b.length;
    }
    return { soft: r.keptFractionPredicted, hard: kept / events };
  }

  it('annealed slopes: within 1 % (absolute); a constant gentle slope is not', async () => {
    const annealed = await gap({ start: 1, end: 10, kind: 'geometric' });
    const constant = await gap({ start: 1, end: 1, kind: 'constant' });
    // The cuts really cut: about the target's share of background and most of the signal.
    expect(annealed.hard).toBeGreaterThan(0.4);
    expect(annealed.hard).toBeLessThan(0.75);
    expect(Math.abs(annealed.soft - annealed.hard)).toBeLessThan(0.01);
    expect(Math.abs(constant.soft - constant.hard)).toBeGreaterThan(0.01);
  });
});
