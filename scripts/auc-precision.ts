/**
 * How far the binned AUC (src/training/auc.ts: what eval and training's validation use beyond
 * ExactAuc's 2^20 events) is from the exact weighted pair count (sorted, ties one half), and the
 * time ExactAuc (AucAccumulator below its cap) takes, on scores that pile up: the pile-up toy
 * of the tests (P far below 1e-13, P = 0 and P = 1 ties), scores in a narrow band of log-odds,
 * and half the events in such a band with the rest spread like the pile-up toy (the worst case).
 *
 *   npx tsx scripts/auc-precision.ts [events=200000]
 */
import { normalSampler, seededRandom } from '../src/util/random.js';
import { AucAccumulator, binnedAuc, LogOddsHistogram } from '../src/training/auc.js';
import { exactAuc, pileUpScores } from '../tests/eval/helpers.js';

const [events = 200_000] = process.argv.slice(2).map(Number);

function report(name: string, score: Float64Array, isSignal: Uint8Array, weight?: Float64Array): void {
  const t = performance.now();
  const histogram = new LogOddsHistogram(2);
  const [signal, background] = histogram.channels;
  for (let i = 0; i < score.length; i++)
    (isSignal[i] ? signal : background)[histogram.binOf(score[i])] += weight ? weight[i] : 1;
  const value = binnedAuc(signal, background);
  const ms = performance.now() - t;
  const t1 = performance.now();
  const accumulator = new AucAccumulator();
  accumulator.add(score, isSignal, weight);
  const accumulated = accumulator.value();
  const exactMs = performance.now() - t1;
  const exact = exactAuc(score, isSignal, weight);
  const error = (value - exact).toExponential(1).padStart(8);
  const accError = (accumulated - exact).toExponential(1).padStart(8);
  console.log(
    `${name.padEnd(44)} exact ${exact.toFixed(6)}  binned - exact ${error} ${ms.toFixed(0)} ms  ` +
      `AucAccumulator - exact ${accError} ${exactMs.toFixed(0)} ms`,
  );
}

/** Replaces every `every`-th score by one in a band of log-odds `width` wide (signal shifted by half of it). */
function band(score: Float64Array, isSignal: Uint8Array, width: number, every: number): Float64Array {
  const normal = normalSampler(seededRandom(`band:${width}`));
  const inBand = (signal: number) => 1 / (1 + Math.exp(-width * (normal() + (signal ? 0.5 : 0))));
  return score.map((p, i) => (i % every === 0 ? inBand(isSignal[i]) : p));
}

for (const seed of [1, 2, 3]) {
  const { score, isSignal, weight } = pileUpScores(events, seed);
  report(`pile-up toy, seed ${seed} (weighted)`, score, isSignal, weight);
}
const { score, isSignal, weight } = pileUpScores(events, 4);
for (const width of [1, 0.1, 0.02, 0.005]) {
  report(`all in a band ${width} wide`, band(score, isSignal, width, 1), isSignal);
}
for (const width of [0.1, 0.02, 0.005]) {
  report(`half in a band ${width} wide, half pile-up`, band(score, isSignal, width, 2), isSignal, weight);
}
