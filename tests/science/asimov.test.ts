import { describe, expect, it } from 'vitest';
import { type EventBatch, makeBatch } from '../../src/batch/batch.js';
import { PipelineSchema } from '../../src/pipeline/schema.js';
import { memoryDataset } from '../../src/training/memoryDataset.js';
import { trainSelection } from '../../src/training/trainer.js';
import { seededRandom } from '../../src/util/random.js';

/**
 * One cut x > c with the Asimov loss and a background uncertainty: background x ~ N(0, 1),
 * signal x ~ N(1.5, 1), expected yields S = 100 and B = 1000, sigma_b = 10 % of b. The optimum
 * of the one-cut problem is found by scanning c over the same events with hard counts; the
 * learned cut must land within one scan step of it. The events are a quantile grid (x_i =
 * mean + Phi^-1((i + 1/2) / n)), so that the scan sees the smooth curve rather than noise.
 */
const S = 100;
const B = 1000;
const SIGMA_B = 0.1;
const STEP = 0.05;

/** Standard normal CDF (Abramowitz & Stegun 26.2.17, |error| < 7.5e-8); inverted by bisection below. */
function phi(z: number): number {
  const t = 1 / (1 + 0.2316419 * Math.abs(z));
  const poly = t * (0.31938153 + t * (-0.356563782 + t * (1.781477937 + t * (-1.821255978 + t * 1.330274429))));
  const upper = (Math.exp((-z * z) / 2) / Math.sqrt(2 * Math.PI)) * poly;
  return z >= 0 ? 1 - upper : upper;
}

function inversePhi(p: number): number {
  let [lo, hi] = [-10, 10];
  for (let k = 0; k < 80; k++) {
    const mid = (lo + hi) / 2;
    if (phi(mid) < p) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

function quantileGrid(n: number, mean: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => mean + inversePhi((i + 0.5) / n));
}

/** Cowan et al.'s Asimov significance with an uncertainty sigma on b, written out here. */
function asimovZ(s: number, b: number, sigma: number): number {
  const v = sigma * sigma;
  const first = (s + b) * Math.log(((s + b) * (b + v)) / (b * b + (s + b) * v));
  const second = ((b * b) / v) * Math.log(1 + (v * s) / (b * (b + v)));
  return Math.sqrt(2 * (first - second));
}

describe('Asimov loss with a background uncertainty', () => {
  it('moves a single cut to the optimum of the one-cut problem (within one scan step)', async () => {
    const n = 12_000;
    const sig = quantileGrid(n, 1.5);
    const bkg = quantileGrid(n, 0);
    // Both classes in a seeded random order, so that every minibatch is a fair sample.
    const order = Uint32Array.from({ length: 2 * n }, (_, i) => i);
    const random = seededRandom('asimov');
    for (let i = order.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j], order[i]];
    }
    const x = Float64Array.from(order, (k) => (k < n ? sig[k] : bkg[k - n]));
    const label = Float32Array.from(order, (k) => (k < n ? 1 : 0));
    const batches: EventBatch[] = [];
    for (let start = 0; start < 2 * n; start += 6000) {
      const end = start + 6000;
      batches.push(
        makeBatch({ x: x.slice(start, end), label: label.slice(start, end) }, { x: 'float64', label: 'float32' }),
      );
    }

    // The scan: hard counts on the same events, eps = 1e-3 B as the loss regularises b.
    const zAt = (c: number, sigmaB: number) => {
      let [s, b] = [0, 0];
      for (let i = 0; i < n; i++) {
        if (sig[i] > c) s++;
        if (bkg[i] > c) b++;
      }
      const bb = (B * b) / n + 1e-3 * B;
      return asimovZ((S * s) / n, bb, sigmaB * bb);
    };
    const argmax = (sigmaB: number) => {
      let best = { c: NaN, z: -Infinity };
      for (let c = 0; c <= 4; c += STEP) {
        const z = zAt(c, sigmaB);
        if (z > best.z) best = { c, z };
      }
      return best;
    };
    const optimum = argmax(SIGMA_B);
    // Without the uncertainty the optimum is looser: the test can tell the two apart.
    expect(argmax(1e-6).c).toBeLessThan(optimum.c - 4 * STEP);

    const pipeline = PipelineSchema.parse({
      name: 'asimov',
      source: { kind: 'parquet', paths: ['memory'] },
      label: 'label',
      features: ['x'],
      cuts: [{ column: 'x', op: '>', init: 0 }],
      model: { kind: 'cuts' },
      loss: { kind: 'asimov', signalYield: S, backgroundYield: B, sigmaB: SIGMA_B },
      training: {
        epochs: 30,
        batchSize: 6000,
        learningRate: 0.02,
        validationFraction: 0,
        seed: 1,
        shuffleBuffer: 0,
        slopeSchedule: { start: 1, end: 8, kind: 'geometric' },
      },
    });
    const { source, info } = memoryDataset(batches);
    const r = await trainSelection({ settings: pipeline, source, info });
    const learned = r.model.cuts[0].value!;
    expect(Math.abs(learned - optimum.c)).toBeLessThanOrEqual(STEP);
    expect(zAt(learned, SIGMA_B)).toBeGreaterThan(0.999 * optimum.z);
  });
});
