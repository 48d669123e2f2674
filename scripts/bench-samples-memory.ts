/**
 * Peak RSS of training over several samples against one: memory must not grow with the number
 * of samples mixed with at most 2 sample reads open (samples/mix.ts's openReads; its default is 8).
 *   npx tsx scripts/bench-samples-memory.ts [N=2000000] [--samples 2,5,10] [--epochs 1] [--repeat 1]
 *
 * 'one': the single-source form over an N-event HEP-like file (scripts/gen-hep.ts; its label and
 * weight columns); 'mix': the same file as each of S samples (one signal, the others background;
 * `weight` as their generator weight), N events each, trained as their seeded mix, for each S of
 * `--samples`; 'open': the same with every sample's read open at once (the mix before reads were
 * closed and resumed; its time against 'mix' is the cost of resuming). Same model, loss and
 * schedule; each case in a child process of its own, peak RSS from process.resourceUsage(), the
 * cases alternating when repeated (medians printed).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { PipelineSchema } from '../src/pipeline/schema.js';
import { trainingSettings } from '../src/pipeline/settings.js';
import { mixedSource } from '../src/samples/mix.js';
import { resolveSamples } from '../src/samples/resolve.js';
import { trainSelection } from '../src/training/trainer.js';
import { benchHepFile } from './gen-hep.js';

type Case = 'one' | 'mix' | 'open';

const COMMON = {
  features: ['lep1_pt', 'lep2_pt', 'met', 'ht', 'njet'],
  cuts: [
    { column: 'lep1_pt', op: '>' },
    { column: 'met', op: '>' },
  ],
  model: { hidden: [15, 30, 15] },
  loss: { kind: 'bce', size: { lambda: 0.3 } },
};

/** One case in this process: train, print {events, seconds, maxRssMB} as the last line. */
async function runCase(c: Case, n: number, count: number, epochs: number): Promise<void> {
  const { file } = await benchHepFile(n);
  const dir = resolve('runs/bench-samples');
  const training = { epochs, batchSize: 4096, seed: 1 };
  const pipeline =
    c === 'one'
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
  const t = performance.now();
  const samples = await resolveSamples(pipeline, dir);
  const source = c === 'one' ? samples[0].opened.source : mixedSource(samples, training.seed, c === 'open' ? count : 2);
  const info = await source.describe();
  await trainSelection({ settings: trainingSettings(pipeline, info), source, info, backend: 'fused' });
  const seconds = (performance.now() - t) / 1000;
  console.log(JSON.stringify({ events: info.rows, seconds, maxRssMB: process.resourceUsage().maxRSS / 1024 }));
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

interface Run {
  events: number;
  seconds: number;
  maxRssMB: number;
}

function child(c: Case, n: number, count: number, epochs: number): Run {
  const args = ['tsx', 'scripts/bench-samples-memory.ts', String(n), '--case', c, '--samples', String(count)];
  const out = execFileSync('npx', [...args, '--epochs', String(epochs)], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  const r: Run = JSON.parse(out.trim().split('\n').pop()!);
  const label = c === 'one' ? 'one sample' : `${count} samples${c === 'open' ? ', all reads open' : ''}`;
  console.log(`${label}: ${r.events} events, ${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMB.toFixed(0)} MB`);
  return r;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: string) => {
    const i = args.indexOf(name);
    return i >= 0 ? args.splice(i, 2)[1] : fallback;
  };
  const counts = flag('--samples', '2,5,10').split(',').map(Number);
  const epochs = Number(flag('--epochs', '1'));
  const repeat = Number(flag('--repeat', '1'));
  const c = flag('--case', '') as Case | '';
  const n = Number(args[0] ?? 2_000_000);
  if (c) return runCase(c, n, counts[0], epochs);

  await prepare(n, Math.max(...counts));
  const runs = new Map<string, Run[]>();
  const add = (key: string, r: Run) => runs.set(key, [...(runs.get(key) ?? []), r]);
  for (let k = 0; k < repeat; k++) {
    add('one', child('one', n, 1, epochs));
    for (const count of counts)
      for (const each of ['mix', 'open'] as const) add(`${each}${count}`, child(each, n, count, epochs));
  }
  const rss = (key: string) => median(runs.get(key)!.map((r) => r.maxRssMB));
  const seconds = (key: string) => median(runs.get(key)!.map((r) => r.seconds));
  const one = rss('one');
  console.log(`peak RSS training, ${epochs} epoch(s), ${n} events a sample: one sample ${one.toFixed(0)} MB`);
  for (const count of counts)
    console.log(
      `${count} samples: ${rss(`mix${count}`).toFixed(0)} MB, ratio ${(rss(`mix${count}`) / one).toFixed(3)} ` +
        `(goal: within 10 %); all reads open ${rss(`open${count}`).toFixed(0)} MB, ` +
        `${(rss(`open${count}`) / one).toFixed(3)}; time resumed/all open ` +
        `${(seconds(`mix${count}`) / seconds(`open${count}`)).toFixed(2)}x`,
    );
}

await main();
