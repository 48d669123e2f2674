/**
 * Weighted ROC AUC in bounded memory: scores are histogrammed per class in log-odds
 * (clamped to [-30, 30]); pairs in the same bin count one half. With 8192 bins the error is far
 * below the statistical one of any realistic validation set.
 */
export class AucAccumulator {
  private readonly signal: Float64Array;
  private readonly background: Float64Array;
  private static readonly RANGE = 30;

  constructor(private readonly bins = 8192) {
    this.signal = new Float64Array(bins);
    this.background = new Float64Array(bins);
  }

  /** score in [0, 1]; label 1 = signal; weight defaults to 1. */
  add(score: ArrayLike<number>, label: ArrayLike<number>, weight?: ArrayLike<number>): void {
    const { bins } = this;
    const r = AucAccumulator.RANGE;
    for (let i = 0; i < score.length; i++) {
      const p = score[i];
      const t = Math.log(p) - Math.log1p(-p);
      const clamped = Number.isNaN(t) ? -r : Math.min(r, Math.max(-r, t));
      const bin = Math.min(bins - 1, Math.floor(((clamped + r) / (2 * r)) * bins));
      (label[i] > 0.5 ? this.signal : this.background)[bin] += weight ? weight[i] : 1;
    }
  }

  /** Probability that a signal event scores above a background event (NaN without both classes). */
  value(): number {
    let below = 0;
    let sum = 0;
    let totalS = 0;
    let totalB = 0;
    for (let k = 0; k < this.bins; k++) {
      sum += this.signal[k] * (below + 0.5 * this.background[k]);
      below += this.background[k];
      totalS += this.signal[k];
      totalB += this.background[k];
    }
    return totalS > 0 && totalB > 0 ? sum / (totalS * totalB) : NaN;
  }
}
