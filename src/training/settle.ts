import { ignoreElements, lastValueFrom, type Observable, tap } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import { cutEdges, type Edge, withEdgeThresholds } from '../model/cuts.js';
import { hasMlp, type SelectionModel } from '../model/model.js';
import { mlpScore } from '../model/score.js';
import { type BatchLayout, prepareBatch } from './prepare.js';
import type { DataStats } from './stats.js';

/**
 * The end of training with a size target: one pass over the training split that puts the hard
 * cuts on the target. Soft cuts meet the target on average over minibatches, at their slope;
 * the skim applies hard cuts, and only once. For every edge (a threshold of a cut) the pass fills
 * a histogram of its variable over the events that pass everything else the skim applies (the
 * other edges, the score cut), so that the hard kept fraction and signal kept are known exactly
 * for every threshold of that edge (bins between the values of the variable's sample, ~1/20000
 * of the events each). Of the thresholds that keep at most the target, each edge's best keeps
 * the most signal weight (ties: the fewest bytes); the best of all edges' best is taken, unless
 * the cuts as they are keep more signal within the target. So the cuts end within a bin of the
 * target where it binds, and below it where all the signal fits in less; when training ended
 * near the target, the move is small and the shape training found stays.
 */
export interface Settled {
  model: SelectionModel;
  /** Hard kept fraction (of what the size term counts) on the training split, before and after. */
  keptBefore: number;
  keptAfter: number;
  /** Weighted signal the hard cuts keep, before and after (as a fraction). */
  signalBefore: number;
  signalAfter: number;
  /** The edge moved ('x >', 'y <'), from and to; null when nothing moved. */
  moved: { edge: string; from: number; to: number } | null;
}

export async function settleOnTarget(
  model: SelectionModel,
  layout: BatchLayout,
  target: number,
  scoreCut: number | null,
  stats: DataStats,
  batches: Observable<EventBatch>,
): Promise<Settled> {
  const edges = cutEdges(model.cuts);
  const E = edges.length;
  // Candidate thresholds: midway between consecutive distinct sampled values of the edge's variable.
  const candidates = edges.map((e) => midpoints(stats.quantities.get(model.cuts[e.cut].column)!.sample));
  const hist = candidates.map((c) => ({
    signal: new Float64Array(c.length + 1),
    bytes: new Float64Array(c.length + 1),
  }));
  const now = { signal: 0, bytes: 0 };
  let sumBytes = 0;
  let sumSignal = 0;
  const score = scoreCut !== null && hasMlp(model);
  await lastValueFrom(
    batches.pipe(
      tap((batch) => {
        const p = prepareBatch(layout, batch);
        const scores = score ? mlpScore(model, batch) : null;
        for (let i = 0; i < p.n; i++) {
          sumBytes += p.bytes[i];
          const signal = p.label[i] ? p.fullWeight[i] : 0;
          sumSignal += signal;
          // A NaN in a cut variable, or the score cut, fails whatever the thresholds.
          if (p.weight[i] === 0 && p.keptBytes[i] === 0) continue;
          if (scores && !(scores[i] > scoreCut!)) continue;
          let failed = -1;
          let fails = 0;
          for (let k = 0; k < E && fails < 2; k++)
            if (!passes(edges[k], p.cutValues[i * E + k])) [failed, fails] = [k, fails + 1];
          if (fails === 2) continue;
          if (fails === 0) [now.signal, now.bytes] = [now.signal + signal, now.bytes + p.keptBytes[i]];
          for (let k = 0; k < E; k++) {
            if (fails === 1 && k !== failed) continue;
            const j = bin(candidates[k], p.cutValues[i * E + k]);
            hist[k].signal[j] += signal;
            hist[k].bytes[j] += p.keptBytes[i];
          }
        }
      }),
      ignoreElements(),
    ),
    { defaultValue: undefined },
  );
  const limit = target * sumBytes * (1 + 1e-9);
  let best = now.bytes <= limit ? { edge: -1, at: NaN, ...now } : { edge: -1, at: NaN, signal: -1, bytes: Infinity };
  edges.forEach((e, k) => {
    const { signal, bytes } = hist[k];
    const c = candidates[k];
    // Kept with the threshold at c[j]: bins above j for a rising edge, bins up to j for a falling one.
    const keptAt = (sums: Float64Array) => {
      const out = new Float64Array(c.length);
      let acc = 0;
      if (e.sign > 0) for (let j = c.length - 1; j >= 0; j--) out[j] = acc += sums[j + 1];
      else for (let j = 0; j < c.length; j++) out[j] = acc += sums[j];
      return out;
    };
    const [s, b] = [keptAt(signal), keptAt(bytes)];
    for (let j = 0; j < c.length; j++)
      if (b[j] <= limit && (s[j] > best.signal || (s[j] === best.signal && b[j] < best.bytes)))
        best = { edge: k, at: c[j], signal: s[j], bytes: b[j] };
  });
  const fraction = (x: number, of: number) => (of > 0 ? x / of : 0);
  const result = {
    keptBefore: fraction(now.bytes, sumBytes),
    signalBefore: fraction(now.signal, sumSignal),
  };
  if (best.edge < 0)
    return { ...result, model, keptAfter: result.keptBefore, signalAfter: result.signalBefore, moved: null };
  const e = edges[best.edge];
  const thresholds = edges.map((x) => x.threshold);
  thresholds[best.edge] = best.at;
  const cut = model.cuts[e.cut];
  return {
    ...result,
    model: { ...model, cuts: withEdgeThresholds(model.cuts, thresholds) },
    keptAfter: fraction(best.bytes, sumBytes),
    signalAfter: fraction(best.signal, sumSignal),
    moved: { edge: `${cut.column} ${e.sign > 0 ? '>' : '<'}`, from: e.threshold, to: best.at },
  };
}

/** The hard cut of one edge (a value prepareBatch moved far out for ±Inf passes or fails as the skim's does). */
function passes(e: Edge, x: number): boolean {
  return e.sign > 0 ? x > e.threshold : x < e.threshold;
}

function midpoints(sample: Float64Array): Float64Array {
  const out: number[] = [];
  for (let i = 1; i < sample.length; i++) if (sample[i] > sample[i - 1]) out.push((sample[i - 1] + sample[i]) / 2);
  return Float64Array.from(out);
}

/** The number of candidates below x: bin j holds c[j-1] < x < c[j]. */
function bin(c: Float64Array, x: number): number {
  let [lo, hi] = [0, c.length];
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (c[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
