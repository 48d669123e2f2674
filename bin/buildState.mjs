// Whether dist/ (the compiled CLI and API) is up to date with src/. The build records when it
// started and which sources it compiled (dist/build.json); dist is stale when a source or a
// tsconfig has changed since (mtime at or after that start: an edit, a checkout), or a source
// was added or removed. Cost: one directory walk and a stat per source file (~2 ms).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const STAMP = join(ROOT, 'dist', 'build.json');
const CONFIGS = ['tsconfig.json', 'tsconfig.build.json'];

/** The files a build compiles from: every .ts under src/, sorted, relative to the root. */
export function sourceFiles() {
  return readdirSync(join(ROOT, 'src'), { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .sort();
}

/** `{ current: true }`, or `{ current: false, why }` naming what makes dist/ stale. */
export function buildState() {
  if (!existsSync(join(ROOT, 'src'))) return { current: existsSync(STAMP), why: 'dist/ is not built' };
  let stamp;
  try {
    stamp = JSON.parse(readFileSync(STAMP, 'utf8'));
  } catch {
    return { current: false, why: 'dist/ is not built' };
  }
  const files = sourceFiles();
  if (files.join('\n') !== stamp.files.join('\n'))
    return { current: false, why: 'src/ has files added or removed since the build' };
  const changed = [...files, ...CONFIGS].find((f) => statSync(join(ROOT, f)).mtimeMs >= stamp.startedMs);
  return changed ? { current: false, why: `${changed} changed since the build` } : { current: true };
}
