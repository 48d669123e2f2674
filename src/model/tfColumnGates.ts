import * as tf from '@tensorflow/tfjs-core';
import { seededRandom } from '../util/random.js';
import { type ColumnGateSpec, GATE_HIGH, GATE_LOW, GATE_RATE } from './columnGates.js';

/** The trainable twin of a ColumnGateSpec (see columnGates.ts for the hard-concrete gate). */
export class TfColumnGates {
  /** log alpha / GATE_RATE per gate. */
  readonly variable: tf.Variable;
  /**
   * The k-th gate of each feature as a selection matrix [gates, features], and 1 for the features
   * with fewer gates: a feature's gate is prod_k (z . select_k + ungated_k), in ops that have gradients.
   */
  private readonly select: tf.Tensor2D[] = [];
  private readonly ungated: tf.Tensor1D[] = [];

  constructor(private readonly spec: ColumnGateSpec) {
    this.variable = tf.tidy(() => tf.variable(tf.tensor1d(spec.logAlpha.map((a) => a / GATE_RATE))));
    const [c, f] = [spec.columns.length, spec.featureGates.length];
    const depth = Math.max(1, ...spec.featureGates.map((g) => g.length));
    for (let k = 0; k < depth; k++) {
      const select = new Float32Array(c * f);
      spec.featureGates.forEach((g, j) => {
        if (k < g.length) select[g[k] * f + j] = 1;
      });
      this.select.push(tf.tensor2d(select, [c, f]));
      this.ungated.push(tf.tensor1d(spec.featureGates.map((g) => (k < g.length ? 0 : 1))));
    }
  }

  get count(): number {
    return this.spec.columns.length;
  }

  /**
   * The noise of step `step` for n events: log u - log(1 - u) per event and gate, [n, gates],
   * drawn from (seed, step) so that a resumed run draws the same.
   */
  noise(n: number, step: number): Float32Array {
    const uniform = seededRandom(`gates:${this.spec.seed}:${step}`);
    const out = new Float32Array(n * this.spec.columns.length);
    for (let i = 0; i < out.length; i++) {
      const u = Math.min(Math.max(uniform(), 1e-6), 1 - 1e-6);
      out[i] = Math.log(u) - Math.log1p(-u);
    }
    return out;
  }

  /** Sampled gates z [n, gates] from the noise; call inside a gradient function. */
  sample(noise: tf.Tensor2D, temperature: number): tf.Tensor2D {
    const logAlpha = tf.mul(this.variable, GATE_RATE);
    const s = tf.sigmoid(tf.div(tf.add(noise, logAlpha), temperature));
    return tf.clipByValue(tf.add(tf.mul(s, GATE_HIGH - GATE_LOW), GATE_LOW), 0, 1) as tf.Tensor2D;
  }

  /** What each feature is multiplied by [n, features]: the product of its columns' gates. */
  featureGates(z: tf.Tensor2D): tf.Tensor2D {
    const z3 = tf.reshape(z, [z.shape[0], z.shape[1], 1]);
    const terms = this.select.map((s, k) => tf.add(tf.sum(tf.mul(z3, s), 1), this.ungated[k]));
    return terms.reduce((p, t) => tf.mul(p, t)) as tf.Tensor2D;
  }

  /** P(open) per gate, the share of each candidate's bytes the size term charges. */
  open(temperature: number): tf.Tensor1D {
    const logAlpha = tf.mul(this.variable, GATE_RATE);
    return tf.sigmoid(tf.sub(logAlpha, temperature * Math.log(-GATE_LOW / GATE_HIGH))) as tf.Tensor1D;
  }

  logAlpha(): number[] {
    return Array.from(this.variable.dataSync(), (v) => v * GATE_RATE);
  }

  restore(logAlpha: number[]): void {
    tf.tidy(() => this.variable.assign(tf.tensor1d(logAlpha.map((a) => a / GATE_RATE))));
  }

  dispose(): void {
    tf.dispose([this.variable, ...this.select, ...this.ungated]);
  }
}
