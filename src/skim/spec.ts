import type { ScoreCut } from '../operators/hardCut.js';
import type { CutsFile } from '../selection/cutsFile.js';
import type { ParquetFileMeta } from '../sources/parquetMeta.js';

/**
 * One skim, as every caller describes it (`diffskim skim`, a run's skim, a shard, gRPC RunSkim):
 * what to read, the cuts, the classifier's score cut, what to keep, how and where to write. The
 * skim functions take it, each extended with its own callbacks.
 */
export interface SkimSpec {
  inputs: string[];
  /** Each input's skim file, relative to outDir (src/skim/outputPaths.ts; default: named after the input alone). */
  outputs?: string[];
  cuts: CutsFile;
  outDir: string;
  /** Columns to write (default: all). */
  keep?: string[];
  /** Output codec (default: the input file's). */
  codec?: string;
  /** The classifier for a score cut in cuts.json (a Parquet skim then streams its batches). */
  score?: ScoreCut;
  /** The Parquet inputs' footers, read before (ParquetSource.files()): not read again. */
  footers?: ParquetFileMeta[];
  /** Stops the skim (the file being written is removed; finished ones stay) with the signal's reason. */
  signal?: AbortSignal;
}
