/**
 * Throughput and memory of reading, train-input streaming and skimming a generated HEP file,
 * against DuckDB's own COPY ... WHERE (threads=1 and default), each case in a child process so
 * that its peak RSS is its own:
 *   npx tsx scripts/bench-skim.ts [N=2000000] [N2 ...] [--repeat 3]
 * Each case runs `repeat` times; the medians of its time and of its peak RSS are printed, and with
 * two or more sizes, each case's peak RSS at the largest size against the smallest.
 * One case, traced: BENCH_TRACE=<ms> [BENCH_SET='SET threads = 1'] npx tsx scripts/bench-skim.ts --case skim FILE OUTDIR
 * prints memory every <ms> (RSS, V8 heap, external, ArrayBuffers, parquet-wasm's linear memory)
 * on stderr; BENCH_SET runs one DuckDB statement on the shared instance first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, reduce } from 'rxjs';
import { DuckDBInstance } from '@duckdb/node-api';
import { wasmMemory } from 'parquet-wasm';
import { cutsToSql, type CutsFile } from '../src/selection/cutsFile.js';
import { runSkim } from '../src/skim/runSkim.js';
import { parquetSource } from '../src/sources/parquet.js';
import { duckdb, sqlString } from '../src/sources/parquetDuckdb.js';
import { generateHep } from './gen-hep.js';

const CUTS: CutsFile = {
  cuts: [
    { column: 'lep1_pt', op: '>', value: 30 },
    { column: 'abs(lep1_eta)', op: '<', value: 2 },
    { column: 'count(jet_pt)', op: '>', value: 1 },
  ],
  score: null,
};
const CASES = ['read-all', 'train-4col', 'skim', 'skim-streaming', 'duckdb-copy-1thread', 'duckdb-copy'] as const;
type Case = (typeof CASES)[number];

/** Runs one case in this process; returns events processed. */
async function runCase(c: Case, file: string, outDir: string): Promise<number> {
  const count = (cols?: string[]) =>
    lastValueFrom(
      parquetSource([file])
        .batches({ columns: cols })
        .pipe(reduce((n, b) => n + b.length, 0)),
    );
  switch (c) {
    case 'read-all':
      return count();
    case 'train-4col':
      return count(['lep1_pt', 'lep2_pt', 'met', 'ht']);
    case 'skim':
      return (await runSkim({ inputs: [file], cuts: CUTS, outDir })).eventsIn;
    case 'skim-streaming': {
      // A pass-through score forces the batch path: parquetSource -> hardCut -> parquetSink.
      const score = { fn: (b: { length: number }) => new Float32Array(b.length).fill(1), threshold: 0.5 };
      return (await runSkim({ inputs: [file], cuts: CUTS, outDir, score })).eventsIn;
    }
    case 'duckdb-copy-1thread':
    case 'duckdb-copy': {
      // The reference is DuckDB as a user runs it: a fresh instance with its default settings.
      const con = await (await DuckDBInstance.create(':memory:')).connect();
      if (c === 'duckdb-copy-1thread') await con.run('SET threads = 1');
      const rows = Number(
        (await con.runAndReadAll(`SELECT num_rows FROM parquet_file_metadata(${sqlString(file)})`)).getRows()[0][0],
      );
      await con.run(
        `COPY (SELECT * FROM read_parquet(${sqlString(file)}) WHERE ${cutsToSql(CUTS.cuts)}) TO ${sqlString(join(outDir, 'duckdb.parquet'))} (FORMAT parquet, COMPRESSION snappy)`,
      );
      con.closeSync();
      return rows;
    }
  }
}

