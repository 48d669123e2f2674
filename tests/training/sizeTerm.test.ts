import { describe, expect, it } from 'vitest';
import { type EventBatch, makeBatch } from '../../src/batch/batch.js';
import { hardCutPass } from '../../src/model/score.js';
import { PipelineSchema } from '../../src/pipeline/schema.js';
import { memoryDataset } from '../../src/training/memoryDataset.js';
import { trainSelection } from '../../src/training/trainer.js';
import { seededRandom } from '../../src/util/random.js';

/**
 * Two cut variables a and b, both uniform in [0, 1) and both useless for classification (the
 * label is a coin flip). Events with high a carry long 'tracks' lists (8 bytes an entry), so a
 * cut a < c removes more bytes than the cut b < c that removes as many events. Keeping as much
 * signal as possible within half of the bytes, the trainer must cut on a and leave b open.
 */
function data(n: number, seed: number): EventBatch[] {
  const random = seededRandom(`size-term:${seed}`);
  const batches: EventBatch[] = [];
  for (let start = 0; start < n; start += 1000) {
    const m = Math.min(1000, n - start);
    const a = Float64Array.from({ length: m }, () => random());
    const b = Float64Array.from({ length: m }, () => random());
    const label = Float32Array.from({ length: m }, () => (random() < 0.5 ? 1 : 0));
    const offsets = new Int32Array(m + 1);
    for (let i = 0; i < m; i++) offsets[i + 1] = offsets[i] + Math.floor(20 * a[i] * a[i]);
    batches.push(
      makeBatch(
        { a, b, label, weight: new Float32Array(m).fill(1), tracks: { offsets, values: new Float64Array(offsets[m]) } },
        { a: 'float64', b: 'float64', label: 'float32', weight: 'float32', tracks: 'float64' },
      ),
    );
  }
  return batches;
}

describe('size term on real per-column bytes', () => {
  it('prefers the cut that drops the expensive list column', async () => {
    const batches = data(4000, 1);
    const { source, info } = memoryDataset(batches);
    const pipeline = PipelineSchema.parse({
      name: 'bytes',
      source: { kind: 'parquet', paths: ['memory'] },
      label: 'label',
      weight: 'weight',
      features: ['a', 'b'],
      cuts: [
        { column: 'a', op: '<' },
        { column: 'b', op: '<' },
      ],
      model: { kind: 'cuts' },
      loss: { kind: 'signal-efficiency', size: { lambdaStart: 0.3, lambda: 100, targetKeptFraction: 0.5 } },
      training: { epochs: 12, batchSize: 500, learningRate: 0.05, seed: 1, validationFraction: 0.25 },
    });
    const r = await trainSelection({ settings: pipeline, source, info });
    const removed = (k: number) => {
      const one = { ...r.model, cuts: [r.model.cuts[k]] };
      const cut = batches.reduce((s, b) => s + hardCutPass(one, b).reduce((t, p) => t + 1 - p, 0), 0);
      return cut / 4000;
    };
    const [onA, onB] = [removed(0), removed(1)];
    expect(onA).toBeGreaterThan(0.15);
    expect(onB).toBeLessThan(0.05);
    expect(r.keptBytesFractionPredicted).toBeLessThan(0.55);
    // With a target, lambdaStart is where the constraint's multiplier starts; it then follows the kept fraction.
    expect(r.history[0].sizeLambda).not.toBe(0.3);
    expect(r.keptBytesFractionPredicted).toBeLessThan(r.keptFractionPredicted - 0.1);
  });
});
