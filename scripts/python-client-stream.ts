/**
 * The Python client (clients/python) streaming an N-event file from a server in this process,
 * against DuckDB's read of the same file: events, per column sum and non-null count (a list
 * column: also the sum of its lengths), without and with cuts; and the seconds each took.
 *   npx tsx scripts/python-client-stream.ts [N=2000000]
 * Reads runs/bench-grpc/hep-<N>.parquet (written by scripts/gen-hep.ts if absent); needs
 * /usr/bin/python3 with grpcio and numpy. Exits 1 when a figure differs (sums: relative 1e-9).
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { DuckDBInstance } from '@duckdb/node-api';
import { localServerOptions } from '../src/grpc/localBackends.js';
import { startServer } from '../src/grpc/server.js';
import { cutsToSql, type HardCut } from '../src/selection/cutsFile.js';
import { benchHepFile } from './gen-hep.js';

const n = Number(process.argv[2] ?? 2_000_000);
const { dir, file } = await benchHepFile(n);
const cutSets: HardCut[][] = [
  [],
  [
    { column: 'met', op: '>', value: 40 },
    { column: 'count(jet_pt)', op: 'between', low: 1.5, high: 5 },
  ],
];

const con = await (await DuckDBInstance.create(':memory:')).connect();
const schema = (await con.runAndReadAll(`DESCRIBE SELECT * FROM '${file}'`)).getRowObjectsJS();
const server = await startServer({ dataRoots: [dir], ...(await localServerOptions()) });
let failed = false;
try {
  for (const cuts of cutSets) {
    const t0 = performance.now();
    const items = schema.map(({ column_name: c, column_type: t }) =>
      String(t).endsWith('[]')
        ? `sum(list_sum("${c}")::DOUBLE), count("${c}"), sum(len("${c}"))`
        : `sum("${c}"::DOUBLE), count("${c}")`,
    );
    const where = cutsToSql(cuts);
    const [row] = (
      await con.runAndReadAll(`SELECT count(*), ${items.join(', ')} FROM '${file}' WHERE ${where}`)
    ).getRows();
    const duckdbSeconds = (performance.now() - t0) / 1000;
    const values = row.map(Number);
    const expected = { events: values.shift(), columns: {} as Record<string, Record<string, number>> };
    for (const { column_name: c, column_type: t } of schema) {
      const [sum, valid] = values.splice(0, 2);
      expected.columns[String(c)] = { sum, valid, ...(String(t).endsWith('[]') ? { count_sum: values.shift()! } : {}) };
    }
    const spec = join(dir, 'python-client-spec.json');
    const calls = [{ op: 'stream', paths: [`hep-${n}.parquet`], where: cuts }];
    writeFileSync(spec, JSON.stringify({ address: `127.0.0.1:${server.port}`, calls }));
    const t1 = performance.now();
    const script = resolve('tests/grpc/python/client_check.py');
    // Asynchronous: the server answers from this process.
    const { stdout } = await promisify(execFile)('/usr/bin/python3', [script, spec], { maxBuffer: 1 << 26 });
    const [got] = JSON.parse(stdout);
    const pythonSeconds = (performance.now() - t1) / 1000;
    if (!got.columns) throw new Error(`the python client failed: ${JSON.stringify(got)}`);
    const differs = Object.entries(expected.columns).filter(([c, e]) =>
      Object.entries(e).some(([k, v]) => Math.abs(got.columns[c]?.[k] - v) > 1e-9 * Math.max(1, Math.abs(v))),
    );
    const same = got.events === expected.events && differs.length === 0;
    failed ||= !same;
    const label = cuts.length ? `with cuts (${where.length} chars of SQL)` : 'no cuts';
    const differing = differs.length ? ` (${differs.map(([c]) => c).join(', ')})` : '';
    const rate = (got.events / pythonSeconds / 1e6).toFixed(2);
    console.log(
      `${label}: ${got.events} events in ${got.batches} batches, ${Object.keys(got.columns).length} columns; ` +
        `${same ? 'equal to' : 'DIFFERENT from'} DuckDB's read${differing}; ` +
        `python client ${pythonSeconds.toFixed(2)} s ` +
        `(${rate} M events/s, process start included), DuckDB (the same sums in SQL) ${duckdbSeconds.toFixed(2)} s`,
    );
  }
} finally {
  con.closeSync();
  await server.close(500);
}
process.exit(failed ? 1 : 0);
