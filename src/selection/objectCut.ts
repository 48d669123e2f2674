import { type Node, printNode } from './expr/ast.js';
import { ExprError } from './expr/errors.js';
import { parseExpr } from './expr/parse.js';

/**
 * The cut variable of an object cut: a reduction over a list whose element threshold is learned,
 * an expression with a parameter `$name` in its place:
 *
 *   count(Jet_pt > $c)           how many entries of Jet_pt are above c
 *   sum(Jet_pt[Jet_pt > $c])     the sum of the entries of Jet_pt above c (HT-like); the summed
 *                                list and the tested one may differ (sum(Jet_pt[Jet_eta < $c])), but
 *                                must be lists of one collection (equal lengths per event)
 *
 * With '<' too, and `$c < Jet_pt` as `Jet_pt > $c`; and with more conditions on the entries, fixed
 * ones: count(Jet_pt > $c && abs(Jet_eta) < 2.4). With c learned, the hard cut is the same
 * expression with the number in place of `$c` (count(Jet_pt > 31.5)), which the expression
 * language evaluates and writes as SQL like any other.
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
  /** The mask's other conditions (a condition on the entries, without parameters), or null. */
  also: Node | null;
  /** The expression's tree, whose parameter objectText fills in. */
  node: Node;
}

/** Whether a cut variable has a learned parameter (`$name`). */
export function hasParameter(text: string): boolean {
  return /\$\w/.test(text);
}

/** The object cut an expression with a `$name` describes; an error says which forms there are. */
export function parseObjectTemplate(text: string): ObjectTemplate {
  const node = parseExpr(text);
  const fail = (): never => {
    throw new ExprError(
      `cannot learn '${text}': a learned threshold inside a list selection is written count(list > $c) or ` +
        'sum(values[list > $c]) (or with <, and other fixed conditions joined with &&), the lists being columns',
      text,
    );
  };
  if (node.kind !== 'call' || node.args.length !== 1) return fail();
  const arg = node.args[0];
  let values: string | null = null;
  let mask = arg;
  if (node.fn === 'sum' && arg.kind === 'filter' && arg.list.kind === 'col') [values, mask] = [arg.list.name, arg.mask];
  else if (node.fn !== 'count') return fail();
  // One condition of the mask's && chain holds the parameter; the others are fixed.
  const conditions = conjuncts(mask);
  const learned = conditions.filter((c) => hasParameter(printNode(c)));
  if (learned.length !== 1) return fail();
  const test = learned[0];
  if (test.kind !== 'binary' || (test.op !== '>' && test.op !== '<')) return fail();
  // list > $c, or $c < list
  const [list, param, sign] =
    test.right.kind === 'param'
      ? [test.left, test.right, test.op === '>' ? 1 : -1]
      : [test.right, test.left, test.op === '<' ? 1 : -1];
  if (list.kind !== 'col' || param.kind !== 'param') return fail();
  const others = conditions.filter((c) => c !== test);
  const also = others.length
    ? others.reduce((a, b): Node => ({ kind: 'binary', op: '&&', left: a, right: b, pos: b.pos }))
    : null;
  return {
    reduce: values === null ? 'count' : 'sum',
    test: list.name,
    values: values ?? list.name,
    sign: sign as 1 | -1,
    param: param.name,
    also,
    node,
  };
}

/** The conditions of an && chain. */
function conjuncts(n: Node): Node[] {
  return n.kind === 'binary' && n.op === '&&' ? [...conjuncts(n.left), ...conjuncts(n.right)] : [n];
}

/** The cut variable with the parameter's value in place: count(Jet_pt > 31.5). */
export function objectText(t: ObjectTemplate, threshold: number): string {
  const fill = (n: Node): Node => {
    switch (n.kind) {
      case 'param':
        return { kind: 'num', value: threshold, pos: n.pos };
      case 'call':
        return { ...n, args: n.args.map(fill) };
      case 'filter':
        return { ...n, list: fill(n.list), mask: fill(n.mask) };
      case 'binary':
        return { ...n, left: fill(n.left), right: fill(n.right) };
      default:
        return n;
    }
  };
  return printNode(fill(t.node));
}
