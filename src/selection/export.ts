import { cutsToSql, type CutsFile } from './cutsFile.js';
import type { ExportTarget } from './exportTargets.js';
import { cutsToNumpy } from './exportPython.js';
import { cutsToRdf } from './exportRdf.js';
import { cutsToServicex, type ServicexOptions } from './exportServicex.js';

/**
 * cuts.json in the languages of other tools; each selects exactly the events the skim keeps.
 * The classifier's score cut needs diffskim's model, so it cannot be exported: it is refused
 * unless dropped on purpose (withoutScore), and then the export selects a superset of the skim.
 */

export interface ExportOptions {
  withoutScore?: boolean;
  /** For servicex: dataset and tree (required), branches and sample name. */
  servicex?: Partial<ServicexOptions>;
}

export class ExportError extends Error {}

export function exportCuts(cuts: CutsFile, target: ExportTarget, opts: ExportOptions = {}): string {
  if (cuts.score && !opts.withoutScore) {
    throw new ExportError(
      `the cuts file has a classifier score cut (score > ${cuts.score.value}), which needs diffskim's model and ` +
        `cannot be exported; pass --without-score to export the hard cuts alone (they keep more events than the skim)`,
    );
  }
  switch (target) {
    case 'sql':
      return cutsToSql(cuts.cuts);
    case 'numpy':
      return cutsToNumpy(cuts.cuts);
    case 'rdf':
      return cutsToRdf(cuts.cuts);
    case 'servicex': {
      const { dataset, tree } = opts.servicex ?? {};
      if (!dataset || !tree)
        throw new ExportError('--to servicex needs --dataset (a Rucio scope:name) and --tree (the TTree to read)');
      return cutsToServicex(cuts, { ...opts.servicex, dataset, tree });
    }
  }
}
