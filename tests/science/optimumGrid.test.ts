import { describe, expect, it } from 'vitest';
import { gridCell, type Kind, type Setting, type Toy, toyEvents } from '../../scripts/optimum-grid.js';

/**
 * A few cells of scripts/optimum-grid.ts on small samples: window cuts on x and y, loss
 * signal-efficiency, a background target. From settings that failed before the target was a
 * constraint (a multiplier 1000 times too large, issue #21) and on toys of other shapes, the hard
 * skim keeps at least 0.99 of the signal of the best window at the background it keeps (all
 * windows on a quantile grid, on an independent sample), and that background is within 0.01 of
 * the target (below it where all the signal fits in less).
 */
describe('size targets as constraints, against the brute-force window optimum', () => {
  // Batches of 1024: the step budget (500 steps) then costs a quarter of the default batch's events.
  const cells: [Toy, number, Kind, Setting][] = [
    ['seed', 0.05, 'cuts', 'lambda1000'],
    ['wide', 0.2, 'cuts', 'default'],
    ['tilted', 0.2, 'cuts-x-mlp', 'lambda10'],
  ];
  for (const [toy, target, kind, setting] of cells)
    it(`${toy} toy, target ${target}, ${kind}, ${setting}, batch 1024`, async () => {
      const [train, test] = [toyEvents(toy, 8000, 1), toyEvents(toy, 8000, 2)];
      const r = await gridCell(toy, train, test, target, kind, setting, { batchSize: 1024 });
      expect(r.ratio).toBeGreaterThanOrEqual(0.99);
      expect(r.onTarget).toBe(true);
      if (r.binds) expect(Math.abs(r.background - target)).toBeLessThanOrEqual(0.01);
      else expect(r.background).toBeLessThanOrEqual(target + 0.01);
      expect(r.trained.settled).not.toBeNull();
    });
});
