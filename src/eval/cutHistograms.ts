import type { EventBatch } from '../batch/batch.js';
import type { SelectionModel } from '../model/model.js';
import type { HardCut } from '../selection/cutsFile.js';
import { columnForm, compileExpr, valuesOf } from '../selection/expr/index.js';

/** Histogram of one cut variable over all events, per class, with the cut applied to it. */
export interface CutDistribution {
  column: string;
  cut: HardCut;
  /** Bin edges (bins + 1). */
  edges: number[];
  /** Unweighted events per bin. */
  all: number[];
  /** Weighted signal and background per bin (labelled datasets only). */
  signal?: number[];
  background?: number[];
  /** Events below the first edge, above the last, and with no value (NaN, empty list). */
  underflow: number;
  overflow: number;
  missing: number;
}

/** A hard cut with the location and spread of its variable, which fix the histogram range. */
export interface CutRange {
  cut: HardCut;
  mean: number;
  std: number;
}

/**
 * Ranges for the cuts of a cuts file: the mean and spread the model saved for a cut on the same
 * variable, else a range centred on the threshold.
 */
export function cutRanges(cuts: HardCut[], model?: SelectionModel): CutRange[] {
  return cuts.map((cut) => {
    const spec = model?.cuts.find((c) => c.column === cut.column);
    if (spec && spec.std > 0) return { cut, mean: spec.mean, std: spec.std };
    const [lo, hi] = thresholds(cut).length === 2 ? thresholds(cut) : [thresholds(cut)[0], thresholds(cut)[0]];
    return { cut, mean: (lo + hi) / 2, std: Math.max((hi - lo) / 2, Math.abs(lo) / 2, 1) };
  });
}

export function thresholds(cut: HardCut): number[] {
  return cut.op === 'between' ? [cut.low, cut.high] : [cut.value];
}

/**
 * Fixed-bin histograms of each cut variable over all events (before any cut), per class, in
 * bounded memory, binned by histogramEdges.
 */
export class CutHistograms {
  private readonly hists: {
    range: CutRange;
    edges: number[];
    all: Float64Array;
    signal: Float64Array;
    background: Float64Array;
    under: number;
    over: number;
    missing: number;
  }[];

  constructor(
    ranges: CutRange[],
    private readonly labelled: boolean,
    bins = 60,
  ) {
    this.hists = ranges.map((range) => {
      const edges = histogramEdges(range, bins);
      const n = edges.length - 1;
      return {
        range,
        edges,
        all: new Float64Array(n),
        signal: new Float64Array(n),
        background: new Float64Array(n),
        under: 0,
        over: 0,
        missing: 0,
      };
    });
  }

  add(batch: EventBatch, isSignal: Uint8Array | null, weight: ArrayLike<number> | null): void {
    for (const h of this.hists) {
      const x = valuesOf(batch, h.range.cut.column);
      const n = h.all.length;
      const binOf = binLocator(h.edges);
      for (let i = 0; i < x.length; i++) {
        if (Number.isNaN(x[i])) {
          h.missing++;
          continue;
        }
        const k = binOf(x[i]);
        if (k < 0) h.under++;
        else if (k >= n) h.over++;
        else {
          h.all[k]++;
          if (isSignal) (isSignal[i] ? h.signal : h.background)[k] += weight ? weight[i] : 1;
        }
      }
    }
  }

  distributions(): CutDistribution[] {
    return this.hists.map((h) => ({
      column: h.range.cut.column,
      cut: h.range.cut,
      edges: h.edges,
      all: Array.from(h.all),
      ...(this.labelled && { signal: Array.from(h.signal), background: Array.from(h.background) }),
      underflow: h.under,
      overflow: h.over,
      missing: h.missing,
    }));
  }
}

/** The bin of x among equal-width edges: below 0 under the first edge, bins or more above the last. */
export function binLocator(edges: number[]): (x: number) => number {
  const n = edges.length - 1;
  const lo = edges[0];
  const width = (edges[n] - lo) / n;
  return (x) => Math.floor((x - lo) / width);
}

/**
 * Bin edges of a cut variable's histogram: mean +- 4 std widened to show the thresholds; small
 * counts (count(jets)) get one bin per integer.
 */
export function histogramEdges(range: CutRange, bins = 60): number[] {
  const t = thresholds(range.cut);
  let lo = Math.min(range.mean - 4 * range.std, ...t.map((v) => v - 0.5 * range.std));
  let hi = Math.max(range.mean + 4 * range.std, ...t.map((v) => v + 0.5 * range.std));
  if (columnForm(compileExpr(range.cut.column))?.fn === 'count' && hi - lo <= 200) {
    // Small integer counts: one bin per value, centred on it.
    lo = Math.max(-0.5, Math.floor(lo) - 0.5);
    hi = Math.ceil(hi) + 0.5;
    bins = Math.round(hi - lo);
  }
  return Array.from({ length: bins + 1 }, (_, i) => lo + ((hi - lo) * i) / bins);
}
