/**
 * Soft (differentiable) versions of rectangular cuts.
 *
 * A cut `x > c` becomes the weight w = sigmoid(k (x - c)) or w = (1 + erf(k (x - c))) / 2, where
 * k = slope * multiplier: `slope` is the cut's own steepness (1/unit of x) and the multiplier is
 * the global annealing factor. `x < c` is the mirror image (k -> -k) and `between` is the
 * product of a `>` at `low` and a `<` at `high`. As k grows, w tends to the hard step
 * (1 above c, 0 below), which is what the skim applies in the end.
 */
export type CutOp = '>' | '<' | 'between';
export type CutForm = 'sigmoid' | 'erf';

export interface CutSpec {
  /** Cut variable (a column or expression, see src/selection/expr/). */
  column: string;
  op: CutOp;
  form: CutForm;
  /** Steepness in 1/(unit of the column), before the global multiplier. */
  slope: number;
  /** Threshold of '>' and '<'. */
  value?: number;
  /** Edges of 'between'. */
  low?: number;
  high?: number;
  /** Mean and spread of the variable: thresholds are learned in units of (x - mean) / std. */
  mean: number;
  std: number;
  /**
   * The variable takes integer values only (a count, a flag, an integer column: known from its
   * type, not from the data): cuts.json then gets the equivalent integer cut (count(jets) >= 2).
   */
  integer?: boolean;
  /**
   * An object cut (count(Jet_pt > $c), sum(Jet_pt[Jet_pt > $c]): `column` holds that text): the
   * element threshold c, learned with the cut. See objectCuts.ts.
   */
  object?: ObjectThreshold;
  /** The cut's own thresholds stay as given (an object cut's count, count(Jet_pt > $c) >= 2): only c is learned. */
  fixed?: boolean;
}

/** The learned element threshold of an object cut (CutSpec.object). */
export interface ObjectThreshold {
  /** Threshold c on the tested list's entries. */
  threshold: number;
  /** Steepness of the entries' soft step in 1/(unit of the list), before the global multiplier. */
  slope: number;
  /** Mean and spread of the tested list's entries: c is learned in units of (c - mean) / std. */
  mean: number;
  std: number;
}

/** One step of a cut: 'between' has two (a rising one at low, a falling one at high). */
export interface Edge {
  cut: number;
  /** +1 keeps x above the threshold, -1 keeps x below it. */
  sign: 1 | -1;
  form: CutForm;
  slope: number;
  threshold: number;
  mean: number;
  std: number;
}

export function cutEdges(cuts: CutSpec[]): Edge[] {
  const edges: Edge[] = [];
  cuts.forEach((c, i) => {
    const base = { cut: i, form: c.form, slope: c.slope, mean: c.mean, std: c.std };
    if (c.op === 'between') {
      edges.push({ ...base, sign: 1, threshold: required(c, 'low') });
      edges.push({ ...base, sign: -1, threshold: required(c, 'high') });
    } else edges.push({ ...base, sign: c.op === '>' ? 1 : -1, threshold: required(c, 'value') });
  });
  return edges;
}

/** The cuts with their thresholds replaced by edge thresholds (in cutEdges order). */
export function withEdgeThresholds(cuts: CutSpec[], thresholds: ArrayLike<number>): CutSpec[] {
  let e = 0;
  return cuts.map((c) =>
    c.op === 'between' ? { ...c, low: thresholds[e++], high: thresholds[e++] } : { ...c, value: thresholds[e++] },
  );
}

function required(c: CutSpec, key: 'value' | 'low' | 'high'): number {
  const v = c[key];
  if (typeof v !== 'number' || !Number.isFinite(v))
    throw new Error(`cut '${c.column} ${c.op}': threshold '${key}' is missing or not finite`);
  return v;
}

/** The argument of the step function: sign * k * (x - threshold). */
export function edgeArgument(edge: Edge, x: number, multiplier: number): number {
  return edge.sign * edge.slope * multiplier * (x - edge.threshold);
}

/** log of the soft weight for an argument a (numerically safe far into the tails). */
export function logStep(form: CutForm, a: number): number {
  if (form === 'sigmoid') return -softplus(-a);
  if (a < -ERF_TAIL) return logErfcTail(-a);
  if (a > ERF_TAIL) return Math.log1p(-Math.exp(logErfcTail(a)));
  return Math.log(Math.max(0.5 * (1 + erf(a)), LOG_FLOOR));
}

/** Smallest erf-form weight, so that log stays finite (the TF side clips the same way). */
export const LOG_FLOOR = 1e-30;

/**
 * Beyond |a| = ERF_TAIL the erf form's weight (1 + erf(a)) / 2 is taken from the asymptotic
 * series of erfc instead: erfc(-a) / 2 below, 1 - erfc(a) / 2 above. In float32, 1 + erf(a)
 * rounds to 0 near a = -3.9, which would leave an event far outside the cut without a gradient,
 * and to 2 near a = 3.9, which would make 1 - w exactly 0 for an event far inside it (the BCE of
 * a background event there). At z = 3 the series (to z^-6) is within 1e-3 of the exact log,
 * closer than the erf approximation there.
 */
export const ERF_TAIL = 3;

/** log(erfc(z) / 2) for z >= ERF_TAIL: erfc(z) ~ exp(-z²) / (z sqrt(pi)) (1 - 1/(2z²) + 3/(4z⁴) - 15/(8z⁶)). */
export function logErfcTail(z: number): number {
  const u = 1 / (z * z);
  return -z * z - Math.log(z) - LOG_2_SQRT_PI + Math.log1p(u * (-0.5 + u * (0.75 - 1.875 * u)));
}

export const LOG_2_SQRT_PI = Math.log(2 * Math.sqrt(Math.PI));

export function softplus(x: number): number {
  return x > 0 ? x + Math.log1p(Math.exp(-x)) : Math.log1p(Math.exp(x));
}

export function sigmoid(x: number): number {
  return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
}

/**
 * erf by Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7), the same approximation the TF.js
 * kernels use, so that JS and TF forward passes agree.
 */
export function erf(x: number): number {
  const s = x < 0 ? -1 : 1;
  const ax = Math.abs(x);
  const t = 1 / (1 + 0.3275911 * ax);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return s * (1 - poly * Math.exp(-ax * ax));
}

export type SlopeSchedule = { start: number; end: number; kind: 'geometric' | 'cosine' | 'constant' };

/**
 * Global slope multiplier for an epoch (0-based of `epochs`): geometric from start to end,
 * cosine (slow-fast-slow) from start to end, or constant at start. Without a schedule: 1.
 */
export function slopeMultiplier(schedule: SlopeSchedule | undefined, epoch: number, epochs: number): number {
  if (!schedule) return 1;
  const t = epochs > 1 ? epoch / (epochs - 1) : 1;
  switch (schedule.kind) {
    case 'constant':
      return schedule.start;
    case 'geometric':
      return schedule.start * Math.pow(schedule.end / schedule.start, t);
    case 'cosine':
      return schedule.end + ((schedule.start - schedule.end) * (1 + Math.cos(Math.PI * t))) / 2;
  }
}
