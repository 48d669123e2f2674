import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { CutsFile } from '../../selection/cutsFile.js';
import type { SkimResult } from '../runSkim.js';
import { fileSchemaDifference, readParquetMeta, type ParquetFileMeta } from '../../sources/parquetMeta.js';
import { writeJsonAtomic } from '../../util/atomicWrite.js';
import { rerunCommand, shellQuote } from './command.js';
import { readManifest, staleReason, type ManifestEntry } from './manifest.js';
import { manifestPath, planPath, readPlan, shardsDir, type ShardPlan } from './plan.js';
import { resultFromEntries } from './report.js';
import { slurmScriptPath } from './slurm.js';
import { shardName } from './spec.js';
import { tempFileOf, writerAlive } from '../../util/tempFiles.js';

export interface MergedReport extends SkimResult {
  cutsFile: string;
  cuts: CutsFile;
  planId: string;
  shards: {
    index: number;
    inputs: number;
    eventsIn: number;
    eventsKept: number;
    bytesIn: number;
    bytesOut: number;
    seconds: number;
  }[];
}

/** A problem that stops the merge; shard is null for problems no re-run fixes (stray files). */
export interface MergeProblem {
  shard: number | null;
  message: string;
}

export class IncompleteRunError extends Error {
  constructor(
    readonly problems: MergeProblem[],
    /** Shards to re-run, ascending. */
    readonly shardsToRerun: number[],
    /** Shell commands that re-run them (one per shard, then sbatch when the run was submitted to SLURM). */
    readonly commands: string[],
    outDir: string,
    count: number,
  ) {
    const lines = [
      `${outDir}: the sharded skim is not complete (${shardsToRerun.length} of ${count} shard(s) to re-run):`,
      ...problems.map((p) => `  - ${p.message}`),
    ];
    if (commands.length) lines.push('re-run with:', ...commands.map((c) => `  ${c}`));
    super(lines.join('\n'));
  }
}

/**
 * Checks that every shard of the sharded skim in outDir is complete and consistent, then writes
 * outDir/report.json for the whole run. Checks: every planned input is done by exactly its shard
 * (with the settings of the plan); inputs unchanged since; skim files present with the recorded
 * size and with as many rows as the events kept; input row counts equal the events in; no temp
 * files (`*.tmp-*`) and no skim files that are not part of the run. Throws IncompleteRunError
 * listing the problems and the commands that re-run the shards concerned.
 */
export async function mergeShards(outDir: string): Promise<MergedReport> {
  const plan = await readPlan(outDir);
  if (!plan)
    throw new Error(
      `${planPath(outDir)} not found: no shard of a sharded skim has run in ${outDir} (start them with 'diffskim skim --shard I/N' or 'diffskim submit')`,
    );
  const problems: MergeProblem[] = [];
  const done = new Map<string, ManifestEntry>();
  // The schema every input must have (an unreadable first input is named by its own shard's check).
  const first = await readParquetMeta(plan.files[0].path).catch(() => null);
  for (let index = 0; index < plan.count; index++) {
    const entries = await checkShard(plan, outDir, index, problems, first);
    for (const e of entries) done.set(e.input, e);
  }
  await checkDirectory(plan, outDir, problems);
  if (problems.length) throw incomplete(plan, outDir, problems);

  const ordered = plan.files.map((f) => done.get(f.path)!);
  const report: MergedReport = {
    cutsFile: plan.invocation.cutsPath,
    cuts: plan.cuts,
    planId: plan.id,
    ...resultFromEntries(ordered, outDir),
    shards: Array.from({ length: plan.count }, (_, index) => {
      const r = resultFromEntries(
        ordered.filter((_, i) => plan.files[i].shard === index),
        outDir,
      );
      return {
        index,
        inputs: r.inputs.length,
        eventsIn: r.eventsIn,
        eventsKept: r.eventsKept,
        bytesIn: r.bytesIn,
        bytesOut: r.bytesOut,
        seconds: r.seconds,
      };
    }),
  };
  await writeJsonAtomic(join(outDir, 'report.json'), report);
  return report;
}

/** The run's first input, whose schema every input must have (as a single skim checks it). */
type FirstInput = ParquetFileMeta;

