/**
 * gRPC streaming throughput and server memory:
 *   npx tsx scripts/bench-grpc.ts [N=2000000] [--repeat 3] [--slow-ms 150] [--columns a,b,...]
 * Writes an N-event HEP-like file (scripts/gen-hep.ts) under runs/bench-grpc/, then in one run:
 * reads it locally with the Parquet source (as a training pass does, and again with the read-ahead
 * the server gives each stream) and streams it from a `diffskim serve` child process over
 * loopback, alternately, `repeat` times each (events/s, MB/s, ratio of the median times);
 * and streams it again to a deliberately slow client
 * (an asynchronous consumer that holds the Demand while it "writes"), reporting the server's peak RSS (VmHWM) against its idle RSS.
 *
 * To show what bounds the stream, it also times, alternating with the passes above: the server's
 * work without the wire (the Parquet read plus encoding to wire messages, in this process), and
 * the wire without the Parquet read (a server that holds the dataset in memory and streams it
 * with the same encoding, `--memory-server`).
 *
 * Last, as a pipeline uses the stream: one epoch of training (cuts on lep1_pt and met, an MLP on
 * lep1_pt, met, ht; the statistics pass, the epoch and the validation pass all read the source)
 * from the local files and from the server, alternately, `--train-repeat` times each (default 2; 0 skips it),
 * after an untimed epoch that warms up the training code.
 */
import type { ChildProcess } from 'node:child_process';
import { from, lastValueFrom, reduce } from 'rxjs';
import { batchBytes, type EventBatch } from '../src/batch/batch.js';
import { encodeBatch } from '../src/sources/grpc/codec.js';
import { grpcSource } from '../src/sources/grpc/grpcSource.js';
import { services } from '../src/sources/grpc/protos.js';
import type { BatchChunkMsg } from '../src/sources/grpc/messages.js';
import { DEFAULT_READ_AHEAD_MB, startServer } from '../src/grpc/server.js';
import type { EventSource } from '../src/sources/types.js';
import { Demand } from '../src/sources/demand.js';
import { parquetSource } from '../src/sources/parquet.js';
import { PipelineSchema } from '../src/pipeline/schema.js';
import { trainSelection } from '../src/training/trainer.js';
import { benchHepFile } from './gen-hep.js';
import { cpuSeconds, rss, startServerProcess, stopServerProcess } from './serverProcess.js';
import { useStreamingHeapGrowth } from '../src/util/heapGrowth.js';

// As in any process that reads a gRPC stream; the local reads here then run with it too, alike.
useStreamingHeapGrowth();

const args = process.argv.slice(2);
if (args[0] === '--memory-server') await memoryServer(args[1], args[2]);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const slowMs = Number(flag('--slow-ms') ?? 150);
const repeat = Number(flag('--repeat') ?? 3);
const trainRepeat = Number(flag('--train-repeat') ?? 2);
const columns = flag('--columns')?.split(',');
const n = Number(args[0] ?? 2_000_000);

const { dir, name, file } = await benchHepFile(n);

type Totals = { events: number; bytes: number; batches: number };
const add = (t: Totals, b: EventBatch): Totals => ({
  events: t.events + b.length,
  bytes: t.bytes + batchBytes(b),
  batches: t.batches + 1,
});
const zero: Totals = { events: 0, bytes: 0, batches: 0 };

/** Runs a pass and prints its rate and the CPU time it took (this process, plus the server's when given). */
async function timed(
  label: string,
  run: () => Promise<Totals>,
  serverPid?: number,
): Promise<Totals & { seconds: number }> {
  const cpu0 = process.cpuUsage();
  const server0 = serverPid ? cpuSeconds(serverPid) : 0;
  const t0 = performance.now();
  const t = await run();
  const seconds = (performance.now() - t0) / 1000;
  const own = process.cpuUsage(cpu0);
  const server = serverPid ? cpuSeconds(serverPid) - server0 : 0;
  const cpu = (own.user + own.system) / 1e6 + server;
  console.log(
    `${label.padEnd(28)} ${t.events} events in ${seconds.toFixed(2)} s: ${(t.events / seconds / 1e6).toFixed(2)} M events/s, ${(t.bytes / seconds / 1e6).toFixed(0)} MB/s (${t.batches} batches), CPU ${cpu.toFixed(2)} s${serverPid ? ` (server ${server.toFixed(2)} s)` : ''}`,
  );
  return { ...t, seconds };
}

