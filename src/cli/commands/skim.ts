import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { readFile, rm } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import type { ScoreCut } from '../../operators/hardCut.js';
import type { Command } from 'commander';
import { createProgress } from '../../util/progress.js';
import { sampleLines, summaryLines } from '../summary.js';
import { stopOnSignals } from '../../util/stopSignal.js';
import { resolveShard } from '../../skim/shard/spec.js';
import type { SkimCommandOptions } from '../shard.js';

/** The skim command's options: those of a sharded run (or a pipeline's samples instead of inputs), the shard and the model. */
interface SkimCliOptions extends Omit<SkimCommandOptions, 'input'> {
  input?: string[];
  pipeline?: string;
  shard?: string;
  shardCount?: string;
  model?: string;
}

/** cuts.json's score cut: sigmoid(MLP) of the saved model, applied after the hard cuts. */
async function scoreCut(dir: string, threshold: number): Promise<ScoreCut> {
  const { loadModel } = await import('../../model/io.js');
  const { mlpScore } = await import('../../model/score.js');
  const modelDir = existsSync(join(dir, 'model', 'model.json')) ? join(dir, 'model') : dir;
  const model = await loadModel(modelDir);
  const id = createHash('sha256')
    .update(await readFile(join(modelDir, 'model.json')))
    .update(await readFile(join(modelDir, 'weights.bin')))
    .digest('hex');
  return { fn: (b) => mlpScore(model, b), threshold, columns: model.features, id };
}

export function register(program: Command): void {
  program
    .command('skim')
    .description('apply cuts.json as hard cuts: write one reduced Parquet file per input, plus report.json')
    .requiredOption('--cuts <file>', 'cuts.json (from training, or written by hand)')
    .option('--input <spec...>', 'Parquet or ROOT file, folder of Parquet files, glob or @list.txt (repeatable)')
    .option(
      '--pipeline <file>',
      "instead of --input: a pipeline file's samples, each skimmed to <output>/<sample>/, with yields per sample",
    )
    .requiredOption('--output <dir>', "folder for report.json and the skim files (each input's path below its folder)")
    .option('--keep <columns>', 'comma-separated columns to write (default: all)')
    .option('--codec <codec>', 'output compression (default: the input file’s)')
    .option('--model <dir>', 'saved model (a run folder or its model/), needed when cuts.json has a score cut')
    .option(
      '--shard <I/N>',
      'do shard I of N (balanced by bytes; default: SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX); then: diffskim merge DIR',
    )
    .option(
      '--shard-count <N>',
      'number of shards with an index from SLURM/Kubernetes (default: DIFFSKIM_SHARD_COUNT, SLURM_ARRAY_TASK_COUNT)',
    )
    .action(async (o: SkimCliOptions) => {
      if (Boolean(o.input) === Boolean(o.pipeline)) throw new Error('give --input or --pipeline (one of them)');
      const shard = resolveShard(o.shard, o.shardCount);
      if (shard && o.pipeline) throw new Error('--pipeline: a sharded skim takes --input files');
      if (shard && o.model)
        throw new Error('--model: a sharded skim applies hard cuts only; run the score-cut skim without --shard');
      await (await import('../../pipeline/runFolder.js')).refuseRunFolder(o.output, '--output');
      const stop = stopOnSignals();
      try {
        if (shard) await (await import('../shard.js')).runShardCommand({ ...o, input: o.input! }, shard, stop.signal);
        else if (o.pipeline) await skimSamplesCommand(o, o.pipeline, stop.signal);
        else await skimCommand(o, stop.signal);
      } finally {
        stop.dispose();
      }
    });
}

