import { beforeAll, describe, expect, it } from 'vitest';
import { flatAsFloat64 } from '../../src/batch/batch.js';
import { cutEdges, type CutSpec, erf, slopeMultiplier } from '../../src/model/cuts.js';
import { hardCutPass, softCutWeights } from '../../src/model/score.js';
import { initBackend } from '../../src/training/backend.js';
import { cut, model, tfForward, uniformBatch } from './helpers.js';

beforeAll(async () => {
  await initBackend('cpu');
});

const batch = uniformBatch(3000, 7);
const a = flatAsFloat64(batch, 'a');

/** Per edge, the cut variable values of each event (what the TF model takes). */
function edgeValues(cuts: CutSpec[]): number[][] {
  const edges = cutEdges(cuts);
  return Array.from(a, (x) => edges.map(() => x));
}

const CASES: { name: string; spec: (slope: number, form: CutSpec['form']) => CutSpec; thresholds: number[] }[] = [
  { name: '>', spec: (s, f) => cut('a', '>', f, s, { value: 1.25 }), thresholds: [1.25] },
  { name: '<', spec: (s, f) => cut('a', '<', f, s, { value: -0.75 }), thresholds: [-0.75] },
  { name: 'between', spec: (s, f) => cut('a', 'between', f, s, { low: -2, high: 0.5 }), thresholds: [-2, 0.5] },
];

describe('soft cuts', () => {
  for (const form of ['sigmoid', 'erf'] as const) {
    for (const c of CASES) {
      it(`${c.name} (${form}) equals the hard cut in the steep-slope limit, in JS and TF`, () => {
        const steep = model('cuts', [c.spec(1e4, form)]);
        const hard = hardCutPass(steep, batch);
        const soft = softCutWeights(steep, batch);
        const tfSoft = tfForward(
          steep,
          edgeValues(steep.cuts),
          Array.from(a, () => [0, 0]),
        ).cut;
        let compared = 0;
        for (let i = 0; i < a.length; i++) {
          if (c.thresholds.some((t) => Math.abs(a[i] - t) < 2e-3)) continue;
          compared++;
          expect(Math.abs(soft[i] - hard[i])).toBeLessThan(1e-6);
          expect(Math.abs(tfSoft[i] - hard[i])).toBeLessThan(1e-5);
        }
        expect(compared).toBeGreaterThan(2900);
        // Both classes occur, and a gentle slope really is soft.
        expect(hard.includes(0) && hard.includes(1)).toBe(true);
        const gentle = softCutWeights(model('cuts', [c.spec(1, form)]), batch);
        expect(Math.max(...gentle.map((w, i) => Math.abs(w - hard[i])))).toBeGreaterThan(0.2);
      });
    }
  }

  it('the global multiplier steepens every cut', () => {
    const m = model('cuts', [cut('a', '>', 'sigmoid', 1, { value: 0 })]);
    const plain = softCutWeights(m, batch);
    const steeper = softCutWeights(m, batch, 50);
    const hard = hardCutPass(m, batch);
    const err = (w: Float64Array) => w.reduce((s, v, i) => s + Math.abs(v - hard[i]), 0);
    expect(err(steeper)).toBeLessThan(err(plain) / 10);
  });

  it('a NaN cut variable fails the soft cut as it fails the hard one', () => {
    const m = model('cuts', [cut('a', '<', 'sigmoid', 1, { value: 100 })]);
    const withNan = uniformBatch(10, 3);
    (withNan.columns.a.values as Float64Array)[4] = NaN;
    expect(softCutWeights(m, withNan)[4]).toBe(0);
    expect(hardCutPass(m, withNan)[4]).toBe(0);
    expect(softCutWeights(m, withNan)[3]).toBeGreaterThan(0.9);
  });

  it('erf matches Math-based reference values', () => {
    // Reference values of erf to 7 digits.
    const ref: [number, number][] = [
      [0, 0],
      [0.5, 0.5204999],
      [1, 0.8427008],
      [-1.5, -0.9661051],
      [2.5, 0.999593],
    ];
    for (const [x, v] of ref) expect(erf(x)).toBeCloseTo(v, 6);
  });

  it('slope schedules run from start to end', () => {
    const geo = { start: 1, end: 100, kind: 'geometric' as const };
    expect(slopeMultiplier(geo, 0, 5)).toBeCloseTo(1);
    expect(slopeMultiplier(geo, 2, 5)).toBeCloseTo(10);
    expect(slopeMultiplier(geo, 4, 5)).toBeCloseTo(100);
    const cos = { start: 2, end: 10, kind: 'cosine' as const };
    expect(slopeMultiplier(cos, 0, 3)).toBeCloseTo(2);
    expect(slopeMultiplier(cos, 1, 3)).toBeCloseTo(6);
    expect(slopeMultiplier(cos, 2, 3)).toBeCloseTo(10);
    expect(slopeMultiplier({ start: 3, end: 9, kind: 'constant' }, 1, 3)).toBe(3);
    expect(slopeMultiplier(undefined, 1, 3)).toBe(1);
  });
});
