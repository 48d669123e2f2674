import { realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import { glob } from 'tinyglobby';
import { invalidArgument, notFound, permissionDenied } from './errors.js';
import { type FoundInput, globRoot } from '../sources/expandInputs.js';

/**
 * The directories a server may read and write. Every path a client sends is resolved against
 * them and refused unless it stays inside one, after following symbolic links.
 */
export class DataRoots {
  private constructor(private readonly roots: string[]) {}

  static async open(dirs: string[]): Promise<DataRoots> {
    if (dirs.length === 0) throw new Error('no data root given (--data-root DIR)');
    const roots: string[] = [];
    for (const d of dirs) {
      const info = await stat(d).catch(() => null);
      if (!info?.isDirectory()) throw new Error(`data root '${d}' is not a directory`);
      roots.push(await realpath(d));
    }
    return new DataRoots(roots);
  }

  private rootOf(absolutePath: string): string | undefined {
    return this.roots.find((r) => absolutePath === r || absolutePath.startsWith(r + sep));
  }

  /** A message with every server path in it shown relative to its data root (clients never see server paths). */
  scrub(message: string): string {
    // Longest roots first, and a root only where a path under it (or its end) follows: with roots
    // /data/hep and /data/hep-mc, '/data/hep-mc/a' is not '/data/hep' followed by '-mc/a'.
    const roots = [...this.roots].sort((a, b) => b.length - a.length);
    const escape = (x: string) => x.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    return roots.reduce((m, root) => m.replace(new RegExp(`${escape(root)}(${escape(sep)}|(?![\\w.-]))`, 'g'), (_, after: string) => (after ? '' : '.')), message);
  }

  /** A path as the client should see it: relative to its data root. */
  display(absolutePath: string): string {
    const root = this.rootOf(absolutePath);
    return root ? relative(root, absolutePath) || '.' : absolutePath;
  }

  /**
   * Candidate absolute paths for one request path: inside-the-root check on the text first
   * (so '../../etc/passwd' is refused before touching the disk), for each root in turn.
   */
  private candidates(spec: string): string[] {
    if (spec.trim() === '') throw invalidArgument('empty path');
    if (spec.includes('\0')) throw invalidArgument(`path '${spec}' contains a NUL byte`);
    const out = isAbsolute(spec) ? [resolve(spec)] : this.roots.map((r) => resolve(r, spec));
    const inside = out.filter((p) => this.rootOf(p));
    if (inside.length === 0) throw permissionDenied(`path '${spec}' is outside the server's data roots`);
    return inside;
  }

  /** After following links, the file must still be inside a root. */
  private async checkReal(spec: string, path: string): Promise<string> {
    const real = await realpath(path);
    if (!this.rootOf(real)) throw permissionDenied(`path '${spec}' leads outside the server's data roots`);
    return real;
  }

  /**
   * Files for request paths: plain files, directories (every *.parquet below, sorted), or
   * globs. NOT_FOUND when a path matches nothing.
   */
  async resolveInputs(specs: string[], extension = '.parquet'): Promise<string[]> {
    return (await this.resolveFound(specs, extension)).map((f) => f.path);
  }

  /** resolveInputs with the root each file was found under (as expandInputs gives them), each file once. */
  async resolveFound(specs: string[], extension = '.parquet'): Promise<FoundInput[]> {
    if (specs.length === 0) throw invalidArgument('no input paths given');
    const files = new Map<string, FoundInput>();
    for (const spec of specs) {
      const found = await this.resolveOne(spec, extension);
      if (found.length === 0) throw notFound(`no input file matches '${spec}'`);
      for (const f of found) if (!files.has(f.path)) files.set(f.path, f);
    }
    return [...files.values()];
  }

  private async resolveOne(spec: string, extension: string): Promise<FoundInput[]> {
    const isGlob = /[*?[\]{}]/.test(spec);
    for (const path of this.candidates(spec)) {
      if (isGlob) {
        const root = this.rootOf(path)!;
        const matches = (await glob(relative(root, path).split(sep).join('/'), { cwd: root, absolute: true, onlyFiles: true })).sort();
        if (!matches.length) continue;
        const prefix = await this.checkReal(spec, globRoot(path));
        const found = (m: string) => this.checkReal(spec, m).then((path) => ({ path, root: prefix, searched: true }));
        return Promise.all(matches.map(found));
      }
      const info = await stat(path).catch(() => null);
      if (!info) continue;
      const real = await this.checkReal(spec, path);
      if (info.isFile()) return [{ path: real, root: dirname(real), searched: false }];
      const below = (await glob(`**/*${extension}`, { cwd: real, absolute: true, onlyFiles: true })).sort();
      const found = (m: string) => this.checkReal(spec, m).then((path) => ({ path, root: real, searched: true }));
      return Promise.all(below.map(found));
    }
    return [];
  }

  /** A directory to write into (created by the caller); must be inside a root. */
  async resolveOutputDir(spec: string): Promise<string> {
    const path = this.candidates(spec)[0];
    const found = await stat(path).catch(() => null);
    if (found && !found.isDirectory()) throw invalidArgument(`output_dir '${spec}' is a file, not a directory`);
    // The nearest existing ancestor decides where links lead.
    let existing = path;
    while (!(await stat(existing).catch(() => null))) existing = resolve(existing, '..');
    await this.checkReal(spec, existing);
    return path;
  }
}
