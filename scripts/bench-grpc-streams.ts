/**
 * Server memory with streams whose clients never read:
 *   npx tsx scripts/bench-grpc-streams.ts [STREAMS=20] [--events 2000000] [--max-streams M]
 * Starts `diffskim serve` in a child process over runs/bench-grpc/hep-<events>.parquet (written by
 * scripts/gen-hep.ts if absent), opens STREAMS StreamBatches calls that never read a message,
 * waits until the server's memory stops growing, and reports its idle and peak RSS (VmHWM) and
 * how many calls it accepted and refused (RESOURCE_EXHAUSTED). `--max-streams` is passed to the
 * server (default: its own); one at least STREAMS serves every call, as a server without a cap.
 */
import type * as grpc from '@grpc/grpc-js';
import { connect } from '../src/sources/grpc/client.js';
import { benchHepFile } from './gen-hep.js';
import { rss, startServerProcess, stopServerProcess } from './serverProcess.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const events = Number(flag('--events') ?? 2_000_000);
const maxStreams = flag('--max-streams');
const streams = Number(args[0] ?? 20);

const { dir, name } = await benchHepFile(events);

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const cap = maxStreams ? ['--max-streams', maxStreams] : [];
const server = await startServerProcess(['bin/diffskim.mjs', 'serve', '--port', '0', '--data-root', dir, ...cap]);
const pid = server.child.pid!;
await sleep(1000);
const idle = rss(pid);

// Each call's messages are left unread: no 'data' listener, so the client's buffer and its
// HTTP/2 window fill, and the server's stream waits with what it holds.
const refused: string[] = [];
const calls = Array.from({ length: streams }, () => {
  const { client, metadata } = connect(server.address);
  const call = client.streamBatches({ paths: [name] }, metadata()) as grpc.ClientReadableStream<unknown>;
  call.on('error', (e: grpc.ServiceError) => {
    if (e.code !== 1 /* CANCELLED, ours */) refused.push(e.details);
  });
  return { client, call };
});

// Until the server's resident memory has not grown for 3 s (at most 60 s).
let last = 0;
let stableSince = Date.now();
for (const end = Date.now() + 60_000; Date.now() < end && Date.now() - stableSince < 3000; await sleep(250)) {
  const now = rss(pid).now;
  if (now > last + 1) stableSince = Date.now();
  last = Math.max(last, now);
}
const held = rss(pid);
for (const { call, client } of calls) {
  call.cancel();
  client.close();
}
await stopServerProcess(server.child);

const accepted = streams - refused.length;
const why = refused[0] ? ` (${refused[0]})` : '';
const setting = `server --max-streams ${maxStreams ?? '(default)'}`;
console.log(`${streams} non-reading streams, ${setting}: ${accepted} accepted, ${refused.length} refused${why}`);
const grown = held.peak - idle.now;
const each = (grown / Math.max(accepted, 1)).toFixed(0);
const peak = `peak ${held.peak.toFixed(0)} MB (+${grown.toFixed(0)} MB, ${each} MB per accepted stream)`;
console.log(`server RSS: idle ${idle.now.toFixed(0)} MB, ${peak}`);
