import { readdir } from 'node:fs/promises';
import { dirname, isAbsolute, join, relative, sep } from 'node:path';
import type { FoundInput } from '../sources/expandInputs.js';
import { InputError } from '../sources/inputError.js';

/**
 * Where a skim writes each input, relative to its output folder: the input's path below the
 * root it was found under (see expandInputs), with `.parquet` or `.root` replaced by
 * `.skim.parquet`. So in/2018/part0.parquet and in/2019/part0.parquet, found under `in`, become
 * 2018/part0.skim.parquet and 2019/part0.skim.parquet. Every skim (skim, run, shards and merge,
 * the resume manifest, RunSkim) names its outputs here, before any work starts.
 */
export function skimOutputPaths(inputs: FoundInput[]): string[] {
  const seen = new Map<string, string>();
  return inputs.map((f) => {
    const below = relative(f.root, f.path);
    // A file reached through a symbolic link that leads out of its root (a server's real paths)
    // would be written outside the output folder.
    if (below === '..' || below.startsWith(`..${sep}`) || isAbsolute(below))
      throw new InputError(
        'incompatible',
        `input ${f.path} is not below ${f.root}, the folder it was found under (through a symbolic link?): name it directly`,
      );
    const out = `${below.replace(/\.(parquet|root)$/i, '')}.skim.parquet`;
    const other = seen.get(out);
    if (other !== undefined)
      throw new InputError(
        'incompatible',
        `inputs ${other} and ${f.path} would both be skimmed to ${out}: give the folder above both as the input ` +
          '(the skim then mirrors its subfolders), or skim them into different output folders',
      );
    seen.set(out, f.path);
    return out;
  });
}

/** Files named one by one: each found in its own folder (its skim file is named after it alone). */
export function inOwnFolders(paths: string[]): FoundInput[] {
  return paths.map((path) => ({ path, root: dirname(path), searched: false }));
}

/** A skim's outputs: those given (one per input), or each input's named after it alone. */
export function outputsOf(o: { inputs: string[]; outputs?: string[] }): string[] {
  return o.outputs ?? skimOutputPaths(inOwnFolders(o.inputs));
}

/**
 * Each sample's skim files, relative to the skim folder: `<sample>/<the input's path below its
 * root>` (skimOutputPaths within each sample), so files of one name in two samples never meet. Two
 * samples' names must differ in more than case (they would share a folder on macOS and Windows):
 * refused before any work. (The pipeline schema makes each name a folder name.)
 */
export function sampleOutputPaths(samples: { name: string; found: FoundInput[] }[]): string[][] {
  const seen = new Map<string, string>();
  return samples.map(({ name, found }) => {
    const other = seen.get(name.toLowerCase());
    if (other !== undefined)
      throw new InputError('incompatible', `samples '${other}' and '${name}' would share the skim folder ${name}/`);
    seen.set(name.toLowerCase(), name);
    return skimOutputPaths(found).map((o) => join(name, o));
  });
}

/**
 * The skim files (`.skim.parquet`) below dir that are not among a skim's outputs (relative to
 * dir): of inputs an earlier skim into dir had and this one has not. Its report would not list
 * them, and a reader of the folder would take them for part of it.
 */
export async function skimFilesBesides(dir: string, outputs: string[]): Promise<string[]> {
  const own = new Set(outputs.map((o) => join(o)));
  const found = await readdir(dir, { recursive: true }).catch(() => [] as string[]);
  return found.filter((n) => n.endsWith('.skim.parquet') && !own.has(n)).map((n) => join(dir, n));
}
