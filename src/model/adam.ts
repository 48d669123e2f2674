/**
 * Adam over one flat float32 parameter array, step for step as tfjs-core's AdamOptimizer
 * (beta1 0.9, beta2 0.999, epsilon 1e-7 as TF.js' float32 backends): moments and the running
 * products beta^t kept in float32, the bias-corrected step computed in float64 and rounded once.
 */
export class Adam {
  readonly m: Float32Array;
  readonly v: Float32Array;
  /** beta1^(t+1) and beta2^(t+1), as tfjs-core's accBeta1 and accBeta2. */
  beta1Power = Math.fround(BETA1);
  beta2Power = Math.fround(BETA2);
  iterations = 0;

  constructor(
    size: number,
    private readonly learningRate: number,
  ) {
    this.m = new Float32Array(size);
    this.v = new Float32Array(size);
  }

  apply(params: Float32Array, gradient: Float64Array): void {
    const { m, v } = this;
    const [c1, c2] = [1 - this.beta1Power, 1 - this.beta2Power];
    for (let i = 0; i < params.length; i++) {
      const g = gradient[i];
      m[i] = BETA1 * m[i] + (1 - BETA1) * g;
      v[i] = BETA2 * v[i] + (1 - BETA2) * g * g;
      params[i] -= (this.learningRate * (m[i] / c1)) / (Math.sqrt(v[i] / c2) + EPSILON);
    }
    this.beta1Power = Math.fround(this.beta1Power * Math.fround(BETA1));
    this.beta2Power = Math.fround(this.beta2Power * Math.fround(BETA2));
    this.iterations++;
  }
}

const BETA1 = 0.9;
const BETA2 = 0.999;
const EPSILON = 1e-7;
