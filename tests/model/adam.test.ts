import * as tf from '@tensorflow/tfjs-core';
import { beforeAll, describe, expect, it } from 'vitest';
import { Adam } from '../../src/model/adam.js';
import { initBackend } from '../../src/training/backend.js';
import { seededRandom } from '../../src/util/random.js';

beforeAll(async () => {
  await initBackend('cpu');
});

describe('Adam', () => {
  it("steps as tfjs-core's AdamOptimizer, to float32 rounding, with the same beta^t products", () => {
    const random = seededRandom('adam');
    const start = Float32Array.from({ length: 37 }, () => 2 * random() - 1);
    const gradients = Array.from({ length: 25 }, () =>
      Float64Array.from({ length: 37 }, () => Math.fround(3 * random() - 1.5)),
    );
    const ours = new Adam(start.length, 0.01);
    const params = start.slice();
    const variable = tf.variable(tf.tensor1d(start));
    const optimizer = tf.train.adam(0.01);
    for (const g of gradients) {
      ours.apply(params, g);
      tf.tidy(() => optimizer.applyGradients([{ name: variable.name, tensor: tf.tensor1d(Float32Array.from(g)) }]));
    }
    const theirs = variable.dataSync();
    params.forEach((p, i) => expect(Math.abs(p - theirs[i])).toBeLessThan(1e-6 * Math.max(1, Math.abs(theirs[i]))));
    const fields = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    expect(ours.beta1Power).toBe(fields.accBeta1.dataSync()[0]);
    expect(ours.beta2Power).toBe(fields.accBeta2.dataSync()[0]);
    expect(ours.iterations).toBe(optimizer.iterations);
    // The parameters moved: the comparison is not of two unchanged arrays.
    expect(Math.max(...params.map((p, i) => Math.abs(p - start[i])))).toBeGreaterThan(0.1);
    variable.dispose();
    optimizer.dispose();
  });
});
