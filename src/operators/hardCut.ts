import type { OperatorFunction } from 'rxjs';
import { indicesOf, takeRows, type EventBatch } from '../batch/batch.js';
import { passMask, type HardCut } from '../selection/cutsFile.js';
import { operate } from './operate.js';

export interface ScoreCut {
  /** Classifier score per event. */
  fn: (batch: EventBatch) => Float32Array;
  /**
   * Events with score > threshold pass; a NaN score fails and is counted as cut. (The model's
   * scorer, src/model/score.ts, takes a NaN input at its mean; ±Inf inputs go through the network
   * as they are and give a score of 0, 1 or NaN.)
   */
  threshold: number;
  /** Columns the score function reads (a reader must provide them). */
  columns?: string[];
  /** Identifies the classifier (e.g. a hash of the saved model), so resumed skims never mix models. */
  id?: string;
}

export interface HardCutCounts {
  eventsIn: number;
  kept: number;
  cut: number;
}

export function newCounts(): HardCutCounts {
  return { eventsIn: 0, kept: 0, cut: 0 };
}

/**
 * Keeps the events that pass every hard cut (and the score cut, if given). NaN and null fail,
 * and are counted as cut. `counts` (if given) is updated as batches pass, so eventsIn = kept + cut
 * holds at every moment. Batches left empty are not emitted.
 */
export function hardCut(
  cuts: HardCut[],
  score?: ScoreCut,
  counts: HardCutCounts = newCounts(),
): OperatorFunction<EventBatch, EventBatch> {
  const keep = (batch: EventBatch): EventBatch | null => {
    const mask = passMask(batch, cuts);
    if (score) {
      const s = score.fn(batch);
      if (s.length !== batch.length)
        throw new Error(`score function gave ${s.length} scores for ${batch.length} events`);
      for (let i = 0; i < mask.length; i++) mask[i] &= s[i] > score.threshold ? 1 : 0;
    }
    let kept = 0;
    for (let i = 0; i < mask.length; i++) kept += mask[i];
    counts.eventsIn += batch.length;
    counts.kept += kept;
    counts.cut += batch.length - kept;
    if (kept === 0) return null;
    return kept === batch.length ? batch : takeRows(batch, indicesOf(mask, kept));
  };
  return operate((subscriber) => ({
    next(batch: EventBatch) {
      const out = keep(batch);
      if (out) subscriber.next(out);
    },
  }));
}
