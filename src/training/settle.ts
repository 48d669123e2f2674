import { ignoreElements, lastValueFrom, type Observable, tap } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import { cutEdges, type Edge, withEdgeThresholds } from '../model/cuts.js';
import { hasMlp, type SelectionModel } from '../model/model.js';
import { mlpScore } from '../model/score.js';
import { type BatchLayout, prepareBatch } from './prepare.js';
import type { DataStats } from './stats.js';

/**
 * The end of training with a size target: one pass over the training split that puts the hard
 * cuts on the target. Soft cuts meet the target on average over minibatches, at their slope; the
 * skim applies hard cuts, and only once. The pass moves every threshold by one shift s, in units
 * of its variable's standard deviation, tighter for s > 0 (the shape training found, scaled):
 * threshold + sign s std, so an event passes every cut at shift s when its margin
 * m = min_k sign_k (x_k - threshold_k) / std_k is above s. Histograms of the events' margins
 * (bins of 2^-12 standard deviation) give the hard kept fraction and the signal kept at every
 * shift; the shift is the loosest within the target (the most signal), unless the cuts as they
 * are keep as much signal. So the cuts end within a bin of the target where it binds, and below
 * it where all the signal fits in less.
 *
 * One parameter, fitted to the target alone: thresholds chosen for the most signal on the
 * training split's hard counts (each edge apart) fit its fluctuations, which at a target of 1 %
 * (~1000 background events in a window of 100k) cost more than they gain on other events.
 * Edges outside the data (training left them open: they cut nothing) stay where they are.
 */
export interface Settled {
  model: SelectionModel;
  /** Hard kept fraction (of what the size term counts) on the training split, before and after. */
  keptBefore: number;
  keptAfter: number;
  /** Weighted signal the hard cuts keep, before and after (as a fraction). */
  signalBefore: number;
  signalAfter: number;
  /** The edges moved ('x >', 'y <'), from and to. */
  moved: { edge: string; from: number; to: number }[];
  /** marginElasticity where the cuts end. */
  elasticity: number | null;
}

/** Shifts in [-RANGE, RANGE] standard deviations, in BINS bins (s = 0 an edge of two). */
const RANGE = 8;
const BINS = 1 << 16;
const WIDTH = (2 * RANGE) / BINS;
/** The bin of shift 0: the cuts as they are. */
const NOW = BINS / 2;

/**
 * The hard cuts' kept signal and bytes at every common shift (see settleOnTarget), counted in one
 * pass over a split: signal[j] and bytes[j] at shift -RANGE + j WIDTH (j = NOW: the cuts as they
 * are), as sums of event weights and bytes, of sumSignal and sumBytes in all.
 */
export interface MarginCurve {
  model: SelectionModel;
  edges: Edge[];
  /** Edges outside the data (training left them open: they cut nothing): no shift moves them. */
  open: boolean[];
  signal: Float64Array;
  bytes: Float64Array;
  sumSignal: number;
  sumBytes: number;
}

export async function marginCurve(
  model: SelectionModel,
  layout: BatchLayout,
  scoreCut: number | null,
  stats: DataStats,
  batches: Observable<EventBatch>,
): Promise<MarginCurve> {
  const edges = cutEdges(model.cuts);
  const open = edges.map((e) => {
    const s = stats.quantities.get(model.cuts[e.cut].column)!;
    return e.sign > 0 ? e.threshold < s.min : e.threshold > s.max;
  });
  const h = await marginHistograms(model, layout, scoreCut, edges, open, batches);
  // Kept at shift s_j: the bins from j up, and the margins above the range.
  const signal = new Float64Array(BINS + 1);
  const bytes = new Float64Array(BINS + 1);
  [signal[BINS], bytes[BINS]] = [h.above.signal, h.above.bytes];
  for (let j = BINS - 1; j >= 0; j--) [signal[j], bytes[j]] = [signal[j + 1] + h.signal[j], bytes[j + 1] + h.bytes[j]];
  return { model, edges, open, signal, bytes, sumSignal: h.sumSignal, sumBytes: h.sumBytes };
}

