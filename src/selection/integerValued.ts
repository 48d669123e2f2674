import type { Schema } from '../batch/schema.js';
import { hasParameter, parseObjectTemplate } from './objectCut.js';
import { quantityOf } from './quantity.js';

/**
 * Whether a cut variable takes integer values only, judged from what it is, never from the data:
 * a count, or a column (or its abs() or first entry, or an object cut's sum of it) of an integer
 * or boolean type.
 */
export function integerValued(schema: Schema, text: string): boolean {
  let column: string;
  if (hasParameter(text)) {
    const t = parseObjectTemplate(text);
    if (t.reduce === 'count') return true;
    column = t.values;
  } else {
    const q = quantityOf(schema, text);
    if (q.fn === 'count') return true;
    column = q.column;
  }
  const field = schema.find((f) => f.name === column);
  return field !== undefined && field.type !== 'float32' && field.type !== 'float64';
}
