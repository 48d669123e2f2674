/**
 * The spine's benchmark: training throughput (events/s) and skim throughput on the seed toy,
 * with the skim's time as a ratio to DuckDB's own `COPY (SELECT * ... WHERE <same cuts>)` on the
 * same file in the same run (medians of interleaved repeats), and the peak RSS of training plus
 * the first skim per input size (each size in a child process, so the figure is its own).
 *
 *   npx tsx scripts/bench-spine.ts [events=2000000] [events ...]   (total events, half signal)
 */
import { execFileSync } from 'node:child_process';
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom } from 'rxjs';
import { toyBatches } from '../src/datasets/toy.js';
import { toCutsFile } from '../src/model/toCutsFile.js';
import { PipelineSchema } from '../src/pipeline/schema.js';
import { cutsToSql } from '../src/selection/cutsFile.js';
import { parquetSink } from '../src/sinks/parquetSink.js';
import { runSkim } from '../src/skim/runSkim.js';
import { Demand } from '../src/sources/demand.js';
import { parquetSource } from '../src/sources/parquet.js';
import { sqlString } from '../src/sources/parquetDuckdb.js';
import { fromPull } from '../src/sources/parquetStream.js';
import { trainSelection } from '../src/training/trainer.js';

const DIR = 'data/generated/bench';
const REPEATS = 3;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

async function ensureToy(events: number): Promise<string> {
  const file = join(DIR, `toy2d-${events}.parquet`);
  if (existsSync(file)) return file;
  mkdirSync(DIR, { recursive: true });
  const demand = new Demand();
  const toy = { kind: 'toy2d' as const, eventsPerClass: events / 2, batchSize: 65536 };
  await lastValueFrom(
    fromPull(async function* () {
      yield* toyBatches(toy);
    }, demand).pipe(parquetSink(file, { demand })),
  );
  return file;
}

/** The reference is DuckDB as a user runs it: its own instance, default settings. */
let reference: Promise<DuckDBInstance> | undefined;

async function copySeconds(file: string, where: string, threads: number | null): Promise<number> {
  reference ??= DuckDBInstance.create(':memory:');
  const con = await (await reference).connect();
  await con.run(threads ? `SET threads = ${threads}` : 'RESET threads');
  const out = join(DIR, 'duckdb-copy.parquet');
  const t0 = performance.now();
  await con.run(
    `COPY (SELECT * FROM read_parquet(${sqlString(file)}) WHERE ${where}) TO ${sqlString(out)} (FORMAT parquet, COMPRESSION snappy)`,
  );
  const s = (performance.now() - t0) / 1000;
  rmSync(out);
  await con.run('RESET threads');
  con.closeSync();
  return s;
}

/** One size, in this process: train one epoch, skim with the learned cuts, time DuckDB. */
async function child(events: number): Promise<void> {
  const file = await ensureToy(events);
  const pipeline = PipelineSchema.parse({
    name: 'bench',
    source: { kind: 'parquet', paths: [file] },
    label: 'label',
    weight: 'weight',
    features: ['x', 'y'],
    cuts: [
      { column: 'x', op: '>' },
      { column: 'y', op: '>' },
    ],
    training: { epochs: 1, batchSize: 16384, shuffleBuffer: 65536 },
    loss: { size: { lambda: 0.3 } },
  });
  const source = parquetSource([file]);
  const info = await source.describe();
  const trained = await trainSelection({ settings: pipeline, source, info });
  const cuts = toCutsFile(trained.model, null);
  const outDir = join(DIR, `skim-${events}`);
  const where = cutsToSql(cuts.cuts);
  // Interleaved repeats, medians: the machine is shared, and the first query warms DuckDB up.
  const times: { skim: number[]; duck1: number[]; duckN: number[] } = { skim: [], duck1: [], duckN: [] };
  let peakRssMB = 0;
  for (let rep = 0; rep < REPEATS; rep++) {
    rmSync(outDir, { recursive: true, force: true });
    times.skim.push((await runSkim({ inputs: [file], cuts, outDir, codec: 'snappy' })).seconds);
    // Train + skim: the peak before DuckDB's reference runs add their own memory.
    if (rep === 0) peakRssMB = process.resourceUsage().maxRSS / 1024;
    times.duck1.push(await copySeconds(file, where, 1));
    times.duckN.push(await copySeconds(file, where, null));
  }
  const skim = { seconds: median(times.skim) };
  const duck1 = median(times.duck1);
  const duckN = median(times.duckN);
  process.stdout.write(
    JSON.stringify({
      events,
      mb: info.bytesOnDisk / 1e6,
      backend: trained.backend,
      trainEventsPerSecond: Math.round(trained.eventsPerSecond),
      skimSeconds: skim.seconds,
      skimEventsPerSecond: Math.round(events / skim.seconds),
      skimMBPerSecond: info.bytesOnDisk / 1e6 / skim.seconds,
      duckdbThreads1Seconds: duck1,
      duckdbDefaultSeconds: duckN,
      peakRssMB,
    }) + '\n',
  );
}

async function main(): Promise<void> {
  if (process.argv[2] === '--child') return child(Number(process.argv[3]));
  const sizes = process.argv.slice(2).map(Number);
  const rows = [];
  for (const events of sizes.length ? sizes : [2_000_000]) {
    const out = execFileSync(process.execPath, ['--import', 'tsx', process.argv[1], '--child', String(events)], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    rows.push(JSON.parse(out.trim().split('\n').at(-1)!));
  }
  console.log(
    'events      MB  backend  train ev/s  skim s  skim ev/s  skim MB/s  duckdb(1 thr) s  ratio  duckdb(default) s  ratio  peak RSS MB',
  );
  for (const r of rows)
    console.log(
      [
        String(r.events).padStart(9),
        r.mb.toFixed(1).padStart(6),
        r.backend.padStart(7),
        String(r.trainEventsPerSecond).padStart(10),
        r.skimSeconds.toFixed(3).padStart(7),
        String(r.skimEventsPerSecond).padStart(10),
        r.skimMBPerSecond.toFixed(1).padStart(10),
        r.duckdbThreads1Seconds.toFixed(3).padStart(16),
        (r.skimSeconds / r.duckdbThreads1Seconds).toFixed(2).padStart(6),
        r.duckdbDefaultSeconds.toFixed(3).padStart(18),
        (r.skimSeconds / r.duckdbDefaultSeconds).toFixed(2).padStart(6),
        r.peakRssMB.toFixed(0).padStart(12),
      ].join(' '),
    );
}

await main();