async function child(c: Case, file: string, outDir: string): Promise<void> {
  const t = performance.now();
  const mb = (n: number) => Math.round(n / 1e6);
  const trace = process.env.BENCH_TRACE
    ? setInterval(
        () => {
          const m = process.memoryUsage();
          console.error(
            `${((performance.now() - t) / 1000).toFixed(1)}s rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} wasm ${mb(wasmMemory().buffer.byteLength)}`,
          );
        },
        Number(process.env.BENCH_TRACE) || 1000,
      ).unref()
    : undefined;
  if (process.env.BENCH_SET) {
    const con = await (await duckdb()).connect();
    await con.run(process.env.BENCH_SET);
    con.closeSync();
  }
  // RSS every 50 ms: memory that grew with the events read would peak higher in the second half.
  const samples: { t: number; rss: number }[] = [];
  const sampler = setInterval(() => samples.push({ t: performance.now(), rss: process.memoryUsage().rss / 1e6 }), 50);
  const events = await runCase(c, file, outDir);
  const end = performance.now();
  const seconds = (end - t) / 1000;
  clearInterval(trace);
  clearInterval(sampler);
  const peakOf = (from: number, to: number) =>
    Math.max(0, ...samples.filter((s) => s.t >= from && s.t < to).map((s) => s.rss));
  const mid = (t + end) / 2;
  console.log(
    JSON.stringify({
      events,
      seconds,
      maxRssMB: process.resourceUsage().maxRSS / 1024,
      firstHalfMB: peakOf(t, mid),
      secondHalfMB: peakOf(mid, end + 1),
    }),
  );
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

async function main(sizes: number[], repeat: number): Promise<void> {
  // Per size: each case's median peak RSS, and its second-half / first-half peak within a run.
  const memory: { peak: Partial<Record<Case, number>>; halves: Partial<Record<Case, number>> }[] = [];
  const dir = join('data', 'generated');
  mkdirSync(dir, { recursive: true });
  for (const n of sizes) {
    const file = join(dir, `hep-${n}.parquet`);
    if (!existsSync(file)) await generateHep(file, n);
    const mb = statSync(file).size / 1e6;
    console.log(`\n${n} events, ${mb.toFixed(1)} MB (${file})`);
    console.log('case                  seconds   Mevents/s   MB/s   peak RSS MB');
    const times: Partial<Record<Case, number>> = {};
    const peak: Partial<Record<Case, number>> = {};
    const halves: Partial<Record<Case, number>> = {};
    for (const c of CASES) {
      const outDir = join(dir, `bench-out-${c}`);
      const runs: { events: number; seconds: number; maxRssMB: number; firstHalfMB: number; secondHalfMB: number }[] =
        [];
      for (let k = 0; k < repeat; k++) {
        rmSync(outDir, { recursive: true, force: true });
        mkdirSync(outDir, { recursive: true });
        const out = execFileSync('npx', ['tsx', 'scripts/bench-skim.ts', '--case', c, file, outDir], {
          encoding: 'utf8',
        });
        runs.push(JSON.parse(out.trim().split('\n').pop()!));
      }
      const seconds = median(runs.map((r) => r.seconds));
      times[c] = seconds;
      peak[c] = median(runs.map((r) => r.maxRssMB));
      // A run shorter than two 50 ms samples has no halves to compare.
      const split = runs.filter((r) => r.firstHalfMB > 0 && r.secondHalfMB > 0);
      if (split.length) halves[c] = median(split.map((r) => r.secondHalfMB / r.firstHalfMB));
      console.log(
        `${c.padEnd(20)} ${seconds.toFixed(2).padStart(8)} ${(runs[0].events / seconds / 1e6).toFixed(2).padStart(11)} ${(mb / seconds).toFixed(0).padStart(6)} ${peak[c]!.toFixed(0).padStart(13)}`,
      );
      rmSync(outDir, { recursive: true, force: true });
    }
    memory.push({ peak, halves });
    for (const c of ['skim', 'skim-streaming'] as const)
      console.log(
        `${c} / duckdb COPY: ${(times[c]! / times['duckdb-copy-1thread']!).toFixed(2)} (threads=1), ${(times[c]! / times['duckdb-copy']!).toFixed(2)} (default threads)`,
      );
  }
  if (sizes.length < 2) return;
  console.log(
    `\npeak RSS at ${sizes.at(-1)} events / at ${sizes[0]} events (target <= 1.10), and within the ${sizes.at(-1)}-event run, second half / first half (medians of ${repeat}):`,
  );
  const [smallest, largest] = [memory[0], memory.at(-1)!];
  for (const c of CASES)
    console.log(
      `  ${c.padEnd(20)} ${(largest.peak[c]! / smallest.peak[c]!).toFixed(2)}   ${largest.halves[c]?.toFixed(2) ?? '-'}`,
    );
}

const args = process.argv.slice(2);
if (args[0] === '--case') await child(args[1] as Case, args[2], args[3]);
else {
  const r = args.indexOf('--repeat');
  const repeat = r >= 0 ? Number(args.splice(r, 2)[1]) : 3;
  await main(args.length ? args.map(Number) : [2_000_000], repeat);
}
