import { from, lastValueFrom, toArray } from 'rxjs';
import { describe, expect, it } from 'vitest';
import type { EventBatch } from '../../src/batch/batch.js';
import { hardCutPass, mlpScore } from '../../src/model/score.js';
import { splitTrainValidation } from '../../src/operators/splitTrainValidation.js';
import { trainingSettings } from '../../src/pipeline/settings.js';
import { trainSelection } from '../../src/training/trainer.js';
import { memorySource, toyBatches, toyInfo, toyPipeline } from './toy.js';

/**
 * The settling pass puts what the skim keeps on the size target: counted here directly, event by
 * event, on the training split, with the hard cuts and (when the skim has one) the score cut.
 */
describe('settling on the size target', () => {
  const data = toyBatches(4000, 11, 1000);
  const seed = 5;
  const target = 0.1;

  const backgroundKept = async (pass: (b: EventBatch) => ArrayLike<number>) => {
    const train = await lastValueFrom(from(data).pipe(splitTrainValidation(0.2, seed, 'train'), toArray()));
    let [kept, background] = [0, 0];
    for (const b of train) {
      const p = pass(b);
      const label = b.columns.label.values as Int32Array;
      for (let i = 0; i < b.length; i++) if (!label[i]) [kept, background] = [kept + p[i], background + 1];
    }
    return kept / background;
  };

  for (const scoreCut of [null, 0.6])
    it(`keeps the target's share of background: hard cuts${scoreCut === null ? '' : ' and score cut'}`, async () => {
      const pipeline = toyPipeline({
        model: { kind: 'cuts-x-mlp', hidden: [8] },
        loss: { kind: 'bce', size: { targetKeptFraction: target, over: 'background' } },
        // Few steps: training alone ends away from the target, the settling pass moves the cuts onto it.
        training: { epochs: 2, batchSize: 1024, seed },
        skim: { keep: ['event_id', 'x', 'y', 'label', 'weight'], scoreCut },
      });
      const info = toyInfo(data);
      const r = await trainSelection({ settings: trainingSettings(pipeline, info), source: memorySource(data), info });
      const m = r.model;
      const kept = await backgroundKept((b) => {
        const cuts = hardCutPass(m, b);
        if (scoreCut === null) return cuts;
        const score = mlpScore(m, b);
        return cuts.map((c, i) => c * (score[i] > scoreCut ? 1 : 0));
      });
      // Within a bin of the sampled values (1/20000 of the events each) plus float32 ties.
      expect(Math.abs(kept - target)).toBeLessThan(2e-3);
      expect(r.settled!.keptAfter).toBeCloseTo(kept, 3);
      expect(r.settled!.moved.length).toBeGreaterThan(0);
      if (scoreCut !== null) expect(await backgroundKept((b) => hardCutPass(m, b))).toBeGreaterThan(kept + 0.01);
    });
});