/** A diffskim server (or, with `memory`, this script's in-memory server) in a child process. */
function startChild(memory = false): Promise<{ child: ChildProcess; address: string }> {
  // The memory server is this script again, started the way this one was (tsx's loader or a bundle).
  const argv = memory
    ? [...process.execArgv, process.argv[1], '--memory-server', dir, file]
    : ['bin/diffskim.mjs', 'serve', '--port', '0', '--data-root', dir];
  return startServerProcess(argv);
}

const read = columns ? { columns } : {};
const readLocal = () => lastValueFrom(parquetSource([file]).batches(read).pipe(reduce(add, zero)));
// The server lets DuckDB decode ahead of each stream; a local read may be given the same.
const readAhead = { ...read, readAheadMB: DEFAULT_READ_AHEAD_MB };
const readLocalAhead = () => lastValueFrom(parquetSource([file]).batches(readAhead).pipe(reduce(add, zero)));
const readRemote = (address: string) => () =>
  lastValueFrom(
    grpcSource(address, { paths: [name], columns })
      .batches()
      .pipe(reduce(add, zero)),
  );

let server = await startChild();
const memory = await startChild(true);
const idle = rss(server.child.pid!);
// Local and remote passes alternate, so that both see the same load; the medians are compared.
const localSeconds: number[] = [];
const localAheadSeconds: number[] = [];
const remoteSeconds: number[] = [];
const serverWorkSeconds: number[] = [];
const wireSeconds: number[] = [];
// The server's work per batch, without sending it: Parquet read (as the server reads), encoding
// with the server's serializer, and grpc-js's copy of the message into its frame.
const serialize = services().DiffSkim.service.StreamBatches.responseSerialize as (m: BatchChunkMsg) => Buffer;
const encodeAndFrame = (b: EventBatch) => {
  const message = serialize({ schema: null, batch: encodeBatch(b) });
  message.copy(Buffer.allocUnsafe(message.byteLength + 5), 5);
};
const readAndEncode = () =>
  lastValueFrom(
    parquetSource([file])
      .batches({ ...readAhead, reuseArrays: 3 /* maxInFlight 2 + 1, as the server */ })
      .pipe(reduce((t, b) => (encodeAndFrame(b), add(t, b)), zero)),
  );
for (let k = 0; k < repeat; k++) {
  localSeconds.push((await timed('local Parquet source', readLocal)).seconds);
  localAheadSeconds.push((await timed(`local, read-ahead ${DEFAULT_READ_AHEAD_MB} MB`, readLocalAhead)).seconds);
  remoteSeconds.push((await timed('gRPC stream (loopback)', readRemote(server.address), server.child.pid)).seconds);
  serverWorkSeconds.push((await timed('server work, no wire', readAndEncode)).seconds);
  wireSeconds.push((await timed('gRPC stream from memory', readRemote(memory.address), memory.child.pid)).seconds);
}
const afterFast = rss(server.child.pid!);
await stopServerProcess(server.child);
await stopServerProcess(memory.child);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];
const local = median(localSeconds);
// Each stream pass against the local pass just before it: the spread shows how much the machine's load moved.
const pairs = remoteSeconds.map((r, k) => localSeconds[k] / r).sort((a, b) => a - b);
console.log(
  `ratio gRPC / local (medians of ${repeat}): ${(local / median(remoteSeconds)).toFixed(2)} of the local rate (pass by pass: ${pairs[0].toFixed(2)}-${pairs[pairs.length - 1].toFixed(2)})`,
);
console.log(
  `  against a local read with the server's read-ahead: ${(median(localAheadSeconds) / median(remoteSeconds)).toFixed(2)} (that read alone: ${(local / median(localAheadSeconds)).toFixed(2)} of the local rate)`,
);
console.log(
  `  server work without the wire (read + encode): ${(local / median(serverWorkSeconds)).toFixed(2)} of the local rate`,
);
console.log(
  `  the wire without the Parquet read (in-memory server): ${(local / median(wireSeconds)).toFixed(2)} of the local rate`,
);
console.log(`server RSS: idle ${idle.now.toFixed(0)} MB, peak during fast client ${afterFast.peak.toFixed(0)} MB`);

