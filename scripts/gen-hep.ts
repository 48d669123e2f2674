/**
 * Writes an N-event HEP-like Parquet file with DuckDB SQL (deterministic, no JS per event):
 *   npx tsx scripts/gen-hep.ts OUT.parquet [N=2000000] [--codec snappy] [--row-group 122880]
 * Columns: run, lumi, event ids; two leptons (pt, eta, phi); met, ht, njet, jet_pt (list<float>),
 * weight and label (1 = signal: harder leptons and more jets, ~10% of events).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { withConnection, sqlString } from '../src/sources/parquetDuckdb.js';

/** Uniform in [0,1) from a hash of the event number and a stream id (reproducible, thread-safe). */
const u = (k: number | string) => `((hash(i * 64 + ${k}) % 4294967291) / 4294967291.0)`;
/** Exponential with the given mean. */
const expo = (k: number | string, mean: number) => `(-${mean} * ln(1 - ${u(k)}))`;

/** The gRPC benchmarks' N-event file, runs/bench-grpc/hep-N.parquet, written on first use. */
export async function benchHepFile(n: number): Promise<{ dir: string; name: string; file: string }> {
  const dir = resolve('runs/bench-grpc');
  mkdirSync(dir, { recursive: true });
  const name = `hep-${n}.parquet`;
  const file = join(dir, name);
  if (!existsSync(file)) {
    console.log(`writing ${file} ...`);
    await generateHep(file, n);
  }
  return { dir, name, file };
}

export async function generateHep(
  path: string,
  n: number,
  opts: { codec?: string; rowGroupRows?: number } = {},
): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  const sig = `(${u(0)} < 0.1)`;
  const sql = `COPY (
    SELECT run, lumi, event, lep1_pt, lep1_eta, lep1_phi, lep2_pt, lep2_eta, lep2_phi, met,
           list_sum(jet_pt)::FLOAT AS ht, njet, jet_pt, weight, label
    FROM (
      SELECT
        (1 + i // 1000000)::INTEGER AS run,
        (1 + (i // 1000) % 1000)::INTEGER AS lumi,
        i::BIGINT AS event,
        (CASE WHEN ${sig} THEN 25 + ${expo(1, 40)} ELSE 10 + ${expo(1, 15)} END)::FLOAT AS lep1_pt,
        (CASE WHEN ${sig} THEN 15 + ${expo(2, 25)} ELSE 5 + ${expo(2, 10)} END)::FLOAT AS lep2_pt,
        (5 * (${u(3)} - 0.5))::FLOAT AS lep1_eta,
        (5 * (${u(4)} - 0.5))::FLOAT AS lep2_eta,
        (2 * pi() * (${u(5)} - 0.5))::FLOAT AS lep1_phi,
        (2 * pi() * (${u(6)} - 0.5))::FLOAT AS lep2_phi,
        (CASE WHEN ${sig} THEN ${expo(7, 60)} ELSE ${expo(7, 25)} END)::FLOAT AS met,
        (CASE WHEN ${sig} THEN 2 + floor(5 * ${u(8)}) ELSE floor(4 * ${u(8)} * ${u(9)}) END)::INTEGER AS njet,
        [(30 + ${expo('10 + j', 50)} / (j + 1))::FLOAT FOR j IN range(njet)] AS jet_pt,
        (0.5 + ${u(11)})::FLOAT AS weight,
        ${sig}::TINYINT AS label
      FROM range(${n}) t(i)
    )
  ) TO ${sqlString(tmp)} (FORMAT parquet, COMPRESSION ${opts.codec ?? 'snappy'}, ROW_GROUP_SIZE ${opts.rowGroupRows ?? 122880})`;
  try {
    await withConnection((con) => con.run(sql));
    await rename(tmp, path);
  } catch (e) {
    await rm(tmp, { force: true });
    throw e;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const args = process.argv.slice(2);
  const flag = (name: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : undefined;
  };
  const codec = flag('--codec');
  const rowGroup = flag('--row-group');
  const [out, n = '2000000'] = args;
  if (!out) throw new Error('usage: gen-hep.ts OUT.parquet [N] [--codec c] [--row-group rows]');
  const t = performance.now();
  await generateHep(out, Number(n), { codec, rowGroupRows: rowGroup ? Number(rowGroup) : undefined });
  console.log(`wrote ${out}: ${n} events in ${((performance.now() - t) / 1000).toFixed(1)} s`);
}
