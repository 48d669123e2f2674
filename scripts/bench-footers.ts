/**
 * Opening a dataset of many files: a Parquet source's footer reads (parquetSource(files).files(),
 * several at a time) against reading the same footers one by one, alternately, in one process:
 *   npx tsx scripts/bench-footers.ts [FILES=400] [--repeat 3]
 * The files are small slices of a generated HEP-like file, written once under runs/bench-footers/.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parquetSource } from '../src/sources/parquet.js';
import { duckdb, sqlString } from '../src/sources/parquetDuckdb.js';
import { readParquetMeta } from '../src/sources/parquetMeta.js';
import { generateHep } from './gen-hep.js';

const args = process.argv.slice(2);
const r = args.indexOf('--repeat');
const repeat = r >= 0 ? Number(args.splice(r, 2)[1]) : 3;
const n = Number(args[0] ?? 400);

const dir = resolve('runs/bench-footers');
mkdirSync(dir, { recursive: true });
const source = join(dir, 'hep-20000.parquet');
if (!existsSync(source)) await generateHep(source, 20_000);
const files = Array.from({ length: n }, (_, i) => join(dir, `part-${i}.parquet`));
const con = await (await duckdb()).connect();
for (const f of files)
  if (!existsSync(f))
    await con.run(
      `COPY (SELECT * FROM read_parquet(${sqlString(source)}) LIMIT 1000) TO ${sqlString(f)} (FORMAT parquet)`,
    );

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const timed = async (run: () => Promise<unknown>) => {
  const t0 = performance.now();
  await run();
  return performance.now() - t0;
};
const atOnce: number[] = [];
const oneByOne: number[] = [];
for (let k = 0; k < repeat; k++) {
  atOnce.push(await timed(() => parquetSource(files).files()));
  oneByOne.push(
    await timed(async () => {
      for (const f of files) await readParquetMeta(f);
    }),
  );
  console.log(
    `pass ${k + 1}: source ${(atOnce[k] / n).toFixed(2)} ms per file, one by one ${(oneByOne[k] / n).toFixed(2)} ms per file`,
  );
}
console.log(
  `${n} files: the source opens them ${(median(oneByOne) / median(atOnce)).toFixed(2)}x as fast as reading footers one by one (medians of ${repeat})`,
);
