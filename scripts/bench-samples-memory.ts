/**
 * Peak RSS and speed of training over several samples against one: memory must not grow with the
 * number of samples mixed (samples/mix.ts), nor training slow down.
 *   npx tsx scripts/bench-samples-memory.ts [N=2000000] [--samples 5] [--epochs 1] [--repeat 3]
 *     [--open-reads K] [--threads T]
 *
 * 'one': the single-source form over an N-event HEP-like file (scripts/gen-hep.ts; its label and
 * weight columns); 'mix': the same file as each of S samples (one signal, the others background;
 * `weight` as their generator weight, summed in a pass of its own as for samples without Runs
 * tables), N events each, trained as their seeded mix (at most K reads open: the mix's default
 * unless --open-reads), for each S of `--samples`. Same model, loss and schedule (--threads: the
 * training threads; default the pipeline's). Each case runs in a child process of its own, the
 * cases alternating when repeated (medians printed): peak RSS from process.resourceUsage(), where
 * the memory was at the highest RSS sampled (V8's heap, memory outside it that V8 knows of such as
 * ArrayBuffers, the rest: native, DuckDB's own count apart) and training events per second, of
 * wall time and of CPU time (every thread: on a loaded machine the wall-time rates swing).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PipelineSchema } from '../src/pipeline/schema.js';
import { trainingSettings } from '../src/pipeline/settings.js';
import { mixedSource } from '../src/samples/mix.js';
import { resolveSamples } from '../src/samples/resolve.js';
import { duckdb, queryRows } from '../src/sources/parquetDuckdb.js';
import { trainSelection } from '../src/training/trainer.js';
import { benchHepFile } from './gen-hep.js';

const COMMON = {
  features: ['lep1_pt', 'lep2_pt', 'met', 'ht', 'njet'],
  cuts: [
    { column: 'lep1_pt', op: '>' },
    { column: 'met', op: '>' },
  ],
  model: { hidden: [15, 30, 15] },
  loss: { kind: 'bce', size: { lambda: 0.3 } },
};

interface Options {
  n: number;
  epochs: number;
  openReads?: number;
  threads?: number;
}

/** Where the memory was at the highest RSS sampled, in MB. */
interface AtPeak {
  rss: number;
  /** V8's heap (the main thread's). */
  heap: number;
  /** Memory outside V8's heap that V8 knows of: ArrayBuffers (batches), node's buffers. */
  external: number;
  /** The rest: DuckDB, the training worker threads' heaps, code, the allocators' free lists. */
  native: number;
  /** DuckDB's own count (duckdb_memory(), both instances), at its highest. */
  duckdb: number;
}

interface Run {
  events: number;
  /** Training alone (one epoch reads the events three times: statistics, training, validation). */
  trainSeconds: number;
  /** CPU-seconds of training, every thread of the process (workers, DuckDB's) counted. */
  trainCpuSeconds: number;
  maxRssMB: number;
  atPeak: AtPeak;
}

/** One case in this process (count 0: the single source): train, print a Run as the last line. */
async function runCase(count: number, o: Options): Promise<void> {
  const { file } = await benchHepFile(o.n);
  const dir = resolve('runs/bench-samples');
  const training = { epochs: o.epochs, batchSize: 4096, seed: 1, ...(o.threads && { threads: o.threads }) };
  const pipeline =
    count === 0
      ? PipelineSchema.parse({
          name: 'one',
          source: { kind: 'parquet', paths: [file] },
          label: 'label',
          weight: 'weight',
          training,
          ...COMMON,
        })
      : PipelineSchema.parse({
          name: 'mix',
          luminosity: 1000,
          samples: Array.from({ length: count }, (_, k) => ({
            name: `s${k}`,
            role: k === 0 ? 'signal' : 'background',
            xsec: 10 * (k + 1),
            genWeight: 'weight',
            source: { kind: 'parquet', paths: [join(dir, `s${k}`)] },
          })),
          training,
          ...COMMON,
        });
  const memory = memorySampler(count > 1);
  const samples = await resolveSamples(pipeline, dir);
  const source = count === 0 ? samples[0].opened.source : mixedSource(samples, training.seed, o.openReads);
  const info = await source.describe();
  const [t, cpu] = [performance.now(), process.cpuUsage()];
  await trainSelection({ settings: trainingSettings(pipeline, info), source, info, backend: 'fused' });
  const trainSeconds = (performance.now() - t) / 1000;
  const { user, system } = process.cpuUsage(cpu);
  const trainCpuSeconds = (user + system) / 1e6;
  const atPeak = await memory.stop();
  const maxRssMB = process.resourceUsage().maxRSS / 1024;
  const run: Run = { events: info.rows, trainSeconds, trainCpuSeconds, maxRssMB, atPeak };
  console.log(JSON.stringify(run));
}

