import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { PipelineSchema } from '../../src/pipeline/schema.js';

type JsonSchema = {
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
};

/** Every key path of a JSON schema (`loss.size.lambda`, `cuts[].op`) and every enum value. */
function keysOf(schema: JsonSchema, prefix = '', out = { keys: new Set<string>(), values: new Set<string>() }) {
  for (const s of [...(schema.oneOf ?? []), ...(schema.anyOf ?? [])]) keysOf(s, prefix, out);
  if (schema.items) keysOf(schema.items, `${prefix}[]`, out);
  for (const v of schema.enum ?? []) out.values.add(String(v));
  if (typeof schema.const === 'string') out.values.add(schema.const);
  for (const [k, s] of Object.entries(schema.properties ?? {})) {
    const path = prefix ? `${prefix}.${k}` : k;
    out.keys.add(path);
    keysOf(s, path, out);
  }
  return out;
}

describe('docs/pipeline-reference.md', () => {
  const doc = readFileSync('docs/pipeline-reference.md', 'utf8');
  const { keys, values } = keysOf(z.toJSONSchema(PipelineSchema, { io: 'input' }) as JsonSchema);

  it('documents every key of the pipeline schema', () => {
    expect(keys.size).toBeGreaterThan(40);
    expect([...keys].filter((k) => !doc.includes(`| \`${k}\` |`))).toEqual([]);
  });

  it('names every allowed value of every enumerated key', () => {
    expect([...values].filter((v) => !doc.includes(`\`${v}\``))).toEqual([]);
  });
});
