import type { Schema } from '../batch/schema.js';
import { quantityOf } from './quantity.js';

/**
 * Whether a cut variable takes integer values only, judged from what it is, never from the data:
 * a count, or a column (or its abs() or first entry) of an integer or boolean type.
 */
export function integerValued(schema: Schema, text: string): boolean {
  const q = quantityOf(schema, text);
  if (q.fn === 'count') return true;
  const field = schema.find((f) => f.name === q.column);
  return field !== undefined && field.type !== 'float32' && field.type !== 'float64';
}
