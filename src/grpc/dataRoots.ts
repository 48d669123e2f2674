import { lstat, realpath, stat } from 'node:fs/promises';
import { dirname, isAbsolute, relative, resolve, sep } from 'node:path';
import type { FoundInput } from '../sources/expandInputs.js';
import { globRoot } from '../sources/expandInputs.js';
import { type Confinement, confinedGlob, confinedPath, PATTERN_CHARS } from './confinedGlob.js';
import { invalidArgument, notFound, permissionDenied, resourceExhausted } from './errors.js';

/** Directory entries one request path may make the server list, at most, by default. */
const MAX_LISTED_ENTRIES = 200_000;

/**
 * The directories a server may read and write. Every path a client sends is resolved against
 * them and refused unless it stays inside one, after following symbolic links.
 */
export class DataRoots {
  private constructor(
    private readonly roots: string[],
    private readonly maxListed: number,
  ) {}

  /** `maxListed`: directory entries one request path may make the server list, at most. */
  static async open(dirs: string[], maxListed = MAX_LISTED_ENTRIES): Promise<DataRoots> {
    if (dirs.length === 0) throw new Error('no data root given (--data-root DIR)');
    const roots: string[] = [];
    for (const d of dirs) {
      const info = await stat(d).catch(() => null);
      if (!info?.isDirectory()) throw new Error(`data root '${d}' is not a directory`);
      roots.push(await realpath(d));
    }
    return new DataRoots(roots, maxListed);
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
    return roots.reduce(
      (m, root) =>
        m.replace(new RegExp(`${escape(root)}(${escape(sep)}|(?![\\w.-]))`, 'g'), (_, after: string) =>
          after ? '' : '.',
        ),
      message,
    );
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
   * globs, expanded only inside the data roots (see confinedGlob). NOT_FOUND when a path
   * matches nothing; PERMISSION_DENIED when a path the client wrote out leads outside.
   */
  async resolveInputs(specs: string[], extension = '.parquet', signal?: AbortSignal): Promise<string[]> {
    return (await this.resolveFound(specs, extension, signal)).map((f) => f.path);
  }

  /** resolveInputs with the root each file was found under (as expandInputs gives them), each file once. */
  async resolveFound(specs: string[], extension = '.parquet', signal?: AbortSignal): Promise<FoundInput[]> {
    if (specs.length === 0) throw invalidArgument('no input paths given');
    const files = new Map<string, FoundInput>();
    for (const spec of specs) {
      const found = await this.resolveOne(spec, extension, signal);
      if (found.length === 0) throw notFound(`no input file matches '${spec}'`);
      for (const f of found) if (!files.has(f.path)) files.set(f.path, f);
    }
    return [...files.values()];
  }

  private async resolveOne(spec: string, extension: string, signal?: AbortSignal): Promise<FoundInput[]> {
    const limits: Confinement = {
      inside: (real) => this.rootOf(real) !== undefined,
      outside: () => permissionDenied(`path '${spec}' leads outside the server's data roots`),
      tooLarge: () =>
        resourceExhausted(`path '${spec}' lists more than ${this.maxListed} directory entries; name fewer files`),
      maxEntries: this.maxListed,
      signal,
    };
    const below = (root: string, path: string) => relative(root, path).split(sep).filter(Boolean);
    for (const path of this.candidates(spec)) {
      const root = this.rootOf(path)!;
      if (PATTERN_CHARS.test(spec)) {
        const matches = await confinedGlob(root, below(root, path), limits);
        if (!matches.length) continue;
        const prefix = (await confinedPath(root, below(root, globRoot(path)), limits))!.real;
        return matches.map((m) => ({ path: m, root: prefix, searched: true }));
      }
      const found = await confinedPath(root, below(root, path), limits);
      if (found?.file) return [{ path: found.real, root: dirname(found.real), searched: false }];
      if (found?.dir) {
        const files = await confinedGlob(found.real, ['**', `*${extension}`], limits);
        return files.map((m) => ({ path: m, root: found.real, searched: true }));
      }
    }
    return [];
  }

  /** A directory to write into (created by the caller); must be inside a root. */
  async resolveOutputDir(spec: string): Promise<string> {
    const path = this.candidates(spec)[0];
    const found = await stat(path).catch(() => null);
    if (found && !found.isDirectory()) throw invalidArgument(`output_dir '${spec}' is a file, not a directory`);
    // The nearest existing ancestor (a link counts, even one to nothing) decides where links lead,
    // and must be a folder to create the rest in.
    let existing = path;
    while (!(await lstat(existing).catch(() => null))) existing = resolve(existing, '..');
    if (!(await stat(existing).catch(() => null))?.isDirectory())
      throw invalidArgument(`output_dir '${spec}': '${this.display(existing)}' is not a directory`);
    await this.checkReal(spec, existing);
    return path;
  }
}