/**
 * process.memoryUsage() every 20 ms, kept at the highest RSS; DuckDB's count every 200 ms (a
 * query on each instance the case uses: the mix of several samples reads on the one-thread one),
 * kept at its highest.
 */
function memorySampler(mixed: boolean): { stop(): Promise<AtPeak> } {
  let peak = process.memoryUsage();
  let duckPeak = 0;
  let querying: Promise<void> | undefined;
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    if (m.rss > peak.rss) peak = m;
  }, 20);
  const duckCount = async () => {
    let total = 0;
    for (const oneThread of mixed ? [false, true] : [false]) {
      const con = await (await duckdb(oneThread)).connect();
      total += Number((await queryRows(con, 'SELECT sum(memory_usage_bytes)::DOUBLE AS b FROM duckdb_memory()'))[0].b);
      con.closeSync();
    }
    duckPeak = Math.max(duckPeak, total);
  };
  const duck = setInterval(() => (querying ??= duckCount().finally(() => (querying = undefined))), 200);
  const mb = (b: number) => Math.round(b / 1e5) / 10;
  return {
    async stop() {
      clearInterval(timer);
      clearInterval(duck);
      await querying;
      const { rss, heapTotal, external } = peak;
      const native = rss - heapTotal - external;
      return { rss: mb(rss), heap: mb(heapTotal), external: mb(external), native: mb(native), duckdb: mb(duckPeak) };
    },
  };
}

/** The samples' folders: the N-event file linked into each (one file, read as `count` samples). */
async function prepare(n: number, count: number): Promise<void> {
  const { file } = await benchHepFile(n);
  const dir = resolve('runs/bench-samples');
  rmSync(dir, { recursive: true, force: true });
  for (let k = 0; k < count; k++) {
    mkdirSync(join(dir, `s${k}`), { recursive: true });
    symlinkSync(file, join(dir, `s${k}`, 'events.parquet'));
  }
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1];

function child(count: number, args: string[]): Run {
  const out = execFileSync('npx', ['tsx', 'scripts/bench-samples-memory.ts', ...args, '--case', String(count)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const r: Run = JSON.parse(out.trim().split('\n').pop()!);
  const p = r.atPeak;
  console.log(
    `${count === 0 ? 'one sample' : `${count} samples`}: ${r.events} events, ` +
      `training ${(r.events / r.trainSeconds / 1000).toFixed(0)}k events/s, ` +
      `${(r.events / r.trainCpuSeconds / 1000).toFixed(0)}k per CPU-s, peak RSS ${r.maxRssMB.toFixed(0)} MB; ` +
      `at the highest RSS sampled (${p.rss} MB): V8 heap ${p.heap}, external ${p.external}, native ${p.native} ` +
      `(DuckDB's count, at its highest: ${p.duckdb})`,
  );
  return r;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : fallback;
  };
  const counts = flag('--samples', '5').split(',').map(Number);
  const repeat = Number(flag('--repeat', '3'));
  const c = flag('--case', '');
  const options: Options = {
    n: Number(args[0] ?? 2_000_000),
    epochs: Number(flag('--epochs', '1')),
    openReads: Number(flag('--open-reads', '0')) || undefined,
    threads: Number(flag('--threads', '0')) || undefined,
  };
  if (c) return runCase(Number(c), options);
  const forward = [String(options.n), '--epochs', String(options.epochs)];
  if (options.openReads) forward.push('--open-reads', String(options.openReads));
  if (options.threads) forward.push('--threads', String(options.threads));

  await prepare(options.n, Math.max(...counts));
  const runs = new Map<number, Run[]>();
  for (let k = 0; k < repeat; k++)
    for (const count of [0, ...counts]) runs.set(count, [...(runs.get(count) ?? []), child(count, forward)]);
  const rss = (count: number) => median(runs.get(count)!.map((r) => r.maxRssMB));
  const rate = (count: number) => median(runs.get(count)!.map((r) => r.events / r.trainSeconds));
  const cpuRate = (count: number) => median(runs.get(count)!.map((r) => r.events / r.trainCpuSeconds));
  console.log(
    `medians of ${repeat} run(s), ${options.epochs} epoch(s), ${options.n} events a sample: ` +
      `one sample ${rss(0).toFixed(0)} MB, training ${(rate(0) / 1000).toFixed(0)}k events/s, ` +
      `${(cpuRate(0) / 1000).toFixed(0)}k per CPU-s`,
  );
  for (const count of counts)
    console.log(
      `${count} samples: peak RSS ${rss(count).toFixed(0)} MB, ${(rss(count) / rss(0)).toFixed(3)}x one sample ` +
        `(goal: within 1.10x); training ${(rate(count) / 1000).toFixed(0)}k events/s, ` +
        `${(rate(count) / rate(0)).toFixed(2)}x one sample's; per CPU-s ${(cpuRate(count) / 1000).toFixed(0)}k, ` +
        `${(cpuRate(count) / cpuRate(0)).toFixed(2)}x`,
    );
}

await main();
