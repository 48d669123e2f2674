import { describe, expect, it } from 'vitest';
import { trainSelection } from '../../src/training/trainer.js';
import { memorySource, toyBatches, toyInfo, toyPipeline } from './toy.js';

/** The fused kernel trains the toy to the AUC TF.js reaches from the same start and data. */
describe('fused training against TF.js', () => {
  const data = toyBatches(10_000, 1);
  const train = (backend: 'fused' | 'wasm', overrides: Record<string, unknown>, training = {}) =>
    trainSelection({
      settings: toyPipeline({
        ...overrides,
        training: { epochs: 4, batchSize: 1024, learningRate: 0.01, seed: 3, threads: 1, ...training },
      }),
      source: memorySource(data),
      info: toyInfo(data),
      backend,
    });

  for (const [name, overrides] of [
    ['cuts x MLP, bce', {}],
    ['cuts x MLP, bce + size term', { loss: { size: { lambda: 1 } } }],
    [
      'cuts alone, signal efficiency at a background target',
      {
        model: { kind: 'cuts' },
        loss: { kind: 'signal-efficiency', size: { lambda: 5, targetKeptFraction: 0.3, over: 'background' } },
      },
    ],
  ] as const) {
    it(`${name}: the same validation AUC within 0.001`, async () => {
      const [fused, tf] = [await train('fused', overrides), await train('wasm', overrides)];
      expect(fused.backend).toBe('fused-js');
      expect(tf.backend).toBe('wasm');
      // Trained (two '>' cuts held at a 30 % background target score ~0.78; the MLP ~0.96).
      expect(fused.validationAuc).toBeGreaterThan(0.75);
      expect(Math.abs(fused.validationAuc - tf.validationAuc)).toBeLessThan(0.001);
    });
  }

  it('on 2 worker threads: the same AUC within 0.001, and the same model bit for bit when run again', async () => {
    // Slices of at least MIN_SLICE (1024) events: batches of 2048 for 2 threads.
    const run = (threads: number) => train('fused', {}, { epochs: 3, batchSize: 2048, threads });
    const [one, two, again] = [await run(1), await run(2), await run(2)];
    expect(Math.abs(two.validationAuc - one.validationAuc)).toBeLessThan(0.001);
    expect(two.model).toEqual(again.model);
    expect(two.history.map((h) => h.trainLoss)).toEqual(again.history.map((h) => h.trainLoss));
  });
});
