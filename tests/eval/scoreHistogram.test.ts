import { describe, expect, it } from 'vitest';
import { ScoreHistogram } from '../../src/eval/scoreHistogram.js';
import { seededRandom } from '../../src/util/random.js';
import { exactAuc } from './helpers.js';

describe('ScoreHistogram', () => {
  it('gives ROC points that match exact counts at each threshold', () => {
    const random = seededRandom('roc');
    const n = 3000;
    const isSignal = Uint8Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0));
    // Scores with heavy pile-up at 0 and 1 and some exact ties, as soft cuts produce.
    const score = Float64Array.from(isSignal, (s) => {
      const u = random();
      if (u < 0.15) return s ? 1 : 0;
      if (u < 0.25) return 0.5;
      return 1 / (1 + Math.exp(-(3 * (s ? 1 : -1) + 4 * (random() - 0.5))));
    });
    const h = new ScoreHistogram();
    h.add(score.subarray(0, 1000), isSignal.subarray(0, 1000), null, null);
    h.add(score.subarray(1000), isSignal.subarray(1000), null, null);
    const roc = h.roc(10_000);
    const nS = isSignal.reduce((a, b) => a + b, 0);
    for (const p of roc) {
      let [s, b] = [0, 0];
      for (let i = 0; i < n; i++) if (score[i] >= p.threshold) isSignal[i] ? s++ : b++;
      expect(p.signalEfficiency).toBeCloseTo(s / nS, 12);
      expect(p.backgroundEfficiency).toBeCloseTo(b / (n - nS), 12);
    }
    // The area under this ROC curve (trapezoids) is the exact AUC with ties counted one half.
    let area = 0;
    let [prevS, prevB] = [0, 0];
    for (const p of roc) {
      area += ((p.signalEfficiency + prevS) / 2) * (p.backgroundEfficiency - prevB);
      [prevS, prevB] = [p.signalEfficiency, p.backgroundEfficiency];
    }
    expect(area).toBeCloseTo(exactAuc(score, isSignal), 3);
  });

  it('thins the ROC curve but keeps both ends', () => {
    const h = new ScoreHistogram();
    const score = Float64Array.from({ length: 5000 }, (_, i) => i / 5000);
    h.add(score, Uint8Array.from(score, (s, i) => i % 2), null, null);
    const roc = h.roc(50);
    expect(roc).toHaveLength(50);
    expect(roc[0].threshold).toBeGreaterThan(0.99);
    expect(roc[49]).toMatchObject({ threshold: 0, signalEfficiency: 1, backgroundEfficiency: 1 });
  });

  it('picks the tightest threshold for a signal efficiency and tracks kept bytes', () => {
    const h = new ScoreHistogram();
    h.add([0, 0.2, 0.9, 1], Uint8Array.from([0, 1, 1, 0]), null, [10, 20, 30, 40]);
    const all = h.workingPoint(1)!;
    expect(all.threshold).toBeGreaterThan(0.199);
    expect(all.threshold).toBeLessThanOrEqual(0.2);
    expect(all).toMatchObject({ signalEfficiency: 1, backgroundEfficiency: 0.5, keptFraction: 0.75 });
    expect(all.keptBytesFraction).toBeCloseTo(0.9, 12);
    const half = h.workingPoint(0.5)!;
    expect(half.signalEfficiency).toBe(0.5);
    expect(half.backgroundEfficiency).toBe(0.5); // the background event at score 1 passes
    expect(half.keptBytesFraction).toBeCloseTo(70 / 100, 12);
  });

  it('has no ROC or working point without labels', () => {
    const h = new ScoreHistogram();
    h.add([0.1, 0.7], null, null, null);
    expect(h.roc()).toEqual([]);
    expect(h.workingPoint(0.5)).toBeNull();
    expect(h.totals().events).toBe(2);
    expect(h.distribution().all.reduce((a, b) => a + b, 0)).toBe(2);
  });
});
