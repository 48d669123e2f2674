/**
 * The expression language's syntax tree and its canonical text. One tree serves every role (cut
 * variables, features, label, weight, preselection); `bind` (bind.ts) types it against a schema,
 * `evaluate` (evaluate.ts) computes it on a batch and `toSql` (sql.ts) writes its DuckDB twin.
 */

/** Offset of a node's first character in the text, for errors that point at it. */
export type Pos = number;

export type BinaryOp = '+' | '-' | '*' | '/' | '>' | '<' | '>=' | '<=' | '==' | '!=' | '&&' | '||';

export type Node =
  | { kind: 'num'; value: number; pos: Pos }
  | { kind: 'col'; name: string; pos: Pos }
  /** `$c`: a number given when evaluated (a learned threshold). */
  | { kind: 'param'; name: string; pos: Pos }
  | { kind: 'unary'; op: '-' | '!'; arg: Node; pos: Pos }
  | { kind: 'binary'; op: BinaryOp; left: Node; right: Node; pos: Pos }
  | { kind: 'call'; fn: string; args: Node[]; pos: Pos }
  /** `list[k]`, k a non-negative integer: 0-based; missing when the list is shorter. */
  | { kind: 'index'; list: Node; index: number; pos: Pos }
  /** `list[mask]`: the elements whose mask is true. */
  | { kind: 'filter'; list: Node; mask: Node; pos: Pos };

export const COMPARISONS = new Set<BinaryOp>(['>', '<', '>=', '<=', '==', '!=']);
export const LOGICAL = new Set<BinaryOp>(['&&', '||']);

/** Binding power of binary operators, loosest first. */
export const PRECEDENCE: Record<BinaryOp, number> = {
  '||': 1,
  '&&': 2,
  '==': 3,
  '!=': 3,
  '>': 4,
  '<': 4,
  '>=': 4,
  '<=': 4,
  '+': 5,
  '-': 5,
  '*': 6,
  '/': 6,
};
const UNARY_PRECEDENCE = 7;

const IDENTIFIER = /^[A-Za-z_][\w.]*$/;

/** A column name as expression text: as it is when an identifier, else in double quotes. */
export function quoteColumn(name: string): string {
  return IDENTIFIER.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** Canonical text: minimal parentheses, one space around binary operators, names quoted where needed. */
export function printNode(node: Node, outer = 0): string {
  switch (node.kind) {
    case 'num':
      return String(node.value);
    case 'col':
      return quoteColumn(node.name);
    case 'param':
      return `$${node.name}`;
    case 'unary': {
      const text = `${node.op}${printNode(node.arg, UNARY_PRECEDENCE)}`;
      return outer > UNARY_PRECEDENCE ? `(${text})` : text;
    }
    case 'binary': {
      const p = PRECEDENCE[node.op];
      // Left-associative: the right operand of equal precedence needs parentheses.
      const text = `${printNode(node.left, p)} ${node.op} ${printNode(node.right, p + 1)}`;
      return outer > p ? `(${text})` : text;
    }
    case 'call':
      return `${node.fn}(${node.args.map((a) => printNode(a)).join(', ')})`;
    case 'index':
      return `${printNode(node.list, UNARY_PRECEDENCE + 1)}[${node.index}]`;
    case 'filter':
      return `${printNode(node.list, UNARY_PRECEDENCE + 1)}[${printNode(node.mask)}]`;
  }
}

/** The columns a tree reads, in order of first use. */
export function nodeColumns(node: Node, out = new Set<string>()): Set<string> {
  if (node.kind === 'col') out.add(node.name);
  for (const child of childrenOf(node)) nodeColumns(child, out);
  return out;
}

export function childrenOf(node: Node): Node[] {
  switch (node.kind) {
    case 'unary':
      return [node.arg];
    case 'binary':
      return [node.left, node.right];
    case 'call':
      return node.args;
    case 'index':
      return [node.list];
    case 'filter':
      return [node.list, node.mask];
    default:
      return [];
  }
}
