/**
 * The cut variable of an object cut: a reduction over a list whose element threshold is learned,
 * written with a `$name` in its place:
 *
 *   count(Jet_pt > $c)           how many entries of Jet_pt are above c
 *   sum(Jet_pt[Jet_pt > $c])     the sum of the entries of Jet_pt above c (HT-like); the summed
 *                                list and the tested one may differ (sum(Jet_pt[Jet_eta < $c])), but
 *                                must be lists of one collection (equal lengths per event)
 *
 * Both with '<' too. With c learned, the hard cut is the same text with the number in place of
 * `$c` (count(Jet_pt > 31.5)), which the expression language evaluates and turns into SQL.
 */
export interface ObjectTemplate {
  reduce: 'count' | 'sum';
  /** The list whose entries are tested against the threshold. */
  test: string;
  /** The list whose entries are summed (sum only; the same as `test` for count). */
  values: string;
  /** +1: entries above the threshold are selected ('>'); -1: below ('<'). */
  sign: 1 | -1;
  /** The parameter's name, without the '$'. */
  param: string;
}

const NAME = String.raw`[A-Za-z_][\w.]*`;
const TEST = String.raw`\s*(${NAME})\s*([<>])\s*\$(\w+)\s*`;
const COUNT = new RegExp(String.raw`^\s*count\(${TEST}\)\s*$`);
const SUM = new RegExp(String.raw`^\s*sum\(\s*(${NAME})\s*\[${TEST}\]\s*\)\s*$`);

/** Whether a cut variable has a learned parameter (`$name`). */
export function hasParameter(text: string): boolean {
  return /\$\w/.test(text);
}

/** The object cut a cut variable with a `$name` describes; an error says which forms there are. */
export function parseObjectTemplate(text: string): ObjectTemplate {
  const count = COUNT.exec(text);
  if (count) return { reduce: 'count', test: count[1], values: count[1], sign: sign(count[2]), param: count[3] };
  const sum = SUM.exec(text);
  if (sum) return { reduce: 'sum', values: sum[1], test: sum[2], sign: sign(sum[3]), param: sum[4] };
  throw new Error(
    `cannot read '${text}': a learned threshold inside a list selection is written count(list > $c) or ` +
      'sum(list[list > $c]) (or with <), the lists named as identifiers',
  );
}

function sign(op: string): 1 | -1 {
  return op === '>' ? 1 : -1;
}

/** The cut variable with the parameter's value in place: count(Jet_pt > 31.5). */
export function objectText(t: ObjectTemplate, threshold: number): string {
  const test = `${t.test} ${t.sign > 0 ? '>' : '<'} ${threshold}`;
  return t.reduce === 'count' ? `count(${test})` : `sum(${t.values}[${test}])`;
}
