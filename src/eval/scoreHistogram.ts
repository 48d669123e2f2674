import { binnedAuc, ExactAuc, LogOddsHistogram } from '../training/auc.js';

/**
 * Score distributions in bounded memory, for the AUC, ROC curves and working points on datasets
 * of any size. Scores are binned in log-odds (see LogOddsHistogram): resolution where the product of
 * soft cuts and a sigmoid piles events up, near 0 and 1, and events with p = 0 (failing a cut)
 * tied in a bin of their own. A threshold sits on a bin edge: "score >= threshold" selects whole bins.
 */
/** One point of the ROC curve: what `score >= threshold` keeps. */
export interface RocPoint {
  threshold: number;
  signalEfficiency: number;
  backgroundEfficiency: number;
}

/** A score threshold and what it keeps: efficiencies (weighted), events and bytes (unweighted). */
export interface WorkingPoint extends RocPoint {
  keptFraction: number;
  keptBytesFraction: number;
}

/** Coarse histogram of the score in [0, 1] for plots (weighted sums per class; all = unweighted events). */
export interface ScoreDistribution {
  edges: number[];
  signal: number[];
  background: number[];
  all: number[];
}

export class ScoreHistogram {
  private readonly fine = new LogOddsHistogram(4);
  /** Weighted sums per fine bin. */
  private readonly signal: Float64Array;
  private readonly background: Float64Array;
  /** Unweighted events and their stored bytes per fine bin. */
  private readonly events: Float64Array;
  private readonly bytes: Float64Array;
  private readonly plot: { signal: Float64Array; background: Float64Array; all: Float64Array };
  private readonly exact = new ExactAuc();

  constructor(readonly plotBins = 50) {
    [this.signal, this.background, this.events, this.bytes] = this.fine.channels;
    this.plot = {
      signal: new Float64Array(plotBins),
      background: new Float64Array(plotBins),
      all: new Float64Array(plotBins),
    };
  }

  /**
   * Adds a batch. `isSignal` is null for an unlabelled dataset; `weight` null means 1;
   * `bytes` are each event's stored bytes (null: not tracked).
   */
  add(
    score: ArrayLike<number>,
    isSignal: Uint8Array | null,
    weight: ArrayLike<number> | null,
    bytes: ArrayLike<number> | null,
  ): void {
    const { plotBins } = this;
    if (isSignal) this.exact.add(score, isSignal, weight);
    for (let i = 0; i < score.length; i++) {
      const k = this.fine.binOf(score[i]);
      const w = weight ? weight[i] : 1;
      const p = Math.min(plotBins - 1, Math.max(0, Math.floor((Number.isNaN(score[i]) ? 0 : score[i]) * plotBins)));
      this.events[k] += 1;
      this.plot.all[p] += 1;
      if (bytes) this.bytes[k] += bytes[i];
      if (!isSignal) continue;
      if (isSignal[i]) {
        this.signal[k] += w;
        this.plot.signal[p] += w;
      } else {
        this.background[k] += w;
        this.plot.background[p] += w;
      }
    }
  }

  /** Weighted AUC, exact up to ExactAuc's cap, binned beyond (NaN without both classes). */
  auc(): number {
    return this.exact.value() ?? binnedAuc(this.signal, this.background);
  }

  /**
   * The ROC curve, from the tightest threshold to the loosest, sampled where it is read on a plot
   * of 1/eps_B against eps_S: a point each time eps_B reaches the next of `perDecade` log-spaced
   * steps (down to the first background event) or eps_S has grown by `effStep`, and the last
   * point (1, 1). Every point is a threshold's exact efficiencies. Empty without both classes.
   */
  roc(perDecade = 20, effStep = 0.01): RocPoint[] {
    const [totalS, totalB] = [sum(this.signal), sum(this.background)];
    if (!(totalS > 0 && totalB > 0)) return [];
    const points: RocPoint[] = [];
    let [s, b] = [0, 0];
    let [lastS, lastStep] = [-1, NaN];
    let pending: RocPoint | null = null;
    for (let k = this.fine.bins - 1; k >= 0; k--) {
      if (this.signal[k] === 0 && this.background[k] === 0) continue;
      s += this.signal[k];
      b += this.background[k];
      pending = { threshold: this.fine.lowerEdge(k), signalEfficiency: s / totalS, backgroundEfficiency: b / totalB };
      const step = b > 0 ? Math.floor(perDecade * Math.log10(b / totalB)) : -Infinity;
      if (step !== lastStep || s / totalS - lastS >= effStep) {
        points.push(pending);
        [lastS, lastStep, pending] = [s / totalS, step, null];
      }
    }
    if (pending) points.push(pending);
    return points;
  }

  /**
   * The tightest threshold that keeps at least `target` of the signal (to one fine bin), or null
   * without labelled signal.
   */
  workingPoint(target: number): WorkingPoint | null {
    const totalS = sum(this.signal);
    if (!(totalS > 0)) return null;
    let s = 0;
    for (let k = this.fine.bins - 1; k >= 0; k--) {
      s += this.signal[k];
      if (s >= target * totalS * (1 - 1e-12)) return this.above(k);
    }
    return this.above(0);
  }

  /** Totals: weighted signal and background, unweighted events and bytes. */
  totals(): { signal: number; background: number; events: number; bytes: number } {
    return {
      signal: sum(this.signal),
      background: sum(this.background),
      events: sum(this.events),
      bytes: sum(this.bytes),
    };
  }

  distribution(): ScoreDistribution {
    return {
      edges: Array.from({ length: this.plotBins + 1 }, (_, i) => i / this.plotBins),
      signal: Array.from(this.plot.signal),
      background: Array.from(this.plot.background),
      all: Array.from(this.plot.all),
    };
  }

  /** What the bins from k upwards hold, as fractions of the totals. */
  private above(k: number): WorkingPoint {
    const part = (a: Float64Array) => sum(a.subarray(Math.min(k, this.fine.bins)));
    const frac = (x: number, total: number) => (total > 0 ? x / total : NaN);
    const t = this.totals();
    return {
      threshold: this.fine.lowerEdge(k),
      signalEfficiency: frac(part(this.signal), t.signal),
      backgroundEfficiency: frac(part(this.background), t.background),
      keptFraction: frac(part(this.events), t.events),
      keptBytesFraction: frac(part(this.bytes), t.bytes),
    };
  }
}

function sum(a: Float64Array): number {
  let s = 0;
  for (let i = 0; i < a.length; i++) s += a[i];
  return s;
}
