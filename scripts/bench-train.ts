/**
 * Training throughput, diffskim next to PyTorch on the same models and data sizes: events per
 * wall-second and per CPU-second of whole training epochs (diffskim: shuffle, split, rebatch,
 * prepare and step, from the first step of an epoch to its last, validation left out; the
 * in-memory data projected to the columns training asks for, as a Parquet source does; PyTorch:
 * scripts/bench-train-torch.py, data in memory as tensors). CPU-seconds are the process's, worker
 * threads included. Models: 'seed' (the seed toy, two '>' cuts x MLP 15-30-15) and 'wide' (20
 * Gaussian features, 20 '>' cuts, MLP 64-64); batch 4096 and 16384; BCE with the size term off
 * and on; diffskim at 1 thread and at its default threads (training.threads), PyTorch through
 * /usr/bin/python3 (or $TORCH_PYTHON) when it imports torch, at 1 thread and at its default
 * threads. Each setting runs diffskim and PyTorch one after the other (the machine may be
 * shared: compare the ratios), and prints the load average before it.
 *
 *   npx tsx scripts/bench-train.ts [events=262144] [epochs=2] [models=seed,wide]
 *   DIFFSKIM_BACKEND=wasm npx tsx scripts/bench-train.ts   (the TF.js path instead of the fused kernel)
 */
import { spawnSync } from 'node:child_process';
import { availableParallelism, loadavg } from 'node:os';
import { type EventBatch, makeBatch } from '../src/batch/batch.js';
import { trainSelection } from '../src/training/trainer.js';
import { normalSampler, seededRandom } from '../src/util/random.js';
import { memoryDataset, projectedSource, toyData, toyPipeline } from './science-common.js';

const [events = 262_144, epochs = 2] = process.argv.slice(2, 4).map(Number);
const ALL_MODELS = ['seed', 'wide'] as const;
const MODELS = (process.argv[4]?.split(',') ?? ALL_MODELS) as (typeof ALL_MODELS)[number][];
for (const m of MODELS)
  if (!ALL_MODELS.includes(m)) throw new Error(`model '${m}' is not one of ${ALL_MODELS.join(', ')}`);
const BATCHES = [4096, 16384];
const WIDE = 20;

/** 20 Gaussian features, the signal shifted by 0.5 in each (as the PyTorch script's). */
function wideData(n: number): EventBatch[] {
  const normal = normalSampler(seededRandom('wide'));
  const batches: EventBatch[] = [];
  for (let start = 0; start < n; start += 8192) {
    const m = Math.min(8192, n - start);
    const label = Int32Array.from({ length: m }, () => (normal() > 0 ? 1 : 0));
    const columns: Record<string, Float32Array | Int32Array> = { label, weight: new Float32Array(m).fill(1) };
    for (let f = 0; f < WIDE; f++) columns[`f${f}`] = Float32Array.from(label, (y) => normal() + 0.5 * y);
    const schema = Object.fromEntries(Object.keys(columns).map((c) => [c, c === 'label' ? 'int32' : 'float32']));
    batches.push(makeBatch(columns, schema as Parameters<typeof makeBatch>[1]));
  }
  return batches;
}

const features = Array.from({ length: WIDE }, (_, f) => `f${f}`);
const make = { seed: () => toyData('toy2d', events / 2, 1), wide: () => wideData(events) };
const data = Object.fromEntries(MODELS.map((m) => [m, make[m]()])) as Record<(typeof ALL_MODELS)[number], EventBatch[]>;
const overrides = {
  seed: {},
  wide: {
    features,
    cuts: features.map((column) => ({ column, op: '>' })),
    model: { kind: 'cuts-x-mlp', hidden: [64, 64] },
  },
};

interface Rate {
  perWall: number;
  perCpu: number;
}

/** diffskim's rate over its training epochs (validation, which follows each, left out). */
async function diffskim(
  model: (typeof ALL_MODELS)[number],
  batchSize: number,
  lambda: number,
  threads: number,
): Promise<Rate & { backend: string }> {
  const memory = memoryDataset(data[model]);
  const { info } = memory;
  const source = projectedSource(memory.source);
  const cpu = () => process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
  let [wall, cpuSeconds, stepped] = [0, 0, 0];
  let start = { wall: 0, cpu: 0 };
  let last = start;
  const mark = () => ({ wall: performance.now() / 1000, cpu: cpu() });
  const r = await trainSelection({
    settings: toyPipeline({
      ...overrides[model],
      training: { epochs, batchSize, validationFraction: 0.05, seed: 1, threads },
      loss: { size: { lambda } },
    }),
    source,
    info,
    onTrainingSplit: () => (start = mark()),
    onStep: (n) => {
      stepped += n;
      last = mark();
    },
    onEpoch: () => {
      wall += last.wall - start.wall;
      cpuSeconds += last.cpu - start.cpu;
      start = mark();
    },
  });
  return { perWall: stepped / wall, perCpu: stepped / cpuSeconds, backend: r.backend };
}

const python = process.env.TORCH_PYTHON ?? '/usr/bin/python3';
const hasTorch = spawnSync(python, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
if (!hasTorch)
  console.log(
    `PyTorch: ${python} cannot import torch; diffskim's figures alone (set TORCH_PYTHON to a python with torch)`,
  );

/** PyTorch's rates on one setting, at 1 thread and at its default threads. */
function torch(model: string, batch: number, lambda: number): Rate[] {
  if (!hasTorch) return [];
  const size = lambda > 0 ? 'on' : 'off';
  const args = [String(events), String(epochs), model, String(batch), '1,default', size];
  const out = spawnSync(python, ['scripts/bench-train-torch.py', ...args], { encoding: 'utf8' });
  if (out.status !== 0) throw new Error(`bench-train-torch.py failed: ${out.stderr}`);
  return out.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Rate);
}

const k = (x: number) => `${(x / 1e3).toFixed(0)}k`;
const ratio = (a: Rate, b: Rate) => `${(a.perWall / b.perWall).toFixed(2)}x ${(a.perCpu / b.perCpu).toFixed(2)}x`;
const cores = Math.min(availableParallelism(), 8);
console.log(`${events} events x ${epochs} epochs; events per wall-second and per CPU-second, k = 1000`);
console.log(
  `model batch size | load | diffskim 1 thread | diffskim ${cores} threads | torch 1 thread | torch default` +
    ` | ratio 1 thread (wall cpu) | ratio default (wall cpu)`,
);
for (const model of MODELS) {
  for (const batch of BATCHES) {
    for (const lambda of [0, 0.5]) {
      const load = loadavg()[0].toFixed(1);
      const one = await diffskim(model, batch, lambda, 1);
      const all = await diffskim(model, batch, lambda, cores);
      const [t1, tDefault] = torch(model, batch, lambda);
      const row = [`${model} ${batch} ${lambda > 0 ? 'on ' : 'off'}`, load];
      row.push(`${one.backend} ${k(one.perWall)} ${k(one.perCpu)}`, `${k(all.perWall)} ${k(all.perCpu)}`);
      if (t1) row.push(`${k(t1.perWall)} ${k(t1.perCpu)}`, `${k(tDefault.perWall)} ${k(tDefault.perCpu)}`);
      if (t1) row.push(ratio(one, t1), ratio(all, tDefault));
      console.log(row.join(' | '));
    }
  }
}
