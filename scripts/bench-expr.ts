/**
 * The expression language's two implementations on a NanoAOD-like file (scripts/gen-samples.ts,
 * ttbar): the batch evaluator's rate on batches in memory, and DuckDB running the SQL twin as a
 * skim's WHERE against the same selection written by hand, alternately, in one process:
 *   npx tsx scripts/bench-expr.ts [EVENTS=200000] [--repeat 3]
 */
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { lastValueFrom, toArray } from 'rxjs';
import { concatBatches } from '../src/batch/batch.js';
import { cutsToSql, type HardCut } from '../src/selection/cutsFile.js';
import { compileExpr, evaluate } from '../src/selection/expr/index.js';
import { parquetSource } from '../src/sources/parquet.js';
import { duckdb, sqlString } from '../src/sources/parquetDuckdb.js';
import { generateSamples } from '../src/datasets/nanoSamples.js';

const args = process.argv.slice(2);
const r = args.indexOf('--repeat');
const repeat = r >= 0 ? Number(args.splice(r, 2)[1]) : 3;
const events = Number(args[0] ?? 200_000);

const dir = resolve(`runs/bench-expr-${events}`);
const file = join(dir, 'ttbar', 'nano_1.parquet');
if (!existsSync(file)) await generateSamples(dir, { files: 1, eventsPerFile: events, seed: 2 });

// Each cut with the same selection in DuckDB's SQL by hand (lists 1-based).
const CASES: [HardCut, string][] = [
  [{ column: 'MET_pt', op: '>', value: 40 }, 'MET_pt > 40'],
  [
    { column: 'count(Jet_pt > 30 && abs(Jet_eta) < 2.4)', op: '>', value: 3.5 },
    'len(list_filter(range(1, len(Jet_pt) + 1), lambda i: Jet_pt[i] > 30 AND abs(Jet_eta[i]) < 2.4)) > 3.5',
  ],
  [
    { column: 'sum(Jet_pt[Jet_pt > 30])', op: '>', value: 300 },
    'list_sum(list_filter(Jet_pt, lambda p: p > 30)) > 300',
  ],
  [{ column: 'HLT_IsoMu24 || HLT_Ele32_WPTight_Gsf', op: '>', value: 0.5 }, 'HLT_IsoMu24 OR HLT_Ele32_WPTight_Gsf'],
  [
    { column: 'mass(Jet_pt, Jet_eta, Jet_phi, Jet_mass, 0, 1)', op: '>', value: 100 },
    `sqrt(greatest(0, (sqrt(Jet_pt[1]^2 * cosh(Jet_eta[1])^2 + Jet_mass[1]^2) + sqrt(Jet_pt[2]^2 * cosh(Jet_eta[2])^2 + Jet_mass[2]^2))^2
      - (Jet_pt[1] * cos(Jet_phi[1]) + Jet_pt[2] * cos(Jet_phi[2]))^2 - (Jet_pt[1] * sin(Jet_phi[1]) + Jet_pt[2] * sin(Jet_phi[2]))^2
      - (Jet_pt[1] * sinh(Jet_eta[1]) + Jet_pt[2] * sinh(Jet_eta[2]))^2)) > 100`,
  ],
];

const source = parquetSource([file]);
const columns = [...new Set(CASES.flatMap(([c]) => compileExpr(c.column).columns))];
const batch = concatBatches(await lastValueFrom(source.batches({ columns }).pipe(toArray())));
const con = await (await duckdb()).connect();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const timed = async (run: () => unknown) => {
  const t0 = performance.now();
  await run();
  return (performance.now() - t0) / 1000;
};
const count = async (where: string) =>
  Number(
    (await con.runAndReadAll(`SELECT count(*) FROM read_parquet(${sqlString(file)}) WHERE ${where}`)).getRows()[0][0],
  );

console.log(`${batch.length} events (${file})`);
for (const [cut, hand] of CASES) {
  const expr = compileExpr(cut.column, batch.schema);
  const twin = cutsToSql([cut], undefined, batch.schema);
  const [twinKept, handKept] = [await count(twin), await count(hand)];
  const [js, sqlTwin, sqlHand]: number[][] = [[], [], []];
  for (let k = 0; k < repeat; k++) {
    js.push(await timed(() => evaluate(expr, batch)));
    sqlTwin.push(await timed(() => count(twin)));
    sqlHand.push(await timed(() => count(hand)));
  }
  const rate = (s: number) => `${(batch.length / s / 1e6).toFixed(1)} M/s`;
  console.log(
    `${cut.column}: batch evaluator ${rate(median(js))}; DuckDB twin ${median(sqlTwin).toFixed(3)} s, ` +
      `by hand ${median(sqlHand).toFixed(3)} s (${(median(sqlTwin) / median(sqlHand)).toFixed(2)}x); ` +
      `kept ${twinKept} (by hand ${handKept})`,
  );
}
con.closeSync();
