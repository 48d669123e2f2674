/**
 * Training throughput, diffskim next to PyTorch on the same models and data sizes: events per
 * wall-second and per CPU-second of whole training epochs (diffskim: shuffle, split, rebatch,
 * prepare and step, from the first step of an epoch to its last, validation left out; the
 * in-memory data projected to the columns training asks for, as a Parquet source does; PyTorch:
 * scripts/bench-train-torch.py, data in memory as tensors). Models: 'seed' (the seed toy, two
 * '>' cuts x MLP 15-30-15) and 'wide' (20 Gaussian features, 20 '>' cuts, MLP 64-64); batch
 * 4096 and 16384; BCE with the size term off and on. PyTorch runs through /usr/bin/python3 (or
 * $TORCH_PYTHON) when it imports torch, at 1 thread and at its default threads.
 *
 *   npx tsx scripts/bench-train.ts [events=262144] [epochs=2]
 *   DIFFSKIM_BACKEND=wasm npx tsx scripts/bench-train.ts   (the TF.js path instead of the fused kernel)
 */
import { spawnSync } from 'node:child_process';
import { loadavg } from 'node:os';
import { map } from 'rxjs';
import { type EventBatch, makeBatch, selectColumns } from '../src/batch/batch.js';
import { compileExpr } from '../src/selection/expr/index.js';
import { trainSelection } from '../src/training/trainer.js';
import { normalSampler, seededRandom } from '../src/util/random.js';
import { memoryDataset, toyData, toyPipeline } from './science-common.js';

const [events = 262_144, epochs = 2] = process.argv.slice(2).map(Number);
const MODELS = ['seed', 'wide'] as const;
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
const data = { seed: toyData('toy2d', events / 2, 1), wide: wideData(events) };
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
  model: (typeof MODELS)[number],
  batchSize: number,
  lambda: number,
): Promise<Rate & { backend: string }> {
  const memory = memoryDataset(data[model]);
  const info = memory.info;
  // Projected as a Parquet source is (the memory dataset hands every column, passengers included);
  // count(x) is computed from the list column x.
  const source = {
    ...memory.source,
    batches: (o: Parameters<typeof memory.source.batches>[0] = {}) =>
      memory.source
        .batches(o)
        .pipe(
          map((b) =>
            o.columns ? selectColumns(b, [...new Set(o.columns.flatMap((c) => compileExpr(c).columns))]) : b,
          ),
        ),
  };
  const cpu = () => process.cpuUsage().user / 1e6 + process.cpuUsage().system / 1e6;
  let [wall, cpuSeconds, stepped] = [0, 0, 0];
  let start = { wall: 0, cpu: 0 };
  let last = start;
  const mark = () => ({ wall: performance.now() / 1000, cpu: cpu() });
  const r = await trainSelection({
    settings: toyPipeline({
      ...overrides[model],
      training: { epochs, batchSize, validationFraction: 0.05, seed: 1 },
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
const torch = new Map<string, Rate>();
if (hasTorch) {
  const out = spawnSync(
    python,
    ['scripts/bench-train-torch.py', String(events), String(epochs), MODELS.join(','), BATCHES.join(','), '1,default'],
    { encoding: 'utf8' },
  );
  if (out.status !== 0) throw new Error(`bench-train-torch.py failed: ${out.stderr}`);
  for (const line of out.stdout.trim().split('\n')) {
    const r = JSON.parse(line);
    const key = `${r.model}/${r.batch}/${r.size}`;
    // The first run of a setting is at 1 thread, the second at the default.
    torch.set(`${key}/${torch.has(`${key}/1`) ? 'default' : '1'}`, r);
  }
} else
  console.log(
    `PyTorch: ${python} cannot import torch; diffskim's figures alone (set TORCH_PYTHON to a python with torch)`,
  );

const k = (x: number) => `${(x / 1e3).toFixed(0)}k`;
console.log(
  `${events} events x ${epochs} epochs; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' ')} on this machine`,
);
console.log(
  'model batch size | diffskim wall cpu | torch 1-thread wall cpu | ratio wall cpu' +
    ' | torch default wall cpu | ratio wall cpu',
);
for (const model of MODELS) {
  for (const batch of BATCHES) {
    for (const lambda of [0, 0.5]) {
      const d = await diffskim(model, batch, lambda);
      const row = [`${model} ${batch} ${lambda > 0 ? 'on ' : 'off'}`, `${d.backend} ${k(d.perWall)} ${k(d.perCpu)}`];
      for (const threads of ['1', 'default']) {
        const t = torch.get(`${model}/${batch}/${lambda > 0}/${threads}`);
        if (t)
          row.push(
            `${k(t.perWall)} ${k(t.perCpu)}`,
            `${(d.perWall / t.perWall).toFixed(2)}x ${(d.perCpu / t.perCpu).toFixed(2)}x`,
          );
      }
      console.log(row.join(' | '));
    }
  }
}
