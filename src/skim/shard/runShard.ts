import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CutsFile } from '../../selection/cutsFile.js';
import type { SkimResult } from '../runSkim.js';
import { parquetSource } from '../../sources/parquet.js';
import { writeJsonAtomic } from '../../util/atomicWrite.js';
import type { SkimInvocation } from './command.js';
import { openManifest, skimFingerprint, type ManifestEntry } from './manifest.js';
import { makePlan, manifestPath, savePlan, shardDir } from './plan.js';
import { resultFromEntries } from './report.js';
import { skimResumable } from './resumableSkim.js';
import { removeStaleTempFiles } from '../../util/tempFiles.js';
import type { ShardSpec } from './spec.js';
import type { FoundInput } from '../../sources/expandInputs.js';
import { manifestPathOf } from '../resume.js';

export interface ShardedSkimOptions {
  /** Every input of the whole run (expanded), in the order given. */
  inputs: FoundInput[];
  cuts: CutsFile;
  invocation: SkimInvocation;
  shard: ShardSpec;
  onProgress?: (eventsDone: number) => void;
  onFile?: (entry: ManifestEntry, skipped: boolean) => void;
  /** Stops the shard (SIGTERM): the file being written is removed; a re-run resumes. */
  signal?: AbortSignal;
}

export interface ShardReport extends SkimResult {
  cutsFile: string;
  cuts: CutsFile;
  shard: ShardSpec;
  planId: string;
  /** Files found complete from an earlier attempt and not redone. */
  filesSkipped: number;
}

/**
 * One task of a sharded skim: plans the whole run (the same for every task), skims this shard's
 * files into the output directory (resumably, through the shard's manifest) and writes
 * DIR/shards/I-of-N/report.json. Running a shard again is safe: finished files are skipped.
 */
export async function runShardedSkim(o: ShardedSkimOptions): Promise<ShardReport> {
  const { outDir } = o.invocation;
  const settings = { cuts: o.cuts, keep: o.invocation.keep, codec: o.invocation.codec };
  const fingerprint = skimFingerprint(settings);
  const plan = await makePlan(o.inputs, o.shard.count, fingerprint, o.cuts, o.invocation);
  // A folder holding an unsharded skim of other settings is refused.
  await openManifest(manifestPathOf(outDir), fingerprint);
  await savePlan(outDir, plan);
  const dir = shardDir(outDir, o.shard);
  await mkdir(dir, { recursive: true });
  const mine = plan.files.filter((f) => f.shard === o.shard.index);
  // Every shard checks its files against the run's first input: together they check them all.
  const footers = await parquetSource([...new Set([o.inputs[0].path, ...mine.map((f) => f.path)])]).files();
  // Temp files a killed earlier attempt of this shard left behind (skimResumable: those of its skim files).
  for (const name of ['manifest.json', 'report.json']) await removeStaleTempFiles(dir, name);
  let filesSkipped = 0;
  const entries = await skimResumable({
    ...settings,
    inputs: mine.map((f) => f.path),
    outputs: mine.map((f) => f.output),
    outDir,
    footers,
    manifestPath: manifestPath(outDir, o.shard),
    signal: o.signal,
    onProgress: o.onProgress,
    onFile: (e, skipped) => {
      if (skipped) filesSkipped++;
      o.onFile?.(e, skipped);
    },
  });
  const report: ShardReport = {
    cutsFile: o.invocation.cutsPath,
    cuts: o.cuts,
    shard: o.shard,
    planId: plan.id,
    filesSkipped,
    ...resultFromEntries(entries, outDir),
  };
  await writeJsonAtomic(join(dir, 'report.json'), report);
  return report;
}
