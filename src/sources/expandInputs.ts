import { readFile, realpath, stat } from 'node:fs/promises';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { glob, isDynamicPattern } from 'tinyglobby';

/**
 * An input file and the root it was found under: a folder spec's folder, a glob's folders before
 * its first wildcard, a file's own folder. A skim mirrors the file's path below its root
 * (src/skim/outputPaths.ts).
 */
export interface FoundInput {
  path: string;
  root: string;
  /** Found by searching root (a folder or glob spec): files written below root would be found too. */
  searched: boolean;
}

/**
 * Input specs to a list of Parquet (or ROOT: extension 'root') files. A spec is a file, a directory
 * (every *.parquet below it, the extension in any case), a glob ('data/*.parquet'; a folder it matches
 * stands for its files, as named alone) or '@list.txt' (one spec per line, relative to the list).
 * Order is stable: specs in the given order, files of one spec sorted. A file reached twice (named
 * twice, or through a symbolic link such as `self -> .`) is one file: of one spec, its shortest
 * path is kept (not self/a.parquet), else the first spec's.
 */
export async function expandInputs(
  specs: string[],
  baseDir = process.cwd(),
  extension: 'parquet' | 'root' = 'parquet',
): Promise<FoundInput[]> {
  const out = new Map<string, FoundInput>();
  const kind = extension === 'root' ? 'ROOT' : 'Parquet';
  for (const spec of specs) {
    const files = await expandOne(spec.trim(), baseDir, extension);
    if (files.length === 0) throw new Error(`input '${spec}' matches no ${kind} file (looked in ${resolve(baseDir)})`);
    const chosen = new Map<string, FoundInput>(); // real path: its shortest path here
    for (const f of [...files].sort((x, y) => depth(x.path) - depth(y.path))) {
      const real = await realpath(f.path).catch(() => f.path);
      if (!out.has(real) && !chosen.has(real)) chosen.set(real, f);
    }
    const realOf = new Map([...chosen].map(([real, f]) => [f, real]));
    for (const f of files) if (realOf.has(f)) out.set(realOf.get(f)!, f); // in the spec's order
  }
  return [...out.values()];
}

async function expandOne(spec: string, baseDir: string, extension: 'parquet' | 'root'): Promise<FoundInput[]> {
  if (spec.startsWith('@')) {
    const listPath = resolve(baseDir, spec.slice(1));
    const text = await readFile(listPath, 'utf8').catch((e: Error) => {
      throw new Error(`cannot read input list ${listPath}: ${e.message}`);
    });
    const lines = text
      .split(/\r?\n/)
      .map((l) => l.trim())
      .filter((l) => l && !l.startsWith('#'));
    return expandInputs(lines, dirname(listPath), extension);
  }
  const path = isAbsolute(spec) ? spec : resolve(baseDir, spec);
  const info = await stat(path).catch(() => null);
  if (info?.isFile()) return [{ path, root: dirname(path), searched: false }];
  // (fdir, under tinyglobby, follows symbolic links and stops at a loop.)
  const found = (pattern: string, cwd: string, caseSensitiveMatch = true) =>
    glob(pattern, { cwd, absolute: true, onlyFiles: true, caseSensitiveMatch }).then(sorted);
  // A folder's files of the kind, whatever the case of their extension (B.PARQUET), as a file named alone.
  if (info?.isDirectory())
    return (await found(`**/*.${extension}`, path, false)).map((p) => ({ path: p, root: path, searched: true }));
  const root = resolve(baseDir, globRoot(spec));
  // A folder the glob matches (each of in/*; Spark's events.parquet/) stands for its files, as named alone.
  const paths: string[] = [];
  const folders: string[] = [];
  const matches = await glob(spec, { cwd: baseDir, absolute: true, onlyFiles: false });
  for (const match of sorted(matches.map((m) => m.replace(/\/$/, '')))) {
    if (folders.some((f) => isInside(match, f))) continue; // found below a folder already searched
    if ((await stat(match).catch(() => null))?.isDirectory()) {
      folders.push(match);
      paths.push(...(await found(`**/*.${extension}`, match, false)));
    } else paths.push(match);
  }
  return sorted(paths).map((p) => ({ path: p, root, searched: true }));
}

/**
 * The folder a spec searches (a folder; a glob's root), or null for a file or an @list. Files
 * written below it would be found by the next expansion of the spec.
 */
export async function searchedFolder(spec: string, baseDir = process.cwd()): Promise<string | null> {
  if (spec.startsWith('@')) return null;
  const path = resolve(baseDir, spec);
  const info = await stat(path).catch(() => null);
  // A file is named alone, as expandOne takes it, even with glob characters in its name.
  if (info?.isFile()) return null;
  if (info?.isDirectory()) return path;
  return isDynamicPattern(spec) ? resolve(baseDir, globRoot(spec)) : null;
}

/** A glob's root: its folders before the first segment with a wildcard in it. */
export function globRoot(pattern: string): string {
  const parts = pattern.split('/');
  const first = parts.findIndex((p) => isDynamicPattern(p));
  return parts.slice(0, first < 0 ? parts.length - 1 : first).join('/') || '.';
}

const depth = (path: string) => path.split(sep).length;

function sorted(paths: string[]): string[] {
  return paths.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** Whether path is dir or lies below it (both absolute). */
export function isInside(path: string, dir: string): boolean {
  const r = relative(dir, path);
  return !isAbsolute(r) && r !== '..' && !r.startsWith(`..${sep}`);
}

/**
 * The absolute path with every symbolic link resolved, also of a path not made yet (its nearest
 * existing folder's real path, then the rest): where a folder reached through a link really is.
 */
export async function realPathOf(path: string): Promise<string> {
  const abs = resolve(path);
  const real = await realpath(abs).catch(() => null);
  if (real !== null) return real;
  const parent = dirname(abs);
  return parent === abs ? abs : join(await realPathOf(parent), basename(abs));
}

/**
 * The one of `inputs` that `out` is (by real path: named so, or through a link), if any: writing
 * out would replace it.
 */
export async function inputAt(out: string, inputs: string[]): Promise<string | undefined> {
  const target = await realPathOf(out);
  for (const input of inputs) if ((await realPathOf(input)) === target) return input;
  return undefined;
}

/**
 * A skim's inputs without its own outputs (`*.skim.parquet` below its output folder, by real
 * paths: an output folder given through a symbolic link too): with `--output` inside an `--input`
 * folder, a re-run (or a resumed one) would otherwise skim them.
 */
export async function skimInputs(files: FoundInput[], outDir: string): Promise<FoundInput[]> {
  const out = await realPathOf(outDir);
  const own = (f: FoundInput) => f.path.endsWith('.skim.parquet') && realPathOf(f.path).then((p) => isInside(p, out));
  const owned = await Promise.all(files.map(own));
  const inputs = files.filter((_, i) => !owned[i]);
  if (inputs.length === 0)
    throw new Error(`every input is a skim file in the output folder ${outDir}: nothing to skim`);
  return inputs;
}
