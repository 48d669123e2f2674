import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

// The layer order of src/ (README, Layout): a file may import its own folder and the folders of
// lower layers; folders of one layer may import each other but not in a circle.
const LAYERS: string[][] = [
  ['batch', 'util'],
  ['selection'],
  ['sources', 'sinks', 'datasets'],
  ['operators'],
  ['model'],
  ['training'],
  ['samples'],
  ['skim'],
  ['eval'],
  ['plots', 'report'],
  ['grpc'],
  ['pipeline'],
  ['cli'],
  // index.ts, the public API: it re-exports from every layer.
  ['.'],
];

const SRC = resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [path] : [];
  });
}

/** Every relative module a file names: imports and re-exports (type-only too), import() types and calls. */
export function importsOf(file: string, text: string): string[] {
  const found: string[] = [];
  const visit = (node: ts.Node): void => {
    let spec: ts.Expression | undefined;
    if (ts.isImportDeclaration(node) || ts.isExportDeclaration(node)) spec = node.moduleSpecifier;
    else if (ts.isImportTypeNode(node) && ts.isLiteralTypeNode(node.argument)) spec = node.argument.literal;
    else if (ts.isCallExpression(node) && node.expression.kind === ts.SyntaxKind.ImportKeyword) {
      spec = node.arguments[0];
    }
    if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) found.push(spec.text);
    ts.forEachChild(node, visit);
  };
  visit(ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true));
  return found.map((s) => relative(SRC, resolve(dirname(file), s.replace(/\.js$/, '.ts'))));
}

/** The top folder of a path under src/ ('.' for a file at its root). */
const folderOf = (path: string) => (path.includes('/') ? path.slice(0, path.indexOf('/')) : '.');
const layerOf = (folder: string) => LAYERS.findIndex((l) => l.includes(folder));

/** The circles of a graph: its strongly connected components of more than one node (Tarjan). */
export function circles(graph: Map<string, Set<string>>): string[][] {
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const found: string[][] = [];
  const visit = (node: string): void => {
    index.set(node, index.size);
    low.set(node, index.get(node)!);
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!index.has(next)) {
        visit(next);
        low.set(node, Math.min(low.get(node)!, low.get(next)!));
      } else if (stack.includes(next)) low.set(node, Math.min(low.get(node)!, index.get(next)!));
    }
    if (low.get(node) !== index.get(node)) return;
    const component = stack.splice(stack.indexOf(node));
    if (component.length > 1) found.push(component.sort());
  };
  for (const node of graph.keys()) if (!index.has(node)) visit(node);
  return found;
}

const edges = sourceFiles(SRC).flatMap((path) => {
  const from = relative(SRC, path);
  return importsOf(path, readFileSync(path, 'utf8')).map((to) => ({ from, to }));
});

function graphOf(pairs: { from: string; to: string }[]): Map<string, Set<string>> {
  const graph = new Map<string, Set<string>>();
  for (const { from, to } of pairs) if (from !== to) graph.set(from, (graph.get(from) ?? new Set()).add(to));
  return graph;
}

describe('layers of src/', () => {
  it('places every folder in a layer', () => {
    const folders = [...new Set(edges.flatMap((e) => [folderOf(e.from), folderOf(e.to)]))];
    expect(folders.filter((f) => layerOf(f) < 0)).toEqual([]);
  });

  it('has no import of a higher layer', () => {
    const upward = edges.filter((e) => layerOf(folderOf(e.to)) > layerOf(folderOf(e.from)));
    expect(upward.map((e) => `${e.from} imports ${e.to}`)).toEqual([]);
  });

  it('has no circle between files', () => {
    expect(circles(graphOf(edges))).toEqual([]);
  });

  it('has no circle between folders', () => {
    const folders = edges.map((e) => ({ from: folderOf(e.from), to: folderOf(e.to) }));
    expect(circles(graphOf(folders))).toEqual([]);
  });

  it('sees every kind of import (the check itself)', () => {
    const text = [
      "import type { A } from './a.js';",
      "import { b } from '../b/b.js';",
      "export { c } from './c.js';",
      "type D = import('./d.js').D;",
      "const e = await import('./e.js');",
      "import x from 'node:fs';",
    ].join('\n');
    const found = ['skim/a.ts', 'b/b.ts', 'skim/c.ts', 'skim/d.ts', 'skim/e.ts'];
    expect(importsOf(join(SRC, 'skim/f.ts'), text)).toEqual(found);
    const pairs = (text: string) => text.split(' ').map((p) => ({ from: p[0], to: p[1] }));
    expect(circles(graphOf(pairs('ab bc ca cd de ed')))).toEqual([
      ['d', 'e'],
      ['a', 'b', 'c'],
    ]);
    expect(circles(graphOf(pairs('ab ac bc')))).toEqual([]);
  });
});
