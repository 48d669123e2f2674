import { ExprError } from './errors.js';

export type Token =
  | { kind: 'num'; value: number; pos: number; text: string }
  | { kind: 'name'; name: string; quoted: boolean; pos: number }
  | { kind: 'param'; name: string; pos: number }
  | { kind: 'op'; op: string; pos: number }
  | { kind: 'end'; pos: number };

const OPERATORS = ['&&', '||', '>=', '<=', '==', '!=', '+', '-', '*', '/', '>', '<', '!', '(', ')', '[', ']', ','];
const NUMBER = /^(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?/;
const NAME = /^[A-Za-z_][\w.]*/;

/**
 * Tokens of an expression. A name that is not an identifier (letters, digits, '_' and '.', not
 * starting with a digit) is quoted in double quotes or backquotes, a quote inside doubled.
 */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const rest = text.slice(i);
    const num = NUMBER.exec(rest);
    if (num) {
      tokens.push({ kind: 'num', value: Number(num[0]), pos: i, text: num[0] });
      i += num[0].length;
      continue;
    }
    const name = NAME.exec(rest);
    if (name) {
      tokens.push({ kind: 'name', name: name[0], quoted: false, pos: i });
      i += name[0].length;
      continue;
    }
    if (c === '$') {
      const p = NAME.exec(text.slice(i + 1));
      if (!p) throw new ExprError("expected a parameter name after '$'", text, i);
      tokens.push({ kind: 'param', name: p[0], pos: i });
      i += 1 + p[0].length;
      continue;
    }
    if (c === '"' || c === '`') {
      const { name, end } = quoted(text, i);
      tokens.push({ kind: 'name', name, quoted: true, pos: i });
      i = end;
      continue;
    }
    const op = OPERATORS.find((o) => rest.startsWith(o));
    if (!op) throw new ExprError(`unexpected character '${c}'`, text, i);
    tokens.push({ kind: 'op', op, pos: i });
    i += op.length;
  }
  tokens.push({ kind: 'end', pos: text.length });
  return tokens;
}

/** A quoted name starting at `start`; a doubled quote stands for one. */
function quoted(text: string, start: number): { name: string; end: number } {
  const q = text[start];
  let name = '';
  for (let i = start + 1; i < text.length; i++) {
    if (text[i] !== q) name += text[i];
    else if (text[i + 1] === q) ((name += q), i++);
    else {
      if (name === '') throw new ExprError('empty quoted name', text, start);
      return { name, end: i + 1 };
    }
  }
  throw new ExprError(`unterminated quoted name (close it with ${q})`, text, start);
}
