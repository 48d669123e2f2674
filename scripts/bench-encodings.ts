/**
 * Sizes of the skim files each writer makes, on the same events: a generated HEP-like file and
 * the seed toy, written by DuckDB's COPY with its V1 writer (its default, the reference), its V2
 * writer (the in-engine skim) and by diffskim's Parquet sink (streaming skims), all snappy:
 *   npx tsx scripts/bench-encodings.ts [N=500000]
 */
import { mkdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { from, lastValueFrom } from 'rxjs';
import { toyBatches } from '../src/datasets/toy.js';
import { parquetSink } from '../src/sinks/parquetSink.js';
import { parquetSource } from '../src/sources/parquet.js';
import { duckdb, sqlString } from '../src/sources/parquetDuckdb.js';
import { generateHep } from './gen-hep.js';

const n = Number(process.argv[2] ?? 500_000);
const dir = resolve('runs/bench-encodings');
mkdirSync(dir, { recursive: true });
const hep = join(dir, `hep-${n}.parquet`);
await generateHep(hep, n);
const toy = join(dir, 'toy2d-input.parquet');
await lastValueFrom(from(toyBatches({ kind: 'toy2d', eventsPerClass: 40_000 })).pipe(parquetSink(toy)));

const con = await (await duckdb()).connect();
const size = (f: string) => statSync(f).size / 1e6;
for (const [name, input] of [
  [`HEP-like, ${n} events`, hep],
  ['seed toy, 80000 events', toy],
] as const) {
  const out = (w: string) => join(dir, `${name.split(',')[0].replace(/\W+/g, '-')}-${w}.parquet`);
  const timed = async (w: string, write: () => Promise<unknown>) => {
    const t0 = performance.now();
    await write();
    return { w, mb: size(out(w)), s: (performance.now() - t0) / 1000 };
  };
  const copy = (version: string) => () =>
    con.run(
      `COPY (SELECT * FROM read_parquet(${sqlString(input)})) TO ${sqlString(out(version))} (FORMAT parquet, COMPRESSION snappy, ROW_GROUP_SIZE 32768, PARQUET_VERSION ${version})`,
    );
  const results = [
    await timed('V1', copy('V1')),
    await timed('V2', copy('V2')),
    await timed('sink', () =>
      lastValueFrom(
        parquetSource([input])
          .batches()
          .pipe(parquetSink(out('sink'), { rowGroupRows: 32768 })),
      ),
    ),
  ];
  console.log(name);
  const labels: Record<string, string> = {
    V1: "DuckDB COPY, V1 writer (DuckDB's default)",
    V2: 'DuckDB COPY, V2 writer (in-engine skim)',
    sink: 'diffskim Parquet sink (streaming skim)',
  };
  for (const r of results)
    console.log(
      `  ${labels[r.w].padEnd(44)} ${r.mb.toFixed(2)} MB (${(r.mb / results[0].mb).toFixed(2)} of V1), ${r.s.toFixed(2)} s`,
    );
}
con.closeSync();
