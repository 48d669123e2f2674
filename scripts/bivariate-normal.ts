/**
 * Exact probabilities of 2-D Gaussians, for references free of sample fluctuations: the standard
 * normal CDF, the bivariate one (Genz's BVNU, "Numerical computation of rectangular bivariate and
 * trivariate normal and t probabilities", Statistics and Computing 14 (2004) 251, the branch for
 * |correlation| < 0.925: Gauss-Legendre quadrature of Plackett's formula over the correlation),
 * and the probability of an axis-aligned window.
 */

/** Mean and covariance [[a, c], [c, b]] of a 2-D Gaussian. */
export interface Gaussian {
  mean: [number, number];
  cov: [number, number, number];
}

/** erfc(x), relative error below 1.2e-7 everywhere (Numerical Recipes' erfcc, a Chebyshev fit). */
function erfc(x: number): number {
  const z = Math.abs(x);
  const t = 1 / (1 + 0.5 * z);
  const poly =
    -1.26551223 +
    t *
      (1.00002368 +
        t *
          (0.37409196 +
            t *
              (0.09678418 +
                t *
                  (-0.18628806 +
                    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277))))))));
  const r = t * Math.exp(-z * z + poly);
  return x >= 0 ? r : 2 - r;
}

/** P(Z < z), Z standard normal. */
export function normalCdf(z: number): number {
  if (z === Infinity) return 1;
  if (z === -Infinity) return 0;
  return erfc(-z / Math.SQRT2) / 2;
}

// Gauss-Legendre nodes and weights on [-1, 1] (half of each symmetric set), n = 6, 12, 20.
const LEGENDRE: [number[], number[]][] = [
  [
    [0.9324695142031522, 0.6612093864662647, 0.238619186083197],
    [0.1713244923791705, 0.3607615730481384, 0.4679139345726904],
  ],
  [
    [
      0.9815606342467191, 0.904117256370475, 0.769902674194305, 0.5873179542866171, 0.3678314989981802,
      0.1252334085114692,
    ],
    [
      0.04717533638651177, 0.1069393259953183, 0.1600783285433464, 0.2031674267230659, 0.2334925365383547,
      0.2491470458134029,
    ],
  ],
  [
    [
      0.9931285991850949, 0.9639719272779138, 0.9122344282513259, 0.8391169718222188, 0.7463319064601508,
      0.636053680726515, 0.5108670019508271, 0.3737060887154196, 0.2277858511416451, 0.07652652113349733,
    ],
    [
      0.01761400713915212, 0.04060142980038694, 0.06267204833410906, 0.08327674157670475, 0.1019301198172404,
      0.1181945319615184, 0.1316886384491766, 0.1420961093183821, 0.1491729864726037, 0.1527533871307259,
    ],
  ],
];

/** P(X > h, Y > k) for standard normals X, Y of correlation r, |r| < 0.925. */
function upperOrthant(h: number, k: number, r: number): number {
  if (h === Infinity || k === Infinity) return 0;
  if (h === -Infinity) return normalCdf(-k);
  if (k === -Infinity) return normalCdf(-h);
  if (r === 0) return normalCdf(-h) * normalCdf(-k);
  if (Math.abs(r) >= 0.925) throw new Error(`bivariate normal: correlation ${r} beyond the implemented |r| < 0.925`);
  const [x, w] = LEGENDRE[Math.abs(r) < 0.3 ? 0 : Math.abs(r) < 0.75 ? 1 : 2];
  const hk = h * k;
  const hs = (h * h + k * k) / 2;
  const asr = Math.asin(r) / 2;
  let sum = 0;
  for (let i = 0; i < x.length; i++)
    for (const node of [1 - x[i], 1 + x[i]]) {
      const sn = Math.sin(asr * node);
      sum += w[i] * Math.exp((sn * hk - hs) / (1 - sn * sn));
    }
  return Math.min(1, Math.max(0, (sum * asr) / (2 * Math.PI) + normalCdf(-h) * normalCdf(-k)));
}

/** P(x1 < X < x2, y1 < Y < y2) for (X, Y) ~ g; edges may be infinite. */
export function windowProbability(g: Gaussian, x1: number, x2: number, y1: number, y2: number): number {
  if (!(x1 < x2 && y1 < y2)) return 0;
  const [sx, sy] = [Math.sqrt(g.cov[0]), Math.sqrt(g.cov[1])];
  const r = g.cov[2] / (sx * sy);
  // P(X > a, Y > b) in standard units, by inclusion-exclusion over the four corners.
  const upper = (a: number, b: number) => upperOrthant((a - g.mean[0]) / sx, (b - g.mean[1]) / sy, r);
  return Math.max(0, upper(x1, y1) - upper(x2, y1) - upper(x1, y2) + upper(x2, y2));
}
