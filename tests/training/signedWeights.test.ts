import { describe, expect, it } from 'vitest';
import type { EventBatch } from '../../src/batch/batch.js';
import { evaluateModel } from '../../src/eval/evaluate.js';
import { ScoreHistogram } from '../../src/eval/scoreHistogram.js';
import { AucAccumulator, ExactAuc } from '../../src/training/auc.js';
import { initBackend } from '../../src/training/backend.js';
import { trainSelection } from '../../src/training/trainer.js';
import { WeightSigns } from '../../src/training/weightSigns.js';
import { seededRandom } from '../../src/util/random.js';
import { toyModel } from '../eval/helpers.js';
import { memorySource, toyBatches, toyInfo, toyPipeline } from './toy.js';

/** The weighted AUC by definition: over every signal/background pair, w_s w_b (1 above, 1/2 tied), over S B. */
function pairAuc(score: number[], label: number[], weight: number[]): number {
  let sum = 0;
  let s = 0;
  let b = 0;
  for (let i = 0; i < score.length; i++) {
    if (label[i]) s += weight[i];
    else b += weight[i];
    if (!label[i]) continue;
    for (let j = 0; j < score.length; j++) {
      if (label[j]) continue;
      sum += weight[i] * weight[j] * (score[i] > score[j] ? 1 : score[i] === score[j] ? 0.5 : 0);
    }
  }
  return sum / (s * b);
}

/** A small NLO-like case: ~15 % negative weights, scores with ties, and events at 0 and 1. */
function sample(n: number, seed: string, negative = 0.15) {
  const random = seededRandom(seed);
  const label = Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
  const score = label.map((y) => {
    const r = random();
    if (r < 0.05) return 0;
    if (r < 0.08) return 1;
    if (r < 0.2) return Math.round(random() * 4) / 4; // ties
    return Math.min(0.999, Math.max(0.001, (y ? 0.6 : 0.4) + 0.25 * (random() - 0.5) * 2));
  });
  const weight = label.map(() => (random() < negative ? -1 : 1) * (0.2 + random()));
  return { score, label, weight };
}

describe('weighted AUC with signed weights', () => {
  it('equals the direct sum over all signal/background pairs, in training and in eval', () => {
    for (const seed of ['a', 'b', 'c']) {
      const { score, label, weight } = sample(600, seed);
      expect(weight.some((w) => w < 0)).toBe(true);
      const expected = pairAuc(score, label, weight);
      const acc = new AucAccumulator();
      acc.add(score, label, weight);
      expect(Math.abs(acc.value() - expected)).toBeLessThan(1e-9);
      const h = new ScoreHistogram();
      h.add(score, Uint8Array.from(label), weight, null);
      expect(Math.abs(h.auc() - expected)).toBeLessThan(1e-9);
    }
  });

  it('falls back to the log-odds bins beyond the exact buffer cap', () => {
    const { score, label, weight } = sample(600, 'd');
    const exact = new ExactAuc(500);
    exact.add(score.slice(0, 400), label.slice(0, 400), weight.slice(0, 400));
    expect(exact.value()).toBeCloseTo(pairAuc(score.slice(0, 400), label.slice(0, 400), weight.slice(0, 400)), 12);
    exact.add(score.slice(400), label.slice(400), weight.slice(400));
    expect(exact.value()).toBeNull();
  });

  it('may leave [0, 1] with negative weights, as the pair sum does', () => {
    // One negative-weight background event scored above every signal event pushes the AUC over 1.
    const score = [0.9, 0.8, 0.1, 0.95, 0.2];
    const label = [1, 1, 0, 0, 0];
    const weight = [1, 1, 1, -0.5, 1];
    const acc = new AucAccumulator();
    acc.add(score, label, weight);
    expect(acc.value()).toBeGreaterThan(1);
    expect(Math.abs(acc.value() - pairAuc(score, label, weight))).toBeLessThan(1e-9);
  });
});

describe('WeightSigns', () => {
  it('warns in one line when a class sums to <= 0 or has over 40 % of its |weight| negative', () => {
    const check = (label: number[], weight: number[]) => {
      const signs = new WeightSigns();
      signs.add(label, weight);
      return signs.warning('genWeight');
    };
    expect(check([1, 1, 0, 0], [1, -0.5, 1, 1])).toBeNull();
    const cancels = check([1, 1, 0, 0], [1, -1.5, 1, 1]);
    expect(cancels).toMatch(/^negative weights \('genWeight'\) dominate: signal sums to -0\.5000;/);
    expect(cancels).not.toContain('\n');
    // 0.9 of 2.0 negative: 45 %, sum still positive.
    expect(check([1, 0, 0, 0], [1, 1, -0.9, 0.1])).toMatch(
      /dominate: background has 45\.0% of its \|weight\| negative/,
    );
    expect(check([1, 0], [1, 1])).toBeNull();
  });

  it('names each sample whose weights sum to <= 0 or are over 40 % negative, by the index it is given', () => {
    const signs = new WeightSigns(['ttH', 'ttbar', 'WJets']);
    // ttbar (index 1): 1 - 0.6 of 1.6 (37.5 %, fine); WJets (2): 1 - 1.2 (sums to -0.2). Classes fine.
    signs.add([1, 0, 0, 0, 0, 0], [2, 1, -0.6, 1, -1.2, 5], [0, 1, 1, 2, 2, 1]);
    expect(signs.warning('genWeight')).toMatch(
      /^negative weights \('genWeight'\) dominate: sample 'WJets' sums to -0\.2000;/,
    );
    // ttbar: 1.5 of 3.5 negative (42.9 %), its sum positive; the background class 11 % negative.
    const share = new WeightSigns(['ttH', 'ttbar', 'WJets']);
    share.add([1, 0, 0, 0], [1, 2, -1.5, 10], [0, 1, 1, 2]);
    expect(share.warning('w')).toMatch(/: sample 'ttbar' has 42\.9% of its \|weight\| negative;/);
  });
});

/** The toy with the sign of some signal weights flipped: a fraction `share` of signal events. */
function toyWithNegativeSignal(share: number): EventBatch[] {
  const random = seededRandom(`negative:${share}`);
  const batches = toyBatches(2000, 5);
  for (const b of batches) {
    const label = b.columns.label.values;
    const w = b.columns.weight.values;
    for (let i = 0; i < b.length; i++) if (label[i] && random() < share) w[i] = -w[i];
  }
  return batches;
}

describe('training and eval warn when negative weights dominate a class', () => {
  const training = { epochs: 1, batchSize: 512, learningRate: 0.01, seed: 3 };
  const train = (data: EventBatch[]) =>
    trainSelection({ settings: toyPipeline({ training }), source: memorySource(data), info: toyInfo(data) });
  const evaluate = (data: EventBatch[]) =>
    evaluateModel({ source: memorySource(data), model: toyModel(), label: 'label', weight: 'weight', quiet: true });

  it('in one line naming the class, and not when the weights are mostly positive', async () => {
    await initBackend('auto');
    const dominated = toyWithNegativeSignal(0.45);
    const line = /^negative weights \('weight'\) dominate: signal has 4\d\.\d% of its \|weight\| negative;/;
    expect((await train(dominated)).warnings.filter((w) => line.test(w))).toHaveLength(1);
    expect((await evaluate(dominated)).warnings).toEqual([expect.stringMatching(line)]);
    const nlo = toyWithNegativeSignal(0.1);
    expect((await train(nlo)).warnings.filter((w) => w.includes('negative weights'))).toEqual([]);
    expect((await evaluate(nlo)).warnings).toEqual([]);
  });
});
