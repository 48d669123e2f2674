/**
 * Signed event weights per class (NLO generators give some events negative weights). Yields,
 * efficiencies and the AUC keep them signed; a class whose weights mostly cancel makes all of
 * them unreliable (and the AUC may leave [0, 1]), so training and eval warn about it.
 */
export class WeightSigns {
  /** Per class (0 background, 1 signal): signed sum, sum of |w| and sum of |w| over negative weights. */
  private readonly sum = [0, 0];
  private readonly absolute = [0, 0];
  private readonly negative = [0, 0];

  /** A negative share of a class's absolute weight above this is warned about. */
  static readonly NEGATIVE_SHARE = 0.4;

  add(isSignal: ArrayLike<number>, weight: ArrayLike<number> | null): void {
    if (!weight) return;
    for (let i = 0; i < weight.length; i++) {
      const c = isSignal[i] ? 1 : 0;
      const w = weight[i];
      this.sum[c] += w;
      this.absolute[c] += Math.abs(w);
      if (w < 0) this.negative[c] -= w;
    }
  }

  /** The signed sum of a class's weights (the class's yield when weights are normalised to a luminosity). */
  total(signal: boolean): number {
    return this.sum[signal ? 1 : 0];
  }

  /** One line when negative weights dominate a class (its sum <= 0, or too large a negative share), else null. */
  warning(weight: string): string | null {
    const worries = (['background', 'signal'] as const).flatMap((name, c) => {
      if (this.absolute[c] === 0) return [];
      const share = this.negative[c] / this.absolute[c];
      if (this.sum[c] <= 0) return [`${name} sums to ${this.sum[c].toPrecision(4)}`];
      if (share > WeightSigns.NEGATIVE_SHARE)
        return [`${name} has ${(100 * share).toFixed(1)}% of its |weight| negative`];
      return [];
    });
    if (worries.length === 0) return null;
    const unreliable = 'yields, efficiencies and the AUC (signed weights, which may leave [0, 1]) are unreliable';
    return `negative weights ('${weight}') dominate: ${worries.join(', ')}; ${unreliable}`;
  }
}
