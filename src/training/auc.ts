import { sigmoid } from '../model/score.js';

/**
 * Per-event sums (channels: class weights, events, bytes) of scores in [0, 1], binned in
 * log-odds t = log(p / (1 - p)) with no clamp, in fixed memory. The product of soft cuts and a
 * sigmoid piles events up near 0 and 1, where log-odds keep them apart; p = 0 (an event failing
 * a cut, or NaN) has a bin of its own below every other (t = -Inf), p = 1 one above (+Inf).
 * Between them `size` bins uniform in stretch(t) (see below) start 2^-40 wide around the first
 * score and double in width (merging pairs) only as far as the scores seen need: one width for
 * the whole range, as fine as the range allows (2^-11 or finer for any float64 scores).
 */
export class LogOddsHistogram {
  /** Per channel: bin 0 holds p = 0, bins 1..size the grid, bin size + 1 holds p = 1. */
  readonly channels: Float64Array[];
  /** Bin k >= 1 holds lo + (k - 1) * width <= stretch(t) < lo + k * width; width 0 until a score in (0, 1). */
  private lo = 0;
  private width = 0;

  constructor(
    channels: number,
    readonly size = 1 << 18,
  ) {
    this.channels = Array.from({ length: channels }, () => new Float64Array(size + 2));
  }

  get bins(): number {
    return this.size + 2;
  }

  /** The bin of a score, widening the grid when the score lies outside it. */
  binOf(score: number): number {
    if (!(score > 0)) return 0;
    if (score >= 1) return this.size + 1;
    const u = stretch(Math.log(score) - Math.log1p(-score));
    if (this.width === 0) {
      this.width = 2 ** -40;
      this.lo = (Math.floor(u / this.width) - this.size / 2) * this.width;
    }
    if (u < this.lo || u >= this.lo + this.size * this.width) this.widen(u);
    return 1 + Math.min(this.size - 1, Math.floor((u - this.lo) / this.width));
  }

  /** The smallest score in bin k: `score >= lowerEdge(k)` selects bins k and above. */
  lowerEdge(k: number): number {
    if (k <= 0) return 0;
    if (k > this.size) return 1;
    return sigmoid(unstretch(this.lo + (k - 1) * this.width));
  }

  /**
   * Doubles the width until the grid reaches u, keeping its far end: every old bin falls whole
   * into one new bin (widths are powers of 2 and edges their multiples, so the maths is exact).
   */
  private widen(u: number): void {
    const { size } = this;
    const [lo0, hi0] = [this.lo, this.lo + size * this.width];
    let [lo, width] = [lo0, this.width];
    while (u < lo || u >= lo + size * width) {
      width *= 2;
      lo = u < lo0 ? Math.ceil(hi0 / width) * width - size * width : Math.floor(lo0 / width) * width;
    }
    for (const c of this.channels) {
      const merged = new Float64Array(c.length);
      merged[0] = c[0];
      merged[size + 1] = c[size + 1];
      for (let k = 1; k <= size; k++) {
        if (c[k] !== 0) merged[1 + Math.floor((lo0 + (k - 1) * this.width - lo) / width)] += c[k];
      }
      c.set(merged);
    }
    [this.lo, this.width] = [lo, width];
  }
}

/**
 * Log-odds t as the grid's coordinate: t itself for |t| up to ~10, where a classifier's scores
 * lie and can crowd into a narrow band; logarithmic beyond, where steep soft cuts spread the
 * events they fail over hundreds of units. Monotone, so the bins keep the scores' order; the
 * range of float64 scores, [-745, 37] in t, shrinks to [-50, 20.2], which keeps the bins fine
 * where scores crowd even when others spread far.
 */
const STRETCH = 10;
const stretch = (t: number) => STRETCH * Math.asinh(t / STRETCH);
const unstretch = (u: number) => STRETCH * Math.sinh(u / STRETCH);

/**
 * Weighted ROC AUC from per-class sums in bins ordered by score: the probability that a signal
 * event scores above a background event, pairs in one bin counting one half (exact for ties).
 * NaN without both classes.
 */
