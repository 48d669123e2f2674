import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/**
 * DuckDB result chunks hold native memory that V8 cannot see: their JS wrappers are tiny, so V8
 * lets dead chunks pile up until its next young-generation collection frees them (measured:
 * 700–990 MB RSS streaming 20 M events through a WHERE without touching the data). The pile is
 * worst for filtered reads: a chunk that passed a WHERE keeps its whole unfiltered buffers
 * (about 150 kB for 2048 HEP events) however few rows it holds, so thousands go by for each
 * batch the source emits. A filtered read therefore runs a young-generation collection every
 * CHUNKS_PER_COLLECTION chunks (measured, scripts/bench-skim.ts: the streaming skim of 20 M
 * events peaks at 290–315 MB instead of 390–425 MB, for 5–7 % more time). Unfiltered reads do
 * not collect: on wide ones (14 columns) the extra collections cost 25–50 % of the read time and
 * saved nothing (on 1–4 columns they would save ~40 MB for free).
 */
const CHUNKS_PER_COLLECTION = 32;

type Collect = (options: { type: 'minor' }) => void;

/** V8's gc(), obtained without --expose-gc on the command line (and hidden again). */
function v8Collect(): Collect {
  const existing = (globalThis as { gc?: Collect }).gc;
  if (existing) return existing;
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as Collect;
  setFlagsFromString('--no-expose-gc');
  return gc;
}

let collect: Collect | undefined;
let chunks = 0;

/** Call once per chunk fetched from a filtered DuckDB query. */
export function filteredChunkFetched(): void {
  if (++chunks % CHUNKS_PER_COLLECTION !== 0) return;
  collect ??= v8Collect();
  collect({ type: 'minor' });
}
