/**
 * Peak RSS of training over several samples against one: memory must not grow with the number
 * of samples mixed (samples/mix.ts keeps one waiting batch per sample).
 *   npx tsx scripts/bench-samples-memory.ts [N=2000000] [--samples 5] [--epochs 1] [--repeat 1]
 *
 * 'one': the single-source form over an N-event HEP-like file (scripts/gen-hep.ts; its label and
 * weight columns); 'mix': the same file as each of `--samples` samples (one signal, the others
 * background; `weight` as their generator weight), N events each, trained as their seeded mix.
 * Same model, loss and schedule; each case in a child process of its own, peak RSS from
 * process.resourceUsage(), the cases alternating when repeated (medians printed).
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

type Case = 'one' | 'mix';

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
  const source = c === 'one' ? samples[0].opened.source : mixedSource(samples, training.seed);
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

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const flag = (name: string, fallback: number) => {
    const i = args.indexOf(name);
    return i >= 0 ? Number(args.splice(i, 2)[1]) : fallback;
  };
  const count = flag('--samples', 5);
  const epochs = flag('--epochs', 1);
  const repeat = flag('--repeat', 1);
  const caseIndex = args.indexOf('--case');
  const c = caseIndex >= 0 ? (args.splice(caseIndex, 2)[1] as Case) : undefined;
  const n = Number(args[0] ?? 2_000_000);
  if (c) return runCase(c, n, count, epochs);

  await prepare(n, count);
  const runs: Record<Case, { events: number; seconds: number; maxRssMB: number }[]> = { one: [], mix: [] };
  for (let k = 0; k < repeat; k++)
    for (const each of ['one', 'mix'] as const) {
      const out = execFileSync(
        'npx',
        [
          'tsx',
          'scripts/bench-samples-memory.ts',
          String(n),
          '--case',
          each,
          '--samples',
          String(count),
          '--epochs',
          String(epochs),
        ],
        { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
      );
      const r = JSON.parse(out.trim().split('\n').pop()!);
      runs[each].push(r);
      console.log(`${each}: ${r.events} events, ${r.seconds.toFixed(1)} s, peak RSS ${r.maxRssMB.toFixed(0)} MB`);
    }
  const one = median(runs.one.map((r) => r.maxRssMB));
  const mix = median(runs.mix.map((r) => r.maxRssMB));
  console.log(
    `peak RSS training, ${epochs} epoch(s): one sample of ${n} events ${one.toFixed(0)} MB; ` +
      `${count} samples of ${n} ${mix.toFixed(0)} MB; ratio ${(mix / one).toFixed(3)} (goal: within 10 %)`,
  );
}

await main();
