import { execFile } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { writeFileAtomic } from '../../util/atomicWrite.js';
import { shellQuote, skimCommand, type SkimInvocation } from './command.js';
import { shardsDir } from './plan.js';

export interface SlurmArrayOptions {
  invocation: SkimInvocation;
  tasks: number;
  partition?: string;
  /** Wall-time limit per task, in sbatch's format ('1:00:00'). */
  time?: string;
  cpusPerTask?: number;
  /** Memory per task, in sbatch's format ('4G'). */
  mem?: string;
  jobName?: string;
}

export const slurmScriptPath = (outDir: string) => join(shardsDir(outDir), 'slurm-array.sh');
export const slurmLogDir = (outDir: string) => join(shardsDir(outDir), 'logs');

/**
 * A SLURM job-array script: task $SLURM_ARRAY_TASK_ID runs shard ID/N. The shard count is written
 * into the script, so `sbatch --array=2,5 script` re-runs just those shards.
 */
function slurmArrayScript(o: SlurmArrayOptions): string {
  const outDir = o.invocation.outDir;
  // sbatch splits #SBATCH lines at unquoted spaces and ends them at an unquoted '#'.
  const quoted = (name: string, value: string) => {
    if (/[\n"\\]/.test(value))
      throw new Error(`${name}: '${value}' cannot be written into an #SBATCH line (newline, quote or backslash)`);
    return `${name}="${value}"`;
  };
  const directives = [
    quoted('--job-name', o.jobName ?? 'diffskim-skim'),
    `--array=0-${o.tasks - 1}`,
    `--ntasks=1`,
    `--cpus-per-task=${o.cpusPerTask ?? 1}`,
    quoted('--chdir', o.invocation.cwd),
    // '%' in a path would be read as one of SLURM's file-name patterns.
    quoted('--output', `${resolve(o.invocation.cwd, slurmLogDir(outDir)).replaceAll('%', '%%')}/%A_%a.out`),
    ...(o.partition ? [`--partition=${o.partition}`] : []),
    ...(o.time ? [`--time=${o.time}`] : []),
    ...(o.mem ? [`--mem=${o.mem}`] : []),
  ];
  return [
    '#!/bin/bash',
    ...directives.map((d) => `#SBATCH ${d}`),
    '# Written by `diffskim submit --slurm`. Task I skims shard I of the run; re-running a task is',
    '# safe (finished files are skipped). When all tasks are done: diffskim merge ' + shellQuote(outDir),
    'set -euo pipefail',
    `cd ${shellQuote(o.invocation.cwd)}`,
    `exec ${skimCommand(o.invocation, `"$SLURM_ARRAY_TASK_ID/${o.tasks}"`)} </dev/null`,
    '',
  ].join('\n');
}

/** Writes the script to DIR/shards/slurm-array.sh (and makes the log folder); returns its path. */
export async function writeSlurmScript(o: SlurmArrayOptions): Promise<string> {
  const path = slurmScriptPath(o.invocation.outDir);
  await mkdir(slurmLogDir(o.invocation.outDir), { recursive: true });
  await writeFileAtomic(path, slurmArrayScript(o));
  return path;
}

/** Submits a script with sbatch; returns the job id. */
export async function sbatch(script: string, extraArgs: string[] = []): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('sbatch', ['--parsable', ...extraArgs, script]);
    return stdout.trim().split(';')[0];
  } catch (e) {
    const err = e as NodeJS.ErrnoException & { stderr?: string };
    if (err.code === 'ENOENT')
      throw new Error(`sbatch not found: is this a SLURM login node? The script is at ${script}`);
    throw new Error(`sbatch ${script} failed: ${(err.stderr ?? err.message).trim()}`);
  }
}
