import { column, type EventBatch, flatAsFloat64 } from '../batch/batch.js';

/**
 * A cut variable: a plain column, or a quantity derived from one. The same text is used in
 * pipeline files and cuts.json, and has an SQL twin so that a reader with no knowledge of
 * diffskim (DuckDB, say) selects the same rows.
 *
 *   x            the flat column x
 *   abs(eta)     |eta|
 *   count(jets)  number of entries of the list column jets
 *   first(jets)  leading entry of jets (NaN when the list is empty, so the event fails any cut)
 *
 * A column whose name is not an identifier (letters, digits, '_' and '.', not starting with a
 * digit) is quoted, in double quotes or backquotes, a quote inside doubled: "a b", abs(`c:`),
 * count("say ""hi""").
 */
export interface Quantity {
  fn: 'value' | 'abs' | 'count' | 'first';
  column: string;
  /** Canonical text: the column's exact name for 'value', else fn(name), the name quoted where needed. */
  text: string;
}

const IDENTIFIER = /^[A-Za-z_][\w.]*$/;
const CALL = /^\s*(abs|count|first)\s*\(([^]*)\)\s*$/;

export function parseQuantity(text: string): Quantity {
  const call = CALL.exec(text);
  const column = columnName(call ? call[2] : text);
  if (column === null) {
    throw new Error(
      `cannot read cut variable '${text}': expected a column name, abs(col), count(col) or first(col); ` +
        'quote a name that is not an identifier: "a b" or `a b`',
    );
  }
  return quantity(call ? (call[1] as Quantity['fn']) : 'value', column);
}

/** What a source is asked to read for a quantity: its column, or count(col), which sources compute without values. */
export function sourceColumn(q: Quantity): string {
  return q.fn === 'count' ? q.text : q.column;
}

/** The quantity fn(column), with its canonical text. */
export function quantity(fn: Quantity['fn'], column: string): Quantity {
  return { fn, column, text: fn === 'value' ? column : `${fn}(${quoteColumn(column)})` };
}

/** The column a name denotes: an identifier as it is, or a quoted name unquoted; null if neither. */
function columnName(text: string): string | null {
  const s = text.trim();
  if (IDENTIFIER.test(s)) return s;
  const quote = s[0];
  if ((quote !== '"' && quote !== '`') || s.length < 3 || !s.endsWith(quote)) return null;
  const inner = s.slice(1, -1);
  // Every quote inside must be doubled.
  if (inner.replaceAll(quote + quote, '').includes(quote)) return null;
  return inner.replaceAll(quote + quote, quote);
}

/** What to read of a list column instead of the list, in words: 'count(jets) or first(jets)'. */
export function listQuantities(column: string): string {
  return `${quantity('count', column).text} or ${quantity('first', column).text}`;
}

/** A column name as a cut variable's text: as it is when an identifier, else in double quotes. */
function quoteColumn(name: string): string {
  return IDENTIFIER.test(name) ? name : `"${name.replaceAll('"', '""')}"`;
}

/** A name to read: a column of `columns` as it is (any characters), else a quantity such as count(jets). */
export function quantityOf(columns: { name: string }[], name: string): Quantity {
  return columns.some((f) => f.name === name) ? quantity('value', name) : parseQuantity(name);
}

/** Per-event values of a quantity as float64; nulls become NaN (and so fail every cut). */
export function evaluateQuantity(batch: EventBatch, q: Quantity): Float64Array {
  // A source may have computed the quantity already (projection of 'count(jets)').
  if (q.fn !== 'value' && batch.columns[q.text])
    return evaluateQuantity(batch, { fn: 'value', column: q.text, text: q.text });
  const col = column(batch, q.column);
  const n = batch.length;
  if (q.fn === 'count' || q.fn === 'first') {
    if (col.kind !== 'list') throw new Error(`${q.text}: column '${q.column}' is not a list column`);
    const out = new Float64Array(n);
    const vals = col.values as ArrayLike<number | bigint>;
    for (let i = 0; i < n; i++) {
      const len = col.offsets[i + 1] - col.offsets[i];
      out[i] = q.fn === 'count' ? len : len > 0 ? Number(vals[col.offsets[i]]) : NaN;
    }
    return maskNulls(out, col.validity);
  }
  let out = flatAsFloat64(batch, q.column);
  if (q.fn === 'abs' || col.validity) {
    out = Float64Array.from(out);
    if (q.fn === 'abs') for (let i = 0; i < n; i++) out[i] = Math.abs(out[i]);
  }
  return maskNulls(out, col.validity);
}

function maskNulls(out: Float64Array, validity?: Uint8Array): Float64Array {
  if (validity) for (let i = 0; i < out.length; i++) if (!validity[i]) out[i] = NaN;
  return out;
}

/** SQL expression (DuckDB dialect) for a quantity; `c`: the SQL of its column (a struct's leaf is an expression). */
export function quantitySql(q: Quantity, c = `"${q.column.replaceAll('"', '""')}"`): string {
  switch (q.fn) {
    case 'value':
      return c;
    case 'abs':
      // As a double: abs() of the most negative integer overflows the integer type.
      return `abs(CAST(${c} AS DOUBLE))`;
    case 'count':
      return `len(${c})`;
    case 'first':
      return `${c}[1]`;
  }
}
