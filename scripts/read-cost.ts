/**
 * Reading cost: the bytes this process reads (Linux /proc/self/io `rchar`: every read() and
 * pread(), page cache or not) for a training and for a skim with `skim.keep` that use 3 columns
 * (label, x, y) of a 900-column Parquet file, against the reference: the compressed bytes of those
 * 3 columns' chunks times the passes made over them, plus the footer.
 *   npx tsx scripts/read-cost.ts [ROWS=100000] [--columns 900]
 * The file is written under runs/read-cost/ once.
 */
import { existsSync, mkdirSync, openSync, readSync, closeSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { runSkim } from '../src/skim/runSkim.js';
import { parquetSource } from '../src/sources/parquet.js';
import { duckdb, sqlString } from '../src/sources/parquetDuckdb.js';
import type { EventSource } from '../src/sources/types.js';
import { initBackend } from '../src/training/backend.js';
import { trainSelection } from '../src/training/trainer.js';
import { trainingSettings } from '../src/pipeline/settings.js';
import { toyPipeline } from './science-common.js';

export const USED = ['label', 'x', 'y'];

/** A file of `columns` columns: label, x, y (signal shifted in x and y) and noise columns c3, c4, .... */
export async function writeWideFile(path: string, rows: number, columns = 900): Promise<void> {
  const noise = Array.from({ length: columns - 3 }, (_, k) => `random()::FLOAT AS c${k + 3}`).join(', ');
  const con = await (await duckdb()).connect();
  try {
    await con.run(`SELECT setseed(0.5)`);
    await con.run(`COPY (SELECT (i % 2)::INTEGER AS label, (random() + (i % 2) * 0.5)::FLOAT AS x,
        (random() + (i % 2) * 0.3)::FLOAT AS y, ${noise} FROM range(${rows}) t(i))
      TO ${sqlString(path)} (FORMAT parquet, ROW_GROUP_SIZE ${Math.ceil(rows / 4)})`);
  } finally {
    con.closeSync();
  }
}

/** Bytes read by this process so far (rchar), or null where /proc/self/io is not there. */
export function bytesRead(): number | null {
  if (!existsSync('/proc/self/io')) return null;
  return Number(/rchar: (\d+)/.exec(readFileSync('/proc/self/io', 'utf8'))![1]);
}

export interface FileBytes {
  file: number;
  footer: number;
  /** Compressed bytes of the used columns' chunks, and of all the others'. */
  used: number;
  others: number;
}

export async function fileBytes(path: string): Promise<FileBytes> {
  const file = statSync(path).size;
  const tail = Buffer.alloc(8);
  const fd = openSync(path, 'r');
  readSync(fd, tail, 0, 8, file - 8);
  closeSync(fd);
  const con = await (await duckdb()).connect();
  try {
    const rows = (
      await con.runAndReadAll(`SELECT path_in_schema AS name, sum(total_compressed_size)::BIGINT AS bytes
        FROM parquet_metadata(${sqlString(path)}) GROUP BY name`)
    ).getRowObjectsJson() as { name: string; bytes: string }[];
    const sum = (used: boolean) =>
      rows.filter((r) => USED.includes(r.name) === used).reduce((s, r) => s + Number(r.bytes), 0);
    return { file, footer: tail.readUInt32LE(0) + 8, used: sum(true), others: sum(false) };
  } finally {
    con.closeSync();
  }
}

export interface ReadCost {
  /** Bytes read, and passes made over the data (each reads the used columns once). */
  read: number;
  passes: number;
}

/** Bytes read by a training (cuts on x and y, classifier on x, y; label) on the 3 columns. */
export async function trainingCost(path: string, epochs = 2): Promise<ReadCost> {
  await initBackend('auto');
  const pipeline = toyPipeline({
    source: { kind: 'parquet', paths: [path] },
    weight: undefined,
    training: { epochs, batchSize: 2000, seed: 1 },
    skim: { keep: USED },
    model: { kind: 'cuts-x-mlp', hidden: [4] },
  });
  const plain = parquetSource([path]);
  let passes = 0;
  const source: EventSource = { ...plain, batches: (o) => (passes++, plain.batches(o)) };
  const info = await plain.describe();
  const before = bytesRead()!;
  await trainSelection({ settings: trainingSettings(pipeline, info), source, info });
  return { read: bytesRead()! - before, passes };
}

/** Bytes read by an in-engine skim keeping the 3 columns, with cuts on x and y. */
export async function skimCost(path: string, outDir: string): Promise<ReadCost> {
  const cuts = {
    cuts: [
      { column: 'x', op: '>' as const, value: 0.4 },
      { column: 'abs(y - 0.5)', op: '<' as const, value: 0.45 },
    ],
    score: null,
  };
  const before = bytesRead()!;
  const r = await runSkim({ inputs: [path], cuts, outDir, keep: USED });
  if (r.eventsIn !== r.eventsKept + r.eventsCut) throw new Error('events in != kept + cut');
  return { read: bytesRead()! - before, passes: 1 };
}

/** The events of a file, read once through the source (a warm-up: modules loaded, DuckDB started). */
export async function warmUp(path: string): Promise<void> {
  await lastValueFrom(
    parquetSource([path])
      .batches({ columns: ['x'] })
      .pipe(toArray()),
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const c = args.indexOf('--columns');
  const columns = c >= 0 ? Number(args.splice(c, 2)[1]) : 900;
  const rows = Number(args[0] ?? 100_000);
  if (bytesRead() === null) throw new Error('needs Linux /proc/self/io');
  const dir = resolve('runs/read-cost');
  mkdirSync(dir, { recursive: true });
  const path = join(dir, `wide-${columns}-${rows}.parquet`);
  if (!existsSync(path)) await writeWideFile(path, rows, columns);
  await warmUp(path);
  const bytes = await fileBytes(path);
  const mb = (n: number) => `${(n / 1e6).toFixed(2)} MB`;
  console.log(`file: ${columns} columns, ${rows} rows, ${mb(bytes.file)}; footer ${mb(bytes.footer)}`);
  console.log(
    `chunks of ${USED.join(', ')}: ${mb(bytes.used)}; of the other ${columns - 3} columns: ${mb(bytes.others)}`,
  );
  const report = (what: string, cost: ReadCost) => {
    const reference = cost.passes * bytes.used;
    const rest = cost.read - reference;
    console.log(
      `${what}: read ${mb(cost.read)} in ${cost.passes} passes; reference (passes x chunks) ${mb(reference)}; ` +
        `ratio ${(cost.read / reference).toFixed(2)}; beyond it ${mb(rest)} = ${(rest / bytes.footer).toFixed(1)} footers, ` +
        `${((100 * rest) / bytes.others).toFixed(2)} % of the other columns`,
    );
  };
  report('training', await trainingCost(path));
  report('skim (keep 3)', await skimCost(path, join(dir, `skim-${process.pid}`)));
}
