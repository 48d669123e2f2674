import { ignoreElements, lastValueFrom, type Observable, tap } from 'rxjs';
import type { EventBatch } from '../batch/batch.js';
import { cutEdges, type Edge, withEdgeThresholds } from '../model/cuts.js';
import { hasMlp, type SelectionModel } from '../model/model.js';
import { mlpScore } from '../model/score.js';
import { type BatchLayout, prepareBatch } from './prepare.js';
import type { DataStats } from './stats.js';

/**
 * The end of training with a size target: passes over the training split that put the hard
 * cuts on the target. Soft cuts meet the target on average over minibatches, at their slope;
 * the skim applies hard cuts, and only once. Each pass fills, for every edge (a threshold of a
 * cut), a histogram of its variable over the events that pass everything else the skim applies
 * (the other edges, the score cut), so that the hard kept fraction and signal kept are known for
 * every threshold of that edge, the others held (bins between the values of the variable's
 * sample, ~1/20000 of the events each). The first JOINT_PASSES passes move every edge to the
 * best of signal - price x bytes along it, with the one price at which they keep the target
 * together (the Lagrangian's optimality: every edge at the same marginal signal per byte); the
 * last moves the single edge whose move keeps the most signal within the target, unless the cuts
 * as they are keep more. So the cuts end within a bin of the target where it binds, and below
 * it where all the signal fits in less.
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
}

/** Passes that move every threshold together, before the last one that moves one threshold exactly onto the target. */
const JOINT_PASSES = 3;

export async function settleOnTarget(
  model: SelectionModel,
  layout: BatchLayout,
  target: number,
  scoreCut: number | null,
  stats: DataStats,
  batches: () => Observable<EventBatch>,
): Promise<Settled> {
  const edges = cutEdges(model.cuts);
  // Candidate thresholds: midway between consecutive distinct sampled values of the edge's variable.
  const candidates = edges.map((e) => midpoints(stats.quantities.get(model.cuts[e.cut].column)!.sample));
  const withThresholds = (thresholds: number[]) => ({ ...model, cuts: withEdgeThresholds(model.cuts, thresholds) });
  let thresholds = edges.map((e) => e.threshold);
  let first: Scan | null = null;
  for (let pass = 0; ; pass++) {
    const scan = await scanEdges(withThresholds(thresholds), layout, scoreCut, candidates, batches());
    first ??= scan;
    const limit = target * scan.sumBytes * (1 + 1e-9);
    if (pass < JOINT_PASSES) {
      thresholds = jointMove(scan, thresholds, candidates, limit);
      continue;
    }
    const best = singleMove(scan, candidates, limit);
    if (best.edge >= 0) thresholds[best.edge] = candidates[best.edge][best.at];
    const fraction = (x: number, of: number) => (of > 0 ? x / of : 0);
    const moved = edges
      .map((e, k) => ({ k, e, from: e.threshold, to: thresholds[k] }))
      .filter((m) => m.from !== m.to)
      .map((m) => ({ edge: `${model.cuts[m.e.cut].column} ${m.e.sign > 0 ? '>' : '<'}`, from: m.from, to: m.to }));
    return {
      model: withThresholds(thresholds),
      keptBefore: fraction(first.now.bytes, first.sumBytes),
      signalBefore: fraction(first.now.signal, first.sumSignal),
      keptAfter: fraction(best.edge >= 0 ? best.bytes : scan.now.bytes, scan.sumBytes),
      signalAfter: fraction(best.edge >= 0 ? best.signal : scan.now.signal, scan.sumSignal),
      moved,
    };
  }
}

/** Signal and bytes kept, per edge, as functions of that edge's threshold (at each candidate). */
interface Scan {
  edges: Edge[];
  curves: { signal: Float64Array; bytes: Float64Array }[];
  /** What the cuts keep as they are. */
  now: { signal: number; bytes: number };
  /**
   * Edges that fail no event the others pass: left open by training, which found them useless.
   * They stay where they are; moving them would fit the sample's fluctuations.
   */
  open: boolean[];
  sumBytes: number;
  sumSignal: number;
}

