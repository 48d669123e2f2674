import { join } from 'node:path';
import { OtherSettingsError, skimFingerprint } from './shard/manifest.js';
import { planPath, readPlan } from './shard/plan.js';
import { resultFromEntries } from './shard/report.js';
import { skimResumable } from './shard/resumableSkim.js';
import { parquetSource } from '../sources/parquet.js';
import { rootSource } from '../sources/rootSource.js';
import type { ColumnType } from '../sources/types.js';
import type { ParquetFileMeta } from '../sources/parquetMeta.js';
import { removeStaleTempFiles } from '../util/tempFiles.js';
import { keptColumns, type SkimResult } from './runSkim.js';
import { checkSkimColumns, columnsNotWritten } from './skimColumns.js';
import type { SkimSpec } from './spec.js';
import { isRootFile } from './rootSkim.js';

/**
 * Interrupted runs. Every writer writes a temp file and renames it when complete (see
 * src/util/tempFiles.ts), so after kill -9 a directory holds complete outputs, a manifest of
 * the finished inputs, and perhaps temp files of the dead process. A re-run removes those temp
 * files and skips the finished inputs (the manifest of src/skim/shard/manifest.ts: input size,
 * mtime and ctime unchanged, skim file present with its size). The manifest stays when the run is done: it
 * records which run the folder holds, so that a skim of other settings into it is refused.
 */

/** Where a plain (unsharded) skim keeps its manifest while it runs. */
export const manifestPathOf = (outDir: string) => join(outDir, 'manifest.json');

/** A skim (src/skim/spec.ts; score: the classifier, needed when cuts.json has a score cut), with its progress. */
export interface ResumedSkimOptions extends SkimSpec {
  onProgress?: (eventsDone: number, eventsTotal: number) => void;
}

export interface ResumedSkim {
  result: SkimResult;
  /** Inputs found complete from an earlier, interrupted run and not redone. */
  filesSkipped: number;
  /** Temp files of dead processes that were removed. */
  tempFilesRemoved: string[];
}

/**
 * runSkim over many files, resumable: each finished input is recorded in outDir/manifest.json,
 * and a re-run of the same command after a crash skips those and redoes the rest. All footers
 * are checked first (schemas agree, cuts and keep name existing columns), so a bad input stops
 * the run before anything is written, as is a folder holding a skim of other settings (or a
 * sharded one: src/skim/shard/plan.ts).
 */
export async function skimWithResume(o: ResumedSkimOptions): Promise<ResumedSkim> {
  const t0 = performance.now();
  const { eventsTotal, notWritten, footers } = await checkInputs(o);
  if (o.cuts.score && !o.score)
    throw new Error('the cuts file has a score cut: give the model that computes the score (--model DIR)');
  const plan = await readPlan(o.outDir);
  if (plan && plan.fingerprint !== skimFingerprint(o))
    throw new OtherSettingsError(
      `${planPath(o.outDir)}: ${o.outDir} holds a sharded skim of other cuts/keep/codec settings; ` +
        'use a fresh output directory, or delete the old skim first',
    );
  const tempFilesRemoved = await removeStaleTempFiles(o.outDir);
  let filesSkipped = 0;
  let eventsSkipped = 0;
  const entries = await skimResumable({
    ...o,
    footers,
    manifestPath: manifestPathOf(o.outDir),
    onProgress: (n) => o.onProgress?.(eventsSkipped + n, eventsTotal),
    onFile: (e, skipped) => {
      if (!skipped) return;
      filesSkipped++;
      eventsSkipped += e.eventsIn;
      o.onProgress?.(eventsSkipped, eventsTotal);
    },
  });
  const result = {
    ...resultFromEntries(entries, o.outDir, o.score || o.inputs.some(isRootFile) ? 'streaming' : 'duckdb-copy'),
    seconds: (performance.now() - t0) / 1000,
    columnsNotWritten: notWritten,
  };
  return { result, filesSkipped, tempFilesRemoved };
}

/**
 * The inputs checked before anything is written: Parquet footers (schemas agree, keep and cuts
 * name their columns: src/skim/skimColumns.ts) and ROOT headers (a skim streams ROOT files:
 * src/skim/rootSkim.ts). Returns their events, the columns the skim leaves out, and the footers
 * (the skim reads none again).
 */
async function checkInputs(
  o: ResumedSkimOptions,
): Promise<{ eventsTotal: number; notWritten: ColumnType[]; footers: ParquetFileMeta[] }> {
  const parquet = o.inputs.filter((p) => !isRootFile(p));
  const root = o.inputs.filter(isRootFile);
  let eventsTotal = 0;
  const notWritten: ColumnType[] = [];
  const footers = parquet.length ? await parquetSource(parquet).files() : [];
  if (footers.length) {
    notWritten.push(...keptColumns(footers, o).notWritten);
    eventsTotal += footers.reduce((s, m) => s + m.rows, 0);
  }
  if (root.length) {
    const info = await rootSource(root).describe();
    checkSkimColumns(root[0], info, o, true);
    const left = columnsNotWritten(info.unsupported, o.keep);
    notWritten.push(...left.filter((c) => !notWritten.some((n) => n.name === c.name)));
    eventsTotal += info.rows;
  }
  return { eventsTotal, notWritten, footers };
}
