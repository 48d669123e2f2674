import { describe, expect, it } from 'vitest';
import { toyBatches } from '../../src/datasets/toy.js';
import { hardCutPass, scoreBatch } from '../../src/model/score.js';
import { AucAccumulator } from '../../src/training/auc.js';
import { memoryDataset } from '../../src/training/memoryDataset.js';
import { trainSelection } from '../../src/training/trainer.js';
import { efficiencies, toyPipeline } from '../../scripts/science-common.js';
import { seedToy, trainFormulation } from '../../scripts/science-softmax.js';

describe("the seed's toy", () => {
  it('cuts x sigmoid(MLP) reaches the AUC of the MLP alone (within 0.005) with finite, sensible cuts', async () => {
    const train = [...toyBatches({ kind: 'toy2d', eventsPerClass: 8000, seed: 1, batchSize: 4000 })];
    const test = [...toyBatches({ kind: 'toy2d', eventsPerClass: 8000, seed: 2, batchSize: 4000 })];
    const { source, info } = memoryDataset(train);
    const training = { epochs: 6, batchSize: 1024, learningRate: 0.01, seed: 3 };
    const testAuc = async (kind: 'cuts-x-mlp' | 'mlp') => {
      const r = await trainSelection({ settings: toyPipeline({ training, model: { kind } }), source, info });
      const auc = new AucAccumulator();
      for (const b of test) auc.add(scoreBatch(r.model, b), b.columns.label.values as Int32Array);
      return { auc: auc.value(), model: r.model };
    };
    const both = await testAuc('cuts-x-mlp');
    const mlp = await testAuc('mlp');
    expect(mlp.auc).toBeGreaterThan(0.95);
    expect(Math.abs(both.auc - mlp.auc)).toBeLessThan(0.005);
    // Finite thresholds inside the data, and cuts that keep the signal.
    for (const c of both.model.cuts) {
      expect(Number.isFinite(c.value)).toBe(true);
      expect(c.value!).toBeGreaterThan(-10);
      expect(c.value!).toBeLessThan(1);
    }
    expect(efficiencies(test, (b) => hardCutPass(both.model, b)).signal).toBeGreaterThan(0.97);
  });

  it("normalising the whole product (the seed's softmax) drives the cuts towards -infinity; diffskim's product does not", async () => {
    const batches = seedToy(2000, 1, 1024);
    const options = { epochs: 12, learningRate: 0.02, seed: 1 };
    const variant = await trainFormulation('normalised-product', batches, options);
    const ours = await trainFormulation('diffskim', batches, options);
    const t = (run: typeof ours, epoch: number, cut: number) => run.thresholds[epoch][cut];
    const last = options.epochs - 1;
    for (const cut of [0, 1]) {
      // The variant: every epoch lower than the one before, still falling at the end.
      for (let e = 1; e <= last; e++) expect(t(variant, e, cut)).toBeLessThan(t(variant, e - 1, cut));
      expect(t(variant, last, cut)).toBeLessThan(t(variant, 0, cut) - 0.8);
      expect(t(variant, last - 1, cut) - t(variant, last, cut)).toBeGreaterThan(0.03);
      // diffskim: no downward drift; the cut settles inside the data.
      expect(t(ours, last, cut)).toBeGreaterThan(t(ours, 0, cut));
      expect(Math.abs(t(ours, last, cut) - t(ours, last - 1, cut))).toBeLessThan(0.02);
      expect(t(ours, last, cut)).toBeGreaterThan(ours.dataMin[cut]);
    }
    // Same separation, but only diffskim's cuts still cut.
    expect(Math.abs(variant.auc - ours.auc)).toBeLessThan(0.01);
    expect(ours.hardRemoved).toBeGreaterThan(2 * variant.hardRemoved);
  });
});
