import { from, lastValueFrom } from 'rxjs';
import { makeBatch, type EventBatch } from '../../src/batch/batch.js';
import { createModel, type SelectionModel } from '../../src/model/model.js';
import { parquetSink } from '../../src/sinks/parquetSink.js';
import { normalSampler, seededRandom } from '../../src/util/random.js';

export { sql, tempDir } from '../parquet/helpers.js';

/**
 * Two Gaussian classes in (x, y) as in the seed talk, with a label, a weight in [0.5, 1.5) and a
 * list column 'hits' (signal events carry more hits, so they cost more bytes).
 */
export function toyEvents(n: number, seed: number, batchRows = 700): EventBatch[] {
  const random = seededRandom(`eval-toy:${seed}`);
  const normal = normalSampler(random);
  const out: EventBatch[] = [];
  for (let start = 0; start < n; start += batchRows) {
    const m = Math.min(batchRows, n - start);
    const x = new Float64Array(m);
    const y = new Float32Array(m);
    const label = new Int32Array(m);
    const weight = new Float32Array(m);
    const offsets = new Int32Array(m + 1);
    for (let i = 0; i < m; i++) {
      const signal = random() < 0.4;
      label[i] = signal ? 1 : 0;
      x[i] = signal ? 1.5 + 0.7 * normal() : 3 * normal();
      y[i] = signal ? 2 + 0.7 * normal() : 3 * normal();
      weight[i] = 0.5 + random();
      offsets[i + 1] = offsets[i] + Math.floor(random() * (signal ? 8 : 3));
    }
    const hits = Float32Array.from({ length: offsets[m] }, () => random());
    out.push(
      makeBatch(
        { x, y, label, weight, hits: { offsets, values: hits } },
        { x: 'float64', y: 'float32', label: 'int32', weight: 'float32', hits: 'float32' },
      ),
    );
  }
  return out;
}

export async function writeParquet(path: string, batches: EventBatch[], rowGroupRows = 1000): Promise<void> {
  await lastValueFrom(from(batches).pipe(parquetSink(path, { rowGroupRows })));
}

/** A cuts x MLP model on x, y with fixed (seeded) weights and cuts x > 0.5, -1 < y < 4. */
export function toyModel(): SelectionModel {
  const model = createModel({
    kind: 'cuts-x-mlp',
    features: ['x', 'y'],
    inputMean: [0.5, 0.7],
    inputStd: [2.5, 2.5],
    hidden: [5],
    seed: 7,
    cuts: [
      { column: 'x', op: '>', form: 'sigmoid', slope: 3, value: 0.5, mean: 0.5, std: 2.5 },
      { column: 'y', op: 'between', form: 'erf', slope: 2, low: -1, high: 4, mean: 0.7, std: 2.5 },
    ],
  });
  // Point the classifier at signal: a positive output weight on the hidden units that see x + y.
  const [hidden, output] = model.layers;
  for (let h = 0; h < hidden.outputs; h++) {
    hidden.kernel[h] = 0.8; // from x
    hidden.kernel[hidden.outputs + h] = 0.6 + 0.1 * h; // from y
    output.kernel[h] = h % 2 === 0 ? 1 : 0.5;
  }
  output.bias[0] = -1;
  return model;
}

/** Exact weighted AUC by sorting: P(score_S > score_B) with ties counted one half. */
export function exactAuc(score: ArrayLike<number>, isSignal: ArrayLike<number>, weight?: ArrayLike<number>): number {
  const order = Array.from({ length: score.length }, (_, i) => i).sort((a, b) => score[a] - score[b]);
  let below = 0;
  let sum = 0;
  let [totalS, totalB] = [0, 0];
  for (let i = 0; i < order.length;) {
    let j = i;
    let [s, b] = [0, 0];
    while (j < order.length && score[order[j]] === score[order[i]]) {
      const w = weight ? weight[order[j]] : 1;
      if (isSignal[order[j]]) s += w;
      else b += w;
      j++;
    }
    sum += s * (below + 0.5 * b);
    below += b;
    totalS += s;
    totalB += b;
    i = j;
  }
  return sum / (totalS * totalB);
}

/**
 * Scores as a trained product of sharp soft cuts and a sigmoid gives them, with signal shifted
 * to the worse side (AUC < 0.5): half the events below 1e-13 (down to 1e-120), 2 % missing and
 * those beyond a hard cut at exactly 0 (tied), the best ones at exactly 1; weights in [0.5, 1.5).
 */
export function pileUpScores(
  n: number,
  seed: number,
): { score: Float64Array; isSignal: Uint8Array; weight: Float64Array } {
  const random = seededRandom(`pile-up:${seed}`);
  const normal = normalSampler(random);
  const sigmoid = (t: number) => 1 / (1 + Math.exp(-t));
  const isSignal = Uint8Array.from({ length: n }, () => (random() < 0.4 ? 1 : 0));
  const score = Float64Array.from(isSignal, (s) => {
    const x = (s ? -0.5 : 0) + normal();
    const y = normal();
    if (random() < 0.02 || x < -2.5) return 0;
    return sigmoid(60 * x) * sigmoid(40 * y);
  });
  return { score, isSignal, weight: Float64Array.from(isSignal, () => 0.5 + random()) };
}
