/**
 * Evaluation throughput and memory: writes a toy dataset of N events (default 1,000,000), then
 * streams it through a cuts x MLP model with evaluateModel (labelled, with a friend file), and
 * prints events/s and the peak resident memory, which must not grow with N.
 *
 *   npx tsx scripts/bench-eval.ts [events]
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { from, lastValueFrom } from 'rxjs';
import { toyBatches } from '../src/datasets/toy.js';
import { evaluateModel } from '../src/eval/evaluate.js';
import { createModel } from '../src/model/model.js';
import { parquetSink } from '../src/sinks/parquetSink.js';
import { parquetSource } from '../src/sources/parquet.js';

const events = Number(process.argv[2] ?? 1_000_000);
const dir = await mkdtemp(join(tmpdir(), 'diffskim-bench-eval-'));
try {
  const file = join(dir, 'toy.parquet');
  await lastValueFrom(
    from(toyBatches({ kind: 'toy2d', eventsPerClass: events / 2 })).pipe(parquetSink(file, { rowGroupRows: 65_536 })),
  );
  const model = createModel({
    kind: 'cuts-x-mlp',
    features: ['x', 'y'],
    inputMean: [0.75, 1],
    inputStd: [2.2, 2.2],
    hidden: [15, 30, 15],
    seed: 1,
    cuts: [
      { column: 'x', op: '>', form: 'sigmoid', slope: 2, value: 0, mean: 0.75, std: 2.2 },
      { column: 'y', op: '>', form: 'sigmoid', slope: 2, value: 0, mean: 1, std: 2.2 },
    ],
  });
  let peak = 0;
  const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
  const e = await evaluateModel({
    source: parquetSource([file]),
    model,
    label: 'label',
    friend: join(dir, 'friend.parquet'),
    quiet: true,
  });
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  console.log(
    `${e.events} events in ${e.seconds.toFixed(2)} s: ${Math.round(e.eventsPerSecond)} events/s; AUC ${e.auc?.toFixed(4)}; peak RSS ${(peak / 1e6).toFixed(0)} MB`,
  );
} finally {
  await rm(dir, { recursive: true, force: true });
}
