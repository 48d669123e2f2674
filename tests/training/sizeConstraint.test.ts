import { describe, expect, it } from 'vitest';
import type { LossSettings } from '../../src/model/losses.js';
import { SizeConstraint } from '../../src/training/sizeConstraint.js';

const loss = (target: number | null, multiplier: number): LossSettings => ({
  kind: 'signal-efficiency',
  lambda: 0,
  target,
  multiplier,
  signalYield: 1,
  backgroundYield: 1,
  sigmaB: 0,
});

/**
 * The multiplier against a model of the cuts' response: at multiplier mu they keep
 * kept(mu) = 0.1 (20 / mu)^0.7 (a tighter selection for a higher price), so the target 0.05 is met
 * at mu* = 20 (0.5)^(-1/0.7). From starts 1e3 times too small or too large, the multiplier ends at mu*
 * (the target's schedule first runs from kept(start) down to it, where that is above it).
 */
describe('the size constraint', () => {
  const target = 0.05;
  const muStar = 20 * Math.pow(0.5, -1 / 0.7);
  const kept = (mu: number) => 0.1 * Math.pow(20 / mu, 0.7);

  for (const start of [muStar / 1000, 1, muStar * 1000])
    it(`reaches the multiplier that meets the target from ${start.toPrecision(3)}`, () => {
      const c = SizeConstraint.start(loss(target, start), 3000)!;
      for (let step = 0; step < 3000; step++) c.observe(kept(c.multiplier));
      expect(c.multiplier / muStar).toBeCloseTo(1, 2);
      expect(kept(c.multiplier)).toBeCloseTo(target, 4);
    });

  it('from 1e3 times too high, comes within 5 % of mu* in 150 steps', () => {
    // Its first kept fraction is below the target: no schedule.
    const c = SizeConstraint.start(loss(target, muStar * 1000), 3000)!;
    for (let step = 0; step < 150; step++) c.observe(kept(c.multiplier));
    expect(Math.abs(c.multiplier / muStar - 1)).toBeLessThan(0.05);
  });

  it('lowers the target geometrically over the first half of the steps, from the first kept fraction', () => {
    const c = SizeConstraint.start(loss(0.01, 1), 1000)!;
    expect(c.target).toBe(0.01);
    c.observe(0.4);
    for (let step = 1; step <= 500; step++) {
      expect(c.target).toBeCloseTo(0.4 * Math.pow(0.01 / 0.4, step / 500), 12);
      c.observe(0.2);
    }
    c.observe(0.2);
    expect(c.target).toBe(0.01);
  });

  it('falls (to its floor, not to 0) while the target does not bind, and is absent without a target', () => {
    const c = SizeConstraint.start(loss(0.5, 3), 3000)!;
    for (let step = 0; step < 3000; step++) c.observe(0.1);
    expect(c.multiplier).toBeGreaterThan(0);
    expect(c.multiplier).toBeLessThan(1e-4);
    expect(SizeConstraint.start(loss(null, 3), 3000)).toBeNull();
  });

  it('resumes from its state to the same multipliers', () => {
    const a = SizeConstraint.start(loss(target, 1), 3000)!;
    for (let step = 0; step < 50; step++) a.observe(kept(a.multiplier));
    const b = SizeConstraint.resume(loss(target, 1), 3000, a.snapshot())!;
    for (let step = 0; step < 50; step++) {
      a.observe(kept(a.multiplier));
      b.observe(kept(b.multiplier));
    }
    expect(b.multiplier).toBe(a.multiplier);
  });
});
