import { lastValueFrom } from 'rxjs';
import { parquetSink, type Codec } from '../sinks/parquetSink.js';
import { DEFAULT_ROOT_BATCH_ROWS } from '../sources/rootDefaults.js';
import { inputAt } from '../sources/expandInputs.js';
import { rootSource } from '../sources/rootSource.js';
import type { ColumnType } from '../sources/types.js';

export interface ConvertOptions {
  tree?: string;
  /** Branches or quantities (count(x), first(x), abs(x)); default every readable branch. */
  branches?: string[];
  codec?: Codec;
  batchRows?: number;
}

export interface ConvertResult {
  rows: number;
  columns: number;
  bytesIn: number;
  bytesOut: number;
  /** Branches left out because diffskim cannot read them (strings, ...), when no branch list was given. */
  skipped: ColumnType[];
}

/** Stream ROOT files (one TTree each) into one Parquet file, written to a temp name then renamed. */
export async function convertRootToParquet(
  inputs: string[],
  out: string,
  opts: ConvertOptions = {},
): Promise<ConvertResult> {
  // Decided before any work: the Parquet file, renamed into place, would replace the input.
  const input = await inputAt(out, inputs);
  if (input) throw new Error(`${out} is the input ${input}: converting would replace it; give another output file`);
  const source = rootSource(inputs, { tree: opts.tree, branches: opts.branches });
  // The schema is passed on so that a tree without events still gives a valid file.
  const info = await source.describe();
  const schema = info.schema;
  const written = await lastValueFrom(
    source
      .batches({ batchRows: opts.batchRows ?? DEFAULT_ROOT_BATCH_ROWS })
      .pipe(parquetSink(out, { codec: opts.codec ?? 'zstd', schema })),
  );
  return {
    rows: written.rows,
    columns: schema.length,
    bytesIn: info.bytesOnDisk,
    bytesOut: written.bytes,
    skipped: info.unsupported ?? [],
  };
}
