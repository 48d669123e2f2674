/**
 * Throughput and memory of reading, train-input streaming and skimming a generated HEP file,
 * against DuckDB's own COPY ... WHERE (threads=1 and default), each case in a child process so
 * that its peak RSS is its own:
 *   npx tsx scripts/bench-skim.ts [N=2000000] [N2 ...]
 * One case, traced: BENCH_TRACE=<ms> [BENCH_SET='SET threads = 1'] npx tsx scripts/bench-skim.ts --case skim FILE OUTDIR
 * prints memory every <ms> (RSS, V8 heap, external, ArrayBuffers, parquet-wasm's linear memory)
 * on stderr; BENCH_SET runs one DuckDB statement on the shared instance first.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { lastValueFrom, reduce } from 'rxjs';
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
  const count = (cols?: string[]) => lastValueFrom(parquetSource([file]).batches({ columns: cols }).pipe(reduce((n, b) => n + b.length, 0)));
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
      const con = await (await duckdb()).connect();
      if (c === 'duckdb-copy-1thread') await con.run('SET threads = 1');
      const rows = Number((await con.runAndReadAll(`SELECT num_rows FROM parquet_file_metadata(${sqlString(file)})`)).getRows()[0][0]);
      await con.run(`COPY (SELECT * FROM read_parquet(${sqlString(file)}) WHERE ${cutsToSql(CUTS.cuts)}) TO ${sqlString(join(outDir, 'duckdb.parquet'))} (FORMAT parquet, COMPRESSION snappy)`);
      con.closeSync();
      return rows;
    }
  }
}

async function child(c: Case, file: string, outDir: string): Promise<void> {
  const t = performance.now();
  const mb = (n: number) => Math.round(n / 1e6);
  const trace = process.env.BENCH_TRACE
    ? setInterval(() => {
        const m = process.memoryUsage();
        console.error(`${((performance.now() - t) / 1000).toFixed(1)}s rss ${mb(m.rss)} heap ${mb(m.heapUsed)}/${mb(m.heapTotal)} external ${mb(m.external)} arrayBuffers ${mb(m.arrayBuffers)} wasm ${mb(wasmMemory().buffer.byteLength)}`);
      }, Number(process.env.BENCH_TRACE) || 1000).unref()
    : undefined;
  if (process.env.BENCH_SET) {
    const con = await (await duckdb()).connect();
    await con.run(process.env.BENCH_SET);
    con.closeSync();
  }
  const events = await runCase(c, file, outDir);
  const seconds = (performance.now() - t) / 1000;
  clearInterval(trace);
  console.log(JSON.stringify({ events, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
}

async function main(sizes: number[]): Promise<void> {
  const dir = join('data', 'generated');
  mkdirSync(dir, { recursive: true });
  for (const n of sizes) {
    const file = join(dir, `hep-${n}.parquet`);
    if (!existsSync(file)) await generateHep(file, n);
    const mb = statSync(file).size / 1e6;
    console.log(`\n${n} events, ${mb.toFixed(1)} MB (${file})`);
    console.log('case                  seconds   Mevents/s   MB/s   peak RSS MB');
    const times: Partial<Record<Case, number>> = {};
    for (const c of CASES) {
      const outDir = join(dir, `bench-out-${c}`);
      rmSync(outDir, { recursive: true, force: true });
      mkdirSync(outDir, { recursive: true });
      const out = execFileSync('npx', ['tsx', 'scripts/bench-skim.ts', '--case', c, file, outDir], { encoding: 'utf8' });
      const r = JSON.parse(out.trim().split('\n').pop()!) as { events: number; seconds: number; maxRssMB: number };
      times[c] = r.seconds;
      console.log(`${c.padEnd(20)} ${r.seconds.toFixed(2).padStart(8)} ${(r.events / r.seconds / 1e6).toFixed(2).padStart(11)} ${(mb / r.seconds).toFixed(0).padStart(6)} ${r.maxRssMB.toFixed(0).padStart(13)}`);
      rmSync(outDir, { recursive: true, force: true });
    }
    for (const c of ['skim', 'skim-streaming'] as const)
      console.log(`${c} / duckdb COPY: ${(times[c]! / times['duckdb-copy-1thread']!).toFixed(2)} (threads=1), ${(times[c]! / times['duckdb-copy']!).toFixed(2)} (default threads)`);
  }
}

const args = process.argv.slice(2);
if (args[0] === '--case') await child(args[1] as Case, args[2], args[3]);
else await main(args.length ? args.map(Number) : [2_000_000]);
