import type { ScoreCut } from '../operators/hardCut.js';
import { skimStream } from '../pipeline/skimStream.js';
import type { CutsFile } from '../selection/cutsFile.js';
import { rootSource, type RootSourceOptions } from '../sources/rootSource.js';
import { type SkimResult, skimTotals } from './runSkim.js';

export interface RootSkimOptions {
  inputs: string[];
  /** Each input's skim file, relative to outDir (src/skim/outputPaths.ts). */
  outputs: string[];
  cuts: CutsFile;
  outDir: string;
  keep?: string[];
  codec?: string;
  score?: ScoreCut;
  root?: RootSourceOptions;
}

/** ROOT files skimmed one by one, each streamed into its own Parquet skim file; the figures of all. */
export async function skimRootFiles(o: RootSkimOptions): Promise<SkimResult> {
  const results: SkimResult[] = [];
  for (const [i, input] of o.inputs.entries())
    results.push(await skimStream({ ...o, source: rootSource([input], o.root), inputs: [input], name: input, output: o.outputs[i] }));
  const sum = (f: (r: SkimResult) => number) => results.reduce((s, r) => s + f(r), 0);
  return skimTotals(
    results.flatMap((r) => r.files),
    {
      bytesSavedByColumns: sum((r) => r.bytesSavedByColumns),
      rowGroupsTotal: 0,
      rowGroupsSkipped: 0,
      bytesNeverRead: 0,
      seconds: sum((r) => r.seconds),
      path: 'streaming',
      columnsNotWritten: results[0]?.columnsNotWritten,
    },
  );
}
