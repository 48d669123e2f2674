import { cp, mkdir, mkdtemp, readFile, readdir, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IncompleteRunError, mergeShards } from '../../src/skim/shard/merge.js';
import { readManifest, writeManifest } from '../../src/skim/shard/manifest.js';
import { manifestPath, readPlan } from '../../src/skim/shard/plan.js';
import { inOwnFolders } from '../../src/skim/outputPaths.js';
import { runShardedSkim } from '../../src/skim/shard/runShard.js';
import { tempPathOf } from '../../src/util/tempFiles.js';
import { runSkim } from '../../src/skim/runSkim.js';
import { sql } from '../parquet/helpers.js';
import { CUTS, makeRun, skimDifference } from './helpers.js';

const N = 3;
let dir: string;
let inputs: string[];
let single: string;

const invocation = (outDir: string) => ({
  cwd: dir,
  cutsPath: join(dir, 'cuts.json'),
  inputSpecs: [join(dir, 'in')],
  outDir,
});
const shard = (outDir: string, index: number, cuts = CUTS) =>
  runShardedSkim({
    inputs: inOwnFolders(inputs),
    cuts: structuredClone(cuts) as never,
    invocation: invocation(outDir),
    shard: { index, count: N },
  });
async function runAll(outDir: string): Promise<void> {
  for (let i = 0; i < N; i++) await shard(outDir, i);
}
async function mergeError(outDir: string): Promise<IncompleteRunError> {
  const e = await mergeShards(outDir).catch((x) => x);
  expect(e).toBeInstanceOf(IncompleteRunError);
  return e as IncompleteRunError;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'diffskim-shard-'));
  ({ inputs } = await makeRun(dir, 7));
  single = join(dir, 'single');
  await runSkim({ inputs, cuts: structuredClone(CUTS) as never, outDir: single });
});
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('sharded skim + merge', () => {
  it('every input lands in exactly one shard and the merged skim equals the single-process skim', async () => {
    const out = join(dir, 'ok');
    await runAll(out);
    const plan = (await readPlan(out))!;
    expect(plan.files.map((f) => f.path)).toEqual(inputs);
    const report = await mergeShards(out);
    const onDisk = JSON.parse(await readFile(join(out, 'report.json'), 'utf8'));
    expect(onDisk.eventsKept).toBe(report.eventsKept);
    expect(report.inputs).toEqual(inputs);
    expect(report.shards.map((s) => s.inputs).reduce((a, b) => a + b)).toBe(inputs.length);
    expect(report.shards.every((s) => s.inputs > 0)).toBe(true);

    const ref = JSON.parse(
      JSON.stringify(await runSkim({ inputs, cuts: structuredClone(CUTS) as never, outDir: join(dir, 'ref') })),
    );
    for (const k of [
      'eventsIn',
      'eventsKept',
      'eventsCut',
      'bytesIn',
      'rowGroupsTotal',
      'rowGroupsSkipped',
      'bytesNeverRead',
      'bytesSavedByColumns',
    ])
      expect(report[k as keyof typeof report], k).toBe(ref[k]);
    let bytesOut = 0;
    for (const f of report.skimFiles) bytesOut += (await stat(f)).size;
    expect(report.bytesOut).toBe(bytesOut);
    expect(report.bytesSaved).toBe(report.bytesIn - bytesOut);
    expect(await skimDifference(out, single)).toEqual({ rowsA: report.eventsKept, differ: 0 });
  });

  it('a re-run of a finished shard redoes nothing; a changed input is redone', async () => {
    const out = join(dir, 'rerun');
    await runAll(out);
    const again = await shard(out, 1);
    expect(again.filesSkipped).toBe(again.inputs.length);
    const victim = again.inputs[0];
    const skimFile = again.skimFiles[0];
    const before = (await stat(skimFile)).mtimeMs;
    await utimes(victim, new Date(), new Date(Date.now() + 5000));
    const redo = await shard(out, 1);
    expect(redo.filesSkipped).toBe(again.inputs.length - 1);
    expect((await stat(skimFile)).mtimeMs).toBeGreaterThan(before);
    await mergeShards(out);
  });

  it('merge names a missing shard, a half-done shard and leftover temp files, and gives the re-run commands', async () => {
    const out = join(dir, 'broken');
    await runAll(out);
    // shard 0 never ran; shard 2 was killed after its first file, mid-way through its second
    await rm(join(out, 'shards', `0-of-${N}`), { recursive: true });
    const m = (await readManifest(manifestPath(out, { index: 2, count: N })))!;
    const lost = m.entries.slice(1);
    await writeManifest(manifestPath(out, { index: 2, count: N }), { ...m, entries: m.entries.slice(0, 1) });
    await rm(join(out, lost[0].output));
    await writeFile(join(out, `${lost[0].output}.tmp-999999999`), 'half a file');
    // And one whose writer runs here (this process, on this host), as a task still at work.
    const live = tempPathOf(join(out, lost[0].output));
    await writeFile(live, 'being written');

    const e = await mergeError(out);
    expect(e.message).toContain(`temp file ${live} being written by process ${process.pid} on this machine`);
    await rm(live);
    expect(e.shardsToRerun).toEqual([0, 2]);
    expect(e.message).toMatch(new RegExp(`shard 0/${N}: has not run`));
    expect(e.message).toMatch(new RegExp(`shard 2/${N}: incomplete .*${lost.length} of ${m.entries.length} input`));
    expect(e.message).toContain(`${lost[0].output}.tmp-999999999 left by an interrupted writer`);
    expect(e.commands).toHaveLength(2);
    expect(e.commands[1]).toMatch(new RegExp(`skim --cuts .* --shard 2/${N}$`));
    expect(await readdir(out)).not.toContain('report.json');

    await shard(out, 0);
    const redone = await shard(out, 2);
    expect(redone.filesSkipped).toBe(1);
    expect((await readdir(out)).some((n) => n.includes('.tmp-'))).toBe(false);
    const report = await mergeShards(out);
    expect(await skimDifference(out, single)).toEqual({ rowsA: report.eventsKept, differ: 0 });
  });

  it('merge catches a truncated skim file, a stray skim file and an entry in the wrong shard', async () => {
    const out = join(dir, 'tampered');
    await runAll(out);
    const m1 = (await readManifest(manifestPath(out, { index: 1, count: N })))!;
    await writeFile(
      join(out, m1.entries[0].output),
      (await readFile(join(out, m1.entries[0].output))).subarray(0, 100),
    );
    await cp(join(single, m1.entries[0].output), join(out, 'other.skim.parquet'));
    const m0 = (await readManifest(manifestPath(out, { index: 0, count: N })))!;
    await writeManifest(manifestPath(out, { index: 0, count: N }), { ...m0, entries: [...m0.entries, m1.entries[1]] });

    const e = await mergeError(out);
    expect(e.message).toMatch(new RegExp(`shard 1/${N}: skim file .*${m1.entries[0].output} has 100 bytes`));
    expect(e.message).toMatch(/other\.skim\.parquet is not an output of this run/);
    expect(e.message).toMatch(
      new RegExp(`shard 0/${N}: lists .*${m1.entries[1].input.split('/').pop()}, which the plan gives to shard 1`),
    );
    expect(e.shardsToRerun).toEqual([0, 1]);
  });

  it('merge catches a skim file whose rows disagree with the manifest', async () => {
    const out = join(dir, 'counts');
    await runAll(out);
    const path = manifestPath(out, { index: 0, count: N });
    const m = (await readManifest(path))!;
    await writeManifest(path, {
      ...m,
      entries: m.entries.map((e, i) => (i === 0 ? { ...e, eventsKept: e.eventsKept + 1 } : e)),
    });
    const e = await mergeError(out);
    expect(e.message).toMatch(/has \d+ rows, the manifest says \d+ events kept/);
  });

  it('a shard refuses an input whose schema differs from the first input, as a single skim does', async () => {
    const odd = join(dir, 'odd');
    await mkdir(odd);
    const other = join(odd, 'f9.parquet');
    await sql(`COPY (SELECT * REPLACE (met::DOUBLE AS met) FROM '${inputs[1]}') TO '${other}' (FORMAT parquet)`);
    const mixed = [inputs[0], other];
    const run = (index: number) =>
      runShardedSkim({
        inputs: inOwnFolders(mixed),
        cuts: structuredClone(CUTS) as never,
        invocation: invocation(join(dir, 'odd-out')),
        shard: { index, count: 2 },
      });
    const results = await Promise.allSettled([run(0), run(1)]);
    const failed = results.filter((r) => r.status === 'rejected') as PromiseRejectedResult[];
    expect(failed).toHaveLength(1); // the shard holding f9.parquet
    expect(failed[0].reason.message).toMatch(/schemas differ between .*f0\.parquet and .*f9\.parquet: column 'met'/);
    await expect(
      runSkim({ inputs: mixed, cuts: structuredClone(CUTS) as never, outDir: join(dir, 'odd-single') }),
    ).rejects.toThrow(/schemas differ/);
  });

  it('refuses to mix runs: other shard count or other cuts in the same directory', async () => {
    const out = join(dir, 'mixed');
    await shard(out, 0);
    await expect(
      runShardedSkim({
        inputs: inOwnFolders(inputs),
        cuts: structuredClone(CUTS) as never,
        invocation: invocation(out),
        shard: { index: 0, count: N + 1 },
      }),
    ).rejects.toThrow(new RegExp(`belongs to another sharded run \\(${N} shards, now ${N + 1}\\)`));
    const other = { cuts: [{ column: 'met', op: '>', value: 10 }], score: null };
    await expect(shard(out, 1, other as never)).rejects.toThrow(/other cuts\/keep\/codec/);
    await expect(mergeShards(join(dir, 'nothing-here'))).rejects.toThrow(/plan\.json not found/);
  });
});
