import type { Command } from 'commander';
import { shellQuote } from '../../skim/shard/command.js';

interface SubmitOptions {
  slurm?: boolean;
  cuts: string;
  input: string[];
  output: string;
  keep?: string;
  codec?: string;
  tasks: string;
  partition?: string;
  time?: string;
  mem?: string;
  cpusPerTask?: string;
  jobName?: string;
  run?: boolean;
  wait?: boolean;
}

function positiveInt(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) throw new Error(`${option} '${text}': expected a whole number >= 1`);
  return n;
}

export function register(program: Command): void {
  program
    .command('submit')
    .description(
      'write (and with --run, submit) a SLURM job array that skims the inputs in --tasks shards; then: diffskim merge DIR',
    )
    .option('--slurm', 'a SLURM job array (the only batch system so far; Kubernetes: deploy/k8s-skim-job.yaml)')
    .requiredOption('--cuts <file>', 'cuts.json')
    .requiredOption('--input <spec...>', 'Parquet file, directory, glob or @list.txt (repeatable)')
    .requiredOption('--output <dir>', 'directory for the skim files; shards/ holds the script, logs, manifests')
    .requiredOption('--tasks <n>', 'number of array tasks (= shards)')
    .option('--keep <columns>', 'comma-separated columns to write (default: all)')
    .option('--codec <codec>', 'output compression (default: the input file’s)')
    .option('--partition <name>', 'SLURM partition')
    .option('--time <limit>', 'wall-time limit per task, e.g. 1:00:00')
    .option('--mem <size>', 'memory per task, e.g. 4G')
    .option('--cpus-per-task <n>', 'CPUs per task (default 1)')
    .option('--job-name <name>', 'job name (default diffskim-skim)')
    .option('--run', 'submit the script with sbatch')
    .option('--wait', 'with --run: wait until every task has ended (sbatch --wait)')
    .action(async (o: SubmitOptions) => {
      if (!o.slurm)
        throw new Error('submit: choose a batch system: --slurm (for Kubernetes, see deploy/k8s-skim-job.yaml)');
      const tasks = positiveInt(o.tasks, '--tasks');
      const { readCutsFile } = await import('../../selection/cutsFile.js');
      const { checkShardable, invocationOf } = await import('../shard.js');
      const { skimFingerprint } = await import('../../skim/shard/manifest.js');
      const { makePlan, savePlan } = await import('../../skim/shard/plan.js');
      const { sbatch, slurmLogDir, writeSlurmScript } = await import('../../skim/shard/slurm.js');
      const { expandInputs, skimInputs } = await import('../../sources/expandInputs.js');
      const cuts = await readCutsFile(o.cuts);
      checkShardable(o.cuts, cuts);
      const inputs = await skimInputs(await expandInputs(o.input), o.output);
      if (tasks > inputs.length)
        console.warn(
          `note: ${tasks} tasks for ${inputs.length} input file(s): ${tasks - inputs.length} task(s) will have nothing to do`,
        );
      const invocation = invocationOf(o);
      // The run's plan, as every task makes it: refused here, before the script of an unfinished
      // run of other shards or settings in this folder is overwritten.
      const fingerprint = skimFingerprint({ cuts, keep: invocation.keep, codec: invocation.codec });
      await savePlan(o.output, await makePlan(inputs, tasks, fingerprint, cuts, invocation));
      const script = await writeSlurmScript({
        invocation,
        tasks,
        partition: o.partition,
        time: o.time,
        mem: o.mem,
        cpusPerTask: o.cpusPerTask ? positiveInt(o.cpusPerTask, '--cpus-per-task') : undefined,
        jobName: o.jobName,
      });
      console.log(`wrote ${script} (${tasks} tasks over ${inputs.length} input file(s))`);
      if (!o.run) {
        console.log(`submit it with: sbatch ${shellQuote(script)}`);
        return;
      }
      const jobId = await sbatch(script, o.wait ? ['--wait'] : []).catch((e: Error) => {
        throw new Error(
          `${e.message}\n(task logs: ${slurmLogDir(o.output)}; see which shards are missing with: diffskim merge ${shellQuote(o.output)})`,
        );
      });
      console.log(o.wait ? `job ${jobId}: all ${tasks} tasks ended` : `submitted job ${jobId}: ${tasks} tasks`);
      console.log(`when done: diffskim merge ${shellQuote(o.output)}`);
    });
}
