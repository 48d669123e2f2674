import { readdir, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mergeShards } from '../../src/skim/shard/merge.js';
import { runShardedSkim } from '../../src/skim/shard/runShard.js';
import { inOwnFolders } from '../../src/skim/outputPaths.js';
import { sql, tempDir } from '../parquet/helpers.js';
import { CUTS, makeRun } from './helpers.js';

let dir: string;
let cleanup: () => Promise<void>;
let inputs: string[];
beforeAll(async () => {
  ({ dir, cleanup } = await tempDir());
  ({ inputs } = await makeRun(dir, 2));
});
afterAll(() => cleanup());

describe('merge after a killed merge', () => {
  it("removes the dead merge's temp report and merges; a live one is named", async () => {
    const out = join(dir, 'out');
    const invocation = { cwd: dir, cutsPath: join(dir, 'cuts.json'), inputSpecs: inputs, outDir: out };
    for (const index of [0, 1])
      await runShardedSkim({
        inputs: inOwnFolders(inputs),
        cuts: structuredClone(CUTS) as never,
        invocation,
        shard: { index, count: 2 },
      });
    // What writeJsonAtomic leaves when its merge is killed: a pid far above pid_max is no running process.
    const dead = `report.json.tmp-999999999-0badcafe.${hostname()}`;
    await writeFile(join(out, dead), '{"partial": ');
    const report = await mergeShards(out);
    expect(await readdir(out)).not.toContain(dead);
    const files = inputs.map((f) => `'${f}'`).join(', ');
    const [r] = await sql(`SELECT count(*) AS n FROM read_parquet([${files}]) WHERE met > 30 AND lep1_pt > 20`);
    expect(report.eventsKept).toBe(Number(r.n));

    const live = `report.json.tmp-${process.pid}-0badcafe.${hostname()}`;
    await writeFile(join(out, live), '{"partial": ');
    const named = `temp file ${join(out, live)} being written by process ${process.pid}`;
    await expect(mergeShards(out)).rejects.toThrow(named);
  });
});