export function binnedAuc(signal: Float64Array, background: Float64Array): number {
  let below = 0;
  let sum = 0;
  let totalS = 0;
  for (let k = 0; k < signal.length; k++) {
    sum += signal[k] * (below + 0.5 * background[k]);
    below += background[k];
    totalS += signal[k];
  }
  return totalS > 0 && below > 0 ? sum / (totalS * below) : NaN;
}

/**
 * The exact weighted ROC AUC of up to `cap` events: sorted by score, every group of equal scores
 * one bin of binnedAuc (so pairs count one half only when their scores are equal). Weights stay
 * signed (an NLO sample's negative weights), as in the sum over all signal/background pairs.
 * Beyond `cap` events it gives null and the log-odds bins stand in (ties within a bin's width).
 */
export class ExactAuc {
  private score = new Float64Array(1024);
  private weight = new Float64Array(1024);
  private signal = new Uint8Array(1024);
  private n = 0;
  private overflowed = false;

  constructor(readonly cap = 1 << 20) {}

  add(score: ArrayLike<number>, isSignal: ArrayLike<number>, weight: ArrayLike<number> | null): void {
    if (this.overflowed) return;
    if (this.n + score.length > this.cap) {
      this.overflowed = true;
      [this.score, this.weight, this.signal] = [new Float64Array(0), new Float64Array(0), new Uint8Array(0)];
      return;
    }
    if (this.n + score.length > this.score.length) this.grow(this.n + score.length);
    for (let i = 0; i < score.length; i++, this.n++) {
      // As binned: NaN with 0 (fails), and [0, 1] the range.
      this.score[this.n] = score[i] > 0 ? Math.min(score[i], 1) : 0;
      this.signal[this.n] = isSignal[i] > 0.5 ? 1 : 0;
      this.weight[this.n] = weight ? weight[i] : 1;
    }
  }

  /** The AUC (NaN without both classes), or null when more than `cap` events were added. */
  value(): number | null {
    if (this.overflowed) return null;
    // The distinct scores, sorted (a typed array sorts numerically, fast); each event's group by bisection.
    const sorted = this.score.slice(0, this.n).sort();
    let groups = 0;
    for (let k = 0; k < sorted.length; k++) {
      if (groups === 0 || sorted[k] !== sorted[groups - 1]) sorted[groups++] = sorted[k];
    }
    const distinct = sorted.subarray(0, groups);
    const signal = new Float64Array(groups);
    const background = new Float64Array(groups);
    for (let i = 0; i < this.n; i++) {
      const x = this.score[i];
      let [lo, hi] = [0, groups - 1];
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (distinct[mid] < x) lo = mid + 1;
        else hi = mid;
      }
      (this.signal[i] ? signal : background)[lo] += this.weight[i];
    }
    return binnedAuc(signal, background);
  }

  private grow(atLeast: number): void {
    const size = Math.min(this.cap, Math.max(atLeast, 2 * this.score.length));
    const [score, weight, signal] = [new Float64Array(size), new Float64Array(size), new Uint8Array(size)];
    score.set(this.score.subarray(0, this.n));
    weight.set(this.weight.subarray(0, this.n));
    signal.set(this.signal.subarray(0, this.n));
    [this.score, this.weight, this.signal] = [score, weight, signal];
  }
}

/** Weighted ROC AUC for training's validation: exact (ExactAuc), or binned (LogOddsHistogram) beyond its cap. */
export class AucAccumulator {
  private readonly histogram = new LogOddsHistogram(2);
  private readonly exact = new ExactAuc();

  /** score in [0, 1]; label 1 = signal; weight defaults to 1 (signed weights stay signed). */
  add(score: ArrayLike<number>, label: ArrayLike<number>, weight?: ArrayLike<number>): void {
    const [signal, background] = this.histogram.channels;
    for (let i = 0; i < score.length; i++) {
      (label[i] > 0.5 ? signal : background)[this.histogram.binOf(score[i])] += weight ? weight[i] : 1;
    }
    this.exact.add(score, label, weight ?? null);
  }

  /** Probability that a signal event scores above a background event (NaN without both classes). */
  value(): number {
    const [signal, background] = this.histogram.channels;
    return this.exact.value() ?? binnedAuc(signal, background);
  }
}
