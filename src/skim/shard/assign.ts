/** An input file and its size on disk. */
export interface SizedFile {
  path: string;
  bytes: number;
}

/**
 * Splits files into `count` shards balanced by bytes: greedy longest-processing-time, largest file
 * first (ties by path) onto the shard with the fewest bytes so far (ties to the lowest index).
 * Deterministic: every task that sees the same files computes the same assignment. Each shard's
 * files come back sorted by path.
 */
export function assignShards<F extends SizedFile>(files: F[], count: number): F[][] {
  const order = [...files].sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  const shards: F[][] = Array.from({ length: count }, () => []);
  const load = new Array<number>(count).fill(0);
  for (const f of order) {
    let best = 0;
    for (let s = 1; s < count; s++) if (load[s] < load[best]) best = s;
    shards[best].push(f);
    load[best] += f.bytes;
  }
  for (const s of shards) s.sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  return shards;
}