/** The complete, verified entries of one shard; problems found are pushed. */
async function checkShard(
  plan: ShardPlan,
  outDir: string,
  index: number,
  problems: MergeProblem[],
  first: FirstInput | null,
): Promise<ManifestEntry[]> {
  const spec = { index, count: plan.count };
  const name = `shard ${index}/${plan.count}`;
  const planned = plan.files.filter((f) => f.shard === index);
  const problem = (message: string) => problems.push({ shard: index, message: `${name}: ${message}` });
  let manifest;
  try {
    manifest = await readManifest(manifestPath(outDir, spec));
  } catch (e) {
    problem((e as Error).message);
    return [];
  }
  if (!manifest) {
    if (planned.length)
      problem(
        `has not run, or was killed before finishing a file (no ${relative(outDir, manifestPath(outDir, spec))}); ${planned.length} input(s) to do`,
      );
    return [];
  }
  if (manifest.fingerprint !== plan.fingerprint) {
    problem(`its manifest was made with other cuts/keep/codec settings than the plan`);
    return [];
  }
  const good: ManifestEntry[] = [];
  for (const e of manifest.entries)
    if (!planned.some((f) => f.path === e.input))
      problem(
        `lists ${e.input}, which the plan gives to shard ${plan.files.find((f) => f.path === e.input)?.shard ?? '(none)'}`,
      );
  const missing = planned.filter((f) => !manifest.entries.some((e) => e.input === f.path));
  if (missing.length)
    problem(
      `incomplete (killed, failed or still running): ${missing.length} of ${planned.length} input(s) not done, e.g. ${missing[0].path}`,
    );
  for (const f of planned) {
    const e = manifest.entries.find((x) => x.input === f.path);
    if (!e) continue;
    const reason = (await staleReason(e, outDir)) ?? (await countsProblem(e, outDir, first));
    if (reason) problem(reason);
    else good.push(e);
  }
  return good;
}

/**
 * Row counts on disk against the manifest (input rows = events in, skim rows = events kept), and
 * the input's schema against the run's first input (shards check only their own files).
 */
async function countsProblem(e: ManifestEntry, outDir: string, first: FirstInput | null): Promise<string | null> {
  const skim = join(outDir, e.output);
  try {
    const [input, output] = await Promise.all([readParquetMeta(e.input), readParquetMeta(skim)]);
    const diff = first && fileSchemaDifference(first, input);
    if (diff) return `schemas differ between ${first.path} and ${e.input}: ${diff}`;
    if (input.rows !== e.eventsIn)
      return `${e.input} has ${input.rows} rows, the manifest says ${e.eventsIn} events in`;
    if (output.rows !== e.eventsKept)
      return `${skim} has ${output.rows} rows, the manifest says ${e.eventsKept} events kept`;
    return null;
  } catch (e) {
    return (e as Error).message;
  }
}

/**
 * Temp files and skim files that are not part of the run. Temp files of dead writers that are not
 * a skim file's (the report of a killed merge) are removed, as every run removes them.
 */
async function checkDirectory(plan: ShardPlan, outDir: string, problems: MergeProblem[]): Promise<void> {
  const outputs = new Map(plan.files.map((f) => [f.output, f.shard]));
  const shards = relative(outDir, shardsDir(outDir));
  const names = (await readdir(outDir, { recursive: true })).filter((n) => n !== shards && !n.startsWith(shards + sep));
  for (const name of names) {
    const temp = tempFileOf(name);
    if (temp) {
      const shard = outputs.get(join(dirname(name), temp.output));
      if (shard === undefined && !writerAlive(temp)) await rm(join(outDir, name), { recursive: true, force: true });
      else {
        const whose = shard === undefined ? '; delete it' : ` (shard ${shard})`;
        problems.push({ shard: shard ?? null, message: `temp file ${join(outDir, name)} ${tempState(temp)}${whose}` });
      }
    } else if (name.endsWith('.skim.parquet') && !outputs.has(name)) {
      problems.push({ shard: null, message: `${join(outDir, name)} is not an output of this run; move or delete it` });
    }
  }
  for (let index = 0; index < plan.count; index++) {
    const dir = join(shardsDir(outDir), shardName({ index, count: plan.count }));
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      const temp = tempFileOf(name);
      if (temp)
        problems.push({ shard: index, message: `temp file ${join(dir, name)} ${tempState(temp)} (shard ${index})` });
    }
  }
}

/** Whether a temp file's writer still runs here (then re-running its shard now would run it twice). */
function tempState(temp: { pid: number; host?: string }): string {
  return writerAlive(temp)
    ? `being written by process ${temp.pid} on this machine (a task still running: wait for it before re-running)`
    : 'left by an interrupted writer';
}

function incomplete(plan: ShardPlan, outDir: string, problems: MergeProblem[]): IncompleteRunError {
  const shards = [...new Set(problems.flatMap((p) => (p.shard === null ? [] : [p.shard])))].sort((a, b) => a - b);
  const commands = shards.map((i) => rerunCommand(plan.invocation, i, plan.count));
  const script = slurmScriptPath(outDir);
  if (shards.length && existsSync(script))
    commands.push(`sbatch --array=${shards.join(',')} ${shellQuote(script)}    # or, on SLURM`);
  return new IncompleteRunError(problems, shards, commands, outDir, plan.count);
}
