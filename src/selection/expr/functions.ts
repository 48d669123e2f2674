/**
 * The functions of the expression language, each with its batch (JavaScript) and DuckDB form
 * side by side so that the two stay equal. Missing values are NaN in the batch; in SQL they are
 * NULL or NaN, and every guard below turns what DuckDB would refuse (sqrt of a negative, the
 * logarithm of 0, the sine of infinity) into what JavaScript gives.
 */

/** Element-wise functions: applied to numbers, or to each element of lists of one collection. */
export interface MathFunction {
  arity: number;
  js: (...x: number[]) => number;
  /** SQL of the function of the arguments' SQL; `let_` binds a value used more than once. */
  sql: (args: string[], let_: (value: string, body: (v: string) => string) => string) => string;
}

const NAN = "'nan'::DOUBLE";
const TWO_PI = 2 * Math.PI;

/** φ1 − φ2 in [−π, π). */
const deltaPhi = (a: number, b: number) => {
  const d = a - b;
  return d - TWO_PI * Math.floor((d + Math.PI) / TWO_PI);
};
const deltaPhiSql = (d: string) => `(${d} - ${TWO_PI} * floor((${d} + ${Math.PI}) / ${TWO_PI}))`;

export const MATH: Record<string, MathFunction> = {
  abs: { arity: 1, js: Math.abs, sql: ([x]) => `abs(${x})` },
  sqrt: {
    arity: 1,
    js: Math.sqrt,
    sql: ([x], let_) => let_(x, (v) => `CASE WHEN ${v} < 0 THEN ${NAN} ELSE sqrt(${v}) END`),
  },
  // Natural logarithm (DuckDB's log is base 10); log(0) = -inf, log of a negative is missing.
  log: {
    arity: 1,
    js: Math.log,
    sql: ([x], let_) =>
      let_(x, (v) => `CASE WHEN ${v} < 0 THEN ${NAN} WHEN ${v} = 0 THEN '-inf'::DOUBLE ELSE ln(${v}) END`),
  },
  exp: { arity: 1, js: Math.exp, sql: ([x]) => `exp(${x})` },
  sin: {
    arity: 1,
    js: Math.sin,
    sql: ([x], let_) => let_(x, (v) => `CASE WHEN isinf(${v}) THEN ${NAN} ELSE sin(${v}) END`),
  },
  cos: {
    arity: 1,
    js: Math.cos,
    sql: ([x], let_) => let_(x, (v) => `CASE WHEN isinf(${v}) THEN ${NAN} ELSE cos(${v}) END`),
  },
  cosh: { arity: 1, js: Math.cosh, sql: ([x]) => `cosh(${x})` },
  sinh: { arity: 1, js: Math.sinh, sql: ([x]) => `sinh(${x})` },
  atan2: { arity: 2, js: Math.atan2, sql: ([y, x]) => `atan2(${y}, ${x})` },
  deltaPhi: { arity: 2, js: deltaPhi, sql: ([a, b], let_) => let_(`${a} - ${b}`, deltaPhiSql) },
  deltaR: {
    arity: 4,
    js: (eta1, phi1, eta2, phi2) => Math.sqrt((eta1 - eta2) ** 2 + deltaPhi(phi1, phi2) ** 2),
    sql: ([eta1, phi1, eta2, phi2], let_) =>
      let_(`${eta1} - ${eta2}`, (de) =>
        let_(`${phi1} - ${phi2}`, (d) => `sqrt(${de} * ${de} + ${deltaPhiSql(d)} ** 2)`),
      ),
  },
};

/** min(a, b, ...) and max(a, b, ...): missing when any argument is (DuckDB's least and greatest skip NULLs). */
export const EXTREMA: Record<string, { js: (...x: number[]) => number; sql: string }> = {
  min: { js: Math.min, sql: 'least' },
  max: { js: Math.max, sql: 'greatest' },
};

/** Reductions of a list to one value per event. */
export const REDUCTIONS = new Set(['count', 'sum', 'min', 'max', 'any', 'all', 'first']);

