/**
 * Why an expression cannot be read or computed: `reason at line:column, hint`, the position that
 * of the character at fault (`unknown function 'abss' at 1:1, did you mean 'abs'?`).
 */
export class ExprError extends Error {
  constructor(
    readonly reason: string,
    readonly text: string,
    readonly pos?: number,
    readonly hint = '',
  ) {
    super(`${reason}${pos === undefined ? '' : ` at ${lineColumn(text, pos)}`}${hint}`);
    this.name = 'ExprError';
  }

  /** The same error with its context in front: `cuts[2].column: unknown function ...`. */
  in(context: string): ExprError {
    const e = new ExprError(this.reason, this.text, this.pos, this.hint);
    e.message = `${context}: ${this.message}`;
    return e;
  }
}

/** `line:column`, both from 1. */
function lineColumn(text: string, pos: number): string {
  const before = text.slice(0, pos).split('\n');
  return `${before.length}:${before[before.length - 1].length + 1}`;
}