export function settleOnTarget(c: MarginCurve, target: number): Settled {
  const { model, edges, open, signal, bytes } = c;
  const limit = target * c.sumBytes * (1 + 1e-9);
  let j = 0;
  while (j < BINS && bytes[j] > limit) j++;
  if (bytes[NOW] <= limit && signal[NOW] >= signal[j]) j = NOW;
  const shift = -RANGE + j * WIDTH;
  const thresholds = edges.map((e, k) => (open[k] ? e.threshold : e.threshold + e.sign * shift * e.std));
  const fraction = (x: number, of: number) => (of > 0 ? x / of : 0);
  const moved = edges
    .map((e, k) => ({ e, from: e.threshold, to: thresholds[k] }))
    .filter((m) => m.from !== m.to)
    .map((m) => ({ edge: `${model.cuts[m.e.cut].column} ${m.e.sign > 0 ? '>' : '<'}`, from: m.from, to: m.to }));
  return {
    model: { ...model, cuts: withEdgeThresholds(model.cuts, thresholds) },
    keptBefore: fraction(bytes[NOW], c.sumBytes),
    signalBefore: fraction(signal[NOW], c.sumSignal),
    keptAfter: fraction(bytes[j], c.sumBytes),
    signalAfter: fraction(signal[j], c.sumSignal),
    moved,
    elasticity: marginElasticity(c, j),
  };
}

/** Kept bytes a tenth either side of the cuts' for marginElasticity. */
const SPAN = 1.1;

/**
 * d log(signal kept) / d log(bytes kept) at the cuts shifted by bin j (NOW: as they are), from
 * where the common shift keeps 1.1x and 1 / 1.1x their bytes; Infinity where they keep no signal
 * (of some), null where they keep no bytes, or the shift cannot reach those points. Above 1, the
 * skim loses signal faster than bytes at its margin: a looser skim, randomly prescaled to the
 * same bytes, would keep more signal.
 */
export function marginElasticity(c: MarginCurve, j = NOW): number | null {
  const { signal, bytes } = c;
  if (!(signal[j] > 0)) return c.sumSignal > 0 ? Infinity : null;
  if (!(bytes[j] > 0)) return null;
  let [loose, tight] = [j, j];
  while (loose > 0 && bytes[loose] < SPAN * bytes[j]) loose--;
  while (tight < BINS && bytes[tight] > bytes[j] / SPAN) tight++;
  if (bytes[loose] < SPAN * bytes[j] || bytes[tight] > bytes[j] / SPAN) return null;
  if (!(signal[tight] > 0)) return Infinity;
  return Math.log(signal[loose] / signal[tight]) / Math.log(bytes[loose] / bytes[tight]);
}

/** Signal and bytes per bin of the events' margins (see settleOnTarget); those above the range apart. */
async function marginHistograms(
  model: SelectionModel,
  layout: BatchLayout,
  scoreCut: number | null,
  edges: Edge[],
  open: boolean[],
  batches: Observable<EventBatch>,
) {
  const E = edges.length;
  const h = {
    signal: new Float64Array(BINS),
    bytes: new Float64Array(BINS),
    above: { signal: 0, bytes: 0 },
    sumBytes: 0,
    sumSignal: 0,
  };
  const score = scoreCut !== null && hasMlp(model);
  const events = { ...layout, model };
  await lastValueFrom(
    batches.pipe(
      tap((batch) => {
        const p = prepareBatch(events, batch);
        const scores = score ? mlpScore(model, batch) : null;
        for (let i = 0; i < p.n; i++) {
          h.sumBytes += p.bytes[i];
          const signal = p.label[i] ? p.fullWeight[i] : 0;
          h.sumSignal += signal;
          // A NaN in a cut variable, or the score cut, fails whatever the thresholds.
          if (p.weight[i] === 0 && p.keptBytes[i] === 0) continue;
          if (scores && !(scores[i] > scoreCut!)) continue;
          let margin = Infinity;
          for (let k = 0; k < E; k++) {
            const e = edges[k];
            // A value prepareBatch moved far out (±Inf in the data) passes or fails as the skim's cut does.
            if (!open[k]) margin = Math.min(margin, (e.sign * (p.cutValues[i * E + k] - e.threshold)) / e.std);
          }
          const j = Math.floor((margin + RANGE) / WIDTH);
          if (j < 0) continue;
          if (j >= BINS) [h.above.signal, h.above.bytes] = [h.above.signal + signal, h.above.bytes + p.keptBytes[i]];
          else [h.signal[j], h.bytes[j]] = [h.signal[j] + signal, h.bytes[j] + p.keptBytes[i]];
        }
      }),
      ignoreElements(),
    ),
    { defaultValue: undefined },
  );
  return h;
}
