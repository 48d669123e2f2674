import type { EventBatch } from '../batch/batch.js';

/** Events of several samples: the column holding each one's index in `names`. */
export interface SampleIndex {
  column: string;
  names: string[];
}

/** Each event's sample index. */
export function sampleOf(batch: EventBatch, index: SampleIndex): ArrayLike<number> {
  return batch.columns[index.column].values as ArrayLike<number>;
}

/**
 * Signed event weights per class (NLO generators give some events negative weights), and per
 * sample when events come from several. Yields, efficiencies and the AUC keep them signed; a class
 * or sample whose weights mostly cancel makes all of them unreliable (and the AUC may leave
 * [0, 1]), so training and eval warn about it, naming the class and the sample.
 */
export class WeightSigns {
  /** Per group: the classes (0 background, 1 signal), then the samples. */
  private readonly names: string[];
  /** Per group: signed sum, sum of |w| and sum of |w| over negative weights. */
  private readonly sum: Float64Array;
  private readonly absolute: Float64Array;
  private readonly negative: Float64Array;

  /** A negative share of a class's (sample's) absolute weight above this is warned about. */
  static readonly NEGATIVE_SHARE = 0.4;

  /** `samples`: the names of the samples, by the index add() is given. */
  constructor(samples: string[] = []) {
    this.names = ['background', 'signal', ...samples.map((s) => `sample '${s}'`)];
    [this.sum, this.absolute, this.negative] = [0, 1, 2].map(() => new Float64Array(this.names.length));
  }

  /** Events' classes, weights and (with samples) the index of each one's sample. */
  add(isSignal: ArrayLike<number>, weight: ArrayLike<number> | null, sample?: ArrayLike<number>): void {
    if (!weight) return;
    for (let i = 0; i < weight.length; i++) {
      this.count(isSignal[i] ? 1 : 0, weight[i]);
      if (sample) this.count(2 + sample[i], weight[i]);
    }
  }

  private count(group: number, w: number): void {
    this.sum[group] += w;
    this.absolute[group] += Math.abs(w);
    if (w < 0) this.negative[group] -= w;
  }

  /** The signed sum of a class's weights (the class's yield when weights are normalised to a luminosity). */
  total(signal: boolean): number {
    return this.sum[signal ? 1 : 0];
  }

  /**
   * One line when negative weights dominate a class or sample (its sum <= 0, or too large a
   * negative share), else null.
   */
  warning(weight: string): string | null {
    const worries = this.names.flatMap((name, g) => {
      if (this.absolute[g] === 0) return [];
      if (this.sum[g] <= 0) return [`${name} sums to ${this.sum[g].toPrecision(4)}`];
      const share = this.negative[g] / this.absolute[g];
      if (share > WeightSigns.NEGATIVE_SHARE)
        return [`${name} has ${(100 * share).toFixed(1)}% of its |weight| negative`];
      return [];
    });
    if (worries.length === 0) return null;
    const unreliable = 'yields, efficiencies and the AUC (signed weights, which may leave [0, 1]) are unreliable';
    return `negative weights ('${weight}') dominate: ${worries.join(', ')}; ${unreliable}`;
  }
}
