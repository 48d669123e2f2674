import { closest } from '../../util/closest.js';
import { type BinaryOp, type Node, PRECEDENCE } from './ast.js';
import { ExprError } from './errors.js';
import { FUNCTION_NAMES } from './functions.js';
import { type Token, tokenize } from './lexer.js';

/**
 * The syntax tree of an expression (precedence climbing). Operators, loosest first: `||`, `&&`,
 * `==` `!=`, `>` `<` `>=` `<=`, `+` `-`, `*` `/`, then unary `-` and `!`, then calls, `list[k]`
 * and `list[mask]`.
 */
export function parseExpr(text: string): Node {
  const tokens = tokenize(text);
  let at = 0;
  // Levels of the tree above the node being parsed (every recursion goes through unary()).
  let depth = 0;
  const deeper = (levels: number) => {
    if (depth + levels > MAX_DEPTH) fail(`expression nested more than ${MAX_DEPTH} levels deep`);
  };
  const peek = () => tokens[at];
  const fail = (reason: string, token: Token = peek()): never => {
    throw new ExprError(reason, text, token.pos);
  };
  const isOp = (op: string, token = peek()) => token.kind === 'op' && token.op === op;
  const expect = (op: string) => {
    const t = peek();
    if (t.kind === 'name' || t.kind === 'num')
      throw new ExprError(`expected '${op}', found ${describe(t)}`, text, t.pos, QUOTE_HINT);
    if (!isOp(op)) fail(`expected '${op}', found ${describe(t)}`);
    at++;
  };

  const expression = (minPrecedence: number): Node => {
    let left = unary();
    for (let chain = 1; ; chain++) {
      const t = peek();
      if (t.kind !== 'op' || !(t.op in PRECEDENCE)) return left;
      const op = t.op as BinaryOp;
      if (PRECEDENCE[op] < minPrecedence) return left;
      deeper(chain); // a chain `a + b + c ...` is a tree as deep as it is long
      at++;
      const right = expression(PRECEDENCE[op] + 1);
      left = { kind: 'binary', op, left, right, pos: t.pos };
    }
  };

  const unary = (): Node => {
    deeper(1);
    depth++;
    try {
      return unaryAt();
    } finally {
      depth--;
    }
  };

  const unaryAt = (): Node => {
    const t = peek();
    if (isOp('-') || isOp('!')) {
      at++;
      const arg = unary();
      // -3 is the number -3 (so that it prints back as written).
      if (t.kind === 'op' && t.op === '-' && arg.kind === 'num') return { ...arg, value: -arg.value, pos: t.pos };
      return { kind: 'unary', op: (t as { op: '-' | '!' }).op, arg, pos: t.pos };
    }
    return postfix(primary());
  };

  const postfix = (node: Node): Node => {
    while (isOp('[')) {
      const open = peek();
      at++;
      const inner = peek();
      const next = tokens[at + 1];
      if (inner.kind === 'num' && next.kind === 'op' && next.op === ']') {
        if (!Number.isInteger(inner.value) || inner.text.includes('.') || /e/i.test(inner.text))
          fail(`a list index is a whole number from 0, not '${inner.text}'`, inner);
        at += 2;
        node = { kind: 'index', list: node, index: inner.value, pos: open.pos };
      } else {
        const mask = expression(0);
        expect(']');
        node = { kind: 'filter', list: node, mask, pos: open.pos };
      }
    }
    return node;
  };

  const primary = (): Node => {
    const t = peek();
    at++;
    switch (t.kind) {
      case 'num':
        return { kind: 'num', value: t.value, pos: t.pos };
      case 'param':
        return { kind: 'param', name: t.name, pos: t.pos };
      case 'name':
        if (!t.quoted && isOp('(')) return call(t.name, t.pos);
        return { kind: 'col', name: t.name, pos: t.pos };
      case 'op':
        if (t.op === '(') {
          const inner = expression(0);
          expect(')');
          return inner;
        }
    }
    return fail(`expected a number, column or function, found ${describe(t)}`, t);
  };

  const call = (fn: string, pos: number): Node => {
    if (!FUNCTION_NAMES.includes(fn)) {
      const near = closest(fn, FUNCTION_NAMES);
      const hint = near ? `, did you mean '${near}'?` : ` (functions: ${FUNCTION_NAMES.join(', ')})`;
      throw new ExprError(`unknown function '${fn}'`, text, pos, hint);
    }
    expect('(');
    const args: Node[] = [];
    if (!isOp(')')) {
      args.push(expression(0));
      while (isOp(',')) {
        at++;
        args.push(expression(0));
      }
    }
    expect(')');
    return { kind: 'call', fn, args, pos };
  };

  const node = expression(0);
  const rest = peek();
  if (rest.kind === 'name' || rest.kind === 'num')
    throw new ExprError(`unexpected ${describe(rest)}`, text, rest.pos, QUOTE_HINT);
  if (rest.kind !== 'end') fail(`unexpected ${describe(rest)}`);
  return node;
}

/**
 * Levels an expression's tree may have: every later step (typing, evaluation, SQL) recurses over
 * it, and a deeper tree (a hostile request's `((((x))))` or `a + a + ...`) would overflow the stack.
 */
const MAX_DEPTH = 500;

const QUOTE_HINT = '; quote a name that is not an identifier: "a b"';

function describe(t: Token): string {
  switch (t.kind) {
    case 'end':
      return 'the end';
    case 'num':
      return `'${t.text}'`;
    case 'name':
      return `'${t.name}'`;
    case 'param':
      return `'$${t.name}'`;
    case 'op':
      return `'${t.op}'`;
  }
}
