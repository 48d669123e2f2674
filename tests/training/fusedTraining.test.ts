import { describe, expect, it } from 'vitest';
import { trainSelection } from '../../src/training/trainer.js';
import { memorySource, toyBatches, toyInfo, toyPipeline } from './toy.js';

/** The fused kernel trains the toy to the AUC TF.js reaches from the same start and data. */
describe('fused training against TF.js', () => {
  const data = toyBatches(10_000, 1);
  const train = (backend: 'fused' | 'wasm', overrides: Record<string, unknown>) =>
    trainSelection({
      settings: toyPipeline({ training: { epochs: 4, batchSize: 1024, learningRate: 0.01, seed: 3 }, ...overrides }),
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
});
