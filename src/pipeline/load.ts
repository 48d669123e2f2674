import { readFile } from 'node:fs/promises';
import { isMap, LineCounter, parseDocument, type Node } from 'yaml';
import type { z } from 'zod';
import { closest } from '../util/closest.js';
import { type Pipeline, PipelineSchema } from './schema.js';

/**
 * Reads and validates a pipeline file. Errors name the file, the line and the key, and suggest
 * the right key when a wrong one looks like a typo.
 */
export async function loadPipeline(path: string): Promise<Pipeline> {
  const text = await readFile(path, 'utf8').catch((e: Error) => {
    throw new Error(`${path}: cannot read pipeline file: ${e.message}`);
  });
  return parsePipeline(text, path);
}

export function parsePipeline(text: string, path: string): Pipeline {
  const lines = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lines, prettyErrors: false });
  if (doc.errors.length > 0) {
    const err = doc.errors[0];
    throw new Error(`${path}:${lines.linePos(err.pos[0]).line}: YAML syntax error: ${err.message.split('\n')[0]}`);
  }
  const parsed = PipelineSchema.safeParse(doc.toJS());
  if (parsed.success) return parsed.data;
  throw new Error(parsed.error.issues.map((issue) => describeIssue(issue, doc.contents, lines, path)).join('\n'));
}

function describeIssue(issue: z.core.$ZodIssue, root: unknown, lines: LineCounter, path: string): string {
  const keyPath = issue.path.map(String);
  if (issue.code === 'unrecognized_keys') {
    const node = nodeAt(root, keyPath);
    const allowed = allowedKeys(keyPath);
    return issue.keys
      .map((key) => {
        const keyNode = isMap(node)
          ? node.items.find((p) => String((p.key as Node & { value?: unknown })?.toString()) === key)?.key
          : undefined;
        const line = lineOf(keyNode as Node | undefined, lines);
        const hint = closest(key, allowed);
        const where = [...keyPath, key].join('.');
        return `${path}:${line}: unknown key '${where}'${hint ? ` (did you mean '${hint}'?)` : ''}`;
      })
      .join('\n');
  }
  const line = lineOf(nodeAt(root, keyPath) as Node | undefined, lines);
  return `${path}:${line}: '${keyPath.join('.') || '(top level)'}': ${issue.message}`;
}

function nodeAt(root: unknown, keyPath: string[]): unknown {
  let node = root as { get?: (k: unknown, keep: boolean) => unknown } | undefined;
  let last = node;
  for (const key of keyPath) {
    if (!node?.get) break;
    const next = node.get(/^\d+$/.test(key) ? Number(key) : key, true) as typeof node;
    if (next === undefined) break;
    node = next;
    last = node;
  }
  return last;
}

function lineOf(node: Node | undefined, lines: LineCounter): number | string {
  const offset = node?.range?.[0];
  return offset === undefined ? '?' : lines.linePos(offset).line;
}

/** Keys the schema allows at a path (for typo suggestions). */
function allowedKeys(keyPath: string[]): string[] {
  let schema: unknown = PipelineSchema;
  for (const key of keyPath) {
    schema = unwrap(schema);
    const def = (
      schema as { def?: { type?: string; shape?: Record<string, unknown>; element?: unknown; options?: unknown[] } }
    ).def;
    if (def?.type === 'object') schema = def.shape?.[key];
    else if (def?.type === 'array') schema = def.element;
    else return [];
  }
  schema = unwrap(schema);
  const def = (schema as { def?: { type?: string; shape?: Record<string, unknown>; options?: unknown[] } }).def;
  if (def?.type === 'object') return Object.keys(def.shape ?? {});
  if (def?.type === 'union')
    return [
      ...new Set(
        (def.options ?? []).flatMap((o) => Object.keys((unwrap(o) as { def?: { shape?: object } }).def?.shape ?? {})),
      ),
    ];
  return [];
}

function unwrap(schema: unknown): unknown {
  let s = schema as { def?: { type?: string; innerType?: unknown } } | undefined;
  while (s?.def && (s.def.type === 'default' || s.def.type === 'optional' || s.def.type === 'nullable'))
    s = s.def.innerType as typeof s;
  return s;
}
