import { type Dirent } from 'node:fs';
import { readdir, realpath, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Characters that make a path a pattern: for this walk, and for the ROOT source too. */
export const PATTERN_CHARS = /[*?[\]{}]/;

/** Where a walk may go, and how far. */
export interface Confinement {
  /** Whether a real path lies inside the data roots. */
  inside(real: string): boolean;
  /** The error for a path the client named that leads outside. */
  outside(): Error;
  /** The error for a walk that would list more than `maxEntries` directory entries. */
  tooLarge(): Error;
  maxEntries: number;
  signal?: AbortSignal;
}

export interface Found {
  real: string;
  dir: boolean;
  file: boolean;
}

/**
 * An entry of a real directory, links followed: null when it is not there, or when it leads
 * outside the roots and is not `named` (a named one is refused).
 */
async function enter(d: string, e: Dirent | string, named: boolean, limits: Confinement): Promise<Found | null> {
  const name = typeof e === 'string' ? e : e.name;
  if (typeof e !== 'string' && !e.isSymbolicLink()) {
    return { real: join(d, name), dir: e.isDirectory(), file: e.isFile() };
  }
  const real = await realpath(join(d, name)).catch(() => null);
  if (!real) return null;
  if (!limits.inside(real)) {
    if (named) throw limits.outside();
    return null;
  }
  const info = await stat(real).catch(() => null);
  return info && { real, dir: info.isDirectory(), file: info.isFile() };
}

/**
 * What a literal path (segments below the real directory `dir`) leads to, one segment at a time:
 * refused as soon as one leads outside the roots, before anything behind it is looked at.
 */
export async function confinedPath(dir: string, segments: string[], limits: Confinement): Promise<Found | null> {
  let found: Found | null = { real: dir, dir: true, file: false };
  for (const seg of segments) {
    if (!found?.dir) return null;
    found = await enter(found.real, seg, true, limits);
  }
  return found;
}

/**
 * The real paths of the files that `segments` (a path below the real directory `dir`, split at
 * '/'; each segment literal or a glob: '*', '?', '[...]', '{a,b}', and '**' for any depth) name,
 * sorted. The walk never leaves the data roots: a literal segment that leads outside is refused
 * before anything behind it is looked at (so the answer does not depend on what is there), a
 * pattern does not follow a link out of the roots (and an entry its last segment matches
 * through one is refused, not left out), each real directory is listed once, and at most
 * `maxEntries` entries in all.
 * Names starting with '.' match only a segment that does.
 */
export async function confinedGlob(dir: string, pattern: string[], limits: Confinement): Promise<string[]> {
  // 'd/**' is every file below d.
  const segments = pattern.at(-1) === '**' ? [...pattern, '*'] : pattern;
  const files = new Set<string>();
  const listed = new Map<string, Dirent[]>();
  const visited = new Set<string>();
  let entries = 0;

  const list = async (d: string): Promise<Dirent[]> => {
    let names = listed.get(d);
    if (!names) {
      limits.signal?.throwIfAborted();
      names = await readdir(d, { withFileTypes: true }).catch(() => []);
      entries += names.length;
      if (entries > limits.maxEntries) throw limits.tooLarge();
      listed.set(d, names);
    }
    return names;
  };

  const visit = async (d: string, i: number): Promise<void> => {
    if (i === segments.length) return;
    const key = `${i}\0${d}`;
    if (visited.has(key)) return;
    visited.add(key);
    const last = i === segments.length - 1;
    const seg = segments[i];
    const reach = async (found: Found | null) => {
      if (found?.file && last) files.add(found.real);
      if (found?.dir && !last) await visit(found.real, i + 1);
    };
    if (seg === '**') {
      await visit(d, i + 1);
      for (const e of await list(d)) {
        if (e.name.startsWith('.')) continue;
        const found = await enter(d, e, false, limits);
        if (found?.dir) await visit(found.real, i);
      }
    } else if (!PATTERN_CHARS.test(seg)) {
      await reach(await enter(d, seg, true, limits));
    } else {
      const match = segmentRegex(seg);
      for (const e of await list(d)) {
        const visible = !e.name.startsWith('.') || seg.startsWith('.');
        if (visible && match.test(e.name)) await reach(await enter(d, e, last, limits));
      }
    }
  };

  if (segments.length > 0) await visit(dir, 0);
  return [...files].sort();
}

/** A glob segment as an anchored regular expression. */
function segmentRegex(seg: string): RegExp {
  return new RegExp(`^${globBody(seg)}$`);
}

function globBody(seg: string): string {
  const escape = (c: string) => c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  let re = '';
  for (let i = 0; i < seg.length; i++) {
    const c = seg[i];
    const close = c === '[' ? seg.indexOf(']', i + 2) : c === '{' ? seg.indexOf('}', i + 1) : -1;
    if (c === '*') re += '.*';
    else if (c === '?') re += '.';
    else if (c === '[' && close > 0) {
      const body = seg.slice(i + 1, close);
      const negate = body[0] === '!' || body[0] === '^';
      re += `[${negate ? '^' : ''}${(negate ? body.slice(1) : body).replace(/[\\\]^]/g, '\\$&')}]`;
      i = close;
    } else if (c === '{' && close > 0) {
      re += `(?:${seg
        .slice(i + 1, close)
        .split(',')
        .map(globBody)
        .join('|')})`;
      i = close;
    } else re += escape(c);
  }
  return re;
}
