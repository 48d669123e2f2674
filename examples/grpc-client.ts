/**
 * A minimal client of `diffskim serve`: health check, describe, then stream a dataset with a
 * projection and hard cuts applied on the server, printing a per-column summary; with
 * --skim-out, also run a skim with the same cuts on the server and print its report.
 *
 *   npx diffskim serve --port 50051 --data-root runs/bench-grpc &
 *   npx tsx examples/grpc-client.ts --address 127.0.0.1:50051 --path 'hep-500000.parquet' \
 *       --columns lep1_pt,met,jet_pt --where 'met>40' --where 'count(jet_pt)>1' [--skim-out skims]
 *
 * --where takes the server's strict cuts: COLUMN>VALUE, COLUMN<VALUE, LOW<COLUMN<HIGH. Options:
 * --token T (or $DIFFSKIM_TOKEN), --ca cert.pem (TLS), --server-name NAME. Any failure is one
 * line on stderr and exit status 1.
 *
 * Any language can do the same from proto/diffskim/v1/*.proto: each column of a batch is raw
 * little-endian Arrow buffers, e.g. in Python `numpy.frombuffer(col.values, dtype='<f4')` and
 * `numpy.frombuffer(col.offsets, dtype='<i4')` for a list<float32> column.
 */
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import { unaryCall } from '../src/sources/grpc/client.js';
import { encodeCut } from '../src/sources/grpc/codec.js';
import { grpcSource } from '../src/sources/grpc/grpcSource.js';
import type { SkimReportMsg } from '../src/sources/grpc/messages.js';
import { services } from '../src/sources/grpc/protos.js';
import type { HardCut } from '../src/selection/cutsFile.js';

/**
 * A --where as a hard cut, in the forms the server takes (its cuts are strict): 'x>1',
 * 'abs(eta)<2.4', '20<MET_pt<200' (between).
 */
function parseCut(text: string): HardCut {
  const forms = 'COLUMN>VALUE, COLUMN<VALUE or LOW<COLUMN<HIGH';
  const fail = (why: string) => new Error(`--where '${text}': ${why} (use ${forms})`);
  const number = (s: string) => {
    const v = Number(s);
    if (s === '' || Number.isNaN(v)) throw fail(`'${s}' is not a number`);
    return v;
  };
  const parts = text.trim().split(/\s*([<>!=]=?)\s*/);
  const bad = parts.find((p, i) => i % 2 === 1 && p !== '<' && p !== '>');
  if (bad) throw fail(`the server's cuts are strict, '${bad}' is not one of them`);
  if (parts.length === 3) return { column: parts[0], op: parts[1] as '>' | '<', value: number(parts[2]) };
  if (parts.length === 5 && parts[1] === '<' && parts[3] === '<') {
    return { column: parts[2], op: 'between', low: number(parts[0]), high: number(parts[4]) };
  }
  throw fail('not a cut');
}

/** Every failure (a bad option, an unreachable server, a refused call) is one line on stderr and exit status 1. */
async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      address: { type: 'string', default: '127.0.0.1:50051' },
      path: { type: 'string', multiple: true, default: [] },
      columns: { type: 'string' },
      where: { type: 'string', multiple: true, default: [] },
      token: { type: 'string', default: process.env.DIFFSKIM_TOKEN },
      ca: { type: 'string' },
      'server-name': { type: 'string' },
      'skim-out': { type: 'string' },
    },
  });
  const where = values.where.map(parseCut);
  const tls = values.ca ? { ca: readFileSync(values.ca), serverName: values['server-name'] } : undefined;
  const connection = { token: values.token, tls };

  // 1. Health (standard grpc.health.v1).
  const { Health } = services();
  const credentials = tls ? grpc.credentials.createSsl(tls.ca) : grpc.credentials.createInsecure();
  const override = tls?.serverName ? { 'grpc.ssl_target_name_override': tls.serverName } : {};
  const health = new Health(values.address, credentials, override);
  const md = new grpc.Metadata();
  if (values.token) md.set('authorization', `Bearer ${values.token}`);
  const status = await new Promise<string>((ok, fail) =>
    (health as unknown as Record<string, Function>).check(
      { service: 'diffskim.v1.DiffSkim' },
      md,
      (e: Error | null, r: { status: string }) => (e ? fail(e) : ok(r.status)),
    ),
  );
  health.close();
  console.log(`health: ${status}`);

  // 2. Describe and 3. stream.
  const columns = values.columns?.split(',');
  const source = grpcSource(values.address, { paths: values.path, columns, where, ...connection });
  const info = await source.describe();
  const mb = (info.bytesOnDisk / 1e6).toFixed(1);
  console.log(`dataset: ${info.files.length} file(s), ${info.rows} events, ${mb} MB on disk`);

  const sums = new Map<string, { n: number; sum: number }>();
  let events = 0;
  const t0 = performance.now();
  await source.batches().forEach((batch) => {
    events += batch.length;
    for (const f of batch.schema) {
      const col = batch.columns[f.name];
      const s = sums.get(f.name) ?? { n: 0, sum: 0 };
      const values = col.values as ArrayLike<number | bigint>;
      for (let i = 0; i < values.length; i++) s.sum += Number(values[i]);
      s.n += col.values.length;
      sums.set(f.name, s);
    }
  });
  const seconds = (performance.now() - t0) / 1000;
  console.log(`streamed ${events} events in ${seconds.toFixed(2)} s`);
  for (const [name, s] of sums) {
    console.log(`  ${name.padEnd(16)} ${s.n} values, mean ${(s.sum / Math.max(s.n, 1)).toFixed(3)}`);
  }

  // 4. RunSkim: the same cuts as a hard-cut skim written on the server (output_dir is relative to its data root).
  if (values['skim-out']) {
    const request = { inputs: values.path, cuts: where.map(encodeCut), outputDir: values['skim-out'] };
    const report = await unaryCall<SkimReportMsg>(values.address, connection, 'runSkim', request);
    const counts = `${report.eventsIn} events in, ${report.eventsKept} kept, ${report.eventsCut} cut`;
    console.log(`skim: ${counts}; ${report.skimFiles.join(', ')}`);
  }
}

main().catch((e: Error) => {
  process.stderr.write(`grpc-client: ${e.message}\n`);
  process.exitCode = 1;
});
