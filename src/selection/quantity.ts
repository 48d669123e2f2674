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
 */
export interface Quantity {
  fn: 'value' | 'abs' | 'count' | 'first';
  column: string;
  text: string;
}

const FORM = /^\s*(?:(abs|count|first)\s*\(\s*([A-Za-z_][\w.]*)\s*\)|([A-Za-z_][\w.]*))\s*$/;

export function parseQuantity(text: string): Quantity {
  const m = FORM.exec(text);
  if (!m) throw new Error(`cannot read cut variable '${text}': expected a column name, abs(col), count(col) or first(col)`);
  return m[3] ? { fn: 'value', column: m[3], text: m[3] } : { fn: m[1] as Quantity['fn'], column: m[2], text: `${m[1]}(${m[2]})` };
}

/** Per-event values of a quantity as float64; nulls become NaN (and so fail every cut). */
export function evaluateQuantity(batch: EventBatch, q: Quantity): Float64Array {
  // A source may have computed the quantity already (projection of 'count(jets)').
  if (q.fn !== 'value' && batch.columns[q.text]) return evaluateQuantity(batch, { fn: 'value', column: q.text, text: q.text });
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
