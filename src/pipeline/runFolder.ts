import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { claim } from '../skim/claims.js';
import { skimFilesBesides } from '../skim/outputPaths.js';
import { isTempFile } from '../util/tempFiles.js';
import { isInside, realPathOf, searchedFolder } from '../sources/expandInputs.js';
import { writeJsonAtomic } from '../util/atomicWrite.js';
import { loadPipeline } from './load.js';
import { pipelineSources } from './schema.js';

/** DIR/run.json: which pipeline (and settings) the run folder holds. */
interface RunRecord {
  pipeline: string;
  /** A hash of the loaded pipeline's settings and the folder its paths are relative to. */
  fingerprint: string;
}

/**
 * Runs `work` with outDir as the pipeline's run folder, after checking that outDir is its own:
 * refused when it holds a run of other pipeline settings, or files of no run, or lies inside a
 * folder the pipeline's inputs are searched in (the next run would read its skim). A re-run of
 * the same settings (resuming it) is let through. The folder is claimed while `work` runs
 * (src/skim/claims.ts), so a second run into it at the same time is refused.
 */
export async function withRunFolder<T>(pipelinePath: string, outDir: string, work: () => Promise<T>): Promise<T> {
  const pipeline = await loadPipeline(pipelinePath);
  const baseDir = dirname(resolve(pipelinePath));
  const out = resolve(outDir);
  await refuseFile(outDir, '--out');
  const fix = `use another --out, or delete ${outDir}`;
  for (const source of pipelineSources(pipeline)) {
    if (source.kind === 'grpc') continue;
    for (const spec of source.paths) {
      const searched = await searchedFolder(spec, baseDir);
      // By real paths: a run folder given through a symbolic link into the searched one too.
      if (searched && isInside(await realPathOf(out), await realPathOf(searched)))
        throw new Error(
          `the run folder ${outDir} is inside ${searched}, where the pipeline's input '${spec}' is searched: ` +
            `the next run would read its skim; ${fix}`,
        );
    }
  }
  const record: RunRecord = { pipeline: resolve(pipelinePath), fingerprint: fingerprintOf({ pipeline, baseDir }) };
  const recordPath = join(out, 'run.json');
  const old = await readRecord(recordPath);
  if (old && old.fingerprint !== record.fingerprint)
    throw new Error(`${outDir} holds a run of other pipeline settings (${old.pipeline}); ${fix}`);
  if (!old) {
    const names = await readdir(out).catch(() => [] as string[]);
    const files = names.filter((n) => !isTempFile(n) && !n.endsWith('.claim'));
    const shown = `${files.slice(0, 3).join(', ')}${files.length > 3 ? ', ...' : ''}`;
    if (files.length) throw new Error(`${outDir} is not empty (${shown}) and holds no diffskim run; ${fix}`);
  }
  const release = await claim(recordPath, 'another diffskim run into this folder');
  try {
    await writeJsonAtomic(recordPath, record);
    return await work();
  } finally {
    await release();
  }
}

async function readRecord(path: string): Promise<RunRecord | null> {
  const text = await readFile(path, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return null;
    throw new Error(`cannot read ${path}: ${e.message}`);
  });
  if (text === null) return null;
  try {
    return JSON.parse(text) as RunRecord;
  } catch (e) {
    throw new Error(`${path} is not valid JSON (${(e as Error).message}); delete the run folder to start over`);
  }
}

function fingerprintOf(settings: unknown): string {
  return createHash('sha256').update(JSON.stringify(settings)).digest('hex').slice(0, 16);
}

/**
 * What an earlier run left in the run folder that this run would not replace: its report
 * (report.json, written last, marks a complete run; report.html) and the skim files this run
 * does not write (`.skim.parquet` files below skim/, of inputs gone since), removed before this run
 * writes its first result (its model, after training), so that the folder never mixes two runs'
 * results nor holds skim files its report does not list. skimFiles: this run's, relative to skim/.
 * Returns the skim files removed.
 */
export async function clearEarlierResults(outDir: string, skimFiles: string[]): Promise<string[]> {
  for (const name of ['report.json', 'report.html']) await rm(join(outDir, name), { force: true });
  const stale = await skimFilesBesides(join(outDir, 'skim'), skimFiles);
  for (const path of stale) await rm(path, { force: true });
  return stale;
}

/**
 * Refuses another command's output folder (`skim --output`, `eval --out`) that is a run folder
 * (run.json) or lies in its skim/ folder: its report.json, report.html, eval.json and plots, or
 * skim files, would replace the run's own (a folder below the run folder, such as RUN/eval, is fine).
 */
export async function refuseRunFolder(outDir: string, option: string): Promise<void> {
  await refuseFile(outDir, option);
  const dir = await realPathOf(outDir);
  for (let run = dir; ; run = dirname(run)) {
    const holdsRun = await stat(join(run, 'run.json')).then(
      (s) => s.isFile(),
      () => false,
    );
    if (holdsRun && (run === dir || isInside(dir, join(run, 'skim'))))
      throw new Error(
        `${option} ${outDir} is ${run === dir ? 'the folder' : 'in the skim folder'} of the diffskim run ${run} ` +
          "(run.json), whose outputs this would replace; write to a folder of its own (one below the run's, " +
          'outside skim/, is fine)',
      );
    if (dirname(run) === run) return;
  }
}

/** Refuses an output folder that is a file (or a link to one), before any work. */
async function refuseFile(outDir: string, option: string): Promise<void> {
  const found = await stat(outDir).catch(() => null);
  if (found && !found.isDirectory())
    throw new Error(`${option} ${outDir} is a file, not a folder: name a folder (new, or one of this command's own)`);
}
