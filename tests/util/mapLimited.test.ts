import { describe, expect, it } from 'vitest';
import { mapLimited } from '../../src/util/mapLimited.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('mapLimited', () => {
  it('returns results in the items order, never running more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const out = await mapLimited([30, 5, 20, 1, 10, 2, 8], 3, async (ms, i) => {
      most = Math.max(most, ++running);
      await sleep(ms);
      running--;
      return `${i}:${ms}`;
    });
    expect(out).toEqual(['0:30', '1:5', '2:20', '3:1', '4:10', '5:2', '6:8']);
    expect(most).toBe(3);
  });

  it("throws the earliest item's failure whatever failed first, and starts nothing after a failure", async () => {
    const started: number[] = [];
    const run = mapLimited([0, 1, 2, 3, 4, 5, 6, 7], 3, async (i) => {
      started.push(i);
      // Item 2 fails at once, item 1 later: item 1's error is the one reported.
      await sleep(i === 1 ? 30 : i === 2 ? 0 : 10);
      if (i === 1 || i === 2) throw new Error(`item ${i}`);
      return i;
    });
    await expect(run).rejects.toThrow('item 1');
    expect(started).toEqual([0, 1, 2]);
  });

  it('maps nothing to nothing', async () => {
    expect(await mapLimited([], 4, async () => 1)).toEqual([]);
  });
});
