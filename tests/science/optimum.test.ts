import { describe, expect, it } from 'vitest';
import { DEFAULTS, NOISE, optimumRow } from '../../scripts/science-optimum.js';
import { toyData } from '../../scripts/science-common.js';

/**
 * Reduced version of scripts/science-optimum.ts: the learned hard cuts reach at least 0.99 of
 * the brute-force optimum's signal efficiency at the same background kept fraction, and cuts on
 * pure-noise features open fully.
 */
describe('learned cuts against the brute-force optimum', () => {
  const eventsPerClass = 10_000;

  for (const [kind, target] of [
    ['toy2d', 0.5],
    ['toy2d', 0.2],
    ['toy6d', 0.2],
  ] as const) {
    it(`${kind}, background kept fraction target ${target}`, async () => {
      const r = await optimumRow(
        kind,
        toyData(kind, eventsPerClass, 1),
        toyData(kind, eventsPerClass, 2),
        target,
        DEFAULTS,
      );
      expect(r.ratio).toBeGreaterThanOrEqual(0.99);
      // At (or, when keeping all signal costs less, below) the target.
      expect(r.background).toBeLessThan(target + 0.01);
      expect(r.signal).toBeGreaterThan(0.85);
      expect(r.noise).toHaveLength(kind === 'toy6d' ? NOISE.length : 0);
      for (const n of r.noise) expect(n.removed).toBeLessThan(1e-3);
    });
  }
});
