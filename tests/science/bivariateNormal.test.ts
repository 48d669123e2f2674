import { describe, expect, it } from 'vitest';
import { type Gaussian, normalCdf, windowProbability } from '../../scripts/bivariate-normal.js';

/** The density of g integrated over a window by composite Simpson's rule (infinite edges at 10 sigma). */
function simpson(g: Gaussian, x1: number, x2: number, y1: number, y2: number, n = 400): number {
  const [sx, sy] = [Math.sqrt(g.cov[0]), Math.sqrt(g.cov[1])];
  const clamp = (v: number, mean: number, s: number) => Math.min(mean + 10 * s, Math.max(mean - 10 * s, v));
  [x1, x2] = [clamp(x1, g.mean[0], sx), clamp(x2, g.mean[0], sx)];
  [y1, y2] = [clamp(y1, g.mean[1], sy), clamp(y2, g.mean[1], sy)];
  const det = g.cov[0] * g.cov[1] - g.cov[2] * g.cov[2];
  const density = (x: number, y: number) => {
    const [u, v] = [x - g.mean[0], y - g.mean[1]];
    const q = (g.cov[1] * u * u - 2 * g.cov[2] * u * v + g.cov[0] * v * v) / det;
    return Math.exp(-q / 2) / (2 * Math.PI * Math.sqrt(det));
  };
  const weight = (i: number) => (i === 0 || i === n ? 1 : i % 2 ? 4 : 2);
  const [hx, hy] = [(x2 - x1) / n, (y2 - y1) / n];
  let sum = 0;
  for (let i = 0; i <= n; i++)
    for (let j = 0; j <= n; j++) sum += weight(i) * weight(j) * density(x1 + i * hx, y1 + j * hy);
  return (sum * hx * hy) / 9;
}

describe('exact Gaussian window probabilities (the optimum grid reference)', () => {
  it('the normal CDF against known values', () => {
    for (const [z, p] of [
      [0, 0.5],
      [1, 0.8413447460685429],
      [-1.96, 0.024997895148220435],
      [3, 0.9986501019683699],
    ])
      expect(Math.abs(normalCdf(z) - p)).toBeLessThan(1e-7);
  });

  const gaussians: Gaussian[] = [
    { mean: [1.5, 2], cov: [0.5, 0.5, 0.2] },
    { mean: [1, 1], cov: [1, 1, 0.85] },
    { mean: [0, 0], cov: [4, 4, -1.5] },
    { mean: [-1, 2.5], cov: [0.36, 1.44, 0] },
  ];
  const windows: [number, number, number, number][] = [
    [1.2, 1.9, 1.7, 2.4],
    [0.5, 2, -Infinity, 1.5],
    [-Infinity, 0.3, 0.8, Infinity],
    [-0.5, 3, -1, 4],
  ];
  for (const g of gaussians)
    it(`equal the density integrated numerically: mean ${g.mean}, covariance ${g.cov}`, () => {
      for (const w of windows) expect(Math.abs(windowProbability(g, ...w) - simpson(g, ...w))).toBeLessThan(1e-6);
    });
});
