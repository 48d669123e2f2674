/**
 * What the message size limit costs a stream: the wire alone (a server holding the dataset in
 * memory, in this process) streaming it to a grpcSource client with each --limits value in MiB
 * (default 4, 16), alternately, `repeat` times:
 *   npx tsx scripts/bench-grpc-message-size.ts [N=2000000] [--repeat 5] [--limits 4,16] [--batch-rows 65536]
 * Reads runs/bench-grpc/hep-<N>.parquet (written by scripts/gen-hep.ts if absent). Prints each
 * pass (wall seconds, CPU seconds of this process, messages) and the medians per limit.
 */
import { from, lastValueFrom, reduce, toArray } from 'rxjs';
import type { EventBatch } from '../src/batch/batch.js';
import { grpcSource } from '../src/sources/grpc/grpcSource.js';
import { startServer } from '../src/grpc/server.js';
import { parquetSource } from '../src/sources/parquet.js';
import type { EventSource } from '../src/sources/types.js';
import { useStreamingHeapGrowth } from '../src/util/heapGrowth.js';
import { benchHepFile } from './gen-hep.js';

useStreamingHeapGrowth();
const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const repeat = Number(flag('--repeat') ?? 5);
const limits = (flag('--limits') ?? '4,16').split(',').map(Number);
const batchRows = Number(flag('--batch-rows') ?? 65536);
const n = Number(args[0] ?? 2_000_000);

const { dir, file } = await benchHepFile(n);

const parquet = parquetSource([file]);
const info = await parquet.describe();
const batches = await lastValueFrom(parquet.batches({ batchRows }).pipe(toArray()));
const source: EventSource = { describe: async () => info, batches: () => from(batches) };
const serve = (mib: number) => startServer({ dataRoots: [dir], openSource: () => source, maxMessageBytes: mib << 20 });
const servers = await Promise.all(limits.map(serve));

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const times = limits.map(() => [] as number[]);
const cpu = limits.map(() => [] as number[]);
for (let k = 0; k < repeat; k++) {
  for (const [i, server] of servers.entries()) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const count = reduce((s, b: EventBatch) => ({ events: s.events + b.length, messages: s.messages + 1 }), {
      events: 0,
      messages: 0,
    });
    const got = await lastValueFrom(
      grpcSource(`127.0.0.1:${server.port}`, { paths: ['.'] })
        .batches()
        .pipe(count),
    );
    const seconds = (performance.now() - t0) / 1000;
    const c = process.cpuUsage(c0);
    times[i].push(seconds);
    cpu[i].push((c.user + c.system) / 1e6);
    const pass = `${got.events} events in ${got.messages} messages, ${seconds.toFixed(2)} s`;
    console.log(`limit ${limits[i]} MiB: ${pass}, CPU ${cpu[i].at(-1)!.toFixed(2)} s`);
  }
}
for (const [i, mib] of limits.entries()) {
  const medians = `median ${median(times[i]).toFixed(2)} s, CPU ${median(cpu[i]).toFixed(2)} s`;
  console.log(`limit ${mib} MiB: ${medians} (${repeat} passes)`);
}
await Promise.all(servers.map((s) => s.close(500)));
