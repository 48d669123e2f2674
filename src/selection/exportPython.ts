import type { HardCut } from './cutsFile.js';
import { exportedForm } from './exportForm.js';

/**
 * diffskim's hard cuts as a Python expression, in two dialects that differ only in how they name
 * columns and functions:
 *
 *   numpy     over a dict `ev` of arrays (numpy for flat columns, nulls as NaN; awkward for lists),
 *             with `np` and `ak` imported: (np.abs(ev["eta"]) < 2.4) & (ak.num(ev["jets"], axis=1) > 1)
 *   uproot    uproot's expression language as ServiceX's uproot-raw extends it (branch names, or
 *             get("a b"); numpy's abs; awkward's num and any, with axis=1): (abs(eta) < 2.4) & (num(jets) > 1)
 *
 * NaN fails every comparison, as in diffskim. first(list) compares the slice list[:, :1], so an
 * empty list has no element that passes (any() of nothing is False).
 */
interface Dialect {
  name: string;
  column(name: string): string;
  abs(x: string): string;
  count(x: string): string;
  /** Whether any entry of a list expression is true, per event. */
  any(x: string): string;
  infinity: string;
}

const numpyDialect: Dialect = {
  name: 'numpy',
  column: (name) => `ev[${pythonString(name)}]`,
  abs: (x) => `np.abs(${x})`,
  count: (x) => `ak.num(${x}, axis=1)`,
  any: (x) => `ak.any(${x}, axis=1)`,
  infinity: 'np.inf',
};

const PYTHON_IDENTIFIER = /^[A-Za-z_]\w*$/;
const PYTHON_KEYWORDS = new Set(
  (
    'False None True and as assert async await break class continue def del elif else except finally for from ' +
    'global if import in is lambda nonlocal not or pass raise return try while with yield'
  ).split(' '),
);

const uprootDialect: Dialect = {
  name: 'servicex',
  // uproot reads other names through its getter, get("name").
  column: (name) => (PYTHON_IDENTIFIER.test(name) && !PYTHON_KEYWORDS.has(name) ? name : `get(${pythonString(name)})`),
  abs: (x) => `abs(${x})`,
  count: (x) => `num(${x})`,
  any: (x) => `any(${x})`,
  // uproot's language has no name for infinity; a literal beyond the largest double is parsed as one.
  infinity: '1e999',
};

/** The cuts as a numpy/awkward expression over `ev`; 'True' when there are none. */
export function cutsToNumpy(cuts: HardCut[]): string {
  if (cuts.length === 0) return 'True';
  const conjunction = cutsToPython(cuts, numpyDialect);
  // A null list gives None (not False) in awkward: the event fails.
  const lists = cuts.some((c) => ['count', 'first'].includes(exportedForm(c, 'numpy').fn));
  return lists ? `ak.fill_none(${conjunction}, False)` : conjunction;
}

/** The cuts in uproot's expression language (ServiceX uproot-raw's `cut`); null when there are none. */
export function cutsToUproot(cuts: HardCut[]): string | null {
  return cuts.length === 0 ? null : cutsToPython(cuts, uprootDialect);
}

function cutsToPython(cuts: HardCut[], d: Dialect): string {
  return cuts.map((cut) => comparison(cut, d)).join(' & ');
}

function comparison(cut: HardCut, d: Dialect): string {
  const q = exportedForm(cut, d.name);
  const x = d.column(q.column);
  const operand = q.fn === 'abs' ? d.abs(x) : q.fn === 'count' ? d.count(x) : q.fn === 'first' ? `${x}[:, :1]` : x;
  const number = (v: number) => (Number.isFinite(v) ? String(v) : v > 0 ? d.infinity : `-${d.infinity}`);
  const test =
    cut.op === 'between'
      ? `(${operand} > ${number(cut.low)}) & (${operand} < ${number(cut.high)})`
      : `${operand} ${cut.op} ${number(cut.value)}`;
  return q.fn === 'first' ? d.any(test) : `(${test})`;
}

/** A Python string literal (a JSON string is one). */
export function pythonString(s: string): string {
  return JSON.stringify(s);
}
