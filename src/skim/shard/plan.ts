import { createHash } from 'node:crypto';
import { mkdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CutsFile } from '../../selection/cutsFile.js';
import { writeJsonAtomic } from '../../util/atomicWrite.js';
import { assignShards } from './assign.js';
import type { FoundInput } from '../../sources/expandInputs.js';
import { skimOutputPaths } from '../outputPaths.js';
import { isRootFile } from '../rootSkim.js';
import type { SkimInvocation } from './command.js';
import { shardName, type ShardSpec } from './spec.js';

/**
 * The plan of a sharded skim, DIR/shards/plan.json: every input, its size and its shard. Every
 * task computes it from the same inputs and writes the same plan; a task that finds a plan with
 * another id (other inputs, sizes, shard count or settings) refuses to run, so shards of two
 * different runs never mix in one directory.
 */
export interface PlannedFile {
  path: string;
  bytes: number;
  shard: number;
  /** Skim file, relative to the output directory (src/skim/outputPaths.ts). */
  output: string;
}

export interface ShardPlan {
  version: 1;
  id: string;
  count: number;
  /** skimFingerprint of cuts/keep/codec. */
  fingerprint: string;
  cuts: CutsFile;
  invocation: SkimInvocation;
  files: PlannedFile[];
}

export const shardsDir = (outDir: string) => join(outDir, 'shards');
export const planPath = (outDir: string) => join(shardsDir(outDir), 'plan.json');
export const shardDir = (outDir: string, s: ShardSpec) => join(shardsDir(outDir), shardName(s));
export const manifestPath = (outDir: string, s: ShardSpec) => join(shardDir(outDir, s), 'manifest.json');

export async function makePlan(
  inputs: FoundInput[],
  count: number,
  fingerprint: string,
  cuts: CutsFile,
  invocation: SkimInvocation,
): Promise<ShardPlan> {
  const root = inputs.find((f) => isRootFile(f.path));
  if (root)
    throw new Error(`${root.path}: a sharded skim reads Parquet; skim ROOT files without --shard, or convert them`);
  const outputs = skimOutputPaths(inputs);
  const sized = await Promise.all(
    inputs.map(async ({ path }, i) => {
      const s = await stat(path).catch((e: Error) => {
        throw new Error(`${path}: cannot stat input: ${e.message}`);
      });
      return { path, bytes: s.size, output: outputs[i] };
    }),
  );
  const shardOf = new Map<string, number>();
  assignShards(sized, count).forEach((files, shard) => files.forEach((f) => shardOf.set(f.path, shard)));
  const files = sized.map((f) => ({ ...f, shard: shardOf.get(f.path)! }));
  const id = createHash('sha256')
    .update(JSON.stringify({ count, fingerprint, files: files.map((f) => [f.path, f.bytes, f.output]) }))
    .digest('hex')
    .slice(0, 16);
  return { version: 1, id, count, fingerprint, cuts, invocation, files };
}

export async function readPlan(outDir: string): Promise<ShardPlan | null> {
  const path = planPath(outDir);
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new Error(`${path}: cannot read shard plan: ${e.message}`);
  });
  if (text === null) return null;
  try {
    return JSON.parse(text) as ShardPlan;
  } catch (e) {
    throw new Error(`${path}: shard plan is not valid JSON: ${(e as Error).message}`);
  }
}

/** Writes the plan, or checks it against the one already there. */
export async function savePlan(outDir: string, plan: ShardPlan): Promise<void> {
  const old = await readPlan(outDir);
  if (old?.id === plan.id) return;
  if (old) {
    const what =
      old.count !== plan.count
        ? `${old.count} shards, now ${plan.count}`
        : old.fingerprint !== plan.fingerprint
          ? 'other cuts/keep/codec'
          : 'another list of input files or sizes';
    throw new Error(
      `${planPath(outDir)} belongs to another sharded run (${what}); use a fresh --output directory, or delete ${shardsDir(outDir)} and the skim files to start over`,
    );
  }
  await mkdir(shardsDir(outDir), { recursive: true });
  await writeJsonAtomic(planPath(outDir), plan);
}
