import { mkdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { tap } from 'rxjs';
import { bytesPerValue, type DType } from '../batch/schema.js';
import { cutColumns, cutsToSql, type CutsFile } from '../selection/cutsFile.js';
import { parseCodec, type Codec } from '../sinks/parquetSink.js';
import { parquetSource, plannedFileBatches } from '../sources/parquet.js';
import { columnSqlOf, selectAs } from '../sources/parquetColumns.js';
import { caseTwins, duckdbTarget, readParquet, withConnection } from '../sources/parquetDuckdb.js';
import { checkUnchanged, type ChunkStats, type ParquetFileMeta } from '../sources/parquetMeta.js';
import { type ColumnType, ownFields, structOf } from '../sources/types.js';
import { readError } from '../sources/parquetDiagnose.js';
import { planPushDown } from '../sources/parquetPushdown.js';
import { removeStaleTempFiles, tempPathOf } from '../util/tempFiles.js';
import { InputError } from '../sources/inputError.js';
import { claim } from './claims.js';
import { outputsOf } from './outputPaths.js';
import { checkSkimColumns, columnsNotWritten } from './skimColumns.js';
import type { SkimSpec } from './spec.js';
import { SKIM_ROW_GROUP_ROWS, skimPipe } from './skimPipe.js';

/** A skim (src/skim/spec.ts) with runSkim's progress callback. */
export interface SkimOptions extends SkimSpec {
  onProgress?: (p: { file: string; eventsDone: number; eventsTotal: number }) => void;
}

export interface SkimFileResult {
  input: string;
  output: string;
  eventsIn: number;
  eventsKept: number;
  bytesIn: number;
  bytesOut: number;
}

export interface SkimResult {
  inputs: string[];
  skimFiles: string[];
  files: SkimFileResult[];
  eventsIn: number;
  eventsKept: number;
  eventsCut: number;
  /** Sum of input file sizes on disk. */
  bytesIn: number;
  /** Sum of skim file sizes on disk. */
  bytesOut: number;
  bytesSaved: number;
  /**
   * bytesSaved = bytesSavedByColumns + bytesSavedByRows + bytesSavedByEncoding. By columns: the
   * dropped columns' bytes on disk. By rows (an estimate): the kept columns' bytes times the
   * share of each file's events cut. By encoding: the rest, from the skim's own compression, row
   * groups and codec (negative when its encoding is larger); not the cuts' doing.
   */
  bytesSavedByColumns: number;
  bytesSavedByRows: number;
  bytesSavedByEncoding: number;
  rowGroupsTotal: number;
  rowGroupsSkipped: number;
  bytesNeverRead: number;
  seconds: number;
  path: 'duckdb-copy' | 'streaming';
  /** Columns of the input a streaming skim could not carry (strings, structs), left out. */
  columnsNotWritten: ColumnType[];
}

/** A skim's headline figures: what RunSkim answers and a run's report gives (with more of SkimResult each). */
export type SkimFigures = Pick<
  SkimResult,
  'inputs' | 'skimFiles' | 'eventsIn' | 'eventsKept' | 'eventsCut' | 'bytesIn' | 'bytesOut' | 'bytesSaved'
>;

/**
 * Applies cuts.json as hard cuts: one skim file per input under outDir (opts.outputs), each
 * claimed against other writers, written to a temporary name and renamed. Without a score cut
 * the whole skim runs inside DuckDB (COPY ... WHERE); with one, batches stream through hardCut
 * into the Parquet sink.
 */
export async function runSkim(opts: SkimOptions): Promise<SkimResult> {
  const t0 = performance.now();
  const metas = await footersOf(opts);
  const { names: keep, notWritten } = keptColumns(metas, opts);
  if (opts.cuts.score && !opts.score)
    throw new Error('cuts file has a score cut: runSkim needs the classifier (opts.score) to apply it');
  const outputs = outputsOf(opts).map((o) => join(opts.outDir, o));
  for (const dir of new Set(outputs.map((o) => dirname(o)))) await mkdir(dir, { recursive: true });
  const release = await lockOutputs(outputs);
  const claims: (() => Promise<void>)[] = [];
  try {
    for (const o of outputs) {
      claims.push(await claim(o, 'another skim writing this file'));
      await removeStaleTempFiles(dirname(o), basename(o)); // left by a killed earlier writer
    }
    return summarize(
      metas,
      await skimFiles(metas, outputs, keep, opts),
      keep,
      notWritten,
      opts,
      (performance.now() - t0) / 1000,
    );
  } finally {
    for (const r of claims) await r();
    release();
  }
}

/** The inputs' footers: those read before (spec.footers), or read now, their schemas checked to agree. */
async function footersOf(spec: SkimSpec): Promise<ParquetFileMeta[]> {
  const read = spec.inputs.map((p) => spec.footers?.find((m) => m.path === p));
  return read.every((m) => m !== undefined) ? read : parquetSource(spec.inputs).files();
}

/**
 * Skims in this process that write the same output files run one after the other (a server can
 * be asked for two at once): each report then describes the file it wrote.
 */
const writing = new Map<string, Promise<void>>();

async function lockOutputs(outputs: string[]): Promise<() => void> {
  let busy: Promise<void>[];
  while ((busy = outputs.flatMap((o) => writing.get(o) ?? [])).length > 0) await Promise.all(busy);
  let release!: () => void;
  const done = new Promise<void>((resolve) => (release = resolve));
  for (const o of outputs) writing.set(o, done);
  return () => {
    for (const o of outputs) if (writing.get(o) === done) writing.delete(o);
    release();
  };
}

/**
 * Whether a skim goes through the batch writer: with a score cut, or when it keeps two columns
 * differing only by case, which DuckDB's writer cannot (it writes the second as '<name>_1';
 * keptColumns refused such a skim if it keeps a column the batch writer cannot carry).
 */
function streamsBatches(keep: string[], opts: SkimOptions): boolean {
  return opts.score !== undefined || caseTwins(keep) !== null;
}

async function skimFiles(
  metas: ParquetFileMeta[],
  outputs: string[],
  keep: string[],
  opts: SkimOptions,
): Promise<SkimFileResult[]> {
  const eventsTotal = metas.reduce((s, m) => s + m.rows, 0);
  let eventsDone = 0;
  const files: SkimFileResult[] = [];
  const streaming = streamsBatches(keep, opts);
  for (const [i, meta] of metas.entries()) {
    opts.signal?.throwIfAborted();
    const codec = parseCodec(opts.codec ?? meta.codec ?? 'snappy');
    const progress = (n: number) => opts.onProgress?.({ file: meta.path, eventsDone: eventsDone + n, eventsTotal });
    const kept = streaming
      ? await streamSkim(meta, outputs[i], keep, opts, codec, progress)
      : await copySkim(meta, outputs[i], keep, opts.cuts, codec, opts.signal);
    eventsDone += meta.rows;
    progress(0);
    files.push({
      input: meta.path,
      output: outputs[i],
      eventsIn: meta.rows,
      eventsKept: kept,
      bytesIn: meta.bytes,
      bytesOut: (await stat(outputs[i])).size,
    });
  }
  return files;
}

/**
 * The columns a skim writes: `keep`, checked, or by default every column it can carry (those of
 * the first file); and the columns a streaming skim leaves out.
 */
export function keptColumns(
  metas: ParquetFileMeta[],
  spec: Pick<SkimSpec, 'keep' | 'cuts' | 'score'>,
): { names: string[]; notWritten: ColumnType[] } {
  const [first] = metas;
  const { keep } = spec;
  const streaming = spec.score !== undefined;
  // Columns diffskim does not read (strings, structs) need not agree between inputs (their
  // schemas do agree on the others).
  const unsupported = [...new Map(metas.flatMap((m) => m.unsupported).map((u) => [u.name, u])).values()];
  const unreadableFields = first.unreadableLeaves;
  checkSkimColumns(first.path, { schema: first.schema, unsupported, unreadableFields }, spec, streaming);
  // By default the first file's own columns. A column named twice is written once (DuckDB would
  // write the second as 'x_1').
  const names = keep
    ? [...new Set(keep)]
    : streaming
      ? ownFields(first.schema, unsupported).map((f) => f.name)
      : first.columns;
  // Twins go through the batch writer (skimFiles), which cannot carry strings and structs.
  const twins = streaming ? null : caseTwins(names);
  const other = twins && unsupported.find((u) => names.includes(u.name));
  if (other) {
    const [a, b] = twins;
    throw new InputError(
      'incompatible',
      `${first.path}: columns '${a}' and '${b}' differ only by case, which DuckDB's Parquet writer cannot keep apart ` +
        `(it writes '${b}_1'), and column '${other.name}' (${other.type}) can be skimmed by it only; ` +
        'leave one of the three out (--keep) or rename one of the two',
    );
  }
  // DuckDB's skim copies string and struct columns as they are: each one kept must be in every
  // input, and by default it keeps every column, so the inputs must have the same ones.
  if (!streaming)
    for (const m of metas) {
      const missing = names.find((n) => !m.columns.includes(n));
      if (missing)
        throw new InputError(
          'incompatible',
          `${m.path}: no column '${missing}', which ${first.path} has; name the columns to keep (--keep)`,
        );
      const extra = keep ? undefined : m.columns.find((c) => !first.columns.includes(c));
      if (extra)
        throw new InputError(
          'incompatible',
          `${m.path} has a column '${extra}' that ${first.path} lacks; name the columns to keep (--keep)`,
        );
    }
  return { names, notWritten: streaming ? columnsNotWritten(unsupported, keep) : [] };
}

/** Mean in-memory bytes per event of these columns (a list column: its mean length, plus an offset). */
function bytesPerEvent(meta: ParquetFileMeta, columns: string[]): number {
  let bytes = 0;
  for (const name of columns) {
    const f = meta.schema.find((x) => x.name === name);
    const sum = (of: (c: ChunkStats) => number) =>
      meta.rowGroups.reduce((s, g) => s + (g.columns[name] ? of(g.columns[name]) : 0), 0);
    // A column diffskim does not read (a string, a struct): its size decoded, as the footer gives it.
    if (!f) bytes += sum((c) => c.uncompressedBytes) / Math.max(1, meta.rows);
    else
      bytes += f.list
        ? bytesPerValue(f.type) * (sum((c) => c.values) / Math.max(1, meta.rows)) + 4
        : bytesPerValue(f.type);
  }
  return bytes;
}

/**
 * DuckDB's memory limit for the in-engine skim, in MB. DuckDB holds the row groups its threads
 * finish out of order until they can be written in order, up to its memory limit (by default
 * 80 % of the machine's RAM): a 20 M-event skim of the toy (63 % kept) grew linearly to 550 MB
 * RSS. With a limit the threads wait instead, no slower (measured: 225 MB, same time). The limit
 * leaves room for 16 output row groups, and for each of DuckDB's threads to hold one of the
 * file's largest row groups read and kept whole (DuckDB writes each input row group's output as
 * one unit: a skim of one 8 M-event row group failed under 256 MB and ran under 640 MB).
 */
export function copyMemoryLimitMB(meta: ParquetFileMeta, keep: string[], read: string[], threads: number): number {
  const kept = bytesPerEvent(meta, keep);
  const largestRowGroup = Math.max(0, ...meta.rowGroups.map((g) => g.rows));
  const bytes = Math.max(
    16 * SKIM_ROW_GROUP_ROWS * kept,
    threads * largestRowGroup * (kept + bytesPerEvent(meta, read)),
  );
  return Math.max(256, Math.ceil(bytes / 2 ** 20));
}

/**
 * DuckDB's Parquet writer for a skim. Its V2 writer picks the encoding per column (dictionaries
 * for flags and counts, delta for event numbers, byte-stream-split for floats): measured 16 %
 * smaller than V1 on the HEP-like file, as fast, and read by DuckDB, Arrow and hyparquet, except
 * that for a 32-bit integer column whose neighbouring values differ by 2^31 or more (hashes,
 * seeds, bit masks) it writes 64-bit deltas, which Arrow refuses. V1 then, where the footer's
 * statistics do not rule that out.
 */
function parquetVersion(meta: ParquetFileMeta, keep: string[]): 'V1' | 'V2' {
  const int32 = new Set<DType>(['int8', 'int16', 'int32', 'uint8', 'uint16', 'uint32']);
  // A struct is written whole: its leaves count (this file's own, by their own statistics).
  const written = [
    ...meta.schema.filter((x) => keep.includes(x.name)),
    ...meta.leaves.filter((l) => keep.includes(l.column)).map((l) => l.field),
  ];
  for (const f of written.filter((x) => int32.has(x.type))) {
    const stats = meta.rowGroups.map((g) => g.columns[f.name]);
    if (stats.some((c) => c?.min == null || c?.max == null)) return 'V1';
    const lo = Math.min(...stats.map((c) => c!.min!));
    const hi = Math.max(...stats.map((c) => c!.max!));
    if (hi - lo >= 2 ** 31) return 'V1';
  }
  return 'V2';
}

/** The in-engine skim: DuckDB reads, cuts (skipping row groups) and writes in one statement. */
async function copySkim(
  meta: ParquetFileMeta,
  output: string,
  keep: string[],
  cuts: CutsFile,
  codec: Codec,
  signal?: AbortSignal,
): Promise<number> {
  const tmp = tempPathOf(output);
  const columnSql = columnSqlOf(meta);
  const select = keep.map((c) => selectAs(columnSql(c), c)).join(', ');
  const read = [...new Set([...keep, ...cutColumns(cuts)])];
  const where = cutsToSql(cuts.cuts, columnSql, meta.schema);
  const sql = `COPY (SELECT ${select} FROM ${readParquet(meta.path)} WHERE ${where})
    TO ${duckdbTarget(tmp)} (FORMAT parquet, COMPRESSION ${codec}, ROW_GROUP_SIZE ${SKIM_ROW_GROUP_ROWS}, PARQUET_VERSION ${parquetVersion(meta, keep)})`;
  try {
    await checkUnchanged(meta);
    const kept = await withConnection(async (con) => {
      const threads = Number((await con.runAndReadAll(`SELECT current_setting('threads')`)).getRows()[0][0]);
      // A global setting: a skim running at the same time may reset it early, and then only uses more memory.
      await con.run(`SET memory_limit = '${copyMemoryLimitMB(meta, keep, read, threads)}MB'`);
      const interrupt = () => con.interrupt();
      signal?.addEventListener('abort', interrupt);
      try {
        return (await con.run(sql)).rowsChanged;
      } finally {
        signal?.removeEventListener('abort', interrupt);
        await con.run('RESET memory_limit').catch(() => undefined); // never hides the COPY's own error
      }
    });
    signal?.throwIfAborted();
    await checkUnchanged(meta); // a file rewritten during the COPY: its skim is not trusted
    await rename(tmp, output);
    return kept;
  } catch (e) {
    await rm(tmp, { force: true });
    signal?.throwIfAborted();
    throw await readError(meta, e, `skim to ${output}`, read);
  }
}

/** The batch skim: the planned file's batches (hard cuts pushed down) -> hardCut (score, if any) -> parquetSink. */
async function streamSkim(
  meta: ParquetFileMeta,
  output: string,
  keep: string[],
  opts: SkimOptions,
  codec: Codec,
  progress: (n: number) => void,
): Promise<number> {
  const written = await skimPipe({
    read: (options) => plannedFileBatches(meta, options),
    columns: [...new Set([...keep, ...(opts.score?.columns ?? [])])],
    where: opts.cuts.cuts,
    batchRows: SKIM_ROW_GROUP_ROWS,
    cuts: [],
    score: opts.score,
    keep,
    schema: keep.map((k) => meta.schema.find((f) => f.name === k)!),
    output,
    codec,
    signal: opts.signal, // the sink then removes its temporary file
    watch: tap((b) => progress(b.origin?.firstRow ?? 0)),
  });
  return written.rows;
}

function summarize(
  metas: ParquetFileMeta[],
  files: SkimFileResult[],
  keep: string[],
  notWritten: ColumnType[],
  opts: SkimOptions,
  seconds: number,
): SkimResult {
  const kept = new Set(keep);
  let bytesSavedByColumns = 0;
  // (A struct's leaves are in its bytes.)
  for (const m of metas)
    for (const g of m.rowGroups)
      for (const [name, c] of Object.entries(g.columns))
        if (!kept.has(name) && !structOf(m.unsupported, name)) bytesSavedByColumns += c.compressedBytes;
  const read = [...new Set([...keep, ...cutColumns(opts.cuts), ...(opts.score?.columns ?? [])])];
  const push = planPushDown(metas, opts.cuts.cuts, read);
  return skimTotals(files, {
    bytesSavedByColumns,
    ...push,
    seconds,
    path: streamsBatches(keep, opts) ? 'streaming' : 'duckdb-copy',
    columnsNotWritten: notWritten,
  });
}

/** A SkimResult from its per-file results: the counts and bytes are their sums, so they always add up. */
export function skimTotals(
  files: SkimFileResult[],
  rest: Pick<
    SkimResult,
    'bytesSavedByColumns' | 'rowGroupsTotal' | 'rowGroupsSkipped' | 'bytesNeverRead' | 'seconds' | 'path'
  > & { columnsNotWritten?: ColumnType[] },
): SkimResult {
  const sum = (f: (x: SkimFileResult) => number) => files.reduce((s, x) => s + f(x), 0);
  const eventsIn = sum((f) => f.eventsIn);
  const eventsKept = sum((f) => f.eventsKept);
  const bytesIn = sum((f) => f.bytesIn);
  const bytesOut = sum((f) => f.bytesOut);
  const keptShare = bytesIn > 0 ? Math.min(1, Math.max(0, 1 - rest.bytesSavedByColumns / bytesIn)) : 0;
  const bytesSavedByRows = Math.round(
    sum((f) => (f.eventsIn > 0 ? f.bytesIn * keptShare * (1 - f.eventsKept / f.eventsIn) : 0)),
  );
  return {
    inputs: files.map((f) => f.input),
    skimFiles: files.map((f) => f.output),
    files,
    eventsIn,
    eventsKept,
    eventsCut: eventsIn - eventsKept,
    bytesIn,
    bytesOut,
    bytesSaved: bytesIn - bytesOut,
    bytesSavedByRows,
    bytesSavedByEncoding: bytesIn - bytesOut - rest.bytesSavedByColumns - bytesSavedByRows,
    ...rest,
    columnsNotWritten: rest.columnsNotWritten ?? [],
  };
}

/** Several skims (one per sample) as one: their files together, counts and bytes summed. */
export function sumSkims(results: SkimResult[]): SkimResult {
  if (results.length === 1) return results[0];
  const sum = (f: (r: SkimResult) => number) => results.reduce((s, r) => s + f(r), 0);
  const notWritten = new Map(results.flatMap((r) => r.columnsNotWritten).map((c) => [c.name, c]));
  return skimTotals(
    results.flatMap((r) => r.files),
    {
      bytesSavedByColumns: sum((r) => r.bytesSavedByColumns),
      rowGroupsTotal: sum((r) => r.rowGroupsTotal),
      rowGroupsSkipped: sum((r) => r.rowGroupsSkipped),
      bytesNeverRead: sum((r) => r.bytesNeverRead),
      seconds: sum((r) => r.seconds),
      path: results.some((r) => r.path === 'streaming') ? 'streaming' : 'duckdb-copy',
      columnsNotWritten: [...notWritten.values()],
    },
  );
}
