import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { objectThreshold, type ObjectThresholdResult } from '../../scripts/object-threshold.js';
import { tempDir } from '../parquet/helpers.js';

/**
 * Reduced version of scripts/object-threshold.ts: the learned element threshold c of
 * count(Jet_pt > $c) >= 4 (ttH against ttbar, background kept fraction target 0.2) lands within
 * one 1 GeV step of the scan's best c at that background, and the skim with the learned
 * cuts.json keeps exactly the rows DuckDB's own WHERE selects.
 */
describe('a learned object threshold against a scan', () => {
  let cleanup: () => Promise<void>;
  let r: ObjectThresholdResult;

  beforeAll(async () => {
    let dir: string;
    ({ dir, cleanup } = await tempDir());
    r = await objectThreshold(dir, { eventsPerSample: 6000, jets: 4, target: 0.2, epochs: 16, batchSize: 2048 });
  });
  afterAll(() => cleanup());

  it('converges to the scanned best c within one step, at the target background', () => {
    expect(Math.abs(r.learned - r.scanned.c)).toBeLessThanOrEqual(1);
    expect(r.background).toBeLessThanOrEqual(0.2 + 0.01);
    expect(r.signal).toBeGreaterThan(r.scanned.signal - 0.02);
    // The cut really cuts: the start (c = 30) kept far more background.
    expect(r.scanned.c).toBeGreaterThan(31);
  });

  it('writes the integer cut with c in place, and the skim keeps exactly what DuckDB selects', () => {
    expect(r.cuts.cuts).toEqual([{ column: `count(Jet_pt > ${r.learned})`, op: '>=', value: 4 }]);
    expect(r.skimKept).toBe(r.duckdbKept);
    expect(r.differing).toBe(0);
    expect(r.skimKept).toBeGreaterThan(0);
    expect(r.skimKept).toBeLessThan(r.eventsIn);
  });
});
