import { describe, expect, it } from 'vitest';
import { toyEvents } from '../../scripts/optimum-grid.js';
import type { EventBatch } from '../../src/batch/batch.js';
import { PipelineSchema } from '../../src/pipeline/schema.js';
import { trainingSettings } from '../../src/pipeline/settings.js';
import { memoryDataset } from '../../src/training/memoryDataset.js';
import { trainSelection } from '../../src/training/trainer.js';

/**
 * The size-dominance warning says that at the skim's margin a per cent fewer bytes costs more
 * than a per cent of the signal, so that a looser skim, randomly prescaled to the same bytes,
 * would keep more signal. Checked here by counting: the learned one-sided cuts on the seed toy
 * (a signal inside a wide background), and the same cuts loosened by one common shift until they
 * keep twice the background, then prescaled by 1/2.
 */
describe('the size term dominating the classification term', () => {
  const data = toyEvents('seed', 20000, 1);

  const counts = (batches: EventBatch[], a: number, b: number) => {
    let [signal, background] = [0, 0];
    for (const batch of batches) {
      const [x, y] = [batch.columns.x.values, batch.columns.y.values] as Float32Array[];
      const label = batch.columns.label.values as Int32Array;
      for (let i = 0; i < batch.length; i++)
        if (x[i] > a && y[i] > b) [signal, background] = [signal + label[i], background + 1 - label[i]];
    }
    return { signal, background };
  };

  const train = async (size: Record<string, number>) => {
    const pipeline = PipelineSchema.parse({
      name: 'dominance',
      source: { kind: 'parquet', paths: ['memory'] },
      label: 'label',
      features: ['x', 'y'],
      cuts: [
        { column: 'x', op: '>' },
        { column: 'y', op: '>' },
      ],
      model: { kind: 'cuts' },
      loss: { kind: 'signal-efficiency', size: { ...size, over: 'background' } },
      training: { seed: 3, batchSize: 1024, validationFraction: 0 },
      skim: { keep: ['event_id', 'x', 'y', 'label'] },
    });
    const { source, info } = memoryDataset(data);
    const r = await trainSelection({ settings: trainingSettings(pipeline, info), source, info });
    const [a, b] = r.model.cuts.map((c) => c.value!);
    const kept = counts(data, a, b);
    // The loosest common shift (in each variable's standard deviation, 3 here) keeping at most 2x the background.
    let shift = 0;
    while (counts(data, a - 3 * (shift + 0.001), b - 3 * (shift + 0.001)).background <= 2 * kept.background)
      shift += 0.001;
    const looser = counts(data, a - 3 * shift, b - 3 * shift);
    const warned = r.warnings.filter((w) => /^the size term dominates the classification term: /.test(w));
    return { kept, looser, warned };
  };

  it('warns where a looser skim, prescaled, keeps more signal in the same bytes', async () => {
    const { kept, looser, warned } = await train({ targetKeptFraction: 0.01 });
    expect(looser.signal / 2).toBeGreaterThan(1.1 * kept.signal);
    expect(warned).toHaveLength(1);
    expect(warned[0]).toMatch(/1 % fewer bytes costs \d\.\d\d % of the signal kept .*: the target is too tight/);
  });

  it('says so without a target too, where lambda is so high that the skim keeps no signal', async () => {
    const { kept, warned } = await train({ lambda: 10 });
    expect(kept.signal).toBe(0);
    expect(kept.background).toBeGreaterThan(0);
    expect(warned).toEqual([
      'the size term dominates the classification term: the skim keeps no signal, or its last bytes cut take ' +
        'the last of it: lower loss.size.lambda, or give a targetKeptFraction',
    ]);
  });

  it('is quiet where the cuts keep more signal than a prescaled looser skim', async () => {
    const { kept, looser, warned } = await train({ targetKeptFraction: 0.3 });
    expect(looser.signal / 2).toBeLessThan(0.9 * kept.signal);
    expect(warned).toEqual([]);
  });
});
