import { skimStream } from './skimStream.js';
import type { SkimSpec } from './spec.js';
import { rootSource, type RootSourceOptions } from '../sources/rootSource.js';
import { type SkimResult, skimTotals } from './runSkim.js';

/** Whether a skim reads this input as a ROOT file (by its extension) rather than Parquet. */
export const isRootFile = (path: string) => /\.root$/i.test(path);

/** A skim's settings (src/skim/spec.ts), and how to read the ROOT files. */
export interface RootSkimOptions extends Omit<SkimSpec, 'inputs' | 'outputs' | 'footers'> {
  root?: RootSourceOptions;
}

/** One ROOT file streamed into its Parquet skim file (output: relative to outDir, src/skim/outputPaths.ts). */
export function skimRootFile(input: string, output: string, o: RootSkimOptions): Promise<SkimResult> {
  return skimStream({ ...o, source: rootSource([input], o.root), inputs: [input], name: input, output });
}

/** ROOT files skimmed one by one, each into its own Parquet skim file; the figures of all. */
export async function skimRootFiles(
  o: RootSkimOptions & Pick<SkimSpec, 'inputs'> & { outputs: string[] },
): Promise<SkimResult> {
  const results: SkimResult[] = [];
  for (const [i, input] of o.inputs.entries()) results.push(await skimRootFile(input, o.outputs[i], o));
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
