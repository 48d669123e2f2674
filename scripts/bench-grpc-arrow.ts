/**
 * StreamBatches' two encodings against the local read:
 *   npx tsx scripts/bench-grpc-arrow.ts [N=1000000] [--repeat 3]
 * Writes an N-event HEP-like file (scripts/gen-hep.ts) under runs/bench-grpc/, starts `diffskim
 * serve` in a child process on loopback, then, alternately, `repeat` times each: reads the file
 * locally with the Parquet source; streams it with the default encoding (grpcSource, decoded to
 * batches); and streams it as Arrow IPC, read by apache-arrow's RecordBatchReader (record batches whose
 * columns are typed arrays, as the default encoding's batches are). Prints events/s per pass,
 * the medians' ratios and the machine's load average (the rates depend on what else runs).
 */
import { loadavg } from 'node:os';
import { RecordBatchReader } from 'apache-arrow';
import { lastValueFrom, reduce } from 'rxjs';
import { arrowIpcStream } from '../src/sources/grpc/arrowClient.js';
import { grpcSource } from '../src/sources/grpc/grpcSource.js';
import { parquetSource } from '../src/sources/parquet.js';
import type { EventSource } from '../src/sources/types.js';
import { useStreamingHeapGrowth } from '../src/util/heapGrowth.js';
import { benchHepFile } from './gen-hep.js';
import { startServerProcess, stopServerProcess } from './serverProcess.js';

// As in any process that reads a gRPC stream; the local reads here run with it too, alike.
useStreamingHeapGrowth();

const args = process.argv.slice(2);
const at = args.indexOf('--repeat');
const repeat = at >= 0 ? Number(args.splice(at, 2)[1]) : 3;
const n = Number(args[0] ?? 1_000_000);

const { dir, name, file } = await benchHepFile(n);

const countEvents = (source: EventSource) => lastValueFrom(source.batches().pipe(reduce((s, b) => s + b.length, 0)));

async function readArrow(address: string): Promise<number> {
  let events = 0;
  const reader = await RecordBatchReader.from(arrowIpcStream(address, { paths: [name] }));
  for await (const batch of reader) events += batch.numRows;
  return events;
}

const server = await startServerProcess(['bin/diffskim.mjs', 'serve', '--port', '0', '--data-root', dir]);
const passes: Record<string, () => Promise<number>> = {
  local: () => countEvents(parquetSource([file])),
  'gRPC, default encoding': () => countEvents(grpcSource(server.address, { paths: [name] })),
  'gRPC, Arrow IPC': () => readArrow(server.address),
};
const seconds: Record<string, number[]> = Object.fromEntries(Object.keys(passes).map((k) => [k, []]));
try {
  for (let r = 0; r < repeat; r++)
    for (const [label, pass] of Object.entries(passes)) {
      const t0 = performance.now();
      const events = await pass();
      const s = (performance.now() - t0) / 1000;
      if (events !== n) throw new Error(`${label}: ${events} events, expected ${n}`);
      seconds[label].push(s);
      console.log(`${label}: ${(n / s / 1e6).toFixed(2)} M events/s (${s.toFixed(2)} s)`);
    }
} finally {
  await stopServerProcess(server.child);
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const local = median(seconds.local);
for (const [label, xs] of Object.entries(seconds))
  console.log(
    `${label}: median ${(n / median(xs) / 1e6).toFixed(2)} M events/s, ${(local / median(xs)).toFixed(2)} of the local rate`,
  );
console.log(
  `load average (1, 5, 15 min): ${loadavg()
    .map((l) => l.toFixed(1))
    .join(', ')} on this machine`,
);
