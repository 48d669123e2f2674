import { describe, expect, it } from 'vitest';
import { ScoreHistogram } from '../../src/eval/scoreHistogram.js';
import { seededRandom } from '../../src/util/random.js';
import { exactAuc, pileUpScores } from './helpers.js';

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
    const roc = h.roc(1e6, 0);
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
    expect(area).toBeCloseTo(exactAuc(score, isSignal), 4);
    expect(h.auc()).toBeCloseTo(area, 12);
  });

  it('gives the exact AUC (to 1e-4) where scores pile up far below 1e-13, at 0 and at 1', () => {
    const { score, isSignal, weight } = pileUpScores(40_000, 1);
    const tiny = score.filter((p) => p > 0 && p < 1e-13).length;
    expect(tiny).toBeGreaterThan(10_000);
    expect(score.filter((p) => p === 0).length).toBeGreaterThan(500);
    expect(score.filter((p) => p === 1).length).toBeGreaterThan(500);
    const h = new ScoreHistogram();
    h.add(score, isSignal, weight, null);
    const exact = exactAuc(score, isSignal, weight);
    expect(exact).toBeLessThan(0.45);
    expect(Math.abs(h.auc() - exact)).toBeLessThan(1e-4);
  });

  it('finds working points on piled-up scores: threshold and efficiencies as direct counts give them', () => {
    const { score, isSignal, weight } = pileUpScores(40_000, 2);
    const h = new ScoreHistogram();
    h.add(score, isSignal, weight, null);
    const efficiency = (cls: number, keep: (p: number) => boolean) => {
      let [kept, all] = [0, 0];
      for (let i = 0; i < score.length; i++) {
        if (isSignal[i] !== cls) continue;
        all += weight[i];
        if (keep(score[i])) kept += weight[i];
      }
      return kept / all;
    };
    for (const target of [0.1, 0.5, 0.7, 0.9]) {
      const w = h.workingPoint(target)!;
      expect(w.threshold).toBeGreaterThan(0);
      expect(w.signalEfficiency).toBeCloseTo(
        efficiency(1, (p) => p >= w.threshold),
        12,
      );
      expect(w.backgroundEfficiency).toBeCloseTo(
        efficiency(0, (p) => p >= w.threshold),
        12,
      );
      expect(w.signalEfficiency).toBeGreaterThanOrEqual(target);
      // The tightest such threshold: the scores just above it (within 5 % in p / (1 - p)) keep less.
      expect(efficiency(1, (p) => p > w.threshold * 1.05)).toBeLessThan(target);
    }
  });

  it('samples the ROC log-spaced in background efficiency down to one event', () => {
    const random = seededRandom('roc-log');
    const n = 100_000;
    const isSignal = Uint8Array.from({ length: n }, () => (random() < 0.5 ? 1 : 0));
    // A good classifier: most signal at scores where background is rare.
    const logistic = () => Math.log(random() / (1 - random()));
    const score = Float64Array.from(isSignal, (s) => 1 / (1 + Math.exp(-(s ? 4 : 0) - 2 * logistic())));
    const h = new ScoreHistogram();
    h.add(score, isSignal, null, null);
    const roc = h.roc();
    const nB = n - isSignal.reduce((a, b) => a + b, 0);
    const background = roc.map((p) => p.backgroundEfficiency);
    // Down to one background event, and every decade of eps_B from there to 1 read at least 15 times.
    expect(Math.min(...background.filter((b) => b > 0))).toBeCloseTo(1 / nB, 12);
    for (let decade = 0; decade < Math.floor(Math.log10(nB)) - 1; decade++) {
      expect(background.filter((b) => b <= 10 ** -decade && b > 10 ** -(decade + 1)).length).toBeGreaterThanOrEqual(15);
    }
    expect(roc.filter((p) => p.signalEfficiency < 0.5).length).toBeGreaterThanOrEqual(20);
    expect(roc.filter((p) => p.signalEfficiency >= 0.999).length).toBeLessThan(25);
    expect(roc.length).toBeLessThan(400);
    expect(roc[roc.length - 1]).toMatchObject({ signalEfficiency: 1, backgroundEfficiency: 1 });
    for (const p of roc.filter((_, i) => i % 7 === 0)) {
      let [s, b] = [0, 0];
      for (let i = 0; i < n; i++) if (score[i] >= p.threshold) isSignal[i] ? s++ : b++;
      expect(p.signalEfficiency).toBeCloseTo(s / (n - nB), 12);
      expect(p.backgroundEfficiency).toBeCloseTo(b / nB, 12);
    }
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
