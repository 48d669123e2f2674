import type { EventBatch } from '../batch/batch.js';
import { loadModel } from '../model/io.js';
import type { SelectionModel } from '../model/model.js';
import { mlpScore, scoreBatch } from '../model/score.js';
import { compileExpr } from '../selection/expr/index.js';
import { skimWithResume } from '../skim/resume.js';
import { parquetSource } from '../sources/parquet.js';
import { rootSource } from '../sources/rootSource.js';
import type { EventSource } from '../sources/types.js';
import { invalidArgument } from './errors.js';
import type { Scorer } from './evaluate.js';
import type { ServerOptions } from './server.js';

/** Parquet files through DuckDB, ROOT files through jsroot (tree 'Events' or the only tree), each read as named. */
function openLocalSource(files: string[]): EventSource {
  const kinds = new Set(files.map((f) => (f.toLowerCase().endsWith('.root') ? 'root' : 'parquet')));
  if (kinds.size > 1) throw invalidArgument('inputs mix ROOT and Parquet files; ask for one kind per call');
  if (!kinds.has('root')) return parquetSource(files);
  return rootSource(files);
}

/**
 * A trained model as the server uses it: Evaluate returns the model output
 * P = prod(soft cut weights) * sigmoid(MLP); a skim's score cut applies to sigmoid(MLP), the
 * learned cuts being hard cuts of their own (as in `diffskim skim`).
 */
function modelScorer(model: SelectionModel): Scorer & { classifier(batch: EventBatch): Float32Array } {
  const expressions = [...model.features, ...model.cuts.map((c) => c.column)];
  const columns = [...new Set(expressions.flatMap((c) => compileExpr(c).columns))];
  return { columns, score: (b) => scoreBatch(model, b), classifier: (b) => mlpScore(model, b) };
}

/** Everything `diffskim serve` needs to serve local files, a skim and (optionally) a model. */
export async function localServerOptions(
  modelDir?: string,
): Promise<Pick<ServerOptions, 'openSource' | 'runSkim' | 'scorer'>> {
  const scorer = modelDir ? modelScorer(await loadModel(modelDir)) : undefined;
  return {
    openSource: openLocalSource,
    // The server refuses a score cut before getting here when there is no model. As `diffskim skim`
    // does: the folder's manifest records the settings (another skim's are refused) and a
    // re-run after a failure skips the files already done.
    runSkim: async (job) => {
      const score = job.score &&
        scorer && { fn: scorer.classifier, threshold: job.score.threshold, columns: scorer.columns };
      return (await skimWithResume({ ...job, score })).result;
    },
    scorer,
  };
}