async function scanEdges(
  model: SelectionModel,
  layout: BatchLayout,
  scoreCut: number | null,
  candidates: Float64Array[],
  batches: Observable<EventBatch>,
): Promise<Scan> {
  const edges = cutEdges(model.cuts);
  const E = edges.length;
  const hist = candidates.map((c) => ({
    signal: new Float64Array(c.length + 1),
    bytes: new Float64Array(c.length + 1),
  }));
  const now = { signal: 0, bytes: 0 };
  const open = edges.map(() => true);
  let sumBytes = 0;
  let sumSignal = 0;
  const score = scoreCut !== null && hasMlp(model);
  const events = { ...layout, model };
  await lastValueFrom(
    batches.pipe(
      tap((batch) => {
        const p = prepareBatch(events, batch);
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
          else open[failed] = false;
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
  // Kept with the threshold at c[j]: bins above j for a rising edge, bins up to j for a falling one.
  const curves = edges.map((e, k) => {
    const keptAt = (sums: Float64Array) => {
      const n = candidates[k].length;
      const out = new Float64Array(n);
      let acc = 0;
      if (e.sign > 0) for (let j = n - 1; j >= 0; j--) out[j] = acc += sums[j + 1];
      else for (let j = 0; j < n; j++) out[j] = acc += sums[j];
      return out;
    };
    return { signal: keptAt(hist[k].signal), bytes: keptAt(hist[k].bytes) };
  });
  return { edges, curves, now, open, sumBytes, sumSignal };
}

/**
 * Every threshold to where signal - price x bytes is highest along it (the others held), with
 * the one price at which the moves together keep the target, to first order: each edge's
 * change in bytes is counted as if the others did not move (the events failing two edges, the
 * corners, are left to the next pass). Ties go to the candidate nearest the threshold now.
 */
function jointMove(scan: Scan, thresholds: number[], candidates: Float64Array[], limit: number): number[] {
  const choose = (price: number) =>
    scan.curves.map(({ signal, bytes }, k) => {
      if (scan.open[k]) return -1;
      let [best, value] = [0, signal[0] - price * bytes[0]];
      for (let j = 1; j < signal.length; j++) {
        const v = signal[j] - price * bytes[j];
        const tie = Math.abs(v - value) <= 1e-12 * Math.abs(value);
        const nearer = Math.abs(candidates[k][j] - thresholds[k]) < Math.abs(candidates[k][best] - thresholds[k]);
        if ((v > value && !tie) || (tie && nearer)) [best, value] = [j, v];
      }
      return best;
    });
  const keptBy = (choice: number[]) =>
    choice.reduce((b, j, k) => b + (j < 0 ? 0 : scan.curves[k].bytes[j] - scan.now.bytes), scan.now.bytes);
  // Prices in units of signal per byte, bisected in log between a tie-breaker and a price no edge pays.
  let [lo, hi] = [Math.log(1e-9), Math.log(1e9)];
  const perByte = scan.sumSignal / Math.max(scan.sumBytes, 1e-300);
  if (keptBy(choose(Math.exp(lo) * perByte)) > limit)
    for (let i = 0; i < 60; i++) {
      const mid = (lo + hi) / 2;
      if (keptBy(choose(Math.exp(mid) * perByte)) > limit) lo = mid;
      else hi = mid;
    }
  else hi = lo;
  return choose(Math.exp(hi) * perByte).map((j, k) => (j < 0 ? thresholds[k] : candidates[k][j]));
}

/**
 * Of the thresholds that keep at most the limit, each edge's best keeps the most signal (ties:
 * the fewest bytes); the best of all edges' is returned (edge -1 when the cuts as they are keep
 * more signal within the limit).
 */
function singleMove(scan: Scan, candidates: Float64Array[], limit: number) {
  let best =
    scan.now.bytes <= limit ? { edge: -1, at: -1, ...scan.now } : { edge: -1, at: -1, signal: -1, bytes: Infinity };
  scan.curves.forEach(({ signal: s, bytes: b }, k) => {
    if (scan.open[k]) return;
    for (let j = 0; j < candidates[k].length; j++)
      if (b[j] <= limit && (s[j] > best.signal || (s[j] === best.signal && b[j] < best.bytes)))
        best = { edge: k, at: j, signal: s[j], bytes: b[j] };
  });
  return best;
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