if (trainRepeat > 0) {
  server = await startChild();
  const pipeline = PipelineSchema.parse({
    name: 'bench-grpc',
    source: { kind: 'parquet', paths: [file] },
    label: 'label',
    weight: 'weight',
    features: ['lep1_pt', 'met', 'ht'],
    cuts: [
      { column: 'lep1_pt', op: '>' },
      { column: 'met', op: '>' },
    ],
    training: { epochs: 1, batchSize: 16384, validationFraction: 0.05, shuffleBuffer: 65536, seed: 1 },
  });
  const sources = { local: parquetSource([file]), grpc: grpcSource(server.address, { paths: [name] }) };
  const seconds: Record<keyof typeof sources, number[]> = { local: [], grpc: [] };
  let backend = '';
  // An untimed epoch first: the first training in a process also pays for starting the backend
  // and compiling the training code, which would fall on whichever source is timed first.
  await trainSelection({ settings: pipeline, source: sources.local, info: await sources.local.describe() });
  for (let k = 0; k < trainRepeat; k++)
    for (const key of ['local', 'grpc'] as const) {
      const source = sources[key];
      const t0 = performance.now();
      const r = await trainSelection({ settings: pipeline, source, info: await source.describe() });
      seconds[key].push((performance.now() - t0) / 1000);
      backend = r.backend;
      console.log(
        `training epoch from ${key.padEnd(5)}  ${seconds[key].at(-1)!.toFixed(2)} s (${backend}), validation AUC ${r.validationAuc.toFixed(4)}`,
      );
    }
  await stopServerProcess(server.child);
  console.log(
    `ratio of training-epoch rates, gRPC / local (medians of ${trainRepeat}): ${(median(seconds.local) / median(seconds.grpc)).toFixed(2)}`,
  );
}

server = await startChild();
let slowTotals = zero;
let peakDuring = 0;
// A slow asynchronous consumer: writes one batch at a time, slowMs each, holding the demand meanwhile.
await timed(`slow client (${slowMs} ms/batch)`, async () => {
  const demand = new Demand();
  const queue: EventBatch[] = [];
  let writing = false;
  await new Promise<void>((done, fail) => {
    let complete = false;
    const writeNext = () => {
      const b = queue.shift();
      if (!b) {
        writing = false;
        demand.release();
        if (complete) done();
        return;
      }
      setTimeout(() => {
        slowTotals = add(slowTotals, b);
        peakDuring = Math.max(peakDuring, rss(server.child.pid!).now);
        writeNext();
      }, slowMs);
    };
    grpcSource(server.address, { paths: [name], columns })
      .batches({ demand })
      .subscribe({
        next: (b) => {
          queue.push(b);
          if (writing) return;
          writing = true;
          demand.hold();
          writeNext();
        },
        error: fail,
        complete: () => {
          complete = true;
          if (!writing) done();
        },
      });
  });
  return slowTotals;
});
const afterSlow = rss(server.child.pid!);
await stopServerProcess(server.child);
console.log(
  `server RSS with slow client: peak ${afterSlow.peak.toFixed(0)} MB (dataset in memory: ${(slowTotals.bytes / 1e6).toFixed(0)} MB over ${slowTotals.batches} batches)`,
);

/** Serves `file` from memory (read once at start) with the same server, codec and flow control. */
async function memoryServer(root: string, path: string): Promise<never> {
  const parquet = parquetSource([path]);
  const info = await parquet.describe();
  const batches = await lastValueFrom(parquet.batches().pipe(reduce((all: EventBatch[], b) => (all.push(b), all), [])));
  const source: EventSource = { describe: async () => info, batches: () => from(batches) };
  const server = await startServer({ dataRoots: [root], openSource: () => source });
  process.stderr.write(`memory server: listening on 127.0.0.1:${server.port}\n`);
  process.once('SIGTERM', () => void server.close(1000).then(() => process.exit(0)));
  return new Promise<never>(() => undefined);
}
