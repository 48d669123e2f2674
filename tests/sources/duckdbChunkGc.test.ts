import { constants, PerformanceObserver } from 'node:perf_hooks';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { filteredChunkFetched } from '../../src/sources/duckdbChunkGc.js';

/** Young-generation collections that happen while `fn` runs (observed through perf_hooks). */
async function minorCollections(fn: () => void): Promise<number> {
  let n = 0;
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries())
      if ((e as { detail?: { kind?: number } }).detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) n++;
  });
  observer.observe({ entryTypes: ['gc'] });
  fn();
  await nextTurn(); // gc entries are delivered asynchronously
  await nextTurn();
  observer.disconnect();
  return n;
}

describe('filteredChunkFetched', () => {
  it('runs a young-generation collection every 32 chunks, without --expose-gc on the command line', async () => {
    // The effect (DuckDB chunks freed, flat memory) is measured by scripts/bench-skim.ts.
    const chunks = () => {
      for (let i = 0; i < 32 * 3; i++) filteredChunkFetched();
    };
    expect(await minorCollections(chunks)).toBeGreaterThanOrEqual(3);
  });
});
