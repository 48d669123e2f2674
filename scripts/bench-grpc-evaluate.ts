/**
 * How long a server's health check waits while Evaluate scores a large batch:
 *   npx tsx scripts/bench-grpc-evaluate.ts [EVENTS=1048576] [--hidden 64,64]
 * Starts a server (in this process) with a model (cuts x MLP on two features; hidden layers as
 * given), sends one batch of EVENTS events, and while it is scored sends health checks one after
 * another: prints the scoring time and the longest and median health-check round trips.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { lastValueFrom } from 'rxjs';
import { makeBatch } from '../src/batch/batch.js';
import { evaluateRemote } from '../src/sources/grpc/evaluateClient.js';
import { localServerOptions } from '../src/grpc/localBackends.js';
import { services } from '../src/sources/grpc/protos.js';
import { startServer } from '../src/grpc/server.js';
import { saveModel } from '../src/model/io.js';
import { createModel } from '../src/model/model.js';

const args = process.argv.slice(2);
const flag = (name: string) => {
  const i = args.indexOf(name);
  return i >= 0 ? args.splice(i, 2)[1] : undefined;
};
const hidden = (flag('--hidden') ?? '64,64').split(',').map(Number);
const events = Number(args[0] ?? 1 << 20);

const dir = mkdtempSync(join(tmpdir(), 'diffskim-bench-eval-'));
const cut = { column: 'pt', op: '>' as const, form: 'sigmoid' as const, slope: 0.5, value: 20, mean: 50, std: 30 };
const scale = { inputMean: [50, 0], inputStd: [30, 2] };
const model = createModel({ kind: 'cuts-x-mlp', features: ['pt', 'eta'], ...scale, hidden, cuts: [cut], seed: 1 });
await saveModel(join(dir, 'model'), model);
const server = await startServer({ dataRoots: [dir], ...(await localServerOptions(join(dir, 'model'))) });
const address = `127.0.0.1:${server.port}`;

const pt = Float32Array.from({ length: events }, (_, i) => (i % 997) / 10);
const eta = Float32Array.from({ length: events }, (_, i) => ((i % 89) - 44) / 18);
async function* one() {
  yield makeBatch({ pt, eta }, { pt: 'float32', eta: 'float32' });
}

const { Health } = services();
const health = new Health(address, grpc.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
const check = () =>
  new Promise<number>((ok, fail) => {
    const t = performance.now();
    health.check({ service: '' }, (e: Error | null) => (e ? fail(e) : ok(performance.now() - t)));
  });
await check(); // connected

let done = false;
const t0 = performance.now();
const scoring = lastValueFrom(evaluateRemote(address, one())).then(() => ((done = true), performance.now() - t0));
const rounds: number[] = [];
while (!done) rounds.push(await check());
const seconds = (await scoring) / 1000;
rounds.sort((a, b) => a - b);
const scored = `${events} events scored in ${seconds.toFixed(2)} s (hidden ${hidden.join(',')})`;
console.log(`${scored}; ${rounds.length} health checks meanwhile:`);
console.log(`  longest ${rounds.at(-1)!.toFixed(0)} ms, median ${rounds[rounds.length >> 1].toFixed(0)} ms`);
health.close();
await server.close(100);
rmSync(dir, { recursive: true, force: true });
