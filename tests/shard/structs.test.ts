import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeShards } from '../../src/skim/shard/merge.js';
import { inOwnFolders } from '../../src/skim/outputPaths.js';
import { runShardedSkim } from '../../src/skim/shard/runShard.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { sql } from '../parquet/helpers.js';
import { STRUCTS_SQL } from '../parquet/structsFixture.js';

/** Inputs whose struct columns differ (MET.phi in one only), as a single skim accepts them. */
let dir: string;
let inputs: string[];
const CUTS = {
  cuts: [
    { column: 'first(Muon.pt)', op: '>', value: 20 },
    { column: 'MET.pt', op: '>', value: 520 },
  ],
  score: null,
} as const;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffskim-shard-structs-'));
  inputs = [join(dir, 'a.parquet'), join(dir, 'b.parquet')];
  await sql(`COPY (${STRUCTS_SQL}) TO '${inputs[0]}' (FORMAT parquet)`);
  await sql(
    `COPY (SELECT id, x, Muon, {'pt': MET.pt} AS MET FROM (${STRUCTS_SQL})) TO '${inputs[1]}' (FORMAT parquet)`,
  );
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sharded skim of inputs with struct columns', () => {
  it('merges inputs whose structs differ, as the single skim skims them', async () => {
    const single = await runSkim({ inputs, cuts: structuredClone(CUTS) as never, outDir: join(dir, 'single') });
    const out = join(dir, 'sharded');
    const invocation = { cwd: dir, cutsPath: join(dir, 'cuts.json'), inputSpecs: inputs, outDir: out };
    for (const index of [0, 1])
      await runShardedSkim({
        inputs: inOwnFolders(inputs),
        cuts: structuredClone(CUTS) as never,
        invocation,
        shard: { index, count: 2 },
      });
    const report = await mergeShards(out);
    expect(report.eventsKept).toBe(single.eventsKept);
    expect(report.inputs).toEqual(inputs);
  });
});
