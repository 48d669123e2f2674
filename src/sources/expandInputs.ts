import { readFile, stat } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { glob } from 'tinyglobby';

/**
 * Input specs to a sorted list of Parquet files. A spec is a file, a directory (every *.parquet
 * below it), a glob ('data/*.parquet') or '@list.txt' (one spec per line, relative to the list).
 * Order is stable: specs in the given order, files of one spec sorted; duplicates dropped.
 */
export async function expandInputs(specs: string[], baseDir = process.cwd()): Promise<string[]> {
  const out: string[] = [];
  for (const spec of specs) {
    const files = await expandOne(spec.trim(), baseDir);
    if (files.length === 0) throw new Error(`input '${spec}' matches no Parquet file (looked in ${resolve(baseDir)})`);
    out.push(...files);
  }
  return [...new Set(out)];
}

async function expandOne(spec: string, baseDir: string): Promise<string[]> {
  if (spec.startsWith('@')) {
    const listPath = resolve(baseDir, spec.slice(1));
    const text = await readFile(listPath, 'utf8').catch((e: Error) => {
      throw new Error(`cannot read input list ${listPath}: ${e.message}`);
    });
    const lines = text.split(/\r?\n/).map((l) => l.trim()).filter((l) => l && !l.startsWith('#'));
    return expandInputs(lines, dirname(listPath));
  }
  const path = isAbsolute(spec) ? spec : resolve(baseDir, spec);
  const info = await stat(path).catch(() => null);
  if (info?.isFile()) return [path];
  if (info?.isDirectory()) return sorted(await glob('**/*.parquet', { cwd: path, absolute: true, onlyFiles: true }));
  return sorted(await glob(spec, { cwd: baseDir, absolute: true, onlyFiles: true }));
}

function sorted(paths: string[]): string[] {
  return paths.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/**
 * A skim's inputs without its own outputs (`*.skim.parquet` in its output folder): with
 * `--output` inside an `--input` folder, a re-run (or a resumed one) would otherwise skim them.
 */
export function skimInputs(files: string[], outDir: string): string[] {
  const out = resolve(outDir);
  const inputs = files.filter((f) => !(dirname(resolve(f)) === out && f.endsWith('.skim.parquet')));
  if (inputs.length === 0) throw new Error(`every input is a skim file in the output folder ${outDir}: nothing to skim`);
  return inputs;
}