/** `diffskim skim` without shards: resumable, one skim file per input. */
async function skimCommand(o: SkimCliOptions, signal: AbortSignal): Promise<void> {
  const { readCutsFile } = await import('../../selection/cutsFile.js');
  const { skimOutputPaths } = await import('../../skim/outputPaths.js');
  const { skimWithResume } = await import('../../skim/resume.js');
  const { expandInputs, skimInputs } = await import('../../sources/expandInputs.js');
  const { writeJsonAtomic } = await import('../../util/atomicWrite.js');
  const { invocationOf } = await import('../shard.js');
  const cuts = await readCutsFile(o.cuts);
  const found = await skimInputs(await expandInputs(o.input!), o.output);
  const { keep, codec } = invocationOf({ ...o, input: o.input! });
  const score = cuts.score && o.model ? await scoreCut(o.model, cuts.score.value) : undefined;
  let progress: ReturnType<typeof createProgress> | undefined;
  let done = 0;
  const { result, filesSkipped, tempFilesRemoved } = await skimWithResume({
    inputs: found.map((f) => f.path),
    outputs: skimOutputPaths(found),
    cuts,
    outDir: o.output,
    keep,
    codec,
    score,
    signal,
    onProgress: (eventsDone, eventsTotal) => {
      progress ??= createProgress({ stage: 'skim', total: eventsTotal });
      progress.advance(eventsDone - done);
      done = eventsDone;
    },
  });
  progress?.done();
  await writeJsonAtomic(join(o.output, 'report.json'), { cutsFile: o.cuts, cuts, ...result });
  if (filesSkipped || tempFilesRemoved.length)
    console.log(
      `resumed an interrupted run: ${filesSkipped} file(s) already complete, ${tempFilesRemoved.length} stale temp file(s) removed`,
    );
  for (const line of summaryLines(result)) console.log(line);
  console.log(`wrote ${result.skimFiles.length} skim file(s) and ${join(o.output, 'report.json')}`);
}

/**
 * `diffskim skim --pipeline P`: each of the pipeline's samples skimmed into <output>/<sample>/
 * (the single-source form as a plain skim), and report.json with each sample's events, weighted
 * yields and bytes, their total and the significance after the cuts.
 */
async function skimSamplesCommand(o: SkimCliOptions, pipelinePath: string, signal: AbortSignal): Promise<void> {
  const { loadPipeline } = await import('../../pipeline/load.js');
  const { sampleSkimOutputs, skimSamples } = await import('../../pipeline/skimSample.js');
  const { skimFilesBesides } = await import('../../skim/outputPaths.js');
  const { claim } = await import('../../skim/claims.js');
  const { resolveSamples } = await import('../../samples/resolve.js');
  const { readCutsFile } = await import('../../selection/cutsFile.js');
  const { writeJsonAtomic } = await import('../../util/atomicWrite.js');
  const { invocationOf } = await import('../shard.js');
  // The folder is claimed while this skim writes it (src/skim/claims.ts): a second skim into it is refused.
  const release = await claim(join(o.output, 'report.json'), 'another skim into this folder');
  try {
    const pipeline = await loadPipeline(pipelinePath);
    const baseDir = dirname(resolve(pipelinePath));
    const samples = await resolveSamples(pipeline, baseDir, (line) => process.stderr.write(`${line}\n`));
    const outputs = sampleSkimOutputs(samples); // decided (and clashes refused) before any work
    // Skim files this skim does not write (an earlier skim's of inputs gone since, another skim's)
    // are refused, not removed.
    const others = await skimFilesBesides(o.output, outputs.flat());
    if (others.length)
      throw new Error(
        `${o.output} holds skim files that this skim does not write (${others.slice(0, 3).join(', ')}` +
          `${others.length > 3 ? ', ...' : ''}), which its report would not list; delete them, or use another --output`,
      );
    const cuts = await readCutsFile(o.cuts);
    if (cuts.score && !o.model)
      throw new Error(`${o.cuts} has a score cut: give the model that computes it (--model DIR)`);
    const score = cuts.score && o.model ? await scoreCut(o.model, cuts.score.value) : undefined;
    const given = invocationOf({ ...o, input: [] });
    await rm(join(o.output, 'report.json'), { force: true }); // the folder's report goes until this skim's is complete
    const { skim, samples: perSample } = await skimSamples(samples, outputs, {
      cuts,
      score,
      outDir: o.output,
      keep: given.keep ?? pipeline.skim.keep,
      codec: given.codec ?? pipeline.skim.codec,
      baseDir,
      signal,
      sigmaB: pipeline.loss.sigmaB,
    });
    const report = join(o.output, 'report.json');
    await writeJsonAtomic(report, {
      pipeline: resolve(pipelinePath),
      cutsFile: o.cuts,
      cuts,
      ...skim,
      samples: perSample,
    });
    for (const line of summaryLines(skim)) console.log(line);
    for (const line of perSample ? sampleLines(perSample) : []) console.log(line);
    console.log(`wrote ${skim.skimFiles.length} skim file(s) and ${report}`);
  } finally {
    await release();
  }
}
