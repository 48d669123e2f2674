import type { CutsFile } from './cutsFile.js';
import { cutColumns } from './cutsFile.js';
import { cutsToUproot } from './exportPython.js';

export interface ServicexOptions {
  /** Rucio dataset identifier, scope:name. */
  dataset: string;
  /** The TTree to read. */
  tree: string;
  /** Branches to deliver, as uproot's filter_name reads them (globs allowed); the cut's branches are added. */
  branches?: string[];
  /** The sample's name in the request. */
  name?: string;
}

/**
 * A ServiceX request file (YAML, as `servicex.deliver('request.yaml')` reads it) with one sample:
 * an uproot-raw query of the tree, its branch filter and the cuts as uproot's `cut` expression.
 */
export function cutsToServicex(cuts: CutsFile, opts: ServicexOptions): string {
  const branches = [...new Set([...(opts.branches ?? []), ...cutColumns(cuts).map(exactName)])];
  const cut = cutsToUproot(cuts.cuts);
  const query = {
    treename: opts.tree,
    filter_name: branches,
    ...(cut === null ? {} : { cut }),
  };
  // JSON strings are YAML double-quoted scalars; the query is a block scalar, so it needs no quoting.
  return `# diffskim's cuts as a ServiceX uproot-raw request; submit it with servicex.deliver("<this file>")
General:
  OutputFormat: parquet
  Delivery: LocalCache
Sample:
  - Name: ${JSON.stringify(opts.name ?? 'diffskim')}
    Dataset: !Rucio ${JSON.stringify(opts.dataset)}
    Query: !UprootRaw |
      ${JSON.stringify([query])}
`;
}

/**
 * uproot's filter_name reads a name as a glob, or as a regular expression between slashes:
 * escape the glob characters (in brackets) and a leading slash so that it matches this name only.
 */
function exactName(name: string): string {
  return name.replace(/[*?[]/g, (ch) => `[${ch}]`).replace(/^\//, '[/]');
}