/**
 * Two objects of one collection: `mass(pt, eta, phi, m, i, j)`, the invariant mass of its i-th and
 * j-th objects (0-based; `m` a list or one number for all, such as 0.1057 for muons), and
 * `pairPt(pt, phi, i, j)`, the pT of the pair. Missing when the list has fewer than max(i, j) + 1.
 */
export const PAIRS: Record<string, { lists: number; scalars: number }> = {
  mass: { lists: 4, scalars: 2 },
  pairPt: { lists: 2, scalars: 2 },
};

/** Invariant mass of two (pt, eta, phi, m) objects: E = sqrt((pt cosh eta)^2 + m^2), pz = pt sinh eta. */
export function pairMass(
  pt1: number,
  eta1: number,
  phi1: number,
  m1: number,
  pt2: number,
  eta2: number,
  phi2: number,
  m2: number,
): number {
  const [pz1, pz2] = [pt1 * Math.sinh(eta1), pt2 * Math.sinh(eta2)];
  const e = Math.sqrt(pt1 * pt1 + pz1 * pz1 + m1 * m1) + Math.sqrt(pt2 * pt2 + pz2 * pz2 + m2 * m2);
  const px = pt1 * Math.cos(phi1) + pt2 * Math.cos(phi2);
  const py = pt1 * Math.sin(phi1) + pt2 * Math.sin(phi2);
  const m2sum = e * e - px * px - py * py - (pz1 + pz2) * (pz1 + pz2);
  // Rounding can make a tiny mass squared negative.
  return m2sum < 0 ? 0 : Math.sqrt(m2sum);
}

export function pairMassSql(
  a: string[],
  b: string[],
  let_: (value: string, body: (v: string) => string) => string,
): string {
  const [pt1, eta1, phi1, m1] = a;
  const [pt2, eta2, phi2, m2] = b;
  return let_(`${pt1} * sinh(${eta1})`, (pz1) =>
    let_(`${pt2} * sinh(${eta2})`, (pz2) => {
      const e = `sqrt(${pt1} ** 2 + ${pz1} ** 2 + ${m1} ** 2) + sqrt(${pt2} ** 2 + ${pz2} ** 2 + ${m2} ** 2)`;
      const px = `${pt1} * ${cos(phi1)} + ${pt2} * ${cos(phi2)}`;
      const py = `${pt1} * ${sin(phi1)} + ${pt2} * ${sin(phi2)}`;
      return let_(
        `(${e}) ** 2 - (${px}) ** 2 - (${py}) ** 2 - (${pz1} + ${pz2}) ** 2`,
        (q) => `CASE WHEN ${q} < 0 THEN 0::DOUBLE ELSE sqrt(${q}) END`,
      );
    }),
  );
}

export function pairPt(pt1: number, phi1: number, pt2: number, phi2: number): number {
  return Math.sqrt(
    (pt1 * Math.cos(phi1) + pt2 * Math.cos(phi2)) ** 2 + (pt1 * Math.sin(phi1) + pt2 * Math.sin(phi2)) ** 2,
  );
}

export function pairPtSql([pt1, phi1]: string[], [pt2, phi2]: string[]): string {
  const px = `${pt1} * ${cos(phi1)} + ${pt2} * ${cos(phi2)}`;
  const py = `${pt1} * ${sin(phi1)} + ${pt2} * ${sin(phi2)}`;
  return `sqrt((${px}) ** 2 + (${py}) ** 2)`;
}

// Angles in the pair helpers are column values: guarded as sin() and cos() are, without a binding.
const sin = (x: string) => `CASE WHEN isinf(${x}) THEN ${NAN} ELSE sin(${x}) END`;
const cos = (x: string) => `CASE WHEN isinf(${x}) THEN ${NAN} ELSE cos(${x}) END`;

export const FUNCTION_NAMES = [
  ...new Set([...Object.keys(MATH), ...Object.keys(EXTREMA), ...REDUCTIONS, ...Object.keys(PAIRS)]),
];
