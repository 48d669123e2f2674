import { from } from 'rxjs';
import { type EventBatch, makeBatch } from '../../src/batch/batch.js';
import { type Pipeline, PipelineSchema } from '../../src/pipeline/schema.js';
import type { DatasetInfo, EventSource } from '../../src/sources/types.js';
import { normalSampler, seededRandom } from '../../src/util/random.js';

/**
 * The seed paper's toy: signal N((1.5, 2.0), [[0.5, 0.2], [0.2, 0.5]]) against background
 * N((0, 0), 9 I), in batches with columns x, y (float32), label (int8), weight (float32) and a
 * list column 'hits' (0..3 entries per event) to give events different sizes. The class of each
 * event is drawn with probability signalFraction; 2 * eventsPerClass events in all.
 */
export function toyBatches(eventsPerClass: number, seed: number, batchRows = 2000, signalFraction = 0.5): EventBatch[] {
  const random = seededRandom(`toy:${seed}`);
  const normal = normalSampler(random);
  const n = 2 * eventsPerClass;
  const x = new Float32Array(n);
  const y = new Float32Array(n);
  const label = new Int8Array(n);
  const weight = new Float32Array(n).fill(1);
  const counts = new Int32Array(n);
  // Cholesky factor of the signal covariance.
  const [l11, l21] = [Math.sqrt(0.5), 0.2 / Math.sqrt(0.5)];
  const l22 = Math.sqrt(0.5 - l21 * l21);
  for (let i = 0; i < n; i++) {
    const [a, b] = [normal(), normal()];
    const signal = random() < signalFraction;
    label[i] = signal ? 1 : 0;
    x[i] = signal ? 1.5 + l11 * a : 3 * a;
    y[i] = signal ? 2.0 + l21 * a + l22 * b : 3 * b;
    counts[i] = Math.floor(random() * 4);
  }
  const batches: EventBatch[] = [];
  for (let start = 0; start < n; start += batchRows) {
    const end = Math.min(n, start + batchRows);
    const offsets = new Int32Array(end - start + 1);
    for (let i = start; i < end; i++) offsets[i - start + 1] = offsets[i - start] + counts[i];
    const hits = new Float32Array(offsets[end - start]).map(() => random());
    batches.push(
      makeBatch(
        { x: x.slice(start, end), y: y.slice(start, end), label: label.slice(start, end), weight: weight.slice(start, end), hits: { offsets, values: hits } },
        { x: 'float32', y: 'float32', label: 'int8', weight: 'float32', hits: 'float32' },
      ),
    );
  }
  return batches;
}

/** Dataset info as a Parquet source would report it (bytes on disk = in-memory bytes here). */
export function toyInfo(batches: EventBatch[]): DatasetInfo {
  const rows = batches.reduce((s, b) => s + b.length, 0);
  const hitValues = batches.reduce((s, b) => s + b.columns.hits.values.length, 0);
  const columnBytes = { x: 4 * rows, y: 4 * rows, label: rows, weight: 4 * rows, hits: 4 * hitValues };
  return {
    files: [{ path: 'memory', bytes: Object.values(columnBytes).reduce((a, b) => a + b, 0), rows, rowGroups: batches.length }],
    schema: batches[0].schema,
    rows,
    bytesOnDisk: Object.values(columnBytes).reduce((a, b) => a + b, 0),
    columnBytes,
    columnValues: { x: rows, y: rows, label: rows, weight: rows, hits: hitValues },
  };
}

export function memorySource(batches: EventBatch[]): EventSource {
  const info = toyInfo(batches);
  return { describe: async () => info, batches: () => from(batches) };
}

export function toyPipeline(overrides: Record<string, unknown> = {}): Pipeline {
  return PipelineSchema.parse({
    name: 'toy',
    source: { kind: 'parquet', paths: ['memory'] },
    label: 'label',
    weight: 'weight',
    features: ['x', 'y'],
    cuts: [
      { column: 'x', op: '>' },
      { column: 'y', op: '>' },
    ],
    ...overrides,
  });
}

/** Exact weighted-free AUC by counting pairs (small inputs only). */
export function exactAuc(score: ArrayLike<number>, label: ArrayLike<number>): number {
  let pairs = 0;
  let wins = 0;
  for (let i = 0; i < score.length; i++) {
    if (label[i] !== 1) continue;
    for (let j = 0; j < score.length; j++) {
      if (label[j] !== 0) continue;
      pairs++;
      wins += score[i] > score[j] ? 1 : score[i] === score[j] ? 0.5 : 0;
    }
  }
  return wins / pairs;
}
