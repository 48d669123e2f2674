import type { Command } from 'commander';
import { lastValueFrom } from 'rxjs';
import { parquetSink, parseCodec, type Codec } from '../../sinks/parquetSink.js';
import { expandInputs } from '../../sources/expandInputs.js';
import { DEFAULT_ROOT_BATCH_ROWS, rootSource } from '../../sources/rootSource.js';
import { type ColumnType, columnList } from '../../sources/types.js';
import { formatBytes } from '../../util/formatBytes.js';

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
export async function convertRootToParquet(inputs: string[], out: string, opts: ConvertOptions = {}): Promise<ConvertResult> {
  const source = rootSource(inputs, { tree: opts.tree, branches: opts.branches });
  // The schema is passed on so that a tree without events still gives a valid file.
  const info = await source.describe();
  const schema = info.schema;
  const written = await lastValueFrom(
    source.batches({ batchRows: opts.batchRows ?? DEFAULT_ROOT_BATCH_ROWS }).pipe(parquetSink(out, { codec: opts.codec ?? 'zstd', schema })),
  );
  return { rows: written.rows, columns: schema.length, bytesIn: info.bytesOnDisk, bytesOut: written.bytes, skipped: info.unsupported ?? [] };
}

export function register(program: Command): void {
  program
    .command('convert')
    .description('convert a ROOT TTree to Parquet: numeric branches as columns, jagged branches (Jet_pt[nJet]) as lists')
    .argument('<input>', 'ROOT file, directory of .root files, or glob')
    .argument('<output>', 'Parquet file to write')
    .option('--tree <name>', 'tree to read, dir/tree for one in a directory (default: the only tree, else Events)')
    .option('--branches <list>', 'comma-separated branches or quantities such as count(Jet_pt), first(Jet_pt) (default: every readable branch)')
    .option('--codec <codec>', 'Parquet compression', 'zstd')
    .option('--batch-rows <n>', 'events per batch / row group', String(DEFAULT_ROOT_BATCH_ROWS))
    .action(async (input: string, output: string, o: { tree?: string; branches?: string; codec: string; batchRows: string }) => {
      const batchRows = Number(o.batchRows);
      if (!Number.isInteger(batchRows) || batchRows <= 0) throw new Error(`--batch-rows must be a positive integer, got '${o.batchRows}'`);
      const branches = o.branches
        ?.split(/,(?![^(]*\))/)
        .map((s) => s.trim())
        .filter(Boolean);
      const t0 = performance.now();
      const inputs = (await expandInputs([input], process.cwd(), 'root')).map((f) => f.path);
      const r = await convertRootToParquet(inputs, output, { tree: o.tree, branches, codec: parseCodec(o.codec), batchRows });
      const s = (performance.now() - t0) / 1000;
      process.stdout.write(
        `${output}: ${r.rows} events, ${r.columns} columns, ${formatBytes(r.bytesOut)} Parquet from ${formatBytes(r.bytesIn)} ROOT (${(r.rows / s).toFixed(0)} events/s)\n`,
      );
      if (r.skipped.length) process.stdout.write(`skipped branches diffskim cannot read: ${columnList(r.skipped)}\n`);
    });
}
