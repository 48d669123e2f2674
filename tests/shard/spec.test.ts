import { describe, expect, it } from 'vitest';
import { assignShards } from '../../src/skim/shard/assign.js';
import { parseShardSpec, resolveShard } from '../../src/skim/shard/spec.js';

describe('shard spec', () => {
  it('parses I/N and rejects bad ones', () => {
    expect(parseShardSpec('2/8')).toEqual({ index: 2, count: 8 });
    expect(() => parseShardSpec('8/8')).toThrow(/outside 0\.\.7/);
    expect(() => parseShardSpec('1/0')).toThrow(/at least 1/);
    expect(() => parseShardSpec('a/b')).toThrow(/expected I\/N/);
  });

  it('takes --shard first, then SLURM, then Kubernetes, with the count from option or env', () => {
    const slurm = { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '4' };
    expect(resolveShard('1/2', undefined, slurm)).toEqual({ index: 1, count: 2 });
    expect(resolveShard(undefined, undefined, slurm)).toEqual({ index: 3, count: 4 });
    // an explicit count wins over SLURM's (re-running one task with --array=3 gives TASK_COUNT=1)
    expect(resolveShard(undefined, '8', { SLURM_ARRAY_TASK_ID: '3', SLURM_ARRAY_TASK_COUNT: '1' })).toEqual({
      index: 3,
      count: 8,
    });
    expect(resolveShard(undefined, undefined, { ...slurm, DIFFSKIM_SHARD_COUNT: '6' })).toEqual({ index: 3, count: 6 });
    expect(resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '5', DIFFSKIM_SHARD_COUNT: '6' })).toEqual({
      index: 5,
      count: 6,
    });
    expect(resolveShard(undefined, undefined, {})).toBeNull();
  });

  it('explains a missing or inconsistent count', () => {
    expect(() => resolveShard(undefined, undefined, { JOB_COMPLETION_INDEX: '0' })).toThrow(
      /JOB_COMPLETION_INDEX is set but the number of shards is not/,
    );
    expect(() => resolveShard(undefined, undefined, { SLURM_ARRAY_TASK_ID: '4', SLURM_ARRAY_TASK_COUNT: '4' })).toThrow(
      /outside 0\.\.3/,
    );
    expect(() => resolveShard('1/2', '3', {})).toThrow(/disagree/);
    expect(() => resolveShard(undefined, '3', {})).toThrow(/needs a shard index/);
  });
});

describe('assignShards', () => {
  const f = (path: string, bytes: number) => ({ path, bytes });

  it('places the largest files first onto the lightest shard', () => {
    // LPT by hand: 10->A, 9->B, 8->B (9 < 10), then the 1s go to A (10 < 17).
    const shards = assignShards([f('a', 1), f('b', 8), f('c', 10), f('d', 1), f('e', 9), f('g', 1)], 2);
    expect(shards.map((s) => s.map((x) => x.path))).toEqual([
      ['a', 'c', 'd', 'g'],
      ['b', 'e'],
    ]);
  });

  it('is the same for any input order, uses every file once, and balances within the largest file', () => {
    const files = Array.from({ length: 40 }, (_, i) => f(`file${i}`, ((i * 7919) % 1000) + (i % 3 === 0 ? 5000 : 0)));
    const shuffled = [...files].reverse().sort((a, b) => (a.path.length % 2) - (b.path.length % 2));
    const a = assignShards(files, 7);
    expect(assignShards(shuffled, 7)).toEqual(a);
    expect(
      a
        .flat()
        .map((x) => x.path)
        .sort(),
    ).toEqual(files.map((x) => x.path).sort());
    const loads = a.map((s) => s.reduce((t, x) => t + x.bytes, 0));
    expect(Math.max(...loads) - Math.min(...loads)).toBeLessThanOrEqual(Math.max(...files.map((x) => x.bytes)));
    // ties in size go by path, so equal-sized files still assign deterministically
    expect(assignShards([f('y', 5), f('x', 5)], 2)).toEqual([[f('x', 5)], [f('y', 5)]]);
  });

  it('leaves shards empty when there are fewer files than shards', () => {
    expect(assignShards([f('a', 3)], 3)).toEqual([[f('a', 3)], [], []]);
  });
});
