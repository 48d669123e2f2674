import { type CutsFile, readCutsFile } from '../selection/cutsFile.js';
import { parseCodec } from '../sinks/parquetSink.js';
import { expandInputs, skimInputs } from '../sources/expandInputs.js';
import { createProgress } from '../util/progress.js';
import { summaryLines } from './summary.js';
import type { SkimInvocation } from '../skim/shard/command.js';
import { shardDir } from '../skim/shard/plan.js';
import { runShardedSkim } from '../skim/shard/runShard.js';
import { shardName, type ShardSpec } from '../skim/shard/spec.js';

/** The skim command's options that a sharded run uses. */
export interface SkimCommandOptions {
  cuts: string;
  input: string[];
  output: string;
  keep?: string;
  codec?: string;
}

/** Parses the skim command's options into the invocation a shard plan records. */
export function invocationOf(o: SkimCommandOptions, cwd = process.cwd()): SkimInvocation {
  const keep = o.keep
    ?.split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return {
    cwd,
    cutsPath: o.cuts,
    inputSpecs: o.input,
    outDir: o.output,
    keep,
    codec: o.codec ? parseCodec(o.codec) : undefined,
  };
}

/** `diffskim skim ... --shard I/N` (or with the shard from SLURM/Kubernetes): one task of a sharded skim. */
export async function runShardCommand(o: SkimCommandOptions, shard: ShardSpec, signal?: AbortSignal): Promise<void> {
  const invocation = invocationOf(o);
  const cuts = await readCutsFile(o.cuts);
  checkShardable(o.cuts, cuts);
  const inputs = await skimInputs(await expandInputs(o.input), o.output);
  const progress = createProgress({ stage: `skim ${shard.index}/${shard.count}` });
  let done = 0;
  const report = await runShardedSkim({
    inputs,
    cuts,
    invocation,
    shard,
    signal,
    onProgress: (events) => {
      progress.advance(events - done);
      done = events;
    },
  }).catch((e: Error) => {
    throw new Error(`shard ${shard.index}/${shard.count}: ${e.message}`);
  });
  progress.done();
  console.log(
    `shard ${shardName(shard)}: ${report.inputs.length} file(s) of ${inputs.length}, ${report.filesSkipped} already done before`,
  );
  for (const line of summaryLines(report)) console.log(line);
  console.log(
    `wrote ${report.skimFiles.length} skim file(s) to ${o.output} and ${shardDir(o.output, shard)}/{manifest,report}.json`,
  );
}

/** A sharded skim applies hard cuts only: a score cut (which needs the model) is refused up front. */
export function checkShardable(cutsPath: string, cuts: CutsFile): void {
  if (cuts.score)
    throw new Error(
      `${cutsPath} has a score cut: a sharded skim applies hard cuts only; run the skim with --model and without --shard`,
    );
}
